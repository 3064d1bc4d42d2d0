//! Tests of `#[differentiate(.., crate = path)]` in a crate where `::matdiff` does not
//! resolve: its Cargo.toml depends on matdiff as `md`. Every generated function (gradient,
//! HVP, Hessian, Jacobian, the hidden helpers a caller uses) must name matdiff by the path
//! the attribute gives. The expected values are derived by hand.

/// matdiff one module down, as a crate that re-exports its dependencies has it: the tests
/// name it `crate::deps::matdiff` too.
pub mod deps {
    pub use md as matdiff;
}

/// A public surface, so that `cargo doc` (run with `-D warnings` by `.ci/run`) checks the links
/// in the generated functions' docs: to a free function, and to an associated one, which
/// rustdoc reaches only through `Self`.
pub mod documented {
    use md::nalgebra::Vector2;

    /// `x₀² + 3 x₁²`.
    #[md::differentiate(wrt = x, crate = md)]
    pub fn bowl(x: &Vector2<f64>) -> f64 {
        x[0] * x[0] + 3.0 * x[1] * x[1]
    }

    /// A model with a differentiated associated function.
    pub struct Model;

    impl Model {
        /// `x₀ x₁`.
        #[md::differentiate(wrt = x, associated, crate = md)]
        pub fn saddle(x: &Vector2<f64>) -> f64 {
            x[0] * x[1]
        }
    }
}

#[cfg(test)]
mod tests;
