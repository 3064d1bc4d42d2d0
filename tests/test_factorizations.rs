//! Factorisations as people write them: `a.lu().solve(&b).unwrap()`, `a.lu().determinant()`,
//! `a.cholesky().unwrap()` then `.solve(&b)`, `.l()`, `.inverse()`, `.determinant()`, chained
//! or bound with `let`. Each function's gradient is checked against central finite
//! differences of the function itself along random (non-symmetric) directions, its
//! Hessian-vector product against differences of the gradient, and the Hessian for symmetry
//! (`full_check`), at random well-conditioned points (SPD matrices `B Bᵀ + n I` for Cholesky).
//!
//! nalgebra's `cholesky()` reads only the lower triangle of its argument, so the function's
//! derivative with respect to an entry above the diagonal is zero; the tests check that
//! convention entry by entry.

mod common;

use common::{assert_close, assert_scalar_close, full_check, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, Matrix3, Matrix4, SMatrix, SVector, Vector3, Vector4};
use matdiff::runtime::Rng;

// ---------------------------------------------------------------------------------------------
// LU solves.

/// `‖A⁻¹ b − c‖²`: a linear solve inside a quadratic loss.
#[differentiate(wrt = (a, b))]
fn solve_loss(a: &Matrix3<f64>, b: &Vector3<f64>, c: &Vector3<f64>) -> f64 {
    let x = a.lu().solve(b).unwrap();
    (x - c).norm_squared()
}

/// The same, the factorisation bound with `let` and the solve checked with `expect`.
#[differentiate(wrt = (a, b))]
fn solve_loss_bound(a: &Matrix4<f64>, b: &Vector4<f64>, c: &Vector4<f64>) -> f64 {
    let lu = a.lu();
    let x = lu.solve(b).expect("the system matrix is singular");
    let r = x - c;
    r.dot(&r)
}

/// Two solves with one factorisation, a matrix right-hand side, and `lu.determinant()`.
#[differentiate(wrt = a)]
fn two_solves(a: &Matrix3<f64>, b: &SMatrix<f64, 3, 2>, c: &Vector3<f64>) -> f64 {
    let lu = a.lu();
    let x = lu.solve(b).unwrap();
    let y = lu.solve(c).unwrap();
    x.norm_squared() + y.dot(c) + lu.determinant()
}

/// Ridge regression: the weights `(XᵀX + λI)⁻¹ Xᵀ y` by a solve, then their loss on
/// held-out data, differentiated with respect to the training inputs and the penalty.
#[differentiate(wrt = (x, lambda))]
fn ridge(
    x: &SMatrix<f64, 6, 3>,
    y: &SVector<f64, 6>,
    lambda: f64,
    x_test: &SMatrix<f64, 4, 3>,
    y_test: &SVector<f64, 4>,
) -> f64 {
    let gram = x.transpose() * x + Matrix3::identity() * lambda;
    let w = gram.lu().solve(&(x.transpose() * y)).unwrap();
    (x_test * w - y_test).norm_squared()
}

#[test]
fn lu_solves_against_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (a, b, c) = (
            rng.well_conditioned::<3>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        full_check(
            |(a, b): &(Matrix3<f64>, Vector3<f64>)| solve_loss(a, b, &c),
            |(a, b)| solve_loss_grad(a, b, &c),
            |(a, b)| solve_loss_value_and_grad(a, b, &c),
            |(a, b), (va, vb)| solve_loss_hvp(a, b, &c, va, vb),
            &(a, b),
            &mut rng,
            TOL,
        );
        let (a4, b4, c4) = (
            rng.well_conditioned::<4>(),
            rng.matrix::<4, 1>(),
            rng.matrix::<4, 1>(),
        );
        full_check(
            |(a, b): &(Matrix4<f64>, Vector4<f64>)| solve_loss_bound(a, b, &c4),
            |(a, b)| solve_loss_bound_grad(a, b, &c4),
            |(a, b)| solve_loss_bound_value_and_grad(a, b, &c4),
            |(a, b), (va, vb)| solve_loss_bound_hvp(a, b, &c4, va, vb),
            &(a4, b4),
            &mut rng,
            TOL,
        );
        let bm = rng.matrix::<3, 2>();
        full_check(
            |a: &Matrix3<f64>| two_solves(a, &bm, &c),
            |a| two_solves_grad(a, &bm, &c),
            |a| two_solves_value_and_grad(a, &bm, &c),
            |a, v| two_solves_hvp(a, &bm, &c, v),
            &a,
            &mut rng,
            TOL,
        );
        let (x, y, xt, yt) = (
            rng.matrix::<6, 3>(),
            rng.matrix::<6, 1>(),
            rng.matrix::<4, 3>(),
            rng.matrix::<4, 1>(),
        );
        let lambda = 0.5 + rng.uniform().abs();
        full_check(
            |(x, l): &(SMatrix<f64, 6, 3>, f64)| ridge(x, &y, *l, &xt, &yt),
            |(x, l)| ridge_grad(x, &y, *l, &xt, &yt),
            |(x, l)| ridge_value_and_grad(x, &y, *l, &xt, &yt),
            |(x, l), (vx, vl)| ridge_hvp(x, &y, *l, &xt, &yt, vx, *vl),
            &(x, lambda),
            &mut rng,
            TOL,
        );
    }
}

/// The closed form of MATH.md: for `f = ‖A⁻¹b − c‖²`, with `x = A⁻¹ b` and
/// `z = 2 A⁻ᵀ (x − c)`: `∇_b f = z`, `∇_A f = −z xᵀ`.
#[test]
fn lu_solve_gradient_matches_the_closed_form() {
    let mut rng = Rng::new(3);
    let (a, b, c) = (
        rng.well_conditioned::<3>(),
        rng.matrix::<3, 1>(),
        rng.matrix::<3, 1>(),
    );
    let inverse = a.try_inverse().unwrap();
    let x = inverse * b;
    let z = inverse.transpose() * (x - c) * 2.0;
    let (ga, gb) = solve_loss_grad(&a, &b, &c);
    assert_close(&gb, &z, 1e-12);
    assert_close(&ga, &(-z * x.transpose()), 1e-12);
}

/// A singular system panics in every generated function as in the function, with the
/// user's message.
#[test]
fn singular_lu_solve_panics_with_the_users_message() {
    let a = Matrix4::new(
        1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0,
    );
    let (b, c) = (Vector4::repeat(1.0), Vector4::zeros());
    for run in [
        Box::new(|| {
            std::hint::black_box(solve_loss_bound(&a, &b, &c));
        }) as Box<dyn Fn()>,
        Box::new(|| {
            std::hint::black_box(solve_loss_bound_grad(&a, &b, &c));
        }),
        Box::new(|| {
            std::hint::black_box(solve_loss_bound_hvp(&a, &b, &c, &a, &b));
        }),
    ] {
        let cause = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_err();
        let message = cause
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| cause.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(
            message.contains("the system matrix is singular"),
            "unexpected panic: {message}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cholesky.

/// The negative log-density of `N(mu, sigma)` at `x`, up to a constant, as people write it.
#[differentiate(wrt = (x, mu, sigma))]
fn gaussian_nll(x: &Vector3<f64>, mu: &Vector3<f64>, sigma: &Matrix3<f64>) -> f64 {
    let chol = sigma.cholesky().unwrap();
    let r = x - mu;
    0.5 * r.dot(&chol.solve(&r)) + 0.5 * chol.determinant().ln()
}

/// The same with `ln_determinant`, the factorisation chained and an `expect`.
#[differentiate(wrt = sigma)]
fn gaussian_nll_ln(x: &Vector4<f64>, sigma: &Matrix4<f64>) -> f64 {
    let alpha = sigma
        .cholesky()
        .expect("covariance not positive definite")
        .solve(x);
    0.5 * x.dot(&alpha)
        + 0.5
            * sigma
                .cholesky()
                .expect("covariance not positive definite")
                .ln_determinant()
}

/// A Kalman filter's innovation likelihood: `S = H P Hᵀ + R`, `ν = z − H x`,
/// `½ νᵀ S⁻¹ ν + ½ ln det S`, differentiated with respect to the state and its covariance.
#[differentiate(wrt = (x, p))]
fn innovation(
    x: &Vector4<f64>,
    p: &Matrix4<f64>,
    h: &SMatrix<f64, 2, 4>,
    r: &Matrix2<f64>,
    z: &SVector<f64, 2>,
) -> f64 {
    let s = h * p * h.transpose() + r;
    let nu = z - h * x;
    let chol = s.cholesky().unwrap();
    0.5 * nu.dot(&chol.solve(&nu)) + 0.5 * chol.determinant().ln()
}

/// The factor itself and the inverse: `‖L‖²` weighted, and `tr(W S⁻¹)`.
#[differentiate(wrt = a)]
fn factor_and_inverse(a: &Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
    let chol = a.cholesky().unwrap();
    let l = chol.l();
    l.component_mul(w).sum() + (w * chol.inverse()).trace()
}

/// A whitened residual `L⁻¹ r` is what `l.solve_lower_triangular` gives; here, the sampling
/// direction `mu + L z`.
#[differentiate(wrt = (mu, sigma))]
fn sample_loss(mu: &Vector3<f64>, sigma: &Matrix3<f64>, z: &Vector3<f64>, t: &Vector3<f64>) -> f64 {
    let l = sigma.cholesky().unwrap().l();
    let sample = mu + l * z;
    (sample - t).norm_squared()
}

#[test]
fn cholesky_against_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, mu, sigma) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>(), rng.spd::<3>());
        full_check(
            |(x, mu, s): &(Vector3<f64>, Vector3<f64>, Matrix3<f64>)| gaussian_nll(x, mu, s),
            |(x, mu, s)| gaussian_nll_grad(x, mu, s),
            |(x, mu, s)| gaussian_nll_value_and_grad(x, mu, s),
            |(x, mu, s), (vx, vm, vs)| gaussian_nll_hvp(x, mu, s, vx, vm, vs),
            &(x, mu, sigma),
            &mut rng,
            TOL,
        );
        let (x4, sigma4) = (rng.matrix::<4, 1>(), rng.spd::<4>());
        full_check(
            |s: &Matrix4<f64>| gaussian_nll_ln(&x4, s),
            |s| gaussian_nll_ln_grad(&x4, s),
            |s| gaussian_nll_ln_value_and_grad(&x4, s),
            |s, v| gaussian_nll_ln_hvp(&x4, s, v),
            &sigma4,
            &mut rng,
            TOL,
        );
        let (h, r, z) = (rng.matrix::<2, 4>(), rng.spd::<2>(), rng.matrix::<2, 1>());
        full_check(
            |(x, p): &(Vector4<f64>, Matrix4<f64>)| innovation(x, p, &h, &r, &z),
            |(x, p)| innovation_grad(x, p, &h, &r, &z),
            |(x, p)| innovation_value_and_grad(x, p, &h, &r, &z),
            |(x, p), (vx, vp)| innovation_hvp(x, p, &h, &r, &z, vx, vp),
            &(x4, sigma4),
            &mut rng,
            TOL,
        );
        let w = rng.matrix::<3, 3>();
        full_check(
            |a: &Matrix3<f64>| factor_and_inverse(a, &w),
            |a| factor_and_inverse_grad(a, &w),
            |a| factor_and_inverse_value_and_grad(a, &w),
            |a, v| factor_and_inverse_hvp(a, &w, v),
            &sigma,
            &mut rng,
            TOL,
        );
        let t = rng.matrix::<3, 1>();
        full_check(
            |(mu, s): &(Vector3<f64>, Matrix3<f64>)| sample_loss(mu, s, &x, &t),
            |(mu, s)| sample_loss_grad(mu, s, &x, &t),
            |(mu, s)| sample_loss_value_and_grad(mu, s, &x, &t),
            |(mu, s), (vm, vs)| sample_loss_hvp(mu, s, &x, &t, vm, vs),
            &(mu, sigma),
            &mut rng,
            TOL,
        );
    }
}

/// Entry by entry: the derivative with respect to `Σ_ij` is the central difference of the
/// function in that one entry: zero above the diagonal (nalgebra never reads it), and below
/// it the whole effect of the entry, which in a symmetric covariance stands for two.
#[test]
fn cholesky_reads_the_lower_triangle_only() {
    let mut rng = Rng::new(11);
    let (x, mu, sigma) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>(), rng.spd::<3>());
    let (_, _, g) = gaussian_nll_grad(&x, &mu, &sigma);
    let h = 1e-6;
    for i in 0..3 {
        for j in 0..3 {
            let mut e = Matrix3::zeros();
            e[(i, j)] = h;
            let fd = (gaussian_nll(&x, &mu, &(sigma + e)) - gaussian_nll(&x, &mu, &(sigma - e)))
                / (2.0 * h);
            assert_scalar_close(g[(i, j)], fd, 1e-7);
            if i < j {
                assert_eq!(g[(i, j)], 0.0, "entry ({i}, {j}) above the diagonal");
            }
        }
    }
}

/// MATH.md's closed forms: `∇_x = Σ⁻¹ (x − μ)`, and for a symmetric perturbation the
/// covariance gradient is `½ (Σ⁻¹ − Σ⁻¹ r rᵀ Σ⁻¹)`, folded onto the lower triangle.
#[test]
fn gaussian_gradient_matches_the_closed_form() {
    let mut rng = Rng::new(5);
    let (x, mu, sigma) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>(), rng.spd::<3>());
    let inverse = sigma.try_inverse().unwrap();
    let r = x - mu;
    let alpha = inverse * r;
    let symmetric = (inverse - alpha * alpha.transpose()) * 0.5;
    let folded = Matrix3::from_fn(|i, j| match i.cmp(&j) {
        std::cmp::Ordering::Greater => 2.0 * symmetric[(i, j)],
        std::cmp::Ordering::Equal => symmetric[(i, i)],
        std::cmp::Ordering::Less => 0.0,
    });
    let (gx, gmu, gs) = gaussian_nll_grad(&x, &mu, &sigma);
    assert_close(&gx, &alpha, 1e-12);
    assert_close(&gmu, &(-alpha), 1e-12);
    assert_close(&gs, &folded, 1e-12);
}

/// A matrix that is not positive definite panics in every generated function with the
/// user's message.
#[test]
fn not_positive_definite_panics_with_the_users_message() {
    let x = Vector4::repeat(1.0);
    let sigma = -Matrix4::<f64>::identity();
    for run in [
        Box::new(|| {
            std::hint::black_box(gaussian_nll_ln(&x, &sigma));
        }) as Box<dyn Fn()>,
        Box::new(|| {
            std::hint::black_box(gaussian_nll_ln_grad(&x, &sigma));
        }),
        Box::new(|| {
            std::hint::black_box(gaussian_nll_ln_hvp(&x, &sigma, &sigma));
        }),
    ] {
        let cause = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_err();
        let message = cause
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| cause.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(
            message.contains("covariance not positive definite"),
            "unexpected panic: {message}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigenvalues: nalgebra reads one triangle too.

/// `λ₀(A) + 2 λ₂(A)`, in nalgebra's order.
#[differentiate(wrt = a)]
fn eigen_mix(a: &Matrix3<f64>) -> f64 {
    let l = a.symmetric_eigenvalues();
    l[0] + 2.0 * l[2]
}

/// Regression: `symmetric_eigenvalues()` reads only the lower triangle of its argument, so
/// the derivative with respect to an entry above the diagonal is zero and one below it counts
/// for both. The gradient was `Σ λ̄ᵢ uᵢuᵢᵀ`, symmetric, which disagrees with the function's
/// own differences entry by entry (it was right only for symmetric perturbations).
#[test]
fn symmetric_eigenvalues_read_the_lower_triangle_only() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.spd::<3>() + Matrix3::from_diagonal(&Vector3::new(0.0, 3.0, 6.0));
        let g = eigen_mix_grad(&a);
        let h = 1e-6;
        for i in 0..3 {
            for j in 0..3 {
                let mut e = Matrix3::zeros();
                e[(i, j)] = h;
                let fd = (eigen_mix(&(a + e)) - eigen_mix(&(a - e))) / (2.0 * h);
                assert_scalar_close(g[(i, j)], fd, 1e-6);
            }
        }
        full_check(
            eigen_mix,
            eigen_mix_grad,
            eigen_mix_value_and_grad,
            eigen_mix_hvp,
            &a,
            &mut rng,
            TOL,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigenvectors.

/// The spectral projector `u₂u₂ᵀ` onto the top eigenvector, weighted: invariant under the
/// eigenvector's sign, so it is a smooth function of `A` whatever sign nalgebra picks.
#[differentiate(wrt = a)]
fn projector(a: &Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
    let eigen = a.symmetric_eigen();
    let u = eigen.eigenvectors.column(2);
    (u * u.transpose()).component_mul(w).sum() + eigen.eigenvalues[2]
}

/// The eigenvectors themselves, with the sign nalgebra computes (locally constant where the
/// eigenvalues are simple, so finite differences of the function see no flip).
#[differentiate(wrt = a)]
fn eigenvectors_weighted(a: &Matrix4<f64>, w: &Matrix4<f64>) -> f64 {
    let eigen = a.symmetric_eigen();
    eigen.eigenvectors.component_mul(w).sum()
}

/// A symmetric matrix with well separated eigenvalues, `diag(1, 2.5, 4, ..) + E` with `E`
/// symmetric and small (`‖E‖ < 0.5` in practice), plus a non-symmetric part in the upper
/// triangle, which nalgebra does not read.
fn separated<const N: usize>(rng: &mut Rng) -> SMatrix<f64, N, N> {
    let e = rng.matrix::<N, N>() * 0.1;
    let d = SMatrix::<f64, N, N>::from_fn(|i, j| if i == j { 1.0 + 1.5 * i as f64 } else { 0.0 });
    let upper = SMatrix::<f64, N, N>::from_fn(|i, j| if i < j { rng.uniform() } else { 0.0 });
    d + e + e.transpose() + upper
}

#[test]
fn symmetric_eigenvectors_against_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a3 = separated::<3>(&mut rng);
        let w3 = rng.matrix::<3, 3>();
        full_check(
            |a: &Matrix3<f64>| projector(a, &w3),
            |a| projector_grad(a, &w3),
            |a| projector_value_and_grad(a, &w3),
            |a, v| projector_hvp(a, &w3, v),
            &a3,
            &mut rng,
            TOL,
        );
        // nalgebra's eigenvector signs are locally constant but can flip within 1e-3 of a
        // point (the function itself jumps there), so the raw eigenvectors are checked with
        // central differences of step 1e-6 instead of `check_all`'s larger steps.
        let a4 = separated::<4>(&mut rng);
        let w4 = rng.matrix::<4, 4>();
        let (v, u) = (rng.matrix::<4, 4>(), rng.matrix::<4, 4>());
        let h = 1e-6;
        let f = |a: &Matrix4<f64>| eigenvectors_weighted(a, &w4);
        let fd = (f(&(a4 + v * h)) - f(&(a4 - v * h))) / (2.0 * h);
        let (value, g) = eigenvectors_weighted_value_and_grad(&a4, &w4);
        assert_scalar_close(value, f(&a4), 1e-12);
        assert_scalar_close(g.dot(&v), fd, 1e-6);
        let grad = |a: &Matrix4<f64>| eigenvectors_weighted_grad(a, &w4);
        let hvp = eigenvectors_weighted_hvp(&a4, &w4, &v);
        let fd_hvp = (grad(&(a4 + v * h)) - grad(&(a4 - v * h))) / (2.0 * h);
        assert_close(&hvp, &fd_hvp, 1e-5);
        let symmetry = eigenvectors_weighted_hvp(&a4, &w4, &u).dot(&v) - hvp.dot(&u);
        assert_scalar_close(symmetry, 0.0, 1e-10);
        // Above the diagonal nothing is read: the gradient is exactly zero there.
        let g = eigenvectors_weighted_grad(&a4, &w4);
        for i in 0..4 {
            for j in i + 1..4 {
                assert_eq!(g[(i, j)], 0.0, "entry ({i}, {j}) above the diagonal");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Factorisations inside loops.

/// The number of steps of the filter below: more than matdiff unrolls, so the loop stays a
/// loop and its reverse sweep recomputes each step's factorisations.
const STEPS: usize = 70;

/// A scalar Kalman-style filter over `STEPS` steps with a 2×2 innovation covariance per step:
/// `S = P + R` factorised by Cholesky, the innovation likelihood accumulated, and the state
/// updated by an LU solve with the same `S`. Differentiated with respect to the initial
/// covariance and the measurement noise.
#[differentiate(wrt = (p0, r))]
fn filter(p0: &Matrix2<f64>, r: &Matrix2<f64>, x0: &SVector<f64, 2>) -> f64 {
    let mut p = *p0;
    let mut x = *x0;
    let mut nll = 0.0;
    for k in 0..STEPS {
        let t = k as f64 * 0.1;
        let z = SVector::<f64, 2>::new(t.sin(), t.cos());
        let s = p + r;
        let nu = z - x;
        let chol = s.cholesky().unwrap();
        nll += 0.5 * nu.dot(&chol.solve(&nu)) + 0.5 * chol.ln_determinant();
        let gain = p * s.lu().solve(&Matrix2::identity()).unwrap();
        x += gain * nu;
        p = (Matrix2::identity() - gain) * p + Matrix2::identity() * 0.01;
    }
    nll
}

#[test]
fn factorisations_in_a_kept_loop() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (p0, r, x0) = (rng.spd::<2>(), rng.spd::<2>(), rng.matrix::<2, 1>());
        full_check(
            |(p0, r): &(Matrix2<f64>, Matrix2<f64>)| filter(p0, r, &x0),
            |(p0, r)| filter_grad(p0, r, &x0),
            |(p0, r)| filter_value_and_grad(p0, r, &x0),
            |(p0, r), (v0, vr)| filter_hvp(p0, r, &x0, v0, vr),
            &(p0, r),
            &mut rng,
            TOL,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// QR.

/// Least squares by QR as people write it: `R w = Qᵀ y` by a solve with `R`, then the
/// residual, with respect to the design matrix; plus weights on `Q R` and on `Q` itself.
#[differentiate(wrt = x)]
fn qr_least_squares(x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>, w: &SMatrix<f64, 5, 3>) -> f64 {
    let qr = x.qr();
    let (q, r) = (qr.q(), qr.r());
    let coefficients = r.lu().solve(&(q.transpose() * y)).unwrap();
    (x * coefficients - y).norm_squared()
        + (q * r).component_mul(w).sum()
        + q.component_mul(w).sum()
}

/// `R` alone of a square matrix.
#[differentiate(wrt = a)]
fn qr_r_only(a: &Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
    a.qr().r().component_mul(w).sum()
}

#[test]
fn qr_against_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<5, 3>() + SMatrix::<f64, 5, 3>::identity() * 3.0;
        let (y, w) = (rng.matrix::<5, 1>(), rng.matrix::<5, 3>());
        full_check(
            |x: &SMatrix<f64, 5, 3>| qr_least_squares(x, &y, &w),
            |x| qr_least_squares_grad(x, &y, &w),
            |x| qr_least_squares_value_and_grad(x, &y, &w),
            |x, v| qr_least_squares_hvp(x, &y, &w, v),
            &x,
            &mut rng,
            TOL,
        );
        let (a, w3) = (rng.well_conditioned::<3>(), rng.matrix::<3, 3>());
        full_check(
            |a: &Matrix3<f64>| qr_r_only(a, &w3),
            |a| qr_r_only_grad(a, &w3),
            |a| qr_r_only_value_and_grad(a, &w3),
            |a, v| qr_r_only_hvp(a, &w3, v),
            &a,
            &mut rng,
            TOL,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Singular values.

/// The nuclear norm `Σ σᵢ` and the spectral norm `σ_max` of a square matrix, weighted.
#[differentiate(wrt = a)]
fn singular_mix(a: &Matrix3<f64>) -> f64 {
    let s = a.singular_values();
    s.sum() + 2.0 * s.max() - s[2] * s[2]
}

#[test]
fn singular_values_against_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        // Well separated singular values (about 1, 2.5 and 4).
        let a = Matrix3::from_diagonal(&Vector3::new(1.0, 2.5, 4.0)) + rng.matrix::<3, 3>() * 0.1;
        full_check(
            singular_mix,
            singular_mix_grad,
            singular_mix_value_and_grad,
            singular_mix_hvp,
            &a,
            &mut rng,
            TOL,
        );
        // MATH.md: ∇σᵢ = uᵢ vᵢᵀ, from nalgebra's own SVD.
        let svd = a.svd(true, true);
        let (u, v_t) = (svd.u.unwrap(), svd.v_t.unwrap());
        let s = svd.singular_values;
        let mut expected = Matrix3::zeros();
        for i in 0..3 {
            let weight =
                1.0 + if i == 0 { 2.0 } else { 0.0 } - if i == 2 { 2.0 * s[2] } else { 0.0 };
            expected += u.column(i) * v_t.row(i) * weight;
        }
        assert_close(&singular_mix_grad(&a), &expected, 1e-10);
    }
}
