//! Unit tests of the pipeline on printed IR and of the rule table.
//!
//! * `interp`: a reference interpreter of the IR on `nalgebra::DMatrix<f64>`;
//! * `rules`: every op's tangent and adjoint rule, numerically;
//! * `pipeline`: gradients and Hessian-vector products of whole functions, numerically;
//! * `snapshots`: the printed IR of a few functions, reviewed by hand;
//! * `simplify_rules`: one case per rewrite rule, printed and evaluated;
//! * `formulas`: the formulas in the generated docs, for the README's examples;
//! * `fusion`: what the emitter writes for the nodes `emit/fuse.rs` computes together;
//! * `layers`: the module graph goes down the layers of `ARCHITECTURE.md`, without cycles;
//! * `fuzz`: mutated and random inputs never make the macro panic;
//! * `random_programs`: random well-typed programs against the interpreter and a reference
//!   evaluator of their source; `generated_programs`: a sample of them written out for
//!   `tests/test_random_programs.rs`, which compiles them through the real macro.

mod formulas;
mod fusion;
mod fuzz;
mod generated_programs;
mod interp;
mod layers;
mod pipeline;
mod random_programs;
mod regions;
mod regressions;
mod rules;
mod simplify_rules;
mod snapshots;
mod support;

mod expand_smoke {
    use quote::quote;

    #[test]
    fn quad_expands() {
        let out = crate::expand::differentiate(
            quote!(wrt = x),
            quote!(
                fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
                    x.dot(&(a * x))
                }
            ),
        );
        assert!(out.to_string().contains("quad_hvp"), "{out}");
    }
}
