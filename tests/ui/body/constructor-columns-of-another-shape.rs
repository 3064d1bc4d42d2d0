use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, Vector3};

// Two columns do not make a 3x3 matrix.
#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>) -> f64 {
    Matrix3::from_columns(&[*x, *x]).sum()
}

fn main() {}
