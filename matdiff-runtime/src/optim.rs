//! Minimal optimisation building blocks.

use crate::VectorSpace;

/// Solves `A x = b` by the conjugate gradient method, where the symmetric
/// positive definite `A` is given only as the operator `apply: v ↦ A v`
/// (for example a Hessian-vector product, to compute a Newton step).
///
/// Starts from `x = 0` and stops when the residual norm `‖b - A x‖` is at
/// most `tol · ‖b‖`, or after `max_iter` iterations (each costs one call of
/// `apply`). In exact arithmetic it converges in at most `dim` iterations.
///
/// If a search direction `p` with `<p, A p> <= 0` (or NaN) is met, `A` is
/// not positive definite; the iteration stops and returns the current
/// iterate, or `b` itself if this happens on the first iteration. This is
/// the usual truncated-Newton convention and always yields a descent
/// direction for a Newton step `A x = -g`.
///
/// ```
/// use matdiff_runtime::conjugate_gradient;
/// use matdiff_runtime::nalgebra::{Matrix2, Vector2};
///
/// let a = Matrix2::new(4.0, 1.0, 1.0, 3.0);
/// let b = Vector2::new(1.0, 2.0);
/// let x = conjugate_gradient(|v: &Vector2<f64>| a * v, &b, 1e-12, 10);
/// assert!((a * x - b).norm() < 1e-10);
/// ```
pub fn conjugate_gradient<X: VectorSpace>(
    apply: impl Fn(&X) -> X,
    b: &X,
    tol: f64,
    max_iter: usize,
) -> X {
    let threshold = tol * b.norm();
    let mut x = b.zero_like();
    let mut r = b.clone();
    let mut rr = r.inner(&r);
    if rr.sqrt() <= threshold {
        return x;
    }
    let mut p = r.clone();
    for k in 0..max_iter {
        let ap = apply(&p);
        let curvature = p.inner(&ap);
        if curvature.is_nan() || curvature <= 0.0 {
            return if k == 0 { b.clone() } else { x };
        }
        let alpha = rr / curvature;
        x = x.axpy(alpha, &p);
        r = r.axpy(-alpha, &ap);
        let rr_next = r.inner(&r);
        if rr_next.sqrt() <= threshold {
            break;
        }
        p = r.axpy(rr_next / rr, &p);
        rr = rr_next;
    }
    x
}

/// Plain gradient descent with a fixed step size.
///
/// ```
/// use matdiff_runtime::GradientDescent;
/// use matdiff_runtime::nalgebra::Vector2;
///
/// // Minimise |x|² (gradient 2x).
/// let gd = GradientDescent { step: 0.25 };
/// let mut x = Vector2::new(1.0, -2.0);
/// for _ in 0..60 {
///     x = gd.step(&x, &(2.0 * x));
/// }
/// assert!(x.norm() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientDescent {
    /// The step size (learning rate).
    pub step: f64,
}

impl GradientDescent {
    /// Returns the next iterate `x - step · grad`.
    pub fn step<X: VectorSpace>(&self, x: &X, grad: &X) -> X {
        x.axpy(-self.step, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use nalgebra::{Matrix3, SMatrix, Vector5};

    #[test]
    fn cg_solves_random_spd_system() {
        let mut rng = Rng::new(10);
        for _ in 0..10 {
            let a = rng.spd::<5>();
            let b = rng.matrix::<5, 1>();
            let x = conjugate_gradient(|v: &Vector5<f64>| a * v, &b, 1e-12, 50);
            let residual = (a * x - b).norm() / b.norm();
            assert!(residual <= 1e-10, "residual {residual}");
            let exact = a.cholesky().unwrap().solve(&b);
            assert!((x - exact).norm() <= 1e-10 * exact.norm());
        }
    }

    #[test]
    fn cg_on_matrix_space_and_edge_cases() {
        // Sylvester-type SPD operator X ↦ P X + X Q on 3x3 matrices.
        let mut rng = Rng::new(11);
        let p = rng.spd::<3>();
        let q = rng.spd::<3>();
        let op = |x: &Matrix3<f64>| p * x + x * q;
        let b = rng.matrix::<3, 3>();
        let x = conjugate_gradient(op, &b, 1e-12, 100);
        assert!((op(&x) - b).norm() <= 1e-10 * b.norm());

        // Zero right-hand side: zero solution without calling the operator.
        let z = conjugate_gradient(
            |_: &Matrix3<f64>| -> Matrix3<f64> { unreachable!() },
            &Matrix3::zeros(),
            1e-12,
            10,
        );
        assert_eq!(z, Matrix3::zeros());

        // Negative definite operator: returns b (a descent direction).
        let b = rng.matrix::<3, 3>();
        let x = conjugate_gradient(|v: &Matrix3<f64>| -v, &b, 1e-12, 10);
        assert_eq!(x, b);

        // max_iter = 0 returns the starting point.
        let x = conjugate_gradient(op, &b, 1e-12, 0);
        assert_eq!(x, Matrix3::zeros());
    }

    #[test]
    fn newton_step_from_hvp_on_tuple() {
        // Quadratic f(u, s) = ½ uᵀ A u + ½ c s² - bᵀ u - d s on (R³, R).
        let mut rng = Rng::new(12);
        let a = rng.spd::<3>();
        let (bu, c, d) = (rng.matrix::<3, 1>(), 2.5, 1.0);
        type P = (SMatrix<f64, 3, 1>, f64);
        let grad = |p: &P| (a * p.0 - bu, c * p.1 - d);
        let hvp = |v: &P| (a * v.0, c * v.1);
        let x0: P = (rng.matrix::<3, 1>(), 0.3);
        let g = grad(&x0);
        let step = conjugate_gradient(hvp, &g.scaled(-1.0), 1e-12, 20);
        let x1 = x0.axpy(1.0, &step);
        assert!(grad(&x1).norm() < 1e-10);
    }

    #[test]
    fn gradient_descent_converges_on_quadratic() {
        let mut rng = Rng::new(13);
        let a = rng.spd::<3>();
        let b = rng.matrix::<3, 1>();
        let l = a.symmetric_eigenvalues().max();
        let gd = GradientDescent { step: 1.0 / l };
        let mut x = b.zero_like();
        for _ in 0..2000 {
            x = gd.step(&x, &(a * x - b));
        }
        assert!((a * x - b).norm() < 1e-8);
        assert_eq!(gd.step(&1.0_f64, &2.0), 1.0 - 2.0 / l);
    }
}
