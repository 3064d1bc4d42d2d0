use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

// An unknown method is reported as such, whatever its arguments (here an integer, which a
// float method would reject first).
#[differentiate(wrt = m)]
fn f(m: &SMatrix<f64, 3, 3>) -> f64 {
    m.amax_col(0).sum()
}

fn main() {}
