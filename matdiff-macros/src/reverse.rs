//! The adjoint (reverse-mode) sweep: IR -> IR.
//!
//! Walks the graph back to front from the output, seeded with `ȳ = 1`, and accumulates each
//! argument's adjoint from `Op::vjp`. Only nodes that depend on a `wrt` input get adjoints, and
//! an adjoint that is zero is never built (`None`).

use crate::ir::{Graph, Id};

/// The gradient of the scalar node `output` with respect to each of `inputs`; `None` where
/// the output does not depend on that input.
pub fn gradient(g: &mut Graph, output: Id, inputs: &[Id]) -> Vec<Option<Id>> {
    // An input may come after the output in the arena: `fn f(a: f64, x: f64) -> f64 { a }`
    // with `wrt = x` has a zero gradient.
    let last = inputs
        .iter()
        .fold(output.index(), |last, id| last.max(id.index()));
    let upto = last + 1;
    let active = depends_on(g, inputs, upto);
    let mut adjoint: Vec<Option<Id>> = vec![None; upto];
    if active[output.index()] {
        adjoint[output.index()] = Some(g.lit(1.0, g.node(output).span));
    }
    for id in g.ids().take(upto).rev().collect::<Vec<_>>() {
        let Some(ybar) = adjoint[id.index()] else {
            continue;
        };
        let node = g.node(id).clone();
        for (k, &arg) in node.args.iter().enumerate() {
            if !active[arg.index()] {
                continue;
            }
            let contribution = node.op.vjp(g, id, &node.args, ybar, k);
            let span = g.node(arg).span;
            adjoint[arg.index()] = g.add_opt(adjoint[arg.index()], contribution, span);
        }
    }
    inputs.iter().map(|input| adjoint[input.index()]).collect()
}

/// Which of the first `upto` nodes depend on one of `inputs`.
fn depends_on(g: &Graph, inputs: &[Id], upto: usize) -> Vec<bool> {
    let mut active = vec![false; upto];
    for input in inputs {
        active[input.index()] = true;
    }
    for id in g.ids().take(upto) {
        if g.node(id).args.iter().any(|a| active[a.index()]) {
            active[id.index()] = true;
        }
    }
    active
}
