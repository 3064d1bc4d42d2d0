//! Every supported matrix operation, with the `wrt` parameter in each operand position,
//! checked on random inputs against finite differences (`check_all`) and for agreement of
//! `_value_and_grad` with the function and `_grad`.

mod common;

use common::{SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix2x3, Matrix3, Matrix3x2, Matrix3x4, Matrix4, RowVector3, SMatrix, Vector2, Vector3,
};
use matdiff::runtime::Rng;

// ---------------------------------------------------------------------------------------------
// `+` and `-`
// ---------------------------------------------------------------------------------------------

/// `‖X + A‖²`: the `wrt` parameter on the left of `+`.
#[differentiate(wrt = x)]
fn add_left(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x + a).norm_squared()
}

/// `sum((A + X) ∘ X)`: the `wrt` parameter on the right of `+` (and again in the product).
#[differentiate(wrt = x)]
fn add_right(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (a + x).component_mul(x).sum()
}

/// `<X + X, A X>`: both operands of `+` are the `wrt` parameter.
#[differentiate(wrt = x)]
fn add_self(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x + x).dot(&(a * x))
}

/// `(sum X + tr X + 1)²`: scalar addition.
#[differentiate(wrt = x)]
fn add_scalars(x: &Matrix3<f64>) -> f64 {
    (x.sum() + x.trace() + 1.0).powi(2)
}

/// `‖X − A‖²`: the `wrt` parameter on the left of `-`.
#[differentiate(wrt = x)]
fn sub_left(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x - a).norm_squared()
}

/// `<A − X, X B>`: the `wrt` parameter on the right of `-`.
#[differentiate(wrt = x)]
fn sub_right(x: &Matrix3<f64>, a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    (a - x).dot(&(x * b))
}

/// `(1 − sum X)³ − tr X`: scalar subtraction with a literal.
#[differentiate(wrt = x)]
fn sub_scalars(x: &Matrix3<f64>) -> f64 {
    (1.0 - x.sum()).powi(3) - x.trace()
}

/// `sum((−X) ∘ (A X)) + tr(−(X X))`: unary minus of matrices.
#[differentiate(wrt = x)]
fn neg_matrix(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (-x).component_mul(&(a * x)).sum() + (-(x * x)).trace()
}

/// `−‖X‖⁴ + (−tr X)³`: unary minus of scalars.
#[differentiate(wrt = x)]
fn neg_scalar(x: &Matrix3<f64>) -> f64 {
    -x.norm_squared().powi(2) + (-x.trace()).powi(3)
}

#[test]
fn addition_and_subtraction() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let b = rng.matrix::<3, 3>();
        let x = rng.well_conditioned::<3>();
        check_fn!(add_left, add_left_grad, add_left_value_and_grad, add_left_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(add_right, add_right_grad, add_right_value_and_grad, add_right_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(add_self, add_self_grad, add_self_value_and_grad, add_self_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(add_scalars, add_scalars_grad, add_scalars_value_and_grad, add_scalars_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(sub_left, sub_left_grad, sub_left_value_and_grad, sub_left_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(sub_right, sub_right_grad, sub_right_value_and_grad, sub_right_hvp;
            |x, v| (x, &a, &b); (v); at &x, &mut rng, TOL);
        check_fn!(sub_scalars, sub_scalars_grad, sub_scalars_value_and_grad, sub_scalars_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(neg_matrix, neg_matrix_grad, neg_matrix_value_and_grad, neg_matrix_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(neg_scalar, neg_scalar_grad, neg_scalar_value_and_grad, neg_scalar_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// `*` for every shape pair
// ---------------------------------------------------------------------------------------------

/// `sum X · tr X · ‖X‖²`: scalar · scalar, all factors depending on `X`.
#[differentiate(wrt = x)]
fn mul_scalar_scalar(x: &Matrix3<f64>) -> f64 {
    x.sum() * x.trace() * x.norm_squared()
}

/// `<tr(X) A, X>`: scalar (from `X`) · constant matrix.
#[differentiate(wrt = x)]
fn mul_scalar_matrix_scalar_wrt(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.trace() * a).dot(x)
}

/// `sum((s X) ∘ X) + ‖2.5 X‖²`: constant scalar · `wrt` matrix.
#[differentiate(wrt = x)]
fn mul_scalar_matrix_matrix_wrt(x: &Matrix3<f64>, s: f64) -> f64 {
    (s * x).component_mul(x).sum() + (2.5 * x).norm_squared()
}

/// `<X sum(X), A> + sum(X · 3)`: matrix · scalar.
#[differentiate(wrt = x)]
fn mul_matrix_scalar(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x * x.sum()).dot(a) + (x * 3.0).sum()
}

/// `<A · s, X> · s` with `s = ‖X‖`: constant matrix · scalar depending on `X`.
#[differentiate(wrt = x)]
fn mul_const_matrix_scalar(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    let s = x.norm();
    (a * s).dot(x) * s
}

/// `tr(A X X)`: the `wrt` parameter on the right of a product.
#[differentiate(wrt = x)]
fn matmul_wrt_right(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (a * x * x).trace()
}

/// `‖X B‖² · sum(X)` with `X` 2x3 and `B` 3x4: the `wrt` parameter on the left of a
/// non-square product.
#[differentiate(wrt = x)]
fn matmul_wrt_left(x: &Matrix2x3<f64>, b: &Matrix3x4<f64>) -> f64 {
    (x * b).norm_squared() * x.sum()
}

/// `‖A X‖² · tr(Xᵀ X)` with `A` 2x3 and `X` 3x2.
#[differentiate(wrt = x)]
fn matmul_nonsquare_right(x: &Matrix3x2<f64>, a: &Matrix2x3<f64>) -> f64 {
    (a * x).norm_squared() * (x.transpose() * x).trace()
}

/// `tr(X X X)`: a product of the `wrt` parameter with itself.
#[differentiate(wrt = x)]
fn matmul_cube(x: &Matrix3<f64>) -> f64 {
    (x * x * x).trace()
}

/// `‖A x‖²` with `A` 2x3, `x` a vector: matrix · vector.
#[differentiate(wrt = x)]
fn matvec(x: &Vector3<f64>, a: &Matrix2x3<f64>) -> f64 {
    let y = a * x;
    y.norm_squared() * y[0]
}

/// `xᵀ A x` written as a 1x1 product indexed with `[(0, 0)]`.
#[differentiate(wrt = x)]
fn inner_quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

/// `(xᵀ y)² · (xᵀ x)`, `wrt = x`: the vector inner product, indexed with `[0]`.
#[differentiate(wrt = x)]
fn inner_wrt_left(x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
    (x.transpose() * y)[0].powi(2) * (x.transpose() * x)[0]
}

/// `(yᵀ x)³`, `wrt = x`: the `wrt` vector on the right of the inner product.
#[differentiate(wrt = x)]
fn inner_wrt_right(x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
    (y.transpose() * x)[0].powi(3)
}

/// `sum((x yᵀ) ∘ A)`, `wrt = x`: the outer product, `wrt` on the left.
#[differentiate(wrt = x)]
fn outer_wrt_left(x: &Vector3<f64>, y: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x * y.transpose()).component_mul(a).sum() * x.norm()
}

/// `tr((x yᵀ) A (x yᵀ))`, `wrt = y`: the outer product, `wrt` on the right.
#[differentiate(wrt = y)]
fn outer_wrt_right(x: &Vector3<f64>, y: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    let p = x * y.transpose();
    (p * a * p).trace()
}

/// `tr((x xᵀ)(x xᵀ)) = (xᵀ x)²`: an outer product of the `wrt` vector with itself.
#[differentiate(wrt = x)]
fn outer_self(x: &Vector3<f64>) -> f64 {
    let p = x * x.transpose();
    (p * p).trace()
}

/// `r A rᵀ` for a row vector `r`.
#[differentiate(wrt = r)]
fn row_quadratic(r: &RowVector3<f64>, a: &Matrix3<f64>) -> f64 {
    (r * a * r.transpose())[0]
}

#[test]
fn multiplication_of_every_shape_pair() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let x = rng.well_conditioned::<3>();
        let s = rng.normal();
        check_fn!(mul_scalar_scalar, mul_scalar_scalar_grad, mul_scalar_scalar_value_and_grad,
            mul_scalar_scalar_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(mul_scalar_matrix_scalar_wrt, mul_scalar_matrix_scalar_wrt_grad,
            mul_scalar_matrix_scalar_wrt_value_and_grad, mul_scalar_matrix_scalar_wrt_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(mul_scalar_matrix_matrix_wrt, mul_scalar_matrix_matrix_wrt_grad,
            mul_scalar_matrix_matrix_wrt_value_and_grad, mul_scalar_matrix_matrix_wrt_hvp;
            |x, v| (x, s); (v); at &x, &mut rng, TOL);
        check_fn!(mul_matrix_scalar, mul_matrix_scalar_grad, mul_matrix_scalar_value_and_grad,
            mul_matrix_scalar_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(mul_const_matrix_scalar, mul_const_matrix_scalar_grad,
            mul_const_matrix_scalar_value_and_grad, mul_const_matrix_scalar_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(matmul_wrt_right, matmul_wrt_right_grad, matmul_wrt_right_value_and_grad,
            matmul_wrt_right_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(matmul_cube, matmul_cube_grad, matmul_cube_value_and_grad, matmul_cube_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);

        let x23 = rng.matrix::<2, 3>();
        let b34 = rng.matrix::<3, 4>();
        check_fn!(matmul_wrt_left, matmul_wrt_left_grad, matmul_wrt_left_value_and_grad,
            matmul_wrt_left_hvp; |x, v| (x, &b34); (v); at &x23, &mut rng, TOL);
        let x32 = rng.matrix::<3, 2>();
        let a23 = rng.matrix::<2, 3>();
        check_fn!(matmul_nonsquare_right, matmul_nonsquare_right_grad,
            matmul_nonsquare_right_value_and_grad, matmul_nonsquare_right_hvp;
            |x, v| (x, &a23); (v); at &x32, &mut rng, TOL);

        let xv = rng.matrix::<3, 1>();
        let yv = rng.matrix::<3, 1>();
        check_fn!(matvec, matvec_grad, matvec_value_and_grad, matvec_hvp;
            |x, v| (x, &a23); (v); at &xv, &mut rng, TOL);
        check_fn!(inner_quadratic, inner_quadratic_grad, inner_quadratic_value_and_grad,
            inner_quadratic_hvp; |x, v| (x, &a); (v); at &xv, &mut rng, TOL);
        check_fn!(inner_wrt_left, inner_wrt_left_grad, inner_wrt_left_value_and_grad,
            inner_wrt_left_hvp; |x, v| (x, &yv); (v); at &xv, &mut rng, TOL);
        check_fn!(inner_wrt_right, inner_wrt_right_grad, inner_wrt_right_value_and_grad,
            inner_wrt_right_hvp; |x, v| (x, &yv); (v); at &xv, &mut rng, TOL);
        check_fn!(outer_wrt_left, outer_wrt_left_grad, outer_wrt_left_value_and_grad,
            outer_wrt_left_hvp; |x, v| (x, &yv, &a); (v); at &xv, &mut rng, TOL);
        check_fn!(outer_wrt_right, outer_wrt_right_grad, outer_wrt_right_value_and_grad,
            outer_wrt_right_hvp; |y, v| (&xv, y, &a); (v); at &yv, &mut rng, TOL);
        check_fn!(outer_self, outer_self_grad, outer_self_value_and_grad, outer_self_hvp;
            |x, v| (x); (v); at &xv, &mut rng, TOL);

        let r = rng.matrix::<1, 3>();
        check_fn!(row_quadratic, row_quadratic_grad, row_quadratic_value_and_grad,
            row_quadratic_hvp; |r, v| (r, &a); (v); at &r, &mut rng, TOL);
    }
}

/// Independent check of the outer-product-of-itself case: `(xᵀx)²` has gradient `4 (xᵀx) x`
/// and Hessian `4 (xᵀx) I + 8 x xᵀ`.
#[test]
fn outer_self_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let n2 = x.norm_squared();
        common::assert_scalar_close(outer_self(&x), n2 * n2, 1e-12);
        common::assert_close(&outer_self_grad(&x), &(4.0 * n2 * x), 1e-12);
        common::assert_close(
            &outer_self_hvp(&x, &v),
            &(4.0 * n2 * v + 8.0 * x.dot(&v) * x),
            1e-12,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `/` by a scalar
// ---------------------------------------------------------------------------------------------

/// `‖X / 2‖² + sum(X / s)`: division by constants.
#[differentiate(wrt = x)]
fn div_by_constant(x: &Matrix3<f64>, s: f64) -> f64 {
    (x / 2.0).norm_squared() + (x.component_mul(x) / s).sum()
}

/// `<A / ‖x‖, x>`-style: a constant matrix divided by a scalar that depends on `x`.
#[differentiate(wrt = x)]
fn div_matrix_by_wrt_scalar(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (a / x.norm()).dot(x)
}

/// `<x / ‖x‖, a>`: the `wrt` vector divided by its own norm.
#[differentiate(wrt = x)]
fn div_normalize(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    (x / x.norm()).dot(a)
}

/// `(aᵀ x) / (xᵀ x) + 1 / (1 + ‖x‖²)`: scalar / scalar, `wrt` in numerator and denominator.
#[differentiate(wrt = x)]
fn div_scalars(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    a.dot(x) / x.norm_squared() + 1.0 / (1.0 + x.norm_squared())
}

#[test]
fn division_by_a_scalar() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        let s = 1.5 + rng.uniform();
        check_fn!(div_by_constant, div_by_constant_grad, div_by_constant_value_and_grad,
            div_by_constant_hvp; |x, v| (x, s); (v); at &x, &mut rng, TOL);
        let xv = rng.matrix::<3, 1>();
        let av = rng.matrix::<3, 1>();
        check_fn!(div_matrix_by_wrt_scalar, div_matrix_by_wrt_scalar_grad,
            div_matrix_by_wrt_scalar_value_and_grad, div_matrix_by_wrt_scalar_hvp;
            |x, v| (x, &av); (v); at &xv, &mut rng, TOL);
        check_fn!(div_normalize, div_normalize_grad, div_normalize_value_and_grad,
            div_normalize_hvp; |x, v| (x, &av); (v); at &xv, &mut rng, TOL);
        check_fn!(div_scalars, div_scalars_grad, div_scalars_value_and_grad, div_scalars_hvp;
            |x, v| (x, &av); (v); at &xv, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// `.transpose()` and `.trace()`
// ---------------------------------------------------------------------------------------------

/// `tr(Xᵀ A X B)` with `X` 3x2: transpose of the `wrt` parameter.
#[differentiate(wrt = x)]
fn transpose_param(x: &Matrix3x2<f64>, a: &Matrix3<f64>, b: &Matrix3x2<f64>) -> f64 {
    (x.transpose() * a * x * b.transpose() * b).trace()
}

/// `sum(Xᵀ ∘ C) + tr((A X)ᵀ X)`: transpose of a parameter and of an expression.
#[differentiate(wrt = x)]
fn transpose_expr(x: &Matrix3x2<f64>, a: &Matrix3<f64>, c: &Matrix2x3<f64>) -> f64 {
    x.transpose().component_mul(c).sum() * x.sum() + ((a * x).transpose() * x).trace()
}

/// `tr(X A X) · tr(X)`: traces of products.
#[differentiate(wrt = x)]
fn trace_products(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x * a * x).trace() * x.trace()
}

/// `tr(Xᵀ)²`: trace of a transpose.
#[differentiate(wrt = x)]
fn trace_of_transpose(x: &Matrix4<f64>) -> f64 {
    x.transpose().trace().powi(2)
}

#[test]
fn transpose_and_trace() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let b = rng.matrix::<3, 2>();
        let c = rng.matrix::<2, 3>();
        let x32 = rng.matrix::<3, 2>();
        check_fn!(transpose_param, transpose_param_grad, transpose_param_value_and_grad,
            transpose_param_hvp; |x, v| (x, &a, &b); (v); at &x32, &mut rng, TOL);
        check_fn!(transpose_expr, transpose_expr_grad, transpose_expr_value_and_grad,
            transpose_expr_hvp; |x, v| (x, &a, &c); (v); at &x32, &mut rng, TOL);
        let x = rng.well_conditioned::<3>();
        check_fn!(trace_products, trace_products_grad, trace_products_value_and_grad,
            trace_products_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        let x4 = rng.well_conditioned::<4>();
        check_fn!(trace_of_transpose, trace_of_transpose_grad,
            trace_of_transpose_value_and_grad, trace_of_transpose_hvp;
            |x, v| (x); (v); at &x4, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// `.dot()`, `.norm_squared()`, `.norm()`, `.sum()`, `.component_mul()`
// ---------------------------------------------------------------------------------------------

/// `<x, a> · <x, b>`: `wrt` on the left of `dot`.
#[differentiate(wrt = x)]
fn dot_wrt_left(x: &Vector3<f64>, a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    x.dot(a) * x.dot(b)
}

/// `<a, x>² + <a, B x>`: `wrt` on the right of `dot`.
#[differentiate(wrt = x)]
fn dot_wrt_right(x: &Vector3<f64>, a: &Vector3<f64>, b: &Matrix3<f64>) -> f64 {
    a.dot(x).powi(2) + a.dot(&(b * x))
}

/// `<X, X A>`: Frobenius inner product of matrices, `wrt` on both sides.
#[differentiate(wrt = x)]
fn dot_matrices(x: &Matrix2x3<f64>, a: &Matrix3<f64>) -> f64 {
    x.dot(&(x * a))
}

/// `‖A X − B‖² · ‖X‖²`.
#[differentiate(wrt = x)]
fn norm_squared_affine(x: &Matrix3x2<f64>, a: &Matrix3<f64>, b: &Matrix3x2<f64>) -> f64 {
    (a * x - b).norm_squared() * x.norm_squared()
}

/// `‖X − A‖ + ‖X A‖ · ‖X‖`.
#[differentiate(wrt = x)]
fn norm_frobenius(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x - a).norm() + (x * a).norm() * x.norm()
}

/// `‖x‖` of a vector.
#[differentiate(wrt = x)]
fn norm_vector(x: &Vector3<f64>) -> f64 {
    x.norm()
}

/// `sum(X)² + sum(X A) · sum(X)`.
#[differentiate(wrt = x)]
fn sum_entries(x: &Matrix2x3<f64>, a: &Matrix3<f64>) -> f64 {
    x.sum().powi(2) + (x * a).sum() * x.sum()
}

/// `sum(X ∘ A ∘ X)`: `wrt` on the left of `component_mul`.
#[differentiate(wrt = x)]
fn component_mul_left(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    x.component_mul(a).component_mul(x).sum()
}

/// `‖A ∘ X‖² · sum(X)`: `wrt` on the right of `component_mul`.
#[differentiate(wrt = x)]
fn component_mul_right(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    a.component_mul(x).norm_squared() * x.sum()
}

/// `sum(X ∘ X ∘ X)`: `component_mul` of the `wrt` parameter with itself.
#[differentiate(wrt = x)]
fn component_mul_cube(x: &Matrix2x3<f64>) -> f64 {
    x.component_mul(x).component_mul(x).sum()
}

#[test]
fn reductions_and_elementwise_products() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let xv = rng.matrix::<3, 1>();
        let av = rng.matrix::<3, 1>();
        let bv = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 3>();
        check_fn!(dot_wrt_left, dot_wrt_left_grad, dot_wrt_left_value_and_grad,
            dot_wrt_left_hvp; |x, v| (x, &av, &bv); (v); at &xv, &mut rng, TOL);
        check_fn!(dot_wrt_right, dot_wrt_right_grad, dot_wrt_right_value_and_grad,
            dot_wrt_right_hvp; |x, v| (x, &av, &a); (v); at &xv, &mut rng, TOL);
        check_fn!(norm_vector, norm_vector_grad, norm_vector_value_and_grad, norm_vector_hvp;
            |x, v| (x); (v); at &xv, &mut rng, TOL);

        let x23 = rng.matrix::<2, 3>();
        check_fn!(dot_matrices, dot_matrices_grad, dot_matrices_value_and_grad,
            dot_matrices_hvp; |x, v| (x, &a); (v); at &x23, &mut rng, TOL);
        check_fn!(sum_entries, sum_entries_grad, sum_entries_value_and_grad, sum_entries_hvp;
            |x, v| (x, &a); (v); at &x23, &mut rng, TOL);
        check_fn!(component_mul_cube, component_mul_cube_grad,
            component_mul_cube_value_and_grad, component_mul_cube_hvp;
            |x, v| (x); (v); at &x23, &mut rng, TOL);

        let x32 = rng.matrix::<3, 2>();
        let b32 = rng.matrix::<3, 2>();
        check_fn!(norm_squared_affine, norm_squared_affine_grad,
            norm_squared_affine_value_and_grad, norm_squared_affine_hvp;
            |x, v| (x, &a, &b32); (v); at &x32, &mut rng, TOL);

        let x = rng.well_conditioned::<3>();
        check_fn!(norm_frobenius, norm_frobenius_grad, norm_frobenius_value_and_grad,
            norm_frobenius_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(component_mul_left, component_mul_left_grad,
            component_mul_left_value_and_grad, component_mul_left_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(component_mul_right, component_mul_right_grad,
            component_mul_right_value_and_grad, component_mul_right_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

/// `‖x‖` has gradient `x / ‖x‖` and Hessian `(I − u uᵀ) / ‖x‖` with `u = x / ‖x‖`.
#[test]
fn norm_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let n = x.norm();
        let u = x / n;
        common::assert_close(&norm_vector_grad(&x), &u, 1e-12);
        common::assert_close(&norm_vector_hvp(&x, &v), &((v - u * u.dot(&v)) / n), 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Indexing
// ---------------------------------------------------------------------------------------------

/// `X[(0,1)] · X[(2,2)] + (X X)[(1,0)] + (A X)[(2,1)]²`: pair indices of parameters and of
/// expressions.
#[differentiate(wrt = x)]
fn index_pairs(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    x[(0, 1)] * x[(2, 2)] + (x * x)[(1, 0)] + (a * x)[(2, 1)].powi(2)
}

/// `v[2] · v[0]² + v[1]`: linear indices of a column vector.
#[differentiate(wrt = v)]
fn index_vector(v: &Vector3<f64>) -> f64 {
    v[2] * v[0].powi(2) + v[1]
}

/// `r[1] · r[2]³`: linear indices of a row vector.
#[differentiate(wrt = r)]
fn index_row(r: &RowVector3<f64>) -> f64 {
    r[1] * r[2].powi(3) - r[0]
}

/// `X[4] · X[7] + X[2]²`: linear (column-major) indices of a square matrix.
#[differentiate(wrt = x)]
fn index_linear_matrix(x: &Matrix3<f64>) -> f64 {
    x[4] * x[7] + x[2].powi(2)
}

/// `X[(1, 2)] · X[(0, 0)]` on a non-square matrix, plus a linear index of it.
#[differentiate(wrt = x)]
fn index_nonsquare(x: &Matrix2x3<f64>) -> f64 {
    x[(1, 2)] * x[(0, 0)] + x[3].powi(2)
}

#[test]
fn indexing() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let x = rng.well_conditioned::<3>();
        check_fn!(index_pairs, index_pairs_grad, index_pairs_value_and_grad, index_pairs_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(index_linear_matrix, index_linear_matrix_grad,
            index_linear_matrix_value_and_grad, index_linear_matrix_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        let xv = rng.matrix::<3, 1>();
        check_fn!(index_vector, index_vector_grad, index_vector_value_and_grad,
            index_vector_hvp; |x, v| (x); (v); at &xv, &mut rng, TOL);
        let r = rng.matrix::<1, 3>();
        check_fn!(index_row, index_row_grad, index_row_value_and_grad, index_row_hvp;
            |x, v| (x); (v); at &r, &mut rng, TOL);
        let x23 = rng.matrix::<2, 3>();
        check_fn!(index_nonsquare, index_nonsquare_grad, index_nonsquare_value_and_grad,
            index_nonsquare_hvp; |x, v| (x); (v); at &x23, &mut rng, TOL);
    }
}

/// The gradient of an indexed entry is the matching unit matrix (nalgebra's column-major
/// linear indexing: index 4 of a 3x3 matrix is `(1, 1)`, index 7 is `(1, 2)`).
#[test]
fn index_linear_matrix_closed_form() {
    let mut rng = Rng::new(3);
    let x = rng.matrix::<3, 3>();
    let v = rng.matrix::<3, 3>();
    let mut g = Matrix3::zeros();
    g[(1, 1)] = x[(1, 2)];
    g[(1, 2)] = x[(1, 1)];
    g[(2, 0)] = 2.0 * x[(2, 0)];
    common::assert_close(&index_linear_matrix_grad(&x), &g, 1e-14);
    let mut h = Matrix3::zeros();
    h[(1, 1)] = v[(1, 2)];
    h[(1, 2)] = v[(1, 1)];
    h[(2, 0)] = 2.0 * v[(2, 0)];
    common::assert_close(&index_linear_matrix_hvp(&x, &v), &h, 1e-14);
}

// ---------------------------------------------------------------------------------------------
// Literals, constants, `identity()`, `zeros()`
// ---------------------------------------------------------------------------------------------

/// Float literals in every position, including exponent and suffixed forms.
#[differentiate(wrt = x)]
fn literals(x: &Matrix3<f64>) -> f64 {
    (2.5 * x).norm_squared() + (x * 0.5).sum() + 1e-1 * x.trace() + 2.0_f64 + 3. * x[(0, 0)]
}

/// Holds [`constants`]: generated code spells float constants as literals, which trips clippy::approx_constant
/// `π ‖x‖² + e · sum(x) + √2 x₀`: float constants by path.
#[differentiate(wrt = x)]
pub fn constants(x: &Vector3<f64>) -> f64 {
    std::f64::consts::PI * x.norm_squared()
        + core::f64::consts::E * x.sum()
        + std::f64::consts::SQRT_2 * x[0] * x[1]
}

/// `‖X + I‖² + tr(I₃ X X) + sum(X X − I)`: explicitly and contextually sized identities.
#[differentiate(wrt = x)]
fn identities(x: &Matrix3<f64>) -> f64 {
    (x + SMatrix::<f64, 3, 3>::identity()).norm_squared()
        + (Matrix3::identity() * x * x).trace()
        + (x * x - SMatrix::identity()).sum()
}

/// Identity and zeros bound with type annotations and mixed with the `wrt` value.
#[differentiate(wrt = x)]
fn zeros_and_annotated(x: &Matrix2x3<f64>, a: &Matrix2x3<f64>) -> f64 {
    let z: Matrix2x3<f64> = SMatrix::zeros();
    let i: Matrix3<f64> = SMatrix::identity();
    let y = x + z + Matrix2x3::zeros();
    (y * i).dot(a) * (x + SMatrix::zeros()).norm_squared()
        + (SMatrix::<f64, 2, 3>::zeros() - x).sum()
}

#[test]
fn literals_constants_and_constructors() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        check_fn!(literals, literals_grad, literals_value_and_grad, literals_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(identities, identities_grad, identities_value_and_grad, identities_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        let xv = rng.matrix::<3, 1>();
        check_fn!(constants, constants_grad, constants_value_and_grad, constants_hvp;
            |x, v| (x); (v); at &xv, &mut rng, TOL);
        let x23 = rng.matrix::<2, 3>();
        let a23 = rng.matrix::<2, 3>();
        check_fn!(zeros_and_annotated, zeros_and_annotated_grad,
            zeros_and_annotated_value_and_grad, zeros_and_annotated_hvp;
            |x, v| (x, &a23); (v); at &x23, &mut rng, TOL);
    }
}

/// `‖X + I‖² + tr(X X) + sum(X X) − 3` written out by hand: gradient
/// `2 (X + I) + 2 Xᵀ + (1 1ᵀ Xᵀ + Xᵀ 1 1ᵀ)`.
#[test]
fn identities_closed_form() {
    let mut rng = Rng::new(5);
    let x = rng.matrix::<3, 3>();
    let ones = Matrix3::from_element(1.0);
    let id = Matrix3::identity();
    let expected =
        2.0 * (x + id) + 2.0 * x.transpose() + ones * x.transpose() + x.transpose() * ones;
    common::assert_close(&identities_grad(&x), &expected, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// `&`, `*`, nested compositions
// ---------------------------------------------------------------------------------------------

/// References and dereferences in the body: `&(..)`, `*s`, `*x`, `&x.transpose() * x`.
#[differentiate(wrt = x)]
#[allow(
    clippy::op_ref,
    clippy::borrow_deref_ref,
    reason = "the body deliberately exercises `&` and `*`"
)]
fn refs_and_derefs(x: &Matrix3<f64>, s: &f64) -> f64 {
    let y = &(*x * *s);
    (*y).dot(&(&x.transpose() * x)) + (*x).trace() * *s
}

/// Logistic loss `ln(1 + exp(−y · wᵀx))` of a linear model.
#[differentiate(wrt = w)]
fn logistic_loss(w: &Vector3<f64>, x: &Vector3<f64>, y: f64) -> f64 {
    let margin = y * (w.transpose() * x)[0];
    (1.0 + (-margin).exp()).ln()
}

/// The Rayleigh quotient `xᵀ A x / xᵀ x`.
#[differentiate(wrt = x)]
fn rayleigh(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x)[0] / x.norm_squared()
}

/// A deep composition of products, reductions and scalar functions.
#[differentiate(wrt = x)]
fn deep(x: &Matrix3<f64>, a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    let p = a * x;
    let q = x * b;
    let r = (p.transpose() * q).trace().tanh();
    let s = (p.component_mul(&q)).sum() / (1.0 + x.norm_squared());
    let t = (x.transpose() * x).trace().sqrt();
    r * s + t.exp() / 100.0 + (x.norm() * a).dot(x).sin() - (q - p).norm().recip()
}

/// Holds [`two_layer`]: the generated hidden tangent function takes 2n arguments, which trips clippy::too_many_arguments
/// Two-layer linear model with a squared loss on an index: `((W₂ (W₁ x))[0] − y)²` w.r.t. `W₁`.
#[differentiate(wrt = w1)]
pub fn two_layer(w1: &Matrix2x3<f64>, w2: &Matrix3x2<f64>, x: &Vector3<f64>, y: f64) -> f64 {
    let h = w1 * x;
    let o = w2 * h;
    (o[0] - y).powi(2) + (o[1] * h[1]).powi(2) + 0.1 * w1.norm_squared()
}

#[test]
fn references_and_compositions() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let b = rng.matrix::<3, 3>();
        let s = rng.normal();
        let x = rng.well_conditioned::<3>() / 4.0;
        check_fn!(refs_and_derefs, refs_and_derefs_grad, refs_and_derefs_value_and_grad,
            refs_and_derefs_hvp; |x, v| (x, &s); (v); at &x, &mut rng, TOL);
        check_fn!(deep, deep_grad, deep_value_and_grad, deep_hvp;
            |x, v| (x, &a, &b); (v); at &x, &mut rng, TOL);

        let wv = rng.matrix::<3, 1>();
        let xv = rng.matrix::<3, 1>();
        let y = if seed % 2 == 0 { 1.0 } else { -1.0 };
        check_fn!(logistic_loss, logistic_loss_grad, logistic_loss_value_and_grad,
            logistic_loss_hvp; |w, v| (w, &xv, y); (v); at &wv, &mut rng, TOL);
        check_fn!(rayleigh, rayleigh_grad, rayleigh_value_and_grad, rayleigh_hvp;
            |x, v| (x, &a); (v); at &xv, &mut rng, TOL);

        let w1 = rng.matrix::<2, 3>();
        let w2 = rng.matrix::<3, 2>();
        check_fn!(two_layer, two_layer_grad, two_layer_value_and_grad, two_layer_hvp;
            |w, v| (w, &w2, &xv, y); (v); at &w1, &mut rng, TOL);
    }
}

/// Logistic loss, written independently: gradient `−y σ(−m) x`, Hessian `σ(m) σ(−m) x xᵀ`
/// with `m = y wᵀx` and `σ(t) = 1 / (1 + e⁻ᵗ)`.
#[test]
fn logistic_loss_closed_form() {
    let sigma = |t: f64| 1.0 / (1.0 + (-t).exp());
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let w = rng.matrix::<3, 1>();
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let y = -1.0;
        let m = y * w.dot(&x);
        common::assert_scalar_close(logistic_loss(&w, &x, y), (1.0 + (-m).exp()).ln(), 1e-14);
        common::assert_close(&logistic_loss_grad(&w, &x, y), &(-y * sigma(-m) * x), 1e-12);
        common::assert_close(
            &logistic_loss_hvp(&w, &x, y, &v),
            &(sigma(m) * sigma(-m) * x.dot(&v) * x),
            1e-12,
        );
    }
}

/// Gradient of the Rayleigh quotient `2 (A_s x − ρ x) / xᵀx` with `A_s = (A + Aᵀ)/2`; it
/// vanishes at an eigenvector of a symmetric `A`.
#[test]
fn rayleigh_closed_form() {
    let mut rng = Rng::new(9);
    let a = rng.symmetric::<3>();
    let x = rng.matrix::<3, 1>();
    let rho = x.dot(&(a * x)) / x.norm_squared();
    let expected = 2.0 * (a * x - rho * x) / x.norm_squared();
    common::assert_close(&rayleigh_grad(&x, &a), &expected, 1e-12);
    let eig = a.symmetric_eigen();
    let u: Vector3<f64> = eig.eigenvectors.column(0).into();
    assert!(rayleigh_grad(&u, &a).norm() < 1e-10);
    common::assert_scalar_close(rayleigh(&u, &a), eig.eigenvalues[0], 1e-12);
}

/// `Vector2` used so that the import list stays honest about small vectors.
#[differentiate(wrt = x)]
fn small_vector(x: Vector2<f64>, a: Vector2<f64>) -> f64 {
    (x.component_mul(&a).sum() - x[0]).powi(2) + x.norm_squared()
}

#[test]
fn by_value_small_vector() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<2, 1>();
        let x = rng.matrix::<2, 1>();
        check_fn!(small_vector, small_vector_grad, small_vector_value_and_grad,
            small_vector_hvp; |x, v| (*x, a); (*v); at &x, &mut rng, TOL);
    }
}
