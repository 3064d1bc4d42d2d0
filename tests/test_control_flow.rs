//! The constructs of the language inside the body that the real-code tests do not reach:
//! `.product()`, `.take()`, `.rev()`, `.step_by()`, `fixed_view_mut(..).copy_from(..)`,
//! `set_row`, `match` with ranges on a `usize` parameter, deferred initialisation,
//! `assert_eq!`, closures bound with `let` that capture a differentiated parameter, loops kept
//! as loops (const-generic trip counts) that carry a matrix and branch inside, calls to other
//! differentiated functions from inside a kept loop, and a branch whose untaken side would
//! panic. Each is checked against finite differences (gradient, HVP, symmetry, value) and,
//! where short, a gradient derived by hand.

mod common;

use common::{assert_close, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, SMatrix, SVector, Vector3, Vector4};
use matdiff::runtime::Rng;

/// `Π (1 + xᵢ²)` over the first three entries, by `.take(3).product()`.
#[differentiate(wrt = x)]
fn product_of_first(x: &Vector4<f64>) -> f64 {
    x.iter().take(3).map(|&t| 1.0 + t * t).product::<f64>()
}

#[test]
fn product_and_take() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<4, 1>();
        check_fn!(product_of_first, product_of_first_grad, product_of_first_value_and_grad,
            product_of_first_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let p: Vec<f64> = (0..3).map(|i| 1.0 + x[i] * x[i]).collect();
        let total: f64 = p.iter().product();
        let hand = Vector4::new(
            2.0 * x[0] * total / p[0],
            2.0 * x[1] * total / p[1],
            2.0 * x[2] * total / p[2],
            0.0,
        );
        assert_close(&product_of_first_grad(&x), &hand, 1e-12);
    }
}

/// Every other entry from the end, weighted by its index: `.rev().step_by(2)` on a range.
#[differentiate(wrt = x)]
fn reversed_stride(x: &SVector<f64, 7>) -> f64 {
    (0..7)
        .rev()
        .step_by(2)
        .map(|i| (i as f64 + 1.0) * x[i].sin())
        .sum::<f64>()
}

#[test]
fn rev_and_step_by() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<7, 1>();
        check_fn!(reversed_stride, reversed_stride_grad, reversed_stride_value_and_grad,
            reversed_stride_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let hand = SVector::<f64, 7>::from_fn(|i, _| {
            if i % 2 == 0 {
                (i as f64 + 1.0) * x[i].cos()
            } else {
                0.0
            }
        });
        assert_close(&reversed_stride_grad(&x), &hand, 1e-12);
    }
}

/// A matrix built block by block with `fixed_view_mut().copy_from()` and `set_row`, then its
/// squared Frobenius norm.
#[differentiate(wrt = x)]
fn assembled(x: &Vector4<f64>) -> f64 {
    let mut block = Matrix2::zeros();
    for i in 0..2 {
        for j in 0..2 {
            block[(i, j)] = x[2 * i + j];
        }
    }
    let mut row = SMatrix::<f64, 1, 3>::zeros();
    row[0] = x[0] * x[1];
    row[1] = 1.0;
    row[2] = x[3];
    let mut m = SMatrix::<f64, 3, 3>::zeros();
    m.fixed_view_mut::<2, 2>(0, 0).copy_from(&block);
    m.set_row(2, &row);
    m.norm_squared()
}

#[test]
fn view_updates() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<4, 1>();
        check_fn!(assembled, assembled_grad, assembled_value_and_grad, assembled_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        let (a, b) = (x[0], x[1]);
        let hand = Vector4::new(
            2.0 * a + 2.0 * a * b * b,
            2.0 * b + 2.0 * a * a * b,
            2.0 * x[2],
            4.0 * x[3],
        );
        assert_close(&assembled_grad(&x), &hand, 1e-12);
    }
}

/// A piecewise weight chosen by `match` on a `usize` parameter with ranges, a deferred `let`
/// assigned in both branches of an `if`, and `assert_eq!`.
#[allow(
    clippy::needless_late_init,
    reason = "deferred initialisation is what this function tests"
)]
#[differentiate(wrt = x)]
fn piecewise(x: &Vector3<f64>, regime: usize) -> f64 {
    assert_eq!(x.len(), 3);
    let w = match regime {
        0 => 1.0,
        1..=3 => x[0],
        _ => x[0] * x[1],
    };
    let y;
    if x[2] > 0.0 {
        y = x[2].sqrt();
    } else {
        y = -x[2];
    }
    w * y
}

#[test]
fn match_ranges_and_deferred_let() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let mut x = rng.matrix::<3, 1>();
        x[2] = 0.5 + x[2].abs();
        for regime in [0, 2, 7] {
            check_fn!(piecewise, piecewise_grad, piecewise_value_and_grad, piecewise_hvp;
                |x, v| (x, regime); (v); at &x, &mut rng, TOL);
        }
        let s = x[2].sqrt();
        assert_close(
            &piecewise_grad(&x, 2),
            &Vector3::new(s, 0.0, x[0] / (2.0 * s)),
            1e-12,
        );
    }
}

/// A branch whose untaken side would take the square root of a negative number and invert a
/// singular matrix: the gradient is exactly the other side's, with no NaN and no panic.
#[differentiate(wrt = x)]
fn guarded(x: &Vector3<f64>) -> f64 {
    let mut m = Matrix2::zeros();
    m.set_row(0, &x.fixed_rows::<2>(0).transpose());
    m.set_row(1, &x.fixed_rows::<2>(0).transpose());
    if x[2] > 0.0 {
        x[2].sqrt() + m.try_inverse().unwrap().sum()
    } else {
        x[2] * x[2]
    }
}

#[test]
fn the_branch_not_taken_is_not_evaluated() {
    let x = Vector3::new(1.0, 2.0, -3.0);
    assert_eq!(guarded_grad(&x), Vector3::new(0.0, 0.0, -6.0));
    assert_eq!(
        guarded_hvp(&x, &Vector3::new(1.0, 1.0, 1.0)),
        Vector3::new(0.0, 0.0, 2.0)
    );
    assert_eq!(guarded_value_and_grad(&x).0, guarded(&x));
}

/// A closure bound with `let` that captures the differentiated `k`, used in a loop.
#[differentiate(wrt = (x, k))]
fn scaled_squares(x: &Vector4<f64>, k: f64) -> f64 {
    let term = |t: f64| (k * t).tanh().powi(2);
    let mut s = 0.0;
    for i in 0..4 {
        s += term(x[i]);
    }
    s
}

#[test]
fn closures_capture_and_are_differentiated_through() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<4, 1>();
        let k = 0.7;
        assert_eq!(
            scaled_squares_value_and_grad(&x, k).0,
            scaled_squares(&x, k)
        );
        let (gx, gk) = scaled_squares_grad(&x, k);
        let dk: f64 = (0..4)
            .map(|i| {
                let th = (k * x[i]).tanh();
                2.0 * th * (1.0 - th * th) * x[i]
            })
            .sum();
        assert!((gk - dk).abs() < 1e-12, "∂/∂k {gk} against {dk}");
        let dx = Vector4::from_fn(|i, _| {
            let th = (k * x[i]).tanh();
            2.0 * th * (1.0 - th * th) * k
        });
        assert_close(&gx, &dx, 1e-12);
    }
}

/// A state vector pushed through a nonlinear map for `N` steps (a const generic, so the loop
/// stays a loop), with a branch inside and a call to another differentiated function.
#[differentiate(wrt = (a, s0))]
fn stage(a: &SMatrix<f64, 3, 3>, s0: &Vector3<f64>) -> f64 {
    (a * s0).map(|t| t.tanh()).sum()
}

#[differentiate(wrt = (a, s0))]
fn rollout<const N: usize>(a: &SMatrix<f64, 3, 3>, s0: &Vector3<f64>) -> f64 {
    let mut s = *s0;
    let mut cost = 0.0;
    for k in 0..N {
        s = (a * s).map(|t| t.tanh()) * 0.9 + s * 0.1;
        if s[0] > 0.0 {
            cost += s.norm_squared();
        } else {
            cost += 0.5 * s[1] * s[1];
        }
        cost += stage(a, &s) * (k as f64 + 1.0) / (N as f64);
    }
    cost
}

#[test]
fn a_kept_loop_carrying_a_matrix_with_a_branch_and_a_call() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>() * 0.5;
        let s0 = rng.matrix::<3, 1>();
        let v_a = rng.matrix::<3, 3>();
        let v_s = rng.matrix::<3, 1>();
        let w_a = rng.matrix::<3, 3>();
        let w_s = rng.matrix::<3, 1>();
        let f = |a: &SMatrix<f64, 3, 3>, s: &Vector3<f64>| rollout::<40>(a, s);
        let (ga, gs) = rollout_grad::<40>(&a, &s0);
        let h = 1e-6;
        let fd =
            (f(&(a + v_a * h), &(s0 + v_s * h)) - f(&(a - v_a * h), &(s0 - v_s * h))) / (2.0 * h);
        let exact = ga.dot(&v_a) + gs.dot(&v_s);
        assert!(
            (fd - exact).abs() < 1e-6 * (1.0 + exact.abs()),
            "gradient {exact} against finite differences {fd}"
        );
        let (ha, hs) = rollout_hvp::<40>(&a, &s0, &v_a, &v_s);
        let (ga_p, gs_p) = rollout_grad::<40>(&(a + v_a * h), &(s0 + v_s * h));
        let (ga_m, gs_m) = rollout_grad::<40>(&(a - v_a * h), &(s0 - v_s * h));
        assert_close(&ha, &((ga_p - ga_m) / (2.0 * h)), 1e-5);
        assert_close(&hs, &((gs_p - gs_m) / (2.0 * h)), 1e-5);
        let (ha_w, hs_w) = rollout_hvp::<40>(&a, &s0, &w_a, &w_s);
        let left = ha.dot(&w_a) + hs.dot(&w_s);
        let right = ha_w.dot(&v_a) + hs_w.dot(&v_s);
        assert!(
            (left - right).abs() < 1e-9 * (1.0 + left.abs()),
            "Hessian not symmetric: {left} against {right}"
        );
        assert_eq!(
            rollout_value_and_grad::<40>(&a, &s0).0,
            rollout::<40>(&a, &s0)
        );
    }
}

/// Vectors and matrices built with `new`, `from_element` and `repeat` from differentiated
/// entries.
#[differentiate(wrt = x)]
fn constructed(x: &Vector3<f64>) -> f64 {
    let v = Vector3::new(x[0] * x[1], 2.0, x[2].sin());
    let m = Matrix2::new(x[0], x[1], -x[2], x[0] * x[2]);
    let w = Vector3::repeat(x[1]) + Vector3::from_element(0.5);
    v.dot(&w) + m.determinant() + (m * Matrix2::new(1.0, 2.0, 3.0, 4.0)).trace()
}

#[test]
fn constructors_with_entries() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        check_fn!(constructed, constructed_grad, constructed_value_and_grad, constructed_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        let (a, b, c) = (x[0], x[1], x[2]);
        // v·w = a b (b + ½) + 2 (b + ½) + sin c (b + ½); det m = a · a c + b c;
        // tr(m N) = a + 3 b − 2 c + 4 a c (m = [a b; −c ac], N = [1 2; 3 4]).
        let hand = Vector3::new(
            b * (b + 0.5) + 2.0 * a * c + 1.0 + 4.0 * c,
            a * (2.0 * b + 0.5) + 2.0 + c.sin() + c + 3.0,
            c.cos() * (b + 0.5) + a * a + b - 2.0 + 4.0 * a,
        );
        assert_close(&constructed_grad(&x), &hand, 1e-12);
    }
}

/// An early `return` from inside a loop kept as a loop (a const-generic trip count): the
/// first entry above a threshold decides, else the sum of squares.
#[differentiate(wrt = x)]
fn first_large<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        if x[i] > 0.9 {
            return x[i] * x[i] * x[i];
        }
        s += x[i] * x[i];
    }
    s
}

#[test]
fn return_from_inside_a_kept_loop() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let mut x = rng.matrix::<80, 1>().map(|t| 0.4 * t.tanh());
        check_fn!(first_large, first_large_grad, first_large_value_and_grad, first_large_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        assert_close(&first_large_grad(&x), &(x * 2.0), 1e-12);
        // Entry 30 returns: only it has a derivative, and the later entries are never read.
        x[30] = 1.5;
        x[50] = 2.0;
        let g = first_large_grad(&x);
        let mut hand = SVector::<f64, 80>::zeros();
        hand[30] = 3.0 * 1.5 * 1.5;
        assert_eq!(g, hand);
        assert_eq!(first_large_value_and_grad(&x).0, first_large(&x));
    }
}

/// Returns from nested positions: inside an `if` whose `then` block goes on after it, and
/// from an inner loop.
#[differentiate(wrt = x)]
fn nested_returns(x: &Vector4<f64>, limit: f64) -> f64 {
    let mut s = 0.0;
    if x[0] > limit {
        if x[1] > limit {
            return x[0] * x[1];
        }
        s += x[0].exp();
    }
    for i in 0..2 {
        for j in 0..2 {
            if x[2 * i + j] < -limit {
                return x[2 * i + j].powi(3);
            }
            s += x[2 * i + j] * (i + j) as f64;
        }
    }
    s
}

#[test]
fn returns_from_nested_positions() {
    let limit = 0.5;
    let cases = [
        Vector4::new(0.9, 0.8, 0.1, 0.2),   // returns x0 x1
        Vector4::new(0.9, 0.1, 0.1, -0.7),  // exp(x0), then returns x3³
        Vector4::new(0.1, 0.2, 0.3, 0.4),   // no return: Σ x (i + j)
        Vector4::new(0.2, -0.6, 0.3, -0.9), // returns x1³ from the inner loop
    ];
    let hands = [
        Vector4::new(0.8, 0.9, 0.0, 0.0),
        Vector4::new(0.0, 0.0, 0.0, 3.0 * 0.49),
        Vector4::new(0.0, 1.0, 1.0, 2.0),
        Vector4::new(0.0, 3.0 * 0.36, 0.0, 0.0),
    ];
    let mut rng = Rng::new(5);
    for (x, hand) in cases.iter().zip(&hands) {
        assert_close(&nested_returns_grad(x, limit), hand, 1e-12);
        check_fn!(nested_returns, nested_returns_grad, nested_returns_value_and_grad,
            nested_returns_hvp; |x, v| (x, limit); (v); at x, &mut rng, TOL);
    }
}

/// Entry extrema, a log-determinant and a loop over an empty vector: the generated functions
/// do not panic where the function does not.
#[differentiate(wrt = (x, a))]
fn empty(x: &SVector<f64, 0>, a: &SMatrix<f64, 0, 0>) -> f64 {
    let mut s = x.max() + a.determinant().ln();
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

#[test]
fn zero_sized_parameters() {
    let (x, a) = (SVector::<f64, 0>::zeros(), SMatrix::<f64, 0, 0>::zeros());
    let (value, (gx, ga)) = empty_value_and_grad(&x, &a);
    assert_eq!(value, empty(&x, &a));
    assert_eq!((gx.len(), ga.len()), (0, 0));
    let (hx, ha) = empty_hvp(&x, &a, &x, &a);
    assert_eq!((hx.len(), ha.len()), (0, 0));
}
