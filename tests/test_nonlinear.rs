//! The nonlinear operations: inverse, determinant, log-determinant, the scalar methods
//! (including `powf`, `max`, `min` and `/`), element-wise maps, `component_div`, the largest
//! and smallest entry, and symmetric eigenvalues. Each is checked on random well-conditioned
//! inputs against finite differences (`check_all`: gradient, Hessian-vector product, Hessian
//! symmetry), and the MATH.md closed forms for det, ln det, `tr(X⁻¹B)`, `aᵀX⁻¹b` and `λᵢ`
//! are checked by value against formulas computed here with nalgebra.

mod common;

use common::{assert_close, assert_scalar_close, full_check, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix2, Matrix2x3, Matrix3, Matrix3x2, Matrix4, Matrix4x3, Matrix5, SMatrix, Vector2, Vector3,
    Vector4,
};
use matdiff::runtime::{dot_product_test, Rng, VectorSpace};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Draws from `draw` until `ok` accepts the sample: keeps random inputs away from kinks,
/// poles and repeated eigenvalues, where a finite difference would straddle a
/// non-differentiable point.
fn draw_until<T>(rng: &mut Rng, mut draw: impl FnMut(&mut Rng) -> T, ok: impl Fn(&T) -> bool) -> T {
    for _ in 0..1000 {
        let sample = draw(rng);
        if ok(&sample) {
            return sample;
        }
    }
    panic!("no acceptable random sample in 1000 draws");
}

/// The symmetric part `(A + Aᵀ) / 2`.
fn sym<const N: usize>(a: &SMatrix<f64, N, N>) -> SMatrix<f64, N, N> {
    (a + a.transpose()) * 0.5
}

/// The smallest distance between two of the eigenvalues `l`.
fn eigen_gap<const N: usize>(l: &SMatrix<f64, N, 1>) -> f64 {
    let mut gap = f64::INFINITY;
    for i in 0..N {
        for j in 0..i {
            gap = gap.min((l[i] - l[j]).abs());
        }
    }
    gap
}

/// The smallest `|entry|` of a matrix: the distance of its entries from a kink at 0.
fn min_abs<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> f64 {
    m.iter().fold(f64::INFINITY, |acc, t| acc.min(t.abs()))
}

/// The gap between the largest and the second largest entry.
fn top_gap<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> f64 {
    let mut v: Vec<f64> = m.iter().copied().collect();
    v.sort_by(|a, b| b.total_cmp(a));
    v[0] - v[1]
}

/// The gap between the smallest and the second smallest entry.
fn bottom_gap<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> f64 {
    top_gap(&(-m))
}

/// A random matrix whose entries are at least `1` in absolute value (safe to divide by).
fn away_from_zero<const R: usize, const C: usize>(rng: &mut Rng) -> SMatrix<f64, R, C> {
    rng.matrix::<R, C>().map(|t| t.signum() * (1.0 + t.abs()))
}

/// Runs [`full_check`] on `A ↦ f((A + Aᵀ)/2)`, whose gradient is `sym(∇f(sym A))` and whose
/// Hessian is `V ↦ sym(H_f(sym A)[sym V])` when `f`'s derivatives are right for symmetric
/// arguments and symmetric directions (which is all the eigenvalue rule promises).
#[track_caller]
fn full_check_symmetric<const N: usize>(
    f: impl Fn(&SMatrix<f64, N, N>) -> f64,
    grad: impl Fn(&SMatrix<f64, N, N>) -> SMatrix<f64, N, N>,
    value_and_grad: impl Fn(&SMatrix<f64, N, N>) -> (f64, SMatrix<f64, N, N>),
    hvp: impl Fn(&SMatrix<f64, N, N>, &SMatrix<f64, N, N>) -> SMatrix<f64, N, N>,
    a: &SMatrix<f64, N, N>,
    rng: &mut Rng,
) {
    full_check(
        |x| f(&sym(x)),
        |x| sym(&grad(&sym(x))),
        |x| {
            let (value, g) = value_and_grad(&sym(x));
            (value, sym(&g))
        },
        |x, v| sym(&hvp(&sym(x), &sym(v))),
        a,
        rng,
        TOL,
    );
}

/// The dot-product test of the Hessian operator `V ↦ H[V]` against itself (it is its own
/// adjoint) along two fresh random directions.
#[track_caller]
fn hessian_dot_product_test<X: VectorSpace>(hvp: impl Fn(&X) -> X, x: &X, rng: &mut Rng) {
    let (v, w) = (x.random(rng), x.random(rng));
    dot_product_test(&hvp, &hvp, &v, &w).assert_within(TOL, "Hessian dot-product test");
}

// ---------------------------------------------------------------------------------------------
// Inverse
// ---------------------------------------------------------------------------------------------

/// `tr(X⁻¹ B)`.
#[differentiate(wrt = x)]
fn trace_inv_b(x: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    (x.try_inverse().unwrap() * b).trace()
}

/// `aᵀ X⁻¹ b`, with `.expect`.
#[differentiate(wrt = x)]
fn bilinear_inv(x: &Matrix3<f64>, a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    a.dot(&(x.try_inverse().expect("X must be invertible") * b))
}

/// `‖X⁻¹‖² + tr(X⁻¹ X⁻¹ A)`: one inverse bound once and used three times.
#[differentiate(wrt = x)]
fn inverse_reused(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    let xi = x.try_inverse().unwrap();
    xi.norm_squared() + (xi * xi * a).trace()
}

/// `aᵀ (XᵀX + I)⁻¹ a`: the inverse of an expression.
#[differentiate(wrt = x)]
fn inverse_of_gram(x: &Matrix3x2<f64>, a: &Vector2<f64>) -> f64 {
    let g = x.transpose() * x + Matrix2::identity();
    a.dot(&(g.try_inverse().unwrap() * a))
}

/// `tr((X⁻¹)⁻¹ A) + sum((X⁻¹)⁻¹ ∘ (X⁻¹)⁻¹)`: the inverse of an inverse.
#[differentiate(wrt = x)]
fn inverse_twice(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    let y = x.try_inverse().unwrap().try_inverse().unwrap();
    (y * a).trace() + y.component_mul(&y).sum()
}

/// `‖X⁻¹ b‖²` with respect to both `X` and `b`.
#[differentiate(wrt = (x, b))]
fn solve_norm(x: &Matrix4<f64>, b: &Vector4<f64>) -> f64 {
    (x.try_inverse().unwrap() * b).norm_squared()
}

/// `sum(X⁻¹)` with `X` taken by value.
#[differentiate(wrt = x)]
fn inverse_by_value(x: Matrix2<f64>) -> f64 {
    x.try_inverse().unwrap().sum()
}

#[test]
fn inverse() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        let b = rng.matrix::<3, 3>();
        let (u, w) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(trace_inv_b, trace_inv_b_grad, trace_inv_b_value_and_grad, trace_inv_b_hvp;
            |x, v| (x, &b); (v); at &x, &mut rng, TOL);
        check_fn!(bilinear_inv, bilinear_inv_grad, bilinear_inv_value_and_grad, bilinear_inv_hvp;
            |x, v| (x, &u, &w); (v); at &x, &mut rng, TOL);
        check_fn!(inverse_reused, inverse_reused_grad, inverse_reused_value_and_grad,
            inverse_reused_hvp; |x, v| (x, &b); (v); at &x, &mut rng, TOL);
        check_fn!(inverse_twice, inverse_twice_grad, inverse_twice_value_and_grad,
            inverse_twice_hvp; |x, v| (x, &b); (v); at &x, &mut rng, TOL);
        let g = rng.matrix::<3, 2>();
        let a2 = rng.matrix::<2, 1>();
        check_fn!(inverse_of_gram, inverse_of_gram_grad, inverse_of_gram_value_and_grad,
            inverse_of_gram_hvp; |x, v| (x, &a2); (v); at &g, &mut rng, TOL);
        let p = (rng.well_conditioned::<4>(), rng.matrix::<4, 1>());
        check_fn!(solve_norm, solve_norm_grad, solve_norm_value_and_grad, solve_norm_hvp;
            |p, v| (&p.0, &p.1); (&v.0, &v.1); at &p, &mut rng, TOL);
        let x2 = rng.well_conditioned::<2>();
        check_fn!(inverse_by_value, inverse_by_value_grad, inverse_by_value_value_and_grad,
            inverse_by_value_hvp; |x, v| (*x); (*v); at &x2, &mut rng, TOL);
        hessian_dot_product_test(|v| trace_inv_b_hvp(&x, &b, v), &x, &mut rng);
    }
}

/// `tr(X⁻¹ B)`: `∇ = −X⁻ᵀ Bᵀ X⁻ᵀ` (MATH.md), and, differentiating that once more,
/// `H[V] = (X⁻¹ V X⁻¹ B X⁻¹ + X⁻¹ B X⁻¹ V X⁻¹)ᵀ`.
#[test]
fn trace_inverse_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        let (b, v) = (rng.matrix::<3, 3>(), rng.matrix::<3, 3>());
        let xi = x.try_inverse().unwrap();
        let xit = xi.transpose();
        let expected_value = (xi * b).trace();
        let expected_grad = -xit * b.transpose() * xit;
        let expected_hvp = (xi * v * xi * b * xi + xi * b * xi * v * xi).transpose();
        assert_scalar_close(trace_inv_b(&x, &b), expected_value, 1e-12);
        assert_close(&trace_inv_b_grad(&x, &b), &expected_grad, 1e-10);
        let (value, grad) = trace_inv_b_value_and_grad(&x, &b);
        assert_scalar_close(value, expected_value, 1e-12);
        assert_close(&grad, &expected_grad, 1e-10);
        assert_close(&trace_inv_b_hvp(&x, &b, &v), &expected_hvp, 1e-10);
    }
}

/// `aᵀ X⁻¹ b`: `∇ = −X⁻ᵀ a bᵀ X⁻ᵀ` (MATH.md), and
/// `H[V] = (X⁻¹ V X⁻¹ b aᵀ X⁻¹ + X⁻¹ b aᵀ X⁻¹ V X⁻¹)ᵀ`.
#[test]
fn bilinear_inverse_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        let (a, b) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        let v = rng.matrix::<3, 3>();
        let xi = x.try_inverse().unwrap();
        let xit = xi.transpose();
        let expected_grad = -xit * a * b.transpose() * xit;
        let ba = b * a.transpose();
        let expected_hvp = (xi * v * xi * ba * xi + xi * ba * xi * v * xi).transpose();
        assert_scalar_close(bilinear_inv(&x, &a, &b), (a.transpose() * xi * b)[0], 1e-12);
        assert_close(&bilinear_inv_grad(&x, &a, &b), &expected_grad, 1e-10);
        assert_close(&bilinear_inv_hvp(&x, &a, &b, &v), &expected_hvp, 1e-10);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinant and log-determinant
// ---------------------------------------------------------------------------------------------

/// `det X`, 2x2.
#[differentiate(wrt = x)]
fn det2(x: &Matrix2<f64>) -> f64 {
    x.determinant()
}

/// `det X`, 3x3.
#[differentiate(wrt = x)]
fn det3(x: &Matrix3<f64>) -> f64 {
    x.determinant()
}

/// `det X`, 4x4.
#[differentiate(wrt = x)]
fn det4(x: &Matrix4<f64>) -> f64 {
    x.determinant()
}

/// `det X`, 5x5 (nalgebra computes it through an LU decomposition).
#[differentiate(wrt = x)]
fn det5(x: &Matrix5<f64>) -> f64 {
    x.determinant()
}

/// `ln det X`, 2x2.
#[differentiate(wrt = x)]
fn logdet2(x: &Matrix2<f64>) -> f64 {
    x.determinant().ln()
}

/// `ln det X`, 3x3.
#[differentiate(wrt = x)]
fn logdet3(x: &Matrix3<f64>) -> f64 {
    x.determinant().ln()
}

/// `ln det X`, 4x4.
#[differentiate(wrt = x)]
fn logdet4(x: &Matrix4<f64>) -> f64 {
    x.determinant().ln()
}

/// `ln det X` written through a binding: `let d = det X; ln d`.
#[differentiate(wrt = x)]
fn logdet_let(x: &Matrix3<f64>) -> f64 {
    let d = x.determinant();
    d.ln()
}

/// `ln d + d` with `d = det X`: the binding is used both as log-det and as det.
#[differentiate(wrt = x)]
fn logdet_and_det(x: &Matrix3<f64>) -> f64 {
    let d = x.determinant();
    d.ln() + 0.01 * d
}

/// `ln det(XᵀX + I)`.
#[differentiate(wrt = x)]
fn logdet_gram(x: &Matrix4x3<f64>) -> f64 {
    (x.transpose() * x + Matrix3::identity()).determinant().ln()
}

/// `det(X A) · tr(X) + (det X)²`: the determinant composed with other operations.
#[differentiate(wrt = x)]
fn det_composed(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x * a).determinant() * x.trace() + x.determinant().powi(2)
}

/// `ln det X − tr(S X)`: the Gaussian log-likelihood shape, `wrt` both.
#[differentiate(wrt = (x, s))]
fn gaussian_like(x: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
    x.determinant().ln() - (s * x).trace()
}

#[test]
fn determinant_and_log_determinant() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x2 = rng.well_conditioned::<2>();
        let x3 = rng.well_conditioned::<3>();
        let x4 = rng.well_conditioned::<4>();
        let x5 = rng.well_conditioned::<5>();
        check_fn!(det2, det2_grad, det2_value_and_grad, det2_hvp;
            |x, v| (x); (v); at &x2, &mut rng, TOL);
        check_fn!(det3, det3_grad, det3_value_and_grad, det3_hvp;
            |x, v| (x); (v); at &x3, &mut rng, TOL);
        check_fn!(det4, det4_grad, det4_value_and_grad, det4_hvp;
            |x, v| (x); (v); at &x4, &mut rng, TOL);
        check_fn!(det5, det5_grad, det5_value_and_grad, det5_hvp;
            |x, v| (x); (v); at &x5, &mut rng, TOL);
        check_fn!(logdet2, logdet2_grad, logdet2_value_and_grad, logdet2_hvp;
            |x, v| (x); (v); at &x2, &mut rng, TOL);
        check_fn!(logdet3, logdet3_grad, logdet3_value_and_grad, logdet3_hvp;
            |x, v| (x); (v); at &x3, &mut rng, TOL);
        check_fn!(logdet4, logdet4_grad, logdet4_value_and_grad, logdet4_hvp;
            |x, v| (x); (v); at &x4, &mut rng, TOL);
        check_fn!(logdet_let, logdet_let_grad, logdet_let_value_and_grad, logdet_let_hvp;
            |x, v| (x); (v); at &x3, &mut rng, TOL);
        check_fn!(logdet_and_det, logdet_and_det_grad, logdet_and_det_value_and_grad,
            logdet_and_det_hvp; |x, v| (x); (v); at &x3, &mut rng, TOL);
        let g = rng.matrix::<4, 3>();
        check_fn!(logdet_gram, logdet_gram_grad, logdet_gram_value_and_grad, logdet_gram_hvp;
            |x, v| (x); (v); at &g, &mut rng, TOL);
        let a = rng.matrix::<3, 3>();
        check_fn!(det_composed, det_composed_grad, det_composed_value_and_grad,
            det_composed_hvp; |x, v| (x, &a); (v); at &x3, &mut rng, TOL);
        let p = (x3, rng.matrix::<3, 3>());
        check_fn!(gaussian_like, gaussian_like_grad, gaussian_like_value_and_grad,
            gaussian_like_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &p, &mut rng, TOL);
        hessian_dot_product_test(|v| det4_hvp(&x4, v), &x4, &mut rng);
        hessian_dot_product_test(|v| logdet4_hvp(&x4, v), &x4, &mut rng);
    }
}

/// Checks the MATH.md rows of `det` and `ln det` at `x` along `v`, by value:
/// `∇det = det(X) X⁻ᵀ`, `H_det[V] = det(X) (tr(X⁻¹V) X⁻ᵀ − X⁻ᵀ Vᵀ X⁻ᵀ)`,
/// `∇ln det = X⁻ᵀ`, `H_ln det[V] = −X⁻ᵀ Vᵀ X⁻ᵀ`.
macro_rules! check_det_closed_forms {
    ($n:literal, $det:ident, $det_grad:ident, $det_vg:ident, $det_hvp:ident,
     $logdet:ident, $logdet_grad:ident, $logdet_vg:ident, $logdet_hvp:ident, $rng:expr) => {{
        let rng: &mut Rng = $rng;
        let x = rng.well_conditioned::<$n>();
        let v = rng.matrix::<$n, $n>();
        let xi = x.try_inverse().unwrap();
        let xit = xi.transpose();
        // An independent determinant: the product of the LU factors' diagonal with the
        // permutation's sign.
        let lu = x.lu();
        let det = lu.u().diagonal().product() * lu.p().determinant::<f64>();
        assert_scalar_close($det(&x), det, 1e-10);
        let det_grad = det * xit;
        let det_hvp = det * ((xi * v).trace() * xit - xit * v.transpose() * xit);
        assert_close(&$det_grad(&x), &det_grad, 1e-10);
        let (value, grad) = $det_vg(&x);
        assert_scalar_close(value, det, 1e-10);
        assert_close(&grad, &det_grad, 1e-10);
        assert_close(&$det_hvp(&x, &v), &det_hvp, 1e-10);

        let logdet_grad = xit;
        let logdet_hvp = -xit * v.transpose() * xit;
        assert_scalar_close($logdet(&x), det.ln(), 1e-12);
        assert_close(&$logdet_grad(&x), &logdet_grad, 1e-12);
        let (value, grad) = $logdet_vg(&x);
        assert_scalar_close(value, det.ln(), 1e-12);
        assert_close(&grad, &logdet_grad, 1e-12);
        assert_close(&$logdet_hvp(&x, &v), &logdet_hvp, 1e-12);
    }};
}

#[test]
fn determinant_closed_forms() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        check_det_closed_forms!(
            2,
            det2,
            det2_grad,
            det2_value_and_grad,
            det2_hvp,
            logdet2,
            logdet2_grad,
            logdet2_value_and_grad,
            logdet2_hvp,
            &mut rng
        );
        check_det_closed_forms!(
            3,
            det3,
            det3_grad,
            det3_value_and_grad,
            det3_hvp,
            logdet3,
            logdet3_grad,
            logdet3_value_and_grad,
            logdet3_hvp,
            &mut rng
        );
        check_det_closed_forms!(
            4,
            det4,
            det4_grad,
            det4_value_and_grad,
            det4_hvp,
            logdet4,
            logdet4_grad,
            logdet4_value_and_grad,
            logdet4_hvp,
            &mut rng
        );
        // The `let d = det X; ln d` spelling has the log-det derivatives too.
        check_det_closed_forms!(
            3,
            det3,
            det3_grad,
            det3_value_and_grad,
            det3_hvp,
            logdet_let,
            logdet_let_grad,
            logdet_let_value_and_grad,
            logdet_let_hvp,
            &mut rng
        );
    }
}

/// A matrix with a negative determinant: `det` and its derivatives still follow the closed
/// forms (the sign is carried by `det X`).
#[test]
fn determinant_negative() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let mut x = rng.well_conditioned::<3>();
        x.swap_rows(0, 1);
        let v = rng.matrix::<3, 3>();
        let xi = x.try_inverse().unwrap();
        let xit = xi.transpose();
        let det = x.determinant();
        assert!(det < 0.0);
        assert_close(&det3_grad(&x), &(det * xit), 1e-10);
        let expected = det * ((xi * v).trace() * xit - xit * v.transpose() * xit);
        assert_close(&det3_hvp(&x, &v), &expected, 1e-10);
        check_fn!(det3, det3_grad, det3_value_and_grad, det3_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

/// `ln det(XᵀX + I)`: `∇ = 2 X (XᵀX + I)⁻¹`, checked by value.
#[test]
fn logdet_gram_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<4, 3>();
        let m = x.transpose() * x + Matrix3::identity();
        let mi = m.try_inverse().unwrap();
        assert_scalar_close(
            logdet_gram(&x),
            m.cholesky().unwrap().l().diagonal().map(f64::ln).sum() * 2.0,
            1e-12,
        );
        assert_close(&logdet_gram_grad(&x), &(2.0 * x * mi), 1e-12);
        // H[V] = 2 V M⁻¹ − 2 X M⁻¹ (VᵀX + XᵀV) M⁻¹.
        let v = rng.matrix::<4, 3>();
        let expected = 2.0 * v * mi - 2.0 * x * mi * (v.transpose() * x + x.transpose() * v) * mi;
        assert_close(&logdet_gram_hvp(&x, &v), &expected, 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar methods on scalar values
// ---------------------------------------------------------------------------------------------

/// `exp(x·a / 2)`.
#[differentiate(wrt = x)]
fn s_exp(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (0.5 * x.dot(a)).exp()
}

/// `ln(‖x‖² + 1) · sum x`.
#[differentiate(wrt = x)]
fn s_ln(x: &Vector3<f64>) -> f64 {
    (x.norm_squared() + 1.0).ln() * x.sum()
}

/// `√(‖x‖² + 0.5)`.
#[differentiate(wrt = x)]
fn s_sqrt(x: &Vector3<f64>) -> f64 {
    (x.norm_squared() + 0.5).sqrt()
}

/// `sin(x·a) · ‖x‖²`.
#[differentiate(wrt = x)]
fn s_sin(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).sin() * x.norm_squared()
}

/// `cos(x·a) + cos(sum x)²`.
#[differentiate(wrt = x)]
fn s_cos(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).cos() + x.sum().cos().powi(2)
}

/// `tan(x·a / 10)` (the argument stays well inside `(−π/2, π/2)`).
#[differentiate(wrt = x)]
fn s_tan(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (0.1 * x.dot(a)).tan()
}

/// `tanh(x·a) · sum x`.
#[differentiate(wrt = x)]
fn s_tanh(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).tanh() * x.sum()
}

/// `1 / (‖x‖² + 1)` through `.recip()`.
#[differentiate(wrt = x)]
fn s_recip(x: &Vector3<f64>) -> f64 {
    (x.norm_squared() + 1.0).recip()
}

/// `|x·a| · sum x` (inputs keep `x·a` away from 0).
#[differentiate(wrt = x)]
fn s_abs(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).abs() * x.sum()
}

/// `sign(x·a) · ‖x‖²` (inputs keep `x·a` away from 0).
#[differentiate(wrt = x)]
fn s_signum(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).signum() * x.norm_squared()
}

/// `(sum x)³ + (‖x‖² + 1)⁻² + (x·a)¹ · (sum x)⁰`: positive, negative, one and zero powers.
#[differentiate(wrt = x)]
fn s_powi(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.sum().powi(3) + (x.norm_squared() + 1.0).powi(-2) + x.dot(a).powi(1) * x.sum().powi(0)
}

/// `(‖x‖² + 1)^1.7 + (‖x‖² + 2)^−0.5`: constant exponents.
#[differentiate(wrt = x)]
fn s_powf_const(x: &Vector3<f64>) -> f64 {
    (x.norm_squared() + 1.0).powf(1.7) + (x.norm_squared() + 2.0).powf(-0.5)
}

/// `(‖x‖² + 1)^(0.3 x·a)`: an exponent that depends on `x` too.
#[differentiate(wrt = x)]
fn s_powf_variable(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (x.norm_squared() + 1.0).powf(0.3 * x.dot(a))
}

/// `bᵖ` with respect to both scalars.
#[differentiate(wrt = (b, p))]
fn s_powf_scalars(b: f64, p: f64) -> f64 {
    b.powf(p)
}

/// `max(x·a, sum x) · ‖x‖` (inputs keep the two apart).
#[differentiate(wrt = x)]
fn s_max(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).max(x.sum()) * x.norm()
}

/// `min(x·a, sum x) · ‖x‖` (inputs keep the two apart).
#[differentiate(wrt = x)]
fn s_min(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.dot(a).min(x.sum()) * x.norm()
}

/// `sum x / (‖x‖² + 1) + (x·a / 2) / ‖x‖ + 1 / ‖x‖²`: `/` between scalars.
#[differentiate(wrt = x)]
fn s_div(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.sum() / (x.norm_squared() + 1.0) + (x.dot(a) / 2.0) / x.norm() + 1.0 / x.norm_squared()
}

/// `s / t + t / (s · s + 1)` with respect to both scalars.
#[differentiate(wrt = (s, t))]
fn s_div_scalars(s: f64, t: f64) -> f64 {
    s / t + t / (s * s + 1.0)
}

/// `max(s, t)` with respect to both (for the tie-breaking rule).
#[differentiate(wrt = (s, t))]
fn s_max_pair(s: f64, t: f64) -> f64 {
    s.max(t)
}

/// `min(s, t)` with respect to both (for the tie-breaking rule).
#[differentiate(wrt = (s, t))]
fn s_min_pair(s: f64, t: f64) -> f64 {
    s.min(t)
}

/// `|sum x|`, for the subgradient at 0.
#[differentiate(wrt = x)]
fn s_abs_sum(x: &Vector3<f64>) -> f64 {
    x.sum().abs()
}

#[test]
fn scalar_methods() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 1>();
        check_fn!(s_exp, s_exp_grad, s_exp_value_and_grad, s_exp_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(s_ln, s_ln_grad, s_ln_value_and_grad, s_ln_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(s_sqrt, s_sqrt_grad, s_sqrt_value_and_grad, s_sqrt_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(s_sin, s_sin_grad, s_sin_value_and_grad, s_sin_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(s_cos, s_cos_grad, s_cos_value_and_grad, s_cos_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        assert!((0.1 * x.dot(&a)).abs() < 1.2);
        check_fn!(s_tan, s_tan_grad, s_tan_value_and_grad, s_tan_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(s_tanh, s_tanh_grad, s_tanh_value_and_grad, s_tanh_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(s_recip, s_recip_grad, s_recip_value_and_grad, s_recip_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(s_powi, s_powi_grad, s_powi_value_and_grad, s_powi_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(s_powf_const, s_powf_const_grad, s_powf_const_value_and_grad,
            s_powf_const_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(s_powf_variable, s_powf_variable_grad, s_powf_variable_value_and_grad,
            s_powf_variable_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(s_div, s_div_grad, s_div_value_and_grad, s_div_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);

        // Kinks: x·a away from 0 for abs and signum, x·a away from sum x for max and min.
        let xk = draw_until(&mut rng, |r| r.matrix::<3, 1>(), |x| x.dot(&a).abs() > 0.3);
        check_fn!(s_abs, s_abs_grad, s_abs_value_and_grad, s_abs_hvp;
            |x, v| (x, &a); (v); at &xk, &mut rng, TOL);
        check_fn!(s_signum, s_signum_grad, s_signum_value_and_grad, s_signum_hvp;
            |x, v| (x, &a); (v); at &xk, &mut rng, TOL);
        let xm = draw_until(
            &mut rng,
            |r| r.matrix::<3, 1>(),
            |x| (x.dot(&a) - x.sum()).abs() > 0.3,
        );
        check_fn!(s_max, s_max_grad, s_max_value_and_grad, s_max_hvp;
            |x, v| (x, &a); (v); at &xm, &mut rng, TOL);
        check_fn!(s_min, s_min_grad, s_min_value_and_grad, s_min_hvp;
            |x, v| (x, &a); (v); at &xm, &mut rng, TOL);

        let bp = (1.0 + 0.5 * rng.uniform(), 2.0 * rng.uniform());
        check_fn!(s_powf_scalars, s_powf_scalars_grad, s_powf_scalars_value_and_grad,
            s_powf_scalars_hvp; |p, v| (p.0, p.1); (v.0, v.1); at &bp, &mut rng, TOL);
        let st = (rng.normal(), 1.0 + rng.uniform().abs());
        check_fn!(s_div_scalars, s_div_scalars_grad, s_div_scalars_value_and_grad,
            s_div_scalars_hvp; |p, v| (p.0, p.1); (v.0, v.1); at &st, &mut rng, TOL);
        let pair = draw_until(
            &mut rng,
            |r| (r.normal(), r.normal()),
            |p| (p.0 - p.1).abs() > 0.1,
        );
        check_fn!(s_max_pair, s_max_pair_grad, s_max_pair_value_and_grad, s_max_pair_hvp;
            |p, v| (p.0, p.1); (v.0, v.1); at &pair, &mut rng, TOL);
        check_fn!(s_min_pair, s_min_pair_grad, s_min_pair_value_and_grad, s_min_pair_hvp;
            |p, v| (p.0, p.1); (v.0, v.1); at &pair, &mut rng, TOL);
        hessian_dot_product_test(|v| s_powf_variable_hvp(&x, &a, v), &x, &mut rng);
    }
}

/// Hand-derived derivatives of a few scalar compositions, by value.
#[test]
fn scalar_methods_closed_forms() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        // exp(x·a/2): ∇ = e a / 2, H v = e a (a·v) / 4.
        let e = (0.5 * x.dot(&a)).exp();
        assert_close(&s_exp_grad(&x, &a), &(e * a / 2.0), 1e-12);
        assert_close(&s_exp_hvp(&x, &a, &v), &(e * a * a.dot(&v) / 4.0), 1e-12);
        // √(‖x‖² + 0.5): ∇ = x / r, H v = v / r − x (x·v) / r³.
        let r = (x.norm_squared() + 0.5).sqrt();
        assert_close(&s_sqrt_grad(&x), &(x / r), 1e-12);
        assert_close(
            &s_sqrt_hvp(&x, &v),
            &(v / r - x * x.dot(&v) / r.powi(3)),
            1e-12,
        );
        // 1 / (‖x‖² + 1): ∇ = −2x / q², H v = −2v / q² + 8 x (x·v) / q³.
        let q = x.norm_squared() + 1.0;
        assert_close(&s_recip_grad(&x), &(-2.0 * x / (q * q)), 1e-12);
        let expected = -2.0 * v / (q * q) + 8.0 * x * x.dot(&v) / q.powi(3);
        assert_close(&s_recip_hvp(&x, &v), &expected, 1e-12);
        // tan(x·a/10): ∇ = sec²(u) a / 10, H v = 2 sec²(u) tan(u) a (a·v) / 100.
        let u = 0.1 * x.dot(&a);
        let sec2 = 1.0 / u.cos().powi(2);
        assert_close(&s_tan_grad(&x, &a), &(sec2 * a / 10.0), 1e-12);
        let expected = 2.0 * sec2 * u.tan() * a * a.dot(&v) / 100.0;
        assert_close(&s_tan_hvp(&x, &a, &v), &expected, 1e-12);
        // bᵖ: ∇ = (p bᵖ⁻¹, bᵖ ln b).
        let (b, p) = (1.3 + 0.2 * rng.uniform(), rng.normal());
        let (gb, gp) = s_powf_scalars_grad(b, p);
        assert_scalar_close(gb, p * b.powf(p - 1.0), 1e-12);
        assert_scalar_close(gp, b.powf(p) * b.ln(), 1e-12);
    }
}

/// Subgradients at kinks, as documented: `abs` has derivative 0 at 0, `max(a, b)` follows
/// `b` at a tie (and `min(a, b)` too), `signum` has derivative 0.
#[test]
fn scalar_kink_conventions() {
    // sum x = 0 exactly.
    let x = Vector3::new(1.0, -1.0, 0.0);
    assert_eq!(x.sum(), 0.0);
    assert_eq!(s_abs_sum(&x), 0.0);
    assert_close(&s_abs_sum_grad(&x), &Vector3::zeros(), 0.0);
    assert_close(
        &s_abs_sum_hvp(&x, &Vector3::new(1.0, 2.0, 3.0)),
        &Vector3::zeros(),
        0.0,
    );
    // Away from the tie, the derivative follows the larger (smaller) argument.
    assert_eq!(s_max_pair_grad(2.0, 1.0), (1.0, 0.0));
    assert_eq!(s_max_pair_grad(1.0, 2.0), (0.0, 1.0));
    assert_eq!(s_min_pair_grad(2.0, 1.0), (0.0, 1.0));
    assert_eq!(s_min_pair_grad(1.0, 2.0), (1.0, 0.0));
    // At a tie, it follows the second argument.
    assert_eq!(s_max_pair_grad(1.5, 1.5), (0.0, 1.0));
    assert_eq!(s_min_pair_grad(1.5, 1.5), (0.0, 1.0));
    assert_eq!(s_max_pair_value_and_grad(1.5, 1.5), (1.5, (0.0, 1.0)));
    // signum: ∇(sign(x·a) ‖x‖²) = 2 sign(x·a) x.
    let a = Vector3::new(0.5, 2.0, -1.0);
    let x = Vector3::new(1.0, -1.0, 0.5);
    assert!(x.dot(&a) < 0.0);
    assert_close(&s_signum_grad(&x, &a), &(-2.0 * x), 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Element-wise maps and component_div
// ---------------------------------------------------------------------------------------------

/// The sigmoid MLP layer `‖σ(Wᵀ x) − y‖²`.
#[differentiate(wrt = w)]
fn sigmoid_layer(w: &Matrix3x2<f64>, x: &Vector3<f64>, y: &Vector2<f64>) -> f64 {
    ((w.transpose() * x).map(|t| 1.0 / (1.0 + (-t).exp())) - y).norm_squared()
}

/// The same layer with respect to both the weights and the input.
#[differentiate(wrt = (w, x))]
fn sigmoid_layer_both(w: &Matrix3x2<f64>, x: &Vector3<f64>, y: &Vector2<f64>) -> f64 {
    ((w.transpose() * x).map(|t| 1.0 / (1.0 + (-t).exp())) - y).norm_squared()
}

/// Softplus summed against `a`: `<ln(1 + eˣ), A>`.
#[differentiate(wrt = x)]
fn softplus(x: &Matrix2x3<f64>, a: &Matrix2x3<f64>) -> f64 {
    x.map(|t| (1.0 + t.exp()).ln()).dot(a)
}

/// `sum((A x)²)` through a `t * t` map (equals `‖A x‖²`).
#[differentiate(wrt = x)]
fn map_square(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (a * x).map(|t| t * t).sum()
}

/// ReLU layer `<max(W x, 0), y>` (inputs keep `W x` away from 0).
#[differentiate(wrt = w)]
fn relu_layer(w: &Matrix3<f64>, x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
    (w * x).map(|t| t.max(0.0)).dot(y)
}

/// ReLU then a smooth function, so the Hessian is not zero: `‖max(X, 0)‖² + sum(min(X, 0)³)`.
#[differentiate(wrt = x)]
fn relu_squared(x: &Matrix3<f64>) -> f64 {
    x.map(|t| t.max(0.0)).norm_squared() + x.map(|t| t.min(0.0).powi(3)).sum()
}

/// `sum ReLU(X)`, for the subgradient at 0.
#[differentiate(wrt = x)]
fn relu_sum(x: &Vector3<f64>) -> f64 {
    x.map(|t| t.max(0.0)).sum()
}

/// Every path form `f64::f` of a scalar method inside `.map()`.
#[differentiate(wrt = x)]
fn map_paths(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    let p = x.map(|t| t * t + 1.0);
    x.map(f64::exp).dot(a)
        + x.map(f64::sin).sum()
        + x.map(f64::cos).norm_squared()
        + x.map(f64::tanh).component_mul(x).sum()
        + p.map(f64::ln).sum()
        + p.map(f64::sqrt).dot(a)
        + p.map(f64::recip).sum()
        + (x * 0.1).map(f64::tan).sum()
}

/// `<|X|, A>` with `f64::abs` (inputs keep entries away from 0).
#[differentiate(wrt = x)]
fn map_abs(x: &Matrix2x3<f64>, a: &Matrix2x3<f64>) -> f64 {
    x.map(f64::abs).component_mul(&x.map(f64::exp)).dot(a)
}

/// Closures with richer bodies: a typed argument, powers, division, constants, `signum`,
/// a constant closure, and a map of a map.
#[differentiate(wrt = x)]
fn map_closures(x: &Vector4<f64>) -> f64 {
    let a = x.map(|t: f64| t.tanh());
    let b = x.map(|t| (t * 2.0).sin() / (t * t + 1.0));
    let c = x.map(|t| (t * t + 1.0).powf(1.5) - t.powi(3));
    let d = x.map(|t| std::f64::consts::PI * t.signum() * t * t);
    let e = x.map(|_t| 3.0);
    let f = x.map(|t| t.sin()).map(|t| t * t);
    let g = x.map(|t| -t.recip());
    a.dot(&b) + c.sum() + d.norm_squared() + e.dot(x) + f.sum() + g.sum()
}

/// `sum(A ⊘ B)` with respect to both.
#[differentiate(wrt = (a, b))]
fn component_div(a: &Matrix2x3<f64>, b: &Matrix2x3<f64>) -> f64 {
    a.component_div(b).sum() + a.component_div(&(b.component_mul(b))).dot(a)
}

/// `<X ⊘ (X² + 1), c>`.
#[differentiate(wrt = x)]
fn component_div_self(x: &Vector3<f64>, c: &Vector3<f64>) -> f64 {
    x.component_div(&x.map(|t| t * t + 1.0)).dot(c)
}

#[test]
fn maps_and_component_div() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let w = rng.matrix::<3, 2>();
        let x = rng.matrix::<3, 1>();
        let y = rng.matrix::<2, 1>().map(|t| 0.5 + 0.4 * t.tanh());
        check_fn!(sigmoid_layer, sigmoid_layer_grad, sigmoid_layer_value_and_grad,
            sigmoid_layer_hvp; |w, v| (w, &x, &y); (v); at &w, &mut rng, TOL);
        let p = (w, x);
        check_fn!(sigmoid_layer_both, sigmoid_layer_both_grad,
            sigmoid_layer_both_value_and_grad, sigmoid_layer_both_hvp;
            |p, v| (&p.0, &p.1, &y); (&v.0, &v.1); at &p, &mut rng, TOL);
        let (m, a) = (rng.matrix::<2, 3>(), rng.matrix::<2, 3>());
        check_fn!(softplus, softplus_grad, softplus_value_and_grad, softplus_hvp;
            |x, v| (x, &a); (v); at &m, &mut rng, TOL);
        let a3 = rng.matrix::<3, 3>();
        check_fn!(map_square, map_square_grad, map_square_value_and_grad, map_square_hvp;
            |x, v| (x, &a3); (v); at &x, &mut rng, TOL);
        // ReLU away from its kink: every entry of W x at least 0.2 from 0.
        let wr = draw_until(
            &mut rng,
            |r| r.matrix::<3, 3>(),
            |w| min_abs(&(w * x)) > 0.2,
        );
        let y3 = rng.matrix::<3, 1>();
        check_fn!(relu_layer, relu_layer_grad, relu_layer_value_and_grad, relu_layer_hvp;
            |w, v| (w, &x, &y3); (v); at &wr, &mut rng, TOL);
        let xr = draw_until(&mut rng, |r| r.matrix::<3, 3>(), |m| min_abs(m) > 0.2);
        check_fn!(relu_squared, relu_squared_grad, relu_squared_value_and_grad,
            relu_squared_hvp; |x, v| (x); (v); at &xr, &mut rng, TOL);
        let a1 = rng.matrix::<3, 1>();
        check_fn!(map_paths, map_paths_grad, map_paths_value_and_grad, map_paths_hvp;
            |x, v| (x, &a1); (v); at &x, &mut rng, TOL);
        let ma = draw_until(&mut rng, |r| r.matrix::<2, 3>(), |m| min_abs(m) > 0.2);
        check_fn!(map_abs, map_abs_grad, map_abs_value_and_grad, map_abs_hvp;
            |x, v| (x, &a); (v); at &ma, &mut rng, TOL);
        let x4 = draw_until(&mut rng, |r| r.matrix::<4, 1>(), |m| min_abs(m) > 0.2);
        check_fn!(map_closures, map_closures_grad, map_closures_value_and_grad,
            map_closures_hvp; |x, v| (x); (v); at &x4, &mut rng, TOL);
        let q = (rng.matrix::<2, 3>(), away_from_zero::<2, 3>(&mut rng));
        check_fn!(component_div, component_div_grad, component_div_value_and_grad,
            component_div_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &q, &mut rng, TOL);
        let c = rng.matrix::<3, 1>();
        check_fn!(component_div_self, component_div_self_grad,
            component_div_self_value_and_grad, component_div_self_hvp;
            |x, v| (x, &c); (v); at &x, &mut rng, TOL);
        hessian_dot_product_test(|v| softplus_hvp(&m, &a, v), &m, &mut rng);
        hessian_dot_product_test(|v| component_div_hvp(&q.0, &q.1, &v.0, &v.1), &q, &mut rng);
    }
}

/// The maps' derivatives by value, from hand-written formulas.
#[test]
fn maps_closed_forms() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        // ‖σ(Wᵀx) − y‖²: with s = σ(Wᵀx), δ = 2 (s − y) ∘ s ∘ (1 − s), ∇_W = x δᵀ.
        let w = rng.matrix::<3, 2>();
        let x = rng.matrix::<3, 1>();
        let y = rng.matrix::<2, 1>();
        let s = (w.transpose() * x).map(|t| 1.0 / (1.0 + (-t).exp()));
        let delta = 2.0 * (s - y).component_mul(&s).component_mul(&s.map(|t| 1.0 - t));
        assert_close(
            &sigmoid_layer_grad(&w, &x, &y),
            &(x * delta.transpose()),
            1e-12,
        );
        let (gw, gx) = sigmoid_layer_both_grad(&w, &x, &y);
        assert_close(&gw, &(x * delta.transpose()), 1e-12);
        assert_close(&gx, &(w * delta), 1e-12);
        // <softplus(X), A>: ∇ = σ(X) ∘ A, H[V] = σ(X) ∘ (1 − σ(X)) ∘ A ∘ V.
        let m = rng.matrix::<2, 3>();
        let a = rng.matrix::<2, 3>();
        let v = rng.matrix::<2, 3>();
        let sig = m.map(|t| 1.0 / (1.0 + (-t).exp()));
        assert_close(&softplus_grad(&m, &a), &sig.component_mul(&a), 1e-12);
        let expected = sig
            .component_mul(&sig.map(|t| 1.0 - t))
            .component_mul(&a)
            .component_mul(&v);
        assert_close(&softplus_hvp(&m, &a, &v), &expected, 1e-12);
        // sum((A x)²) = ‖Ax‖²: ∇ = 2 Aᵀ A x, H v = 2 Aᵀ A v.
        let a3 = rng.matrix::<3, 3>();
        let v3 = rng.matrix::<3, 1>();
        assert_close(
            &map_square_grad(&x, &a3),
            &(2.0 * a3.transpose() * a3 * x),
            1e-12,
        );
        assert_close(
            &map_square_hvp(&x, &a3, &v3),
            &(2.0 * a3.transpose() * a3 * v3),
            1e-12,
        );
        // <ReLU(W x), y>: ∇_W = (1[W x > 0] ∘ y) xᵀ, H = 0.
        let wr = rng.matrix::<3, 3>();
        let mask = (wr * x).map(|t| if t > 0.0 { 1.0 } else { 0.0 });
        let expected = mask.component_mul(&v3) * x.transpose();
        assert_close(&relu_layer_grad(&wr, &x, &v3), &expected, 1e-12);
        assert_close(&relu_layer_hvp(&wr, &x, &v3, &a3), &Matrix3::zeros(), 1e-12);
        // sum(A ⊘ B) + <A ⊘ B², A>: ∇_A = 1 ⊘ B + 2 A ⊘ B², ∇_B = −A ⊘ B² − 2 A² ⊘ B³.
        let (p, q) = (rng.matrix::<2, 3>(), away_from_zero::<2, 3>(&mut rng));
        let (ga, gb) = component_div_grad(&p, &q);
        let ones = Matrix2x3::repeat(1.0);
        let expected_a = ones.component_div(&q) + 2.0 * p.component_div(&q.map(|t| t * t));
        let expected_b = -p.component_div(&q.map(|t| t * t))
            - 2.0 * p.map(|t| t * t).component_div(&q.map(|t| t * t * t));
        assert_close(&ga, &expected_a, 1e-12);
        assert_close(&gb, &expected_b, 1e-12);
    }
}

/// ReLU's documented subgradient: `t.max(0.0)` has derivative 0 at `t = 0` (`max` follows
/// its second argument, the constant, at the tie).
#[test]
fn relu_subgradient_at_zero() {
    let x = Vector3::new(0.0, 2.0, -1.0);
    assert_eq!(relu_sum(&x), 2.0);
    assert_close(&relu_sum_grad(&x), &Vector3::new(0.0, 1.0, 0.0), 0.0);
    let (value, grad) = relu_sum_value_and_grad(&x);
    assert_eq!(value, 2.0);
    assert_close(&grad, &Vector3::new(0.0, 1.0, 0.0), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Largest and smallest entry
// ---------------------------------------------------------------------------------------------

/// `max(X A) + ‖X‖²`.
#[differentiate(wrt = x)]
fn entry_max(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x * a).max() + x.norm_squared()
}

/// `min(x) · sum(x)`.
#[differentiate(wrt = x)]
fn entry_min(x: &Vector4<f64>) -> f64 {
    x.min() * x.sum()
}

/// `exp(max x) − exp(min x)`.
#[differentiate(wrt = x)]
fn entry_max_min(x: &Vector4<f64>) -> f64 {
    x.max().exp() - x.min().exp()
}

/// `max x`, for the tie-breaking rule.
#[differentiate(wrt = x)]
fn vec_max(x: &Vector4<f64>) -> f64 {
    x.max()
}

/// `min x`, for the tie-breaking rule.
#[differentiate(wrt = x)]
fn vec_min(x: &Vector4<f64>) -> f64 {
    x.min()
}

#[test]
fn largest_and_smallest_entry() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let x = draw_until(
            &mut rng,
            |r| r.matrix::<3, 3>(),
            |x| top_gap(&(x * a)) > 0.1,
        );
        check_fn!(entry_max, entry_max_grad, entry_max_value_and_grad, entry_max_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        let y = draw_until(
            &mut rng,
            |r| r.matrix::<4, 1>(),
            |y| top_gap(y) > 0.1 && bottom_gap(y) > 0.1,
        );
        check_fn!(entry_min, entry_min_grad, entry_min_value_and_grad, entry_min_hvp;
            |x, v| (x); (v); at &y, &mut rng, TOL);
        check_fn!(entry_max_min, entry_max_min_grad, entry_max_min_value_and_grad,
            entry_max_min_hvp; |x, v| (x); (v); at &y, &mut rng, TOL);
        // All entries negative (the maximum is not 0) and all positive.
        let neg = y.map(|t| -1.0 - t.abs());
        let pos = -neg;
        for z in [neg, pos] {
            check_fn!(vec_max, vec_max_grad, vec_max_value_and_grad, vec_max_hvp;
                |x, v| (x); (v); at &z, &mut rng, TOL);
            check_fn!(vec_min, vec_min_grad, vec_min_value_and_grad, vec_min_hvp;
                |x, v| (x); (v); at &z, &mut rng, TOL);
        }
        // By value: one-hot at the arg max / arg min.
        let mut onehot = Vector4::zeros();
        onehot[y.argmax().0] = 1.0;
        assert_close(&vec_max_grad(&y), &onehot, 0.0);
        let mut onehot = Vector4::zeros();
        onehot[y.argmin().0] = 1.0;
        assert_close(&vec_min_grad(&y), &onehot, 0.0);
    }
}

/// At a tie the derivative is one-hot at the first arg max (arg min).
#[test]
fn entry_extremum_ties() {
    let x = Vector4::new(1.0, 3.0, -2.0, 3.0);
    assert_close(&vec_max_grad(&x), &Vector4::new(0.0, 1.0, 0.0, 0.0), 0.0);
    let x = Vector4::new(2.0, -1.0, 5.0, -1.0);
    assert_close(&vec_min_grad(&x), &Vector4::new(0.0, 1.0, 0.0, 0.0), 0.0);
    let x = Vector4::repeat(0.5);
    assert_close(&vec_max_grad(&x), &Vector4::new(1.0, 0.0, 0.0, 0.0), 0.0);
    assert_close(&vec_min_grad(&x), &Vector4::new(1.0, 0.0, 0.0, 0.0), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigenvalues
// ---------------------------------------------------------------------------------------------

/// `λ₀(A)`, in nalgebra's order.
#[differentiate(wrt = a)]
fn eig_first(a: &Matrix3<f64>) -> f64 {
    a.symmetric_eigenvalues()[0]
}

/// `λ₂(A)`, in nalgebra's order.
#[differentiate(wrt = a)]
fn eig_last(a: &Matrix3<f64>) -> f64 {
    a.symmetric_eigenvalues()[2]
}

/// `λ₀(A) − 2 λ₁(A)` of a 2x2 matrix, in nalgebra's order.
#[differentiate(wrt = a)]
fn eig2(a: &Matrix2<f64>) -> f64 {
    let l = a.symmetric_eigenvalues();
    l[0] - 2.0 * l[1]
}

/// `λ_max(A)`.
#[differentiate(wrt = a)]
fn eig_max(a: &Matrix4<f64>) -> f64 {
    a.symmetric_eigenvalues().max()
}

/// `λ_min(A)`.
#[differentiate(wrt = a)]
fn eig_min(a: &Matrix4<f64>) -> f64 {
    a.symmetric_eigenvalues().min()
}

/// `Σ λᵢ(A) = tr A`.
#[differentiate(wrt = a)]
fn eig_sum(a: &Matrix3<f64>) -> f64 {
    a.symmetric_eigenvalues().sum()
}

/// `Σ λᵢ² = ‖A‖²` for symmetric `A`.
#[differentiate(wrt = a)]
fn eig_squares(a: &Matrix3<f64>) -> f64 {
    let l = a.symmetric_eigenvalues();
    l.dot(&l)
}

/// `tr exp(A) = Σ exp λᵢ`, through a map of the eigenvalues.
#[differentiate(wrt = a)]
fn eig_trace_exp(a: &Matrix3<f64>) -> f64 {
    a.symmetric_eigenvalues().map(f64::exp).sum()
}

/// `λ_max(XᵀX + S)` for symmetric `S`: the argument is symmetric for every `X` and so is
/// every perturbation of it, so no symmetrisation is needed.
#[differentiate(wrt = x)]
fn eig_gram_max(x: &Matrix4x3<f64>, s: &Matrix3<f64>) -> f64 {
    (x.transpose() * x + s).symmetric_eigenvalues().max()
}

/// A random symmetric 3x3 matrix whose eigenvalues are at least `0.3` apart.
fn distinct_symmetric3(rng: &mut Rng) -> Matrix3<f64> {
    draw_until(
        rng,
        |r| r.symmetric::<3>(),
        |a| eigen_gap(&a.symmetric_eigenvalues()) > 0.3,
    )
}

/// A random symmetric 4x4 matrix whose eigenvalues are at least `0.3` apart.
fn distinct_symmetric4(rng: &mut Rng) -> Matrix4<f64> {
    draw_until(
        rng,
        |r| r.symmetric::<4>(),
        |a| eigen_gap(&a.symmetric_eigenvalues()) > 0.3,
    )
}

#[test]
fn symmetric_eigenvalues() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a3 = distinct_symmetric3(&mut rng);
        let a4 = distinct_symmetric4(&mut rng);
        full_check_symmetric(
            eig_first,
            eig_first_grad,
            eig_first_value_and_grad,
            eig_first_hvp,
            &a3,
            &mut rng,
        );
        full_check_symmetric(
            eig_last,
            eig_last_grad,
            eig_last_value_and_grad,
            eig_last_hvp,
            &a3,
            &mut rng,
        );
        full_check_symmetric(
            eig_max,
            eig_max_grad,
            eig_max_value_and_grad,
            eig_max_hvp,
            &a4,
            &mut rng,
        );
        full_check_symmetric(
            eig_min,
            eig_min_grad,
            eig_min_value_and_grad,
            eig_min_hvp,
            &a4,
            &mut rng,
        );
        full_check_symmetric(
            eig_sum,
            eig_sum_grad,
            eig_sum_value_and_grad,
            eig_sum_hvp,
            &a3,
            &mut rng,
        );
        full_check_symmetric(
            eig_squares,
            eig_squares_grad,
            eig_squares_value_and_grad,
            eig_squares_hvp,
            &a3,
            &mut rng,
        );
        full_check_symmetric(
            eig_trace_exp,
            eig_trace_exp_grad,
            eig_trace_exp_value_and_grad,
            eig_trace_exp_hvp,
            &a3,
            &mut rng,
        );
        let a2 = draw_until(
            &mut rng,
            |r| r.symmetric::<2>(),
            |a| eigen_gap(&a.symmetric_eigenvalues()) > 0.3,
        );
        full_check_symmetric(
            eig2,
            eig2_grad,
            eig2_value_and_grad,
            eig2_hvp,
            &a2,
            &mut rng,
        );
        // By value: u₀u₀ᵀ − 2 u₁u₁ᵀ.
        let e2 = a2.symmetric_eigen();
        let l2 = a2.symmetric_eigenvalues();
        let u0 = eigenvector_for(&a2, (e2.eigenvalues, e2.eigenvectors), l2[0]);
        let u1 = eigenvector_for(&a2, (e2.eigenvalues, e2.eigenvectors), l2[1]);
        let expected = u0 * u0.transpose() - 2.0 * u1 * u1.transpose();
        assert_close(&eig2_grad(&a2), &fold_lower(&expected), 1e-10);
        let s = rng.symmetric::<3>();
        let x = draw_until(
            &mut rng,
            |r| r.matrix::<4, 3>(),
            |x| top_gap(&(x.transpose() * x + s).symmetric_eigenvalues()) > 0.3,
        );
        check_fn!(eig_gram_max, eig_gram_max_grad, eig_gram_max_value_and_grad,
            eig_gram_max_hvp; |x, v| (x, &s); (v); at &x, &mut rng, TOL);
        hessian_dot_product_test(|v| sym(&eig_max_hvp(&a4, &sym(v))), &a4, &mut rng);
    }
}

/// The unit eigenvector of the symmetric `a` for its eigenvalue closest to `lambda`, picked
/// from `a`'s decomposition `(values, vectors)` computed independently by `symmetric_eigen()`.
fn eigenvector_for<const N: usize>(
    a: &SMatrix<f64, N, N>,
    (values, vectors): (SMatrix<f64, N, 1>, SMatrix<f64, N, N>),
    lambda: f64,
) -> SMatrix<f64, N, 1> {
    let (mut best, mut dist) = (0, f64::INFINITY);
    for i in 0..N {
        let d = (values[i] - lambda).abs();
        if d < dist {
            (best, dist) = (i, d);
        }
    }
    let u = vectors.column(best).into_owned();
    let u = u / u.norm();
    assert!((a * u - lambda * u).norm() < 1e-9, "not an eigenvector");
    u
}

/// A symmetric gradient `G` as the gradient of a function that reads only the lower triangle
/// (nalgebra's `symmetric_eigen`): `Gᵢⱼ + Gⱼᵢ` below the diagonal, `Gᵢᵢ` on it, 0 above.
fn fold_lower<const N: usize>(g: &SMatrix<f64, N, N>) -> SMatrix<f64, N, N> {
    SMatrix::from_fn(|i, j| match i.cmp(&j) {
        std::cmp::Ordering::Greater => g[(i, j)] + g[(j, i)],
        std::cmp::Ordering::Equal => g[(i, i)],
        std::cmp::Ordering::Less => 0.0,
    })
}

/// The MATH.md row `∇λᵢ = uᵢ uᵢᵀ`, by value (folded onto the lower triangle, which is what
/// the function reads), with `uᵢ` from nalgebra's `symmetric_eigen()`;
/// plus `∇ Σλᵢ = I`, `∇ Σλᵢ² = 2A` and `∇ tr exp A = U exp(Λ) Uᵀ`.
#[test]
fn symmetric_eigenvalue_closed_forms() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a3 = distinct_symmetric3(&mut rng);
        let a4 = distinct_symmetric4(&mut rng);
        let l3 = a3.symmetric_eigenvalues();
        let l4 = a4.symmetric_eigenvalues();
        let e3 = {
            let e = a3.symmetric_eigen();
            (e.eigenvalues, e.eigenvectors)
        };
        let e4 = {
            let e = a4.symmetric_eigen();
            (e.eigenvalues, e.eigenvectors)
        };
        let u = eigenvector_for(&a3, e3, l3[0]);
        assert_scalar_close(eig_first(&a3), u.dot(&(a3 * u)), 1e-12);
        assert_close(
            &eig_first_grad(&a3),
            &fold_lower(&(u * u.transpose())),
            1e-10,
        );
        let (value, grad) = eig_first_value_and_grad(&a3);
        assert_scalar_close(value, l3[0], 1e-12);
        assert_close(&grad, &fold_lower(&(u * u.transpose())), 1e-10);
        let u = eigenvector_for(&a3, e3, l3[2]);
        assert_close(
            &eig_last_grad(&a3),
            &fold_lower(&(u * u.transpose())),
            1e-10,
        );
        let u = eigenvector_for(&a4, e4, l4.max());
        assert_close(&eig_max_grad(&a4), &fold_lower(&(u * u.transpose())), 1e-10);
        let u = eigenvector_for(&a4, e4, l4.min());
        assert_close(&eig_min_grad(&a4), &fold_lower(&(u * u.transpose())), 1e-10);
        assert_close(&eig_sum_grad(&a3), &fold_lower(&Matrix3::identity()), 1e-10);
        assert_close(&eig_squares_grad(&a3), &fold_lower(&(2.0 * a3)), 1e-10);
        let e = a3.symmetric_eigen();
        let expm = e.eigenvectors
            * Matrix3::from_diagonal(&e.eigenvalues.map(f64::exp))
            * e.eigenvectors.transpose();
        assert_close(&eig_trace_exp_grad(&a3), &fold_lower(&expm), 1e-10);
        // H[V] of λ_max for symmetric V: 2 Σ_{j≠i} (u_jᵀ V u_i)/(λ_i − λ_j) sym(u_i u_jᵀ).
        let v = rng.symmetric::<4>();
        let e = a4.symmetric_eigen();
        let i = e.eigenvalues.argmax().0;
        let ui = e.eigenvectors.column(i).into_owned();
        let mut expected = Matrix4::zeros();
        for j in (0..4).filter(|&j| j != i) {
            let uj = e.eigenvectors.column(j).into_owned();
            let c = uj.dot(&(v * ui)) / (e.eigenvalues[i] - e.eigenvalues[j]);
            expected += c * (ui * uj.transpose() + uj * ui.transpose());
        }
        assert_close(&sym(&eig_max_hvp(&a4, &v)), &expected, 1e-9);
    }
}

// ---------------------------------------------------------------------------------------------
// f32 and const generics
// ---------------------------------------------------------------------------------------------

/// `ln det X + tr(X⁻¹ B)` in `f32`.
#[differentiate(wrt = x)]
fn f32_inverse_logdet(x: &SMatrix<f32, 3, 3>, b: &SMatrix<f32, 3, 3>) -> f32 {
    x.determinant().ln() + (x.try_inverse().unwrap() * b).trace() + 0.1 * x.determinant()
}

/// A sigmoid layer and `f32::exp` in `f32`.
#[differentiate(wrt = w)]
fn f32_maps(w: &SMatrix<f32, 3, 2>, x: &SMatrix<f32, 3, 1>) -> f32 {
    let h = (w.transpose() * x).map(|t| 1.0 / (1.0 + (-t).exp()));
    h.sum() + w.map(f32::tanh).norm_squared() + (h.max() * 0.5).powf(1.5)
}

/// `tr(X⁻¹ B) + ‖X⁻¹‖²` for any size `N`.
#[differentiate(wrt = x)]
fn generic_inverse<const N: usize>(x: &SMatrix<f64, N, N>, b: &SMatrix<f64, N, N>) -> f64 {
    let xi = x.try_inverse().unwrap();
    (xi * b).trace() + xi.map(|t| t * t).sum()
}

#[test]
fn f32_and_const_generics() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        let b = rng.matrix::<3, 3>();
        let (xf, bf) = (x.cast::<f32>(), b.cast::<f32>());
        // The f32 function against its f64 closed form ∇ = X⁻ᵀ − X⁻ᵀ Bᵀ X⁻ᵀ + 0.1 det(X) X⁻ᵀ.
        let xit = x.try_inverse().unwrap().transpose();
        let expected = xit - xit * b.transpose() * xit + 0.1 * x.determinant() * xit;
        let (value, grad) = f32_inverse_logdet_value_and_grad(&xf, &bf);
        assert_scalar_close(
            f64::from(value),
            f64::from(f32_inverse_logdet(&xf, &bf)),
            1e-6,
        );
        assert_close(&grad, &f32_inverse_logdet_grad(&xf, &bf), 1e-6);
        let grad = grad.cast::<f64>();
        assert_close(&grad, &expected, 1e-4);
        let v = rng.matrix::<3, 3>();
        let h = f32_inverse_logdet_hvp(&xf, &bf, &v.cast::<f32>()).cast::<f64>();
        let h64 = trace_inv_b_hvp(&x, &b, &v) + logdet3_hvp(&x, &v) + 0.1 * det3_hvp(&x, &v);
        assert_close(&h, &h64, 1e-3);
        let w = rng.matrix::<3, 2>().cast::<f32>();
        let xv = rng.matrix::<3, 1>().cast::<f32>();
        full_check(
            |w: &SMatrix<f32, 3, 2>| f32_maps(w, &xv),
            |w| f32_maps_grad(w, &xv),
            |w| f32_maps_value_and_grad(w, &xv),
            |w, v| f32_maps_hvp(w, &xv, v),
            &w,
            &mut rng,
            common::TOL_F32,
        );
        let x4 = rng.well_conditioned::<4>();
        let b4 = rng.matrix::<4, 4>();
        check_fn!(generic_inverse, generic_inverse_grad, generic_inverse_value_and_grad,
            generic_inverse_hvp; |x, v| (x, &b4); (v); at &x4, &mut rng, TOL);
        check_fn!(generic_inverse, generic_inverse_grad, generic_inverse_value_and_grad,
            generic_inverse_hvp; |x, v| (x, &b); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Edge cases
// ---------------------------------------------------------------------------------------------

/// `Σ tᵢ^2.0 + (sum x)^3.0`: constant exponents of (possibly) negative bases, where the
/// exponent's own derivative `bᵖ ln b` is NaN and must not leak into the result.
#[differentiate(wrt = x)]
fn powf_negative_base(x: &Vector3<f64>) -> f64 {
    x.map(|t| t.powf(2.0)).sum() + x.sum().powf(3.0)
}

/// A `.map()` closure whose body is a block with `let` bindings.
#[differentiate(wrt = x)]
fn map_block_closure(x: &Vector3<f64>) -> f64 {
    x.map(|t| {
        let u = t * t;
        u.exp() / (1.0 + u)
    })
    .sum()
}

/// 1x1 matrices: `det X + ln det X + sum(X⁻¹)`.
#[differentiate(wrt = x)]
fn one_by_one(x: &SMatrix<f64, 1, 1>) -> f64 {
    x.determinant() + x.determinant().ln() + x.try_inverse().unwrap().sum()
}

/// `ln det X − 1 / det X` for a 6x6 `X`.
#[differentiate(wrt = x)]
fn logdet6(x: &SMatrix<f64, 6, 6>) -> f64 {
    x.determinant().ln() - 1.0 / x.determinant()
}

/// `Σ |tᵢ|` through `f64::abs`, for the subgradient at 0 inside a map.
#[differentiate(wrt = x)]
fn map_abs_sum(x: &Vector3<f64>) -> f64 {
    x.map(f64::abs).sum()
}

#[test]
fn edge_cases() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        // Make sure some bases are negative.
        let x = draw_until(
            &mut rng,
            |r| r.matrix::<3, 1>(),
            |x| x.min() < -0.2 && x.sum() < 0.0,
        );
        assert!(powf_negative_base(&x).is_finite());
        let expected = 2.0 * x + Vector3::repeat(3.0 * x.sum().powi(2));
        assert_close(&powf_negative_base_grad(&x), &expected, 1e-12);
        let v = rng.matrix::<3, 1>();
        let expected = 2.0 * v + Vector3::repeat(6.0 * x.sum() * v.sum());
        assert_close(&powf_negative_base_hvp(&x, &v), &expected, 1e-12);
        check_fn!(powf_negative_base, powf_negative_base_grad,
            powf_negative_base_value_and_grad, powf_negative_base_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(map_block_closure, map_block_closure_grad, map_block_closure_value_and_grad,
            map_block_closure_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let x1 = SMatrix::<f64, 1, 1>::new(1.0 + rng.uniform().abs());
        check_fn!(one_by_one, one_by_one_grad, one_by_one_value_and_grad, one_by_one_hvp;
            |x, v| (x); (v); at &x1, &mut rng, TOL);
        // d/dx (x + ln x + 1/x) = 1 + 1/x − 1/x².
        let s = x1[0];
        assert_scalar_close(
            one_by_one_grad(&x1)[0],
            1.0 + 1.0 / s - 1.0 / (s * s),
            1e-12,
        );
        let x6 = rng.well_conditioned::<6>();
        check_fn!(logdet6, logdet6_grad, logdet6_value_and_grad, logdet6_hvp;
            |x, v| (x); (v); at &x6, &mut rng, TOL);
        let xit = x6.try_inverse().unwrap().transpose();
        let expected = xit + xit / x6.determinant();
        assert_close(&logdet6_grad(&x6), &expected, 1e-12);
    }
    // |t| has subgradient 0 at 0 inside a map too.
    let x = Vector3::new(0.0, -2.0, 3.0);
    assert_eq!(map_abs_sum(&x), 5.0);
    assert_close(&map_abs_sum_grad(&x), &Vector3::new(0.0, -1.0, 1.0), 0.0);
}
