//! Vector- and matrix-valued functions: `_jacobian` against central differences of the user's
//! function and against hand-derived Jacobians, `J vec(V) = vec(_jvp(V))`,
//! `Jᵀ vec(U) = vec(_vjp(U))`, the dot-product test `<jvp(V), U> = <V, vjp(U)>`; and the full
//! `_hessian` of scalar functions against columns of `_hvp`, differences of `_grad`, and its
//! exact symmetry. The functions are written as people write residuals: constructors, loops
//! over data, several parameters, matrices in and out.

mod common;

use common::SEEDS;
use matdiff::differentiate;
use matdiff::nalgebra::{DMatrix, Matrix2, Matrix2x3, SMatrix, SVector, Vector2, Vector3, Vector4};
use matdiff::runtime::Rng;

/// Central difference of `f` at `x` along every entry of `x`: the Jacobian in the
/// column-major `vec` convention.
fn fd_jacobian<const R: usize, const C: usize, const P: usize, const Q: usize>(
    f: impl Fn(&SMatrix<f64, R, C>) -> SMatrix<f64, P, Q>,
    x: &SMatrix<f64, R, C>,
) -> DMatrix<f64> {
    let mut j = DMatrix::zeros(P * Q, R * C);
    for k in 0..R * C {
        let h = 1e-6 * (1.0 + x[k].abs());
        let (mut plus, mut minus) = (*x, *x);
        plus[k] += h;
        minus[k] -= h;
        let column = (f(&plus) - f(&minus)) / (2.0 * h);
        for i in 0..P * Q {
            j[(i, k)] = column[i];
        }
    }
    j
}

fn dynamic<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> DMatrix<f64> {
    DMatrix::from_column_slice(R, C, m.as_slice())
}

#[track_caller]
fn assert_close(actual: &DMatrix<f64>, expected: &DMatrix<f64>, tol: f64) {
    let scale = expected.amax().max(1.0);
    let diff = (actual - expected).amax();
    assert!(
        diff <= tol * scale,
        "differ by {diff:e}:\n{actual}\n{expected}"
    );
}

// ---------------------------------------------------------------------------------------------
// Residuals.

/// Rosenbrock's function as the residual Gauss-Newton minimises.
#[differentiate(wrt = x)]
fn rosenbrock_residual(x: &Vector2<f64>) -> Vector2<f64> {
    Vector2::new(10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0])
}

/// Ceres's exponential curve fit, `yᵢ − exp(m xᵢ + c)`, over pairs `(xᵢ, yᵢ)` in a loop.
const DATA: [f64; 10] = [0.0, 1.13, 0.25, 1.41, 0.5, 1.67, 0.75, 2.22, 1.0, 2.70];

#[differentiate(wrt = p)]
fn curve_residuals(p: &Vector2<f64>) -> SVector<f64, 5> {
    let mut r = SVector::<f64, 5>::zeros();
    for i in 0..5 {
        r[i] = DATA[2 * i + 1] - (p[0] * DATA[2 * i] + p[1]).exp();
    }
    r
}

/// A two-link planar arm's end effector, with respect to the joint angles and link lengths.
#[differentiate(wrt = (q, l))]
fn arm(q: &Vector2<f64>, l: &Vector2<f64>) -> Vector2<f64> {
    let (a, b) = (q[0], q[0] + q[1]);
    Vector2::new(
        l[0] * a.cos() + l[1] * b.cos(),
        l[0] * a.sin() + l[1] * b.sin(),
    )
}

/// A matrix in and a matrix out, to pin the column-major convention.
#[differentiate(wrt = x)]
fn matrix_map(x: &Matrix2x3<f64>, a: &Matrix2<f64>) -> Matrix2x3<f64> {
    a * x + x.component_mul(x)
}

/// 200 steps of a damped rotation: too long to unroll, the Jacobian keeps the loop.
#[differentiate(wrt = x)]
fn flow(x: &Vector3<f64>) -> Vector3<f64> {
    let mut s = *x;
    for _ in 0..200 {
        s += 0.01 * Vector3::new(-s[1], s[0], -0.1 * s[2] * s[2]);
    }
    s
}

#[test]
fn jacobians_by_hand() {
    let x = Vector2::new(0.3, -0.7);
    let expected = Matrix2::new(-20.0 * x[0], 10.0, -1.0, 0.0);
    assert_close(
        &dynamic(&rosenbrock_residual_jacobian(&x)),
        &dynamic(&expected),
        1e-15,
    );
    assert_close(
        &dynamic(&rosenbrock_residual_jacobian(&x)),
        &fd_jacobian(rosenbrock_residual, &x),
        1e-8,
    );

    // ∂/∂q and ∂/∂l of the arm, derived by hand.
    let (q, l): (Vector2<f64>, Vector2<f64>) = (Vector2::new(0.4, 1.1), Vector2::new(1.5, 0.8));
    let (a, b) = (q[0], q[0] + q[1]);
    let dq = Matrix2::new(
        -l[0] * a.sin() - l[1] * b.sin(),
        -l[1] * b.sin(),
        l[0] * a.cos() + l[1] * b.cos(),
        l[1] * b.cos(),
    );
    let dl = Matrix2::new(a.cos(), b.cos(), a.sin(), b.sin());
    let (jq, jl) = arm_jacobian(&q, &l);
    assert_close(&dynamic(&jq), &dynamic(&dq), 1e-15);
    assert_close(&dynamic(&jl), &dynamic(&dl), 1e-15);
    let (value, (vq, vl)) = arm_value_and_jacobian(&q, &l);
    assert_eq!(value, arm(&q, &l));
    assert_eq!((vq, vl), (jq, jl));

    // Y = A X + X ∘ X: ∂Y(0, 1)/∂X(1, 1) = A(0, 1), at vec indices 2 and 3.
    let xm = Matrix2x3::new(0.1, 0.2, 0.3, 0.4, 0.5, 0.6);
    let am = Matrix2::new(1.0, 2.0, 3.0, 4.0);
    let j = matrix_map_jacobian(&xm, &am);
    assert_eq!(j[(2, 3)], am[(0, 1)]);
    // and ∂Y(1, 1)/∂X(1, 1) = A(1, 1) + 2 X(1, 1), at vec index 3 on both sides.
    assert_eq!(j[(3, 3)], am[(1, 1)] + 2.0 * xm[(1, 1)]);
}

#[test]
fn jacobians_against_central_differences_and_each_other() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<2, 1>();
        let j = curve_residuals_jacobian(&x);
        assert_close(&dynamic(&j), &fd_jacobian(curve_residuals, &x), 1e-7);
        let (value, j2) = curve_residuals_value_and_jacobian(&x);
        assert_eq!((value, j2), (curve_residuals(&x), j));
        let (v, u) = (rng.matrix::<2, 1>(), rng.matrix::<5, 1>());
        assert_close(
            &dynamic(&curve_residuals_jvp(&x, &v)),
            &dynamic(&(j * v)),
            1e-13,
        );
        assert_close(
            &dynamic(&curve_residuals_vjp(&x, &u)),
            &dynamic(&(j.transpose() * u)),
            1e-13,
        );

        let (q, l) = (
            rng.matrix::<2, 1>(),
            rng.matrix::<2, 1>() + Vector2::repeat(2.0),
        );
        let (jq, jl) = arm_jacobian(&q, &l);
        assert_close(&dynamic(&jq), &fd_jacobian(|q| arm(q, &l), &q), 1e-7);
        assert_close(&dynamic(&jl), &fd_jacobian(|l| arm(&q, l), &l), 1e-7);
        let (dq, dl, u) = (
            rng.matrix::<2, 1>(),
            rng.matrix::<2, 1>(),
            rng.matrix::<2, 1>(),
        );
        let jvp = arm_jvp(&q, &l, &dq, &dl);
        assert_close(&dynamic(&jvp), &dynamic(&(jq * dq + jl * dl)), 1e-13);
        let (uq, ul) = arm_vjp(&q, &l, &u);
        // The dot-product test.
        let left = jvp.dot(&u);
        let right = dq.dot(&uq) + dl.dot(&ul);
        assert!((left - right).abs() <= 1e-13 * left.abs().max(1.0));

        let (xm, am) = (rng.matrix::<2, 3>(), rng.matrix::<2, 2>());
        let j = matrix_map_jacobian(&xm, &am);
        assert_close(
            &dynamic(&j),
            &fd_jacobian(|x| matrix_map(x, &am), &xm),
            1e-7,
        );
        let (v, u) = (rng.matrix::<2, 3>(), rng.matrix::<2, 3>());
        let vec = |m: &Matrix2x3<f64>| SVector::<f64, 6>::from_column_slice(m.as_slice());
        assert_close(
            &dynamic(&vec(&matrix_map_jvp(&xm, &am, &v))),
            &dynamic(&(j * vec(&v))),
            1e-13,
        );
        assert_close(
            &dynamic(&vec(&matrix_map_vjp(&xm, &am, &u))),
            &dynamic(&(j.transpose() * vec(&u))),
            1e-13,
        );

        let s = rng.matrix::<3, 1>();
        let j = flow_jacobian(&s);
        assert_close(&dynamic(&j), &fd_jacobian(flow, &s), 1e-6);
        let (v, u) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        assert_close(&dynamic(&flow_jvp(&s, &v)), &dynamic(&(j * v)), 1e-12);
        assert_close(
            &dynamic(&flow_vjp(&s, &u)),
            &dynamic(&(j.transpose() * u)),
            1e-12,
        );
    }
}

/// One Gauss-Newton step on the lecture's least-squares problem, written as the residual
/// `X w − y`, lands on the solution `w* = (3, 29/66, −19/66)` from any start.
#[differentiate(wrt = w)]
fn lecture_residual(
    w: &Vector3<f64>,
    x: &SMatrix<f64, 5, 3>,
    y: &SVector<f64, 5>,
) -> SVector<f64, 5> {
    x * w - y
}

#[test]
fn gauss_newton_on_a_linear_residual() {
    // Rows (1, t, t²) at t = −2, 0, 1, 3, 4: the README's least-squares example.
    #[rustfmt::skip]
    let x = SMatrix::<f64, 5, 3>::new(
        1.0, -2.0,  4.0,
        1.0,  0.0,  0.0,
        1.0,  1.0,  1.0,
        1.0,  3.0,  9.0,
        1.0,  4.0, 16.0,
    );
    let y = SVector::<f64, 5>::new(1.0, 3.0, 3.0, 2.0, 0.0);
    let w0 = Vector3::new(0.3, -1.0, 2.0);
    let (r, j) = lecture_residual_value_and_jacobian(&w0, &x, &y);
    assert_eq!(j, x, "the Jacobian of X w − y is X");
    // The value up to rounding (the emitter may fuse `X w − y` into one gemm).
    assert!((r - lecture_residual(&w0, &x, &y)).amax() < 1e-13);
    let step = (j.transpose() * j).try_inverse().unwrap() * (j.transpose() * r);
    let w = w0 - step;
    let expected = Vector3::new(3.0, 29.0 / 66.0, -19.0 / 66.0);
    assert!((w - expected).amax() < 1e-12, "{w}");
}

// ---------------------------------------------------------------------------------------------
// Full Hessians.

#[differentiate(wrt = x)]
fn rosenbrock(x: &Vector4<f64>) -> f64 {
    (0..3)
        .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2))
        .sum()
}

/// Several parameters: the Hessian's blocks in `wrt` order.
#[differentiate(wrt = (x, s))]
fn scaled_log_sum_exp(x: &Vector2<f64>, s: f64, a: &Matrix2<f64>) -> f64 {
    (a * x).map(|t| (s * t).exp()).sum().ln() + s * s * x.norm_squared()
}

#[test]
fn hessians_are_symmetric_hvp_columns() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<4, 1>();
        let h = rosenbrock_hessian(&x);
        assert_eq!(h, h.transpose(), "symmetric by construction");
        assert!(rosenbrock(&x) >= 0.0);
        for j in 0..4 {
            let e = Vector4::ith(j, 1.0);
            let column = rosenbrock_hvp(&x, &e);
            assert!((h.column(j) - column).amax() <= 1e-12 * column.amax().max(1.0));
            // Against a central difference of the gradient.
            let step = 1e-6;
            let fd = (rosenbrock_grad(&(x + step * e)) - rosenbrock_grad(&(x - step * e)))
                / (2.0 * step);
            assert!((h.column(j) - fd).amax() <= 1e-5 * fd.amax().max(1.0));
        }
        // By hand, at the minimum (1, 1, 1, 1): tridiagonal, 802 / 1002 / 200 on the diagonal.
        let h1 = rosenbrock_hessian(&Vector4::repeat(1.0));
        assert_eq!(h1.diagonal(), Vector4::new(802.0, 1002.0, 1002.0, 200.0));
        assert_eq!(h1[(0, 1)], -400.0);
        assert_eq!(h1[(0, 2)], 0.0);

        let (x, s, a) = (
            rng.matrix::<2, 1>(),
            0.5 + rng.uniform(),
            rng.matrix::<2, 2>(),
        );
        let h = scaled_log_sum_exp_hessian(&x, s, &a);
        assert!(scaled_log_sum_exp(&x, s, &a).is_finite());
        assert_eq!(h, h.transpose());
        let directions = [
            (Vector2::ith(0, 1.0), 0.0),
            (Vector2::ith(1, 1.0), 0.0),
            (Vector2::zeros(), 1.0),
        ];
        for (j, (dx, ds)) in directions.iter().enumerate() {
            let (hx, hs) = scaled_log_sum_exp_hvp(&x, s, &a, dx, *ds);
            let column = Vector3::new(hx[0], hx[1], hs);
            assert!((h.column(j) - column).amax() <= 1e-12 * column.amax().max(1.0));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Composition: a loss built on a residual, a residual built on a matrix-valued helper.

/// `Σ rᵢ²` of the curve-fitting residual: its gradient is `2 Jᵀ r`.
#[differentiate(wrt = p)]
fn curve_loss(p: &Vector2<f64>) -> f64 {
    let r: SVector<f64, 5> = curve_residuals(p);
    r.norm_squared()
}

/// A rotation by `theta`, matrix-valued.
#[differentiate(wrt = theta)]
fn rotation(theta: f64) -> Matrix2<f64> {
    let (s, c) = theta.sin_cos();
    Matrix2::new(c, -s, s, c)
}

/// The residual of a rotated and shifted point against a target, through the helper.
#[differentiate(wrt = (theta, t))]
fn pose_residual(
    theta: f64,
    t: &Vector2<f64>,
    p: &Vector2<f64>,
    target: &Vector2<f64>,
) -> Vector2<f64> {
    let r: Matrix2<f64> = rotation(theta);
    r * p + t - target
}

/// And a loss on that residual, two calls deep.
#[differentiate(wrt = (theta, t))]
fn pose_loss(theta: f64, t: &Vector2<f64>, p: &Vector2<f64>, target: &Vector2<f64>) -> f64 {
    let r: Vector2<f64> = pose_residual(theta, t, p, target);
    0.5 * r.norm_squared()
}

#[test]
fn composition_through_matrix_valued_calls() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p = rng.matrix::<2, 1>();
        let (r, j) = curve_residuals_value_and_jacobian(&p);
        let grad = curve_loss_grad(&p);
        assert!((grad - 2.0 * j.transpose() * r).amax() <= 1e-12 * grad.amax().max(1.0));
        common::full_check(
            curve_loss,
            curve_loss_grad,
            curve_loss_value_and_grad,
            curve_loss_hvp,
            &p,
            &mut rng,
            common::TOL,
        );

        let (theta, t) = (rng.uniform() * 3.0, rng.matrix::<2, 1>());
        let (q, target) = (rng.matrix::<2, 1>(), rng.matrix::<2, 1>());
        let (jt, jtt) = pose_residual_jacobian(theta, &t, &q, &target);
        let fd = |h: f64| {
            (pose_residual(theta + h, &t, &q, &target) - pose_residual(theta - h, &t, &q, &target))
                / (2.0 * h)
        };
        assert!((jt - fd(1e-6)).amax() < 1e-8, "{jt} {}", fd(1e-6));
        assert_eq!(jtt, Matrix2::identity());
        let x = (theta, t);
        common::full_check(
            |x: &(f64, Vector2<f64>)| pose_loss(x.0, &x.1, &q, &target),
            |x: &(f64, Vector2<f64>)| pose_loss_grad(x.0, &x.1, &q, &target),
            |x: &(f64, Vector2<f64>)| pose_loss_value_and_grad(x.0, &x.1, &q, &target),
            |x: &(f64, Vector2<f64>), v: &(f64, Vector2<f64>)| {
                pose_loss_hvp(x.0, &x.1, &q, &target, v.0, &v.1)
            },
            &x,
            &mut rng,
            common::TOL,
        );
        // By hand: ∂/∂t ½‖r‖² = r.
        let r = pose_residual(theta, &t, &q, &target);
        assert!((pose_loss_grad(theta, &t, &q, &target).1 - r).amax() < 1e-12);
    }
}

/// A log-sum-exp of any length: its Hessian is `N` HVPs along the unit vectors.
#[differentiate(wrt = x)]
fn log_sum_exp<const N: usize>(x: &SVector<f64, N>, scale: f64) -> f64 {
    x.map(|t| (t * 2.0).exp()).sum().ln() * scale
}

/// By value, in `f32`.
#[differentiate(wrt = x)]
fn quartic<const N: usize>(x: SVector<f32, N>) -> f32 {
    x.map(|t| t * t * t * t).sum() + x.norm_squared() * x[0]
}

#[test]
fn hessians_of_const_generic_length() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<5, 1>();
        let h = log_sum_exp_hessian(&x, 1.5);
        assert_eq!(h, h.transpose(), "symmetric by construction");
        // By hand: with p = softmax(2x), H = scale · 4 (diag(p) − p pᵀ).
        let e = x.map(|t| (2.0 * t).exp());
        let p = e / e.sum();
        let expected = 1.5 * 4.0 * (SMatrix::<f64, 5, 5>::from_diagonal(&p) - p * p.transpose());
        assert!((h - expected).amax() < 1e-12, "{h}\n{expected}");
        assert!(log_sum_exp(&x, 1.5).is_finite());

        let y = rng.matrix::<4, 1>().map(|t| t as f32);
        let h = quartic_hessian(y);
        assert_eq!(h, h.transpose());
        for j in 0..4 {
            let column = quartic_hvp(y, SVector::<f32, 4>::ith(j, 1.0));
            assert!((h.column(j) - column).amax() <= 1e-5 * column.amax().max(1.0));
        }
        assert!(quartic(y).is_finite());
    }
}

/// A residual of any length: its Jacobian is `N` JVPs along the unit vectors.
#[differentiate(wrt = x)]
fn sines<const N: usize>(x: &SVector<f64, N>, a: f64) -> SVector<f64, N> {
    x.map(|t| t.sin()) * a + x * x.sum()
}

/// Too many entries to seed in the macro (40 × 40): the same loop of JVPs.
#[differentiate(wrt = x)]
fn wide(x: SVector<f64, 40>) -> SVector<f64, 40> {
    x.map(|t| t.tanh()) + x * x[0]
}

#[test]
fn jacobians_by_columns_of_jvps() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<6, 1>();
        let j = sines_jacobian(&x, 0.5);
        // By hand: a diag(cos x) + x·1ᵀ + (Σx) I.
        let expected = SMatrix::<f64, 6, 6>::from_diagonal(&(x.map(f64::cos) * 0.5))
            + x * SVector::<f64, 6>::repeat(1.0).transpose()
            + SMatrix::<f64, 6, 6>::identity() * x.sum();
        assert!((j - expected).amax() < 1e-13, "{j}\n{expected}");
        let (value, j2) = sines_value_and_jacobian(&x, 0.5);
        assert_eq!((value, j2), (sines(&x, 0.5), j));

        let y = rng.matrix::<40, 1>();
        let j = wide_jacobian(y);
        assert_close(&dynamic(&j), &fd_jacobian(|y| wide(*y), &y), 1e-7);
        assert_eq!(wide_value_and_jacobian(y).0, wide(y));
    }
}
