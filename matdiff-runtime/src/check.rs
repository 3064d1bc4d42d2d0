//! Finite-difference checks of gradients, Hessian-vector products and
//! adjoints.

use std::fmt;

use crate::{Rng, VectorSpace};

/// Returns the derivative of `f` at `x` along the direction `v`,
/// `d/dt f(x + t v)` at `t = 0`, estimated by finite differences.
///
/// Uses the central difference `D(h) = (f(x + h v) - f(x - h v)) / 2h` and
/// one step of Richardson extrapolation, `(4 D(h/2) - D(h)) / 3`, whose
/// truncation error is `O(h⁴)`. The step is scaled to the input:
/// `h = ε^(1/5) · max(1, ‖x‖) / ‖v‖`, where `ε` is
/// [`VectorSpace::unit_roundoff`] (so `h ≈ 7e-4 · max(1, ‖x‖) / ‖v‖` in
/// `f64`). On smooth, well-scaled `f64` functions the result is typically
/// accurate to about `1e-10` relative; for `f32` inputs expect about `1e-4`.
///
/// Evaluates `f` four times. Returns `0.0` if `v` is zero.
///
/// ```
/// use matdiff_runtime::directional_derivative;
///
/// let d = directional_derivative(|x: &f64| x.sin(), &1.0, &2.0);
/// assert!((d - 2.0 * 1.0_f64.cos()).abs() < 1e-10);
/// ```
pub fn directional_derivative<X: VectorSpace>(f: impl Fn(&X) -> f64, x: &X, v: &X) -> f64 {
    let v_norm = v.norm();
    if v_norm == 0.0 {
        return 0.0;
    }
    let h = x.unit_roundoff().powf(0.2) * x.norm().max(1.0) / v_norm.max(f64::MIN_POSITIVE);
    let central = |h: f64| (f(&x.axpy(h, v)) - f(&x.axpy(-h, v))) / (2.0 * h);
    let coarse = central(h);
    let fine = central(0.5 * h);
    (4.0 * fine - coarse) / 3.0
}

/// The result of a check: a reference value and the value under test.
///
/// ```
/// use matdiff_runtime::Comparison;
///
/// let c = Comparison { expected: 100.0, actual: 100.001 };
/// assert!((c.relative_error() - 1e-5).abs() < 1e-12);
/// c.assert_within(1e-4, "example");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The reference value (for example a finite-difference estimate).
    pub expected: f64,
    /// The value under test (for example computed from a generated gradient).
    pub actual: f64,
}

impl Comparison {
    /// Returns `|actual - expected| / max(1, |expected|)`.
    ///
    /// This is a relative error when `|expected| >= 1` and an absolute error
    /// otherwise, so that values near zero do not produce spurious failures.
    /// It is NaN if either value is NaN.
    pub fn relative_error(&self) -> f64 {
        (self.actual - self.expected).abs() / self.expected.abs().max(1.0)
    }

    /// Returns `true` if [`relative_error`](Self::relative_error) is at most
    /// `tol` (`false` if it is NaN).
    pub fn is_within(&self, tol: f64) -> bool {
        self.relative_error() <= tol
    }

    /// Panics unless [`relative_error`](Self::relative_error) is at most
    /// `tol`. The panic message starts with `what` and shows both values,
    /// the error and the tolerance. A NaN error always panics.
    #[track_caller]
    pub fn assert_within(&self, tol: f64, what: &str) {
        if !self.is_within(tol) {
            panic!("{what}: {self} exceeds tolerance {tol:e}");
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected {:e}, actual {:e} (relative error {:e})",
            self.expected,
            self.actual,
            self.relative_error()
        )
    }
}

/// Checks a gradient `grad` of `f` at `x` along the direction `v`.
///
/// `expected` is the finite-difference derivative of `f` along `v`
/// ([`directional_derivative`]); `actual` is `<grad, v>`.
///
/// ```
/// use matdiff_runtime::{check_gradient, Rng};
/// use matdiff_runtime::nalgebra::Matrix3;
///
/// let mut rng = Rng::new(1);
/// let (x, v) = (rng.matrix::<3, 3>(), rng.matrix::<3, 3>());
/// // f(X) = tr(XᵀX) has gradient 2X.
/// let c = check_gradient(|x: &Matrix3<f64>| x.norm_squared(), &(2.0 * x), &x, &v);
/// c.assert_within(1e-8, "gradient of |X|²");
/// ```
pub fn check_gradient<X: VectorSpace>(f: impl Fn(&X) -> f64, grad: &X, x: &X, v: &X) -> Comparison {
    Comparison {
        expected: directional_derivative(f, x, v),
        actual: grad.inner(v),
    }
}

/// Checks a Hessian-vector product `hvp = H(x) v` against the gradient
/// function `grad`.
///
/// `expected` is the finite-difference derivative along `v` of
/// `y ↦ <grad(y), w>`; `actual` is `<hvp, w>`. Projecting onto a (random)
/// `w` reduces the comparison to a scalar.
pub fn check_hvp<X: VectorSpace>(
    grad: impl Fn(&X) -> X,
    hvp: &X,
    x: &X,
    v: &X,
    w: &X,
) -> Comparison {
    Comparison {
        expected: directional_derivative(|y: &X| grad(y).inner(w), x, v),
        actual: hvp.inner(w),
    }
}

/// Checks that the operator `hvp` (typically `u ↦ H(x) u` at a fixed `x`) is
/// symmetric: `expected` is `<H v, w>` and `actual` is `<v, H w>`.
pub fn check_symmetry<X: VectorSpace>(hvp: impl Fn(&X) -> X, v: &X, w: &X) -> Comparison {
    Comparison {
        expected: hvp(v).inner(w),
        actual: v.inner(&hvp(w)),
    }
}

/// The dot-product (adjoint) test for a linear map `J` given as `jvp`
/// (`v ↦ J v`) and its claimed adjoint `vjp` (`w ↦ Jᵀ w`).
///
/// `expected` is `<J v, w>` and `actual` is `<v, Jᵀ w>`; they agree for all
/// `v`, `w` exactly when `vjp` is the adjoint of `jvp`.
///
/// ```
/// use matdiff_runtime::dot_product_test;
/// use matdiff_runtime::nalgebra::{Matrix2x3, Vector2, Vector3};
///
/// let j = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
/// let c = dot_product_test(
///     |v: &Vector3<f64>| j * v,
///     |w: &Vector2<f64>| j.transpose() * w,
///     &Vector3::new(1.0, -1.0, 0.5),
///     &Vector2::new(2.0, 3.0),
/// );
/// c.assert_within(1e-12, "adjoint of J");
/// ```
pub fn dot_product_test<X: VectorSpace, Y: VectorSpace>(
    jvp: impl Fn(&X) -> Y,
    vjp: impl Fn(&Y) -> X,
    v: &X,
    w: &Y,
) -> Comparison {
    Comparison {
        expected: jvp(v).inner(w),
        actual: v.inner(&vjp(w)),
    }
}

/// Checks a function, its gradient and its Hessian-vector product at `x`
/// along random directions, panicking if any check fails.
///
/// `hvp(x, v)` must return `H(x) v`. Draws random `v` and `w` of the shape
/// of `x` from `rng`, then runs [`check_gradient`] (along `v`),
/// [`check_hvp`] (along `v`, projected on `w`) and [`check_symmetry`] (of
/// `u ↦ hvp(x, u)`), asserting each within `tol` with
/// [`Comparison::assert_within`]. The panic message names the failing check.
///
/// ```
/// use matdiff_runtime::{check_all, Rng};
/// use matdiff_runtime::nalgebra::Vector3;
///
/// // f(x) = (x·x)² has gradient 4(x·x)x and Hessian 4(x·x)I + 8xxᵀ.
/// let f = |x: &Vector3<f64>| x.norm_squared().powi(2);
/// let grad = |x: &Vector3<f64>| 4.0 * x.norm_squared() * x;
/// let hvp = |x: &Vector3<f64>, v: &Vector3<f64>| {
///     4.0 * x.norm_squared() * v + 8.0 * x.dot(v) * x
/// };
/// let mut rng = Rng::new(42);
/// let x = rng.matrix::<3, 1>();
/// check_all(f, grad, hvp, &x, &mut rng, 1e-7);
/// ```
#[track_caller]
pub fn check_all<X: VectorSpace>(
    f: impl Fn(&X) -> f64,
    grad: impl Fn(&X) -> X,
    hvp: impl Fn(&X, &X) -> X,
    x: &X,
    rng: &mut Rng,
    tol: f64,
) {
    let v = x.random(rng);
    let w = x.random(rng);
    check_gradient(&f, &grad(x), x, &v).assert_within(tol, "check_all: gradient check failed");
    check_hvp(&grad, &hvp(x, &v), x, &v, &w)
        .assert_within(tol, "check_all: Hessian-vector product check failed");
    check_symmetry(|u: &X| hvp(x, u), &v, &w)
        .assert_within(tol, "check_all: Hessian symmetry check failed");
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2x3, Matrix3, SMatrix, Vector2, Vector3, Vector4};

    #[test]
    fn directional_derivative_is_accurate() {
        let a = Vector4::new(0.3, -1.2, 0.7, 2.0);
        let f = |x: &Vector4<f64>| (a.dot(x)).sin().exp() + x.norm_squared().powi(2);
        let grad = |x: &Vector4<f64>| {
            let s = a.dot(x);
            s.sin().exp() * s.cos() * a + 4.0 * x.norm_squared() * x
        };
        let mut rng = Rng::new(11);
        for _ in 0..10 {
            let x = rng.matrix::<4, 1>();
            let v = rng.matrix::<4, 1>();
            let exact = grad(&x).dot(&v);
            let fd = directional_derivative(f, &x, &v);
            assert!(
                (fd - exact).abs() <= 1e-9 * exact.abs().max(1.0),
                "fd {fd}, exact {exact}"
            );
        }
        // Large inputs: the step scales with |x|.
        let x = Vector4::new(1e4, -2e4, 3e4, 5e3);
        let v = Vector4::new(1e-3, 2e-3, 0.0, 1e-3);
        let g = |x: &Vector4<f64>| x.norm_squared();
        let exact = 2.0 * x.dot(&v);
        let fd = directional_derivative(g, &x, &v);
        assert!(
            (fd - exact).abs() <= 1e-9 * exact.abs(),
            "fd {fd}, exact {exact}"
        );
        // Zero direction.
        assert_eq!(directional_derivative(g, &x, &Vector4::zeros()), 0.0);
    }

    #[test]
    fn quadratic_form_gradient_and_wrong_gradient() {
        let mut rng = Rng::new(1);
        let a = rng.matrix::<3, 3>();
        let f = |x: &Vector3<f64>| x.dot(&(a * x));
        for _ in 0..5 {
            let x = rng.matrix::<3, 1>();
            let v = rng.matrix::<3, 1>();
            let good = (a + a.transpose()) * x;
            let c = check_gradient(f, &good, &x, &v);
            assert!(c.relative_error() < 1e-10, "{c}");
            c.assert_within(1e-9, "gradient of x·Ax");

            // A classic mistake: forgetting the transpose term.
            let wrong = 2.0 * a * x;
            let c = check_gradient(f, &wrong, &x, &v);
            assert!(c.relative_error() > 1e-3, "{c}");
            assert!(!c.is_within(1e-6));
        }
    }

    #[test]
    fn matrix_inverse_gradient() {
        // f(X) = tr(A X⁻¹) has gradient -(X⁻¹ A X⁻¹)ᵀ.
        let mut rng = Rng::new(2);
        let a = rng.matrix::<3, 3>();
        let x = rng.well_conditioned::<3>();
        let f = |x: &Matrix3<f64>| (a * x.try_inverse().unwrap()).trace();
        let xi = x.try_inverse().unwrap();
        let grad = -(xi * a * xi).transpose();
        let v = rng.matrix::<3, 3>();
        check_gradient(f, &grad, &x, &v).assert_within(1e-9, "gradient of tr(A X⁻¹)");
        let c = check_gradient(f, &-(xi * a * xi), &x, &v);
        assert!(c.relative_error() > 1e-4, "{c}");
    }

    #[test]
    fn hvp_checks() {
        let mut rng = Rng::new(3);
        let a = rng.spd::<3>();
        // f(x) = exp(x·Ax / 10): grad = e (A x) / 5, H v = e (A v / 5 + (A x)(A x · v) / 25).
        let grad = |x: &Vector3<f64>| {
            let e = (x.dot(&(a * x)) / 10.0).exp();
            e * (a * x) / 5.0
        };
        let hvp = |x: &Vector3<f64>, v: &Vector3<f64>| {
            let e = (x.dot(&(a * x)) / 10.0).exp();
            let ax = a * x;
            e * (a * v / 5.0 + ax * ax.dot(v) / 25.0)
        };
        let x = rng.matrix::<3, 1>() * 0.3;
        let v = rng.matrix::<3, 1>();
        let w = rng.matrix::<3, 1>();
        check_hvp(grad, &hvp(&x, &v), &x, &v, &w).assert_within(1e-9, "hvp");
        check_symmetry(|u: &Vector3<f64>| hvp(&x, u), &v, &w).assert_within(1e-12, "symmetry");

        // Wrong HVP (missing the rank-one term) fails.
        let wrong = (x.dot(&(a * x)) / 10.0).exp() * a * v / 5.0;
        let c = check_hvp(grad, &wrong, &x, &v, &w);
        assert!(c.relative_error() > 1e-3, "{c}");

        // A non-symmetric operator fails the symmetry check.
        let b = rng.matrix::<3, 3>();
        let c = check_symmetry(|u: &Vector3<f64>| b * u, &v, &w);
        assert!(c.relative_error() > 1e-3, "{c}");
    }

    #[test]
    fn adjoint_test() {
        let mut rng = Rng::new(4);
        let j = rng.matrix::<2, 3>();
        let v = rng.matrix::<3, 1>();
        let w = rng.matrix::<2, 1>();
        let jvp = |v: &Vector3<f64>| j * v;
        let c = dot_product_test(jvp, |w: &Vector2<f64>| j.transpose() * w, &v, &w);
        c.assert_within(1e-12, "adjoint");
        // A wrong adjoint (a different matrix) fails.
        let k = rng.matrix::<2, 3>();
        let c = dot_product_test(jvp, |w: &Vector2<f64>| k.transpose() * w, &v, &w);
        assert!(c.relative_error() > 1e-3, "{c}");

        // Matrix-to-matrix map X ↦ X B with adjoint Y ↦ Y Bᵀ.
        let b = rng.matrix::<3, 3>();
        let x = rng.matrix::<2, 3>();
        let y = rng.matrix::<2, 3>();
        dot_product_test(
            |x: &Matrix2x3<f64>| x * b,
            |y: &Matrix2x3<f64>| y * b.transpose(),
            &x,
            &y,
        )
        .assert_within(1e-12, "adjoint of X ↦ XB");
    }

    #[test]
    fn tuples_and_check_all() {
        // f(M, s) = s² tr(MᵀM): grad = (2 s² M, 2 s |M|²).
        type P = (SMatrix<f64, 2, 2>, f64);
        let f = |p: &P| p.1 * p.1 * p.0.norm_squared();
        let grad = |p: &P| (2.0 * p.1 * p.1 * p.0, 2.0 * p.1 * p.0.norm_squared());
        let hvp = |p: &P, v: &P| {
            let (m, s) = p;
            let (dm, ds) = v;
            (
                2.0 * s * s * dm + 4.0 * s * ds * m,
                4.0 * s * m.dot(dm) + 2.0 * ds * m.norm_squared(),
            )
        };
        let mut rng = Rng::new(5);
        let x = (rng.matrix::<2, 2>(), 1.5);
        check_all(f, grad, hvp, &x, &mut rng, 1e-8);
    }

    #[test]
    #[should_panic(expected = "check_all: Hessian-vector product check failed")]
    fn check_all_reports_failing_check() {
        let f = |x: &Vector3<f64>| x.norm_squared().powi(2);
        let grad = |x: &Vector3<f64>| 4.0 * x.norm_squared() * x;
        // Symmetric but wrong: missing 8 x xᵀ v.
        let hvp = |x: &Vector3<f64>, v: &Vector3<f64>| 4.0 * x.norm_squared() * v;
        let mut rng = Rng::new(6);
        let x = rng.matrix::<3, 1>();
        check_all(f, grad, hvp, &x, &mut rng, 1e-6);
    }

    #[test]
    #[should_panic(expected = "my check: expected 1e0, actual 2e0")]
    fn assert_within_panics_with_both_numbers() {
        Comparison {
            expected: 1.0,
            actual: 2.0,
        }
        .assert_within(1e-3, "my check");
    }

    #[test]
    fn relative_error_definition() {
        let c = Comparison {
            expected: 1e-3,
            actual: 2e-3,
        };
        assert_eq!(c.relative_error(), 1e-3);
        let c = Comparison {
            expected: -200.0,
            actual: -202.0,
        };
        assert_eq!(c.relative_error(), 0.01);
        let c = Comparison {
            expected: f64::NAN,
            actual: 1.0,
        };
        assert!(!c.is_within(1.0));
    }

    #[test]
    fn f32_gradient_check() {
        let mut rng = Rng::new(7);
        let a = rng.matrix::<3, 3>().cast::<f32>();
        let f = |x: &SMatrix<f32, 3, 3>| f64::from((a * x).trace() + x.norm_squared());
        let x = rng.matrix::<3, 3>().cast::<f32>();
        let v = rng.matrix::<3, 3>().cast::<f32>();
        let grad = a.transpose() + 2.0 * x;
        let c = check_gradient(f, &grad, &x, &v);
        assert!(c.relative_error() < 1e-4, "{c}");
        let wrong = a + 2.0 * x;
        let c = check_gradient(f, &wrong, &x, &v);
        assert!(c.relative_error() > 1e-2, "{c}");
    }
}
