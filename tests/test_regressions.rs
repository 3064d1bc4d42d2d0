//! Defects found in review of the macro crate, each kept as a regression test named after it;
//! finite differences and the user's own function are the references.
#![allow(
    non_upper_case_globals,
    reason = "const generics named like generated temporaries, on purpose"
)]

#[macro_use]
mod common;

use common::{SEEDS, TOL};
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

// ---------------------------------------------------------------------------------------------
// A `.map()` closure that reads a value of the code around it. Such a value was once frozen as
// a constant (∂/∂k = 0, passed on to callers), then rejected; it is now differentiated through.

/// `Σ xᵢ k`: ∂/∂x = k 1, ∂/∂k = Σ xᵢ.
#[differentiate(wrt = (x, k))]
#[allow(clippy::unnecessary_cast, reason = "the cast is the issue's example")]
fn map_reads_a_cast_parameter(x: &Vector3<f64>, k: f64) -> f64 {
    x.map(|t| t * (k as f64)).sum()
}

/// The same with an upper-case parameter, which is a parameter and not a constant in scope.
#[differentiate(wrt = (x, K))]
#[allow(non_snake_case, reason = "the upper case is the point of the test")]
fn map_reads_an_upper_case_parameter(x: &Vector3<f64>, K: f64) -> f64 {
    x.map(|t| t * K).sum()
}

/// `Σ tanh(s xᵢ)`, `s` captured in a nonlinear closure.
#[differentiate(wrt = (x, s))]
fn map_captures_a_scale(x: &Vector3<f64>, s: f64) -> f64 {
    x.map(|t| (t * s).tanh()).sum()
}

/// A centred sum of squares, the mean a `let` of the body: `Σ (xᵢ − x̄)²`.
#[differentiate(wrt = x)]
fn map_captures_a_let(x: &SVector<f64, 5>) -> f64 {
    let mean = x.sum() / 5.0;
    x.map(|t| (t - mean).powi(2)).sum()
}

/// Too many entries to unroll: the map stays a loop over the entries.
#[differentiate(wrt = (x, w))]
fn map_captures_in_a_long_vector(x: &SVector<f64, 80>, w: &Vector3<f64>) -> f64 {
    x.map(|t| (w[0] * t + w[1]).sin() * w[2]).sum()
}

/// A caller of `map_reads_a_cast_parameter` gets ∂/∂k through the callee's hidden functions.
#[differentiate(wrt = k)]
fn calls_a_capturing_map(x: &Vector3<f64>, k: f64) -> f64 {
    map_reads_a_cast_parameter(x, k) * k
}

#[test]
fn map_closures_differentiate_the_values_they_read() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x: Vector3<f64> = rng.matrix::<3, 1>();
        let k = 0.5 + rng.uniform();
        // Derived by hand: the gradient of Σ xᵢ k.
        let expected = (Vector3::repeat(k), x.sum());
        for (gx, gk) in [
            map_reads_a_cast_parameter_grad(&x, k),
            map_reads_an_upper_case_parameter_grad(&x, k),
        ] {
            assert!((gx - expected.0).amax() <= 1e-15 && (gk - expected.1).abs() <= 1e-14);
        }
        // d/dk (k Σ xᵢ · k) = 2 k Σ xᵢ.
        let g = calls_a_capturing_map_grad(&x, k);
        let value = calls_a_capturing_map(&x, k) + map_reads_an_upper_case_parameter(&x, k);
        assert!((value - (k * k + k) * x.sum()).abs() <= 1e-12 * (1.0 + value.abs()));
        assert!((g - 2.0 * k * x.sum()).abs() <= 1e-13 * (1.0 + g.abs()));

        check_fn!(map_reads_a_cast_parameter, map_reads_a_cast_parameter_grad,
            map_reads_a_cast_parameter_value_and_grad, map_reads_a_cast_parameter_hvp;
            |p, v| (&p.0, p.1); (&v.0, v.1); at &(x, k), &mut rng, TOL);
        check_fn!(map_captures_a_scale, map_captures_a_scale_grad,
            map_captures_a_scale_value_and_grad, map_captures_a_scale_hvp;
            |p, v| (&p.0, p.1); (&v.0, v.1); at &(x, k), &mut rng, TOL);
        let y = rng.matrix::<5, 1>();
        check_fn!(map_captures_a_let, map_captures_a_let_grad, map_captures_a_let_value_and_grad,
            map_captures_a_let_hvp; |x, v| (x); (v); at &y, &mut rng, TOL);
        // ∇ Σ (xᵢ − x̄)² = 2 (x − x̄ 1), the mean's own term summing to zero.
        let mean = y.sum() / 5.0;
        assert!((map_captures_a_let_grad(&y) - 2.0 * y.add_scalar(-mean)).amax() <= 1e-14);
        let long = (rng.matrix::<80, 1>(), rng.matrix::<3, 1>());
        check_fn!(map_captures_in_a_long_vector, map_captures_in_a_long_vector_grad,
            map_captures_in_a_long_vector_value_and_grad, map_captures_in_a_long_vector_hvp;
            |p, v| (&p.0, &p.1); (&v.0, &v.1); at &long, &mut rng, TOL);
    }
}

/// `Σ |xᵢ|ᵖ`, the p-th power of an ℓp norm, with respect to `x` and `p`.
#[differentiate(wrt = (x, p))]
fn lp_power(x: &Vector3<f64>, p: f64) -> f64 {
    x.iter().map(|t| t.abs().powf(p)).sum()
}

/// At an entry equal to 0, `∂(|t|ᵖ)/∂p = |t|ᵖ ln|t|` is `0 · (−∞)`; it was NaN, and its limit
/// (for p > 0) is 0.
#[test]
fn powf_exponent_derivative_at_zero_base() {
    let x = Vector3::new(0.0, 2.0, -0.5);
    let p = 2.5;
    let (gx, gp) = lp_power_grad(&x, p);
    // By hand: ∂/∂p = Σ |xᵢ|ᵖ ln|xᵢ| over the nonzero entries.
    let expected = 2f64.powf(p) * 2f64.ln() + 0.5f64.powf(p) * 0.5f64.ln();
    assert!((gp - expected).abs() < 1e-12, "{gp} vs {expected}");
    assert_eq!(gx[0], 0.0);
    let (hx, hp) = lp_power_hvp(&x, p, &Vector3::new(0.3, -0.2, 0.1), 0.7);
    assert!(
        hx.iter().all(|h| h.is_finite()) && hp.is_finite(),
        "{hx} {hp}"
    );
    assert!(lp_power(&x, p) > 0.0);
}
