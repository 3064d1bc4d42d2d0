//! The shapes of signatures the macro accepts: const generics, by-value and by-reference
//! parameters, several `wrt` parameters (tuples), shadowing, aliasing, unused `wrt`
//! parameters, visibility, where-clauses, nalgebra's aliases and `RowSVector`.

mod common;

use common::{assert_close, assert_scalar_close, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix2x3, Matrix3, Matrix4x3, Matrix5x2, Matrix6, RowSVector, RowVector2, RowVector4, SMatrix,
    SVector, Vector2, Vector3, Vector6,
};
use matdiff::runtime::{check_hvp, Rng, VectorSpace};

/// Tolerance of closed-form comparisons (rounding only).
const EXACT: f64 = 1e-10;

// ---------------------------------------------------------------------------------------------
// Const generics
// ---------------------------------------------------------------------------------------------

/// `xᵀ A x + (xᵀ x)²` for any size `N`.
#[differentiate(wrt = x)]
fn cg_quad<const N: usize>(x: &SVector<f64, N>, a: &SMatrix<f64, N, N>) -> f64 {
    x.dot(&(a * x)) + (x.transpose() * x)[0].powi(2)
}

/// `tr(Xᵀ A X) + ‖X‖` for any `R x C`.
#[differentiate(wrt = x)]
fn cg_rect<const R: usize, const C: usize>(x: &SMatrix<f64, R, C>, a: &SMatrix<f64, R, R>) -> f64 {
    (x.transpose() * a * x).trace() + x.norm()
}

/// `‖x xᵀ − I‖² + sum(x + 0)`: constructors sized by the const parameter.
#[differentiate(wrt = x)]
fn cg_constructors<const N: usize>(x: &SVector<f64, N>) -> f64 {
    (x * x.transpose() - SMatrix::<f64, N, N>::identity()).norm_squared()
        + (x + SVector::<f64, N>::zeros()).sum()
}

#[test]
fn const_generic_at_several_sizes() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);

        let a2 = rng.matrix::<2, 2>();
        let x2 = rng.matrix::<2, 1>();
        check_fn!(cg_quad, cg_quad_grad, cg_quad_value_and_grad, cg_quad_hvp;
            |x, v| (x, &a2); (v); at &x2, &mut rng, TOL);
        let a6 = rng.matrix::<6, 6>();
        let x6 = rng.matrix::<6, 1>();
        check_fn!(cg_quad, cg_quad_grad, cg_quad_value_and_grad, cg_quad_hvp;
            |x, v| (x, &a6); (v); at &x6, &mut rng, TOL);
        // Closed form at N = 6, called with an explicit turbofish.
        let v6 = rng.matrix::<6, 1>();
        let n2 = x6.norm_squared();
        let sym = a6 + a6.transpose();
        assert_close(
            &cg_quad_grad::<6>(&x6, &a6),
            &(sym * x6 + 4.0 * n2 * x6),
            EXACT,
        );
        assert_close(
            &cg_quad_hvp::<6>(&x6, &a6, &v6),
            &(sym * v6 + 4.0 * n2 * v6 + 8.0 * x6.dot(&v6) * x6),
            EXACT,
        );

        let a = rng.matrix::<2, 2>();
        let x = rng.matrix::<2, 3>();
        check_fn!(cg_rect, cg_rect_grad, cg_rect_value_and_grad, cg_rect_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        let a = rng.matrix::<4, 4>();
        let x = rng.matrix::<4, 1>();
        check_fn!(cg_rect, cg_rect_grad, cg_rect_value_and_grad, cg_rect_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);

        let x = rng.matrix::<3, 1>();
        check_fn!(cg_constructors, cg_constructors_grad, cg_constructors_value_and_grad,
            cg_constructors_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let x = rng.matrix::<5, 1>();
        check_fn!(cg_constructors, cg_constructors_grad, cg_constructors_value_and_grad,
            cg_constructors_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// By value and by reference
// ---------------------------------------------------------------------------------------------

/// Everything by value: `tr(X A X) + ‖X‖²`.
#[differentiate(wrt = x)]
fn by_value(x: Matrix3<f64>, a: Matrix3<f64>) -> f64 {
    (x * a * x).trace() + x.norm_squared()
}

/// The `wrt` parameter by value, the constant by reference.
#[differentiate(wrt = x)]
fn value_wrt_ref_const(x: Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    x.dot(&(a * x)).powi(2)
}

/// The `wrt` parameter by reference, the constants by value.
#[differentiate(wrt = x)]
fn ref_wrt_value_const(x: &Vector3<f64>, a: Matrix3<f64>, s: f64) -> f64 {
    s * x.dot(&(a * x)).powi(2)
}

/// Two `wrt` parameters, one by value and one by reference: `(xᵀ y)² + ‖x‖² ‖y‖²`.
#[differentiate(wrt = (x, y))]
fn mixed_passing(x: Vector3<f64>, y: &Vector3<f64>) -> f64 {
    x.dot(y).powi(2) + x.norm_squared() * y.norm_squared()
}

#[test]
fn by_value_and_by_reference() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let x = rng.well_conditioned::<3>();
        let v = rng.matrix::<3, 3>();
        // The generated functions take the parameters and the direction by value.
        let g: Matrix3<f64> = by_value_grad(x, a);
        let h: Matrix3<f64> = by_value_hvp(x, a, v);
        let (value, g2): (f64, Matrix3<f64>) = by_value_value_and_grad(x, a);
        let expected_grad = (a * x).transpose() + (x * a).transpose() + 2.0 * x;
        let expected_hvp = (a * v).transpose() + (v * a).transpose() + 2.0 * v;
        assert_close(&g, &expected_grad, EXACT);
        assert_close(&g2, &expected_grad, EXACT);
        assert_close(&h, &expected_hvp, EXACT);
        assert_scalar_close(value, (x * a * x).trace() + x.norm_squared(), EXACT);
        check_fn!(by_value, by_value_grad, by_value_value_and_grad, by_value_hvp;
            |x, v| (*x, a); (*v); at &x, &mut rng, TOL);

        let xv = rng.matrix::<3, 1>();
        let s = rng.normal();
        check_fn!(value_wrt_ref_const, value_wrt_ref_const_grad,
            value_wrt_ref_const_value_and_grad, value_wrt_ref_const_hvp;
            |x, v| (*x, &a); (*v); at &xv, &mut rng, TOL);
        check_fn!(ref_wrt_value_const, ref_wrt_value_const_grad,
            ref_wrt_value_const_value_and_grad, ref_wrt_value_const_hvp;
            |x, v| (x, a, s); (v); at &xv, &mut rng, TOL);

        let yv = rng.matrix::<3, 1>();
        check_fn!(mixed_passing, mixed_passing_grad, mixed_passing_value_and_grad,
            mixed_passing_hvp; |p, v| (p.0, &p.1); (v.0, &v.1); at &(xv, yv), &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Several `wrt` parameters
// ---------------------------------------------------------------------------------------------

/// `‖X y − a‖²` w.r.t. `(X, y)`.
#[differentiate(wrt = (x, y))]
fn bilinear(x: &Matrix2x3<f64>, y: &Vector3<f64>, a: &Vector2<f64>) -> f64 {
    (x * y - a).norm_squared()
}

/// The same body w.r.t. `X` only.
#[differentiate(wrt = x)]
fn bilinear_x(x: &Matrix2x3<f64>, y: &Vector3<f64>, a: &Vector2<f64>) -> f64 {
    (x * y - a).norm_squared()
}

/// The same body w.r.t. `y` only.
#[differentiate(wrt = y)]
fn bilinear_y(x: &Matrix2x3<f64>, y: &Vector3<f64>, a: &Vector2<f64>) -> f64 {
    (x * y - a).norm_squared()
}

#[test]
fn two_wrt_parameters_closed_form() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<2, 3>();
        let y = rng.matrix::<3, 1>();
        let a = rng.matrix::<2, 1>();
        let (v1, v2) = (rng.matrix::<2, 3>(), rng.matrix::<3, 1>());
        let r = x * y - a;

        assert_scalar_close(bilinear(&x, &y, &a), r.norm_squared(), EXACT);
        assert_scalar_close(bilinear_x(&x, &y, &a), r.norm_squared(), EXACT);
        assert_scalar_close(bilinear_y(&x, &y, &a), r.norm_squared(), EXACT);
        let (gx, gy) = bilinear_grad(&x, &y, &a);
        assert_close(&gx, &(2.0 * r * y.transpose()), EXACT);
        assert_close(&gy, &(2.0 * x.transpose() * r), EXACT);
        let (value, (gx2, gy2)) = bilinear_value_and_grad(&x, &y, &a);
        assert_scalar_close(value, r.norm_squared(), EXACT);
        assert_close(&gx2, &gx, EXACT);
        assert_close(&gy2, &gy, EXACT);

        // The blocks of the Hessian.
        let hxx = 2.0 * v1 * y * y.transpose();
        let hxy = 2.0 * (x * v2) * y.transpose() + 2.0 * r * v2.transpose();
        let hyx = 2.0 * v1.transpose() * r + 2.0 * x.transpose() * v1 * y;
        let hyy = 2.0 * x.transpose() * x * v2;
        let (h1, h2) = bilinear_hvp(&x, &y, &a, &v1, &v2);
        assert_close(&h1, &(hxx + hxy), EXACT);
        assert_close(&h2, &(hyx + hyy), EXACT);
        let (h1, h2) = bilinear_hvp(&x, &y, &a, &v1, &Vector3::zeros());
        assert_close(&h1, &hxx, EXACT);
        assert_close(&h2, &hyx, EXACT);
        let (h1, h2) = bilinear_hvp(&x, &y, &a, &Matrix2x3::zeros(), &v2);
        assert_close(&h1, &hxy, EXACT);
        assert_close(&h2, &hyy, EXACT);

        // The diagonal blocks agree with the single-`wrt` versions.
        assert_close(&bilinear_x_grad(&x, &y, &a), &gx, EXACT);
        assert_close(&bilinear_y_grad(&x, &y, &a), &gy, EXACT);
        assert_close(&bilinear_x_hvp(&x, &y, &a, &v1), &hxx, EXACT);
        assert_close(&bilinear_y_hvp(&x, &y, &a, &v2), &hyy, EXACT);
    }
}

/// A nonlinear function of two matrices: `tr(X Y) · ‖X‖² + sum(X ∘ Yᵀ)²`.
#[differentiate(wrt = (x, y))]
fn two_matrices(x: &Matrix2x3<f64>, y: &SMatrix<f64, 3, 2>) -> f64 {
    (x * y).trace() * x.norm_squared() + x.component_mul(&y.transpose()).sum().powi(2)
}

#[test]
fn two_wrt_parameters_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p = (rng.matrix::<2, 3>(), rng.matrix::<3, 2>());
        check_fn!(two_matrices, two_matrices_grad, two_matrices_value_and_grad,
            two_matrices_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &p, &mut rng, TOL);

        // Every block separately: directions with one component zero, projected on each
        // component separately.
        let hvp =
            |u: &(Matrix2x3<f64>, SMatrix<f64, 3, 2>)| two_matrices_hvp(&p.0, &p.1, &u.0, &u.1);
        let grad = |q: &(Matrix2x3<f64>, SMatrix<f64, 3, 2>)| two_matrices_grad(&q.0, &q.1);
        let zero = p.zero_like();
        let d1 = (rng.matrix::<2, 3>(), zero.1);
        let d2 = (zero.0, rng.matrix::<3, 2>());
        let w1 = (rng.matrix::<2, 3>(), zero.1);
        let w2 = (zero.0, rng.matrix::<3, 2>());
        for d in [&d1, &d2] {
            for w in [&w1, &w2] {
                check_hvp(grad, &hvp(d), &p, d, w).assert_within(TOL, "Hessian block");
            }
        }
    }
}

/// Three `wrt` parameters, listed in a different order from the parameters, one a scalar:
/// `s · yᵀ X y + s² tr(X) + ‖y‖² · ‖X‖²`.
#[differentiate(wrt = (y, s, x))]
fn three_reordered(x: &Matrix3<f64>, s: f64, y: &Vector3<f64>) -> f64 {
    s * (y.transpose() * x * y)[0] + s.powi(2) * x.trace() + y.norm_squared() * x.norm_squared()
}

#[test]
fn three_wrt_parameters_in_wrt_order() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        let s = rng.normal();
        let y = rng.matrix::<3, 1>();
        // The tuple follows the order of `wrt`: (y, s, x).
        let (gy, gs, gx): (Vector3<f64>, f64, Matrix3<f64>) = three_reordered_grad(&x, s, &y);
        let n2x = x.norm_squared();
        let n2y = y.norm_squared();
        assert_close(&gy, &(s * (x + x.transpose()) * y + 2.0 * n2x * y), EXACT);
        assert_scalar_close(gs, y.dot(&(x * y)) + 2.0 * s * x.trace(), EXACT);
        assert_close(
            &gx,
            &(s * y * y.transpose() + s * s * Matrix3::identity() + 2.0 * n2y * x),
            EXACT,
        );
        let p = (y, s, x);
        check_fn!(three_reordered, three_reordered_grad, three_reordered_value_and_grad,
            three_reordered_hvp; |p, v| (&p.2, p.1, &p.0); (&v.0, v.1, &v.2);
            at &p, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Shadowing, blocks, annotations
// ---------------------------------------------------------------------------------------------

/// `(2 xᵀ A x)²` through shadowed bindings, including one shadowing the parameter `x`.
#[differentiate(wrt = x)]
fn shadowed(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    let y = a * x;
    let y = y * 2.0;
    let y = y.component_mul(x);
    let x = y.sum();
    x * x
}

/// Type-annotated bindings, a reference binding and a block expression.
#[differentiate(wrt = x)]
fn annotated(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    let y: Vector3<f64> = a * x;
    let r: &Vector3<f64> = &(x + y);
    let s: f64 = r.dot(x);
    let t = {
        let u = s * 2.0;
        u * s
    };
    t + s
}

#[test]
fn shadowing_and_annotations() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>();
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let sym = a + a.transpose();
        let q = x.dot(&(a * x));
        assert_scalar_close(shadowed(&x, &a), 4.0 * q * q, EXACT);
        assert_close(&shadowed_grad(&x, &a), &(8.0 * q * sym * x), EXACT);
        assert_close(
            &shadowed_hvp(&x, &a, &v),
            &(8.0 * q * sym * v + 8.0 * (sym * x).dot(&v) * sym * x),
            EXACT,
        );
        check_fn!(shadowed, shadowed_grad, shadowed_value_and_grad, shadowed_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);

        // s = xᵀ(I + A)x, f = 2 s² + s.
        let b = Matrix3::identity() + a;
        let s = x.dot(&(b * x));
        let gs = (b + b.transpose()) * x;
        assert_close(&annotated_grad(&x, &a), &((4.0 * s + 1.0) * gs), EXACT);
        check_fn!(annotated, annotated_grad, annotated_value_and_grad, annotated_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Aliasing: the `wrt` parameter on both sides of an operation
// ---------------------------------------------------------------------------------------------

/// `⟨x, x⟩`.
#[differentiate(wrt = x)]
fn alias_dot(x: &Vector3<f64>) -> f64 {
    x.dot(x)
}

/// `sum(x ∘ x)`.
#[differentiate(wrt = x)]
fn alias_component_mul(x: &Vector3<f64>) -> f64 {
    (x.component_mul(x)).sum()
}

/// `s · s`.
#[differentiate(wrt = s)]
fn alias_scalar(s: f64) -> f64 {
    s * s
}

/// `tr(X X)`.
#[differentiate(wrt = x)]
fn alias_matmul(x: &Matrix3<f64>) -> f64 {
    (x * x).trace()
}

/// `‖X − X‖² + sum(X)`: a difference of the parameter with itself.
#[differentiate(wrt = x)]
#[allow(
    clippy::eq_op,
    reason = "the difference of the parameter with itself is the test"
)]
fn alias_sub(x: &Matrix3<f64>) -> f64 {
    (x - x).norm_squared() + x.sum()
}

/// `(xᵀ x)[0] · (x + x)[1]`.
#[differentiate(wrt = x)]
fn alias_mixed(x: &Vector3<f64>) -> f64 {
    (x.transpose() * x)[0] * (x + x)[1]
}

#[test]
fn aliasing() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let n2: f64 = x.iter().map(|e| e * e).sum();
        assert_scalar_close(alias_dot(&x), n2, EXACT);
        assert_scalar_close(alias_component_mul(&x), n2, EXACT);
        for (grad, hvp) in [
            (alias_dot_grad(&x), alias_dot_hvp(&x, &v)),
            (
                alias_component_mul_grad(&x),
                alias_component_mul_hvp(&x, &v),
            ),
        ] {
            assert_close(&grad, &(2.0 * x), EXACT);
            assert_close(&hvp, &(2.0 * v), EXACT);
        }
        let s = rng.normal();
        assert_scalar_close(alias_scalar(s), s * s, EXACT);
        assert_scalar_close(alias_scalar_grad(s), 2.0 * s, EXACT);
        assert_scalar_close(alias_scalar_hvp(s, 0.7), 1.4, EXACT);

        let m = rng.matrix::<3, 3>();
        let w = rng.matrix::<3, 3>();
        assert_close(&alias_matmul_grad(&m), &(2.0 * m.transpose()), EXACT);
        assert_close(&alias_matmul_hvp(&m, &w), &(2.0 * w.transpose()), EXACT);
        assert_scalar_close(alias_sub(&m), m.sum(), EXACT);
        assert_close(&alias_sub_grad(&m), &Matrix3::from_element(1.0), EXACT);
        assert!(alias_sub_hvp(&m, &w).norm() <= 1e-14);

        // (xᵀx) · 2 x₁: gradient 4 x₁ x + 2 (xᵀx) e₁.
        let e1 = Vector3::new(0.0, 1.0, 0.0);
        assert_close(
            &alias_mixed_grad(&x),
            &(4.0 * x[1] * x + 2.0 * x.norm_squared() * e1),
            EXACT,
        );
        check_fn!(alias_mixed, alias_mixed_grad, alias_mixed_value_and_grad, alias_mixed_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(alias_matmul, alias_matmul_grad, alias_matmul_value_and_grad,
            alias_matmul_hvp; |x, v| (x); (v); at &m, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// `wrt` parameters the body does not use; constant bodies
// ---------------------------------------------------------------------------------------------

/// `‖y‖²`, differentiated w.r.t. the unused `x`.
#[differentiate(wrt = _x)]
fn unused_wrt(_x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
    y.norm_squared()
}

/// `‖y‖²`, w.r.t. `(x, y)`: the gradient's `x` block is zero.
#[differentiate(wrt = (_x, y))]
fn unused_one_of_two(_x: &Matrix3<f64>, y: &Vector3<f64>) -> f64 {
    y.norm_squared()
}

/// A constant function.
#[differentiate(wrt = _x)]
fn constant_body(_x: &Vector3<f64>) -> f64 {
    2.5
}

#[test]
fn unused_wrt_parameters() {
    let mut rng = Rng::new(3);
    let x = rng.matrix::<3, 1>();
    let y = rng.matrix::<3, 1>();
    let v = rng.matrix::<3, 1>();
    assert_scalar_close(unused_wrt(&x, &y), y.dot(&y), EXACT);
    assert_eq!(unused_wrt_grad(&x, &y), Vector3::zeros());
    assert_eq!(unused_wrt_hvp(&x, &y, &v), Vector3::zeros());
    let (value, g) = unused_wrt_value_and_grad(&x, &y);
    assert_scalar_close(value, y.dot(&y), EXACT);
    assert_eq!(g, Vector3::zeros());

    let m = rng.matrix::<3, 3>();
    let (gm, gy) = unused_one_of_two_grad(&m, &y);
    assert_eq!(gm, Matrix3::zeros());
    assert_close(&gy, &(2.0 * y), EXACT);
    let w = rng.matrix::<3, 3>();
    let (hm, hy) = unused_one_of_two_hvp(&m, &y, &w, &v);
    assert_eq!(hm, Matrix3::zeros());
    assert_close(&hy, &(2.0 * v), EXACT);
    check_fn!(unused_one_of_two, unused_one_of_two_grad, unused_one_of_two_value_and_grad,
        unused_one_of_two_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &(m, y), &mut rng, TOL);

    assert_eq!(constant_body(&x), 2.5);
    assert_eq!(constant_body_grad(&x), Vector3::zeros());
    assert_eq!(constant_body_value_and_grad(&x), (2.5, Vector3::zeros()));
    assert_eq!(constant_body_hvp(&x, &v), Vector3::zeros());
}

// ---------------------------------------------------------------------------------------------
// Visibility, where-clauses, lifetimes, parameter names
// ---------------------------------------------------------------------------------------------

/// A module whose differentiated functions are used from outside it.
mod api {
    use matdiff::differentiate;
    use matdiff::nalgebra::{Matrix3, Vector3};

    /// A public function: its generated functions are public too.
    #[differentiate(wrt = x)]
    pub fn public_quad(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
        x.dot(&(a * x))
    }

    /// A crate-visible function.
    #[differentiate(wrt = x)]
    pub(crate) fn crate_norm(x: &Vector3<f64>) -> f64 {
        x.norm_squared() * 0.5
    }
}

/// A where-clause on the const parameter.
#[differentiate(wrt = x)]
fn with_where<const N: usize>(x: &SVector<f64, N>, a: &SVector<f64, N>) -> f64
where
    SVector<f64, N>: Copy,
{
    x.dot(a).powi(2) + x.norm_squared()
}

/// Explicit lifetimes on the reference parameters.
#[differentiate(wrt = x)]
#[allow(
    clippy::needless_lifetimes,
    reason = "explicit lifetimes are what is tested"
)]
fn with_lifetimes<'a, 'b>(x: &'a Vector3<f64>, a: &'b Matrix3<f64>) -> f64 {
    (a * x).norm_squared()
}

/// Holds [`direction_names`]: the generated hidden tangent function takes 2n arguments, which trips clippy::too_many_arguments
/// Parameters named like the generated directions (`v`, `v1`) and temporaries.
#[differentiate(wrt = x)]
pub fn direction_names(x: &Vector3<f64>, v: &Vector3<f64>, v1: f64, t0: f64) -> f64 {
    x.dot(v).powi(2) * v1 + t0 * x.norm_squared()
}

/// Parameters named like the generated directions, with two `wrt` parameters.
#[differentiate(wrt = (v1, v2))]
fn direction_names_two(v1: &Vector3<f64>, v2: &Vector3<f64>, v: &Vector3<f64>) -> f64 {
    v1.dot(v2).powi(2) + v.dot(v1)
}

#[test]
fn visibility_where_clauses_and_names() {
    let mut rng = Rng::new(11);
    let a = rng.matrix::<3, 3>();
    let x = rng.matrix::<3, 1>();
    let v = rng.matrix::<3, 1>();
    assert_close(
        &api::public_quad_grad(&x, &a),
        &((a + a.transpose()) * x),
        EXACT,
    );
    let (value, _) = api::public_quad_value_and_grad(&x, &a);
    assert_scalar_close(value, api::public_quad(&x, &a), EXACT);
    assert_close(
        &api::public_quad_hvp(&x, &a, &v),
        &((a + a.transpose()) * v),
        EXACT,
    );
    assert_close(&api::crate_norm_grad(&x), &x, EXACT);
    assert_close(&api::crate_norm_hvp(&x, &v), &v, EXACT);
    assert_scalar_close(
        api::crate_norm_value_and_grad(&x).0,
        api::crate_norm(&x),
        EXACT,
    );
    assert_scalar_close(api::crate_norm(&x), 0.5 * x.dot(&x), EXACT);

    let b = rng.matrix::<4, 1>();
    let y = rng.matrix::<4, 1>();
    assert_close(
        &with_where_grad(&y, &b),
        &(2.0 * y.dot(&b) * b + 2.0 * y),
        EXACT,
    );
    check_fn!(with_where, with_where_grad, with_where_value_and_grad, with_where_hvp;
        |x, v| (x, &b); (v); at &y, &mut rng, TOL);

    assert_close(
        &with_lifetimes_grad(&x, &a),
        &(2.0 * a.transpose() * a * x),
        EXACT,
    );
    check_fn!(with_lifetimes, with_lifetimes_grad, with_lifetimes_value_and_grad,
        with_lifetimes_hvp; |x, d| (x, &a); (d); at &x, &mut rng, TOL);

    let p = rng.matrix::<3, 1>();
    let (s, t) = (rng.normal(), rng.normal());
    assert_close(
        &direction_names_grad(&x, &p, s, t),
        &(2.0 * s * x.dot(&p) * p + 2.0 * t * x),
        EXACT,
    );
    check_fn!(direction_names, direction_names_grad, direction_names_value_and_grad,
        direction_names_hvp; |x, d| (x, &p, s, t); (d); at &x, &mut rng, TOL);
    let q = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
    check_fn!(direction_names_two, direction_names_two_grad,
        direction_names_two_value_and_grad, direction_names_two_hvp;
        |q, d| (&q.0, &q.1, &p); (&d.0, &d.1); at &q, &mut rng, TOL);
}

// ---------------------------------------------------------------------------------------------
// nalgebra's aliases and `RowSVector`
// ---------------------------------------------------------------------------------------------

/// `Matrix3` / `Vector3` aliases: `xᵀ M x · ‖M‖`.
#[differentiate(wrt = (m, x))]
fn aliases_3(m: &Matrix3<f64>, x: &Vector3<f64>) -> f64 {
    (x.transpose() * m * x)[0] * m.norm()
}

/// `Matrix6`, `Vector6`: `‖M x‖²`.
#[differentiate(wrt = m)]
fn aliases_6(m: &Matrix6<f64>, x: &Vector6<f64>) -> f64 {
    (m * x).norm_squared() + m.trace().powi(2)
}

/// Rectangular aliases `Matrix4x3`, `Matrix5x2` and row vectors.
#[differentiate(wrt = (p, r))]
fn aliases_rect(p: &Matrix4x3<f64>, q: &Matrix5x2<f64>, r: &RowVector4<f64>) -> f64 {
    (r * p).norm_squared() * q.sum() + (r * p * p.transpose() * r.transpose())[0].sqrt()
}

/// Fully qualified type paths.
#[differentiate(wrt = x)]
fn qualified_paths(
    x: &matdiff::nalgebra::Vector3<f64>,
    a: &matdiff::nalgebra::SMatrix<f64, 3, 3>,
) -> f64 {
    (a * x).dot(x).powi(2)
}

/// `RowSVector` with a literal size.
#[differentiate(wrt = r)]
fn row_svector(r: &RowSVector<f64, 4>, a: &SMatrix<f64, 4, 4>) -> f64 {
    (r * a * r.transpose())[(0, 0)] + r.norm_squared() * r[2]
}

/// `RowSVector` with a const generic size.
#[differentiate(wrt = r)]
fn row_svector_generic<const N: usize>(r: RowSVector<f64, N>, c: SVector<f64, N>) -> f64 {
    (r * c)[0].powi(2) + (r.transpose() * r).trace()
}

/// `RowVector2` by value.
#[differentiate(wrt = r)]
fn row_vector2(r: RowVector2<f64>) -> f64 {
    r[0] * r[1].exp()
}

#[test]
fn aliases_and_row_vectors() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p3 = (rng.well_conditioned::<3>(), rng.matrix::<3, 1>());
        check_fn!(aliases_3, aliases_3_grad, aliases_3_value_and_grad, aliases_3_hvp;
            |p, d| (&p.0, &p.1); (&d.0, &d.1); at &p3, &mut rng, TOL);

        let m6 = rng.matrix::<6, 6>();
        let x6 = rng.matrix::<6, 1>();
        check_fn!(aliases_6, aliases_6_grad, aliases_6_value_and_grad, aliases_6_hvp;
            |m, d| (m, &x6); (d); at &m6, &mut rng, TOL);
        assert_close(
            &aliases_6_grad(&m6, &x6),
            &(2.0 * m6 * x6 * x6.transpose() + 2.0 * m6.trace() * Matrix6::identity()),
            EXACT,
        );

        let q = rng.matrix::<5, 2>();
        let pr = (rng.matrix::<4, 3>(), rng.matrix::<1, 4>());
        check_fn!(aliases_rect, aliases_rect_grad, aliases_rect_value_and_grad,
            aliases_rect_hvp; |p, d| (&p.0, &q, &p.1); (&d.0, &d.1); at &pr, &mut rng, TOL);

        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 3>();
        check_fn!(qualified_paths, qualified_paths_grad, qualified_paths_value_and_grad,
            qualified_paths_hvp; |x, d| (x, &a); (d); at &x, &mut rng, TOL);

        let r = rng.matrix::<1, 4>();
        let a4 = rng.matrix::<4, 4>();
        check_fn!(row_svector, row_svector_grad, row_svector_value_and_grad, row_svector_hvp;
            |r, d| (r, &a4); (d); at &r, &mut rng, TOL);

        let c = rng.matrix::<4, 1>();
        check_fn!(row_svector_generic, row_svector_generic_grad,
            row_svector_generic_value_and_grad, row_svector_generic_hvp;
            |r, d| (*r, c); (*d); at &r, &mut rng, TOL);
        // (r c)² + ‖r‖²: gradient 2 (r c) cᵀ + 2 r.
        assert_close(
            &row_svector_generic_grad(r, c),
            &(2.0 * (r * c)[0] * c.transpose() + 2.0 * r),
            EXACT,
        );
        let r2 = rng.matrix::<2, 1>();
        let r5: RowSVector<f64, 2> = r2.transpose();
        let c2 = rng.matrix::<2, 1>();
        check_fn!(row_svector_generic, row_svector_generic_grad,
            row_svector_generic_value_and_grad, row_svector_generic_hvp;
            |r, d| (*r, c2); (*d); at &r5, &mut rng, TOL);

        let r2 = rng.matrix::<1, 2>();
        check_fn!(row_vector2, row_vector2_grad, row_vector2_value_and_grad, row_vector2_hvp;
            |r, d| (*r); (*d); at &r2, &mut rng, TOL);
    }
}

/// Rows of the data matrix in `named_dimensions`, a module-level constant.
const SAMPLES: usize = 6;

/// Dimensions named by module-level constants, and a constant cast to the element type:
/// the mean squared residual `‖X w − y‖² / SAMPLES`.
#[differentiate(wrt = w)]
fn named_dimensions(
    w: &SVector<f64, 2>,
    x: &SMatrix<f64, SAMPLES, 2>,
    y: &SVector<f64, SAMPLES>,
) -> f64 {
    (x * w - y).norm_squared() / SAMPLES as f64
}

#[test]
fn dimensions_named_by_constants() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<6, 2>();
        let y = rng.matrix::<6, 1>();
        let w = rng.matrix::<2, 1>();
        let v = rng.matrix::<2, 1>();
        // ∇ = 2 Xᵀ (X w − y) / n, H v = 2 XᵀX v / n.
        let n = 6.0;
        assert_close(
            &named_dimensions_grad(&w, &x, &y),
            &(2.0 * x.transpose() * (x * w - y) / n),
            1e-12,
        );
        assert_close(
            &named_dimensions_hvp(&w, &x, &y, &v),
            &(2.0 * x.transpose() * x * v / n),
            1e-12,
        );
        let (value, _) = named_dimensions_value_and_grad(&w, &x, &y);
        assert_scalar_close(value, named_dimensions(&w, &x, &y), 1e-12);
    }
}

/// A regularisation weight, named as Rust names constants.
const LAMBDA: f64 = 0.25;

/// Upper-case names are constants in scope: `‖x‖² + LAMBDA · sum(x)⁴`.
#[differentiate(wrt = x)]
fn float_constant(x: &SVector<f64, 3>) -> f64 {
    x.norm_squared() + LAMBDA * x.sum().powi(4)
}

#[test]
fn upper_case_names_are_constants() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let s = x.sum();
        // ∇ = 2x + 4 LAMBDA s³ 1.
        let expected = 2.0 * x + SVector::<f64, 3>::repeat(4.0 * LAMBDA * s.powi(3));
        assert_close(&float_constant_grad(&x), &expected, 1e-12);
        let (value, _) = float_constant_value_and_grad(&x);
        assert_scalar_close(value, float_constant(&x), 1e-12);
    }
}
