use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2x3, Vector3};

// `from_rows` takes row vectors: `x.transpose()`.
#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>) -> f64 {
    Matrix2x3::from_rows(&[*x, *x]).sum()
}

fn main() {}
