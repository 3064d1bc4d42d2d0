use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, a: &SMatrix<f64, 2, 2>) -> f64 {
    (a * x).sum()
}

fn main() {}
