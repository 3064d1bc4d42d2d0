//! Helpers shared by the integration tests: a full check of a generated triple
//! (`_grad`, `_value_and_grad`, `_hvp`) against finite differences and against each other.

// Each test binary uses only some of these helpers.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use matdiff::runtime::{check_all, Rng, VectorSpace};

/// Seeds used by the randomised checks.
pub const SEEDS: [u64; 5] = [1, 7, 42, 2024, 0xDEAD_BEEF];

/// Tolerance of the `f64` checks (relative error as defined by `Comparison`).
pub const TOL: f64 = 1e-6;

/// Tolerance of the `f32` checks.
pub const TOL_F32: f64 = 1e-3;

/// Runs `check_all` (gradient against central finite differences, HVP against finite
/// differences of `grad`, HVP symmetry) at `x`, then checks that `value_and_grad` agrees with
/// `f` and `grad`.
///
/// `T` is the function's scalar (`f64` or `f32`); the checks run in `f64`.
#[track_caller]
pub fn full_check<X, T>(
    f: impl Fn(&X) -> T,
    grad: impl Fn(&X) -> X,
    value_and_grad: impl Fn(&X) -> (T, X),
    hvp: impl Fn(&X, &X) -> X,
    x: &X,
    rng: &mut Rng,
    tol: f64,
) where
    X: VectorSpace,
    T: Into<f64> + Copy,
{
    check_all(|y: &X| f(y).into(), &grad, &hvp, x, rng, tol);
    assert_value_and_grad(&f, &grad, &value_and_grad, x, tol);
}

/// Checks that `value_and_grad(x)` returns `(f(x), grad(x))`.
#[track_caller]
pub fn assert_value_and_grad<X, T>(
    f: impl Fn(&X) -> T,
    grad: impl Fn(&X) -> X,
    value_and_grad: impl Fn(&X) -> (T, X),
    x: &X,
    tol: f64,
) where
    X: VectorSpace,
    T: Into<f64> + Copy,
{
    let (value, g) = value_and_grad(x);
    let (value, expected_value): (f64, f64) = (value.into(), f(x).into());
    // The README promises the function's value "up to rounding": a few ulps of the terms a
    // reordered evaluation can move, far below the derivative checks' tolerance.
    let rounding = if tol < TOL_F32 { 1e-12 } else { 1e-5 };
    assert!(
        (value - expected_value).abs() <= rounding * expected_value.abs().max(1.0),
        "value_and_grad: value {value:e} differs from the function's {expected_value:e}"
    );
    let expected_grad = grad(x);
    let diff = g.axpy(-1.0, &expected_grad).norm();
    assert!(
        diff <= tol * expected_grad.norm().max(1.0),
        "value_and_grad: gradient differs from _grad by {diff:e}"
    );
}

/// Asserts `‖actual − expected‖ ≤ tol · max(1, ‖expected‖)`.
#[track_caller]
pub fn assert_close<X: VectorSpace + std::fmt::Debug>(actual: &X, expected: &X, tol: f64) {
    let diff = actual.axpy(-1.0, expected).norm();
    assert!(
        diff <= tol * expected.norm().max(1.0),
        "difference {diff:e} exceeds {tol:e}:\n actual   {actual:?}\n expected {expected:?}"
    );
}

/// Asserts `|actual − expected| ≤ tol · max(1, |expected|)` for scalars.
#[track_caller]
pub fn assert_scalar_close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol * expected.abs().max(1.0),
        "actual {actual:e}, expected {expected:e}, tolerance {tol:e}"
    );
}

/// Checks a function with one or several `wrt` parameters at a point: calls
/// [`full_check`] with closures built from the four function names.
///
/// ```ignore
/// check_fn!(quad, quad_grad, quad_value_and_grad, quad_hvp;
///           |x, v| (x, &a); (v); at &x0, &mut rng, TOL);
/// ```
///
/// `|x, v|` names the point and the direction (both `&X`); the first parenthesised list is
/// the arguments of the function written in terms of `x`, the second the direction
/// arguments appended for `_hvp`, written in terms of `v`.
#[macro_export]
macro_rules! check_fn {
    ($f:ident, $g:ident, $vg:ident, $h:ident;
     |$x:ident, $v:ident| ($($arg:expr),* $(,)?); ($($dir:expr),* $(,)?);
     at $x0:expr, $rng:expr, $tol:expr) => {
        $crate::common::full_check(
            |$x| $f($($arg),*),
            |$x| $g($($arg),*),
            |$x| $vg($($arg),*),
            |$x, $v| $h($($arg,)* $($dir),*),
            $x0,
            $rng,
            $tol,
        )
    };
}
