use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, b: &SMatrix<f64, 3, 2>) -> f64 {
    (x + b).sum()
}

fn main() {}
