use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, Vector3};

// Methods of the factorisations that matdiff does not differentiate.
#[differentiate(wrt = a)]
fn lu_factor(a: &Matrix3<f64>) -> f64 {
    a.lu().u().trace()
}

#[differentiate(wrt = a)]
fn cholesky_dirty(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let chol = a.cholesky().unwrap();
    chol.l_dirty().trace() + b.sum()
}

#[differentiate(wrt = a)]
fn qr_householder(a: &Matrix3<f64>) -> f64 {
    a.qr().qr_internal().trace()
}

fn main() {}
