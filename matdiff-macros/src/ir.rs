//! The intermediate representation: an append-only, hash-consed arena of typed nodes.
//!
//! A node's arguments always have smaller ids than the node itself, so the arena is a
//! topological order: the forward transform walks it front to back, the reverse sweep back to
//! front. Building a node that already exists returns the existing id, which makes common
//! subexpression elimination free.

use crate::ops::Op;
use proc_macro2::{Ident, Span};
use quote::ToTokens;
use std::collections::HashMap;
use std::fmt;

/// Index of a node in a [`Graph`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Id(u32);

impl Id {
    /// The first node of a graph: a closure body's argument.
    pub fn first() -> Id {
        Id(0)
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A static dimension: a literal or the name of a const generic parameter.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Dim {
    Lit(usize),
    Param(Ident),
}

/// The static type of a value: a scalar of the function's element type, or a matrix.
///
/// A vector is an `n x 1` matrix and a row vector a `1 x n` one; a `1 x 1` matrix is not a
/// scalar (nalgebra keeps them apart too).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    Scalar,
    Mat(Dim, Dim),
    /// What a call into another differentiated function, a loop or a branch returns: several
    /// values, read with `Op::Field`.
    Tuple(Vec<Ty>),
    /// An integer (a loop index, a size, a `usize` parameter): never differentiated.
    Int,
    /// A condition: never differentiated.
    Bool,
    /// A fixed-size stack array of values, one per loop iteration: what a loop's reverse
    /// sweep reads back (its tape).
    Array(Box<Ty>, SymInt),
}

/// A sub-program owned by a loop or branch node: its own graph, the types of its
/// parameters (`Op::Param(p)` inside it; a parameter the body does not use has no node) and
/// the nodes it returns.
#[derive(Clone)]
pub struct Region {
    pub graph: Graph,
    pub params: Vec<Ty>,
    pub outputs: Vec<Id>,
}

/// An integer known at compile time, possibly only symbolically: a loop's start and trip
/// count in terms of literals and const generics (`N - 1`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum SymInt {
    Lit(i64),
    Name(Ident),
    /// The length of a constant array in scope (`DATA.len()`).
    Len(Ident),
    Add(Box<SymInt>, Box<SymInt>),
    Sub(Box<SymInt>, Box<SymInt>),
    Mul(Box<SymInt>, Box<SymInt>),
    Div(Box<SymInt>, Box<SymInt>),
    Rem(Box<SymInt>, Box<SymInt>),
    Min(Box<SymInt>, Box<SymInt>),
    Max(Box<SymInt>, Box<SymInt>),
}

/// The element type of every value in a function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Elem {
    F32,
    F64,
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
    /// The scalar functions that `Op::Map` applies entry-wise, indexed by `Op::Map`'s field.
    pub scalar_fns: Vec<ScalarFn>,
    /// The other differentiated functions the body calls, indexed by `Op::Call`'s field.
    pub callees: Vec<Callee>,
    /// Scalar graphs of `.map` closures; a [`ScalarFn`] is one output of one of them, so a
    /// closure and its derivatives share their nodes.
    pub bodies: Vec<Graph>,
    /// Sub-programs of loop and branch nodes, indexed by their specs' `region` fields.
    pub regions: Vec<Region>,
    /// How many nodes are the user's own operations (lowering built them first; derivative
    /// programs come after): the ones whose panics every generated function keeps.
    pub primal_len: usize,
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
            scalar_fns: Vec::new(),
            callees: Vec::new(),
            bodies: Vec::new(),
            regions: Vec::new(),
            primal_len: usize::MAX,
            derivatives: HashMap::new(),
            internal_errors: Vec::new(),
        }
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
        let key = |c: &Callee| (c.path.to_token_stream().to_string(), c.by_ref.clone());
        if let Some(existing) = self.callees.iter().position(|c| key(c) == key(&callee)) {
            return existing;
        }
        self.callees.push(callee);
        self.callees.len() - 1
    }

    fn push_scalar_fn(&mut self, f: ScalarFn) -> usize {
        if let Some(existing) = self.scalar_fns.iter().position(|g| *g == f) {
            return existing;
        }
        self.scalar_fns.push(f);
        self.scalar_fns.len() - 1
    }

    /// The scalar function `f'`, built by the forward transform on `f`'s body with `dt = 1`;
    /// `None` when `f` is constant.
    pub fn scalar_fn_derivative(&mut self, f: usize) -> Option<usize> {
        if let Some(&known) = self.derivatives.get(&f) {
            return known;
        }
        let ScalarFn { body, output } = self.scalar_fns[f];
        let graph = &mut self.bodies[body];
        let argument = graph.ids().next();
        let derivative = argument.and_then(|t| {
            let span = graph.node(output).span;
            let one = graph.lit(1.0, span);
            let upto = graph.len();
            crate::forward::tangents(graph, &[(t, one)], upto)[output.index()]
        });
        let derivative = derivative.map(|output| self.push_scalar_fn(ScalarFn { body, output }));
        self.derivatives.insert(f, derivative);
        derivative
    }

    /// Stores a loop's or branch's body and returns its index for the node's spec.
    pub fn add_region(&mut self, region: Region) -> usize {
        self.regions.push(region);
        self.regions.len() - 1
    }

    /// Copies every node of `src` into this graph, parameter `p` of `src` replaced by
    /// `params[p]`, and returns the id each node of `src` became. Closures, callees and
    /// regions that `src` refers to come along.
    pub fn import(&mut self, src: &Graph, params: &[Id]) -> Vec<Id> {
        let mut map: Vec<Id> = Vec::with_capacity(src.len());
        for id in src.ids() {
            let node = src.node(id);
            let new = match &node.op {
                Op::Param(p) => params[*p],
                op => {
                    let op = self.import_op(src, op);
                    let args: Vec<Id> = node.args.iter().map(|a| map[a.index()]).collect();
                    self.add_typed(op, &args, node.ty.clone(), node.span)
                }
            };
            map.push(new);
        }
        map
    }

    /// `op` of `src` with its indices into `src`'s tables moved to this graph's.
    fn import_op(&mut self, src: &Graph, op: &Op) -> Op {
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
        (0..self.nodes.len()).map(|i| Id(u32::try_from(i).expect("graph fits in u32 ids")))
    }

    /// Builds `op(args)`, inferring its type from the op's shape rule and simplifying it with
    /// the rewrite table. Use [`Graph::try_add`] where a shape error is the user's.
    pub fn add(&mut self, op: Op, args: &[Id], span: Span) -> Id {
        match self.try_add(op.clone(), args, span) {
            Ok(id) => id,
            Err(message) => {
                self.internal_errors
                    .push((span, format!("{op:?}: {message}")));
                let ty = args.first().map_or(Ty::Scalar, |&a| self.ty(a).clone());
                self.push(op, args.to_vec(), ty, span)
            }
        }
    }

    /// Like [`Graph::add`], but a shape mismatch is returned as a message for the user.
    pub fn try_add(&mut self, op: Op, args: &[Id], span: Span) -> Result<Id, String> {
        let tys: Vec<&Ty> = args.iter().map(|&a| self.ty(a)).collect();
        let ty = op.shape(&tys)?;
        Ok(self.add_typed(op, args, ty, span))
    }

    /// Builds a node whose type is not determined by its arguments (`Identity`, `Fill`, ...).
    pub fn add_typed(&mut self, op: Op, args: &[Id], ty: Ty, span: Span) -> Id {
        if let Some(id) = crate::simplify::rewrite(self, &op, args, &ty, span) {
            return id;
        }
        self.push(op, args.to_vec(), ty, span)
    }

    /// Appends a node as it is, unless an identical one exists.
    fn push(&mut self, op: Op, args: Vec<Id>, ty: Ty, span: Span) -> Id {
        let key = (op, args, ty);
        if let Some(&id) = self.dedup.get(&key) {
            return id;
        }
        let id = Id(u32::try_from(self.nodes.len()).expect("graph fits in u32 ids"));
        debug_assert!(
            key.1.iter().all(|&a| a < id),
            "arguments must precede a node"
        );
        let (op, args, ty) = key.clone();
        self.nodes.push(Node { op, args, ty, span });
        self.dedup.insert(key, id);
        id
    }

    /// A literal of the element type. In an `f32` function it is rounded to `f32` here, so
    /// that literals folded together round as the user's `f32` arithmetic does.
    pub fn lit(&mut self, value: f64, span: Span) -> Id {
        let value = match self.elem {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "rounding to f32 is the point"
            )]
            Elem::F32 => f64::from(value as f32),
            Elem::F64 => value,
        };
        self.add_typed(Op::lit(value), &[], Ty::Scalar, span)
    }

    /// `a + b` where `None` is a symbolic zero.
    pub fn add_opt(&mut self, a: Option<Id>, b: Option<Id>, span: Span) -> Option<Id> {
        match (a, b) {
            (Some(a), Some(b)) => Some(self.add(Op::Add, &[a, b], span)),
            (a, None) => a,
            (None, b) => b,
        }
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
}

/// One output of a closure body: the scalar function `t -> output(t)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ScalarFn {
    pub body: usize,
    pub output: Id,
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Dim::Lit(n) => write!(f, "{n}"),
            Dim::Param(name) => write!(f, "{name}"),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Ty::Scalar => write!(f, "scalar"),
            Ty::Mat(r, c) => write!(f, "{r}x{c}"),
            Ty::Tuple(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "({})", items.join(", "))
            }
            Ty::Int => write!(f, "int"),
            Ty::Bool => write!(f, "bool"),
            Ty::Array(item, n) => write!(f, "[{item}; {n}]"),
        }
    }
}

/// The length of a loop's tape: its trip count, or a bound of it that Rust accepts as an
/// array length (`N` for `N - 1`): a literal, a const generic or a constant array's length.
pub fn tape_capacity(trip: &SymInt) -> Option<SymInt> {
    match trip {
        SymInt::Lit(n) => Some(SymInt::Lit((*n).max(0))),
        SymInt::Name(_) | SymInt::Len(_) => Some(trip.clone()),
        SymInt::Sub(a, b) if matches!(**b, SymInt::Lit(n) if n >= 0) => tape_capacity(a),
        SymInt::Div(a, b) if matches!(**b, SymInt::Lit(n) if n >= 1) => tape_capacity(a),
        SymInt::Min(a, b) => tape_capacity(a).or_else(|| tape_capacity(b)),
        _ => None,
    }
}

impl fmt::Display for SymInt {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SymInt::Lit(n) => write!(f, "{n}"),
            SymInt::Name(name) => write!(f, "{name}"),
            SymInt::Len(name) => write!(f, "{name}.len()"),
            SymInt::Add(a, b) => write!(f, "({a} + {b})"),
            SymInt::Sub(a, b) => write!(f, "({a} - {b})"),
            SymInt::Mul(a, b) => write!(f, "({a} * {b})"),
            SymInt::Div(a, b) => write!(f, "({a} / {b})"),
            SymInt::Rem(a, b) => write!(f, "({a} % {b})"),
            SymInt::Min(a, b) => write!(f, "min({a}, {b})"),
            SymInt::Max(a, b) => write!(f, "max({a}, {b})"),
        }
    }
}

impl Ty {
    pub fn mat(rows: usize, cols: usize) -> Ty {
        Ty::Mat(Dim::Lit(rows), Dim::Lit(cols))
    }

    pub fn is_scalar(&self) -> bool {
        matches!(self, Ty::Scalar)
    }

    pub fn transposed(&self) -> Ty {
        match self {
            Ty::Mat(r, c) => Ty::Mat(c.clone(), r.clone()),
            _ => self.clone(),
        }
    }

    /// How the user would name this shape in a message: `scalar`, `3x3 matrix`, `vector of 3`.
    pub fn describe(&self) -> String {
        match self {
            Ty::Scalar => "scalar".to_owned(),
            Ty::Mat(r, Dim::Lit(1)) => format!("{r}x1 vector"),
            Ty::Mat(Dim::Lit(1), c) => format!("1x{c} row vector"),
            Ty::Mat(r, c) => format!("{r}x{c} matrix"),
            Ty::Tuple(_) => "tuple".to_owned(),
            Ty::Int => "integer".to_owned(),
            Ty::Bool => "condition".to_owned(),
            Ty::Array(item, n) => format!("tape of {n} {item}"),
        }
    }
}
