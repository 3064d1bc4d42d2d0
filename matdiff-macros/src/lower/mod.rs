//! Lowering: the user's function body (syn) to the IR, inferring every value's static shape.
//!
//! This is the only place that knows Rust's and nalgebra's surface syntax on the input side.
//! Errors are collected in a [`Ctxt`] so one build reports every unsupported construct; a
//! binding whose value failed to lower is remembered as poisoned so it causes no follow-on
//! errors.
//!
//! * `mod.rs` (this file): the lowerer's state (frames, scopes, values) and statements:
//!   `let`, `assert!`, `const` items, blocks and early `return`.
//! * `expr.rs`: expressions: literals, names, operators, casts, assignment, indexing.
//! * `methods.rs`: the table of supported methods, which drives their lowering and the
//!   messages that list them, and the methods of scalars, matrices and integers.
//! * `calls.rs`: calls of other differentiated functions, of `f64::` functions, and
//!   constructors such as `Matrix3::identity()`.
//! * `control.rs`: `if`, `match`, `for`, iterator chains and closures.
//! * `syntax.rs`, `symbolic.rs`: reading syntax, and integers known symbolically.
//!
//! Values the macro knows at compile time (integer literals, sizes, loop indices of an
//! unrolled loop, conditions on them) are folded here and never reach the IR; everything else
//! becomes a node. A loop or branch whose body depends on run-time values is lowered into a
//! sub-program (a frame here, a `Region` of the IR): names of the code around it that the body
//! reads become its captured parameters, and names it assigns become its results.

mod calls;
mod control;
mod expr;
mod methods;
mod symbolic;
mod syntax;

use crate::build::Build;
use crate::ctxt::Ctxt;
use crate::ir::{Dim, Graph, Id, Region, SymInt, Ty};
use crate::ops::Op;
use crate::sig::Signature;
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use symbolic::{dim_sym, sym_mul};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt};
use syntax::{
    compound_assignment, integer_literal, is_update_method, returns_early, UNBOUNDED_LOOP,
};

#[cfg(test)]
thread_local! {
    /// Tests force every loop with a literal trip count to be unrolled (`Some(true)`) or
    /// kept a loop (`Some(false)`), to compare the two; `control.rs` reads it where it decides.
    pub(crate) static FORCE_UNROLL: std::cell::Cell<Option<bool>> =
        const { std::cell::Cell::new(None) };
}

/// Lowers `sig.func`'s body into `g`; returns the node of its value. Parameter `k` becomes
/// `Op::Param(k)`.
pub fn lower_body(cx: &Ctxt, g: &mut Graph, sig: &Signature) -> Option<Id> {
    let graph = std::mem::replace(g, Graph::new(g.elem));
    let mut lowerer = Lowerer {
        cx,
        sig,
        frames: vec![Frame::new(graph, 0, Vec::new())],
        next_frame: 1,
        scopes: vec![Scope::default()],
        references: HashSet::new(),
        in_loop: 0,
    };
    let mutable_params = mutable_params(sig);
    for (k, param) in sig.params.iter().enumerate() {
        let span = param.ident.span();
        let id = lowerer
            .g()
            .add_typed(Op::Param(k), &[], param.ty.clone(), span);
        let name = param.ident.to_string();
        let binding = Binding {
            val: Some(Val::Node(0, id)),
            mutable: mutable_params.contains(&name),
            borrowed: param.by_ref,
        };
        if param.by_ref {
            lowerer.references.insert(name.clone());
        }
        lowerer.scopes[0].names.insert(name, binding);
    }
    let value = lowerer.lower_function_block(&sig.func.block);
    let value = value.and_then(|v| lowerer.result_node(&v, &sig.func.block));
    let frame = lowerer.frames.pop().expect("the function's frame");
    *g = frame.graph;
    value
}

/// Names of by-value parameters declared `mut`, which the body may update.
fn mutable_params(sig: &Signature) -> HashSet<String> {
    sig.func
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(p) if p.mutability.is_some() => Some(p.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// A value during lowering.
#[derive(Clone)]
enum Val {
    /// A node of the frame with this serial number.
    Node(usize, Id),
    /// An integer known here (a literal, a size, an unrolled loop's index).
    Int(i64),
    /// An integer known only symbolically (`N - 1`).
    Sym(SymInt),
    /// A condition known here.
    Bool(bool),
    Tuple(Vec<Val>),
    /// A closure bound with `let`, lowered where it is called.
    Closure(Rc<syn::ExprClosure>),
    /// A lazy iterator, lowered where it is consumed.
    Iter(Rc<Iter>),
    /// An upper-case name not bound in the body: a constant in scope, a float or an integer
    /// or a float array according to its use.
    Named(proc_macro2::Ident),
    /// A factorisation (`a.lu()`, `a.cholesky()`) or the `Option` one of its methods returns,
    /// lowered where its methods are called; it may be bound with `let`.
    Factor(Rc<Factor>),
    /// `let y;` before its first assignment.
    Uninit,
    /// The value of a statement.
    Unit,
}

/// A factorisation, or the `Option` of one, before it is unwrapped or used.
enum Factor {
    /// `a.lu()`: the matrix.
    Lu(Val),
    /// `lu.solve(&b)`: an `Option`, the matrix and the right-hand side.
    LuSolve(Val, Val),
    /// `a.cholesky()`: an `Option`, the matrix.
    CholeskyOption(Val),
    /// `a.cholesky().unwrap()`: the symmetric matrix `S` it factorises (`SymFromLower(a)`:
    /// nalgebra reads the lower triangle of `a`) and the factor `L`.
    Cholesky { s: Val, l: Val },
    /// `a.qr()`: the matrix, whose `.q()` and `.r()` are lowered where they are called.
    Qr(Val),
    /// `a.symmetric_eigen()`: the symmetric matrix `S = SymFromLower(a)` it decomposes, whose
    /// fields `.eigenvalues` and `.eigenvectors` are read where they are used.
    SymmetricEigen(Val),
}

/// A lazy iterator: `trip` items, item `k` given by `source`.
struct Iter {
    source: Source,
    trip: SymInt,
}

enum Source {
    /// `start + step k`.
    Range {
        start: Val,
        step: i64,
    },
    /// Entry `k` of a matrix in column-major order (`m.iter()`).
    Elements {
        matrix: Val,
        rows: Dim,
        cols: Dim,
    },
    /// Entry `k` of a float array constant in scope (`DATA.iter()`).
    ConstantArray(proc_macro2::Ident),
    Zip(Rc<Iter>, Rc<Iter>),
    Enumerate(Rc<Iter>),
    Map(Rc<Iter>, Rc<syn::ExprClosure>),
    /// Item `k + n` of the inner iterator.
    Skip(Rc<Iter>, Val),
    /// Item `k s` of the inner iterator.
    StepBy(Rc<Iter>, i64),
    /// Item `trip − 1 − k` of the inner iterator.
    Rev(Rc<Iter>),
}

impl Iter {
    /// `DATA.iter()`.
    fn constant_array(name: proc_macro2::Ident, len: SymInt) -> Iter {
        Iter {
            source: Source::ConstantArray(name),
            trip: len,
        }
    }

    /// `m.iter()`.
    fn elements(matrix: Val, rows: Dim, cols: Dim) -> Iter {
        let trip = match (&rows, &cols) {
            (Dim::Lit(r), Dim::Lit(c)) => SymInt::Lit(i64::try_from(r * c).unwrap_or(i64::MAX)),
            _ => sym_mul(dim_sym(&rows), dim_sym(&cols)),
        };
        Iter {
            source: Source::Elements { matrix, rows, cols },
            trip,
        }
    }
}

/// A name's binding.
#[derive(Clone)]
struct Binding {
    /// `None`: the value had an error.
    val: Option<Val>,
    mutable: bool,
    /// A parameter taken by `&`, which cannot be updated.
    borrowed: bool,
}

#[derive(Default)]
struct Scope {
    names: HashMap<String, Binding>,
}

/// The graph being built: the function's, or the body of a loop or branch.
struct Frame {
    serial: usize,
    graph: Graph,
    /// The types of the region's parameters; captured values are appended as they are used.
    param_tys: Vec<Ty>,
    /// Node ids, in the enclosing frame, of the captured values, in parameter order.
    captures: Vec<Id>,
    /// Index of the first captured parameter.
    first_capture: usize,
    /// The parameter node of each parameter index built so far.
    params: HashMap<usize, Id>,
}

impl Frame {
    fn new(graph: Graph, serial: usize, param_tys: Vec<Ty>) -> Frame {
        Frame {
            serial,
            graph,
            first_capture: param_tys.len(),
            param_tys,
            captures: Vec::new(),
            params: HashMap::new(),
        }
    }
}

struct Lowerer<'a> {
    cx: &'a Ctxt,
    sig: &'a Signature<'a>,
    frames: Vec<Frame>,
    next_frame: usize,
    scopes: Vec<Scope>,
    /// Bindings that hold a reference (`x: &SVector<..>`, `let r = &m;`), so a call passes
    /// them on as the user's code would.
    references: HashSet<String>,
    /// How many loops enclose the code being lowered: `return` is accepted outside them only.
    in_loop: usize,
}

impl Lowerer<'_> {
    // -----------------------------------------------------------------------------------------
    // Frames and values.

    /// The graph being built.
    fn g(&mut self) -> &mut Graph {
        &mut self.frames.last_mut().expect("a frame").graph
    }

    fn graph(&self) -> &Graph {
        &self.frames.last().expect("a frame").graph
    }

    fn serial(&self) -> usize {
        self.frames.last().expect("a frame").serial
    }

    /// A node of the current frame as a value.
    fn val(&self, id: Id) -> Val {
        Val::Node(self.serial(), id)
    }

    /// Runs `build` in a new frame with parameters `param_tys`; returns its result and the
    /// frame's region (the outputs `build` returns) with the enclosing frame's ids of the
    /// values it captured.
    fn in_frame<T>(
        &mut self,
        param_tys: Vec<Ty>,
        shared_captures: &[Id],
        build: impl FnOnce(&mut Self) -> (T, Vec<Id>),
    ) -> (T, Region, Vec<Id>) {
        let serial = self.next_frame;
        self.next_frame += 1;
        let elem = self.graph().elem;
        let mut frame = Frame::new(Graph::new(elem), serial, param_tys);
        // A branch's two sides share one list of captured values.
        let outer: Vec<Ty> = shared_captures
            .iter()
            .map(|&id| self.graph().ty(id).clone())
            .collect();
        frame.param_tys.extend(outer);
        frame.captures = shared_captures.to_vec();
        self.frames.push(frame);
        let (result, outputs) = build(self);
        let frame = self.frames.pop().expect("the frame pushed above");
        let region = Region {
            graph: frame.graph,
            params: frame.param_tys,
            outputs,
        };
        (result, region, frame.captures)
    }

    /// The parameter node of parameter `p` of the current frame.
    fn param(&mut self, p: usize, span: Span) -> Id {
        let frame = self.frames.last_mut().expect("a frame");
        if let Some(&id) = frame.params.get(&p) {
            return id;
        }
        let ty = frame.param_tys[p].clone();
        let id = frame.graph.add_typed(Op::Param(p), &[], ty, span);
        frame.params.insert(p, id);
        id
    }

    /// Node `id` of frame `serial`, as seen from the current frame: captured through every
    /// frame in between.
    fn here(&mut self, serial: usize, id: Id, span: Span) -> Option<Id> {
        let Some(level) = self.frames.iter().position(|f| f.serial == serial) else {
            self.cx.error_at(
                span,
                "matdiff internal error, please report it: a value of a finished loop or branch",
            );
            return None;
        };
        let mut id = id;
        for inner in level + 1..self.frames.len() {
            let ty = self.frames[inner - 1].graph.ty(id).clone();
            let frame = &mut self.frames[inner];
            let p = match frame.captures.iter().position(|&c| c == id) {
                Some(position) => frame.first_capture + position,
                None => {
                    frame.captures.push(id);
                    frame.param_tys.push(ty);
                    frame.param_tys.len() - 1
                }
            };
            id = match frame.params.get(&p) {
                Some(&param) => param,
                None => {
                    let param =
                        frame
                            .graph
                            .add_typed(Op::Param(p), &[], frame.param_tys[p].clone(), span);
                    frame.params.insert(p, param);
                    param
                }
            };
        }
        Some(id)
    }

    /// Any value that can live in the IR as a node of the current frame; `what` names the use
    /// in the error for one that cannot (a closure, an iterator, a tuple).
    fn node_of(&mut self, val: &Val, span: Span, what: &str) -> Option<Id> {
        match val {
            Val::Node(serial, id) => self.here(*serial, *id, span),
            Val::Int(n) => Some(self.g().add_typed(Op::Int(*n), &[], Ty::Int, span)),
            Val::Sym(s) => Some(
                self.g()
                    .add_typed(Op::SymConst(s.clone()), &[], Ty::Int, span),
            ),
            Val::Bool(b) => Some(self.g().add_typed(Op::Bool(*b), &[], Ty::Bool, span)),
            Val::Named(name) => {
                let op = Op::FloatConst(name.clone());
                Some(self.g().add_typed(op, &[], Ty::Scalar, span))
            }
            Val::Uninit => {
                // `lower_path` reports a use before assignment; loops and branches never
                // carry an unassigned variable.
                self.cx.error_at(
                    span,
                    "matdiff internal error, please report it: an unassigned variable reached \
                     the IR",
                );
                None
            }
            other => {
                let kind = other.kind();
                self.cx
                    .error_at(span, format!("{kind} cannot be used as {what} here"));
                None
            }
        }
    }

    /// The function's value: a scalar node.
    fn result_node(&mut self, val: &Val, block: &syn::Block) -> Option<Id> {
        if let Val::Unit = val {
            self.cx.error_at(
                block.brace_token.span.close(),
                "expected a final expression giving the function's value, such as `y` or \
                 `x.norm_squared()`, after the last statement",
            );
            return None;
        }
        let span = block
            .stmts
            .last()
            .map_or_else(|| block.brace_token.span.close(), Spanned::span);
        let id = self.node_of(val, span, "the function's value")?;
        match self.graph().ty(id) {
            Ty::Int | Ty::Bool => {
                self.cx.error_at(
                    span,
                    "the function's value must be a float; convert an integer with `as f64`",
                );
                None
            }
            _ => Some(id),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Scopes.

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.names.get(name))
    }

    fn bind(&mut self, name: String, val: Option<Val>, mutable: bool) {
        let binding = Binding {
            val,
            mutable,
            borrowed: false,
        };
        self.scopes
            .last_mut()
            .expect("a scope")
            .names
            .insert(name, binding);
    }

    /// Gives an existing binding a new value, in the scope that holds it.
    fn rebind(&mut self, name: &str, val: Option<Val>) {
        if let Some(binding) = self
            .scopes
            .iter_mut()
            .rev()
            .find_map(|s| s.names.get_mut(name))
        {
            binding.val = val;
        }
    }

    fn with_scope<T>(&mut self, body: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(Scope::default());
        let saved = self.references.clone();
        let result = body(self);
        self.references = saved;
        self.scopes.pop();
        result
    }

    /// Binds the names of `names` afresh in a new innermost scope (to their current values),
    /// so that assignments in `body` land there; returns `body`'s result and their values
    /// afterwards.
    fn with_shadowed<T>(
        &mut self,
        names: &[String],
        initial: Vec<Option<Val>>,
        body: impl FnOnce(&mut Self) -> T,
    ) -> (T, Vec<Option<Val>>) {
        self.scopes.push(Scope::default());
        for (name, val) in names.iter().zip(initial) {
            self.bind(name.clone(), val, true);
        }
        let result = body(self);
        let scope = self.scopes.pop().expect("the scope pushed above");
        let finals = names
            .iter()
            .map(|name| scope.names.get(name).and_then(|b| b.val.clone()))
            .collect();
        (result, finals)
    }

    /// Of `names`, those bound outside the code being lowered (so an assignment to them
    /// outlives it), each once.
    fn visible(&self, names: Vec<String>) -> Vec<String> {
        let mut seen = HashSet::new();
        names
            .into_iter()
            .filter(|name| self.lookup(name).is_some() && seen.insert(name.clone()))
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // Blocks and statements.

    /// The function's body: a block whose statements may end in `return`.
    fn lower_function_block(&mut self, block: &syn::Block) -> Option<Val> {
        self.with_scope(|this| this.lower_stmts(&block.stmts, block.brace_token.span.close(), true))
    }

    /// A block expression: a scope of its own.
    fn lower_block(&mut self, block: &syn::Block) -> Option<Val> {
        self.with_scope(|this| {
            this.lower_stmts(&block.stmts, block.brace_token.span.close(), false)
        })
    }

    /// The statements of a block and its value. At the function's level (`returns`), a
    /// `return` ends the block with its value, and `if c { ..; return a; }` makes the rest of
    /// the block the `else` branch.
    fn lower_stmts(&mut self, stmts: &[Stmt], close: Span, returns: bool) -> Option<Val> {
        let mut ok = true;
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            match stmt {
                Stmt::Local(local) => self.lower_let(local),
                Stmt::Item(item) => self.lower_item(item),
                Stmt::Macro(mac) => ok &= self.lower_macro(&mac.mac).is_some(),
                Stmt::Expr(Expr::Return(ret), _) => return self.lower_return(ret, returns),
                Stmt::Expr(Expr::If(branch), _) if returns && returns_early(branch) => {
                    return self.lower_early_return(branch, &stmts[i + 1..], close);
                }
                Stmt::Expr(expr @ (Expr::ForLoop(_) | Expr::If(_) | Expr::Block(_)), _)
                    if returns && !last && syntax::expr_contains_return(expr) =>
                {
                    return self.lower_guarded_return(expr, &stmts[i + 1..], close);
                }
                Stmt::Expr(expr, None) if last => {
                    let value = self.value(expr, None);
                    return if ok { value } else { None };
                }
                Stmt::Expr(expr, _) => ok &= self.lower_statement(expr),
            }
        }
        Some(Val::Unit).filter(|_| ok)
    }

    fn lower_return(&mut self, ret: &syn::ExprReturn, returns: bool) -> Option<Val> {
        if !returns || self.in_loop > 0 {
            self.cx.error_spanned_by(
                ret,
                "`return` is supported in the function's own statements and in the `if`s and \
                 `for` loops among them, not in a closure, a nested block or an `if` used as \
                 a value; compute the value in a variable and return it there",
            );
            return None;
        }
        match &ret.expr {
            Some(expr) => self.value(expr, None),
            None => {
                self.cx
                    .error_spanned_by(ret, "`return` needs the function's value: `return y;`");
                None
            }
        }
    }

    /// An expression used as a statement; false when it had an error.
    fn lower_statement(&mut self, expr: &Expr) -> bool {
        match expr {
            Expr::Assign(assign) => self.lower_assign(assign).is_some(),
            Expr::Binary(binary) if compound_assignment(&binary.op).is_some() => {
                self.lower_compound_assign(binary).is_some()
            }
            Expr::ForLoop(for_loop) => self.lower_for(for_loop).is_some(),
            Expr::MethodCall(call) if is_update_method(call) => {
                self.lower_update_method(call).is_some()
            }
            Expr::Macro(mac) => self.lower_macro(&mac.mac).is_some(),
            Expr::While(_) | Expr::Loop(_) | Expr::Break(_) | Expr::Continue(_) => {
                self.cx.error_spanned_by(expr, UNBOUNDED_LOOP);
                false
            }
            // An `if` or a block as a statement: its value is dropped, its assignments are not.
            other => self.value(other, None).is_some(),
        }
    }

    fn lower_let(&mut self, local: &syn::Local) {
        let (pat, annotation) = match &local.pat {
            Pat::Type(typed) => (&*typed.pat, Some(&*typed.ty)),
            other => (other, None),
        };
        let Some(init) = &local.init else {
            return self.bind_uninit(pat);
        };
        if let Some((_, diverge)) = &init.diverge {
            self.cx.error_spanned_by(
                diverge,
                "`let ... else` is not supported; bind the value with a plain `let`",
            );
        }
        let expected = annotation.and_then(|ty| self.annotated_shape(ty));
        let mut value = self.value(&init.expr, expected.as_ref());
        if let (Some(Val::Node(serial, id)), Some(ty), Some(annotation)) =
            (&value, &expected, annotation)
        {
            let found = self
                .here(*serial, *id, annotation.span())
                .map(|id| self.graph().ty(id).clone());
            if let Some(found) = found.filter(|found| found != ty) {
                self.cx.error_spanned_by(
                    annotation,
                    format!(
                        "the annotated type is a {} but the value is a {}",
                        ty.describe(),
                        found.describe()
                    ),
                );
                // Poisoned: uses of the binding would only repeat the error.
                value = None;
            }
        }
        let is_reference = self.is_reference(&init.expr);
        self.bind_pattern(pat, value, is_reference);
    }

    /// `let y;` or `let mut y;`: assigned later.
    fn bind_uninit(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                self.bind(p.ident.to_string(), Some(Val::Uninit), true);
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    "a `let` without a value needs a plain name, such as `let y;`",
                );
            }
        }
    }

    /// Binds the names of `pat` to the parts of `value` (`None`: poisoned).
    fn bind_pattern(&mut self, pat: &Pat, value: Option<Val>, is_reference: bool) {
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                let name = p.ident.to_string();
                self.record_name(&name, value.as_ref());
                if is_reference {
                    self.references.insert(name.clone());
                } else {
                    self.references.remove(&name);
                }
                self.bind(name, value, p.mutability.is_some());
            }
            Pat::Wild(_) => {}
            Pat::Type(typed) => self.bind_pattern(&typed.pat, value, is_reference),
            Pat::Paren(paren) => self.bind_pattern(&paren.pat, value, is_reference),
            // `&x` binds what the reference points to; matdiff's values are plain.
            Pat::Reference(reference) => self.bind_pattern(&reference.pat, value, false),
            Pat::Tuple(tuple) => {
                let parts = match value {
                    Some(Val::Tuple(parts)) if parts.len() == tuple.elems.len() => {
                        parts.into_iter().map(Some).collect()
                    }
                    Some(other) => {
                        let kind = other.kind();
                        self.cx.error_spanned_by(
                            tuple,
                            format!(
                                "this pattern takes a tuple of {} values apart, but the value is \
                                 {kind}",
                                tuple.elems.len()
                            ),
                        );
                        vec![None; tuple.elems.len()]
                    }
                    None => vec![None; tuple.elems.len()],
                };
                for (pat, part) in tuple.elems.iter().zip(parts) {
                    self.bind_pattern(pat, part, false);
                }
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    "this pattern is not supported; bind the value to a plain name such as \
                     `let y = ...;` or take a tuple apart with `let (a, b) = ...;`",
                );
                self.poison_pattern(other);
            }
        }
    }

    /// Remembers that the user called a node of the current frame `name`, for the formula in
    /// the generated docs; parameters keep their own names.
    fn record_name(&mut self, name: &str, value: Option<&Val>) {
        let Some(&Val::Node(serial, id)) = value else {
            return;
        };
        if serial != self.serial() || matches!(self.graph().op(id), Op::Param(_)) {
            return;
        }
        self.g()
            .value_names
            .entry(id)
            .or_insert_with(|| name.to_owned());
    }

    /// Marks every name `pat` binds as having had an error, so its uses report nothing more.
    fn poison_pattern(&mut self, pat: &Pat) {
        let pats: Vec<&Pat> = match pat {
            Pat::Ident(p) => {
                self.bind(p.ident.to_string(), None, true);
                p.subpat.iter().map(|(_, sub)| &**sub).collect()
            }
            Pat::Tuple(t) => t.elems.iter().collect(),
            Pat::TupleStruct(t) => t.elems.iter().collect(),
            Pat::Slice(s) => s.elems.iter().collect(),
            Pat::Or(o) => o.cases.iter().collect(),
            Pat::Struct(s) => s.fields.iter().map(|f| &*f.pat).collect(),
            Pat::Reference(r) => vec![&*r.pat],
            Pat::Paren(p) => vec![&*p.pat],
            Pat::Type(t) => vec![&*t.pat],
            _ => Vec::new(),
        };
        for pat in pats {
            self.poison_pattern(pat);
        }
    }

    /// `const K: usize = 3;` inside the body: known here when its value is an integer
    /// literal; otherwise (a float, an array) it is copied into every generated function, and
    /// read by name like a constant outside the function.
    fn lower_item(&mut self, item: &syn::Item) {
        match item {
            syn::Item::Const(constant) => {
                let value = integer_literal(&constant.expr).map(Val::Int);
                let name = constant.ident.to_string();
                let value = value.unwrap_or_else(|| Val::Named(constant.ident.clone()));
                self.bind(name, Some(value), false);
            }
            syn::Item::Fn(function) => self.cx.error_spanned_by(
                &function.sig,
                "functions defined inside a differentiated function are not supported; define \
                 it outside with `#[differentiate]` and call it, or use a closure",
            ),
            other => self.cx.error_spanned_by(
                other,
                "only `const` items are supported inside a differentiated function; define \
                 other items outside the function",
            ),
        }
    }

    /// `assert!(c)`, `assert!(c, "message")`, `assert_eq!(a, b)`, `debug_assert!(..)`: a check
    /// kept in every generated function, never differentiated. `None` on an error.
    fn lower_macro(&mut self, mac: &syn::Macro) -> Option<Val> {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        let kind = name.as_deref().unwrap_or("");
        let comparison = match kind {
            "assert" | "debug_assert" => None,
            "assert_eq" | "debug_assert_eq" => Some(syn::BinOp::Eq(Default::default())),
            "assert_ne" | "debug_assert_ne" => Some(syn::BinOp::Ne(Default::default())),
            _ => {
                self.cx.error_spanned_by(
                    mac,
                    "macros other than `assert!`, `assert_eq!`, `assert_ne!` and their `debug_` \
                     forms are not supported in a differentiated function; write the expression \
                     out",
                );
                return None;
            }
        };
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let args = match mac.parse_body_with(parser) {
            Ok(args) => args,
            Err(error) => {
                self.cx.syn_error(error);
                return None;
            }
        };
        let args: Vec<&Expr> = args.iter().collect();
        let operands = if comparison.is_some() { 2 } else { 1 };
        if args.len() < operands {
            self.cx
                .error_spanned_by(mac, format!("`{kind}!` needs {operands} arguments"));
            return None;
        }
        let condition: Expr = match comparison {
            None => args[0].clone(),
            Some(op) => Expr::Binary(syn::ExprBinary {
                attrs: Vec::new(),
                left: Box::new(args[0].clone()),
                op,
                right: Box::new(args[1].clone()),
            }),
        };
        let message = match args.get(operands) {
            Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            })) if args.len() == operands + 1 => text.value(),
            _ => format!(
                "assertion failed: {}",
                quote::ToTokens::to_token_stream(&condition)
            ),
        };
        let span = mac.span();
        match self.value(&condition, None)? {
            Val::Bool(true) => Some(Val::Unit),
            Val::Bool(false) => {
                self.cx.error_spanned_by(
                    mac,
                    format!("this assertion fails for every input: {message}"),
                );
                None
            }
            val => {
                let c = self.node_of(&val, span, "a condition")?;
                if self.graph().ty(c) != &Ty::Bool {
                    self.cx
                        .error_spanned_by(mac, "an assertion needs a condition such as `a < b`");
                    return None;
                }
                self.g().add(Op::Assert(message), &[c], span);
                Some(Val::Unit)
            }
        }
    }
}

impl Val {
    /// A compile-time integer: a literal when it folded to one.
    fn int(value: SymInt) -> Val {
        match value {
            SymInt::Lit(n) => Val::Int(n),
            other => Val::Sym(other),
        }
    }

    /// A dimension as an integer value.
    fn size(d: &Dim) -> Val {
        Val::int(dim_sym(d))
    }

    /// What the value is, for messages.
    fn kind(&self) -> &'static str {
        match self {
            Val::Node(..) => "a value",
            Val::Int(_) | Val::Sym(_) => "an integer",
            Val::Bool(_) => "a condition",
            Val::Tuple(_) => "a tuple",
            Val::Closure(_) => "a closure",
            Val::Iter(_) => "an iterator",
            Val::Named(_) => "a constant",
            Val::Factor(factor) => match **factor {
                Factor::Lu(_) => {
                    "an LU factorisation (use `.solve(&b).unwrap()` or `.determinant()`)"
                }
                Factor::LuSolve(..) => {
                    "the `Option` that `.solve(&b)` returns (write `.solve(&b).unwrap()` or \
                     `.solve(&b).expect(\"...\")`)"
                }
                Factor::CholeskyOption(_) => {
                    "the `Option` that `.cholesky()` returns (write `.cholesky().unwrap()` or \
                     `.cholesky().expect(\"...\")`)"
                }
                Factor::Cholesky { .. } => {
                    "a Cholesky factorisation (use `.solve(&b)`, `.l()`, `.inverse()` or \
                     `.determinant()`)"
                }
                Factor::Qr(_) => "a QR factorisation (use `.q()` and `.r()`)",
                Factor::SymmetricEigen(_) => {
                    "an eigendecomposition (use its fields `.eigenvalues` and `.eigenvectors`)"
                }
            },
            Val::Uninit => "an unassigned variable",
            Val::Unit => "a statement (`()`)",
        }
    }
}
