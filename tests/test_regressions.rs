//! Defects found in review of the macro crate, each kept as a regression test named after it;
//! finite differences and the user's own function are the references.
#![allow(
    non_upper_case_globals,
    reason = "const generics named like generated temporaries, on purpose"
)]

use matdiff::differentiate;
use matdiff::nalgebra::{SVector, Vector3};
use matdiff::runtime::{check_gradient, Rng};

/// `x.signum() + x`: the user's `signum` is `f64::signum`, which is `1` at `+0.0`.
#[differentiate(wrt = x)]
fn signum_plus(x: f64) -> f64 {
    x.signum() + x
}

/// The user's `.signum()` keeps `f64::signum`'s values at `±0.0` (the 0-at-0 sign is only the
/// derivative of `abs`); it once returned 0 there.
#[test]
fn signum_value_at_zero_is_the_functions() {
    for x in [0.0, -0.0] {
        let (value, _) = signum_plus_value_and_grad(x);
        assert_eq!(
            value,
            signum_plus(x),
            "value_and_grad({x:?}) must return the function's value"
        );
    }
}

/// `x · ((1e8 + 1) − 1e8)` in `f32`: `1e8 + 1` rounds to `1e8`, so the factor is `0`.
#[differentiate(wrt = x)]
#[allow(
    clippy::eq_op,
    reason = "the cancellation in f32 is what the test is about"
)]
fn absorbed_in_f32(x: f32) -> f32 {
    x * ((1.0e8 + 1.0) - 1.0e8)
}

/// Literals of an `f32` function fold in `f32`: the factor is `0`, as in the function (folded
/// in `f64` it once became `1`).
#[test]
fn f32_literals_fold_in_f32_precision() {
    let (value, gradient) = absorbed_in_f32_value_and_grad(1.0);
    assert_eq!(value, absorbed_in_f32(1.0), "value");
    assert_eq!(
        gradient, 0.0,
        "gradient of a function that is identically zero"
    );
}

/// A literal just above the `f32` halfway point between `1` and `1 + 2⁻²³`: rustc rounds the
/// decimal directly to `1.0000001_f32`.
#[differentiate(wrt = x)]
#[allow(clippy::excessive_precision)]
fn above_halfway_f32(x: f32) -> f32 {
    x * 1.000_000_059_604_644_8
}

/// `f32` literals are parsed as `f32`, as rustc does: decimal → `f64` → `f32` rounded twice and
/// gave `1.0` instead of `1.0000001`.
#[test]
fn f32_literals_round_once() {
    let (value, gradient) = above_halfway_f32_value_and_grad(1.0);
    assert_eq!(value, above_halfway_f32(1.0), "value");
    assert_eq!(gradient, 1.000_000_1_f32, "gradient");
}

/// `‖x‖²` written through the norm: smooth everywhere, gradient `2x`, `0` at the origin.
#[differentiate(wrt = x)]
fn norm_then_square(x: &Vector3<f64>) -> f64 {
    x.norm().powi(2)
}

/// The adjoint of `.norm()`, `ȳ / ‖x‖ · x`, is 0 at `x = 0` (the kink's derivative 0), so the
/// smooth `‖x‖²` has its exact gradient 0 there; it was once `0 · ∞ = NaN`.
#[test]
fn norm_gradient_at_zero_is_zero() {
    let zero = Vector3::zeros();
    let gradient = norm_then_square_grad(&zero);
    let mut rng = Rng::new(5);
    let v: Vector3<f64> = rng.matrix();
    check_gradient(norm_then_square, &gradient, &zero, &v)
        .assert_within(1e-6, "gradient of ‖x‖² at 0");
}

/// The first entry of a vector whose length parameter is named like the temporary of the
/// gradient's `Embed` block (`let mut m`), which could not shadow a const parameter.
#[differentiate(wrt = x)]
fn first<const m: usize>(x: &SVector<f64, m>) -> f64 {
    x[0] * x[0]
}

/// The largest entry, length named like the `ArgMask` block's temporary `best`.
#[differentiate(wrt = x)]
fn largest<const best: usize>(x: &SVector<f64, best>) -> f64 {
    x.max()
}

/// Temporaries of generated blocks (`m`, `best`, `mask`, `i`, `j`, `acc`) are hygienic: const
/// generics with those names compile and give the right gradients.
#[test]
fn generated_temporaries_do_not_clash_with_const_generics() {
    let x = SVector::<f64, 3>::new(1.0, 3.0, 2.0);
    assert_eq!(first_grad(&x), SVector::<f64, 3>::new(2.0, 0.0, 0.0));
    assert_eq!(largest_grad(&x), SVector::<f64, 3>::new(0.0, 1.0, 0.0));
    assert_eq!(first(&x) + largest(&x), 4.0);
}
