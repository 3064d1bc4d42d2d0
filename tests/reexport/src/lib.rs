//! Tests of `#[differentiate(.., crate = path)]` in a crate where `::matdiff` does not
//! resolve: its Cargo.toml depends on matdiff as `md`. Every generated function (gradient,
//! HVP, Hessian, Jacobian, the hidden helpers a caller uses) must name matdiff by the path
//! the attribute gives. The expected values are derived by hand.

/// matdiff one module down, as a crate that re-exports its dependencies has it: the tests
/// name it `crate::deps::matdiff` too.
pub mod deps {
    pub use md as matdiff;
}

#[cfg(test)]
mod tests;
