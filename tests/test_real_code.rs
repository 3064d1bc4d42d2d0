//! Objective functions and residual sums taken from, or closely modelled on, public code:
//! argmin's test functions, Ceres Solver's curve-fitting example, linfa's logistic regression,
//! numpy's `polyfit` example, the Moré–Garbow–Hillstrom test problems, the Nile local level
//! model of Durbin & Koopman, a ray–sphere test from a small ray tracer, linear MPC, total
//! variation denoising. They are written the way their authors write them: `for` loops with
//! `let mut` accumulators, iterator chains, value-dependent `if`, `match`, early `return`,
//! constant data arrays indexed by the loop counter, integer and `bool` parameters.
//!
//! Each function is checked
//! * against finite differences (gradient, Hessian-vector product, Hessian symmetry,
//!   `value_and_grad`) at random points chosen away from its branch kinks,
//! * against a gradient (and, where it is short, a Hessian) derived by hand in this file,
//! * on every side of each branch it has, and
//! * where the source publishes numbers (a minimum, a Hessian, a loss and its gradient, a
//!   fitted model), against those numbers.

mod common;

use std::f64::consts::PI;

use common::{assert_close, assert_scalar_close, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix2, Matrix3, Matrix3x2, Matrix4, RowSVector, SMatrix, SVector, Vector2, Vector3, Vector4,
};
use matdiff::runtime::{Rng, VectorSpace};

/// Tolerance of a generated gradient against one derived by hand (rounding only).
const HAND: f64 = 1e-10;

/// Tolerance of a generated Hessian-vector product against a Hessian derived by hand.
const HAND_HVP: f64 = 1e-8;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Draws from `draw` until `ok` accepts the sample: keeps random inputs away from the kinks
/// of branching functions, where a finite difference would straddle two branches.
fn draw_until<T>(rng: &mut Rng, mut draw: impl FnMut(&mut Rng) -> T, ok: impl Fn(&T) -> bool) -> T {
    for _ in 0..10_000 {
        let sample = draw(rng);
        if ok(&sample) {
            return sample;
        }
    }
    panic!("no acceptable random sample in 10000 draws");
}

/// The Hessian assembled column by column from a Hessian-vector product.
fn hessian_from_hvp<const N: usize>(
    hvp: impl Fn(&SVector<f64, N>) -> SVector<f64, N>,
) -> SMatrix<f64, N, N> {
    let mut h = SMatrix::<f64, N, N>::zeros();
    for j in 0..N {
        let mut e = SVector::<f64, N>::zeros();
        e[j] = 1.0;
        h.set_column(j, &hvp(&e));
    }
    h
}

/// Newton's method in the plane, with the Hessian assembled from a Hessian-vector product.
fn newton(
    grad: impl Fn(&Vector2<f64>) -> Vector2<f64>,
    hvp: impl Fn(&Vector2<f64>, &Vector2<f64>) -> Vector2<f64>,
    start: Vector2<f64>,
    iterations: usize,
) -> Vector2<f64> {
    let mut x = start;
    for _ in 0..iterations {
        let h = hessian_from_hvp(|v| hvp(&x, v));
        x -= h.lu().solve(&grad(&x)).expect("a regular Hessian");
    }
    x
}

/// The logistic function `1 / (1 + e⁻ᵗ)`.
fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// Asserts that every entry of a generated derivative is finite and exactly zero (the
/// derivative of a branch that returns a constant).
#[track_caller]
fn assert_exactly_zero<X: VectorSpace + std::fmt::Debug>(x: &X, what: &str) {
    let n = x.norm();
    assert!(
        n == 0.0,
        "{what}: expected exactly zero, got {x:?} (norm {n:e})"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Rosenbrock, as an iterator chain (argmin) and as an index loop
// ---------------------------------------------------------------------------------------------

/// Multidimensional Rosenbrock `Σᵢ (1 − xᵢ)² + 100 (xᵢ₊₁ − xᵢ²)²`, written as argmin writes it:
/// `rosenbrock_ab` in `crates/argmin-testfunctions/src/rosenbrock.rs` of argmin-rs/argmin
/// (there generic over the float type and taking a slice; here `a = 1`, `b = 100`).
#[differentiate(wrt = param)]
fn rosenbrock<const N: usize>(param: &SVector<f64, N>) -> f64 {
    param
        .iter()
        .zip(param.iter().skip(1))
        .map(|(&xi, &xi1)| (1.0 - xi).powi(2) + 100.0 * (xi1 - xi.powi(2)).powi(2))
        .sum()
}

/// The same function as an index loop over `0..N - 1`, the shape of argmin's
/// `rosenbrock_ab_derivative_const` loop and of most hand-written versions.
#[differentiate(wrt = x)]
fn rosenbrock_loop<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let mut s = 0.0;
    for i in 0..N - 1 {
        let xi = x[i];
        let xi1 = x[i + 1];
        s += 100.0 * (xi1 - xi * xi).powi(2) + (1.0 - xi).powi(2);
    }
    s
}

/// `∂f/∂xᵢ`: from the `i`-th term `−2(1 − xᵢ) − 400 xᵢ (xᵢ₊₁ − xᵢ²)`, from the `(i−1)`-th
/// `200 (xᵢ − xᵢ₋₁²)`.
fn rosenbrock_grad_by_hand<const N: usize>(x: &SVector<f64, N>) -> SVector<f64, N> {
    SVector::from_fn(|i, _| {
        let mut g = 0.0;
        if i + 1 < N {
            g += -2.0 * (1.0 - x[i]) - 400.0 * x[i] * (x[i + 1] - x[i] * x[i]);
        }
        if i > 0 {
            g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
        }
        g
    })
}

/// Tridiagonal: `2 + 1200 xᵢ² − 400 xᵢ₊₁` (+ 200 from the previous term) on the diagonal,
/// `−400 xᵢ` beside it.
fn rosenbrock_hessian_by_hand<const N: usize>(x: &SVector<f64, N>) -> SMatrix<f64, N, N> {
    let mut h = SMatrix::<f64, N, N>::zeros();
    for i in 0..N {
        if i + 1 < N {
            h[(i, i)] += 2.0 + 1200.0 * x[i] * x[i] - 400.0 * x[i + 1];
            h[(i, i + 1)] = -400.0 * x[i];
            h[(i + 1, i)] = -400.0 * x[i];
        }
        if i > 0 {
            h[(i, i)] += 200.0;
        }
    }
    h
}

/// Both forms at one size: finite differences, the hand gradient and Hessian, and each other.
#[track_caller]
fn check_rosenbrock_at<const N: usize>(x0: &SVector<f64, N>, rng: &mut Rng) {
    check_fn!(rosenbrock, rosenbrock_grad, rosenbrock_value_and_grad, rosenbrock_hvp;
        |x, v| (x); (v); at x0, rng, TOL);
    check_fn!(rosenbrock_loop, rosenbrock_loop_grad, rosenbrock_loop_value_and_grad,
        rosenbrock_loop_hvp; |x, v| (x); (v); at x0, rng, TOL);
    let expected = rosenbrock_grad_by_hand(x0);
    assert_close(&rosenbrock_grad(x0), &expected, HAND);
    assert_close(&rosenbrock_loop_grad(x0), &expected, HAND);
    let v = x0.random(rng);
    let hv = rosenbrock_hessian_by_hand(x0) * v;
    assert_close(&rosenbrock_hvp(x0, &v), &hv, HAND_HVP);
    assert_close(&rosenbrock_loop_hvp(x0, &v), &hv, HAND_HVP);
    assert_scalar_close(rosenbrock(x0), rosenbrock_loop(x0), 1e-12);
}

#[test]
fn rosenbrock_chain_and_loop() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x2 = rng.matrix::<2, 1>();
        check_rosenbrock_at(&x2, &mut rng);
        let x5 = rng.matrix::<5, 1>();
        check_rosenbrock_at(&x5, &mut rng);
        let x8 = rng.matrix::<8, 1>().map(|t| 1.0 + 0.5 * t);
        check_rosenbrock_at(&x8, &mut rng);
    }
}

#[test]
fn rosenbrock_matches_scipy_and_its_minimum() {
    // scipy.optimize.rosen_hess([0, 0.1, 0.2, 0.3]), the case argmin's tests also use.
    let x = Vector4::new(0.0, 0.1, 0.2, 0.3);
    #[rustfmt::skip]
    let expected = Matrix4::new(
        -38.0,   0.0,   0.0,   0.0,
          0.0, 134.0, -40.0,   0.0,
          0.0, -40.0, 130.0, -80.0,
          0.0,   0.0, -80.0, 200.0,
    );
    assert_close(
        &hessian_from_hvp(|v| rosenbrock_hvp(&x, v)),
        &expected,
        HAND_HVP,
    );
    assert_close(
        &hessian_from_hvp(|v| rosenbrock_loop_hvp(&x, v)),
        &expected,
        HAND_HVP,
    );

    // The global minimum f(1, …, 1) = 0, where every term of the gradient vanishes exactly.
    let ones = SVector::<f64, 6>::repeat(1.0);
    assert_eq!(rosenbrock(&ones), 0.0);
    assert_exactly_zero(&rosenbrock_grad(&ones), "rosenbrock_grad at the minimum");
    assert_exactly_zero(
        &rosenbrock_loop_grad(&ones),
        "rosenbrock_loop_grad at the minimum",
    );
    let (value, g) = rosenbrock_loop_value_and_grad(&ones);
    assert_eq!(value, 0.0);
    assert_exactly_zero(&g, "rosenbrock_loop_value_and_grad at the minimum");
}

// ---------------------------------------------------------------------------------------------
// 2. Himmelblau, with argmin's `assert!` and tuple `let`
// ---------------------------------------------------------------------------------------------

/// Himmelblau `(x₁² + x₂ − 11)² + (x₁ + x₂² − 7)²`, as in argmin-testfunctions before the
/// const-generic rewrite (`pub fn himmelblau<T: Float + FromPrimitive>(param: &[T]) -> T`):
/// an `assert!` on the length, then the two entries unpacked by a tuple `let`.
#[differentiate(wrt = param)]
fn himmelblau(param: &Vector2<f64>) -> f64 {
    assert!(param.len() == 2);
    let (x1, x2) = (param[0], param[1]);
    (x1.powi(2) + x2 - 11.0).powi(2) + (x1 + x2.powi(2) - 7.0).powi(2)
}

/// With `a = x₁² + x₂ − 11` and `b = x₁ + x₂² − 7`: `(4x₁a + 2b, 2a + 4x₂b)`.
fn himmelblau_grad_by_hand(x: &Vector2<f64>) -> Vector2<f64> {
    let (x1, x2) = (x[0], x[1]);
    let a = x1 * x1 + x2 - 11.0;
    let b = x1 + x2 * x2 - 7.0;
    Vector2::new(4.0 * x1 * a + 2.0 * b, 2.0 * a + 4.0 * x2 * b)
}

fn himmelblau_hessian_by_hand(x: &Vector2<f64>) -> Matrix2<f64> {
    let (x1, x2) = (x[0], x[1]);
    let a = x1 * x1 + x2 - 11.0;
    let b = x1 + x2 * x2 - 7.0;
    let off = 4.0 * (x1 + x2);
    Matrix2::new(
        4.0 * a + 8.0 * x1 * x1 + 2.0,
        off,
        off,
        4.0 * b + 8.0 * x2 * x2 + 2.0,
    )
}

#[test]
fn himmelblau_with_assert_and_tuple_let() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        for _ in 0..4 {
            let x0 = Vector2::new(5.0 * rng.uniform(), 5.0 * rng.uniform());
            check_fn!(himmelblau, himmelblau_grad, himmelblau_value_and_grad, himmelblau_hvp;
                |x, v| (x); (v); at &x0, &mut rng, TOL);
            assert_close(&himmelblau_grad(&x0), &himmelblau_grad_by_hand(&x0), HAND);
            let v = rng.matrix::<2, 1>();
            assert_close(
                &himmelblau_hvp(&x0, &v),
                &(himmelblau_hessian_by_hand(&x0) * v),
                HAND_HVP,
            );
        }
    }
}

#[test]
fn himmelblau_minima_from_argmin_docs() {
    // f(3, 2) = 0 exactly, with a gradient that vanishes exactly.
    let exact = Vector2::new(3.0, 2.0);
    assert_eq!(himmelblau(&exact), 0.0);
    assert_exactly_zero(&himmelblau_grad(&exact), "himmelblau_grad at (3, 2)");
    // The other three minima, as argmin documents them (six decimals).
    for (x1, x2) in [
        (-2.805118, 3.131312),
        (-3.779310, -3.283186),
        (3.584428, -1.848126),
    ] {
        let x = Vector2::new(x1, x2);
        assert!(
            himmelblau_grad(&x).norm() < 1e-3,
            "gradient at ({x1}, {x2})"
        );
        // A minimum: the Hessian there is positive definite.
        let h = hessian_from_hvp(|v| himmelblau_hvp(&x, v));
        assert!(
            h[(0, 0)] > 0.0 && h.determinant() > 0.0,
            "Hessian at ({x1}, {x2}): {h}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Rastrigin and Ackley: `.iter().map(..).sum::<f64>()` with `param.len() as f64`
// ---------------------------------------------------------------------------------------------

/// Rastrigin `a n + Σ (xᵢ² − a cos 2πxᵢ)`, `a = 10`, as argmin's `rastrigin_a`
/// (`crates/argmin-testfunctions/src/rastrigin.rs`).
#[differentiate(wrt = param)]
fn rastrigin<const N: usize>(param: &SVector<f64, N>) -> f64 {
    let a = 10.0;
    a * param.len() as f64
        + param
            .iter()
            .map(|&x| x.powi(2) - a * (2.0 * PI * x).cos())
            .sum::<f64>()
}

/// `2xᵢ + 20π sin 2πxᵢ`.
fn rastrigin_grad_by_hand<const N: usize>(x: &SVector<f64, N>) -> SVector<f64, N> {
    x.map(|t| 2.0 * t + 20.0 * PI * (2.0 * PI * t).sin())
}

/// Diagonal Hessian `2 + 40π² cos 2πxᵢ`.
fn rastrigin_hvp_by_hand<const N: usize>(
    x: &SVector<f64, N>,
    v: &SVector<f64, N>,
) -> SVector<f64, N> {
    SVector::from_fn(|i, _| (2.0 + 40.0 * PI * PI * (2.0 * PI * x[i]).cos()) * v[i])
}

#[test]
fn rastrigin_iterator_sum() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x3 = rng.matrix::<3, 1>().map(|t| 5.12 * t.tanh());
        check_fn!(rastrigin, rastrigin_grad, rastrigin_value_and_grad, rastrigin_hvp;
            |x, v| (x); (v); at &x3, &mut rng, TOL);
        assert_close(&rastrigin_grad(&x3), &rastrigin_grad_by_hand(&x3), HAND);
        let v = rng.matrix::<3, 1>();
        assert_close(
            &rastrigin_hvp(&x3, &v),
            &rastrigin_hvp_by_hand(&x3, &v),
            HAND_HVP,
        );

        let x6 = rng.matrix::<6, 1>().map(|t| 5.12 * t.tanh());
        check_fn!(rastrigin, rastrigin_grad, rastrigin_value_and_grad, rastrigin_hvp;
            |x, v| (x); (v); at &x6, &mut rng, TOL);
        assert_close(&rastrigin_grad(&x6), &rastrigin_grad_by_hand(&x6), HAND);
    }
    // The global minimum f(0) = 0 with gradient 0.
    let zero = SVector::<f64, 4>::zeros();
    assert_eq!(rastrigin(&zero), 0.0);
    assert_close(&rastrigin_grad(&zero), &zero, 1e-14);
}

/// Ackley with `a = 20`, `b = 0.2`, `c = 2π`, as argmin's `ackley_abc`
/// (`crates/argmin-testfunctions/src/ackley.rs`), including its `|x| x.powi(2)` on `&f64`
/// and `(c * *x).cos()`.
#[differentiate(wrt = param)]
fn ackley(param: &Vector4<f64>) -> f64 {
    let (a, b, c) = (20.0, 0.2, 2.0 * PI);
    let n = param.len() as f64;
    -a * (-b * ((1.0 / n) * param.iter().map(|x| x.powi(2)).sum::<f64>()).sqrt()).exp()
        - ((1.0 / n) * param.iter().map(|x| (c * *x).cos()).sum::<f64>()).exp()
        + a
        + 1.0_f64.exp()
}

/// With `r = √(‖x‖²/n)`: `a b e^{−br} xᵢ / (n r) + c e^{Σcos(cxⱼ)/n} sin(cxᵢ) / n`.
fn ackley_grad_by_hand(x: &Vector4<f64>) -> Vector4<f64> {
    let (a, b, c, n) = (20.0, 0.2, 2.0 * PI, 4.0);
    let r = (x.norm_squared() / n).sqrt();
    let e1 = (-b * r).exp();
    let e2 = (x.map(|t| (c * t).cos()).sum() / n).exp();
    x.map(|t| a * b * e1 * t / (n * r) + c * e2 * (c * t).sin() / n)
}

#[test]
fn ackley_two_iterator_sums() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        for _ in 0..3 {
            // Away from the origin, where √‖x‖² has no derivative.
            let x0 = draw_until(
                &mut rng,
                |r| r.matrix::<4, 1>().map(|t| 5.0 * t.tanh()),
                |x| x.norm() > 0.5,
            );
            check_fn!(ackley, ackley_grad, ackley_value_and_grad, ackley_hvp;
                |x, v| (x); (v); at &x0, &mut rng, TOL);
            assert_close(&ackley_grad(&x0), &ackley_grad_by_hand(&x0), HAND);
        }
    }
    assert!(ackley(&Vector4::zeros()).abs() < 1e-14);
}

// ---------------------------------------------------------------------------------------------
// 4. Sum Squares and Zakharov: `(0..N).map(|i| ..)` and `.enumerate()` with `i as f64`
// ---------------------------------------------------------------------------------------------

/// "Sum Squares" `Σ i xᵢ²` (i from 1) of the Virtual Library of Simulation Experiments
/// (Surjanovic & Bingham, `sumsqu`), with the index range mapped directly.
#[differentiate(wrt = x)]
fn sum_squares<const N: usize>(x: &SVector<f64, N>) -> f64 {
    (0..N).map(|i| (i as f64 + 1.0) * x[i] * x[i]).sum::<f64>()
}

/// Zakharov `Σ xᵢ² + (Σ ½ i xᵢ)² + (Σ ½ i xᵢ)⁴` (Virtual Library, `zakharov`), the weighted
/// sum taken with `.enumerate()`.
#[differentiate(wrt = x)]
fn zakharov<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let sum1 = x.iter().map(|&xi| xi * xi).sum::<f64>();
    let sum2 = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| 0.5 * (i + 1) as f64 * xi)
        .sum::<f64>();
    sum1 + sum2.powi(2) + sum2.powi(4)
}

/// `2xₖ + (2s + 4s³) (k + 1) / 2`, `s = Σ ½ i xᵢ`.
fn zakharov_grad_by_hand<const N: usize>(x: &SVector<f64, N>) -> SVector<f64, N> {
    let s: f64 = (0..N).map(|i| 0.5 * (i + 1) as f64 * x[i]).sum();
    SVector::from_fn(|k, _| 2.0 * x[k] + (2.0 * s + 4.0 * s.powi(3)) * 0.5 * (k + 1) as f64)
}

#[test]
fn sum_squares_and_zakharov() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x0 = rng.matrix::<5, 1>();
        let v = rng.matrix::<5, 1>();
        check_fn!(sum_squares, sum_squares_grad, sum_squares_value_and_grad, sum_squares_hvp;
            |x, v| (x); (v); at &x0, &mut rng, TOL);
        // ∇ = 2 i xᵢ, and the Hessian diag(2 i) does not depend on x.
        let weights = SVector::<f64, 5>::from_fn(|i, _| 2.0 * (i as f64 + 1.0));
        assert_close(&sum_squares_grad(&x0), &weights.component_mul(&x0), HAND);
        assert_close(
            &sum_squares_hvp(&x0, &v),
            &weights.component_mul(&v),
            HAND_HVP,
        );

        let z0 = rng.matrix::<4, 1>();
        check_fn!(zakharov, zakharov_grad, zakharov_value_and_grad, zakharov_hvp;
            |x, v| (x); (v); at &z0, &mut rng, TOL);
        assert_close(&zakharov_grad(&z0), &zakharov_grad_by_hand(&z0), HAND);
        let z1 = rng.matrix::<1, 1>();
        check_fn!(zakharov, zakharov_grad, zakharov_value_and_grad, zakharov_hvp;
            |x, v| (x); (v); at &z1, &mut rng, TOL);
        assert_close(&zakharov_grad(&z1), &zakharov_grad_by_hand(&z1), HAND);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Ceres Solver's curve fitting: a loop over a constant data array
// ---------------------------------------------------------------------------------------------

// The `(x, y)` pairs of Ceres' `examples/curve_fitting.cc`, `CURVE_POINTS` of them, in its
// layout `data[2 * i]`, `data[2 * i + 1]`.
include!("../benches/data/ceres_curve_fitting.rs");

/// Ceres' cost `½ Σ rᵢ²` of `ExponentialResidual` (`residual[0] = y_ - exp(m[0] * x_ + c[0])`
/// in `examples/curve_fitting.cc` of ceres-solver/ceres-solver), the residual blocks summed
/// by a loop over the data array.
#[differentiate(wrt = mc)]
fn exp_curve_cost(mc: &Vector2<f64>) -> f64 {
    let (m, c) = (mc[0], mc[1]);
    let mut cost = 0.0;
    for i in 0..CURVE_POINTS {
        let x = CURVE_DATA[2 * i];
        let y = CURVE_DATA[2 * i + 1];
        let r = y - (m * x + c).exp();
        cost += r * r;
    }
    0.5 * cost
}

/// `∇ = −Σ rᵢ eᵢ (xᵢ, 1)` and `H = Σ eᵢ (eᵢ − rᵢ) (xᵢ, 1)(xᵢ, 1)ᵀ`, `eᵢ = e^{m xᵢ + c}`.
fn exp_curve_grad_and_hessian_by_hand(mc: &Vector2<f64>) -> (Vector2<f64>, Matrix2<f64>) {
    let mut g = Vector2::zeros();
    let mut h = Matrix2::zeros();
    for i in 0..CURVE_POINTS {
        let z = Vector2::new(CURVE_DATA[2 * i], 1.0);
        let e = mc.dot(&z).exp();
        let r = CURVE_DATA[2 * i + 1] - e;
        g -= r * e * z;
        h += e * (e - r) * z * z.transpose();
    }
    (g, h)
}

#[test]
fn ceres_curve_fitting() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        for _ in 0..3 {
            let p = Vector2::new(0.3 + 0.2 * rng.uniform(), 0.1 + 0.3 * rng.uniform());
            check_fn!(exp_curve_cost, exp_curve_cost_grad, exp_curve_cost_value_and_grad,
                exp_curve_cost_hvp; |x, v| (x); (v); at &p, &mut rng, TOL);
            let (g, h) = exp_curve_grad_and_hessian_by_hand(&p);
            assert_close(&exp_curve_cost_grad(&p), &g, HAND);
            let v = rng.matrix::<2, 1>();
            assert_close(&exp_curve_cost_hvp(&p, &v), &(h * v), HAND_HVP);
        }
    }
    // Ceres' tutorial reports "Initial cost: 1.211734e+02" at m = c = 0 and a fit of
    // m = 0.291861, c = 0.131439 with "Final cost: 1.056751e+00".
    assert_scalar_close(exp_curve_cost(&Vector2::zeros()), 121.1734, 1e-6);
    let fit = Vector2::new(0.291861, 0.131439);
    assert_scalar_close(exp_curve_cost(&fit), 1.056751, 1e-6);
    // Newton's method driven by the generated gradient and Hessian-vector product, started
    // at Ceres' fit, converges next to it, to a cost that rounds to the same six digits.
    let g0 = exp_curve_cost_grad(&Vector2::zeros());
    assert!(
        exp_curve_cost_grad(&fit).norm() < 1e-4 * g0.norm(),
        "gradient at Ceres' fit"
    );
    let opt = newton(exp_curve_cost_grad, exp_curve_cost_hvp, fit, 6);
    assert!(
        exp_curve_cost_grad(&opt).norm() < 1e-10 * g0.norm(),
        "Newton did not converge: {opt}"
    );
    assert!(
        (opt - fit).amax() < 1e-4,
        "optimum {opt} far from Ceres' fit"
    );
    assert!((exp_curve_cost(&opt) - 1.056751).abs() < 5e-7);
}

// ---------------------------------------------------------------------------------------------
// 6. numpy.polyfit's example: Horner by `.fold()` in a `let` closure, leave-one-out by index
// ---------------------------------------------------------------------------------------------

/// The sample abscissae of the example in numpy's `polyfit` documentation.
const POLY_X: [f64; 6] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
/// Its ordinates.
const POLY_Y: [f64; 6] = [0.0, 0.8, 0.9, 0.1, -0.8, -1.0];

/// Squared error of a cubic with coefficients highest power first, evaluated by Horner's rule
/// as `numpy.polyval` does (`y = y * x + pv`), over the samples other than `leave_out` (the
/// leave-one-out cross-validation loop; an index past the data keeps every sample).
#[differentiate(wrt = p)]
fn polyfit_loss(p: &Vector4<f64>, leave_out: usize) -> f64 {
    let polyval = |t: f64| p.iter().fold(0.0, |acc, &c| acc * t + c);
    let mut loss = 0.0;
    for i in 0..POLY_X.len() {
        if i != leave_out {
            loss += (polyval(POLY_X[i]) - POLY_Y[i]).powi(2);
        }
    }
    loss
}

/// The Vandermonde row `(t³, t², t, 1)`.
fn vandermonde_row(t: f64) -> Vector4<f64> {
    Vector4::new(t * t * t, t * t, t, 1.0)
}

/// `∇ = 2 Σ (zᵢᵀp − yᵢ) zᵢ`, `H = 2 Σ zᵢ zᵢᵀ` over the samples kept.
fn polyfit_grad_and_hessian_by_hand(
    p: &Vector4<f64>,
    leave_out: usize,
) -> (Vector4<f64>, Matrix4<f64>) {
    let mut g = Vector4::zeros();
    let mut h = Matrix4::zeros();
    for i in (0..6).filter(|&i| i != leave_out) {
        let z = vandermonde_row(POLY_X[i]);
        g += 2.0 * (z.dot(p) - POLY_Y[i]) * z;
        h += 2.0 * z * z.transpose();
    }
    (g, h)
}

#[test]
fn numpy_polyfit_fold_and_leave_one_out() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p0 = rng.matrix::<4, 1>().scaled(0.5);
        let v = rng.matrix::<4, 1>();
        for leave_out in [0, 2, 5, 6, usize::MAX] {
            check_fn!(polyfit_loss, polyfit_loss_grad, polyfit_loss_value_and_grad,
                polyfit_loss_hvp; |x, v| (x, leave_out); (v); at &p0, &mut rng, TOL);
            let (g, h) = polyfit_grad_and_hessian_by_hand(&p0, leave_out);
            assert_close(&polyfit_loss_grad(&p0, leave_out), &g, HAND);
            assert_close(&polyfit_loss_hvp(&p0, leave_out, &v), &(h * v), HAND_HVP);
        }
        // Every sample is left out exactly once: the six held-out losses (and gradients)
        // add up to five times the full ones.
        let full = polyfit_loss_grad(&p0, 6);
        let sum = (0..6).fold(Vector4::zeros(), |acc, i| acc + polyfit_loss_grad(&p0, i));
        assert_close(&sum, &(5.0 * full), HAND);
    }

    // numpy's documented result, `np.polyfit(x, y, 3)`:
    // array([ 0.08703704, -0.81349206,  1.69312169, -0.03968254]).
    let (_, h) = polyfit_grad_and_hessian_by_hand(&Vector4::zeros(), 6);
    let g0 = polyfit_loss_grad(&Vector4::zeros(), 6);
    let fit = h
        .lu()
        .solve(&(-g0))
        .expect("the normal equations are regular");
    let numpy = Vector4::new(0.08703704, -0.81349206, 1.69312169, -0.03968254);
    assert!(
        (fit - numpy).amax() < 1e-8,
        "least-squares fit {fit} from the generated gradient"
    );
    assert!(polyfit_loss_grad(&fit, 6).norm() < 1e-10 * g0.norm());
}

// ---------------------------------------------------------------------------------------------
// 7. Huber regression: a value-dependent `if` / `else if` / `else` in a loop, a `bool` switch
// ---------------------------------------------------------------------------------------------

/// A straight-line fit `y ≈ c₀ + c₁ t` with the Huber loss `ρ(r) = r²/2` for `|r| ≤ δ` and
/// `δ (|r| − δ/2)` beyond (Huber 1964; up to scale conventions the loss of scikit-learn's
/// `HuberRegressor` and Ceres' `HuberLoss`), or least squares when `robust` is off.
#[differentiate(wrt = coef)]
fn huber_line_fit<const K: usize>(
    coef: &Vector2<f64>,
    t: &SVector<f64, K>,
    y: &SVector<f64, K>,
    delta: f64,
    robust: bool,
) -> f64 {
    let mut loss = 0.0;
    for i in 0..t.len() {
        let r = y[i] - (coef[0] + coef[1] * t[i]);
        if !robust || r.abs() <= delta {
            loss += 0.5 * r * r;
        } else if r > 0.0 {
            loss += delta * (r - 0.5 * delta);
        } else {
            loss -= delta * (r + 0.5 * delta);
        }
    }
    loss
}

/// `∇ = −Σ ψ(rᵢ) (1, tᵢ)` with `ψ(r) = r` inside `[−δ, δ]` and `δ sign r` outside;
/// `H = Σ_{|rᵢ| ≤ δ} (1, tᵢ)(1, tᵢ)ᵀ`.
fn huber_grad_and_hessian_by_hand<const K: usize>(
    coef: &Vector2<f64>,
    t: &SVector<f64, K>,
    y: &SVector<f64, K>,
    delta: f64,
    robust: bool,
) -> (Vector2<f64>, Matrix2<f64>) {
    let mut g = Vector2::zeros();
    let mut h = Matrix2::zeros();
    for i in 0..K {
        let z = Vector2::new(1.0, t[i]);
        let r = y[i] - coef.dot(&z);
        if !robust || r.abs() <= delta {
            g -= r * z;
            h += z * z.transpose();
        } else {
            g -= delta * r.signum() * z;
        }
    }
    (g, h)
}

/// A line `1 + 2t` sampled at `t = 0, 0.5, …, 5.5` with small deterministic noise and two
/// gross outliers, one above and one below.
fn huber_data() -> (SVector<f64, 12>, SVector<f64, 12>) {
    let t = SVector::<f64, 12>::from_fn(|i, _| 0.5 * i as f64);
    #[rustfmt::skip]
    let noise = SVector::<f64, 12>::from_column_slice(&[
        0.05, -0.12, 0.08, 7.5, -0.03, 0.11, -0.07, 0.02, 0.09, -6.0, -0.1, 0.04,
    ]);
    let y = t.map(|ti| 1.0 + 2.0 * ti) + noise;
    (t, y)
}

#[test]
fn huber_regression_both_regimes() {
    let (t, y) = huber_data();
    let delta = 1.0;
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        for _ in 0..4 {
            // Away from |r| = δ, where ρ'' jumps; both outliers stay in the linear regime.
            let coef = draw_until(
                &mut rng,
                |r| Vector2::new(1.0 + 0.3 * r.uniform(), 2.0 + 0.3 * r.uniform()),
                |c| (0..12).all(|i| ((y[i] - c[0] - c[1] * t[i]).abs() - delta).abs() > 0.05),
            );
            let below = (0..12)
                .filter(|&i| (y[i] - coef[0] - coef[1] * t[i]) < -delta)
                .count();
            let above = (0..12)
                .filter(|&i| (y[i] - coef[0] - coef[1] * t[i]) > delta)
                .count();
            let inside = (0..12)
                .filter(|&i| (y[i] - coef[0] - coef[1] * t[i]).abs() < delta)
                .count();
            assert!(
                below > 0 && above > 0 && inside > 0,
                "all three branches are taken"
            );
            let v = rng.matrix::<2, 1>();
            for robust in [true, false] {
                check_fn!(huber_line_fit, huber_line_fit_grad, huber_line_fit_value_and_grad,
                    huber_line_fit_hvp; |x, v| (x, &t, &y, delta, robust); (v);
                    at &coef, &mut rng, TOL);
                let (g, h) = huber_grad_and_hessian_by_hand(&coef, &t, &y, delta, robust);
                assert_close(&huber_line_fit_grad(&coef, &t, &y, delta, robust), &g, HAND);
                assert_close(
                    &huber_line_fit_hvp(&coef, &t, &y, delta, robust, &v),
                    &(h * v),
                    HAND_HVP,
                );
            }
        }
    }
    // With a δ larger than every residual, the robust loss is least squares.
    let coef = Vector2::new(1.0, 2.0);
    assert_close(
        &huber_line_fit_grad(&coef, &t, &y, 100.0, true),
        &huber_line_fit_grad(&coef, &t, &y, 100.0, false),
        HAND,
    );
}

// ---------------------------------------------------------------------------------------------
// 8. linfa's logistic regression: a loop over data columns calling a branching callee
// ---------------------------------------------------------------------------------------------

/// `ln σ(x)` computed without overflow, as linfa-logistic's `log_logistic` (itself taken from
/// scikit-learn's `_logistic_sigmoid.pyx`): one formula for each sign of `x`.
#[differentiate(wrt = x)]
fn log_logistic(x: f64) -> f64 {
    if x > 0.0 {
        -(1.0 + (-x).exp()).ln()
    } else {
        x - (1.0 + x.exp()).ln()
    }
}

/// linfa-logistic's `logistic_loss`, `−Σ ln σ(yᵢ (wᵀxᵢ + b)) + ½ α wᵀw`, with one column of
/// `x` per sample and the intercept as its own parameter.
#[differentiate(wrt = (w, intercept))]
fn logistic_loss<const D: usize, const N: usize>(
    w: &SVector<f64, D>,
    intercept: f64,
    x: &SMatrix<f64, D, N>,
    y: &SVector<f64, N>,
    alpha: f64,
) -> f64 {
    let mut loss = 0.0;
    for i in 0..x.ncols() {
        let yz = y[i] * (w.dot(&x.column(i)) + intercept);
        loss -= log_logistic(yz);
    }
    loss + 0.5 * alpha * w.dot(w)
}

/// `∇_w = −Σ yᵢ σ(−yᵢzᵢ) xᵢ + αw`, `∇_b = −Σ yᵢ σ(−yᵢzᵢ)`.
fn logistic_grad_by_hand<const D: usize, const N: usize>(
    w: &SVector<f64, D>,
    intercept: f64,
    x: &SMatrix<f64, D, N>,
    y: &SVector<f64, N>,
    alpha: f64,
) -> (SVector<f64, D>, f64) {
    let mut gw = alpha * w;
    let mut gb = 0.0;
    for i in 0..N {
        let yz = y[i] * (w.dot(&x.column(i)) + intercept);
        let s = y[i] * sigmoid(-yz);
        gw -= s * x.column(i);
        gb -= s;
    }
    (gw, gb)
}

#[test]
fn log_logistic_both_branches() {
    let mut rng = Rng::new(3);
    for x0 in [-30.0, -4.0, -0.7, -1e-3, 1e-3, 0.4, 2.5, 30.0] {
        check_fn!(log_logistic, log_logistic_grad, log_logistic_value_and_grad, log_logistic_hvp;
            |x, v| (*x); (*v); at &x0, &mut rng, TOL);
        // (ln σ)' = σ(−x) and (ln σ)'' = −σ(x) σ(−x), continuous across the branch point.
        assert_scalar_close(log_logistic_grad(x0), sigmoid(-x0), HAND);
        assert_scalar_close(
            log_logistic_hvp(x0, 1.0),
            -sigmoid(x0) * sigmoid(-x0),
            HAND_HVP,
        );
        let (value, g) = log_logistic_value_and_grad(x0);
        assert_scalar_close(value, sigmoid(x0).ln(), 1e-12);
        assert_scalar_close(g, sigmoid(-x0), HAND);
    }
    // The stable branches do not overflow where the naive formula would.
    assert!(log_logistic_grad(800.0).is_finite() && log_logistic_grad(-800.0).is_finite());
    assert_scalar_close(log_logistic_grad(-800.0), 1.0, HAND);
}

#[test]
fn logistic_regression_random_data() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 8>();
        let y = SVector::<f64, 8>::from_fn(|_, _| if rng.uniform() > 0.0 { 1.0 } else { -1.0 });
        let alpha = 0.3;
        let p = (rng.matrix::<3, 1>(), rng.normal());
        check_fn!(logistic_loss, logistic_loss_grad, logistic_loss_value_and_grad,
            logistic_loss_hvp; |p, v| (&p.0, p.1, &x, &y, alpha); (&v.0, v.1);
            at &p, &mut rng, TOL);
        let (gw, gb) = logistic_loss_grad(&p.0, p.1, &x, &y, alpha);
        let (hw, hb) = logistic_grad_by_hand(&p.0, p.1, &x, &y, alpha);
        assert_close(&gw, &hw, HAND);
        assert_scalar_close(gb, hb, HAND);
    }
}

#[test]
fn logistic_regression_matches_linfa_and_sklearn() {
    // linfa-logistic's `test_logistic_loss` / `test_logistic_grad` (values from scikit-learn's
    // `_logistic_loss_and_grad`): one feature 0..9, labels as given there, w = (coef,
    // intercept) and α over a grid.
    let x = SMatrix::<f64, 1, 10>::from_fn(|_, j| j as f64);
    let y =
        SVector::<f64, 10>::from_column_slice(&[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    let ws = [
        (0.0, 0.0),
        (0.0, 1.0),
        (1.0, 0.0),
        (1.0, 1.0),
        (0.0, -1.0),
        (-1.0, 0.0),
        (-1.0, -1.0),
    ];
    let alphas = [0.0, 1.0, 10.0];
    #[rustfmt::skip]
    let losses = [
        6.931471805599453, 6.931471805599453, 6.931471805599453,
        4.652158847349118, 4.652158847349118, 4.652158847349118,
        2.8012999588008323, 3.3012999588008323, 7.801299958800833,
        2.783195429782239, 3.283195429782239, 7.783195429782239,
        10.652158847349117, 10.652158847349117, 10.652158847349117,
        41.80129995880083, 42.30129995880083, 46.80129995880083,
        47.78319542978224, 48.28319542978224, 52.78319542978224,
    ];
    #[rustfmt::skip]
    let grads = [
        (-19.5, -3.0), (-19.5, -3.0), (-19.5, -3.0),
        (-10.48871543, -1.61364853), (-10.48871543, -1.61364853), (-10.48871543, -1.61364853),
        (-0.13041554, -0.02852148), (0.86958446, -0.02852148), (9.86958446, -0.02852148),
        (-0.04834401, -0.01058067), (0.95165599, -0.01058067), (9.95165599, -0.01058067),
        (-28.51128457, -4.38635147), (-28.51128457, -4.38635147), (-28.51128457, -4.38635147),
        (-38.86958446, -5.97147852), (-39.86958446, -5.97147852), (-48.86958446, -5.97147852),
        (-38.95165599, -5.98941933), (-39.95165599, -5.98941933), (-48.95165599, -5.98941933),
    ];
    let mut k = 0;
    for &(coef, b) in &ws {
        for &alpha in &alphas {
            let w = SVector::<f64, 1>::new(coef);
            assert_scalar_close(logistic_loss(&w, b, &x, &y, alpha), losses[k], 1e-12);
            let (value, (gw, gb)) = logistic_loss_value_and_grad(&w, b, &x, &y, alpha);
            assert_scalar_close(value, losses[k], 1e-12);
            assert!(
                (gw[0] - grads[k].0).abs() < 1e-8,
                "case {k}: ∂/∂coef {} vs {}",
                gw[0],
                grads[k].0
            );
            assert!(
                (gb - grads[k].1).abs() < 1e-8,
                "case {k}: ∂/∂b {gb} vs {}",
                grads[k].1
            );
            k += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Linear MPC: a state rollout by reassignment, and a trajectory stored with `set_column`
// ---------------------------------------------------------------------------------------------

/// The finite-horizon linear-quadratic cost of a control sequence by simulation (single
/// shooting): `Σₖ sₖᵀQsₖ + uₖᵀRuₖ + s_TᵀPs_T` with `sₖ₊₁ = A sₖ + B uₖ`, `s₀ = x₀` — the
/// objective of the OSQP documentation's MPC example and of condensed MPC in general.
#[differentiate(wrt = (u, x0))]
fn lqr_rollout_cost(
    u: &SMatrix<f64, 2, 6>,
    x0: &Vector3<f64>,
    a: &Matrix3<f64>,
    b: &Matrix3x2<f64>,
    q: &Matrix3<f64>,
    r: &Matrix2<f64>,
    p: &Matrix3<f64>,
) -> f64 {
    let mut s = *x0;
    let mut cost = 0.0;
    for k in 0..u.ncols() {
        cost += s.dot(&(q * s)) + u.column(k).dot(&(r * u.column(k)));
        s = a * s + b * u.column(k);
    }
    cost + s.dot(&(p * s))
}

/// The adjoint (costate) recursion: `λ_T = (P + Pᵀ) s_T`, `∂J/∂uₖ = (R + Rᵀ) uₖ + Bᵀλₖ₊₁`,
/// `λₖ = (Q + Qᵀ) sₖ + Aᵀλₖ₊₁`, `∂J/∂x₀ = λ₀`.
#[allow(
    clippy::too_many_arguments,
    reason = "the problem data of the cost, as in the cost"
)]
fn lqr_grad_by_hand(
    u: &SMatrix<f64, 2, 6>,
    x0: &Vector3<f64>,
    a: &Matrix3<f64>,
    b: &Matrix3x2<f64>,
    q: &Matrix3<f64>,
    r: &Matrix2<f64>,
    p: &Matrix3<f64>,
) -> (SMatrix<f64, 2, 6>, Vector3<f64>) {
    let mut s = [Vector3::zeros(); 7];
    s[0] = *x0;
    for k in 0..6 {
        s[k + 1] = a * s[k] + b * u.column(k);
    }
    let mut lambda = (p + p.transpose()) * s[6];
    let mut gu = SMatrix::<f64, 2, 6>::zeros();
    for k in (0..6).rev() {
        gu.set_column(
            k,
            &((r + r.transpose()) * u.column(k) + b.transpose() * lambda),
        );
        lambda = (q + q.transpose()) * s[k] + a.transpose() * lambda;
    }
    (gu, lambda)
}

#[test]
fn lqr_rollout() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = 0.6 * rng.matrix::<3, 3>();
        let b = rng.matrix::<3, 2>();
        let (q, r, pm) = (rng.spd::<3>(), rng.spd::<2>(), rng.spd::<3>());
        // A non-symmetric Q as well: the gradient must use Q + Qᵀ.
        let q_ns = q + rng.matrix::<3, 3>();
        let point = (rng.matrix::<2, 6>(), rng.matrix::<3, 1>());
        for q in [q, q_ns] {
            check_fn!(lqr_rollout_cost, lqr_rollout_cost_grad, lqr_rollout_cost_value_and_grad,
                lqr_rollout_cost_hvp; |p, v| (&p.0, &p.1, &a, &b, &q, &r, &pm); (&v.0, &v.1);
                at &point, &mut rng, TOL);
            let (gu, gx) = lqr_rollout_cost_grad(&point.0, &point.1, &a, &b, &q, &r, &pm);
            let (hu, hx) = lqr_grad_by_hand(&point.0, &point.1, &a, &b, &q, &r, &pm);
            assert_close(&gu, &hu, HAND);
            assert_close(&gx, &hx, HAND);
            // J is a quadratic form in (u, x₀), J = ½ zᵀHz, so ∇J(z) = Hz: the Hessian applied
            // to a direction is the gradient at that direction, whatever the point.
            let dir = point.random(&mut rng);
            let (vu, vx) =
                lqr_rollout_cost_hvp(&point.0, &point.1, &a, &b, &q, &r, &pm, &dir.0, &dir.1);
            let (eu, ex) = lqr_grad_by_hand(&dir.0, &dir.1, &a, &b, &q, &r, &pm);
            assert_close(&vu, &eu, HAND_HVP);
            assert_close(&vx, &ex, HAND_HVP);
        }
    }
}

/// Tracking cost of a discretised double integrator: the trajectory is stored column by column
/// with `set_column` (as MPC and trajectory-optimisation code keeps its state matrix), then
/// compared with a reference trajectory, plus a control penalty.
#[differentiate(wrt = u)]
fn double_integrator_tracking(
    u: &RowSVector<f64, 5>,
    x0: &Vector2<f64>,
    a: &Matrix2<f64>,
    b: &Vector2<f64>,
    reference: &SMatrix<f64, 2, 6>,
    rho: f64,
) -> f64 {
    let mut states = SMatrix::<f64, 2, 6>::zeros();
    states.set_column(0, x0);
    for k in 0..5 {
        let next = a * states.column(k) + b * u[k];
        states.set_column(k + 1, &next);
    }
    (states - reference).norm_squared() + rho * u.norm_squared()
}

/// `λ₅ = 2(s₅ − r₅)`, `∂J/∂uₖ = bᵀλₖ₊₁ + 2ρuₖ`, `λₖ = 2(sₖ − rₖ) + Aᵀλₖ₊₁`.
fn tracking_grad_by_hand(
    u: &RowSVector<f64, 5>,
    x0: &Vector2<f64>,
    a: &Matrix2<f64>,
    b: &Vector2<f64>,
    reference: &SMatrix<f64, 2, 6>,
    rho: f64,
) -> RowSVector<f64, 5> {
    let mut s = [*x0; 6];
    for k in 0..5 {
        s[k + 1] = a * s[k] + b * u[k];
    }
    let mut lambda = 2.0 * (s[5] - reference.column(5));
    let mut g = RowSVector::<f64, 5>::zeros();
    for k in (0..5).rev() {
        g[k] = b.dot(&lambda) + 2.0 * rho * u[k];
        lambda = 2.0 * (s[k] - reference.column(k)) + a.transpose() * lambda;
    }
    g
}

#[test]
fn double_integrator_set_column() {
    let dt = 0.1;
    let a = Matrix2::new(1.0, dt, 0.0, 1.0);
    let b = Vector2::new(0.5 * dt * dt, dt);
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x0 = rng.matrix::<2, 1>();
        let reference = rng.matrix::<2, 6>();
        let rho = 0.01;
        let u0 = rng.matrix::<1, 5>();
        check_fn!(double_integrator_tracking, double_integrator_tracking_grad,
            double_integrator_tracking_value_and_grad, double_integrator_tracking_hvp;
            |x, v| (x, &x0, &a, &b, &reference, rho); (v); at &u0, &mut rng, TOL);
        let g = tracking_grad_by_hand(&u0, &x0, &a, &b, &reference, rho);
        assert_close(
            &double_integrator_tracking_grad(&u0, &x0, &a, &b, &reference, rho),
            &g,
            HAND,
        );
        // Quadratic in u: H v = ∇J(v) − ∇J(0).
        let v = rng.matrix::<1, 5>();
        let zero = RowSVector::<f64, 5>::zeros();
        let hv = tracking_grad_by_hand(&v, &x0, &a, &b, &reference, rho)
            - tracking_grad_by_hand(&zero, &x0, &a, &b, &reference, rho);
        assert_close(
            &double_integrator_tracking_hvp(&u0, &x0, &a, &b, &reference, rho, &v),
            &hv,
            HAND_HVP,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 10. A ReLU network: `if t > 0.0 { t } else { 0.0 }` per hidden unit, matrix `+=` and `-=`
// ---------------------------------------------------------------------------------------------

/// Squared error of a one-hidden-layer ReLU network on one sample, the forward pass written
/// unit by unit as from-scratch tutorials do (CS231n's "minimal neural network case study"
/// computes `np.maximum(0, np.dot(X, W) + b)`); column `j` of `w1` feeds hidden unit `j`.
#[differentiate(wrt = (w1, w2))]
fn relu_net_loss(
    w1: &SMatrix<f64, 3, 4>,
    b1: &Vector4<f64>,
    w2: &SMatrix<f64, 2, 4>,
    x: &Vector3<f64>,
    y: &Vector2<f64>,
) -> f64 {
    let mut out = Vector2::zeros();
    for j in 0..4 {
        let t = w1.column(j).dot(x) + b1[j];
        let h = if t > 0.0 { t } else { 0.0 };
        out += w2.column(j) * h;
    }
    out -= y;
    out.norm_squared()
}

/// Backpropagation: `d = 2(W₂h − y)`, `∇W₂ = d hᵀ`, column `j` of `∇W₁` is
/// `(W₂ⱼ · d) x` for an active unit and zero for an inactive one.
fn relu_net_grad_by_hand(
    w1: &SMatrix<f64, 3, 4>,
    b1: &Vector4<f64>,
    w2: &SMatrix<f64, 2, 4>,
    x: &Vector3<f64>,
    y: &Vector2<f64>,
) -> (SMatrix<f64, 3, 4>, SMatrix<f64, 2, 4>) {
    let t = w1.transpose() * x + b1;
    let h = t.map(|s| if s > 0.0 { s } else { 0.0 });
    let d = 2.0 * (w2 * h - y);
    let mut g1 = SMatrix::<f64, 3, 4>::zeros();
    for j in 0..4 {
        if t[j] > 0.0 {
            g1.set_column(j, &(w2.column(j).dot(&d) * x));
        }
    }
    (g1, d * h.transpose())
}

#[test]
fn relu_network_active_and_inactive_units() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let y = rng.matrix::<2, 1>();
        // Pre-activations away from 0, at least one unit on each side.
        let (w1, b1) = draw_until(
            &mut rng,
            |r| (r.matrix::<3, 4>(), r.matrix::<4, 1>()),
            |(w1, b1)| {
                let t = w1.transpose() * x + b1;
                t.iter().all(|s| s.abs() > 0.1)
                    && t.iter().any(|&s| s > 0.0)
                    && t.iter().any(|&s| s < 0.0)
            },
        );
        let w2 = rng.matrix::<2, 4>();
        check_fn!(relu_net_loss, relu_net_loss_grad, relu_net_loss_value_and_grad,
            relu_net_loss_hvp; |p, v| (&p.0, &b1, &p.1, &x, &y); (&v.0, &v.1);
            at &(w1, w2), &mut rng, TOL);
        let (g1, g2) = relu_net_loss_grad(&w1, &b1, &w2, &x, &y);
        let (e1, e2) = relu_net_grad_by_hand(&w1, &b1, &w2, &x, &y);
        assert_close(&g1, &e1, HAND);
        assert_close(&g2, &e2, HAND);
        // An inactive unit passes no gradient to its incoming weights, and no curvature.
        let t = w1.transpose() * x + b1;
        let dir = (rng.matrix::<3, 4>(), rng.matrix::<2, 4>());
        let (h1, _) = relu_net_loss_hvp(&w1, &b1, &w2, &x, &y, &dir.0, &dir.1);
        for j in (0..4).filter(|&j| t[j] < 0.0) {
            assert_exactly_zero(&g1.column(j).into_owned(), "∇W₁ column of an inactive unit");
            assert_exactly_zero(
                &h1.column(j).into_owned(),
                "H·V in W₁ column of an inactive unit",
            );
            assert_exactly_zero(&g2.column(j).into_owned(), "∇W₂ column of an inactive unit");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Guarded square roots: `if h2 > 0.0 { h2.sqrt() } else { 0.0 }` and a ray tracer's
//     early returns
// ---------------------------------------------------------------------------------------------

/// Height of a spherical cap of radius `radius` centred at `center`, over the point `p` of
/// the plane, and zero off the cap — the `sqrt(max(r² − d², 0))` of height fields and
/// contact models, written with the guard that keeps `sqrt` away from negative numbers.
#[differentiate(wrt = p)]
fn cap_height(p: &Vector2<f64>, center: &Vector2<f64>, radius: f64) -> f64 {
    let h2 = radius * radius - (p - center).norm_squared();
    if h2 > 0.0 {
        h2.sqrt()
    } else {
        0.0
    }
}

#[test]
fn cap_height_inside_and_outside() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let center = rng.matrix::<2, 1>();
        let radius = 1.0 + 0.5 * rng.uniform();
        for (lo, hi) in [(0.0, 0.9), (1.1, 3.0)] {
            let p0 = draw_until(
                &mut rng,
                |r| center + 3.0 * radius * r.matrix::<2, 1>(),
                |p| {
                    let d = (p - center).norm() / radius;
                    d > lo && d < hi
                },
            );
            let d = p0 - center;
            let h = (radius * radius - d.norm_squared()).max(0.0).sqrt();
            let v = rng.matrix::<2, 1>();
            if h > 0.0 {
                check_fn!(cap_height, cap_height_grad, cap_height_value_and_grad, cap_height_hvp;
                    |x, v| (x, &center, radius); (v); at &p0, &mut rng, TOL);
                // ∇h = −d/h, ∇²h = −I/h − d dᵀ/h³.
                assert_close(&cap_height_grad(&p0, &center, radius), &(-d / h), HAND);
                let hess = -Matrix2::identity() / h - d * d.transpose() / h.powi(3);
                assert_close(
                    &cap_height_hvp(&p0, &center, radius, &v),
                    &(hess * v),
                    HAND_HVP,
                );
            } else {
                // Off the cap: the derivative of the constant branch, exactly 0 — not the NaN of
                // differentiating √ of a negative number.
                assert_eq!(cap_height(&p0, &center, radius), 0.0);
                assert_exactly_zero(
                    &cap_height_grad(&p0, &center, radius),
                    "cap_height_grad off the cap",
                );
                assert_exactly_zero(
                    &cap_height_hvp(&p0, &center, radius, &v),
                    "cap_height_hvp off the cap",
                );
                let (value, g) = cap_height_value_and_grad(&p0, &center, radius);
                assert_eq!(value, 0.0);
                assert_exactly_zero(&g, "cap_height_value_and_grad off the cap");
            }
        }
    }
}

/// Distance along the ray `orig + t dir` (unit `dir`) to the first intersection in front of
/// its origin with a sphere, infinite when there is none: `Sphere::ray_intersect` of
/// ssloy/tinyraytracer (`if (d2 > radius*radius) return false; float thc = sqrtf(..);
/// t0 = tca - thc; .. if (t0 < 0) t0 = t1; if (t0 < 0) return false;`), returning the
/// distance instead of a flag. Differentiated with respect to the sphere's centre.
#[differentiate(wrt = center)]
fn ray_sphere_distance(
    center: &Vector3<f64>,
    orig: &Vector3<f64>,
    dir: &Vector3<f64>,
    radius: f64,
) -> f64 {
    debug_assert!(radius > 0.0);
    let l = center - orig;
    let tca = l.dot(dir);
    let d2 = l.dot(&l) - tca * tca;
    if d2 > radius * radius {
        return f64::INFINITY;
    }
    let thc = (radius * radius - d2).sqrt();
    let mut t0 = tca - thc;
    let t1 = tca + thc;
    if t0 < 0.0 {
        t0 = t1;
    }
    if t0 < 0.0 {
        return f64::INFINITY;
    }
    t0
}

/// Where the ray meets the sphere: `∇ = dir ∓ (l − tca dir)/thc` (near side `−thc`: `+`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum RayCase {
    /// The origin is outside, the sphere in front: the near intersection `tca − thc`.
    NearSide,
    /// The origin is inside the sphere: the far intersection `tca + thc`.
    Inside,
    /// The sphere is behind the origin.
    Behind,
    /// The line misses the sphere.
    Miss,
}

#[test]
fn ray_sphere_all_four_cases() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let radius = 1.0 + 0.5 * rng.uniform();
        let orig = rng.matrix::<3, 1>();
        let dir = rng.matrix::<3, 1>().normalize();
        // A unit vector orthogonal to the ray.
        let w = rng.matrix::<3, 1>();
        let side = (w - dir * dir.dot(&w)).normalize();
        for case in [
            RayCase::NearSide,
            RayCase::Inside,
            RayCase::Behind,
            RayCase::Miss,
        ] {
            // Offset from the ray (in radii) and position along it (in radii).
            let (offset, along) = match case {
                RayCase::NearSide => (0.6 * rng.uniform(), 3.0 + rng.uniform()),
                RayCase::Inside => (0.5 * rng.uniform(), 0.3 * rng.uniform()),
                RayCase::Behind => (0.6 * rng.uniform(), -3.0 - rng.uniform()),
                RayCase::Miss => (1.2 + rng.uniform().abs(), 2.0 * rng.uniform()),
            };
            let center = orig + radius * (along * dir + offset * side);
            let l = center - orig;
            let tca = l.dot(&dir);
            let perp = l - tca * dir;
            let v = rng.matrix::<3, 1>();
            match case {
                RayCase::NearSide | RayCase::Inside => {
                    check_fn!(ray_sphere_distance, ray_sphere_distance_grad,
                        ray_sphere_distance_value_and_grad, ray_sphere_distance_hvp;
                        |x, v| (x, &orig, &dir, radius); (v); at &center, &mut rng, TOL);
                    let thc = (radius * radius - perp.norm_squared()).sqrt();
                    let (t0, g) = if case == RayCase::NearSide {
                        (tca - thc, dir + perp / thc)
                    } else {
                        (tca + thc, dir - perp / thc)
                    };
                    assert_scalar_close(
                        ray_sphere_distance(&center, &orig, &dir, radius),
                        t0,
                        1e-12,
                    );
                    assert_close(
                        &ray_sphere_distance_grad(&center, &orig, &dir, radius),
                        &g,
                        HAND,
                    );
                }
                RayCase::Behind | RayCase::Miss => {
                    assert_eq!(
                        ray_sphere_distance(&center, &orig, &dir, radius),
                        f64::INFINITY
                    );
                    let what = format!("{case:?}");
                    assert_exactly_zero(
                        &ray_sphere_distance_grad(&center, &orig, &dir, radius),
                        &what,
                    );
                    assert_exactly_zero(
                        &ray_sphere_distance_hvp(&center, &orig, &dir, radius, &v),
                        &what,
                    );
                    let (value, g) =
                        ray_sphere_distance_value_and_grad(&center, &orig, &dir, radius);
                    assert_eq!(value, f64::INFINITY);
                    assert_exactly_zero(&g, &what);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 12. A log barrier with an early `return` from inside the loop
// ---------------------------------------------------------------------------------------------

/// The barrier objective `t cᵀx − Σ ln(bᵢ − aᵢᵀx)` of an inequality-form linear program
/// (Boyd & Vandenberghe, *Convex Optimization*, §11.2), `+∞` outside the domain as
/// interior-point line searches expect: the loop returns as soon as a slack is not positive.
#[differentiate(wrt = x)]
fn lp_barrier(
    x: &Vector3<f64>,
    c: &Vector3<f64>,
    a: &SMatrix<f64, 4, 3>,
    b: &Vector4<f64>,
    t: f64,
) -> f64 {
    let slack = b - a * x;
    let mut phi = t * c.dot(x);
    for i in 0..4 {
        if slack[i] <= 0.0 {
            return f64::INFINITY;
        }
        phi -= slack[i].ln();
    }
    phi
}

#[test]
fn lp_barrier_feasible_and_infeasible() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<4, 3>();
        let c = rng.matrix::<3, 1>();
        let x0 = rng.matrix::<3, 1>();
        let t = 2.0;
        let slack = rng.matrix::<4, 1>().map(|s| 0.5 + s.abs());
        let b = a * x0 + slack;
        check_fn!(lp_barrier, lp_barrier_grad, lp_barrier_value_and_grad, lp_barrier_hvp;
            |x, v| (x, &c, &a, &b, t); (v); at &x0, &mut rng, TOL);
        // ∇ = t c + Aᵀ s⁻¹, ∇² = Aᵀ diag(s⁻²) A.
        let inv = slack.map(|s| 1.0 / s);
        assert_close(
            &lp_barrier_grad(&x0, &c, &a, &b, t),
            &(t * c + a.transpose() * inv),
            HAND,
        );
        let v = rng.matrix::<3, 1>();
        let hv = a.transpose() * inv.component_mul(&inv).component_mul(&(a * v));
        assert_close(&lp_barrier_hvp(&x0, &c, &a, &b, t, &v), &hv, HAND_HVP);

        // One violated constraint, first, in the middle, or last (after the others have
        // contributed to `phi`): +∞ and a zero derivative.
        for violated in [0, 2, 3] {
            let mut bad = b;
            bad[violated] -= slack[violated] + 0.5;
            assert_eq!(lp_barrier(&x0, &c, &a, &bad, t), f64::INFINITY);
            assert_exactly_zero(
                &lp_barrier_grad(&x0, &c, &a, &bad, t),
                "lp_barrier_grad outside",
            );
            assert_exactly_zero(
                &lp_barrier_hvp(&x0, &c, &a, &bad, t, &v),
                "lp_barrier_hvp outside",
            );
            let (value, g) = lp_barrier_value_and_grad(&x0, &c, &a, &bad, t);
            assert_eq!(value, f64::INFINITY);
            assert_exactly_zero(&g, "lp_barrier_value_and_grad outside");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 13. Powell's singular function: `match` on a `usize` parameter, called from a loop
// ---------------------------------------------------------------------------------------------

/// One squared residual `rₜ²` of Powell's singular function (Moré, Garbow & Hillstrom,
/// "Testing unconstrained optimization software", 1981, problem 13), selected by `term`.
#[differentiate(wrt = x)]
fn powell_singular_term(x: &Vector4<f64>, term: usize) -> f64 {
    let r = match term {
        0 => x[0] + 10.0 * x[1],
        1 => 5.0_f64.sqrt() * (x[2] - x[3]),
        2 => (x[1] - 2.0 * x[2]).powi(2),
        _ => 10.0_f64.sqrt() * (x[0] - x[3]).powi(2),
    };
    r * r
}

/// Powell's singular function `Σₜ rₜ²`, the terms summed by a loop whose index selects them.
#[differentiate(wrt = x)]
fn powell_singular(x: &Vector4<f64>) -> f64 {
    let mut f = 0.0;
    for term in 0..4 {
        f += powell_singular_term(x, term);
    }
    f
}

/// The gradient of each squared residual.
fn powell_term_grad_by_hand(x: &Vector4<f64>, term: usize) -> Vector4<f64> {
    match term {
        0 => 2.0 * (x[0] + 10.0 * x[1]) * Vector4::new(1.0, 10.0, 0.0, 0.0),
        1 => 10.0 * (x[2] - x[3]) * Vector4::new(0.0, 0.0, 1.0, -1.0),
        2 => 4.0 * (x[1] - 2.0 * x[2]).powi(3) * Vector4::new(0.0, 1.0, -2.0, 0.0),
        _ => 40.0 * (x[0] - x[3]).powi(3) * Vector4::new(1.0, 0.0, 0.0, -1.0),
    }
}

#[test]
fn powell_singular_match_arms() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x0 = rng.matrix::<4, 1>();
        for term in 0..6 {
            check_fn!(powell_singular_term, powell_singular_term_grad,
                powell_singular_term_value_and_grad, powell_singular_term_hvp;
                |x, v| (x, term); (v); at &x0, &mut rng, TOL);
            assert_close(
                &powell_singular_term_grad(&x0, term),
                &powell_term_grad_by_hand(&x0, term),
                HAND,
            );
        }
        check_fn!(powell_singular, powell_singular_grad, powell_singular_value_and_grad,
            powell_singular_hvp; |x, v| (x); (v); at &x0, &mut rng, TOL);
        let expected = (0..4).fold(Vector4::zeros(), |acc, t| {
            acc + powell_term_grad_by_hand(&x0, t)
        });
        assert_close(&powell_singular_grad(&x0), &expected, HAND);
    }
    // MGH's standard starting point (3, −1, 0, 1), where f = 215.
    let start = Vector4::new(3.0, -1.0, 0.0, 1.0);
    assert_scalar_close(powell_singular(&start), 215.0, 1e-14);
    // At the minimiser 0 the Hessian is singular: 2(a aᵀ + 5 b bᵀ), a = (1, 10, 0, 0),
    // b = (0, 0, 1, −1); the quartic terms contribute nothing.
    let zero = Vector4::zeros();
    assert_exactly_zero(&powell_singular_grad(&zero), "powell_singular_grad at 0");
    let (a, b) = (
        Vector4::new(1.0, 10.0, 0.0, 0.0),
        Vector4::new(0.0, 0.0, 1.0, -1.0),
    );
    let h = 2.0 * (a * a.transpose() + 5.0 * b * b.transpose());
    assert_close(
        &hessian_from_hvp(|v| powell_singular_hvp(&zero, v)),
        &h,
        HAND_HVP,
    );
}

// ---------------------------------------------------------------------------------------------
// 14. Likelihoods: a Gaussian in (μ, ln σ), and the Kalman filter of the Nile local level model
// ---------------------------------------------------------------------------------------------

/// The mean negative log-likelihood of i.i.d. normal samples in `(μ, ln σ)`,
/// `(1/K) Σ [½ zᵢ² + ln σ + ½ ln 2π]`, `zᵢ = (yᵢ − μ)/σ` (the `normal_lpdf` of Stan and
/// `scipy.stats.norm.logpdf`, summed by a loop and averaged with `/=`).
#[differentiate(wrt = (mu, log_sigma))]
fn gaussian_nll<const K: usize>(mu: f64, log_sigma: f64, y: &SVector<f64, K>) -> f64 {
    let sigma = log_sigma.exp();
    let mut nll = 0.0;
    for i in 0..K {
        let z = (y[i] - mu) / sigma;
        nll += 0.5 * z * z + log_sigma + 0.5 * (2.0 * PI).ln();
    }
    nll /= K as f64;
    nll
}

/// `∂/∂μ = −mean(z)/σ`, `∂/∂ln σ = 1 − mean(z²)`.
fn gaussian_nll_grad_by_hand<const K: usize>(
    mu: f64,
    log_sigma: f64,
    y: &SVector<f64, K>,
) -> (f64, f64) {
    let sigma = log_sigma.exp();
    let z = y.map(|t| (t - mu) / sigma);
    (-z.mean() / sigma, 1.0 - z.norm_squared() / K as f64)
}

#[test]
fn gaussian_nll_scalar_parameters() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let y = rng.matrix::<20, 1>().map(|t| 3.0 + 1.5 * t);
        let p = (3.0 + rng.normal(), 0.4 * rng.normal());
        check_fn!(gaussian_nll, gaussian_nll_grad, gaussian_nll_value_and_grad, gaussian_nll_hvp;
            |p, v| (p.0, p.1, &y); (v.0, v.1); at &p, &mut rng, TOL);
        let (gm, gs) = gaussian_nll_grad(p.0, p.1, &y);
        let (em, es) = gaussian_nll_grad_by_hand(p.0, p.1, &y);
        assert_scalar_close(gm, em, HAND);
        assert_scalar_close(gs, es, HAND);
        // At the maximum-likelihood estimate (sample mean, population standard deviation)
        // the gradient vanishes.
        let mean = y.mean();
        let sd = (y.map(|t| (t - mean).powi(2)).sum() / 20.0).sqrt();
        let (gm, gs) = gaussian_nll_grad(mean, sd.ln(), &y);
        assert!(
            gm.abs() < 1e-12 && gs.abs() < 1e-12,
            "gradient at the MLE: ({gm:e}, {gs:e})"
        );
    }
}

/// Annual flow of the Nile at Aswan, 1871–1970 (10⁸ m³; R's `datasets::Nile`, the running
/// example of Durbin & Koopman, *Time Series Analysis by State Space Methods*).
#[rustfmt::skip]
const NILE: [f64; 100] = [
    1120.0, 1160.0, 963.0, 1210.0, 1160.0, 1160.0, 813.0, 1230.0, 1370.0, 1140.0,
    995.0, 935.0, 1110.0, 994.0, 1020.0, 960.0, 1180.0, 799.0, 958.0, 1140.0,
    1100.0, 1210.0, 1150.0, 1250.0, 1260.0, 1220.0, 1030.0, 1100.0, 774.0, 840.0,
    874.0, 694.0, 940.0, 833.0, 701.0, 916.0, 692.0, 1020.0, 1050.0, 969.0,
    831.0, 726.0, 456.0, 824.0, 702.0, 1120.0, 1100.0, 832.0, 764.0, 821.0,
    768.0, 845.0, 864.0, 862.0, 698.0, 845.0, 744.0, 796.0, 1040.0, 759.0,
    781.0, 865.0, 845.0, 944.0, 984.0, 897.0, 822.0, 1010.0, 771.0, 676.0,
    649.0, 846.0, 812.0, 742.0, 801.0, 1040.0, 860.0, 874.0, 848.0, 890.0,
    744.0, 749.0, 838.0, 1050.0, 918.0, 986.0, 797.0, 923.0, 975.0, 815.0,
    1020.0, 906.0, 901.0, 1170.0, 912.0, 746.0, 919.0, 718.0, 714.0, 740.0,
];

/// Negative log-likelihood of the local level model `yₜ = αₜ + εₜ`, `αₜ₊₁ = αₜ + ηₜ` on the
/// Nile data by the Kalman filter (Durbin & Koopman §2.10), in `θ = (ln σ²_ε, ln σ²_η)`. The
/// diffuse prior is handled as they do: after the first observation `a₂ = y₁`,
/// `P₂ = σ²_ε + σ²_η`, and the prediction errors of `y₂ … yₙ` enter the likelihood.
#[differentiate(wrt = theta)]
#[allow(
    clippy::needless_range_loop,
    reason = "the filter's time loop, written over indices as state-space code writes it"
)]
fn local_level_nll(theta: &Vector2<f64>) -> f64 {
    let sigma_eps2 = theta[0].exp();
    let sigma_eta2 = theta[1].exp();
    let mut a = NILE[0];
    let mut p = sigma_eps2 + sigma_eta2;
    let mut nll = 0.0;
    for t in 1..NILE.len() {
        let v = NILE[t] - a;
        let f = p + sigma_eps2;
        let k = p / f;
        nll += 0.5 * ((2.0 * PI).ln() + f.ln() + v * v / f);
        a += k * v;
        p *= 1.0 - k;
        p += sigma_eta2;
    }
    nll
}

/// The filter run forward together with the derivatives of its state `(a, P)` with respect to
/// `θ` (the sensitivity equations), accumulating `∂ nll/∂θ`.
fn local_level_grad_by_hand(theta: &Vector2<f64>) -> Vector2<f64> {
    let (se, sn) = (theta[0].exp(), theta[1].exp());
    let (mut a, mut p) = (NILE[0], se + sn);
    let (mut da, mut dp) = (Vector2::zeros(), Vector2::new(se, sn));
    let mut g = Vector2::zeros();
    for &y in &NILE[1..] {
        let v = y - a;
        let dv = -da;
        let f = p + se;
        let df = dp + Vector2::new(se, 0.0);
        let k = p / f;
        let dk = (dp * f - p * df) / (f * f);
        g += 0.5 * (df / f + 2.0 * v * dv / f - v * v * df / (f * f));
        a += k * v;
        da += dk * v + k * dv;
        let p_next = p * (1.0 - k) + sn;
        dp = dp * (1.0 - k) - p * dk + Vector2::new(0.0, sn);
        p = p_next;
    }
    g
}

#[test]
fn nile_local_level_kalman_filter() {
    // Durbin & Koopman's maximum-likelihood estimates: σ²_ε = 15099, σ²_η = 1469.1.
    let mle = Vector2::new(15099.0_f64.ln(), 1469.1_f64.ln());
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let theta = mle + 0.5 * Vector2::new(rng.uniform(), rng.uniform());
        check_fn!(local_level_nll, local_level_nll_grad, local_level_nll_value_and_grad,
            local_level_nll_hvp; |x, v| (x); (v); at &theta, &mut rng, TOL);
        assert_close(
            &local_level_nll_grad(&theta),
            &local_level_grad_by_hand(&theta),
            HAND,
        );
    }
    // The published estimates are a stationary point up to their printed digits, and a
    // minimum: the Hessian there is positive definite.
    let g = local_level_nll_grad(&mle);
    assert!(
        g.norm() < 1e-2,
        "gradient at Durbin & Koopman's estimates: {g}"
    );
    let h = hessian_from_hvp(|v| local_level_nll_hvp(&mle, v));
    assert!(
        h[(0, 0)] > 0.0 && h.determinant() > 0.0,
        "Hessian at the estimates: {h}"
    );
    // Newton's method with the generated derivatives, started at the rounded estimates,
    // converges to the unrounded ones (σ²_ε = 15098.5, σ²_η = 1469.18).
    let theta = newton(local_level_nll_grad, local_level_nll_hvp, mle, 10);
    assert!(
        local_level_nll_grad(&theta).norm() < 1e-8,
        "Newton did not converge: {theta}"
    );
    let (sigma_eps2, sigma_eta2) = (theta[0].exp(), theta[1].exp());
    assert!(
        (sigma_eps2 - 15099.0).abs() < 1.0 && (sigma_eta2 - 1469.1).abs() < 0.1,
        "estimates σ²_ε = {sigma_eps2}, σ²_η = {sigma_eta2}"
    );
}

// ---------------------------------------------------------------------------------------------
// 15. Total variation denoising: nested loops over `m[(i, j)]`, entry writes, a `const` item
// ---------------------------------------------------------------------------------------------

/// The smoothed total-variation (ROF) denoising energy
/// `½‖u − f‖² + λ Σᵢⱼ √(dxᵢⱼ² + dyᵢⱼ² + ε²)` with forward differences and Neumann boundary
/// (differences past the last row or column are zero), as in Rudin–Osher–Fatemi (1992) and
/// Chambolle (2004); the difference images are filled entry by entry first.
#[differentiate(wrt = u)]
fn tv_energy<const R: usize, const C: usize>(
    u: &SMatrix<f64, R, C>,
    f: &SMatrix<f64, R, C>,
    lambda: f64,
) -> f64 {
    const EPS: f64 = 1e-2;
    let (rows, cols) = u.shape();
    let mut dx = SMatrix::<f64, R, C>::zeros();
    let mut dy = SMatrix::<f64, R, C>::zeros();
    for i in 0..rows {
        for j in 0..cols {
            if i + 1 < rows {
                dy[(i, j)] = u[(i + 1, j)] - u[(i, j)];
            }
            if j + 1 < cols {
                dx[(i, j)] = u[(i, j + 1)] - u[(i, j)];
            }
        }
    }
    let mut energy = 0.0;
    for i in 0..u.nrows() {
        for j in 0..u.ncols() {
            let fidelity = 0.5 * (u[(i, j)] - f[(i, j)]).powi(2);
            energy +=
                fidelity + lambda * (dx[(i, j)].powi(2) + dy[(i, j)].powi(2) + EPS * EPS).sqrt();
        }
    }
    energy
}

/// `u − f` plus, for each pixel with magnitude `m = √(dx² + dy² + ε²)`, `λ dx/m` scattered to
/// `(i, j+1)` and subtracted at `(i, j)`, and likewise `λ dy/m` to `(i+1, j)`.
fn tv_grad_by_hand<const R: usize, const C: usize>(
    u: &SMatrix<f64, R, C>,
    f: &SMatrix<f64, R, C>,
    lambda: f64,
) -> SMatrix<f64, R, C> {
    let mut g = u - f;
    for i in 0..R {
        for j in 0..C {
            let dx = if j + 1 < C {
                u[(i, j + 1)] - u[(i, j)]
            } else {
                0.0
            };
            let dy = if i + 1 < R {
                u[(i + 1, j)] - u[(i, j)]
            } else {
                0.0
            };
            let m = (dx * dx + dy * dy + 1e-4).sqrt();
            if j + 1 < C {
                g[(i, j + 1)] += lambda * dx / m;
                g[(i, j)] -= lambda * dx / m;
            }
            if i + 1 < R {
                g[(i + 1, j)] += lambda * dy / m;
                g[(i, j)] -= lambda * dy / m;
            }
        }
    }
    g
}

/// The smallest `√(dx² + dy²)` over the pixels that have a neighbour: where it is small, the
/// smoothed TV term bends sharply (curvature `λ/ε`) and finite differences lose accuracy.
fn smallest_difference<const R: usize, const C: usize>(u: &SMatrix<f64, R, C>) -> f64 {
    let mut smallest = f64::INFINITY;
    for i in 0..R {
        for j in 0..C {
            let dx = if j + 1 < C {
                u[(i, j + 1)] - u[(i, j)]
            } else {
                0.0
            };
            let dy = if i + 1 < R {
                u[(i + 1, j)] - u[(i, j)]
            } else {
                0.0
            };
            if i + 1 < R || j + 1 < C {
                smallest = smallest.min((dx * dx + dy * dy).sqrt());
            }
        }
    }
    smallest
}

#[test]
fn tv_denoising_nested_loops() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let f = rng.matrix::<4, 5>();
        let u0 = draw_until(
            &mut rng,
            |r| r.matrix::<4, 5>(),
            |u| smallest_difference(u) > 0.1,
        );
        let lambda = 0.5;
        check_fn!(tv_energy, tv_energy_grad, tv_energy_value_and_grad, tv_energy_hvp;
            |x, v| (x, &f, lambda); (v); at &u0, &mut rng, TOL);
        assert_close(
            &tv_energy_grad(&u0, &f, lambda),
            &tv_grad_by_hand(&u0, &f, lambda),
            HAND,
        );
        // A single row and a single column: one of the two difference images stays zero.
        let row = draw_until(
            &mut rng,
            |r| r.matrix::<1, 6>(),
            |u| smallest_difference(u) > 0.1,
        );
        let frow = rng.matrix::<1, 6>();
        check_fn!(tv_energy, tv_energy_grad, tv_energy_value_and_grad, tv_energy_hvp;
            |x, v| (x, &frow, lambda); (v); at &row, &mut rng, TOL);
        assert_close(
            &tv_energy_grad(&row, &frow, lambda),
            &tv_grad_by_hand(&row, &frow, lambda),
            HAND,
        );
        let col = rng.matrix::<3, 1>();
        let fcol = rng.matrix::<3, 1>();
        assert_close(
            &tv_energy_grad(&col, &fcol, lambda),
            &tv_grad_by_hand(&col, &fcol, lambda),
            HAND,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 16. Residual vectors assembled entry by entry: Broyden tridiagonal and a spring chain
// ---------------------------------------------------------------------------------------------

/// The Broyden tridiagonal function (Moré, Garbow & Hillstrom 1981, problem 30): `‖r‖²` with
/// `rᵢ = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1` and `x₀ = xₙ₊₁ = 0`, the residual built in a
/// `let mut` vector with the boundary handled by `if` on the index.
#[differentiate(wrt = x)]
fn broyden_tridiagonal<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let mut r = SVector::<f64, N>::zeros();
    for i in 0..N {
        r[i] = (3.0 - 2.0 * x[i]) * x[i] + 1.0;
        if i > 0 {
            r[i] -= x[i - 1];
        }
        if i + 1 < N {
            r[i] -= 2.0 * x[i + 1];
        }
    }
    r.norm_squared()
}

/// The residual and its tridiagonal Jacobian (`3 − 4xᵢ` on the diagonal, `−1` below, `−2`
/// above).
fn broyden_residual_and_jacobian<const N: usize>(
    x: &SVector<f64, N>,
) -> (SVector<f64, N>, SMatrix<f64, N, N>) {
    let r = SVector::<f64, N>::from_fn(|i, _| {
        let prev = if i > 0 { x[i - 1] } else { 0.0 };
        let next = if i + 1 < N { x[i + 1] } else { 0.0 };
        (3.0 - 2.0 * x[i]) * x[i] - prev - 2.0 * next + 1.0
    });
    let j = SMatrix::<f64, N, N>::from_fn(|i, k| {
        if k == i {
            3.0 - 4.0 * x[i]
        } else if k + 1 == i {
            -1.0
        } else if k == i + 1 {
            -2.0
        } else {
            0.0
        }
    });
    (r, j)
}

#[track_caller]
fn check_broyden_at<const N: usize>(x0: &SVector<f64, N>, rng: &mut Rng) {
    check_fn!(broyden_tridiagonal, broyden_tridiagonal_grad, broyden_tridiagonal_value_and_grad,
        broyden_tridiagonal_hvp; |x, v| (x); (v); at x0, rng, TOL);
    let (r, j) = broyden_residual_and_jacobian(x0);
    assert_scalar_close(broyden_tridiagonal(x0), r.norm_squared(), 1e-12);
    // ∇ = 2Jᵀr, H = 2JᵀJ + 2 Σ rᵢ ∇²rᵢ = 2JᵀJ − 8 diag(r).
    assert_close(
        &broyden_tridiagonal_grad(x0),
        &(2.0 * j.transpose() * r),
        HAND,
    );
    let v = x0.random(rng);
    let hv = 2.0 * j.transpose() * (j * v) - 8.0 * r.component_mul(&v);
    assert_close(&broyden_tridiagonal_hvp(x0, &v), &hv, HAND_HVP);
}

#[test]
fn broyden_tridiagonal_index_branches() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        // N = 1 takes neither boundary branch, N = 2 only the boundary ones.
        check_broyden_at(&rng.matrix::<1, 1>(), &mut rng);
        check_broyden_at(&rng.matrix::<2, 1>(), &mut rng);
        check_broyden_at(&rng.matrix::<7, 1>(), &mut rng);
    }
    // MGH's standard starting point x = (−1, …, −1).
    let start = SVector::<f64, 10>::repeat(-1.0);
    let (r, j) = broyden_residual_and_jacobian(&start);
    assert_close(
        &broyden_tridiagonal_grad(&start),
        &(2.0 * j.transpose() * r),
        HAND,
    );
}

/// Stiffness of each spring of the chain.
const STIFFNESS: [f64; 5] = [1.0, 2.0, 1.5, 3.0, 0.5];

/// Out-of-balance force of a chain of five springs between six nodes on a line, node 0 fixed
/// and a load on the last node: each spring's tension is added to one end node and subtracted
/// from the other (the element-by-element assembly of finite-element codes), the fixed node's
/// row is zeroed as a Dirichlet condition, and the squared norm is what an equilibrium solver
/// drives to zero.
#[differentiate(wrt = pos)]
fn spring_chain_residual(pos: &SVector<f64, 6>, rest: f64, load: f64) -> f64 {
    let mut force = SVector::<f64, 6>::zeros();
    for e in 0..5 {
        let tension = STIFFNESS[e] * (pos[e + 1] - pos[e] - rest);
        force[e] += tension;
        force[e + 1] -= tension;
    }
    force[5] += load;
    force[0] = 0.0;
    force.norm_squared()
}

/// The force is affine in `pos`, `F = K pos + c` with row 0 of `K` zero; `∇ = 2 Kᵀ F`.
fn spring_chain_grad_by_hand(pos: &SVector<f64, 6>, rest: f64, load: f64) -> SVector<f64, 6> {
    let mut stiffness = SMatrix::<f64, 6, 6>::zeros();
    let mut constant = SVector::<f64, 6>::zeros();
    for (e, &k) in STIFFNESS.iter().enumerate() {
        // Tension k (pos[e+1] − pos[e] − rest): +k on node e, −k on node e + 1.
        stiffness[(e, e + 1)] += k;
        stiffness[(e, e)] -= k;
        stiffness[(e + 1, e + 1)] -= k;
        stiffness[(e + 1, e)] += k;
        constant[e] -= k * rest;
        constant[e + 1] += k * rest;
    }
    constant[5] += load;
    stiffness.set_row(0, &SMatrix::<f64, 1, 6>::zeros());
    constant[0] = 0.0;
    let force = stiffness * pos + constant;
    2.0 * stiffness.transpose() * force
}

#[test]
fn spring_chain_scattered_accumulation() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let pos = SVector::<f64, 6>::from_fn(|i, _| i as f64 + 0.2 * rng.normal());
        let (rest, load) = (1.0, 0.7);
        check_fn!(spring_chain_residual, spring_chain_residual_grad,
            spring_chain_residual_value_and_grad, spring_chain_residual_hvp;
            |x, v| (x, rest, load); (v); at &pos, &mut rng, TOL);
        assert_close(
            &spring_chain_residual_grad(&pos, rest, load),
            &spring_chain_grad_by_hand(&pos, rest, load),
            HAND,
        );
        // Quadratic: H v = ∇(v) − ∇(0), the same at every point.
        let v = rng.matrix::<6, 1>();
        let zero = SVector::<f64, 6>::zeros();
        let hv = spring_chain_grad_by_hand(&v, rest, load)
            - spring_chain_grad_by_hand(&zero, rest, load);
        assert_close(
            &spring_chain_residual_hvp(&pos, rest, load, &v),
            &hv,
            HAND_HVP,
        );
        // Node 0 is fixed: its own residual is dropped, but it still pulls on node 1.
        let g = spring_chain_residual_grad(&pos, rest, load);
        assert!(g[0] != 0.0);
    }
    // The equilibrium: every spring carries the load, so each is stretched by load / k.
    let (rest, load) = (1.0, 0.7);
    let mut eq = SVector::<f64, 6>::zeros();
    for e in 0..5 {
        eq[e + 1] = eq[e] + rest + load / STIFFNESS[e];
    }
    assert!(spring_chain_residual(&eq, rest, load) < 1e-24);
    assert!(spring_chain_residual_grad(&eq, rest, load).norm() < 1e-12);
}
