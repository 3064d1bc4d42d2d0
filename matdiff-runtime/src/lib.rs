//! Run-time support for `matdiff`: random inputs, finite-difference checking
//! of gradients, Hessian-vector products and adjoints, and two small
//! optimisers.
//!
//! Gradients follow the Frobenius convention: the gradient `G` of a scalar
//! function `f` of a matrix `X` satisfies `df = <G, dX> = tr(Gᵀ dX)`. Points
//! and directions are [`VectorSpace`]s: `f64`, `f32`, nalgebra's statically
//! sized `SMatrix` / `SVector` of `f64` or `f32`, and tuples of those.
//!
//! # Example
//!
//! Check a hand-written gradient and Hessian-vector product of
//! `f(X) = tr(Xᵀ A X)`, whose gradient is `(A + Aᵀ) X` and Hessian-vector
//! product `(A + Aᵀ) V`, then take a Newton step with [`conjugate_gradient`]:
//!
//! ```
//! use matdiff_runtime::{check_all, check_gradient, conjugate_gradient, Rng, VectorSpace};
//! use matdiff_runtime::nalgebra::{Matrix3, Matrix3x2};
//!
//! let mut rng = Rng::new(2024);
//! let a = rng.spd::<3>();
//! let f = |x: &Matrix3x2<f64>| (x.transpose() * a * x).trace();
//! let grad = |x: &Matrix3x2<f64>| (a + a.transpose()) * x;
//! let hvp = |_x: &Matrix3x2<f64>, v: &Matrix3x2<f64>| (a + a.transpose()) * v;
//!
//! let x = rng.matrix::<3, 2>();
//! check_all(f, grad, hvp, &x, &mut rng, 1e-8);
//!
//! // A wrong gradient (the transpose of A forgotten) is caught.
//! let bad: Matrix3<f64> = rng.matrix::<3, 3>();
//! let wrong = |x: &Matrix3x2<f64>| 2.0 * bad * x;
//! let g = |x: &Matrix3x2<f64>| (x.transpose() * bad * x).trace();
//! let v = x.random(&mut rng);
//! assert!(check_gradient(g, &wrong(&x), &x, &v).relative_error() > 1e-3);
//!
//! // Newton step: solve H s = -∇f(x); f is quadratic so x + s minimises it.
//! let s = conjugate_gradient(|v| hvp(&x, v), &grad(&x).scaled(-1.0), 1e-12, 50);
//! assert!(grad(&x.axpy(1.0, &s)).norm() < 1e-9);
//! ```

//!
//! # nalgebra versions
//!
//! matdiff is built for one nalgebra, chosen by cargo feature: `nalgebra_v0_35` (the default)
//! or `nalgebra_v0_34`. When both are on, 0.34 wins: it is only ever on because something asked
//! for it (the `levenberg-marquardt` and `argmin` adapters turn it on, since those crates are
//! built on nalgebra 0.34), and a type from one nalgebra is a different type to the other.
//! The chosen crate is [`nalgebra`](mod@nalgebra), re-exported here and by `matdiff`.

/// The nalgebra matdiff is built for (see [nalgebra versions](crate#nalgebra-versions)).
#[cfg(feature = "nalgebra_v0_34")]
pub extern crate nalgebra_0_34 as nalgebra;
/// The nalgebra matdiff is built for (see [nalgebra versions](crate#nalgebra-versions)).
#[cfg(all(feature = "nalgebra_v0_35", not(feature = "nalgebra_v0_34")))]
pub extern crate nalgebra_0_35 as nalgebra;
#[cfg(not(any(feature = "nalgebra_v0_34", feature = "nalgebra_v0_35")))]
compile_error!(
    "matdiff needs a nalgebra: turn on the feature `nalgebra_v0_35` (the default) or `nalgebra_v0_34`"
);

mod check;
mod linalg;
mod optim;
mod rng;
#[cfg(any(feature = "argmin", feature = "levenberg-marquardt"))]
pub mod solvers;
mod space;

pub use check::{
    check_all, check_gradient, check_hvp, check_symmetry, directional_derivative, dot_product_test,
    Comparison,
};
pub use linalg::{
    cofactor_matrix, determinant_and_inverse, determinant_and_inverse_transpose,
    lu_solve_transpose, SINGULAR, SINGULAR_SOLVE,
};
pub use optim::{conjugate_gradient, GradientDescent};
pub use rng::Rng;
pub use space::VectorSpace;
