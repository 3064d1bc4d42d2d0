//! nalgebra's constructors and views as people write them: `Vector2::new` residuals,
//! `Matrix3::from_fn` closures of the position, `from([..])`, `from_column_slice`,
//! `from_row_slice`, `from_columns`, `from_rows`, `from_diagonal`, `from_diagonal_element`,
//! `from_partial_diagonal`, and the views `diagonal()`, `upper_triangle()`, `lower_triangle()`,
//! `view((i, j), (r, c))`, the swizzles `xy()`, `zyx()`, .., with `clone_owned()` and
//! `into_owned()` after a view. Inside loops (unrolled and kept), branches and closures too.
//!
//! Each function is checked against central finite differences of itself (gradient,
//! Hessian-vector product against differences of the gradient, Hessian symmetry, and
//! `value_and_grad`) at random points, and where it is short against a gradient derived by
//! hand in this file. The function itself runs nalgebra's own constructors, so a constructor
//! that put an entry in the wrong place would show as a wrong derivative.

mod common;

use common::{assert_close, SEEDS, TOL, TOL_F32};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix2, Matrix2x3, Matrix2x4, Matrix3, Matrix3x2, Matrix4, Matrix4x3, Matrix5, Matrix5x6,
    Matrix6, Matrix6x2, RowSVector, RowVector2, RowVector3, RowVector4, RowVector5, RowVector6,
    SMatrix, SVector, Vector2, Vector3, Vector4, Vector5, Vector6,
};
use matdiff::runtime::Rng;

/// Tolerance of a generated gradient against one derived by hand (rounding only).
const HAND: f64 = 1e-10;

// ---------------------------------------------------------------------------------------------
// Residual vectors built with `new` and `from`
// ---------------------------------------------------------------------------------------------

/// Rosenbrock's function as the squared norm of its residual vector, as a Gauss-Newton code
/// writes it.
#[differentiate(wrt = x)]
fn rosenbrock_residual(x: &Vector2<f64>) -> f64 {
    let r = Vector2::new(x[0] - 1.0, 10.0 * (x[1] - x[0] * x[0]));
    r.norm_squared()
}

/// The chained Rosenbrock function of any length, one residual vector per link, in a loop the
/// macro keeps as a loop (its trip count `N - 1` is a const generic).
#[differentiate(wrt = x)]
fn rosenbrock_links<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        let r = Vector2::new(1.0 - x[i], 10.0 * (x[i + 1] - x[i] * x[i]));
        f += r.norm_squared();
    }
    f
}

fn rosenbrock_links_grad_by_hand<const N: usize>(x: &SVector<f64, N>) -> SVector<f64, N> {
    let mut g = SVector::<f64, N>::zeros();
    for i in 0..N - 1 {
        let (a, b) = (1.0 - x[i], 10.0 * (x[i + 1] - x[i] * x[i]));
        g[i] += -2.0 * a - 40.0 * x[i] * b;
        g[i + 1] += 20.0 * b;
    }
    g
}

#[test]
fn rosenbrock_residual_vectors() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<2, 1>();
        check_fn!(rosenbrock_residual, rosenbrock_residual_grad,
            rosenbrock_residual_value_and_grad, rosenbrock_residual_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        let hand = rosenbrock_links_grad_by_hand(&x);
        assert_close(&rosenbrock_residual_grad(&x), &hand, HAND);

        let x = rng.matrix::<5, 1>();
        check_fn!(rosenbrock_links, rosenbrock_links_grad, rosenbrock_links_value_and_grad,
            rosenbrock_links_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        assert_close(
            &rosenbrock_links_grad(&x),
            &rosenbrock_links_grad_by_hand(&x),
            HAND,
        );
    }
}

/// NIST StRD's Rat43 (Ratkowsky 1983): `y = b₁ / (1 + exp(b₂ − b₃ x))^(1/b₄)`, its parameters
/// scaled by a vector built with `from([..])` and read with the fields `x`, `y`, `z`, `w`.
const RAT43: [f64; 30] = [
    1.0, 16.08, 2.0, 33.83, 3.0, 65.80, 4.0, 97.20, 5.0, 191.55, 6.0, 326.20, 7.0, 386.87, 8.0,
    520.53, 9.0, 590.03, 10.0, 651.92, 11.0, 724.93, 12.0, 699.56, 13.0, 689.96, 14.0, 637.56,
    15.0, 717.41,
];

#[differentiate(wrt = p)]
fn rat43_cost(p: &Vector4<f64>) -> f64 {
    let scale = Vector4::from([100.0, 1.0, 0.1, 1.0]);
    let b = p.component_mul(&scale);
    let mut cost = 0.0;
    for k in 0..15 {
        let (x, y) = (RAT43[2 * k], RAT43[2 * k + 1]);
        let model = b.x / (1.0 + (b.y - b.z * x).exp()).powf(1.0 / b.w);
        cost += 0.5 * (model - y) * (model - y);
    }
    cost
}

#[test]
fn rat43_certified_minimum() {
    // NIST's certified values; the cost there is half the certified residual sum of squares.
    let p = Vector4::new(
        6.996_415_127_0e2 / 100.0,
        5.277_125_302_5,
        7.596_293_832_9e-1 / 0.1,
        1.279_248_385_9,
    );
    assert!((rat43_cost(&p) - 0.5 * 8.786_404_908_0e3).abs() < 1e-3);
    // A minimum: the gradient is zero up to the certified digits.
    let (value, g) = rat43_cost_value_and_grad(&p);
    assert!((value - rat43_cost(&p)).abs() < 1e-9 * value);
    assert!(g.norm() < 1e-3, "gradient {g} at the certified minimum");
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p = p + 0.05 * rng.matrix::<4, 1>();
        check_fn!(rat43_cost, rat43_cost_grad, rat43_cost_value_and_grad, rat43_cost_hvp;
            |x, v| (x); (v); at &p, &mut rng, TOL);
    }
}

/// The same vectors built by `from([..])`, `from_column_slice`, and `from_row_slice` of a
/// row vector's type, in the two sides of a branch, and by a closure bound with `let` and
/// called in an iterator chain.
#[differentiate(wrt = x)]
fn residuals_in_branches_and_closures(x: &Vector3<f64>, data: &Matrix3x2<f64>) -> f64 {
    let r = if x[0] > 0.0 {
        Vector2::new(x[0] * x[1], x[2] - 1.0)
    } else {
        Vector2::from([x[1], x[0] * x[2]])
    };
    let residual = |k: usize| {
        let pair = SVector::<f64, 2>::from_column_slice(&[x[k] - data[(k, 0)], data[(k, 1)]]);
        pair.component_mul(&Vector2::new(1.0, x[k])).norm_squared()
    };
    let total: f64 = (0..3).map(residual).sum();
    let row = RowVector3::from_row_slice(&[x[2], x[0], x[1]]);
    r.norm_squared() + total + (row * x)[0]
}

#[test]
fn constructors_in_branches_and_closures() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let data = rng.matrix::<3, 2>();
        for sign in [1.0, -1.0] {
            let mut x = rng.matrix::<3, 1>();
            x[0] = sign * (0.2 + x[0].abs());
            check_fn!(residuals_in_branches_and_closures, residuals_in_branches_and_closures_grad,
                residuals_in_branches_and_closures_value_and_grad,
                residuals_in_branches_and_closures_hvp;
                |x, v| (x, &data); (v); at &x, &mut rng, TOL);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `from_fn`
// ---------------------------------------------------------------------------------------------

/// A Householder reflection `H = I − 2 v vᵀ / ‖v‖²` built entry by entry with `from_fn`, as a
/// QR code writes it, and the misfit of the reflected data.
#[differentiate(wrt = v)]
fn householder_misfit(v: &Vector3<f64>, a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    let nn = v.norm_squared();
    let h = Matrix3::from_fn(|i, j| {
        let delta = if i == j { 1.0 } else { 0.0 };
        delta - 2.0 * v[i] * v[j] / nn
    });
    (h * a - b).norm_squared()
}

/// A rotation in the plane from `from_fn`, the angle in the entries through `match` on the
/// position, and a rotation of 3-D points about the z axis with `(i + j) as f64` in the
/// closure.
#[differentiate(wrt = theta)]
fn rotation_fit(theta: &Vector2<f64>, points: &Matrix2x3<f64>, targets: &Matrix2x3<f64>) -> f64 {
    let (c, s) = (theta[0].cos(), theta[0].sin());
    let r = Matrix2::from_fn(|i, j| match i + 2 * j {
        0 | 3 => c,
        1 => s,
        _ => -s,
    });
    let shear = Matrix2::from_fn(|i, j| theta[1] * (i as f64) * ((1 - j) as f64) + 1.0);
    (r * shear * points - targets).norm_squared()
}

/// The negative log marginal likelihood of a Gaussian process with a squared-exponential
/// kernel, the kernel matrix built with `from_fn` over the inputs and the noise added with
/// `from_diagonal_element`; differentiated with respect to the log length scale and the log
/// noise variance.
#[differentiate(wrt = log_params)]
fn gp_negative_log_likelihood(
    log_params: &Vector2<f64>,
    t: &Vector4<f64>,
    y: &Vector4<f64>,
) -> f64 {
    let ell = log_params[0].exp();
    let noise = log_params[1].exp();
    let k = Matrix4::from_fn(|i, j| (-(t[i] - t[j]).powi(2) / (2.0 * ell * ell)).exp())
        + Matrix4::from_diagonal_element(noise);
    0.5 * y.dot(&(k.try_inverse().unwrap() * y)) + 0.5 * k.determinant().ln()
}

/// A product of sliding 2x2 outer products, `from_fn` reading the loop index `k` of a loop the
/// macro keeps as a loop (const-generic trip count).
#[differentiate(wrt = x)]
fn sliding_outer<const N: usize>(x: &SVector<f64, N>, a: &Matrix2<f64>) -> f64 {
    let mut s = 0.0;
    for k in 0..N - 1 {
        let outer = Matrix2::from_fn(|i, j| x[k + i] * x[k + j]);
        s += (outer * a).trace();
    }
    s
}

#[test]
fn from_fn_closures() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (a, b) = (rng.matrix::<3, 3>(), rng.matrix::<3, 3>());
        let v = rng.matrix::<3, 1>() + Vector3::new(1.0, 0.0, 0.0);
        check_fn!(householder_misfit, householder_misfit_grad, householder_misfit_value_and_grad,
            householder_misfit_hvp; |x, w| (x, &a, &b); (w); at &v, &mut rng, TOL);

        let (points, targets) = (rng.matrix::<2, 3>(), rng.matrix::<2, 3>());
        let theta = rng.matrix::<2, 1>();
        check_fn!(rotation_fit, rotation_fit_grad, rotation_fit_value_and_grad,
            rotation_fit_hvp; |x, w| (x, &points, &targets); (w); at &theta, &mut rng, TOL);

        let t = Vector4::new(0.0, 0.7, 1.5, 2.6) + 0.1 * rng.matrix::<4, 1>();
        let y = rng.matrix::<4, 1>();
        let log_params = 0.3 * rng.matrix::<2, 1>();
        check_fn!(gp_negative_log_likelihood, gp_negative_log_likelihood_grad,
            gp_negative_log_likelihood_value_and_grad, gp_negative_log_likelihood_hvp;
            |x, w| (x, &t, &y); (w); at &log_params, &mut rng, TOL);

        let x = rng.matrix::<5, 1>();
        check_fn!(sliding_outer, sliding_outer_grad, sliding_outer_value_and_grad,
            sliding_outer_hvp; |x, w| (x, &a.fixed_view::<2, 2>(0, 0).into_owned()); (w);
            at &x, &mut rng, TOL);
        // d/dx Σ_k u_kᵀ A u_k with u_k = (x_k, x_{k+1}): Σ_k (A + Aᵀ) u_k scattered.
        let a2 = a.fixed_view::<2, 2>(0, 0).into_owned();
        let mut hand = SVector::<f64, 5>::zeros();
        for k in 0..4 {
            let u = Vector2::new(x[k], x[k + 1]);
            let g = (a2 + a2.transpose()) * u;
            hand[k] += g[0];
            hand[k + 1] += g[1];
        }
        assert_close(&sliding_outer_grad(&x, &a2), &hand, HAND);
    }
}

// ---------------------------------------------------------------------------------------------
// Matrices from vectors: `from_columns`, `from_rows`, `from_diagonal`, `from_partial_diagonal`
// ---------------------------------------------------------------------------------------------

/// Two frame vectors stacked as the columns of a 3x2 matrix, penalised for not being
/// orthonormal: `‖FᵀF − I‖²`, the stacking written with `from_columns`, and a 2x3 matrix of the
/// same vectors as rows, with `from_rows`, in a second term.
#[differentiate(wrt = x)]
fn frame_penalty(x: &Vector6<f64>, target: &Matrix2x3<f64>) -> f64 {
    let e1 = x.fixed_rows::<3>(0).into_owned();
    let e2 = x.fixed_rows::<3>(3).clone_owned();
    let f = Matrix3x2::from_columns(&[e1, e2]);
    let rows = Matrix2x3::from_rows(&[e1.transpose(), e2.transpose()]);
    (f.transpose() * f - Matrix2::identity()).norm_squared() + (rows - target).norm_squared()
}

/// A weighted least-squares cost with positive weights `exp(w)` on a diagonal built by
/// `from_diagonal`, plus a ridge `from_partial_diagonal` on the first two unknowns.
#[differentiate(wrt = w)]
fn weighted_normal_equations(w: &Vector3<f64>, a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let d = Matrix3::from_diagonal(&w.map(|t| t.exp()));
    let ridge = Matrix3::from_partial_diagonal(&[w[0] * w[0], w[1] * w[1]]);
    let normal = a.transpose() * d * a + ridge + Matrix3::identity();
    let solution = normal.try_inverse().unwrap() * (a.transpose() * d * b);
    (a * solution - b).norm_squared()
}

#[test]
fn matrices_from_vectors() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<6, 1>();
        let target = rng.matrix::<2, 3>();
        check_fn!(frame_penalty, frame_penalty_grad, frame_penalty_value_and_grad,
            frame_penalty_hvp; |x, v| (x, &target); (v); at &x, &mut rng, TOL);

        let (a, b, w) = (
            rng.well_conditioned::<3>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        check_fn!(weighted_normal_equations, weighted_normal_equations_grad,
            weighted_normal_equations_value_and_grad, weighted_normal_equations_hvp;
            |x, v| (x, &a, &b); (v); at &w, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Views: `diagonal`, `upper_triangle`, `lower_triangle`, `view`, swizzles
// ---------------------------------------------------------------------------------------------

/// A quadratic form `xᵀ UᵀU x` with `U` the upper triangle of a free matrix (a Cholesky
/// factor), plus `−Σ ln |Uᵢᵢ|` read with `diagonal()`: the negative log-density of a Gaussian
/// in its precision-factor parameterisation, as a variational-inference code writes it.
#[differentiate(wrt = p)]
fn cholesky_precision_nll(p: &Matrix3<f64>, x: &Vector3<f64>) -> f64 {
    let u = p.upper_triangle();
    let quad = x.dot(&(u.transpose() * (u * x)));
    0.5 * quad - u.diagonal().map(|t| t.abs().ln()).sum()
}

fn cholesky_precision_nll_grad_by_hand(p: &Matrix3<f64>, x: &Vector3<f64>) -> Matrix3<f64> {
    // d(½ xᵀUᵀUx) = (U x) xᵀ : dU, d(−ln|Uᵢᵢ|) = −1/Uᵢᵢ; only the upper triangle of p counts.
    let u = p.upper_triangle();
    let mut g = (u * x * x.transpose()).upper_triangle();
    for i in 0..3 {
        g[(i, i)] -= 1.0 / u[(i, i)];
    }
    g
}

/// The same with the lower triangle: a covariance `L Lᵀ + I` and its log-determinant.
#[differentiate(wrt = l)]
fn lower_factor_logdet(l: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    let lower = l.lower_triangle();
    let cov = lower * lower.transpose() + Matrix3::identity();
    cov.determinant().ln() + (a.component_mul(&lower)).sum()
}

#[test]
fn triangles_and_diagonals() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let mut p = rng.matrix::<3, 3>();
        for i in 0..3 {
            p[(i, i)] = p[(i, i)].signum() * (0.5 + p[(i, i)].abs());
        }
        check_fn!(cholesky_precision_nll, cholesky_precision_nll_grad,
            cholesky_precision_nll_value_and_grad, cholesky_precision_nll_hvp;
            |m, v| (m, &x); (v); at &p, &mut rng, TOL);
        let g = cholesky_precision_nll_grad(&p, &x);
        assert_close(&g, &cholesky_precision_nll_grad_by_hand(&p, &x), HAND);
        // The strictly lower entries do not enter the function: their gradient is exactly 0.
        assert_eq!(
            g.lower_triangle() - Matrix3::from_diagonal(&g.diagonal()),
            Matrix3::zeros()
        );

        let (l, a) = (rng.matrix::<3, 3>(), rng.matrix::<3, 3>());
        check_fn!(lower_factor_logdet, lower_factor_logdet_grad,
            lower_factor_logdet_value_and_grad, lower_factor_logdet_hvp;
            |m, v| (m, &a); (v); at &l, &mut rng, TOL);
        let g = lower_factor_logdet_grad(&l, &a);
        assert_eq!(
            g.upper_triangle() - Matrix3::from_diagonal(&g.diagonal()),
            Matrix3::zeros()
        );
    }
}

/// The reprojection error of a pinhole camera, `xy / z` of the point in the camera frame, as
/// a bundle-adjustment residual writes it with swizzles, and more swizzles (`zyx()`, `yx()`,
/// `xz()`) in a second term.
#[differentiate(wrt = point)]
fn reprojection_error(
    point: &Vector3<f64>,
    rotation: &Matrix3<f64>,
    observed: &Vector2<f64>,
) -> f64 {
    let camera = rotation * point + Vector3::z() * 4.0;
    let projected = camera.xy() / camera.z;
    let twisted = point.zyx().dot(point) + point.yx().dot(&point.xz());
    (projected - observed).norm_squared() + 0.1 * twisted
}

/// The same projection through a camera's intrinsic matrix, written row by row with
/// `from_row_slice` as calibration code writes it, differentiated with respect to the
/// intrinsics `(fx, fy, cx, cy)`; a lens distortion matrix from an array of columns
/// (`from([[..], [..]])`) and an extrinsic offset from `from_column_slice`.
#[differentiate(wrt = intrinsics)]
fn calibration_error(
    intrinsics: &Vector4<f64>,
    points: &Matrix3x2<f64>,
    observed: &Matrix2<f64>,
) -> f64 {
    let (fx, fy, cx, cy) = (intrinsics[0], intrinsics[1], intrinsics[2], intrinsics[3]);
    let k = Matrix3::from_row_slice(&[fx, 0.1 * fy, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]);
    let distortion = Matrix2::from([[1.0, 0.1 * cx], [0.0, 1.0 + 0.01 * fx]]);
    let k = k + Matrix3::from(k.fixed_view::<3, 3>(0, 0)) * 1e-3;
    let offset = Matrix3x2::from_column_slice(&[0.0, 0.0, 3.0, 0.1 * cy, 0.0, 3.5]);
    let mut error = 0.0;
    for j in 0..2 {
        let camera = k * (points.column(j) + offset.column(j));
        let pixel = distortion * (camera.xy() / camera.z);
        error += (pixel - observed.column(j)).norm_squared();
    }
    error
}

#[test]
fn swizzles() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let point = rng.matrix::<3, 1>();
        let rotation = rng.well_conditioned::<3>();
        let observed = rng.matrix::<2, 1>();
        check_fn!(reprojection_error, reprojection_error_grad, reprojection_error_value_and_grad,
            reprojection_error_hvp; |x, v| (x, &rotation, &observed); (v); at &point, &mut rng,
            TOL);

        let intrinsics = Vector4::new(500.0, 480.0, 320.0, 240.0) + rng.matrix::<4, 1>();
        let points = rng.matrix::<3, 2>();
        let observed = Matrix2::new(300.0, 350.0, 200.0, 260.0);
        check_fn!(calibration_error, calibration_error_grad, calibration_error_value_and_grad,
            calibration_error_hvp; |x, v| (x, &points, &observed); (v); at &intrinsics,
            &mut rng, TOL);
    }
}

/// Determinants of the 2x2 blocks along the diagonal of a 4x4 matrix, the block taken with
/// `view((k, k), (2, 2))` and `view_range(k..k + 2, k..=k + 1)` at an unrolled loop's index,
/// and with `fixed_view` at a kept loop's index followed by `clone_owned()`, `rows_range` and
/// `columns_range`.
#[differentiate(wrt = m)]
fn block_determinants(m: &Matrix4<f64>) -> f64 {
    let mut s = 0.0;
    for k in 0..3 {
        s += m.view((k, k), (2, 2)).determinant();
        s += m.view_range(k..k + 2, k..=k + 1).trace().powi(2);
    }
    s + m.view_range(1.., ..2).norm_squared()
}

#[differentiate(wrt = m)]
fn block_traces<const N: usize>(m: &SMatrix<f64, N, N>) -> f64 {
    let mut s = 0.0;
    for k in 0..N - 1 {
        let block = m.fixed_view::<2, 2>(k, k).clone_owned();
        s += (block * block).trace() + m.view((k, 0), (1, 2)).sum();
        s += m.rows_range(k..k + 1).sum().powi(2) + m.columns_range(k).norm_squared();
    }
    s
}

#[test]
fn views_at_loop_indices() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let m = rng.matrix::<4, 4>();
        check_fn!(block_determinants, block_determinants_grad, block_determinants_value_and_grad,
            block_determinants_hvp; |x, v| (x); (v); at &m, &mut rng, TOL);
        check_fn!(block_traces, block_traces_grad, block_traces_value_and_grad,
            block_traces_hvp; |x, v| (x); (v); at &m, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Every alias's `new`, and the generic `SMatrix::<f64, R, C>` / `SVector` / `RowSVector` forms
// ---------------------------------------------------------------------------------------------

/// Each constructor's entries weighted by their position in memory (`k + 1` for entry `k` in
/// column-major order), so an entry put in another place changes the value and the gradient.
#[differentiate(wrt = x)]
fn every_alias(x: &Vector6<f64>) -> f64 {
    let v2 = Vector2::new(x[0] * 0.50, x[1] * 1.00);
    let v3 = Vector3::new(x[1] * 0.50, x[2] * 1.00, x[3] * 1.50);
    let v4 = Vector4::new(x[2] * 0.50, x[3] * 1.00, x[4] * 1.50, x[5] * 0.75);
    let v5 = Vector5::new(
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
    );
    let v6 = Vector6::new(
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
        x[2] * 1.25,
        x[3] * 0.50,
    );
    let r2 = RowVector2::new(x[5] * 0.50, x[0] * 1.00);
    let r3 = RowVector3::new(x[0] * 0.50, x[1] * 1.00, x[2] * 1.50);
    let r4 = RowVector4::new(x[1] * 0.50, x[2] * 1.00, x[3] * 1.50, x[4] * 0.75);
    let r5 = RowVector5::new(
        x[2] * 0.50,
        x[3] * 1.00,
        x[4] * 1.50,
        x[5] * 0.75,
        x[0] * 1.25,
    );
    let r6 = RowVector6::new(
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
        x[2] * 0.50,
    );
    let m2 = Matrix2::new(x[4] * 0.50, x[5] * 1.00, x[0] * 1.50, x[1] * 0.75);
    let m3 = Matrix3::new(
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
    );
    let m4 = Matrix4::new(
        x[0] * 0.50,
        x[1] * 1.00,
        x[2] * 1.50,
        x[3] * 0.75,
        x[4] * 1.25,
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
        x[2] * 1.25,
        x[3] * 0.50,
    );
    let m5 = Matrix5::new(
        x[1] * 0.50,
        x[2] * 1.00,
        x[3] * 1.50,
        x[4] * 0.75,
        x[5] * 1.25,
        x[0] * 0.50,
        x[1] * 1.00,
        x[2] * 1.50,
        x[3] * 0.75,
        x[4] * 1.25,
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
        x[2] * 1.25,
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
    );
    let m6 = Matrix6::new(
        x[2] * 0.50,
        x[3] * 1.00,
        x[4] * 1.50,
        x[5] * 0.75,
        x[0] * 1.25,
        x[1] * 0.50,
        x[2] * 1.00,
        x[3] * 1.50,
        x[4] * 0.75,
        x[5] * 1.25,
        x[0] * 0.50,
        x[1] * 1.00,
        x[2] * 1.50,
        x[3] * 0.75,
        x[4] * 1.25,
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
        x[2] * 1.25,
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
        x[2] * 0.50,
        x[3] * 1.00,
        x[4] * 1.50,
        x[5] * 0.75,
        x[0] * 1.25,
        x[1] * 0.50,
    );
    let m2x3 = Matrix2x3::new(
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
        x[2] * 0.50,
    );
    let m3x2 = Matrix3x2::new(
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
        x[2] * 1.25,
        x[3] * 0.50,
    );
    let m2x4 = Matrix2x4::new(
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
    );
    let m4x3 = Matrix4x3::new(
        x[0] * 0.50,
        x[1] * 1.00,
        x[2] * 1.50,
        x[3] * 0.75,
        x[4] * 1.25,
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
    );
    let m5x6 = Matrix5x6::new(
        x[1] * 0.50,
        x[2] * 1.00,
        x[3] * 1.50,
        x[4] * 0.75,
        x[5] * 1.25,
        x[0] * 0.50,
        x[1] * 1.00,
        x[2] * 1.50,
        x[3] * 0.75,
        x[4] * 1.25,
        x[5] * 0.50,
        x[0] * 1.00,
        x[1] * 1.50,
        x[2] * 0.75,
        x[3] * 1.25,
        x[4] * 0.50,
        x[5] * 1.00,
        x[0] * 1.50,
        x[1] * 0.75,
        x[2] * 1.25,
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
        x[2] * 0.50,
        x[3] * 1.00,
        x[4] * 1.50,
        x[5] * 0.75,
        x[0] * 1.25,
    );
    let m6x2 = Matrix6x2::new(
        x[2] * 0.50,
        x[3] * 1.00,
        x[4] * 1.50,
        x[5] * 0.75,
        x[0] * 1.25,
        x[1] * 0.50,
        x[2] * 1.00,
        x[3] * 1.50,
        x[4] * 0.75,
        x[5] * 1.25,
        x[0] * 0.50,
        x[1] * 1.00,
    );
    let s = SMatrix::<f64, 3, 4>::new(
        x[3] * 0.50,
        x[4] * 1.00,
        x[5] * 1.50,
        x[0] * 0.75,
        x[1] * 1.25,
        x[2] * 0.50,
        x[3] * 1.00,
        x[4] * 1.50,
        x[5] * 0.75,
        x[0] * 1.25,
        x[1] * 0.50,
        x[2] * 1.00,
    );
    let a = SVector::<f64, 3>::from([x[4] * 0.50, x[5] * 1.00, x[0] * 1.50]);
    let b = RowSVector::<f64, 4>::from([x[5] * 0.50, x[0] * 1.00, x[1] * 1.50, x[2] * 0.75]);
    let c: Matrix3<f64> = SMatrix::from_fn(|i: usize, _| x[i] * x[i + 3]);
    let d = SMatrix::<f64, 2, 3>::from_row_slice(&[
        x[0] * 0.50,
        x[1] * 1.00,
        x[2] * 1.50,
        x[3] * 0.75,
        x[4] * 1.25,
        x[5] * 0.50,
    ]);
    v2.iter()
        .enumerate()
        .map(|(k, &t)| (k as f64 + 1.0) * t * t)
        .sum::<f64>()
        + v3.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + v4.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + v5.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + v6.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + r2.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + r3.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + r4.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + r5.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + r6.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m2.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m3.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m4.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m5.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m6.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m2x3
            .iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m3x2
            .iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m2x4
            .iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m4x3
            .iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m5x6
            .iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + m6x2
            .iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + s.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + a.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + b.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + c.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
        + d.iter()
            .enumerate()
            .map(|(k, &t)| (k as f64 + 1.0) * t * t)
            .sum::<f64>()
}

#[test]
fn every_alias_constructor() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<6, 1>();
        check_fn!(every_alias, every_alias_grad, every_alias_value_and_grad, every_alias_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

/// `from_columns` and `from_rows` of vectors whose length is a const generic: the columns and
/// rows are copied into their blocks.
#[differentiate(wrt = x)]
fn stacked_generic<const N: usize>(x: &SVector<f64, N>, y: &SVector<f64, N>) -> f64 {
    let m = SMatrix::<f64, N, 2>::from_columns(&[*x, x.component_mul(y)]);
    let r = SMatrix::<f64, 2, N>::from_rows(&[y.transpose(), x.map(|t| t.sin()).transpose()]);
    (r * m).determinant() + (m.transpose() * m).trace()
}

#[test]
fn stacking_vectors_of_generic_length() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, y) = (rng.matrix::<4, 1>(), rng.matrix::<4, 1>());
        check_fn!(stacked_generic, stacked_generic_grad, stacked_generic_value_and_grad,
            stacked_generic_hvp; |x, v| (x, &y); (v); at &x, &mut rng, TOL);
    }
}

/// Triangles of rectangular matrices (nalgebra keeps `i <= j`, resp. `i >= j`, whatever the
/// shape), the diagonal of a view, swizzles of a longer vector, a rectangular
/// `from_diagonal_element` and the unit vectors `x()` .. `b()`, entries weighted by their
/// position as above.
#[differentiate(wrt = x)]
fn rectangular_views(x: &Vector6<f64>) -> f64 {
    let m = Matrix5x6::from_fn(|i, j| x[(i + 2 * j) % 6] * (1.0 + (i * j) as f64));
    let wide = m.upper_triangle();
    let tall = m.transpose().lower_triangle();
    let diagonal = m.fixed_view::<5, 5>(0, 1).diagonal();
    let picked = Vector3::new(x.xyz().dot(&x.zyx()), x.yx()[0], x.zx()[1]);
    let eye = Matrix2x3::from_diagonal_element(x[3] * x[4]);
    let axes = Vector6::x()
        + 2.0 * Vector6::y()
        + 3.0 * Vector6::z()
        + 4.0 * Vector6::w()
        + 5.0 * Vector6::a()
        + 6.0 * Vector6::b();
    let weighted = |k: usize, t: f64| (k as f64 + 1.0) * t * t;
    let mut total = 0.0;
    for (k, &t) in wide.iter().enumerate() {
        total += weighted(k, t);
    }
    for (k, &t) in tall.iter().enumerate() {
        total += (0.001 * weighted(k, t)).sin();
    }
    for (k, &t) in diagonal.iter().enumerate() {
        total += (0.001 * weighted(k, t)).cos();
    }
    total
        + x.dot(&axes).powi(3)
        + picked.norm_squared()
        + eye
            .iter()
            .enumerate()
            .map(|(k, &t)| weighted(k, t))
            .sum::<f64>()
}

#[test]
fn views_of_rectangular_matrices() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<6, 1>();
        check_fn!(rectangular_views, rectangular_views_grad, rectangular_views_value_and_grad,
            rectangular_views_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// `f32`
// ---------------------------------------------------------------------------------------------

/// The constructors and views in an `f32` function: the literals they add (the zeros of a
/// triangle, the ones of a unit vector) are `f32`.
#[differentiate(wrt = x)]
fn f32_constructors(x: &Vector3<f32>) -> f32 {
    let m = Matrix3::from_fn(|i, j| x[i] * x[j] + if i == j { 1.0 } else { 0.0 });
    let u = m.upper_triangle() + Matrix3::from_diagonal(&x.zyx());
    u.determinant() + x.xy().norm_squared() + x.dot(&Vector3::y())
}

#[test]
fn f32_constructors_and_views() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>().cast::<f32>();
        check_fn!(f32_constructors, f32_constructors_grad, f32_constructors_value_and_grad,
            f32_constructors_hvp; |x, v| (x); (v); at &x, &mut rng, TOL_F32);
    }
}

// ---------------------------------------------------------------------------------------------
// Inside kept loops and run-time branches
// ---------------------------------------------------------------------------------------------

/// A loop the macro keeps as a loop (const-generic trip count), carrying a matrix built with
/// `from_columns` of swizzles of a view at the loop index, with a run-time branch that builds
/// its value with `from_fn` on one side and `from_diagonal` on the other.
#[differentiate(wrt = x)]
fn carried_constructors<const N: usize>(x: &SVector<f64, N>, a: &Matrix2<f64>) -> f64 {
    let mut acc = Matrix2::identity();
    for k in 0..N - 2 {
        let p = x.fixed_rows::<3>(k);
        let step = if p[0] > 0.0 {
            Matrix2::from_fn(|i, j| p[i] * p[j + 1] * 0.5)
        } else {
            Matrix2::from_diagonal(&p.zx())
        };
        acc = Matrix2::from_columns(&[p.xy(), p.yz()]) * 0.3 + step * acc;
    }
    (acc * a).trace() + acc.diagonal().norm_squared()
}

#[test]
fn constructors_in_kept_loops_and_branches() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<2, 2>();
        // Entries away from 0, where the branch flips and a finite difference would straddle it.
        let mut x = rng.matrix::<6, 1>();
        for t in x.iter_mut() {
            *t = t.signum() * (0.2 + t.abs());
        }
        check_fn!(carried_constructors, carried_constructors_grad,
            carried_constructors_value_and_grad, carried_constructors_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Const-generic sizes: `diagonal()`, the triangles and `from_diagonal` as nalgebra's methods
// ---------------------------------------------------------------------------------------------

/// [`cholesky_precision_nll`] for any size, with the scale of the diagonal set by a
/// `from_diagonal` of a vector: the ops `Diagonal`, `FromDiagonal` and `Triangle` (a
/// const-generic size has no list of entries to assemble).
#[differentiate(wrt = p)]
fn cholesky_precision_nll_generic<const N: usize>(
    p: &SMatrix<f64, N, N>,
    x: &SVector<f64, N>,
    s: &SVector<f64, N>,
) -> f64 {
    let u =
        p.upper_triangle() + SMatrix::<f64, N, N>::from_diagonal(&s.component_mul(&p.diagonal()));
    let l = p.lower_triangle();
    let quad = x.dot(&(u.transpose() * (u * x)));
    0.5 * quad - u.diagonal().map(|t| t.abs().ln()).sum() + 0.1 * (l * x).norm_squared()
}

#[test]
fn diagonals_and_triangles_of_generic_size() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, s) = (rng.matrix::<4, 1>(), rng.matrix::<4, 1>() * 0.1);
        let mut p = rng.matrix::<4, 4>();
        for i in 0..4 {
            p[(i, i)] = p[(i, i)].signum() * (0.5 + p[(i, i)].abs());
        }
        check_fn!(cholesky_precision_nll_generic, cholesky_precision_nll_generic_grad,
            cholesky_precision_nll_generic_value_and_grad, cholesky_precision_nll_generic_hvp;
            |m, v| (m, &x, &s); (v); at &p, &mut rng, TOL);
        // At N = 3 and s = 0 the function is `cholesky_precision_nll` plus the lower term:
        // the same gradient as the literal-size lowering (Assemble) up to that term.
        let (x3, p3) = (
            rng.matrix::<3, 1>(),
            p.fixed_view::<3, 3>(0, 0).into_owned(),
        );
        let zero = SVector::<f64, 3>::zeros();
        let lower_term = 0.2 * (p3.lower_triangle() * x3 * x3.transpose()).lower_triangle();
        assert_close(
            &cholesky_precision_nll_generic_grad(&p3, &x3, &zero),
            &(cholesky_precision_nll_grad(&p3, &x3) + lower_term),
            HAND,
        );
    }
}
