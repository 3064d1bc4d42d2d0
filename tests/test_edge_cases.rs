//! Edge cases of the lowering and simplification: identities of algebra the simplifier may
//! rewrite (`x * 1.0`, `0.0 * y`, `--x`, `(xᵀ)ᵀ`), repeated subexpressions, block scoping,
//! 1x1 matrices in products, non-square identities, braced const dimensions, larger sizes.

mod common;

use common::{assert_close, assert_scalar_close, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2x3, Matrix3, RowVector3, SMatrix, SVector, Vector3};
use matdiff::runtime::Rng;

/// Tolerance of closed-form comparisons (rounding only).
const EXACT: f64 = 1e-10;

/// `‖X‖²` written with many neutral elements: `(1·(X·1) + 0·X − (−0)) / 1`, `(Xᵀ)ᵀ`, `−−X`.
#[differentiate(wrt = x)]
fn neutral_elements(x: &Matrix2x3<f64>) -> f64 {
    let y = (1.0 * (x * 1.0) + 0.0 * x - (-(0.0 * x))) / 1.0;
    let z = y.transpose().transpose();
    let w = -(-z);
    w.dot(x) + 0.0 * x.norm() + x.sum() * 0.0 + x.norm_squared().powi(1) - x.sum().powi(0)
}

#[test]
fn neutral_elements_simplify_correctly() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<2, 3>();
        let v = rng.matrix::<2, 3>();
        // f = 2 ‖X‖² − 1.
        assert_scalar_close(neutral_elements(&x), 2.0 * x.norm_squared() - 1.0, EXACT);
        assert_close(&neutral_elements_grad(&x), &(4.0 * x), EXACT);
        assert_close(&neutral_elements_hvp(&x, &v), &(4.0 * v), EXACT);
        check_fn!(neutral_elements, neutral_elements_grad, neutral_elements_value_and_grad,
            neutral_elements_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

/// `x − (−x)`, `x + x − x`, `2x − x`: sums that cancel or double.
#[differentiate(wrt = x)]
fn cancellations(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    let p = x - (-x);
    let q = x + x - x;
    let r = 2.0 * x - x;
    p.dot(&q) + r.dot(a) - (q - r).norm_squared()
}

#[test]
fn cancellations_are_exact() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        // f = 2 ‖x‖² + aᵀx.
        assert_close(&cancellations_grad(&x, &a), &(4.0 * x + a), EXACT);
        assert_close(&cancellations_hvp(&x, &a, &v), &(4.0 * v), EXACT);
        assert_scalar_close(
            cancellations(&x, &a),
            2.0 * x.norm_squared() + a.dot(&x),
            EXACT,
        );
        check_fn!(cancellations, cancellations_grad, cancellations_value_and_grad,
            cancellations_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

/// The same subexpression written several times: `⟨A x, A x⟩ · sum(A x) + ‖A x‖`.
#[differentiate(wrt = x)]
fn repeated_subexpressions(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (a * x).dot(&(a * x)) * (a * x).sum()
        + (a * x).norm()
        + (a * x).dot(&(x.transpose() * a).transpose())
}

/// Block expressions: a binding inside a block does not leak out of it.
#[differentiate(wrt = x)]
fn block_scoping(x: &Vector3<f64>) -> f64 {
    let y = x * 3.0;
    let z = {
        let y = y.norm_squared();
        let x = y * 2.0;
        x + y
    };
    // Here `y` is again `3x` and `x` the parameter.
    y.dot(x) + z + {
        let t = x.sum();
        t * t
    }
}

#[test]
fn repeated_subexpressions_and_blocks() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 3>();
        let v = rng.matrix::<3, 1>();
        check_fn!(repeated_subexpressions, repeated_subexpressions_grad,
            repeated_subexpressions_value_and_grad, repeated_subexpressions_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        check_fn!(block_scoping, block_scoping_grad, block_scoping_value_and_grad,
            block_scoping_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        // f = 3‖x‖² + 27‖x‖² + (sum x)² = 30 ‖x‖² + (1ᵀx)².
        let ones = Vector3::from_element(1.0);
        assert_scalar_close(
            block_scoping(&x),
            30.0 * x.norm_squared() + x.sum().powi(2),
            EXACT,
        );
        assert_close(
            &block_scoping_grad(&x),
            &(60.0 * x + 2.0 * x.sum() * ones),
            EXACT,
        );
        assert_close(
            &block_scoping_hvp(&x, &v),
            &(60.0 * v + 2.0 * v.sum() * ones),
            EXACT,
        );
    }
}

/// 1x1 matrices inside products: `((xᵀ y) xᵀ) A x` and `x (yᵀ x)`, and a 1x1 scaled and summed.
#[differentiate(wrt = x)]
fn one_by_one_products(x: &Vector3<f64>, y: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    let s = x.transpose() * y;
    let row = s * x.transpose();
    let col = x * (y.transpose() * x);
    (row * a * x)[0] + col.norm_squared() + (s * 2.0).sum() + s.norm()
}

#[test]
fn one_by_one_matrices_in_products() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let y = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 3>();
        check_fn!(one_by_one_products, one_by_one_products_grad,
            one_by_one_products_value_and_grad, one_by_one_products_hvp;
            |x, v| (x, &y, &a); (v); at &x, &mut rng, TOL);
    }
}

/// Non-square identities and zeros sized by context: `X + I₂ₓ₃`, `X − 0`; and `X I₃`.
#[differentiate(wrt = x)]
fn nonsquare_identity(x: &Matrix2x3<f64>) -> f64 {
    (x + SMatrix::identity()).norm_squared()
        + (x * Matrix3::<f64>::identity()).sum()
        + (x - SMatrix::zeros()).dot(&(x + Matrix2x3::identity()))
}

#[test]
fn nonsquare_identity_matches_nalgebra() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<2, 3>();
        let v = rng.matrix::<2, 3>();
        let i = Matrix2x3::<f64>::identity();
        let ones = Matrix2x3::<f64>::from_element(1.0);
        // f = ‖X + I‖² + sum X + ⟨X, X + I⟩: gradient 2(X + I) + 1 + 2X + I.
        assert_scalar_close(
            nonsquare_identity(&x),
            (x + i).norm_squared() + x.sum() + x.dot(&(x + i)),
            EXACT,
        );
        assert_close(
            &nonsquare_identity_grad(&x),
            &(2.0 * (x + i) + ones + 2.0 * x + i),
            EXACT,
        );
        assert_close(&nonsquare_identity_hvp(&x, &v), &(4.0 * v), EXACT);
        check_fn!(nonsquare_identity, nonsquare_identity_grad,
            nonsquare_identity_value_and_grad, nonsquare_identity_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
    }
}

/// Constructors with explicit generic arguments on aliases and `SVector`.
#[differentiate(wrt = x)]
fn explicit_constructors(x: &Vector3<f64>) -> f64 {
    let i = Matrix3::<f64>::identity();
    let z = SVector::<f64, 3>::zeros();
    let r = RowVector3::<f64>::zeros();
    ((i * x + z).transpose() + r).norm_squared() * Vector3::<f64>::zeros().dot(x)
        + (x + Vector3::zeros()).norm()
}

/// Braced const dimensions: `SVector<f64, { N }>`.
#[differentiate(wrt = x)]
fn braced_dims<const N: usize>(x: &SVector<f64, { N }>, a: &SMatrix<f64, { N }, N>) -> f64 {
    (a * x).norm_squared().sqrt()
}

#[test]
fn constructors_and_braced_dimensions() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let v = rng.matrix::<3, 1>();
        let n = x.norm();
        assert_close(&explicit_constructors_grad(&x), &(x / n), EXACT);
        assert_close(
            &explicit_constructors_hvp(&x, &v),
            &((v - x * x.dot(&v) / (n * n)) / n),
            EXACT,
        );
        check_fn!(explicit_constructors, explicit_constructors_grad,
            explicit_constructors_value_and_grad, explicit_constructors_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);

        let a = rng.well_conditioned::<4>();
        let y = rng.matrix::<4, 1>();
        check_fn!(braced_dims, braced_dims_grad, braced_dims_value_and_grad, braced_dims_hvp;
            |x, v| (x, &a); (v); at &y, &mut rng, TOL);
    }
}

/// Negative literals and unary minus in every position.
#[differentiate(wrt = x)]
fn negative_literals(x: &Matrix3<f64>) -> f64 {
    (-2.0 * x).sum() + (x * -0.5).norm_squared() - -(x.trace())
        + (-x.sum()).powi(2) / -3.0
        + (-1.5_f64).abs() * x[(1, 1)]
}

/// Division of a `wrt` matrix by a `wrt` scalar, and of a scalar by a `wrt` scalar.
#[differentiate(wrt = (x, s))]
fn division_two_wrt(x: &Matrix3<f64>, s: f64) -> f64 {
    (x / s).norm_squared() + 1.0 / s + x.trace() / (s * s + 1.0)
}

#[test]
fn negative_literals_and_division_by_wrt() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.well_conditioned::<3>();
        check_fn!(negative_literals, negative_literals_grad, negative_literals_value_and_grad,
            negative_literals_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        let p = (rng.matrix::<3, 3>(), 1.0 + rng.uniform().abs());
        check_fn!(division_two_wrt, division_two_wrt_grad, division_two_wrt_value_and_grad,
            division_two_wrt_hvp; |p, v| (&p.0, p.1); (&v.0, v.1); at &p, &mut rng, TOL);
        // ∂/∂X = 2X/s² + I/(s²+1); ∂/∂s = −2‖X‖²/s³ − 1/s² − 2s tr X/(s²+1)².
        let (m, s) = p;
        let (gx, gs) = division_two_wrt_grad(&m, s);
        let q = s * s + 1.0;
        assert_close(&gx, &(2.0 * m / (s * s) + Matrix3::identity() / q), EXACT);
        assert_scalar_close(
            gs,
            -2.0 * m.norm_squared() / (s * s * s) - 1.0 / (s * s) - 2.0 * s * m.trace() / (q * q),
            EXACT,
        );
    }
}

/// A 10x10 function checked against finite differences.
#[differentiate(wrt = x)]
fn ten_by_ten(x: &SMatrix<f64, 10, 10>, a: &SMatrix<f64, 10, 10>) -> f64 {
    let y = x.transpose() * a * x;
    y.trace() + x.norm().sin() + x.component_mul(a).sum().powi(2) + (x * x)[(3, 7)].exp()
}

#[test]
fn ten_by_ten_finite_differences() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<10, 10>() / 10.0;
        let x = rng.matrix::<10, 10>() / 10.0;
        check_fn!(ten_by_ten, ten_by_ten_grad, ten_by_ten_value_and_grad, ten_by_ten_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

/// A long chain of statements (compile-time and correctness of a deep graph).
#[differentiate(wrt = x)]
fn long_chain(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    let y = a * x;
    let y = a * y.component_mul(x) / 4.0 + x;
    let y = a.transpose() * y - y * 0.5;
    let y = y.component_mul(&y) / (1.0 + y.norm_squared());
    let y = a * y + x * y.sum().tanh();
    let y = y / y.norm();
    let y = a * y + x;
    let y = y.component_mul(x) * 0.3 + y;
    let s = y.dot(x).sin() + y.sum().cos() * x.norm();
    let s = s * s + (s * 0.5).tanh();
    let t = (y.transpose() * a * y)[0].exp() / 1000.0;
    s + t + (s * s * t + 1.0).sqrt().ln()
}

#[test]
fn long_chains() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let a = rng.matrix::<3, 3>() / 2.0;
        let x = rng.matrix::<3, 1>();
        check_fn!(long_chain, long_chain_grad, long_chain_value_and_grad, long_chain_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}
