use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, Vector3};

// `solve` returns an `Option`: it must be unwrapped before it is used.
#[differentiate(wrt = a)]
fn f(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    a.lu().solve(b).norm_squared()
}

fn main() {}
