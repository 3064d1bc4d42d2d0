//! Compile-time matrix calculus for nalgebra.
//!
//! Put `#[differentiate(wrt = x)]` on an ordinary function of statically sized nalgebra
//! matrices that returns a scalar, and matdiff writes its gradient and Hessian-vector product
//! next to it, at compile time: typed, fully static code with no tape, no dual numbers and no
//! heap allocation.
//!
//! ```
//! use matdiff::differentiate;
//! use matdiff::nalgebra::{SMatrix, SVector};
//!
//! #[differentiate(wrt = x)]
//! fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
//!     x.dot(&(a * x))
//! }
//!
//! let a = SMatrix::<f64, 3, 3>::new(2.0, 1.0, 0.0, 0.0, 3.0, 1.0, 1.0, 0.0, 4.0);
//! let x = SVector::<f64, 3>::new(1.0, -1.0, 2.0);
//! let v = SVector::<f64, 3>::new(0.5, 0.0, 1.0);
//!
//! // ∇(xᵀAx) = (A + Aᵀ) x and H[v] = (A + Aᵀ) v.
//! let sym = a + a.transpose();
//! assert!((quad_grad(&x, &a) - sym * x).norm() < 1e-12);
//! let (value, grad) = quad_value_and_grad(&x, &a);
//! assert!((value - quad(&x, &a)).abs() < 1e-12 && grad == quad_grad(&x, &a));
//! assert!((quad_hvp(&x, &a, &v) - sym * v).norm() < 1e-12);
//! ```
//!
//! # What gets generated
//!
//! For `#[differentiate(wrt = x)] fn f(x: X, a: A) -> f64`, with the same visibility,
//! generics and where-clause, and parameters passed the same way (by value or by `&`):
//!
//! * `f_grad(x, a) -> X`: the gradient `G` in the Frobenius convention, `df = tr(Gᵀ dX)`.
//! * `f_value_and_grad(x, a) -> (f64, X)`: both, in one pass.
//! * `f_hvp(x, a, v) -> X`: the Hessian applied to the direction `v`,
//!   `d/dt ∇f(x + t v)` at `t = 0`.
//!
//! With `wrt = (w1, w2)` the gradient is the tuple `(G1, G2)`, `f_value_and_grad` returns
//! `(f, (G1, G2))` and `f_hvp` takes the directions `v1, v2` after the parameters and returns
//! the blocks `(H1, H2)` of the full Hessian applied to `(v1, v2)`.
//!
//! Generated code names nalgebra through [`nalgebra`] (re-exported here), so use the same
//! nalgebra version as matdiff, or import it from `matdiff::nalgebra`.
//!
//! # Supported
//!
//! Parameter types: `f64`/`f32` scalars and `SMatrix<T, R, C>`, `SVector<T, N>`,
//! `RowSVector<T, N>`, `Matrix2..6`, `Matrix2x3`-style, `Vector2..6`, `RowVector2..6`, with
//! literal or const generic dimensions. The body: `let` bindings (shadowing allowed), `+`, `-`,
//! `*` for every pair of shapes, `/` by a scalar, `.transpose()`, `.trace()`, `.dot(&y)`,
//! `.component_mul(&y)`, `.norm()`, `.norm_squared()`, `.sum()`, indexing with literal indices,
//! `identity()` and `zeros()` constructors, float literals and constants, and the scalar
//! methods `.exp()`, `.ln()`, `.sqrt()`, `.sin()`, `.cos()`, `.tan()`, `.tanh()`, `.recip()`,
//! `.abs()`, `.signum()`, `.powi(n)`. `abs` uses the subgradient `0` at `0`.
//!
//! Anything else is a compile error under the offending tokens that says what is supported.

pub use matdiff_macros::differentiate;
pub use matdiff_runtime as runtime;
pub use nalgebra;

/// Paths used by generated code. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use nalgebra;
}
