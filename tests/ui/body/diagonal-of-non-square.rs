use matdiff::differentiate;
use matdiff::nalgebra::Matrix2x3;

// nalgebra's `diagonal()` is a square matrix's.
#[differentiate(wrt = x)]
fn f(x: &Matrix2x3<f64>) -> f64 {
    x.diagonal().sum()
}

fn main() {}
