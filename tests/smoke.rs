//! Smoke test: the gradient and Hessian-vector product of `xᵀ A x`.

use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

/// `xᵀ A x`.
#[differentiate(wrt = x)]
fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
    x.dot(&(a * x))
}

#[test]
fn smoke() {
    let a = SMatrix::<f64, 3, 3>::new(2.0, 1.0, 0.0, 0.0, 3.0, 1.0, 1.0, 0.0, 4.0);
    let x = SVector::<f64, 3>::new(1.0, -1.0, 2.0);
    let v = SVector::<f64, 3>::new(0.5, 0.0, 1.0);
    let sym = a + a.transpose();
    // Ax = (1, -1, 9), so xᵀAx = 1 + 1 + 18.
    assert!((quad(&x, &a) - 20.0).abs() < 1e-12);
    assert!((quad_grad(&x, &a) - sym * x).norm() < 1e-12);
    assert!((quad_hvp(&x, &a, &v) - sym * v).norm() < 1e-12);
}
