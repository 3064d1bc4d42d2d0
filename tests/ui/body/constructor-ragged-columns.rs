use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

// An array of columns: every column has the same length.
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    Matrix2::from([[x, 1.0], [2.0]]).sum()
}

fn main() {}
