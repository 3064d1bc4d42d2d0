//! The scalar methods (`exp`, `ln`, `sqrt`, `sin`, `cos`, `tan`, `tanh`, `recip`, `abs`,
//! `signum`, `powi`), scalar `wrt` parameters, and `f32` functions: checked against
//! hand-written first and second derivatives and against finite differences.

mod common;

use common::{assert_scalar_close, SEEDS, TOL, TOL_F32};
use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, SMatrix, Vector3};
use matdiff::runtime::Rng;

// ---------------------------------------------------------------------------------------------
// One function per scalar method, of a scalar `wrt` parameter
// ---------------------------------------------------------------------------------------------

/// `eˢ`.
#[differentiate(wrt = s)]
fn m_exp(s: f64) -> f64 {
    s.exp()
}

/// `ln s` (for `s > 0`).
#[differentiate(wrt = s)]
fn m_ln(s: f64) -> f64 {
    s.ln()
}

/// `√s` (for `s > 0`).
#[differentiate(wrt = s)]
fn m_sqrt(s: f64) -> f64 {
    s.sqrt()
}

/// `sin s`.
#[differentiate(wrt = s)]
fn m_sin(s: f64) -> f64 {
    s.sin()
}

/// `cos s`.
#[differentiate(wrt = s)]
fn m_cos(s: f64) -> f64 {
    s.cos()
}

/// `tan s`.
#[differentiate(wrt = s)]
fn m_tan(s: f64) -> f64 {
    s.tan()
}

/// `tanh s`.
#[differentiate(wrt = s)]
fn m_tanh(s: f64) -> f64 {
    s.tanh()
}

/// `1 / s`.
#[differentiate(wrt = s)]
fn m_recip(s: f64) -> f64 {
    s.recip()
}

/// `|s|`.
#[differentiate(wrt = s)]
fn m_abs(s: f64) -> f64 {
    s.abs()
}

/// `sign(s) · s² = s |s|`.
#[differentiate(wrt = s)]
fn m_signum(s: f64) -> f64 {
    s.signum() * s.powi(2)
}

/// `s⁻³`.
#[differentiate(wrt = s)]
fn m_powi_m3(s: f64) -> f64 {
    s.powi(-3)
}

/// `s⁻²`.
#[differentiate(wrt = s)]
fn m_powi_m2(s: f64) -> f64 {
    s.powi(-2)
}

/// `s⁻¹`.
#[differentiate(wrt = s)]
fn m_powi_m1(s: f64) -> f64 {
    s.powi(-1)
}

/// `s⁰ = 1`.
#[differentiate(wrt = s)]
fn m_powi_0(s: f64) -> f64 {
    s.powi(0)
}

/// `s¹`.
#[differentiate(wrt = s)]
fn m_powi_1(s: f64) -> f64 {
    s.powi(1)
}

/// `s²`.
#[differentiate(wrt = s)]
fn m_powi_2(s: f64) -> f64 {
    s.powi(2)
}

/// `s³`.
#[differentiate(wrt = s)]
fn m_powi_3(s: f64) -> f64 {
    s.powi(3)
}

/// `s⁷`.
#[differentiate(wrt = s)]
fn m_powi_7(s: f64) -> f64 {
    s.powi(7)
}

/// The generated triple of a scalar function and its hand-written `f`, `f'`, `f''`.
struct Case {
    name: &'static str,
    original: fn(f64) -> f64,
    grad: fn(f64) -> f64,
    value_and_grad: fn(f64) -> (f64, f64),
    hvp: fn(f64, f64) -> f64,
    f: fn(f64) -> f64,
    d1: fn(f64) -> f64,
    d2: fn(f64) -> f64,
    points: &'static [f64],
}

/// The four functions a `#[differentiate]` on `fn(f64) -> f64` gives.
type Generated = (
    fn(f64) -> f64,
    fn(f64) -> f64,
    fn(f64) -> (f64, f64),
    fn(f64, f64) -> f64,
);

/// Hand-written `f`, `f'`, `f''`.
type Exact = (fn(f64) -> f64, fn(f64) -> f64, fn(f64) -> f64);

fn case_of(name: &'static str, generated: Generated, exact: Exact, points: &'static [f64]) -> Case {
    Case {
        name,
        original: generated.0,
        grad: generated.1,
        value_and_grad: generated.2,
        hvp: generated.3,
        f: exact.0,
        d1: exact.1,
        d2: exact.2,
        points,
    }
}

/// Positive points, for `ln`, `sqrt` and negative powers.
const POSITIVE: &[f64] = &[0.3, 0.9, 1.7, 4.2];
/// Points of both signs, away from zero.
const NONZERO: &[f64] = &[-2.3, -0.6, 0.4, 1.3, 3.1];
/// Points within `(−π/2, π/2)`, for `tan`.
const TAN_DOMAIN: &[f64] = &[-1.2, -0.5, 0.0, 0.7, 1.3];

fn cases() -> Vec<Case> {
    vec![
        case_of(
            "exp",
            (m_exp, m_exp_grad, m_exp_value_and_grad, m_exp_hvp),
            (f64::exp, f64::exp, f64::exp),
            NONZERO,
        ),
        case_of(
            "ln",
            (m_ln, m_ln_grad, m_ln_value_and_grad, m_ln_hvp),
            (f64::ln, |s| 1.0 / s, |s| -1.0 / (s * s)),
            POSITIVE,
        ),
        case_of(
            "sqrt",
            (m_sqrt, m_sqrt_grad, m_sqrt_value_and_grad, m_sqrt_hvp),
            (f64::sqrt, |s| 0.5 / s.sqrt(), |s| -0.25 / (s * s.sqrt())),
            POSITIVE,
        ),
        case_of(
            "sin",
            (m_sin, m_sin_grad, m_sin_value_and_grad, m_sin_hvp),
            (f64::sin, f64::cos, |s| -s.sin()),
            NONZERO,
        ),
        case_of(
            "cos",
            (m_cos, m_cos_grad, m_cos_value_and_grad, m_cos_hvp),
            (f64::cos, |s| -s.sin(), |s| -s.cos()),
            NONZERO,
        ),
        case_of(
            "tan",
            (m_tan, m_tan_grad, m_tan_value_and_grad, m_tan_hvp),
            (
                f64::tan,
                |s| 1.0 / (s.cos() * s.cos()),
                |s| 2.0 * s.sin() / s.cos().powi(3),
            ),
            TAN_DOMAIN,
        ),
        case_of(
            "tanh",
            (m_tanh, m_tanh_grad, m_tanh_value_and_grad, m_tanh_hvp),
            (
                f64::tanh,
                |s| 1.0 / (s.cosh() * s.cosh()),
                |s| -2.0 * s.sinh() / s.cosh().powi(3),
            ),
            NONZERO,
        ),
        case_of(
            "recip",
            (m_recip, m_recip_grad, m_recip_value_and_grad, m_recip_hvp),
            (|s| 1.0 / s, |s| -1.0 / (s * s), |s| 2.0 / (s * s * s)),
            NONZERO,
        ),
        case_of(
            "abs",
            (m_abs, m_abs_grad, m_abs_value_and_grad, m_abs_hvp),
            (f64::abs, |s| if s > 0.0 { 1.0 } else { -1.0 }, |_| 0.0),
            NONZERO,
        ),
        case_of(
            "signum",
            (
                m_signum,
                m_signum_grad,
                m_signum_value_and_grad,
                m_signum_hvp,
            ),
            (
                |s| s * s.abs(),
                |s| 2.0 * s.abs(),
                |s| if s > 0.0 { 2.0 } else { -2.0 },
            ),
            NONZERO,
        ),
        case_of(
            "powi(-3)",
            (
                m_powi_m3,
                m_powi_m3_grad,
                m_powi_m3_value_and_grad,
                m_powi_m3_hvp,
            ),
            (
                |s| 1.0 / (s * s * s),
                |s| -3.0 / (s * s * s * s),
                |s| 12.0 / (s * s * s * s * s),
            ),
            NONZERO,
        ),
        case_of(
            "powi(-2)",
            (
                m_powi_m2,
                m_powi_m2_grad,
                m_powi_m2_value_and_grad,
                m_powi_m2_hvp,
            ),
            (
                |s| 1.0 / (s * s),
                |s| -2.0 / (s * s * s),
                |s| 6.0 / (s * s * s * s),
            ),
            NONZERO,
        ),
        case_of(
            "powi(-1)",
            (
                m_powi_m1,
                m_powi_m1_grad,
                m_powi_m1_value_and_grad,
                m_powi_m1_hvp,
            ),
            (|s| 1.0 / s, |s| -1.0 / (s * s), |s| 2.0 / (s * s * s)),
            NONZERO,
        ),
        case_of(
            "powi(0)",
            (
                m_powi_0,
                m_powi_0_grad,
                m_powi_0_value_and_grad,
                m_powi_0_hvp,
            ),
            (|_| 1.0, |_| 0.0, |_| 0.0),
            NONZERO,
        ),
        case_of(
            "powi(1)",
            (
                m_powi_1,
                m_powi_1_grad,
                m_powi_1_value_and_grad,
                m_powi_1_hvp,
            ),
            (|s| s, |_| 1.0, |_| 0.0),
            NONZERO,
        ),
        case_of(
            "powi(2)",
            (
                m_powi_2,
                m_powi_2_grad,
                m_powi_2_value_and_grad,
                m_powi_2_hvp,
            ),
            (|s| s * s, |s| 2.0 * s, |_| 2.0),
            NONZERO,
        ),
        case_of(
            "powi(3)",
            (
                m_powi_3,
                m_powi_3_grad,
                m_powi_3_value_and_grad,
                m_powi_3_hvp,
            ),
            (|s| s * s * s, |s| 3.0 * s * s, |s| 6.0 * s),
            NONZERO,
        ),
        case_of(
            "powi(7)",
            (
                m_powi_7,
                m_powi_7_grad,
                m_powi_7_value_and_grad,
                m_powi_7_hvp,
            ),
            (
                |s| s * s * s * s * s * s * s,
                |s| 7.0 * s * s * s * s * s * s,
                |s| 42.0 * s * s * s * s * s,
            ),
            NONZERO,
        ),
    ]
}

#[test]
fn scalar_methods_match_hand_written_derivatives() {
    for case in cases() {
        for &s in case.points {
            let tol = 1e-12;
            let what = |d: &str| format!("{} at {s}: {d}", case.name);
            let check = |actual: f64, expected: f64, d: &str| {
                assert!(
                    (actual - expected).abs() <= tol * expected.abs().max(1.0),
                    "{}: actual {actual:e}, expected {expected:e}",
                    what(d)
                );
            };
            check((case.original)(s), (case.f)(s), "value");
            check((case.grad)(s), (case.d1)(s), "first derivative");
            let (value, grad) = (case.value_and_grad)(s);
            check(value, (case.f)(s), "value_and_grad value");
            check(grad, (case.d1)(s), "value_and_grad gradient");
            for v in [1.0, -0.7, 2.5] {
                check((case.hvp)(s, v), (case.d2)(s) * v, "second derivative");
            }
        }
    }
}

#[test]
fn scalar_methods_match_finite_differences() {
    let mut rng = Rng::new(17);
    for case in cases() {
        for &s in case.points {
            common::full_check(
                |x: &f64| (case.original)(*x),
                |x: &f64| (case.grad)(*x),
                |x: &f64| (case.value_and_grad)(*x),
                |x: &f64, v: &f64| (case.hvp)(*x, *v),
                &s,
                &mut rng,
                TOL,
            );
        }
    }
}

/// `abs` uses the subgradient `0` at `0` (documented in the facade crate).
#[test]
fn abs_subgradient_at_zero() {
    assert_eq!(m_abs_grad(0.0), 0.0);
    assert_eq!(m_abs_hvp(0.0, 1.0), 0.0);
    assert_eq!(m_abs_value_and_grad(0.0), (0.0, 0.0));
}

// ---------------------------------------------------------------------------------------------
// Scalar methods applied to reductions of matrices
// ---------------------------------------------------------------------------------------------

/// `√‖x‖² + ln(1 + ‖x‖²) + sin(aᵀx) + cos(sum x) · e^{‖x‖ / 4}`.
#[differentiate(wrt = x)]
fn methods_of_reductions(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.norm_squared().sqrt()
        + (1.0 + x.norm_squared()).ln()
        + a.dot(x).sin()
        + x.sum().cos() * (x.norm() / 4.0).exp()
}

/// `tanh(tr X) + tan(X₀₀ / 10) + 1 / sum(X) + |X₁₁| + sign(X₂₂) X₂₂²`.
#[differentiate(wrt = x)]
fn more_methods_of_reductions(x: &Matrix3<f64>) -> f64 {
    x.trace().tanh()
        + (x[(0, 0)] / 10.0).tan()
        + x.sum().recip()
        + x[(1, 1)].abs()
        + x[(2, 2)].signum() * x[(2, 2)].powi(2)
}

/// Integer powers of reductions, including negative and zero exponents.
#[differentiate(wrt = x)]
fn powers_of_reductions(x: &Matrix3<f64>) -> f64 {
    x.norm_squared().powi(-2) + x.trace().powi(0) + x.sum().powi(1) + x.norm().powi(3)
        - x[(0, 1)].powi(-1)
}

#[test]
fn scalar_methods_of_matrix_reductions() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 1>();
        check_fn!(methods_of_reductions, methods_of_reductions_grad,
            methods_of_reductions_value_and_grad, methods_of_reductions_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        // Diagonally dominant with positive diagonal: sum, trace and X₂₂ stay away from 0.
        let m = rng.well_conditioned::<3>() + Matrix3::from_element(1.0);
        check_fn!(more_methods_of_reductions, more_methods_of_reductions_grad,
            more_methods_of_reductions_value_and_grad, more_methods_of_reductions_hvp;
            |x, v| (x); (v); at &m, &mut rng, TOL);
        let mut m = rng.well_conditioned::<3>();
        m[(0, 1)] = 0.5 + m[(0, 1)].abs();
        check_fn!(powers_of_reductions, powers_of_reductions_grad,
            powers_of_reductions_value_and_grad, powers_of_reductions_hvp;
            |x, v| (x); (v); at &m, &mut rng, TOL);
    }
}

/// `√(xᵀx)` is `‖x‖`: gradient `x/‖x‖`; `ln(xᵀx)`: gradient `2x/‖x‖²`, Hessian
/// `2 (I ‖x‖² − 2 x xᵀ) / ‖x‖⁴`.
#[differentiate(wrt = x)]
fn log_norm_squared(x: &Vector3<f64>) -> f64 {
    x.norm_squared().ln()
}

#[test]
fn log_norm_squared_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let n2 = x.norm_squared();
        assert_scalar_close(log_norm_squared(&x), n2.ln(), 1e-12);
        common::assert_close(&log_norm_squared_grad(&x), &(2.0 * x / n2), 1e-12);
        common::assert_close(
            &log_norm_squared_hvp(&x, &v),
            &(2.0 * (v * n2 - 2.0 * x * x.dot(&v)) / (n2 * n2)),
            1e-12,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar `wrt` parameters next to matrices
// ---------------------------------------------------------------------------------------------

/// `ln ‖s x‖² + s³ ⟨x, a⟩`, differentiated w.r.t. the scalar `s`.
#[differentiate(wrt = s)]
fn scalar_wrt(s: f64, x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (s * x).norm_squared().ln() + s.powi(3) * x.dot(a)
}

/// The same function w.r.t. `x`, with `s` a constant.
#[differentiate(wrt = x)]
fn scalar_const(s: f64, x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (s * x).norm_squared().ln() + s.powi(3) * x.dot(a)
}

/// `s · ‖X‖² · e^{s}` with the scalar taken by reference, `wrt = s`.
#[differentiate(wrt = s)]
fn scalar_by_ref(s: &f64, x: &Matrix3<f64>) -> f64 {
    *s * x.norm_squared() * s.exp()
}

/// Two scalar `wrt` parameters: `sin(s t) + s² eᵗ`.
#[differentiate(wrt = (s, t))]
fn two_scalars(s: f64, t: f64) -> f64 {
    (s * t).sin() + s.powi(2) * t.exp()
}

#[test]
fn scalar_wrt_parameters() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 1>();
        let s = 0.5 + rng.uniform().abs();
        check_fn!(scalar_wrt, scalar_wrt_grad, scalar_wrt_value_and_grad, scalar_wrt_hvp;
            |s, v| (*s, &x, &a); (*v); at &s, &mut rng, TOL);
        check_fn!(scalar_const, scalar_const_grad, scalar_const_value_and_grad,
            scalar_const_hvp; |x, v| (s, x, &a); (v); at &x, &mut rng, TOL);
        // Independent formula: d/ds [ln(s²‖x‖²) + s³ ⟨x,a⟩] = 2/s + 3 s² ⟨x,a⟩,
        // second derivative −2/s² + 6 s ⟨x,a⟩.
        assert_scalar_close(
            scalar_wrt_grad(s, &x, &a),
            2.0 / s + 3.0 * s * s * x.dot(&a),
            1e-12,
        );
        assert_scalar_close(
            scalar_wrt_hvp(s, &x, &a, 1.5),
            1.5 * (-2.0 / (s * s) + 6.0 * s * x.dot(&a)),
            1e-12,
        );

        let m = rng.matrix::<3, 3>();
        check_fn!(scalar_by_ref, scalar_by_ref_grad, scalar_by_ref_value_and_grad,
            scalar_by_ref_hvp; |s, v| (s, &m); (v); at &s, &mut rng, TOL);
        // d/ds (s eˢ) = (1 + s) eˢ, second derivative (2 + s) eˢ.
        let n2 = m.norm_squared();
        assert_scalar_close(scalar_by_ref_grad(&s, &m), n2 * (1.0 + s) * s.exp(), 1e-12);
        assert_scalar_close(
            scalar_by_ref_hvp(&s, &m, &2.0),
            2.0 * n2 * (2.0 + s) * s.exp(),
            1e-12,
        );

        let st = (rng.normal(), rng.normal());
        check_fn!(two_scalars, two_scalars_grad, two_scalars_value_and_grad, two_scalars_hvp;
            |p, v| (p.0, p.1); (v.0, v.1); at &st, &mut rng, TOL);
        let (s, t) = st;
        let (gs, gt) = two_scalars_grad(s, t);
        assert_scalar_close(gs, t * (s * t).cos() + 2.0 * s * t.exp(), 1e-12);
        assert_scalar_close(gt, s * (s * t).cos() + s * s * t.exp(), 1e-12);
        // Hessian [[−t² sin + 2eᵗ, cos − st sin + 2s eᵗ], [·, −s² sin + s² eᵗ]].
        let (sin, cos, et) = ((s * t).sin(), (s * t).cos(), t.exp());
        let hss = -t * t * sin + 2.0 * et;
        let hst = cos - s * t * sin + 2.0 * s * et;
        let htt = -s * s * sin + s * s * et;
        let (v1, v2) = (0.3, -1.1);
        let (h1, h2) = two_scalars_hvp(s, t, v1, v2);
        assert_scalar_close(h1, hss * v1 + hst * v2, 1e-12);
        assert_scalar_close(h2, hst * v1 + htt * v2, 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// f32 functions
// ---------------------------------------------------------------------------------------------

/// An `f32` matrix function: `‖A X‖² + sin(tr X) + ln(1 + ‖X‖²)`.
#[differentiate(wrt = x)]
fn f32_matrix(x: &SMatrix<f32, 3, 3>, a: &SMatrix<f32, 3, 3>) -> f32 {
    (a * x).norm_squared() + x.trace().sin() + (1.0 + x.norm_squared()).ln()
}

/// An `f32` scalar function: `eˢ cos s + s⁻² + √s`.
#[differentiate(wrt = s)]
fn f32_scalar(s: f32) -> f32 {
    s.exp() * s.cos() + s.powi(-2) + s.sqrt()
}

/// Holds [`f32_vector`]: generated code spells float constants as literals, which trips clippy::approx_constant
/// An `f32` vector function with an `f32` constant and suffixed literals.
#[differentiate(wrt = x)]
pub fn f32_vector(x: &Vector3<f32>, a: &Vector3<f32>) -> f32 {
    x.norm() + (x.transpose() * a)[0].tanh() * 2.0_f32 + std::f32::consts::PI * x[0] * x[1]
        - (x.component_mul(a).sum() / 3.0).powi(2)
}

#[test]
fn f32_functions() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 3>().cast::<f32>() * 0.5;
        let a = rng.matrix::<3, 3>().cast::<f32>() * 0.5;
        check_fn!(f32_matrix, f32_matrix_grad, f32_matrix_value_and_grad, f32_matrix_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL_F32);

        let s = 0.5_f32 + rng.uniform().abs() as f32;
        check_fn!(f32_scalar, f32_scalar_grad, f32_scalar_value_and_grad, f32_scalar_hvp;
            |s, v| (*s); (*v); at &s, &mut rng, TOL_F32);

        let xv = rng.matrix::<3, 1>().cast::<f32>();
        let av = rng.matrix::<3, 1>().cast::<f32>();
        check_fn!(f32_vector, f32_vector_grad, f32_vector_value_and_grad, f32_vector_hvp;
            |x, v| (x, &av); (v); at &xv, &mut rng, TOL_F32);
    }
}

/// The `f32` gradients agree with `f64` formulas evaluated at the same point.
#[test]
fn f32_closed_forms() {
    let mut rng = Rng::new(23);
    let x = rng.matrix::<3, 3>() * 0.5;
    let a = rng.matrix::<3, 3>() * 0.5;
    let v = rng.matrix::<3, 3>();
    let (xf, af, vf) = (x.cast::<f32>(), a.cast::<f32>(), v.cast::<f32>());
    let (x, a, v) = (xf.cast::<f64>(), af.cast::<f64>(), vf.cast::<f64>());
    let n2 = x.norm_squared();
    let i = Matrix3::<f64>::identity();
    let grad = 2.0 * a.transpose() * a * x + x.trace().cos() * i + 2.0 * x / (1.0 + n2);
    let hvp = 2.0 * a.transpose() * a * v - x.trace().sin() * v.trace() * i + 2.0 * v / (1.0 + n2)
        - 4.0 * x.dot(&v) * x / ((1.0 + n2) * (1.0 + n2));
    let g = f32_matrix_grad(&xf, &af).cast::<f64>();
    let h = f32_matrix_hvp(&xf, &af, &vf).cast::<f64>();
    assert!(
        (g - grad).norm() <= 1e-4 * grad.norm(),
        "gradient {g} vs {grad}"
    );
    assert!((h - hvp).norm() <= 1e-4 * hvp.norm(), "hvp {h} vs {hvp}");

    let s = 1.3_f32;
    let sd = f64::from(s);
    let d1 = sd.exp() * (sd.cos() - sd.sin()) - 2.0 / sd.powi(3) + 0.5 / sd.sqrt();
    let d2 = -2.0 * sd.exp() * sd.sin() + 6.0 / sd.powi(4) - 0.25 / sd.powf(1.5);
    assert_scalar_close(f64::from(f32_scalar_grad(s)), d1, 1e-5);
    assert_scalar_close(f64::from(f32_scalar_hvp(s, 1.0)), d2, 1e-5);
}
