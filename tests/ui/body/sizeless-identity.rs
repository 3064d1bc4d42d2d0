use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    let eye = SMatrix::identity();
    x.dot(&(eye * x))
}

fn main() {}
