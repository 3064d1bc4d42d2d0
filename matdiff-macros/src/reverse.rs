//! The adjoint (reverse-mode) sweep: IR -> IR.
//!
//! Walks the graph back to front from the seeded outputs and accumulates each argument's
//! adjoint from `rules::vjp`, or for an op that owns a body (a `.map()` closure, a loop, a
//! branch) from the rule `regions.rs` derives from the transforms applied to the body. Only
//! nodes that depend on an input get adjoints, and an adjoint that is zero is never built
//! (`None`).

use crate::build::Build;
use crate::ir::{Graph, Id, Ty};
use crate::ops::Op;
use crate::{forward, regions, rules};
use std::collections::HashMap;

/// The gradient of the scalar node `output` with respect to each of `inputs`; `None` where
/// the output does not depend on that input.
pub fn gradient(g: &mut Graph, output: Id, inputs: &[Id]) -> Vec<Option<Id>> {
    let upto = inputs
        .iter()
        .fold(output.index(), |last, id| last.max(id.index()))
        + 1;
    let active = depends_on(g, inputs, upto);
    if !active[output.index()] {
        return vec![None; inputs.len()];
    }
    let one = g.lit(1.0, g.node(output).span);
    sweep(g, &active, &[(output, one)], inputs)
}

/// The cotangent of each of `inputs` given those of some outputs: `seeds` pairs an output
/// with the node holding its cotangent. `None` where it is zero.
pub fn vjp(g: &mut Graph, seeds: &[(Id, Id)], inputs: &[Id]) -> Vec<Option<Id>> {
    // An input may come after the outputs in the arena: `fn f(a: f64, x: f64) -> f64 { a }`
    // with `wrt = x` has a zero gradient.
    let last = inputs
        .iter()
        .chain(seeds.iter().map(|(output, _)| output))
        .fold(0, |last, id| last.max(id.index()));
    let active = depends_on(g, inputs, last + 1);
    sweep(g, &active, seeds, inputs)
}

/// The reverse sweep of [`vjp`] over the nodes `active` covers, knowing which depend on an
/// input.
fn sweep(g: &mut Graph, active: &[bool], seeds: &[(Id, Id)], inputs: &[Id]) -> Vec<Option<Id>> {
    let upto = active.len();
    let mut adjoint: Vec<Option<Id>> = vec![None; upto];
    for &(output, seed) in seeds {
        if active[output.index()] {
            let span = g.node(output).span;
            adjoint[output.index()] = g.add_opt(adjoint[output.index()], Some(seed), span);
        }
    }
    // Cotangents of the components of loops' and branches' tuples, gathered from their
    // `Field`s until the sweep reaches the node.
    let mut components: HashMap<Id, Vec<Option<Id>>> = HashMap::new();
    for id in g.ids().take(upto).rev().collect::<Vec<_>>() {
        let node = g.node(id).clone();
        if let Some(ybars) = components.remove(&id) {
            let arg_active: Vec<bool> = node.args.iter().map(|a| active[a.index()]).collect();
            let contributions = regions::vjp(g, id, &ybars, &arg_active, vjp);
            accumulate(g, &mut adjoint, active, &node.args, contributions);
            continue;
        }
        let Some(ybar) = adjoint[id.index()] else {
            continue;
        };
        if let (Op::Field(k), [tuple]) = (&node.op, node.args.as_slice()) {
            if let Op::Loop(_) | Op::Cond(_) = g.op(*tuple) {
                let Some(Ty::Tuple(items)) = Some(g.ty(*tuple).clone()) else {
                    unreachable!()
                };
                let slots = components
                    .entry(*tuple)
                    .or_insert_with(|| vec![None; items.len()]);
                let span = node.span;
                slots[*k] = g.add_opt(slots[*k], Some(ybar), span);
                continue;
            }
        }
        let contributions: Vec<Option<Id>> = (0..node.args.len())
            .map(|k| {
                if active[node.args[k].index()] {
                    contribution(g, &node.op, id, &node.args, ybar, k).filter(|&c| !g.is_zero(c))
                } else {
                    None
                }
            })
            .collect();
        accumulate(g, &mut adjoint, active, &node.args, contributions);
    }
    inputs.iter().map(|input| adjoint[input.index()]).collect()
}

/// The contribution of `ȳ`, the cotangent of node `y = op(args)` (not a loop or branch), to
/// the adjoint of argument `k`: the rule table's, or for a `.map()` the rule derived from its
/// closure. `None` when it is zero.
pub fn contribution(g: &mut Graph, op: &Op, y: Id, args: &[Id], ybar: Id, k: usize) -> Option<Id> {
    match op {
        Op::Map(f) => regions::map_vjp(g, y, *f, args[0], ybar, forward::tangents),
        op => rules::vjp(g, op, y, args, ybar, k),
    }
}

fn accumulate(
    g: &mut Graph,
    adjoint: &mut [Option<Id>],
    active: &[bool],
    args: &[Id],
    contributions: Vec<Option<Id>>,
) {
    for (&arg, contribution) in args.iter().zip(contributions) {
        if !active[arg.index()] {
            continue;
        }
        let span = g.node(arg).span;
        adjoint[arg.index()] = g.add_opt(adjoint[arg.index()], contribution, span);
    }
}

/// Which of the first `upto` nodes depend on one of `inputs`. Integers and conditions never
/// do: they have no derivative; nor do tapes, which only gradient programs hold and which
/// are never differentiated backwards.
fn depends_on(g: &Graph, inputs: &[Id], upto: usize) -> Vec<bool> {
    let backwards = |ty: &Ty| ty.is_differentiable() && !matches!(ty, Ty::Array(..));
    let mut active = vec![false; upto];
    for input in inputs {
        active[input.index()] = backwards(g.ty(*input));
    }
    for id in g.ids().take(upto) {
        let node = g.node(id);
        if node.args.iter().any(|a| active[a.index()]) && backwards(&node.ty) {
            active[id.index()] = true;
        }
    }
    active
}
