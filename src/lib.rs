#![doc = include_str!("../README.md")]

/// Generates `<name>_grad`, `<name>_value_and_grad` and `<name>_hvp` next to a function; see
/// the [crate documentation](crate).
pub use matdiff_macros::differentiate;
/// Run-time support: finite-difference checks, a deterministic random generator, optimisers.
pub use matdiff_runtime as runtime;
/// The nalgebra that generated code uses: 0.35, or 0.34 under the feature `nalgebra_v0_34`.
pub use matdiff_runtime::nalgebra;

/// Paths used by generated code. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use matdiff_runtime::nalgebra;
    pub use matdiff_runtime::{
        cofactor_matrix, determinant_and_inverse, determinant_and_inverse_transpose,
        lu_solve_transpose, SINGULAR, SINGULAR_SOLVE,
    };
}
