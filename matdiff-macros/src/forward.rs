//! The tangent (forward-mode, JVP) transform: IR -> IR.
//!
//! Walks the graph front to back and builds, for every node that depends on a seeded input,
//! the node of its tangent. It knows nothing of individual operations: each node's rule is
//! `rules::jvp`, or for an op that owns a body (a `.map()` closure, a loop, a branch) the
//! rule `regions.rs` derives from this transform applied to the body. Applied to the gradient
//! program it gives the Hessian-vector product.

use crate::ir::{Graph, Id};
use crate::ops::Op;
use crate::{regions, rules};
use std::collections::HashMap;

/// The tangent of every node among the first `upto` ids, given the tangents of some inputs.
///
/// `seeds` pairs an input node with the node holding its direction. The result is indexed by
/// id; `None` is a symbolic zero (the node does not depend on a seeded input).
pub fn tangents(g: &mut Graph, seeds: &[(Id, Id)], upto: usize) -> Vec<Option<Id>> {
    let mut tangent: Vec<Option<Id>> = vec![None; upto];
    for (input, direction) in seeds {
        // Integers and conditions have no tangent, whatever direction a caller passes.
        if g.ty(*input).is_differentiable() {
            tangent[input.index()] = Some(*direction);
        }
    }
    // Tangents of the components of loops' and branches' tuples, read by their `Field`s.
    let mut components: HashMap<Id, Vec<Option<Id>>> = HashMap::new();
    for id in g.ids().take(upto).collect::<Vec<_>>() {
        if tangent[id.index()].is_some() {
            continue;
        }
        let node = g.node(id).clone();
        let d: Vec<Option<Id>> = node.args.iter().map(|a| tangent[a.index()]).collect();
        if let (Op::Field(k), [tuple]) = (&node.op, node.args.as_slice()) {
            if let Some(items) = components.get(tuple) {
                tangent[id.index()] = items[*k];
                continue;
            }
        }
        if d.iter().all(Option::is_none) {
            continue;
        }
        if let Op::Loop(_) | Op::Cond(_) = node.op {
            let items = regions::jvp(g, id, &d, tangents);
            components.insert(id, items);
            continue;
        }
        let d = match &node.op {
            Op::Map(f) => regions::map_jvp(g, id, *f, node.args[0], d[0], tangents),
            op => rules::jvp(g, op, id, &node.args, &d),
        };
        // A unit seed (a Jacobian's or a Hessian's column) makes many tangents fold to zero.
        tangent[id.index()] = d.filter(|&d| !g.is_zero(d));
    }
    tangent
}
