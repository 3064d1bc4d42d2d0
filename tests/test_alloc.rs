//! The generated functions never touch the heap: a counting global allocator observes zero
//! allocations during calls of `_grad`, `_value_and_grad` and `_hvp`.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use std::hint::black_box;

use counting_alloc::{allocations_during, assert_no_allocation};

use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2x3, Matrix3, SMatrix, SVector, Vector3};
use matdiff::runtime::Rng;

/// `xᵀ A x`.
#[differentiate(wrt = x)]
fn quad(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    x.dot(&(a * x))
}

/// A 10x10 function mixing products, reductions and scalar methods.
#[differentiate(wrt = x)]
fn big(x: &SMatrix<f64, 10, 10>, a: &SMatrix<f64, 10, 10>) -> f64 {
    let y = x.transpose() * a * x;
    y.trace() + x.norm().sin() + x.component_mul(a).sum().powi(2) + (x * x)[(3, 7)].exp()
}

/// Two `wrt` parameters: `‖X y − b‖² + tanh(sum X)`.
#[differentiate(wrt = (x, y))]
fn two(x: &Matrix2x3<f64>, y: &Vector3<f64>, b: &SVector<f64, 2>) -> f64 {
    (x * y - b).norm_squared() + x.sum().tanh()
}

/// Every scalar method, by value.
#[differentiate(wrt = x)]
fn scalars(x: Vector3<f64>) -> f64 {
    let s = x.norm_squared() + 1.0;
    s.ln()
        + s.sqrt()
        + x[0].exp()
        + x[1].sin() * x[2].cos()
        + (x[0] / 4.0).tan()
        + s.recip()
        + x[1].abs()
        + x[2].signum() * x[2].powi(2)
        + s.powi(-2)
        + x.sum().tanh()
}

/// A const generic function.
#[differentiate(wrt = x)]
fn generic<const N: usize>(x: &SVector<f64, N>) -> f64 {
    (x * x.transpose() - SMatrix::<f64, N, N>::identity()).norm_squared()
}

/// An `f32` function.
#[differentiate(wrt = x)]
fn single(x: &SMatrix<f32, 3, 3>) -> f32 {
    (x * x).trace() + x.norm()
}

#[test]
fn the_counter_counts() {
    let (v, count) = allocations_during(|| vec![1.0_f64; 16]);
    assert_eq!(v.len(), 16);
    assert!(count >= 1, "a Vec allocation was not counted");
    let (_, count) = allocations_during(|| black_box(1.0_f64).sin());
    assert_eq!(count, 0);
}

#[test]
fn small_functions_do_not_allocate() {
    let mut rng = Rng::new(1);
    let a = rng.matrix::<3, 3>();
    let x = rng.matrix::<3, 1>();
    let v = rng.matrix::<3, 1>();
    assert_no_allocation("quad_grad", || quad_grad(black_box(&x), black_box(&a)));
    assert_no_allocation("quad_value_and_grad", || {
        quad_value_and_grad(black_box(&x), black_box(&a))
    });
    assert_no_allocation("quad_hvp", || {
        quad_hvp(black_box(&x), black_box(&a), black_box(&v))
    });

    assert_no_allocation("scalars_grad", || scalars_grad(black_box(x)));
    assert_no_allocation("scalars_value_and_grad", || {
        scalars_value_and_grad(black_box(x))
    });
    assert_no_allocation("scalars_hvp", || scalars_hvp(black_box(x), black_box(v)));

    let y = rng.matrix::<5, 1>();
    let w = rng.matrix::<5, 1>();
    assert_no_allocation("generic_grad", || generic_grad(black_box(&y)));
    assert_no_allocation("generic_value_and_grad", || {
        generic_value_and_grad(black_box(&y))
    });
    assert_no_allocation("generic_hvp", || generic_hvp(black_box(&y), black_box(&w)));

    let m = rng.matrix::<3, 3>().cast::<f32>();
    let n = rng.matrix::<3, 3>().cast::<f32>();
    assert_no_allocation("single_grad", || single_grad(black_box(&m)));
    assert_no_allocation("single_value_and_grad", || {
        single_value_and_grad(black_box(&m))
    });
    assert_no_allocation("single_hvp", || single_hvp(black_box(&m), black_box(&n)));
}

#[test]
fn ten_by_ten_does_not_allocate() {
    let mut rng = Rng::new(2);
    let a = rng.matrix::<10, 10>() / 10.0;
    let x = rng.matrix::<10, 10>() / 10.0;
    let v = rng.matrix::<10, 10>();
    let g = assert_no_allocation("big_grad", || big_grad(black_box(&x), black_box(&a)));
    let (_, g2) = assert_no_allocation("big_value_and_grad", || {
        big_value_and_grad(black_box(&x), black_box(&a))
    });
    assert_no_allocation("big_hvp", || {
        big_hvp(black_box(&x), black_box(&a), black_box(&v))
    });
    assert_eq!(g, g2);
    assert!(big(&x, &a).is_finite());
}

#[test]
fn two_wrt_parameters_do_not_allocate() {
    let mut rng = Rng::new(3);
    let x = rng.matrix::<2, 3>();
    let y = rng.matrix::<3, 1>();
    let b = rng.matrix::<2, 1>();
    let (v1, v2) = (rng.matrix::<2, 3>(), rng.matrix::<3, 1>());
    assert_no_allocation("two_grad", || {
        two_grad(black_box(&x), black_box(&y), black_box(&b))
    });
    assert_no_allocation("two_value_and_grad", || {
        two_value_and_grad(black_box(&x), black_box(&y), black_box(&b))
    });
    assert_no_allocation("two_hvp", || {
        two_hvp(
            black_box(&x),
            black_box(&y),
            black_box(&b),
            black_box(&v1),
            black_box(&v2),
        )
    });
    assert!(two(&x, &y, &b).is_finite());
}

/// Factorisations: an LU solve (and its transposed solve in the adjoint), and a Cholesky
/// factor with its solve, factor, inverse and log-determinant.
#[differentiate(wrt = (a, s))]
fn factorised(a: &Matrix3<f64>, s: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let x = a.lu().solve(b).unwrap();
    let chol = s.cholesky().unwrap();
    x.dot(&chol.solve(&x)) + chol.l().sum() + chol.inverse().trace() + chol.ln_determinant()
}

#[test]
fn factorisations_do_not_allocate() {
    let mut rng = Rng::new(4);
    let (a, s, b) = (
        rng.well_conditioned::<3>(),
        rng.spd::<3>(),
        rng.matrix::<3, 1>(),
    );
    let (va, vs) = (rng.matrix::<3, 3>(), rng.matrix::<3, 3>());
    assert_no_allocation("factorised_grad", || {
        factorised_grad(black_box(&a), black_box(&s), black_box(&b))
    });
    assert_no_allocation("factorised_value_and_grad", || {
        factorised_value_and_grad(black_box(&a), black_box(&s), black_box(&b))
    });
    assert_no_allocation("factorised_hvp", || {
        factorised_hvp(
            black_box(&a),
            black_box(&s),
            black_box(&b),
            black_box(&va),
            black_box(&vs),
        )
    });
    assert!(factorised(&a, &s, &b).is_finite());
}

/// The original functions are still plain functions; keep them used.
#[test]
fn originals_are_callable() {
    let x = Vector3::new(1.0, 2.0, 3.0);
    assert_eq!(quad(&x, &Matrix3::identity()), 14.0);
    assert!(scalars(x).is_finite());
    assert!(generic(&x).is_finite());
    assert!(single(&SMatrix::<f32, 3, 3>::identity()).is_finite());
}
