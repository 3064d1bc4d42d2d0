//! The scalar functions `ln_1p`, `exp_m1`, `log10`, `log2`, `atan`, `asin`, `acos`, `sinh`,
//! `cosh`, `cbrt` and the two- and three-argument `atan2`, `hypot`, `copysign`, `mul_add`:
//! each alone against its textbook first and second derivative (written here from calculus,
//! not from the generated code), then in functions written as people write them, against
//! central finite differences of the function (`check_all`: gradient, Hessian-vector product,
//! Hessian symmetry).

mod common;

use common::{assert_scalar_close, full_check, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2x3, SVector, Vector2, Vector3};
use matdiff::runtime::Rng;

// ---------------------------------------------------------------------------------------------
// One function per scalar method, against f, f', f'' from calculus
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt = s)]
fn m_ln_1p(s: f64) -> f64 {
    s.ln_1p()
}

#[differentiate(wrt = s)]
fn m_exp_m1(s: f64) -> f64 {
    s.exp_m1()
}

#[differentiate(wrt = s)]
fn m_log10(s: f64) -> f64 {
    s.log10()
}

#[differentiate(wrt = s)]
fn m_log2(s: f64) -> f64 {
    f64::log2(s)
}

#[differentiate(wrt = s)]
fn m_atan(s: f64) -> f64 {
    s.atan()
}

#[differentiate(wrt = s)]
fn m_asin(s: f64) -> f64 {
    s.asin()
}

#[differentiate(wrt = s)]
fn m_acos(s: f64) -> f64 {
    f64::acos(s)
}

#[differentiate(wrt = s)]
fn m_sinh(s: f64) -> f64 {
    s.sinh()
}

#[differentiate(wrt = s)]
fn m_cosh(s: f64) -> f64 {
    s.cosh()
}

#[differentiate(wrt = s)]
fn m_cbrt(s: f64) -> f64 {
    s.cbrt()
}

type Generated = (
    fn(f64) -> f64,
    fn(f64) -> f64,
    fn(f64) -> (f64, f64),
    fn(f64, f64) -> f64,
);

/// `(name, generated, f, f', f'', points)`.
type Case = (&'static str, Generated, [fn(f64) -> f64; 3], &'static [f64]);

const ANY: &[f64] = &[-2.3, -0.6, 0.0, 0.4, 1.3, 3.1];
const POSITIVE: &[f64] = &[0.05, 0.3, 0.9, 1.7, 42.0];
/// Inside `(−1, 1)`, the domain of `asin` and `acos` (and of `ln_1p`, on the left).
const INTERIOR: &[f64] = &[-0.95, -0.5, 0.0, 0.3, 0.9];
/// Both signs, away from the infinite slope of `cbrt` at 0.
const NONZERO: &[f64] = &[-8.0, -0.6, 0.001, 0.4, 27.0];

fn cases() -> Vec<Case> {
    vec![
        (
            "ln_1p",
            (m_ln_1p, m_ln_1p_grad, m_ln_1p_value_and_grad, m_ln_1p_hvp),
            [
                |s| (1.0 + s).ln(),
                |s| 1.0 / (1.0 + s),
                |s| -1.0 / ((1.0 + s) * (1.0 + s)),
            ],
            INTERIOR,
        ),
        (
            "exp_m1",
            (
                m_exp_m1,
                m_exp_m1_grad,
                m_exp_m1_value_and_grad,
                m_exp_m1_hvp,
            ),
            [|s| s.exp() - 1.0, f64::exp, f64::exp],
            ANY,
        ),
        (
            "log10",
            (m_log10, m_log10_grad, m_log10_value_and_grad, m_log10_hvp),
            [
                |s| s.ln() / std::f64::consts::LN_10,
                |s| 1.0 / (s * std::f64::consts::LN_10),
                |s| -1.0 / (s * s * std::f64::consts::LN_10),
            ],
            POSITIVE,
        ),
        (
            "log2",
            (m_log2, m_log2_grad, m_log2_value_and_grad, m_log2_hvp),
            [
                |s| s.ln() / std::f64::consts::LN_2,
                |s| 1.0 / (s * std::f64::consts::LN_2),
                |s| -1.0 / (s * s * std::f64::consts::LN_2),
            ],
            POSITIVE,
        ),
        (
            "atan",
            (m_atan, m_atan_grad, m_atan_value_and_grad, m_atan_hvp),
            [
                f64::atan,
                |s| 1.0 / (1.0 + s * s),
                |s| -2.0 * s / ((1.0 + s * s) * (1.0 + s * s)),
            ],
            ANY,
        ),
        (
            "asin",
            (m_asin, m_asin_grad, m_asin_value_and_grad, m_asin_hvp),
            [
                f64::asin,
                |s| 1.0 / (1.0 - s * s).sqrt(),
                |s| s / (1.0 - s * s).powf(1.5),
            ],
            INTERIOR,
        ),
        (
            "acos",
            (m_acos, m_acos_grad, m_acos_value_and_grad, m_acos_hvp),
            [
                f64::acos,
                |s| -1.0 / (1.0 - s * s).sqrt(),
                |s| -s / (1.0 - s * s).powf(1.5),
            ],
            INTERIOR,
        ),
        (
            "sinh",
            (m_sinh, m_sinh_grad, m_sinh_value_and_grad, m_sinh_hvp),
            [
                |s| (s.exp() - (-s).exp()) / 2.0,
                |s| (s.exp() + (-s).exp()) / 2.0,
                |s| (s.exp() - (-s).exp()) / 2.0,
            ],
            ANY,
        ),
        (
            "cosh",
            (m_cosh, m_cosh_grad, m_cosh_value_and_grad, m_cosh_hvp),
            [
                |s| (s.exp() + (-s).exp()) / 2.0,
                |s| (s.exp() - (-s).exp()) / 2.0,
                |s| (s.exp() + (-s).exp()) / 2.0,
            ],
            ANY,
        ),
        (
            "cbrt",
            (m_cbrt, m_cbrt_grad, m_cbrt_value_and_grad, m_cbrt_hvp),
            [
                |s| s.signum() * s.abs().powf(1.0 / 3.0),
                |s| s.abs().powf(-2.0 / 3.0) / 3.0,
                |s| -2.0 / 9.0 * s.signum() * s.abs().powf(-5.0 / 3.0),
            ],
            NONZERO,
        ),
    ]
}

#[test]
fn scalar_functions_match_their_derivatives_from_calculus() {
    for (name, (original, grad, value_and_grad, hvp), [f, d1, d2], points) in cases() {
        for &s in points {
            let check = |actual: f64, expected: f64, what: &str| {
                assert!(
                    (actual - expected).abs() <= 1e-10 * expected.abs().max(1.0),
                    "{name} at {s}: {what}: actual {actual:e}, expected {expected:e}"
                );
            };
            check(original(s), f(s), "value");
            check(grad(s), d1(s), "first derivative");
            let (value, g) = value_and_grad(s);
            assert_eq!(value.to_bits(), original(s).to_bits(), "{name}: same value");
            check(g, d1(s), "value_and_grad gradient");
            for v in [1.0, -0.7, 2.5] {
                check(hvp(s, v), d2(s) * v, "second derivative");
            }
        }
    }
}

#[test]
fn scalar_functions_match_finite_differences() {
    let mut rng = Rng::new(23);
    for (_, (original, grad, value_and_grad, hvp), _, points) in cases() {
        for &s in points {
            // Finite differences need room on both sides of the point: away from the poles
            // at ±1 (`INTERIOR`) and 0 (`POSITIVE`, `NONZERO`), which the exact check covers.
            let near_pole = if points == INTERIOR {
                s.abs() >= 0.9
            } else {
                points != ANY && s.abs() < 0.2
            };
            if near_pole {
                continue;
            }
            full_check(
                |x: &f64| original(*x),
                |x: &f64| grad(*x),
                |x: &f64| value_and_grad(*x),
                |x: &f64, v: &f64| hvp(*x, *v),
                &s,
                &mut rng,
                TOL,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Functions written as people write them
// ---------------------------------------------------------------------------------------------

/// The logistic-regression loss `Σ softplus(−yᵢ wᵀxᵢ)`, with the stable softplus
/// `softplus(z) = max(z, 0) + ln(1 + e^{−|z|})`.
#[differentiate(wrt = w)]
fn logistic_loss(w: &Vector3<f64>, xs: &Matrix2x3<f64>, ys: &Vector2<f64>) -> f64 {
    let mut loss = 0.0;
    for i in 0..2 {
        let z = -ys[i] * xs.row(i).transpose().dot(w);
        loss += z.max(0.0) + (-z.abs()).exp().ln_1p();
    }
    loss
}

/// `ln(eᵃ + eᵇ)` of two scores, stably: `max + ln(1 + e^{−|a − b|})`, plus the "soft
/// relative change" `(e^{a−b} − 1)` written with `exp_m1`.
#[differentiate(wrt = x)]
fn log_add_exp(x: &Vector2<f64>) -> f64 {
    let (a, b) = (x[0], x[1]);
    let m = a.max(b);
    m + (-(a - b).abs()).exp().ln_1p() + 0.1 * (a - b).exp_m1()
}

/// The inverse softplus `ln(eᵗ − 1)` of positive rates, summed: `Σ ln(expm1(tᵢ))`.
#[differentiate(wrt = t)]
fn inverse_softplus(t: &Vector3<f64>) -> f64 {
    t.iter().map(|&ti| ti.exp_m1().ln()).sum()
}

/// A robust regression cost: `Σ c² · atan((rᵢ / c)²)` of the residuals `r = A x − b`, which
/// grows as `r²` for small residuals and is bounded for outliers.
#[differentiate(wrt = x)]
fn arctan_loss(x: &Vector2<f64>, a: &Matrix2x3<f64>, b: &Vector3<f64>) -> f64 {
    let r = a.transpose() * x - b;
    let c = 0.8;
    let mut cost = 0.0;
    for i in 0..3 {
        cost += c * c * ((r[i] / c).powi(2)).atan();
    }
    cost
}

/// The signal-to-noise ratio in decibels, `10 log₁₀(‖s‖² / σ²)`, and the entropy in bits
/// `−Σ pᵢ log₂ pᵢ` of the normalised squares `pᵢ = sᵢ² / ‖s‖²`.
#[differentiate(wrt = s)]
fn decibels_and_bits(s: &Vector3<f64>, noise: f64) -> f64 {
    let power = s.norm_squared();
    let snr_db = 10.0 * (power / (noise * noise)).log10();
    let mut bits = 0.0;
    for i in 0..3 {
        let p = s[i] * s[i] / power;
        bits -= p * p.log2();
    }
    snr_db + bits
}

/// The great-circle distance between two points given by (latitude, longitude) in radians,
/// by the haversine formula `2 R asin(√h)`.
#[differentiate(wrt = (p, q))]
fn haversine(p: &Vector2<f64>, q: &Vector2<f64>) -> f64 {
    let radius = 6371.0;
    let dlat = q[0] - p[0];
    let dlon = q[1] - p[1];
    let h = (dlat / 2.0).sin().powi(2) + p[0].cos() * q[0].cos() * (dlon / 2.0).sin().powi(2);
    2.0 * radius * h.sqrt().asin()
}

/// The angle between two vectors by `acos` of their cosine (away from parallel vectors).
#[differentiate(wrt = a)]
fn angle_by_acos(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    let cosine = a.dot(b) / (a.norm() * b.norm());
    cosine.acos()
}

/// The length of a hanging cable (a catenary `y = c cosh(x / c)`) between `x = −l` and
/// `x = l`, `2 c sinh(l / c)`, plus its sag `c (cosh(l / c) − 1)`.
#[differentiate(wrt = p)]
fn catenary(p: &Vector2<f64>) -> f64 {
    let (c, l) = (p[0], p[1]);
    2.0 * c * (l / c).sinh() + c * ((l / c).cosh() - 1.0)
}

/// The geometric mean of three positive sizes (the side of a cube of the same volume),
/// `∛(abc)`, against the arithmetic mean.
#[differentiate(wrt = x)]
fn cube_side(x: &Vector3<f64>) -> f64 {
    let side = (x[0] * x[1] * x[2]).cbrt();
    (x.sum() / 3.0 - side).powi(2) + side
}

/// A heading error: the angle of the direction from `p` to a target, against a desired
/// heading, wrapped by `atan2(sin, cos)` to `(−π, π]`.
#[differentiate(wrt = p)]
fn heading_error(p: &Vector2<f64>, target: &Vector2<f64>, desired: f64) -> f64 {
    let d = target - p;
    let heading = d[1].atan2(d[0]);
    let e = heading - desired;
    f64::atan2(e.sin(), e.cos()).powi(2)
}

/// The perimeter of the polygon through the points, each side measured with `hypot`.
#[differentiate(wrt = xs)]
fn perimeter(xs: &SVector<f64, 8>) -> f64 {
    let mut length = 0.0;
    for k in 0..4 {
        let next = (k + 1) % 4;
        let dx = xs[2 * next] - xs[2 * k];
        let dy = xs[2 * next + 1] - xs[2 * k + 1];
        length += dx.hypot(dy);
    }
    length
}

/// The signed square root `sign(x) √|x|` of each entry, a variance-stabilising transform,
/// through `copysign`; its derivative is `1 / (2 √|x|)` on both sides.
#[differentiate(wrt = x)]
fn signed_sqrt(x: &Vector3<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..3 {
        total += x[i].abs().sqrt().copysign(x[i]) * (i as f64 + 1.0);
    }
    total
}

/// A magnitude that takes its sign from another value: `∂/∂sign = 0` where it does not flip.
#[differentiate(wrt = (magnitude, sign))]
fn copysign_both(magnitude: f64, sign: f64) -> f64 {
    magnitude.copysign(sign) * sign + magnitude.powi(2)
}

/// A cubic `c₃x³ + c₂x² + c₁x + c₀` by Horner's rule with fused multiply-adds.
#[differentiate(wrt = (c, x))]
fn horner(c: &SVector<f64, 4>, x: f64) -> f64 {
    let p = c[3].mul_add(x, c[2]);
    let p = p.mul_add(x, c[1]);
    f64::mul_add(p, x, c[0])
}

#[test]
fn functions_written_with_the_new_scalar_methods_match_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let xs = rng.matrix::<2, 3>();
        let ys = Vector2::new(1.0, -1.0);
        let w = rng.matrix::<3, 1>();
        check_fn!(logistic_loss, logistic_loss_grad, logistic_loss_value_and_grad,
            logistic_loss_hvp; |x, v| (x, &xs, &ys); (v); at &w, &mut rng, TOL);

        // Away from the kink of max and |a − b| at a = b.
        let mut x = rng.matrix::<2, 1>();
        if (x[0] - x[1]).abs() < 0.2 {
            x[0] += 0.5;
        }
        check_fn!(log_add_exp, log_add_exp_grad, log_add_exp_value_and_grad, log_add_exp_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);

        let t = rng.matrix::<3, 1>().map(|u| 0.2 + u.abs());
        check_fn!(inverse_softplus, inverse_softplus_grad, inverse_softplus_value_and_grad,
            inverse_softplus_hvp; |x, v| (x); (v); at &t, &mut rng, TOL);

        let (x, a, b) = (
            rng.matrix::<2, 1>(),
            rng.matrix::<2, 3>(),
            rng.matrix::<3, 1>(),
        );
        check_fn!(arctan_loss, arctan_loss_grad, arctan_loss_value_and_grad, arctan_loss_hvp;
            |x, v| (x, &a, &b); (v); at &x, &mut rng, TOL);

        let s = rng.matrix::<3, 1>().map(|u| u.signum() * (0.3 + u.abs()));
        check_fn!(decibels_and_bits, decibels_and_bits_grad, decibels_and_bits_value_and_grad,
            decibels_and_bits_hvp; |x, v| (x, 0.05); (v); at &s, &mut rng, TOL);

        // Two points on the sphere a few hundred kilometres apart.
        let p = Vector2::new(0.7, 0.2) + rng.matrix::<2, 1>() * 0.1;
        let q = Vector2::new(0.75, 0.3) + rng.matrix::<2, 1>() * 0.1;
        check_fn!(haversine, haversine_grad, haversine_value_and_grad, haversine_hvp;
            |x, v| (&x.0, &x.1); (&v.0, &v.1); at &(p, q), &mut rng, TOL);

        let (a, b) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(angle_by_acos, angle_by_acos_grad, angle_by_acos_value_and_grad,
            angle_by_acos_hvp; |x, v| (x, &b); (v); at &a, &mut rng, TOL);

        let p = Vector2::new(2.0 + rng.uniform(), 1.0 + 0.5 * rng.uniform());
        check_fn!(catenary, catenary_grad, catenary_value_and_grad, catenary_hvp;
            |x, v| (x); (v); at &p, &mut rng, TOL);

        let sizes = rng.matrix::<3, 1>().map(|u| 0.5 + u.abs());
        check_fn!(cube_side, cube_side_grad, cube_side_value_and_grad, cube_side_hvp;
            |x, v| (x); (v); at &sizes, &mut rng, TOL);

        let (p, target) = (rng.matrix::<2, 1>(), rng.matrix::<2, 1>() * 3.0);
        check_fn!(heading_error, heading_error_grad, heading_error_value_and_grad,
            heading_error_hvp; |x, v| (x, &target, 0.3); (v); at &p, &mut rng, TOL);

        let square = SVector::<f64, 8>::from_column_slice(&[0., 0., 1., 0., 1., 1., 0., 1.]);
        let points = square + rng.matrix::<8, 1>() * 0.1;
        check_fn!(perimeter, perimeter_grad, perimeter_value_and_grad, perimeter_hvp;
            |x, v| (x); (v); at &points, &mut rng, TOL);

        let x = rng.matrix::<3, 1>().map(|u| u.signum() * (0.3 + u.abs()));
        check_fn!(signed_sqrt, signed_sqrt_grad, signed_sqrt_value_and_grad, signed_sqrt_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);

        let both = (
            rng.uniform(),
            rng.uniform().signum() * (0.2 + rng.uniform().abs()),
        );
        check_fn!(copysign_both, copysign_both_grad, copysign_both_value_and_grad,
            copysign_both_hvp; |x, v| (x.0, x.1); (v.0, v.1); at &both, &mut rng, TOL);

        let c = rng.matrix::<4, 1>();
        let at = (c, rng.uniform() * 2.0);
        check_fn!(horner, horner_grad, horner_value_and_grad, horner_hvp;
            |x, v| (&x.0, x.1); (&v.0, v.1); at &at, &mut rng, TOL);
    }
}

/// The conventions written in the docs, at the points where they decide.
#[test]
fn two_argument_functions_follow_their_documented_conventions() {
    // copysign: the derivative in the magnitude is ±1, the branch taken, at ±0 too; 0 in the
    // sign source (here `sign · copysign(m, sign)` leaves `copysign(m, sign)` as ∂/∂sign).
    let (dm, ds) = copysign_both_grad(0.0, 2.0);
    assert_eq!((dm, ds), (2.0, 0.0));
    let (dm, ds) = copysign_both_grad(-0.0, 2.0);
    assert_eq!((dm, ds), (-2.0, 0.0));
    let (dm, ds) = copysign_both_grad(1.5, -2.0);
    // ∂/∂m of copysign(m, s)·s + m² = −1 · (−2) + 3; ∂/∂s = copysign(1.5, −2) = −1.5.
    assert_scalar_close(dm, 5.0, 1e-15);
    assert_scalar_close(ds, -1.5, 1e-15);
    // mul_add keeps its single rounding in every generated function.
    let c = SVector::<f64, 4>::new(0.1, 0.2, 0.3, 0.4);
    let x = 1.0 / 3.0;
    let exact = 0.4f64.mul_add(x, 0.3).mul_add(x, 0.2).mul_add(x, 0.1);
    assert_eq!(horner(&c, x).to_bits(), exact.to_bits());
    assert_eq!(horner_value_and_grad(&c, x).0.to_bits(), exact.to_bits());
    // ∂/∂c = (1, x, x², x³), ∂/∂x = 3c₃x² + 2c₂x + c₁.
    let (gc, gx) = horner_grad(&c, x);
    let expected = SVector::<f64, 4>::new(1.0, x, x * x, x * x * x);
    assert!((gc - expected).norm() < 1e-15, "{gc:?}");
    assert_scalar_close(gx, 3.0 * 0.4 * x * x + 2.0 * 0.3 * x + 0.2, 1e-15);
}

/// `hypot` and `atan2` at the origin: the value is the user's (`hypot(0, 0) = 0`), the
/// derivative is taken as 0 (as `.norm()`'s), never NaN.
#[differentiate(wrt = p)]
fn polar(p: &Vector2<f64>) -> f64 {
    p[0].hypot(p[1]) + p[1].atan2(p[0])
}

#[test]
fn hypot_and_atan2_are_finite_at_the_origin_and_exact_elsewhere() {
    let origin = Vector2::zeros();
    assert_eq!(polar_grad(&origin), Vector2::zeros());
    assert_eq!(
        polar_hvp(&origin, &Vector2::new(1.0, 2.0)),
        Vector2::zeros()
    );
    // Far from the origin, where `√(x² + y²)` overflows and `hypot` does not.
    let big = Vector2::new(3e200, 4e200);
    let (value, grad) = polar_value_and_grad(&big);
    assert_eq!(value, big[0].hypot(big[1]) + big[1].atan2(big[0]));
    // ∇ hypot = p / ‖p‖ = (0.6, 0.8); ∇ atan2 = (−y, x) / ‖p‖², negligible here.
    assert!((grad - Vector2::new(0.6, 0.8)).norm() < 1e-15, "{grad:?}");
    let mut rng = Rng::new(5);
    for _ in 0..5 {
        let p = rng.matrix::<2, 1>();
        check_fn!(polar, polar_grad, polar_value_and_grad, polar_hvp;
            |x, v| (x); (v); at &p, &mut rng, TOL);
    }
}

/// The new functions by path inside a matrix `.map`: `Σ atan(xᵢ) + Σ sinh(xᵢ)`.
#[differentiate(wrt = x)]
fn mapped_paths(x: &Vector3<f64>) -> f64 {
    x.map(f64::atan).sum() + x.map(f64::sinh).sum() + x.map(|t| t.ln_1p().cosh()).sum()
}

#[test]
fn new_functions_by_path_in_map() {
    let mut rng = Rng::new(9);
    for _ in 0..5 {
        let x = rng.matrix::<3, 1>().map(|u| 0.9 * u.clamp(-1.0, 1.0));
        check_fn!(mapped_paths, mapped_paths_grad, mapped_paths_value_and_grad,
            mapped_paths_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

/// A norm without overflow, as numerical code writes it: `hypot` folded over the entries.
#[differentiate(wrt = x)]
fn folded_hypot(x: &SVector<f64, 5>) -> f64 {
    x.iter().copied().fold(0.0, f64::hypot) + x.iter().fold(0.0f64, |acc, &t| acc.hypot(2.0 * t))
}

#[test]
fn hypot_folds_match_finite_differences_and_the_norm() {
    let mut rng = Rng::new(13);
    for _ in 0..5 {
        let x = rng.matrix::<5, 1>();
        check_fn!(folded_hypot, folded_hypot_grad, folded_hypot_value_and_grad,
            folded_hypot_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        // ∇ 3‖x‖ = 3 x / ‖x‖.
        let expected = x * (3.0 / x.norm());
        let grad = folded_hypot_grad(&x);
        assert!((grad - expected).norm() < 1e-13, "{grad:?}");
    }
}

/// The float constants people write: a log guarded by `EPSILON`, a running maximum from
/// `NEG_INFINITY`, a clamp at `MAX` and `MIN_POSITIVE`.
#[differentiate(wrt = x)]
fn guarded_log_max(x: &Vector3<f64>) -> f64 {
    let mut largest = f64::NEG_INFINITY;
    for i in 0..3 {
        largest = largest.max(x[i]);
    }
    let tiny = f64::MIN_POSITIVE.max(f64::EPSILON);
    (x.norm_squared() + f64::EPSILON).ln() + largest.min(f64::MAX) + tiny * x[0] + f64::MIN * 0.0
}

#[test]
fn float_constants() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x: Vector3<f64> = rng.matrix::<3, 1>();
        full_check(
            guarded_log_max,
            guarded_log_max_grad,
            guarded_log_max_value_and_grad,
            guarded_log_max_hvp,
            &x,
            &mut rng,
            TOL,
        );
        // By hand: 2x / (‖x‖² + ε) + e_argmax + ε e₀.
        let k = (0..3).fold(0, |k, i| if x[i] > x[k] { i } else { k });
        let mut expected = 2.0 * x / (x.norm_squared() + f64::EPSILON);
        expected[k] += 1.0;
        expected[0] += f64::EPSILON;
        assert!((guarded_log_max_grad(&x) - expected).amax() < 1e-12);
    }
}
