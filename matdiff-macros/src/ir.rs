//! The intermediate representation: an append-only, hash-consed arena of typed nodes, with the
//! tables its nodes index (closures, callees, regions).
//!
//! A node's arguments always have smaller ids than the node itself, so the arena is a
//! topological order: the forward transform walks it front to back, the reverse sweep back to
//! front. Interning a node that already exists returns the existing id, which makes common
//! subexpression elimination free. The arena does not rewrite: nodes are built with
//! `Build::add` (`build.rs`), which infers their types and simplifies them before interning.

// The vocabulary of a graph, defined below the arena (`types.rs`) so that `ops.rs` can use it
// too, and re-exported: a module that builds or reads graphs names it with the graph.
pub use crate::types::{tape_capacity, Dim, Elem, Id, SymInt, Ty};

use crate::ops::Op;
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::HashMap;

/// A sub-program owned by a loop or branch node: its own graph, the types of its
/// parameters (`Op::Param(p)` inside it; a parameter the body does not use has no node) and
/// the nodes it returns.
#[derive(Clone)]
pub struct Region {
    pub graph: Graph,
    pub params: Vec<Ty>,
    pub outputs: Vec<Id>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub args: Vec<Id>,
    pub ty: Ty,
    /// The user's tokens this value comes from; derivative nodes inherit it.
    pub span: Span,
}

#[derive(Clone)]
pub struct Graph {
    pub elem: Elem,
    nodes: Vec<Node>,
    dedup: HashMap<(Op, Vec<Id>, Ty), Id>,
    /// The nodes whose first argument is a given node, in order: what the rules and the
    /// emitter look up (the inverse of a matrix, the determinants of it, the maps of it)
    /// without scanning the graph, so that building and writing a body take linear time.
    users: HashMap<Id, Vec<Id>>,
    /// The index of each registered scalar function.
    scalar_fn_index: HashMap<ScalarFn, usize>,
    /// The scalar functions that `Op::Map` applies entry-wise, indexed by `Op::Map`'s field.
    pub scalar_fns: Vec<ScalarFn>,
    /// The other differentiated functions the body calls, indexed by `Op::Call`'s field.
    pub callees: Vec<Callee>,
    /// Scalar graphs of `.map` closures; a [`ScalarFn`] is one output of one of them, so a
    /// closure and its derivatives share their nodes.
    pub bodies: Vec<Graph>,
    /// Sub-programs of loop and branch nodes, indexed by their specs' `region` fields.
    pub regions: Vec<Region>,
    /// Regions derived from a region by a transform, by the region and the transform's own
    /// key: a loop and its taped copy get one tangent body, so their tangents are copies too.
    pub derived_regions: HashMap<(usize, Vec<bool>), usize>,
    /// The names the user's `let`s gave to nodes (the first one, where several did): how the
    /// formula in the generated docs names shared values (`emit/formula.rs`).
    pub value_names: HashMap<Id, String>,
    /// How many nodes are the user's own operations (lowering built them first; derivative
    /// programs come after): the ones whose panics every generated function keeps.
    pub primal_len: usize,
    /// The derivative of each scalar function built so far (`None`: it is constant).
    derivatives: HashMap<usize, Option<usize>>,
    /// Shape errors in nodes built by derivative rules. They are bugs in a rule, reported as
    /// a compile error rather than a panic.
    pub internal_errors: Vec<(Span, String)>,
}

impl Graph {
    pub fn new(elem: Elem) -> Self {
        Graph {
            elem,
            nodes: Vec::new(),
            dedup: HashMap::new(),
            users: HashMap::new(),
            scalar_fn_index: HashMap::new(),
            scalar_fns: Vec::new(),
            callees: Vec::new(),
            bodies: Vec::new(),
            regions: Vec::new(),
            derived_regions: HashMap::new(),
            value_names: HashMap::new(),
            primal_len: usize::MAX,
            derivatives: HashMap::new(),
            internal_errors: Vec::new(),
        }
    }

    /// Whether `id` is a literal zero, or a matrix filled with one: a derivative that is zero
    /// whatever the inputs, which the transforms then treat as the symbolic zero `None`.
    pub fn is_zero(&self, id: Id) -> bool {
        let zero = |id: Id| matches!(self.op(id), Op::Lit(bits) if bits.get() == 0.0);
        zero(id) || (matches!(self.op(id), Op::Fill) && zero(self.node(id).args[0]))
    }

    /// Registers a scalar function of one scalar, `body` with `Op::Param(0)` as the argument
    /// and `output` as the result, and returns its index for `Op::Map`.
    pub fn add_scalar_fn(&mut self, body: Graph, output: Id) -> usize {
        self.bodies.push(body);
        self.push_scalar_fn(ScalarFn {
            body: self.bodies.len() - 1,
            output,
        })
    }

    /// Registers a call target and returns its index for `Op::Call`; the same path called
    /// the same way gets the same index, so repeated calls share their derivatives.
    pub fn add_callee(&mut self, callee: Callee) -> usize {
        let key = |c: &Callee| {
            let output = c.output.clone();
            (
                c.path.to_token_stream().to_string(),
                c.by_ref.clone(),
                output,
            )
        };
        if let Some(existing) = self.callees.iter().position(|c| key(c) == key(&callee)) {
            return existing;
        }
        self.callees.push(callee);
        self.callees.len() - 1
    }

    /// Registers one more output of a registered closure body (a derivative of it); the
    /// same one registered twice gets the same index.
    pub fn push_scalar_fn(&mut self, f: ScalarFn) -> usize {
        if let Some(&existing) = self.scalar_fn_index.get(&f) {
            return existing;
        }
        self.scalar_fns.push(f);
        self.scalar_fn_index.insert(f, self.scalar_fns.len() - 1);
        self.scalar_fns.len() - 1
    }

    /// The nodes whose first argument is `id`, in order.
    pub fn users_of(&self, id: Id) -> &[Id] {
        self.users.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The derivative of scalar function `f` if it was built already (`regions.rs` builds it
    /// and records it with [`Graph::record_derivative`]): `Some(None)` when `f` is constant.
    pub fn known_derivative(&self, f: usize) -> Option<Option<usize>> {
        self.derivatives.get(&f).copied()
    }

    pub fn record_derivative(&mut self, f: usize, derivative: Option<usize>) {
        self.derivatives.insert(f, derivative);
    }

    /// Stores a loop's or branch's body and returns its index for the node's spec.
    pub fn add_region(&mut self, region: Region) -> usize {
        self.regions.push(region);
        self.regions.len() - 1
    }

    /// `op` of `src` with its indices into `src`'s tables (closures, callees, regions)
    /// moved to this graph's, for `Build::import`.
    pub fn import_op(&mut self, src: &Graph, op: &Op) -> Op {
        match op {
            Op::Map(f) => {
                let ScalarFn { body, output } = src.scalar_fns[*f];
                Op::Map(self.add_scalar_fn(src.bodies[body].clone(), output))
            }
            Op::Call(c) => Op::Call(self.add_callee(src.callees[*c].clone())),
            Op::CallVjp(c) => Op::CallVjp(self.add_callee(src.callees[*c].clone())),
            Op::CallTangent(c) => Op::CallTangent(self.add_callee(src.callees[*c].clone())),
            Op::Loop(spec) => {
                let mut spec = spec.clone();
                spec.region = self.add_region(src.regions[spec.region].clone());
                Op::Loop(spec)
            }
            Op::Cond(spec) => {
                let mut spec = spec.clone();
                spec.then_region = self.add_region(src.regions[spec.then_region].clone());
                spec.else_region = self.add_region(src.regions[spec.else_region].clone());
                Op::Cond(spec)
            }
            other => other.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn node(&self, id: Id) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn ty(&self, id: Id) -> &Ty {
        &self.node(id).ty
    }

    pub fn op(&self, id: Id) -> &Op {
        &self.node(id).op
    }

    pub fn ids(&self) -> impl DoubleEndedIterator<Item = Id> + ExactSizeIterator {
        (0..self.nodes.len()).map(Id::from_index)
    }

    /// Appends a node as it is, unless an identical one exists: then returns that one. Nodes
    /// are built with `Build::add` (`build.rs`), which simplifies them first; this is its
    /// last step.
    pub fn intern(&mut self, op: Op, args: Vec<Id>, ty: Ty, span: Span) -> Id {
        let key = (op, args, ty);
        if let Some(&id) = self.dedup.get(&key) {
            return id;
        }
        let id = Id::from_index(self.nodes.len());
        debug_assert!(
            key.1.iter().all(|&a| a < id),
            "arguments must precede a node"
        );
        let (op, args, ty) = key.clone();
        if let Some(&first) = args.first() {
            self.users.entry(first).or_default().push(id);
        }
        self.nodes.push(Node { op, args, ty, span });
        self.dedup.insert(key, id);
        id
    }

    /// The nodes that `roots` depend on, as a mask indexed by id.
    pub fn reachable(&self, roots: impl IntoIterator<Item = Id>) -> Vec<bool> {
        let mut live = vec![false; self.len()];
        for root in roots {
            live[root.index()] = true;
        }
        for id in self.ids().rev() {
            if live[id.index()] {
                for &arg in &self.node(id).args {
                    live[arg.index()] = true;
                }
            }
        }
        live
    }

    /// Writes the nodes that `roots` depend on, one per line: the form the IR tests pin.
    #[cfg(test)]
    pub fn dump(&self, roots: &[Id]) -> String {
        let live = self.reachable(roots.iter().copied());
        let mut out = String::new();
        for id in self.ids().filter(|id| live[id.index()]) {
            let node = self.node(id);
            let args: Vec<String> = node.args.iter().map(ToString::to_string).collect();
            out += &format!("{id}: {} = {:?}", node.ty, node.op);
            if !args.is_empty() {
                out += &format!(" {}", args.join(" "));
            }
            out.push('\n');
        }
        let roots: Vec<String> = roots.iter().map(ToString::to_string).collect();
        out += &format!("out {}\n", roots.join(" "));
        for id in self.ids().filter(|id| live[id.index()]) {
            if let Op::Map(f) = self.op(id) {
                let ScalarFn { body, output } = self.scalar_fns[*f];
                out += &format!("fn {f} (t = %0):\n");
                for line in self.bodies[body].dump(&[output]).lines() {
                    out += &format!("    {line}\n");
                }
            }
        }
        out
    }
}

/// Another `#[differentiate]` function, called as the user wrote it.
#[derive(Clone)]
pub struct Callee {
    /// The path the user called (`loss` or `layers::dense`); it keeps the user's spans.
    pub path: syn::Path,
    /// Per argument: passed by `&`.
    pub by_ref: Vec<bool>,
    /// Per argument: a scalar (bound by value in generated code, where matrices are `&`).
    pub scalar_args: Vec<bool>,
    /// Per argument: an integer or a condition, converted to the callee's own type.
    pub int_args: Vec<bool>,
    /// What the callee returns: a scalar, or a matrix, whose hidden functions then also take
    /// the output's cotangent (after the arguments) and its direction (after theirs).
    pub output: Ty,
}

/// One output of a closure body: the scalar function `t -> output(t)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ScalarFn {
    pub body: usize,
    pub output: Id,
}
