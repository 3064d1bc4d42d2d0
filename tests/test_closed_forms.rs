//! The worked results of MATH.md: value, gradient and Hessian-vector product of each
//! function compared with the closed form, written independently of the generated code.

mod common;

use common::{assert_close, assert_scalar_close, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix2, Matrix2x3, Matrix3, Matrix3x2, Matrix3x4, Matrix4x2, SMatrix, SVector, Vector3,
};
use matdiff::runtime::{conjugate_gradient, Rng, VectorSpace};

/// Tolerance of closed-form comparisons (rounding only).
const EXACT: f64 = 1e-10;

/// `Σᵢⱼ xᵢ Aᵢⱼ xⱼ`, summed entry by entry.
fn quadratic_form_by_entries<const N: usize>(x: &SVector<f64, N>, a: &SMatrix<f64, N, N>) -> f64 {
    let mut total = 0.0;
    for i in 0..N {
        for j in 0..N {
            total += x[i] * a[(i, j)] * x[j];
        }
    }
    total
}

/// `tr(M)` summed entry by entry.
fn trace_by_entries<const N: usize>(m: &SMatrix<f64, N, N>) -> f64 {
    (0..N).map(|i| m[(i, i)]).sum()
}

// ---------------------------------------------------------------------------------------------
// xᵀ A x: gradient (A + Aᵀ) x, Hessian (A + Aᵀ) v
// ---------------------------------------------------------------------------------------------

/// `xᵀ A x` as `⟨x, A x⟩`.
#[differentiate(wrt = x)]
fn quad_dot(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    x.dot(&(a * x))
}

/// `xᵀ A x` as the 1x1 matrix `xᵀ A x`.
#[differentiate(wrt = x)]
fn quad_product(x: &SVector<f64, 5>, a: &SMatrix<f64, 5, 5>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

#[test]
fn quadratic_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let sym = a + a.transpose();
        assert_scalar_close(quad_dot(&x, &a), quadratic_form_by_entries(&x, &a), EXACT);
        assert_close(&quad_dot_grad(&x, &a), &(sym * x), EXACT);
        let (value, grad) = quad_dot_value_and_grad(&x, &a);
        assert_scalar_close(value, quadratic_form_by_entries(&x, &a), EXACT);
        assert_close(&grad, &(sym * x), EXACT);
        assert_close(&quad_dot_hvp(&x, &a, &v), &(sym * v), EXACT);
        // The Hessian does not depend on the point.
        let y = rng.matrix::<3, 1>();
        assert_close(&quad_dot_hvp(&y, &a, &v), &(sym * v), EXACT);

        let a = rng.matrix::<5, 5>();
        let x = rng.matrix::<5, 1>();
        let v = rng.matrix::<5, 1>();
        let sym = a + a.transpose();
        assert_scalar_close(
            quad_product(&x, &a),
            quadratic_form_by_entries(&x, &a),
            EXACT,
        );
        assert_close(&quad_product_grad(&x, &a), &(sym * x), EXACT);
        let (value, grad) = quad_product_value_and_grad(&x, &a);
        assert_scalar_close(value, quadratic_form_by_entries(&x, &a), EXACT);
        assert_close(&grad, &(sym * x), EXACT);
        assert_close(&quad_product_hvp(&x, &a, &v), &(sym * v), EXACT);

        // For symmetric A the gradient is 2 A x (the slides' `2xᵀA`, transposed).
        let s = rng.symmetric::<5>();
        assert_close(&quad_product_grad(&x, &s), &(2.0 * s * x), EXACT);
        check_fn!(quad_product, quad_product_grad, quad_product_value_and_grad,
            quad_product_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// tr(Xᵀ A X B): gradient 2 A X B and Hessian 2 A V B for symmetric A, B
// ---------------------------------------------------------------------------------------------

/// `tr(Xᵀ A X B)` with `X` 3x2.
#[differentiate(wrt = x)]
fn trace_xtaxb(x: &Matrix3x2<f64>, a: &Matrix3<f64>, b: &Matrix2<f64>) -> f64 {
    (x.transpose() * a * x * b).trace()
}

#[test]
fn trace_of_xt_a_x_b() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.symmetric::<3>();
        let b = rng.spd::<2>();
        let x = rng.matrix::<3, 2>();
        let v = rng.matrix::<3, 2>();
        let value = trace_by_entries(&(x.transpose() * a * x * b));
        assert_scalar_close(trace_xtaxb(&x, &a, &b), value, EXACT);
        assert_close(&trace_xtaxb_grad(&x, &a, &b), &(2.0 * a * x * b), EXACT);
        let (val, grad) = trace_xtaxb_value_and_grad(&x, &a, &b);
        assert_scalar_close(val, value, EXACT);
        assert_close(&grad, &(2.0 * a * x * b), EXACT);
        assert_close(&trace_xtaxb_hvp(&x, &a, &b, &v), &(2.0 * a * v * b), EXACT);

        // General (non-symmetric) A, B: gradient A X B + Aᵀ X Bᵀ, Hessian A V B + Aᵀ V Bᵀ.
        let a = rng.matrix::<3, 3>();
        let b = rng.matrix::<2, 2>();
        let grad = a * x * b + a.transpose() * x * b.transpose();
        let hvp = a * v * b + a.transpose() * v * b.transpose();
        assert_close(&trace_xtaxb_grad(&x, &a, &b), &grad, EXACT);
        assert_close(&trace_xtaxb_hvp(&x, &a, &b, &v), &hvp, EXACT);
        check_fn!(trace_xtaxb, trace_xtaxb_grad, trace_xtaxb_value_and_grad, trace_xtaxb_hvp;
            |x, v| (x, &a, &b); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// ‖X w − y‖² w.r.t. w: gradient 2 Xᵀ(X w − y), Hessian 2 XᵀX v
// ---------------------------------------------------------------------------------------------

/// The least-squares loss `‖X w − y‖²`.
#[differentiate(wrt = w)]
fn least_squares(w: &Vector3<f64>, x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>) -> f64 {
    (x * w - y).norm_squared()
}

/// `Σᵢ (Σⱼ Xᵢⱼ wⱼ − yᵢ)²`, summed entry by entry.
fn least_squares_by_entries(w: &Vector3<f64>, x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>) -> f64 {
    (0..5)
        .map(|i| {
            let r: f64 = (0..3).map(|j| x[(i, j)] * w[j]).sum::<f64>() - y[i];
            r * r
        })
        .sum()
}

#[test]
fn least_squares_random() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<5, 3>();
        let y = rng.matrix::<5, 1>();
        let w = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let value = least_squares_by_entries(&w, &x, &y);
        let grad = 2.0 * x.transpose() * (x * w - y);
        assert_scalar_close(least_squares(&w, &x, &y), value, EXACT);
        assert_close(&least_squares_grad(&w, &x, &y), &grad, EXACT);
        let (val, g) = least_squares_value_and_grad(&w, &x, &y);
        assert_scalar_close(val, value, EXACT);
        assert_close(&g, &grad, EXACT);
        assert_close(
            &least_squares_hvp(&w, &x, &y, &v),
            &(2.0 * x.transpose() * x * v),
            EXACT,
        );
    }
}

/// The seed lecture's example: the minimiser is exactly `(3, 29/66, −19/66)`.
#[test]
fn least_squares_seed_example() {
    let x = SMatrix::<f64, 5, 3>::from_row_slice(&[
        1.0, -2.0, 4.0, //
        1.0, 0.0, 0.0, //
        1.0, 1.0, 1.0, //
        1.0, 3.0, 9.0, //
        1.0, 4.0, 16.0,
    ]);
    let y = SVector::<f64, 5>::from_column_slice(&[1.0, 3.0, 3.0, 2.0, 0.0]);
    let w_star = Vector3::new(3.0, 29.0 / 66.0, -19.0 / 66.0);

    // The gradient vanishes at the minimiser.
    assert!(least_squares_grad(&w_star, &x, &y).norm() < 1e-10);
    // One Newton step from 0, solving H s = −∇f with the generated HVP, reaches it.
    let w0 = Vector3::zeros();
    let rhs = least_squares_grad(&w0, &x, &y).scaled(-1.0);
    let step = conjugate_gradient(|v| least_squares_hvp(&w0, &x, &y, v), &rhs, 1e-13, 50);
    assert_close(&step, &w_star, 1e-9);
    // And the value there is the residual norm computed entry by entry.
    assert_scalar_close(
        least_squares(&w_star, &x, &y),
        least_squares_by_entries(&w_star, &x, &y),
        EXACT,
    );
}

// ---------------------------------------------------------------------------------------------
// tr(A X B): gradient Aᵀ Bᵀ, Hessian 0
// ---------------------------------------------------------------------------------------------

/// `tr(A X B)` with `A` 2x3, `X` 3x4, `B` 4x2.
#[differentiate(wrt = x)]
fn trace_axb(x: &Matrix3x4<f64>, a: &Matrix2x3<f64>, b: &Matrix4x2<f64>) -> f64 {
    (a * x * b).trace()
}

#[test]
fn trace_of_a_x_b() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<2, 3>();
        let b = rng.matrix::<4, 2>();
        let x = rng.matrix::<3, 4>();
        let v = rng.matrix::<3, 4>();
        // tr(A X B) = Σ A_ij X_jk B_ki.
        let mut value = 0.0;
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    value += a[(i, j)] * x[(j, k)] * b[(k, i)];
                }
            }
        }
        let grad = a.transpose() * b.transpose();
        assert_scalar_close(trace_axb(&x, &a, &b), value, EXACT);
        assert_close(&trace_axb_grad(&x, &a, &b), &grad, EXACT);
        let (val, g) = trace_axb_value_and_grad(&x, &a, &b);
        assert_scalar_close(val, value, EXACT);
        assert_close(&g, &grad, EXACT);
        let h = trace_axb_hvp(&x, &a, &b, &v);
        assert!(
            h.norm() <= 1e-12,
            "Hessian of a linear function must vanish: {h}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ‖X‖_F² = tr(XᵀX): gradient 2X, Hessian 2V
// ---------------------------------------------------------------------------------------------

/// `‖X‖_F²` via `norm_squared`.
#[differentiate(wrt = x)]
fn frobenius_norm_squared(x: &Matrix3x2<f64>) -> f64 {
    x.norm_squared()
}

/// `tr(XᵀX)`.
#[differentiate(wrt = x)]
fn frobenius_trace(x: &Matrix3x2<f64>) -> f64 {
    (x.transpose() * x).trace()
}

/// `⟨X, X⟩`.
#[differentiate(wrt = x)]
fn frobenius_dot(x: &Matrix3x2<f64>) -> f64 {
    x.dot(x)
}

#[test]
fn frobenius_norm() {
    type Triple = (
        fn(&Matrix3x2<f64>) -> f64,
        fn(&Matrix3x2<f64>) -> Matrix3x2<f64>,
        fn(&Matrix3x2<f64>) -> (f64, Matrix3x2<f64>),
        fn(&Matrix3x2<f64>, &Matrix3x2<f64>) -> Matrix3x2<f64>,
    );
    let forms: [Triple; 3] = [
        (
            frobenius_norm_squared,
            frobenius_norm_squared_grad,
            frobenius_norm_squared_value_and_grad,
            frobenius_norm_squared_hvp,
        ),
        (
            frobenius_trace,
            frobenius_trace_grad,
            frobenius_trace_value_and_grad,
            frobenius_trace_hvp,
        ),
        (
            frobenius_dot,
            frobenius_dot_grad,
            frobenius_dot_value_and_grad,
            frobenius_dot_hvp,
        ),
    ];
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 2>();
        let v = rng.matrix::<3, 2>();
        let value: f64 = x.iter().map(|e| e * e).sum();
        for (f, grad, value_and_grad, hvp) in forms {
            assert_scalar_close(f(&x), value, EXACT);
            assert_close(&grad(&x), &(2.0 * x), EXACT);
            let (val, g) = value_and_grad(&x);
            assert_scalar_close(val, value, EXACT);
            assert_close(&g, &(2.0 * x), EXACT);
            assert_close(&hvp(&x, &v), &(2.0 * v), EXACT);
        }
    }
}
