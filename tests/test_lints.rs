//! Generated code is warning-free: a module of differentiated functions under strict lint
//! levels. A warning in generated code fails `cargo test` (rustc lints) and
//! `cargo clippy --all-targets -- -D warnings` (clippy lints), as it would in a user's crate
//! with `#![deny(warnings, clippy::all)]`.
//!
//! The functions cover every kind of generated code: parameters by value and by reference,
//! scalars, several `wrt` parameters, a gradient that is zero, a Hessian-vector product that
//! does not use the point, const generics, `f32`, indexing, constructors, element-wise maps,
//! the nonlinear operations, and calls between differentiated functions.

/// The differentiated functions, under the strictest lint levels.
#[forbid(unsafe_code)]
#[deny(
    warnings,
    unused,
    nonstandard_style,
    rust_2018_idioms,
    unused_qualifications,
    unused_results,
    missing_docs,
    clippy::all,
    clippy::pedantic
)]
pub mod linted {
    use matdiff::differentiate;
    use matdiff::nalgebra::{Matrix2, Matrix3, SMatrix, SVector, Vector2, Vector3};

    /// `xᵀ A x`: the Hessian-vector product does not use `x`.
    #[differentiate(wrt = x)]
    #[must_use]
    pub fn quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
        x.dot(&(a * x))
    }

    /// Parameters by value, a scalar among them.
    #[differentiate(wrt = (x, s))]
    #[must_use]
    pub fn by_value(x: SVector<f64, 3>, s: f64) -> f64 {
        s * x.norm_squared() + s.exp()
    }

    /// Scalars only, with the scalar functions.
    #[differentiate(wrt = (a, b))]
    #[must_use]
    pub fn scalars(a: f64, b: f64) -> f64 {
        (a * b).sin() + a.powi(3) / b - b.sqrt() * a.abs() + a.tanh().max(b.cos())
    }

    /// Least squares with two `wrt` matrices and a constant.
    #[differentiate(wrt = (w, x))]
    #[must_use]
    pub fn least_squares(w: &SVector<f64, 2>, x: &SMatrix<f64, 4, 2>, y: &SVector<f64, 4>) -> f64 {
        let r = x * w - y;
        0.5 * r.norm_squared()
    }

    /// A gradient that is zero: the value does not depend on `_x`.
    #[differentiate(wrt = _x)]
    #[must_use]
    pub fn constant_in_x(_x: &Vector2<f64>, c: f64) -> f64 {
        c * c
    }

    /// The value is a parameter that comes before the `wrt` one.
    #[differentiate(wrt = _x)]
    #[must_use]
    pub fn earlier_parameter(c: f64, _x: &Vector2<f64>) -> f64 {
        c
    }

    /// Const generic dimensions and a where-clause.
    #[differentiate(wrt = m)]
    #[must_use]
    pub fn gram_trace<const N: usize>(m: &SMatrix<f64, N, N>) -> f64
    where
        SMatrix<f64, N, N>: Copy,
    {
        (m.transpose() * m).trace()
    }

    /// An `f32` function.
    #[differentiate(wrt = x)]
    #[must_use]
    pub fn single_precision(x: &SVector<f32, 3>) -> f32 {
        x.norm() + 2.0 * x[0]
    }

    /// Indexing (the gradient places entries in a zero matrix) and constructors.
    #[differentiate(wrt = m)]
    #[must_use]
    pub fn entries(m: &Matrix2<f64>) -> f64 {
        let eye: Matrix2<f64> = Matrix2::identity();
        m[(0, 1)] * m[(1, 0)] + (m + eye).sum() + (SMatrix::<f64, 2, 2>::zeros() * m).trace()
    }

    /// Element-wise maps and `component_div`.
    #[differentiate(wrt = x)]
    #[must_use]
    pub fn maps(x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
        x.map(|t| t.tanh() * 2.0).dot(y) + x.component_div(y).sum() + x.map(f64::exp).max()
    }

    /// Inverse, determinant and powers.
    ///
    /// # Panics
    ///
    /// If `m` is singular.
    #[differentiate(wrt = m)]
    #[must_use]
    pub fn nonlinear(m: &Matrix2<f64>) -> f64 {
        m.try_inverse().unwrap().trace() + m.determinant().ln() + m.norm().powf(1.5)
    }

    /// A function calling another differentiated function.
    #[differentiate(wrt = x)]
    #[must_use]
    pub fn calls_quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
        quadratic(x, a).sqrt() * 3.0
    }

    /// Seven parameters: `*_hvp` has eight.
    #[differentiate(wrt = x0)]
    #[must_use]
    pub fn seven(x0: f64, x1: f64, x2: f64, x3: f64, x4: f64, x5: f64, x6: f64) -> f64 {
        x0 * x1 + x2 * x3 + x4 * x5 * x6
    }
}

use linted::*;
use matdiff::nalgebra::{Matrix2, Matrix3, SMatrix, SVector, Vector2, Vector3};

/// Calls every original and generated function once, so nothing is unused, and checks the
/// values of some against closed forms.
#[test]
fn generated_code_compiles_without_warnings() {
    let x = Vector3::new(0.5, -1.0, 2.0);
    let a = Matrix3::new(2.0, 1.0, 0.0, 0.0, 3.0, 1.0, 1.0, 0.0, 4.0);
    let sym = a + a.transpose();
    assert!((quadratic_grad(&x, &a) - sym * x).norm() < 1e-12);
    assert!((quadratic_hvp(&x, &a, &x) - sym * x).norm() < 1e-12);
    assert!((quadratic_value_and_grad(&x, &a).0 - quadratic(&x, &a)).abs() < 1e-12);

    let (gx, gs) = by_value_grad(x, 2.0);
    assert!((gx - 4.0 * x).norm() < 1e-12);
    assert!((gs - (x.norm_squared() + 2.0_f64.exp())).abs() < 1e-12);
    let _ = (
        by_value(x, 2.0),
        by_value_value_and_grad(x, 2.0),
        by_value_hvp(x, 2.0, x, 1.0),
    );

    let _ = (
        scalars(0.3, 0.7),
        scalars_grad(0.3, 0.7),
        scalars_value_and_grad(0.3, 0.7),
    );
    let _ = scalars_hvp(0.3, 0.7, 1.0, 0.0);

    let w = Vector2::new(1.0, -1.0);
    let xm = SMatrix::<f64, 4, 2>::from_fn(|i, j| (i + 2 * j) as f64);
    let y = SVector::<f64, 4>::new(1.0, 2.0, 3.0, 4.0);
    let (gw, _) = least_squares_grad(&w, &xm, &y);
    assert!((gw - xm.transpose() * (xm * w - y)).norm() < 1e-12);
    let _ = least_squares(&w, &xm, &y);
    let _ = least_squares_value_and_grad(&w, &xm, &y);
    let _ = least_squares_hvp(&w, &xm, &y, &w, &xm);

    assert_eq!(constant_in_x_grad(&w, 3.0), Vector2::zeros());
    let _ = (
        constant_in_x(&w, 3.0),
        constant_in_x_value_and_grad(&w, 3.0),
    );
    assert_eq!(constant_in_x_hvp(&w, 3.0, &w), Vector2::zeros());

    assert_eq!(
        earlier_parameter_value_and_grad(3.0, &w),
        (3.0, Vector2::zeros())
    );
    assert_eq!(earlier_parameter_hvp(3.0, &w, &w), Vector2::zeros());
    let _ = (earlier_parameter(3.0, &w), earlier_parameter_grad(3.0, &w));

    let m = Matrix2::new(2.0, 0.5, -0.3, 1.5);
    assert!((gram_trace_grad(&m) - 2.0 * m).norm() < 1e-12);
    let _ = (
        gram_trace(&m),
        gram_trace_value_and_grad(&m),
        gram_trace_hvp(&m, &m),
    );

    let xf = SVector::<f32, 3>::new(1.0, 2.0, 2.0);
    let _ = (single_precision(&xf), single_precision_value_and_grad(&xf));
    let _ = (single_precision_grad(&xf), single_precision_hvp(&xf, &xf));

    let _ = (
        entries(&m),
        entries_grad(&m),
        entries_value_and_grad(&m),
        entries_hvp(&m, &m),
    );

    let y3 = Vector3::new(1.0, 2.0, 4.0);
    let _ = (
        maps(&x, &y3),
        maps_grad(&x, &y3),
        maps_value_and_grad(&x, &y3),
    );
    let _ = maps_hvp(&x, &y3, &x);

    let _ = (
        nonlinear(&m),
        nonlinear_grad(&m),
        nonlinear_value_and_grad(&m),
    );
    let _ = nonlinear_hvp(&m, &m);

    let _ = (calls_quadratic(&x, &a), calls_quadratic_grad(&x, &a));
    let _ = calls_quadratic_value_and_grad(&x, &a);
    let _ = calls_quadratic_hvp(&x, &a, &x);

    let _ = (
        seven(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
        seven_grad(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
    );
    let _ = seven_value_and_grad(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    assert!((seven_hvp(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1.0)).abs() < 1e-12);
}
