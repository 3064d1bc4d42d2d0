use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2x3, Matrix3, Vector2};

// The right-hand side must have as many rows as the system matrix.
#[differentiate(wrt = a)]
fn rows(a: &Matrix3<f64>, b: &Vector2<f64>) -> f64 {
    a.lu().solve(b).unwrap().sum()
}

// A solve needs a square system matrix.
#[differentiate(wrt = a)]
fn rectangular(a: &Matrix2x3<f64>, b: &Vector2<f64>) -> f64 {
    a.lu().solve(b).unwrap().sum()
}

// So does a Cholesky factorisation.
#[differentiate(wrt = a)]
fn cholesky(a: &Matrix2x3<f64>) -> f64 {
    a.cholesky().unwrap().determinant()
}

// The right-hand side is a matrix or a vector.
#[differentiate(wrt = a)]
fn scalar(a: &Matrix3<f64>, t: f64) -> f64 {
    a.lu().solve(&t).unwrap().sum()
}

// So does a symmetric eigendecomposition.
#[differentiate(wrt = a)]
fn eigen(a: &Matrix2x3<f64>) -> f64 {
    a.symmetric_eigen().eigenvalues.sum()
}

// A wide matrix's QR has a rectangular `R`: matdiff differentiates tall and square ones.
#[differentiate(wrt = a)]
fn wide_qr(a: &Matrix2x3<f64>) -> f64 {
    a.qr().r().sum()
}

// Singular values are differentiated for square matrices.
#[differentiate(wrt = a)]
fn tall_singular_values(a: &Matrix2x3<f64>) -> f64 {
    a.transpose().singular_values().sum()
}

fn main() {}
