//! The element-wise matrix methods and reductions (`add_scalar`, `abs`, `amax`, `mean`,
//! `product`, `zip_map`, `apply`, `component_mul_assign`, `kronecker`) and the geometry
//! methods (`cross`, `normalize`, `angle`), in functions written as people write them:
//! against central finite differences of the function (`check_all`: gradient,
//! Hessian-vector product, Hessian symmetry), and against closed forms from calculus where
//! the point is one a finite difference cannot judge (a zero entry of a product, a zero
//! vector in `angle`).

mod common;

use common::{assert_close, assert_scalar_close, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, Matrix3, RowVector3, SMatrix, SVector, Vector3, Vector4};
use matdiff::runtime::Rng;

// ---------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------

/// How far a triangle's unit normal is from a target direction: the normal is the
/// normalised cross product of two edges, as a mesh code computes it.
#[differentiate(wrt = (a, b, c))]
fn normal_alignment(
    a: &Vector3<f64>,
    b: &Vector3<f64>,
    c: &Vector3<f64>,
    up: &Vector3<f64>,
) -> f64 {
    let normal = (b - a).cross(&(c - a)).normalize();
    (normal - up).norm_squared()
}

/// Twice the triangle's area, `‖(b − a) × (c − a)‖`, and the torque `r × f` of a force.
#[differentiate(wrt = (r, f))]
fn torque_energy(r: &Vector3<f64>, f: &Vector3<f64>) -> f64 {
    let torque = r.cross(f);
    0.5 * torque.norm_squared() + torque[2]
}

/// The squared error between the angle of two vectors and a target angle.
#[differentiate(wrt = a)]
fn angle_error(a: &Vector3<f64>, b: &Vector3<f64>, target: f64) -> f64 {
    (a.angle(b) - target).powi(2)
}

/// A direction's projection on a fixed axis, through `normalize`, on a 2x3 matrix too.
#[differentiate(wrt = (x, m))]
fn normalized_projections(x: &Vector3<f64>, m: &SMatrix<f64, 2, 3>, axis: &Vector3<f64>) -> f64 {
    x.normalize().dot(axis) + m.normalize()[(1, 2)] * 3.0
}

#[test]
fn geometry_matches_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (a, b, c) = (
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        let up = Vector3::new(0.0, 0.0, 1.0);
        check_fn!(normal_alignment, normal_alignment_grad, normal_alignment_value_and_grad,
            normal_alignment_hvp; |x, v| (&x.0, &x.1, &x.2, &up); (&v.0, &v.1, &v.2);
            at &(a, b, c), &mut rng, TOL);

        let (r, f) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(torque_energy, torque_energy_grad, torque_energy_value_and_grad,
            torque_energy_hvp; |x, v| (&x.0, &x.1); (&v.0, &v.1); at &(r, f), &mut rng, TOL);

        let (a, b) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(angle_error, angle_error_grad, angle_error_value_and_grad, angle_error_hvp;
            |x, v| (x, &b, 0.7); (v); at &a, &mut rng, TOL);

        let (x, m, axis) = (
            rng.matrix::<3, 1>(),
            rng.matrix::<2, 3>(),
            rng.matrix::<3, 1>(),
        );
        check_fn!(normalized_projections, normalized_projections_grad,
            normalized_projections_value_and_grad, normalized_projections_hvp;
            |x, v| (&x.0, &x.1, &axis); (&v.0, &v.1); at &(x, m), &mut rng, TOL);
    }
}

/// The rules of MATH.md, by value: `∇ₐ <a × b, w> = b × w`, `∇_b = w × a`, and for
/// `y = x / ‖x‖`, `∇ <y, w> = (w − y <y, w>) / ‖x‖`.
#[differentiate(wrt = (a, b))]
fn cross_along(a: &Vector3<f64>, b: &Vector3<f64>, w: &Vector3<f64>) -> f64 {
    a.cross(b).dot(w)
}

/// The cross product of row vectors, which nalgebra supports as well.
#[differentiate(wrt = (a, b))]
fn row_cross_along(a: &RowVector3<f64>, b: &RowVector3<f64>, w: &RowVector3<f64>) -> f64 {
    a.cross(b).dot(w)
}

#[differentiate(wrt = x)]
fn normalize_along(x: &Vector3<f64>, w: &Vector3<f64>) -> f64 {
    x.normalize().dot(w)
}

#[test]
fn cross_and_normalize_follow_the_rules_of_math_md() {
    let mut rng = Rng::new(3);
    for _ in 0..5 {
        let (a, b, w) = (
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        let (ga, gb) = cross_along_grad(&a, &b, &w);
        assert_close(&ga, &b.cross(&w), 1e-14);
        assert_close(&gb, &w.cross(&a), 1e-14);
        // The value is nalgebra's, bit for bit (the entries are the same products).
        assert_eq!(
            cross_along_value_and_grad(&a, &b, &w).0,
            cross_along(&a, &b, &w)
        );
        let (ra, rb, rw) = (a.transpose(), b.transpose(), w.transpose());
        let (ga, gb) = row_cross_along_grad(&ra, &rb, &rw);
        assert_close(&ga, &rb.cross(&rw), 1e-14);
        assert_close(&gb, &rw.cross(&ra), 1e-14);
        assert_eq!(
            row_cross_along(&ra, &rb, &rw),
            row_cross_along_value_and_grad(&ra, &rb, &rw).0
        );
        let y = a / a.norm();
        assert_close(
            &normalize_along_grad(&a, &w),
            &((w - y * y.dot(&w)) / a.norm()),
            1e-14,
        );
        assert_eq!(
            normalize_along(&a, &w),
            normalize_along_value_and_grad(&a, &w).0
        );
    }
}

/// nalgebra's `angle`: 0 for a zero vector (and so a zero gradient there), and the value
/// of `acos` of the clamped cosine elsewhere, equal to nalgebra's up to rounding.
#[differentiate(wrt = a)]
fn plain_angle(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    a.angle(b)
}

/// `angle` next to the user's own `prod`, `n1` and `n2`, the names nalgebra's code uses:
/// each keeps its value.
#[differentiate(wrt = a)]
fn angle_among_names(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    let prod = 2.0;
    let n1 = a.norm();
    let n2 = b.norm_squared();
    let theta = a.angle(b);
    theta * prod + n1 + n2
}

#[test]
fn angle_keeps_the_users_names() {
    let mut rng = Rng::new(8);
    let (a, b) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
    let expected = 2.0 * a.angle(&b) + a.norm() + b.norm_squared();
    assert_scalar_close(angle_among_names_value_and_grad(&a, &b).0, expected, 1e-12);
    check_fn!(angle_among_names, angle_among_names_grad, angle_among_names_value_and_grad,
        angle_among_names_hvp; |x, v| (x, &b); (v); at &a, &mut rng, TOL);
}

#[test]
fn angle_is_nalgebras_and_its_gradient_is_the_calculus_one() {
    let mut rng = Rng::new(11);
    for _ in 0..10 {
        let (a, b) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        let (value, grad) = plain_angle_value_and_grad(&a, &b);
        assert_scalar_close(value, plain_angle(&a, &b), 1e-12);
        // θ = acos(c), c = <a, b> / (‖a‖ ‖b‖): ∇ₐθ = −(b / (‖a‖ ‖b‖) − c a / ‖a‖²) / √(1 − c²).
        let c = a.dot(&b) / (a.norm() * b.norm());
        let expected =
            -(b / (a.norm() * b.norm()) - a * (c / a.norm_squared())) / (1.0 - c * c).sqrt();
        assert_close(&grad, &expected, 1e-10);
    }
    let b = Vector3::new(1.0, 2.0, 3.0);
    let zero = Vector3::zeros();
    assert_eq!(
        plain_angle_value_and_grad(&zero, &b),
        (0.0, Vector3::zeros())
    );
    assert_eq!(plain_angle_hvp(&zero, &b, &b), Vector3::zeros());
    assert_eq!(plain_angle_grad(&b, &zero), Vector3::zeros());
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

/// The sample variance, written with `mean` and `add_scalar`: `‖x − x̄ 1‖² / (n − 1)`.
#[differentiate(wrt = x)]
fn variance(x: &SVector<f64, 5>) -> f64 {
    let centered = x.add_scalar(-x.mean());
    centered.norm_squared() / 4.0
}

/// The mean and the product of a vector of const-generic length, and a shifted log-sum.
#[differentiate(wrt = x)]
fn generic_mean<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let shifted = x.add_scalar(2.0);
    x.mean().powi(2) + shifted.map(|t| t.ln()).mean() + x.map(|t| 1.0 + 0.1 * t).product()
}

/// The elastic-net penalty `λ₁ ‖x‖₁ + λ∞ ‖x‖∞` of a weight matrix, with `abs` and `amax`.
#[differentiate(wrt = w)]
fn elastic_penalty(w: &Matrix3<f64>, lambda: f64) -> f64 {
    lambda * w.abs().sum() + 0.5 * w.amax() + w.abs().map(|t| t * t).sum()
}

/// The geometric mean of positive rates through `product`, `(Π xᵢ)^(1/n)`.
#[differentiate(wrt = x)]
fn geometric_mean(x: &Vector4<f64>) -> f64 {
    x.product().powf(0.25)
}

/// A product of entries, for the checks at a zero entry.
#[differentiate(wrt = x)]
fn entry_product(x: &Vector4<f64>) -> f64 {
    x.product()
}

/// The product of the entries of a long vector: a loop, not unrolled.
#[differentiate(wrt = x)]
fn long_product(x: &SVector<f64, 80>) -> f64 {
    x.map(|t| 1.0 + 0.01 * t).product()
}

#[test]
fn reductions_match_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<5, 1>();
        check_fn!(variance, variance_grad, variance_value_and_grad, variance_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        let x = rng.matrix::<6, 1>().map(|t| t.clamp(-1.5, 1.5));
        check_fn!(generic_mean, generic_mean_grad, generic_mean_value_and_grad,
            generic_mean_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        // Entries away from 0 (the kink of abs) with one clear largest |entry|.
        let mut w = rng.matrix::<3, 3>().map(|t| t.signum() * (0.3 + t.abs()));
        w[(1, 2)] = -4.0;
        check_fn!(elastic_penalty, elastic_penalty_grad, elastic_penalty_value_and_grad,
            elastic_penalty_hvp; |x, v| (x, 0.1); (v); at &w, &mut rng, TOL);
        let x = rng.matrix::<4, 1>().map(|t| 0.5 + t.abs());
        check_fn!(geometric_mean, geometric_mean_grad, geometric_mean_value_and_grad,
            geometric_mean_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let x = rng.matrix::<4, 1>();
        check_fn!(entry_product, entry_product_grad, entry_product_value_and_grad,
            entry_product_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let x = rng.matrix::<80, 1>();
        check_fn!(long_product, long_product_grad, long_product_value_and_grad,
            long_product_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

#[test]
fn reductions_are_nalgebras() {
    let mut rng = Rng::new(2);
    let x = rng.matrix::<5, 1>();
    let mean = x.mean();
    let expected: f64 = x.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / 4.0;
    assert_scalar_close(variance(&x), expected, 1e-14);
    assert_scalar_close(variance_value_and_grad(&x).0, expected, 1e-14);
    // ∇ variance = 2 (x − x̄) / (n − 1).
    assert_close(&variance_grad(&x), &(x.add_scalar(-mean) * 0.5), 1e-14);
    let x = Vector4::new(0.5, 1.5, 2.0, 3.0);
    assert_eq!(entry_product_value_and_grad(&x).0, x.product());
    let w = Matrix3::new(1.0, -5.0, 2.0, 0.5, 3.0, -1.0, 2.0, 1.0, 4.0);
    // λ sign(w) + ½ e₀₁ sign(w₀₁) + 2 w.
    let mut expected = w.map(|t: f64| 0.1 * t.signum()) + w * 2.0;
    expected[(0, 1)] -= 0.5;
    assert_close(&elastic_penalty_grad(&w, 0.1), &expected, 1e-14);
    assert_eq!(
        elastic_penalty(&w, 0.1),
        elastic_penalty_value_and_grad(&w, 0.1).0
    );
}

/// The gradient of a product is finite and right where an entry is 0 (the reverse sweep
/// multiplies prefix and suffix products; it never divides by the product): `∂/∂xₖ = Π_{j≠k}
/// xⱼ`, and the Hessian is `H_kl = Π_{j≠k,l} xⱼ` off the diagonal, 0 on it.
#[test]
fn product_gradient_and_hessian_at_zero_entries() {
    let leave_out = |x: &Vector4<f64>, skip: &[usize]| -> f64 {
        (0..4).filter(|j| !skip.contains(j)).map(|j| x[j]).product()
    };
    for x in [
        Vector4::new(0.0, 2.0, 3.0, 5.0),
        Vector4::new(2.0, 0.0, 0.0, 5.0),
        Vector4::new(1.5, -2.0, 0.0, 0.5),
    ] {
        let grad = entry_product_grad(&x);
        let expected = Vector4::from_fn(|k, _| leave_out(&x, &[k]));
        assert_eq!(grad, expected);
        for k in 0..4 {
            let e = Vector4::from_fn(|i, _| if i == k { 1.0 } else { 0.0 });
            let column = entry_product_hvp(&x, &e);
            let expected =
                Vector4::from_fn(|l, _| if l == k { 0.0 } else { leave_out(&x, &[k, l]) });
            assert_eq!(column, expected, "Hessian column {k} at {x:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Element-wise maps and updates
// ---------------------------------------------------------------------------------------------

/// A Huber loss of predictions against targets with `zip_map`; the closure reads `delta`
/// from the function around it.
#[differentiate(wrt = pred)]
fn huber_zip(pred: &SVector<f64, 6>, target: &SVector<f64, 6>, delta: f64) -> f64 {
    let losses = pred.zip_map(target, |p, t| {
        let r = p - t;
        if r.abs() <= delta {
            0.5 * r * r
        } else {
            delta * (r.abs() - 0.5 * delta)
        }
    });
    losses.sum()
}

/// A weighted log-likelihood by `zip_map` on a long vector (a loop over the entries), with a
/// const-generic length, differentiated in both arguments.
#[differentiate(wrt = (logits, weights))]
fn weighted_softplus<const N: usize>(logits: &SVector<f64, N>, weights: &SVector<f64, N>) -> f64 {
    let scale = 0.5;
    logits
        .zip_map(weights, |z: f64, w: f64| w * w * (scale * z).exp().ln_1p())
        .sum()
}

/// A layer `tanh(W x + b)` with the activation applied in place, then scaled in place by a
/// value read from outside the closure, then gated entry-wise in place.
#[differentiate(wrt = w)]
fn layer_in_place(
    w: &SMatrix<f64, 3, 4>,
    x: &Vector4<f64>,
    b: &Vector3<f64>,
    gate: &Vector3<f64>,
) -> f64 {
    let mut h = w * x + b;
    h.apply(|t| *t = t.tanh());
    let scale = 1.0 + x[0] * x[0];
    h.apply(|t| *t *= scale);
    h.component_mul_assign(gate);
    h.norm_squared()
}

/// `apply` with a block body and `+=` on a long vector (a loop), reading a parameter.
#[differentiate(wrt = (v, shift))]
fn shifted_squares(v: &SVector<f64, 70>, shift: f64) -> f64 {
    let mut u = *v;
    u.apply(|t| {
        *t += shift * shift;
    });
    u.apply(|e: &mut f64| *e = (*e).powi(2));
    u.sum()
}

#[test]
fn elementwise_maps_and_updates_match_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let target = rng.matrix::<6, 1>();
        // Residuals away from the switch at |r| = δ.
        let pred = target
            + rng
                .matrix::<6, 1>()
                .map(|t| t.signum() * if t.abs() < 0.5 { 0.2 } else { 1.5 });
        check_fn!(huber_zip, huber_zip_grad, huber_zip_value_and_grad, huber_zip_hvp;
            |x, v| (x, &target, 0.8); (v); at &pred, &mut rng, TOL);

        let at = (rng.matrix::<90, 1>(), rng.matrix::<90, 1>());
        check_fn!(weighted_softplus, weighted_softplus_grad, weighted_softplus_value_and_grad,
            weighted_softplus_hvp; |x, v| (&x.0, &x.1); (&v.0, &v.1); at &at, &mut rng, TOL);

        let (w, input, b, gate) = (
            rng.matrix::<3, 4>(),
            rng.matrix::<4, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        check_fn!(layer_in_place, layer_in_place_grad, layer_in_place_value_and_grad,
            layer_in_place_hvp; |x, v| (x, &input, &b, &gate); (v); at &w, &mut rng, TOL);

        let at = (rng.matrix::<70, 1>(), rng.uniform());
        check_fn!(shifted_squares, shifted_squares_grad, shifted_squares_value_and_grad,
            shifted_squares_hvp; |x, v| (&x.0, x.1); (&v.0, v.1); at &at, &mut rng, TOL);
    }
}

#[test]
fn elementwise_values_are_the_users() {
    let mut rng = Rng::new(4);
    let (w, b, gate) = (
        rng.matrix::<3, 4>(),
        rng.matrix::<3, 1>(),
        rng.matrix::<3, 1>(),
    );
    let x = Vector4::new(0.3, -1.2, 0.8, 0.5);
    let mut h = w * x + b;
    h.apply(|t| *t = t.tanh());
    h.apply(|t| *t *= 1.0 + x[0] * x[0]);
    h.component_mul_assign(&gate);
    assert_eq!(layer_in_place(&w, &x, &b, &gate), h.norm_squared());
    assert_eq!(
        layer_in_place_value_and_grad(&w, &x, &b, &gate).0,
        h.norm_squared()
    );
    // ∇_W ‖s g ∘ tanh(W x + b)‖² = 2 s² (g² ∘ tanh ∘ (1 − tanh²)) xᵀ.
    let s = 1.0 + x[0] * x[0];
    let t = (w * x + b).map(f64::tanh);
    let outer = gate
        .component_mul(&gate)
        .component_mul(&t)
        .zip_map(&t, |a, t| a * (1.0 - t * t));
    assert_close(
        &layer_in_place_grad(&w, &x, &b, &gate),
        &(outer * x.transpose() * (2.0 * s * s)),
        1e-13,
    );
}

// ---------------------------------------------------------------------------------------------
// Kronecker products
// ---------------------------------------------------------------------------------------------

/// A quadratic form with Kronecker structure, `½ xᵀ (A ⊗ B) x + cᵀx`, as a separable
/// covariance gives.
#[differentiate(wrt = (x, a))]
fn kronecker_quadratic(
    x: &Vector4<f64>,
    a: &Matrix2<f64>,
    b: &Matrix2<f64>,
    c: &Vector4<f64>,
) -> f64 {
    let k = a.kronecker(b);
    0.5 * x.dot(&(k * x)) + c.dot(x)
}

/// A Kronecker product of non-square factors, `‖(A ⊗ B) − T‖²`.
#[differentiate(wrt = (a, b))]
fn kronecker_fit(a: &SMatrix<f64, 2, 3>, b: &SMatrix<f64, 3, 2>, t: &SMatrix<f64, 6, 6>) -> f64 {
    (a.kronecker(b) - t).norm_squared()
}

#[test]
fn kronecker_matches_finite_differences_and_its_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, a, b, c) = (
            rng.matrix::<4, 1>(),
            rng.matrix::<2, 2>(),
            rng.matrix::<2, 2>(),
            rng.matrix::<4, 1>(),
        );
        check_fn!(kronecker_quadratic, kronecker_quadratic_grad,
            kronecker_quadratic_value_and_grad, kronecker_quadratic_hvp;
            |x, v| (&x.0, &x.1, &b, &c); (&v.0, &v.1); at &(x, a), &mut rng, TOL);
        // ∇ₓ = ½ (K + Kᵀ) x + c with K = A ⊗ B.
        let k = a.kronecker(&b);
        let (gx, _) = kronecker_quadratic_grad(&x, &a, &b, &c);
        assert_close(&gx, &((k + k.transpose()) * x * 0.5 + c), 1e-14);
        assert_eq!(
            kronecker_quadratic(&x, &a, &b, &c),
            kronecker_quadratic_value_and_grad(&x, &a, &b, &c).0
        );

        let (a, b, t) = (
            rng.matrix::<2, 3>(),
            rng.matrix::<3, 2>(),
            rng.matrix::<6, 6>(),
        );
        check_fn!(kronecker_fit, kronecker_fit_grad, kronecker_fit_value_and_grad,
            kronecker_fit_hvp; |x, v| (&x.0, &x.1, &t); (&v.0, &v.1); at &(a, b), &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Inside loops, and in f32
// ---------------------------------------------------------------------------------------------

/// A recurrent cell run for 40 steps (a loop, not unrolled): each step combines the state
/// with an input by `zip_map`, squashes it in place with `apply`, and gates it.
#[differentiate(wrt = (w, h0))]
fn recurrent(
    w: &Matrix3<f64>,
    h0: &Vector3<f64>,
    input: &Vector3<f64>,
    gate: &Vector3<f64>,
) -> f64 {
    let mut h = *h0;
    for step in 0..40 {
        let decay = 1.0 / (1.0 + step as f64);
        h = (w * h).zip_map(input, |p, q| p + decay * q);
        h.apply(|t| *t = t.tanh());
        h.component_mul_assign(gate);
    }
    h.norm_squared() + h.mean()
}

/// The same vocabulary in an `f32` function.
#[differentiate(wrt = x)]
fn f32_vocabulary(x: &Vector3<f32>, y: &Vector3<f32>) -> f32 {
    let n = x.cross(y).normalize();
    let mut s = x.zip_map(y, |a, b| a.atan2(b) + a.hypot(b));
    s.apply(|t| *t = t.ln_1p().mul_add(2.0, 0.5));
    n[2] + s.mean() + x.abs().amax() + x.angle(y) + x.product().cbrt()
}

#[test]
fn vocabulary_in_loops_and_in_f32() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (w, h0, input, gate) = (
            rng.matrix::<3, 3>() * 0.5,
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        check_fn!(recurrent, recurrent_grad, recurrent_value_and_grad, recurrent_hvp;
            |x, v| (&x.0, &x.1, &input, &gate); (&v.0, &v.1); at &(w, h0), &mut rng, TOL);

        // Entries of one sign, away from the kinks of abs and amax and from a zero product.
        let x: Vector3<f32> =
            Vector3::new(0.6, 1.3, 0.9) + rng.matrix::<3, 1>().map(|t| 0.1 * t as f32);
        let y: Vector3<f32> =
            Vector3::new(-0.4, 0.8, 1.5) + rng.matrix::<3, 1>().map(|t| 0.1 * t as f32);
        common::full_check(
            |x: &Vector3<f32>| f32_vocabulary(x, &y),
            |x| f32_vocabulary_grad(x, &y),
            |x| f32_vocabulary_value_and_grad(x, &y),
            |x, v| f32_vocabulary_hvp(x, &y, v),
            &x,
            &mut rng,
            common::TOL_F32,
        );
    }
}
