use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, Vector3};

// A factorisation, or the `Option` one returns, is not a matrix.
#[differentiate(wrt = a)]
fn lu_as_matrix(a: &Matrix3<f64>) -> f64 {
    let lu = a.lu();
    (lu * 2.0).sum()
}

#[differentiate(wrt = a)]
fn solve_as_vector(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let x = a.lu().solve(b);
    (x + b).sum()
}

#[differentiate(wrt = a)]
fn option_as_matrix(a: &Matrix3<f64>) -> f64 {
    let chol = a.cholesky();
    (chol * 2.0).sum()
}

#[differentiate(wrt = a)]
fn cholesky_as_matrix(a: &Matrix3<f64>) -> f64 {
    let chol = a.cholesky().unwrap();
    (chol * 2.0).sum()
}

#[differentiate(wrt = a)]
fn qr_as_matrix(a: &Matrix3<f64>) -> f64 {
    let qr = a.qr();
    (qr * 2.0).sum()
}

fn main() {}
