use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

// A 2x2 matrix has two diagonal entries.
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    Matrix2::from_partial_diagonal(&[x, x, x]).sum()
}

fn main() {}
