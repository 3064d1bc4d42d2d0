//! Random programs through the real macro: a sample of the random-program generator of
//! `matdiff-macros` (loops unrolled and kept as loops, value-dependent and index branches,
//! `match`, `let mut` with `+=`/entry updates, iterator chains, closures, early `return`s from
//! loops, `Vector3::new(..)`-style constructors), compiled with
//! `#[differentiate]`. At each point the generated `_grad` and `_hvp` are checked against
//! central differences of the generated function itself and for the Hessian's symmetry
//! (`check_all`, with the seed written next to the point), and `_value_and_grad` against `f`
//! and `_grad`.
//!
//! The programs are in `generated/random_programs.rs`, written by
//! `matdiff-macros/src/tests/generated_programs.rs`; a unit test there fails when the file is
//! stale. Regenerate it with
//! `MATDIFF_UPDATE_GENERATED=1 cargo test -p matdiff-macros generated_programs`.

// Generated code is written as a program generator writes it, not as a person would.
#![allow(
    unused_parens,
    unused_variables,
    unused_assignments,
    clippy::all,
    reason = "generated programs"
)]

mod common;

use common::full_check;
use matdiff::differentiate;
use matdiff::nalgebra::*;
use matdiff::runtime::{Rng, VectorSpace};

/// The checks are as tight as those of the hand-written tests: the points stay away from
/// singularities and from branch switches.
const TOL: f64 = 1e-6;

/// `check_all` and the `_value_and_grad` checks at `x`, with `check_all`'s directions drawn
/// from `Rng::new(seed)` (the seed the generator chose the point for).
#[track_caller]
fn check<X: VectorSpace>(
    f: impl Fn(&X) -> f64,
    grad: impl Fn(&X) -> X,
    value_and_grad: impl Fn(&X) -> (f64, X),
    hvp: impl Fn(&X, &X) -> X,
    x: &X,
    seed: u64,
) {
    full_check(f, grad, value_and_grad, hvp, x, &mut Rng::new(seed), TOL);
}

include!("generated/random_programs.rs");
