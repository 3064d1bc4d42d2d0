//! Control flow: `if`, `match`, `&&`/`||`, early `return`, `for` loops, iterator chains and
//! closures.
//!
//! A condition known at compile time picks its branch here; one known only at run time
//! becomes an `Op::Cond` whose two regions are lowered in frames of their own, so that only
//! the branch taken is evaluated. A loop with a literal trip count and a small body is
//! unrolled (its index is then a literal, and indexing with it is static); any other becomes
//! an `Op::Loop` whose body is lowered once. Iterator chains are lazy values (`Iter`) until a
//! consumer (`sum`, `product`, `fold`, `count`, a `for` loop) turns them into a loop.

use super::methods::{IteratorMethod, Receiver};
use super::symbolic::{sym_arith, sym_min, sym_sub};
use super::syntax::{
    compound_assignment, guard_expr, integer_literal, is_update_method, returns_early, Arith,
    RETURNED, RETURN_VALUE,
};
use super::{Iter, Lowerer, Source, Val};
use crate::build::Build;
use crate::ir::{tape_capacity, Id, Region, SymInt, Ty};
use crate::ops::{CondSpec, IntOp, LoopSpec, Op};
use proc_macro2::Span;
use quote::ToTokens;
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, ExprClosure};

/// Unrolled loops: at most this many copies of the body's tokens. A longer loop stays a loop
/// in the generated code (its size does not grow with the trip count).
const UNROLL_TOKENS: usize = 800;
/// And at most this many iterations.
const UNROLL_TRIPS: i64 = 64;

/// Whether a loop of `n` iterations of a body of `cost` tokens is unrolled.
fn unrolls(n: i64, cost: usize) -> bool {
    #[cfg(test)]
    if let Some(forced) = super::FORCE_UNROLL.with(std::cell::Cell::get) {
        return forced;
    }
    let budget = usize::try_from(n.max(0))
        .unwrap_or(usize::MAX)
        .saturating_mul(cost);
    n <= UNROLL_TRIPS && budget <= UNROLL_TOKENS
}

/// The names assigned in `tokens` (`x = ..`, `x += ..`, `x[i] = ..`, `x.set_column(..)`).
fn assigned_names(node: &impl Fn(&mut Assigned)) -> Vec<String> {
    let mut assigned = Assigned(Vec::new());
    node(&mut assigned);
    assigned.0
}

struct Assigned(Vec<String>);

impl Assigned {
    fn target(&mut self, expr: &Expr) {
        match expr {
            Expr::Path(p) => {
                if let Some(ident) = p.path.get_ident() {
                    self.0.push(ident.to_string());
                }
            }
            Expr::Index(i) => self.target(&i.expr),
            Expr::Paren(p) => self.target(&p.expr),
            Expr::Field(f) => self.target(&f.base),
            Expr::MethodCall(m) => self.target(&m.receiver),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for Assigned {
    fn visit_expr_assign(&mut self, assign: &'ast syn::ExprAssign) {
        self.target(&assign.left);
        syn::visit::visit_expr_assign(self, assign);
    }

    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        if compound_assignment(&binary.op).is_some() {
            self.target(&binary.left);
        }
        syn::visit::visit_expr_binary(self, binary);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if is_update_method(call) {
            self.target(&call.receiver);
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    // A closure's assignments are to its own variables.
    fn visit_expr_closure(&mut self, _: &'ast ExprClosure) {}
}

/// How many tokens `tokens` has: a measure of a body's size, for the unrolling decision.
fn token_count(tokens: proc_macro2::TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|tree| match tree {
            proc_macro2::TokenTree::Group(group) => 1 + token_count(group.stream()),
            _ => 1,
        })
        .sum()
}

/// How a reduction combines its accumulator with an item.
enum Combine {
    Add,
    Mul,
    Closure(Rc<ExprClosure>),
    /// `f64::max`, `f64::min`, `f64::hypot` (a norm without overflow).
    Method(proc_macro2::Ident),
}

impl Lowerer<'_> {
    // -----------------------------------------------------------------------------------------
    // Branches.

    pub(super) fn lower_if(&mut self, branch: &syn::ExprIf) -> Option<Val> {
        if let Expr::Let(guard) = &*branch.cond {
            self.cx.error_spanned_by(
                guard,
                "`if let` is not supported; matdiff's conditions compare scalars or integers",
            );
            return None;
        }
        let cond = self.value(&branch.cond, None)?;
        let mut names = assigned_names(&|v: &mut Assigned| v.visit_block(&branch.then_branch));
        if let Some((_, other)) = &branch.else_branch {
            names.extend(assigned_names(&|v: &mut Assigned| v.visit_expr(other)));
        }
        let names = self.visible(names);
        let then_branch = |this: &mut Self| this.lower_block(&branch.then_branch);
        let else_branch = |this: &mut Self| match &branch.else_branch {
            Some((_, other)) => this.value(other, None),
            None => Some(Val::Unit),
        };
        self.branch(&cond, branch.cond.span(), &names, then_branch, else_branch)
    }

    /// `if c { ..; return a; } rest`: the rest of the function is the `else` branch.
    pub(super) fn lower_early_return(
        &mut self,
        branch: &syn::ExprIf,
        rest: &[syn::Stmt],
        close: Span,
    ) -> Option<Val> {
        // Only the function's own statements reach here (`lower_stmts` with `returns`), never
        // a loop's.
        let cond = self.value(&branch.cond, None)?;
        let then_branch = |this: &mut Self| {
            this.with_scope(|this| this.lower_stmts(&branch.then_branch.stmts, close, true))
        };
        let else_branch = |this: &mut Self| match &branch.else_branch {
            None => this.lower_stmts(rest, close, true),
            Some((_, other)) => match &**other {
                Expr::If(inner) if returns_early(inner) => {
                    this.lower_early_return(inner, rest, close)
                }
                Expr::Block(block) => {
                    let mut stmts = block.block.stmts.clone();
                    stmts.extend(rest.iter().cloned());
                    this.with_scope(|this| this.lower_stmts(&stmts, close, true))
                }
                other => {
                    this.value(other, None)?;
                    this.lower_stmts(rest, close, true)
                }
            },
        };
        // Both sides end the function: no variable outlives the branch.
        self.branch(&cond, branch.cond.span(), &[], then_branch, else_branch)
    }

    /// `for .. { ..; if c { return a; } .. } rest`, `if c { if d { return a; } .. } rest`:
    /// the statement records whether and what it returned (`syntax::guard_expr`), and the
    /// rest of the function is the branch where it did not.
    pub(super) fn lower_guarded_return(
        &mut self,
        statement: &Expr,
        rest: &[syn::Stmt],
        close: Span,
    ) -> Option<Val> {
        let span = statement.span();
        let zero = self.g().lit(0.0, span);
        let zero = self.val(zero);
        self.bind(RETURNED.to_owned(), Some(Val::Bool(false)), true);
        self.bind(RETURN_VALUE.to_owned(), Some(zero), true);
        if !self.lower_statement(&guard_expr(statement)) {
            return None;
        }
        let returned = self.lookup(RETURNED).and_then(|b| b.val.clone())?;
        let value = self.lookup(RETURN_VALUE).and_then(|b| b.val.clone())?;
        self.branch(
            &returned,
            span,
            &[],
            |_| Some(value),
            |this| this.lower_stmts(rest, close, true),
        )
    }

    /// `match` on an integer: literal patterns, ranges, `|`, `_` and a name.
    pub(super) fn lower_match(&mut self, m: &syn::ExprMatch) -> Option<Val> {
        let scrutinee = self.value(&m.expr, None)?;
        if self.int_of(&scrutinee, m.expr.span()).is_none() {
            self.cx.error_spanned_by(
                &m.expr,
                "`match` is supported on integers; use `if` to compare floats",
            );
            return None;
        }
        let names = self.visible(
            m.arms
                .iter()
                .flat_map(|arm| assigned_names(&|v: &mut Assigned| v.visit_expr(&arm.body)))
                .collect(),
        );
        self.match_arms(&scrutinee, &m.arms, &names, m)
    }

    fn match_arms(
        &mut self,
        scrutinee: &Val,
        arms: &[syn::Arm],
        names: &[String],
        m: &syn::ExprMatch,
    ) -> Option<Val> {
        let Some((arm, rest)) = arms.split_first() else {
            self.cx.error_spanned_by(
                m,
                "this `match` does not cover every integer; end it with a `_ => ..` arm",
            );
            return None;
        };
        if let Some((_, guard)) = &arm.guard {
            self.cx.error_spanned_by(
                guard,
                "match guards are not supported; use `if` inside the arm",
            );
            return None;
        }
        let span = arm.pat.span();
        let cond = self.pattern_condition(scrutinee, &arm.pat)?;
        let body = |this: &mut Self| {
            this.with_scope(|this| {
                if let syn::Pat::Ident(p) = &arm.pat {
                    this.bind(p.ident.to_string(), Some(scrutinee.clone()), false);
                }
                this.value(&arm.body, None)
            })
        };
        let others = |this: &mut Self| this.match_arms(scrutinee, rest, names, m);
        self.branch(&cond, span, names, body, others)
    }

    /// Whether `scrutinee` matches `pat`.
    fn pattern_condition(&mut self, scrutinee: &Val, pat: &syn::Pat) -> Option<Val> {
        let span = pat.span();
        let compare = |this: &mut Self, op: syn::BinOp, bound: i64| {
            let binary = syn::ExprBinary {
                attrs: Vec::new(),
                left: Box::new(syn::parse_quote_spanned!(span=> __matdiff_scrutinee)),
                op,
                right: Box::new(syn::parse_quote_spanned!(span=> #bound)),
            };
            this.with_scope(|this| {
                this.bind(
                    "__matdiff_scrutinee".to_owned(),
                    Some(scrutinee.clone()),
                    false,
                );
                this.value(&Expr::Binary(binary), None)
            })
        };
        match pat {
            syn::Pat::Wild(_) | syn::Pat::Ident(_) => Some(Val::Bool(true)),
            syn::Pat::Lit(lit) => {
                let Some(n) = integer_literal(&Expr::Lit(lit.clone())) else {
                    self.cx
                        .error_spanned_by(lit, "`match` patterns must be integer literals");
                    return None;
                };
                compare(self, syn::BinOp::Eq(Default::default()), n)
            }
            syn::Pat::Range(range) => {
                let bound = |e: &Option<Box<Expr>>| e.as_deref().and_then(integer_literal);
                let (low, high) = (bound(&range.start), bound(&range.end));
                let inclusive = matches!(range.limits, syn::RangeLimits::Closed(_));
                let above = match low {
                    Some(low) => compare(self, syn::BinOp::Ge(Default::default()), low)?,
                    None => Val::Bool(true),
                };
                let high_op = if inclusive {
                    syn::BinOp::Le(Default::default())
                } else {
                    syn::BinOp::Lt(Default::default())
                };
                let below = |this: &mut Self| match high {
                    Some(high) => compare(this, high_op, high),
                    None => Some(Val::Bool(true)),
                };
                self.short_circuit(&above, below, false, span)
            }
            syn::Pat::Or(or) => {
                let mut cond = Val::Bool(false);
                for case in &or.cases {
                    let next = self.pattern_condition(scrutinee, case)?;
                    cond = self.short_circuit(&cond, |_| Some(next.clone()), true, span)?;
                }
                Some(cond)
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    "unsupported `match` pattern; use integer literals, ranges such as \
                     `1..=3`, `|` and `_`",
                );
                None
            }
        }
    }

    /// `a && b` and `a || b`: `b` is evaluated only when it decides the result.
    pub(super) fn lower_logic(&mut self, binary: &syn::ExprBinary) -> Option<Val> {
        let span = binary.span();
        let left = self.value(&binary.left, None)?;
        let right = |this: &mut Self| this.value(&binary.right, None);
        match binary.op {
            syn::BinOp::And(_) => self.short_circuit(&left, right, false, span),
            _ => self.short_circuit(&left, right, true, span),
        }
    }

    /// `left && right` (`decides` false) or `left || right` (`decides` true): when `left`
    /// equals `decides` it is the result and `right` is not evaluated.
    fn short_circuit(
        &mut self,
        left: &Val,
        right: impl FnOnce(&mut Self) -> Option<Val>,
        decides: bool,
        span: Span,
    ) -> Option<Val> {
        let decided = |_: &mut Self| Some(Val::Bool(decides));
        match left {
            Val::Bool(b) if *b == decides => Some(Val::Bool(decides)),
            Val::Bool(_) => right(self),
            _ if decides => self.branch(left, span, &[], decided, right),
            _ => self.branch(left, span, &[], right, decided),
        }
    }

    /// `if cond { then } else { other }`, where `names` are the variables either side may
    /// assign. A condition known here lowers only its side; one known at run time becomes an
    /// `Op::Cond`.
    fn branch(
        &mut self,
        cond: &Val,
        span: Span,
        names: &[String],
        then_branch: impl FnOnce(&mut Self) -> Option<Val>,
        else_branch: impl FnOnce(&mut Self) -> Option<Val>,
    ) -> Option<Val> {
        match cond {
            Val::Bool(true) => return then_branch(self),
            Val::Bool(false) => return else_branch(self),
            _ => {}
        }
        let cond = self.condition_node(cond, span)?;
        let initial: Vec<Option<Val>> = names
            .iter()
            .map(|name| self.lookup(name).and_then(|b| b.val.clone()))
            .collect();
        let (then_side, then_region, captures) = self.in_frame(Vec::new(), &[], |this| {
            this.branch_side(names, &initial, span, then_branch)
        });
        let (else_side, else_region, captures) = self.in_frame(Vec::new(), &captures, |this| {
            this.branch_side(names, &initial, span, else_branch)
        });
        let (Some(then_side), Some(else_side)) = (then_side, else_side) else {
            for name in names {
                self.rebind(name, None);
            }
            return None;
        };
        self.join_branches(
            cond,
            span,
            names,
            (then_side, then_region),
            (else_side, else_region),
            &captures,
        )
    }

    /// One side of a branch, in its own frame: its value's shape and nodes, and the final
    /// node of each of `names` (`None` where it is still unassigned).
    fn branch_side(
        &mut self,
        names: &[String],
        initial: &[Option<Val>],
        span: Span,
        side: impl FnOnce(&mut Self) -> Option<Val>,
    ) -> (Option<Side>, Vec<Id>) {
        let (value, finals) = self.with_shadowed(names, initial.to_vec(), |this| side(this));
        let Some(value) = value else {
            return (None, Vec::new());
        };
        let mut outputs = Vec::new();
        let Some(shape) = self.flatten(&value, span, &mut outputs) else {
            return (None, Vec::new());
        };
        let mut assigned = Vec::new();
        for fin in finals {
            assigned.push(match fin {
                Some(Val::Uninit) | None => None,
                Some(v) => match self.node_of(&v, span, "a branch's variable") {
                    Some(id) => Some(id),
                    None => return (None, Vec::new()),
                },
            });
        }
        let side = Side {
            shape,
            values: outputs.clone(),
            assigned,
        };
        (Some(side), outputs)
    }

    /// Builds the `Op::Cond` of two lowered sides, and gives `names` their values after it.
    fn join_branches(
        &mut self,
        cond: Id,
        span: Span,
        names: &[String],
        (then_side, mut then_region): (Side, Region),
        (else_side, mut else_region): (Side, Region),
        captures: &[Id],
    ) -> Option<Val> {
        if then_side.shape != else_side.shape {
            self.cx.error_at(
                span,
                "the two branches give values of different kinds (a tuple and a single value, \
                 or a value and none)",
            );
            return None;
        }
        // Variables assigned on both sides (or already assigned before) leave the branch.
        let kept: Vec<usize> = (0..names.len())
            .filter(|&j| then_side.assigned[j].is_some() && else_side.assigned[j].is_some())
            .collect();
        let mut then_outputs = then_side.values.clone();
        let mut else_outputs = else_side.values.clone();
        then_outputs.extend(kept.iter().map(|&j| then_side.assigned[j].expect("kept")));
        else_outputs.extend(kept.iter().map(|&j| else_side.assigned[j].expect("kept")));
        let mut items = Vec::new();
        for (&a, &b) in then_outputs.iter().zip(&else_outputs) {
            let (ta, tb) = (
                then_region.graph.ty(a).clone(),
                else_region.graph.ty(b).clone(),
            );
            if ta != tb {
                self.cx.error_at(
                    span,
                    format!(
                        "the branches disagree: one gives a {}, the other a {}",
                        ta.describe(),
                        tb.describe()
                    ),
                );
                return None;
            }
            items.push(ta);
        }
        then_region.outputs = then_outputs;
        else_region.outputs = else_outputs;
        // The sides share one list of captured values; the `then` side saw a prefix of it.
        then_region.params.clone_from(&else_region.params);
        let spec = CondSpec {
            then_region: self.g().add_region(then_region),
            else_region: self.g().add_region(else_region),
        };
        let mut args = vec![cond];
        args.extend_from_slice(captures);
        let node = self
            .g()
            .add_typed(Op::Cond(spec), &args, Ty::Tuple(items), span);
        let fields: Vec<Id> = (0..then_side.values.len() + kept.len())
            .map(|k| self.g().add(Op::Field(k), &[node], span))
            .collect();
        let mut next = fields.iter().copied();
        let value = self.unflatten(&then_side.shape, &mut next);
        for &j in &kept {
            let field = next.next().expect("a field per kept variable");
            let val = self.val(field);
            self.rebind(&names[j], Some(val));
        }
        Some(value)
    }

    /// The nodes of a value, in order, and its structure.
    fn flatten(&mut self, value: &Val, span: Span, out: &mut Vec<Id>) -> Option<Shape> {
        match value {
            Val::Unit => Some(Shape::Unit),
            Val::Tuple(parts) => {
                let shapes: Option<Vec<Shape>> =
                    parts.iter().map(|p| self.flatten(p, span, out)).collect();
                shapes.map(Shape::Tuple)
            }
            other => {
                out.push(self.node_of(other, span, "a branch's value")?);
                Some(Shape::Leaf)
            }
        }
    }

    fn unflatten(&self, shape: &Shape, fields: &mut impl Iterator<Item = Id>) -> Val {
        match shape {
            Shape::Unit => Val::Unit,
            Shape::Leaf => self.val(fields.next().expect("a field per leaf")),
            Shape::Tuple(parts) => {
                Val::Tuple(parts.iter().map(|p| self.unflatten(p, fields)).collect())
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Loops.

    pub(super) fn lower_for(&mut self, for_loop: &syn::ExprForLoop) -> Option<Val> {
        if let Some(label) = &for_loop.label {
            self.cx.error_spanned_by(
                label,
                "loop labels are not supported; `break` is not either",
            );
            return None;
        }
        let iterable = self.value(&for_loop.expr, None)?;
        let iter = self.as_iter(iterable, &for_loop.expr)?;
        let names = self.visible(assigned_names(&|v: &mut Assigned| {
            v.visit_block(&for_loop.body);
        }));
        let cost = token_count(for_loop.body.to_token_stream()) + self.iter_cost(&iter);
        let close = for_loop.body.brace_token.span.close();
        let body = |this: &mut Self, k: Val| {
            let item = this.item(&iter, &k, for_loop.expr.span())?;
            this.bind_pattern(&for_loop.pat, Some(item), false);
            this.lower_stmts(&for_loop.body.stmts, close, false)
                .map(|_| ())
        };
        self.run_loop(&iter.trip, 0, &names, cost, for_loop.span(), body)?;
        Some(Val::Unit)
    }

    /// Runs `body` for `k` in `first..trip`, with `names` the variables it assigns: unrolled
    /// when short, else as an `Op::Loop` whose body is lowered once.
    fn run_loop(
        &mut self,
        trip: &SymInt,
        first: i64,
        names: &[String],
        cost: usize,
        span: Span,
        mut body: impl FnMut(&mut Self, Val) -> Option<()>,
    ) -> Option<()> {
        let iterations = sym_sub(trip.clone(), SymInt::Lit(first));
        if let SymInt::Lit(n) = iterations {
            if unrolls(n, cost) {
                self.in_loop += 1;
                let mut ok = Some(());
                for k in first..first + n.max(0) {
                    // One error is enough: the same body would repeat it each iteration.
                    ok = self.with_scope(|this| body(this, Val::Int(k)));
                    if ok.is_none() {
                        break;
                    }
                }
                self.in_loop -= 1;
                return ok;
            }
        }
        self.loop_region(&iterations, first, names, span, body)
    }

    fn loop_region(
        &mut self,
        trip: &SymInt,
        first: i64,
        names: &[String],
        span: Span,
        mut body: impl FnMut(&mut Self, Val) -> Option<()>,
    ) -> Option<()> {
        if tape_capacity(trip).is_none() {
            self.cx.error_at(
                span,
                "this loop's trip count cannot be the length of a stack array in Rust \
                 (`N + 1` is not allowed there); loop to a literal or a const generic `N`, or \
                 to `N - k`",
            );
            return None;
        }
        let mut inits = Vec::new();
        let mut tys = vec![Ty::Int, Ty::Int];
        for name in names {
            let val = self.lookup(name).and_then(|b| b.val.clone())?;
            if matches!(val, Val::Uninit) {
                self.cx.error_at(
                    span,
                    format!("`{name}` is assigned in this loop before it has a value; give it one before the loop"),
                );
                return None;
            }
            let id = self.node_of(&val, span, "a loop variable")?;
            tys.push(self.graph().ty(id).clone());
            inits.push(id);
        }
        let n = names.len();
        let (ok, region, captures) = self.in_frame(tys.clone(), &[], |this| {
            let k = this.param(1, span);
            let k = this.val(k);
            let index = this.int_arith(IntOp::Add, &k, &Val::Int(first), span);
            let initial: Vec<Option<Val>> = (0..n)
                .map(|j| {
                    let p = this.param(2 + j, span);
                    Some(this.val(p))
                })
                .collect();
            this.in_loop += 1;
            let (ok, finals) = this.with_shadowed(names, initial, |this| {
                this.with_scope(|this| body(this, index?))
            });
            this.in_loop -= 1;
            let mut outputs = Vec::new();
            for (j, fin) in finals.into_iter().enumerate() {
                let Some(out) = fin.and_then(|v| this.node_of(&v, span, "a loop variable")) else {
                    return (None, Vec::new());
                };
                let found = this.graph().ty(out).clone();
                if found != tys[2 + j] {
                    // Assignments keep a variable's type (`check_same_type`).
                    this.cx.error_at(
                        span,
                        format!(
                            "matdiff internal error, please report it: `{}` is a {} before \
                             the loop and a {} after an iteration",
                            names[j],
                            tys[2 + j].describe(),
                            found.describe()
                        ),
                    );
                    return (None, Vec::new());
                }
                outputs.push(out);
            }
            (ok, outputs)
        });
        if ok.is_none() {
            for name in names {
                self.rebind(name, None);
            }
            return None;
        }
        let mut args = inits;
        args.extend(captures);
        let spec = LoopSpec {
            region: self.g().add_region(region),
            start: SymInt::Lit(0),
            step: 1,
            trip: trip.clone(),
            n_carries: n,
            backward: false,
            tape: Vec::new(),
        };
        let node = self
            .g()
            .add_typed(Op::Loop(spec), &args, Ty::Tuple(tys[2..].to_vec()), span);
        for (j, name) in names.iter().enumerate() {
            let field = self.g().add(Op::Field(j), &[node], span);
            let val = self.val(field);
            self.rebind(name, Some(val));
        }
        Some(())
    }

    // -----------------------------------------------------------------------------------------
    // Iterators.

    /// `a..b`, `a..=b`.
    pub(super) fn lower_range(&mut self, range: &syn::ExprRange) -> Option<Val> {
        let span = range.span();
        let (Some(start), Some(end)) = (&range.start, &range.end) else {
            self.cx.error_spanned_by(
                range,
                "a range needs both ends known at compile time, as in `0..N`",
            );
            return None;
        };
        let start = self.value(start, None)?;
        let end = self.value(end, None)?;
        let (Some(Ok(a)), Some(Ok(b))) = (self.int_of(&start, span), self.int_of(&end, span))
        else {
            self.cx.error_spanned_by(
                range,
                "a loop's bounds must be known at compile time: literals, const generics, \
                 sizes such as `x.len()` and integer arithmetic on them, not a run-time value \
                 such as a `usize` parameter",
            );
            return None;
        };
        let mut trip = sym_sub(b, a);
        if matches!(range.limits, syn::RangeLimits::Closed(_)) {
            trip = match trip {
                SymInt::Lit(n) => SymInt::Lit(n + 1),
                other => sym_arith(IntOp::Add, other, SymInt::Lit(1)),
            };
        }
        if let SymInt::Lit(n) = trip {
            trip = SymInt::Lit(n.max(0));
        }
        let source = Source::Range { start, step: 1 };
        Some(Val::Iter(Rc::new(Iter { source, trip })))
    }

    /// What `for` and `.zip()` iterate over: an iterator, or a matrix (`for t in &x`).
    fn as_iter(&mut self, value: Val, expr: &Expr) -> Option<Rc<Iter>> {
        if let Val::Iter(iter) = value {
            return Some(iter);
        }
        let m = self.float_node(&value, expr)?;
        match self.graph().ty(m).clone() {
            Ty::Mat(rows, cols) => Some(Rc::new(Iter::elements(self.val(m), rows, cols))),
            _ => {
                self.cx.error_spanned_by(
                    expr,
                    "expected something to iterate over: a range such as `0..N`, `x.iter()` or \
                     a matrix",
                );
                None
            }
        }
    }

    /// The tokens of the closures in an iterator chain, for the unrolling decision.
    fn iter_cost(&self, iter: &Iter) -> usize {
        match &iter.source {
            Source::Range { .. } | Source::Elements { .. } | Source::ConstantArray(_) => 1,
            Source::Zip(a, b) => self.iter_cost(a) + self.iter_cost(b),
            Source::Enumerate(a) | Source::Skip(a, _) | Source::StepBy(a, _) | Source::Rev(a) => {
                self.iter_cost(a)
            }
            Source::Map(a, f) => self.iter_cost(a) + token_count(f.body.to_token_stream()),
        }
    }

    /// Item `k` of `iter`.
    fn item(&mut self, iter: &Iter, k: &Val, span: Span) -> Option<Val> {
        match &iter.source {
            Source::Range { start, step } => {
                let offset = self.int_arith(IntOp::Mul, &Val::Int(*step), k, span)?;
                self.int_arith(IntOp::Add, start, &offset, span)
            }
            Source::Elements { matrix, rows, cols } => {
                let m = self.node_of(matrix, span, "a matrix")?;
                let (i, j) = self.linear_position(k, rows, cols, span)?;
                self.entry(m, &i, &j, span)
            }
            Source::ConstantArray(name) => {
                let k = self.int_node(k, span)?;
                let id = self.g().add(Op::ConstAt(name.clone()), &[k], span);
                Some(self.val(id))
            }
            Source::Zip(a, b) => {
                let x = self.item(a, k, span)?;
                let y = self.item(b, k, span)?;
                Some(Val::Tuple(vec![x, y]))
            }
            Source::Enumerate(a) => {
                let x = self.item(a, k, span)?;
                Some(Val::Tuple(vec![k.clone(), x]))
            }
            Source::Map(a, f) => {
                let x = self.item(a, k, span)?;
                self.call_closure(f, vec![x], span)
            }
            Source::Skip(a, n) => {
                let k = self.int_arith(IntOp::Add, k, n, span)?;
                self.item(a, &k, span)
            }
            Source::StepBy(a, s) => {
                let k = self.int_arith(IntOp::Mul, k, &Val::Int(*s), span)?;
                self.item(a, &k, span)
            }
            Source::Rev(a) => {
                let last = Val::int(sym_sub(a.trip.clone(), SymInt::Lit(1)));
                let k = self.int_arith(IntOp::Sub, &last, k, span)?;
                self.item(a, &k, span)
            }
        }
    }

    /// `m[(i, j)]`: static when both are literals.
    fn entry(&mut self, m: Id, i: &Val, j: &Val, span: Span) -> Option<Val> {
        let id = match (i, j) {
            (Val::Int(i), Val::Int(j)) => {
                let (i, j) = (usize::try_from(*i).ok()?, usize::try_from(*j).ok()?);
                self.g().try_add(Op::Index(i, j), &[m], span)
            }
            _ => {
                let (i, j) = (self.int_node(i, span)?, self.int_node(j, span)?);
                self.g().try_add(Op::At, &[m, i, j], span)
            }
        };
        let id = id.map_err(|message| self.cx.error_at(span, message)).ok()?;
        Some(self.val(id))
    }

    /// A method of an iterator, its arity checked: an adapter (a new lazy iterator) or a
    /// consumer (a loop).
    pub(super) fn iterator_method(
        &mut self,
        call: &syn::ExprMethodCall,
        iter: &Rc<Iter>,
        method: &IteratorMethod,
    ) -> Option<Val> {
        let span = call.span();
        let args: Vec<&Expr> = call.args.iter().collect();
        let adapted =
            |source: Source, trip: SymInt| Some(Val::Iter(Rc::new(Iter { source, trip })));
        match method {
            IteratorMethod::Same => Some(Val::Iter(iter.clone())),
            IteratorMethod::Zip => {
                let other = self.value(args[0], None)?;
                let other = self.as_iter(other, args[0])?;
                let trip = sym_min(iter.trip.clone(), other.trip.clone());
                adapted(Source::Zip(iter.clone(), other), trip)
            }
            IteratorMethod::Enumerate => {
                adapted(Source::Enumerate(iter.clone()), iter.trip.clone())
            }
            IteratorMethod::Map => {
                // `.map(|k| ..)`, or `.map(residual)` of a closure bound with `let` (the form
                // clippy asks for).
                let closure = match args[0] {
                    Expr::Closure(closure) => Some(Rc::new(closure.clone())),
                    Expr::Path(path) => path
                        .path
                        .get_ident()
                        .and_then(|ident| self.lookup(&ident.to_string()))
                        .and_then(|binding| match &binding.val {
                            Some(Val::Closure(closure)) => Some(closure.clone()),
                            _ => None,
                        }),
                    _ => None,
                };
                let Some(closure) = closure else {
                    self.unknown_method(call, Receiver::Iterator, "an iterator");
                    return None;
                };
                let source = Source::Map(iter.clone(), closure);
                adapted(source, iter.trip.clone())
            }
            IteratorMethod::Rev => adapted(Source::Rev(iter.clone()), iter.trip.clone()),
            IteratorMethod::Skip | IteratorMethod::Take => {
                let n_val = self.value(args[0], None)?;
                let Some(Ok(count)) = self.int_of(&n_val, span) else {
                    self.static_count(call);
                    return None;
                };
                if matches!(method, IteratorMethod::Take) {
                    let trip = sym_min(iter.trip.clone(), count);
                    return adapted(Source::Skip(iter.clone(), Val::Int(0)), trip);
                }
                let trip = match sym_sub(iter.trip.clone(), count) {
                    SymInt::Lit(n) => SymInt::Lit(n.max(0)),
                    other => other,
                };
                adapted(Source::Skip(iter.clone(), n_val), trip)
            }
            IteratorMethod::StepBy => {
                let Some(step) = integer_literal(args[0]).filter(|&s| s > 0) else {
                    self.static_count(call);
                    return None;
                };
                let trip = match &iter.trip {
                    SymInt::Lit(n) => SymInt::Lit((n + step - 1) / step),
                    other => sym_arith(
                        IntOp::Div,
                        sym_arith(IntOp::Add, other.clone(), SymInt::Lit(step - 1)),
                        SymInt::Lit(step),
                    ),
                };
                adapted(Source::StepBy(iter.clone(), step), trip)
            }
            IteratorMethod::Count => Some(Val::int(iter.trip.clone())),
            IteratorMethod::Sum => self.reduce(iter, None, &Combine::Add, span),
            IteratorMethod::Product => self.reduce(iter, None, &Combine::Mul, span),
            IteratorMethod::Fold => {
                let (init, f) = (args[0], args[1]);
                let init = self.value(init, None)?;
                let combine = match f {
                    Expr::Closure(closure) => Combine::Closure(Rc::new(closure.clone())),
                    Expr::Path(path) => match path.path.segments.last() {
                        Some(last)
                            if matches!(
                                last.ident.to_string().as_str(),
                                "max" | "min" | "hypot"
                            ) =>
                        {
                            Combine::Method(last.ident.clone())
                        }
                        _ => {
                            self.cx.error_spanned_by(
                                f,
                                "`.fold()` takes a closure `|acc, t| ..`, or `f64::max`, \
                                 `f64::min` or `f64::hypot`",
                            );
                            return None;
                        }
                    },
                    other => {
                        self.cx
                            .error_spanned_by(other, "`.fold()` takes a closure `|acc, t| ..`");
                        return None;
                    }
                };
                self.reduce(iter, Some(init), &combine, span)
            }
        }
    }

    fn static_count(&self, call: &syn::ExprMethodCall) {
        self.cx.error_spanned_by(
            call,
            format!(
                "`.{}()` needs a count known at compile time: a literal, a const generic or a \
                 size such as `x.len()`",
                call.method
            ),
        );
    }

    /// `fold` and its special cases: the accumulator is a variable the loop carries.
    fn reduce(
        &mut self,
        iter: &Rc<Iter>,
        init: Option<Val>,
        combine: &Combine,
        span: Span,
    ) -> Option<Val> {
        // A sum or product starts from its first item when the length is a literal (so a sum
        // of vectors needs no zero of the right shape), and from 0 or 1 otherwise.
        let (init, first) = match (init, &iter.trip) {
            (Some(init), _) => (init, 0),
            (None, SymInt::Lit(n)) if *n >= 1 => (self.item(iter, &Val::Int(0), span)?, 1),
            (None, _) => {
                let unit = if matches!(combine, Combine::Mul) {
                    1.0
                } else {
                    0.0
                };
                let id = self.g().lit(unit, span);
                (self.val(id), 0)
            }
        };
        let name = format!(" accumulator {}", self.next_frame);
        let cost = self.iter_cost(iter)
            + match combine {
                Combine::Closure(f) => token_count(f.body.to_token_stream()),
                _ => 2,
            };
        self.with_scope(|this| {
            this.bind(name.clone(), Some(init), true);
            let names = vec![name.clone()];
            let body = |this: &mut Self, k: Val| {
                let item = this.item(iter, &k, span)?;
                let acc = this.lookup(&name).and_then(|b| b.val.clone())?;
                let next = this.combine(combine, acc, item, span)?;
                this.rebind(&name, Some(next));
                Some(())
            };
            this.run_loop(&iter.trip, first, &names, cost, span, body)?;
            this.lookup(&name).and_then(|b| b.val.clone())
        })
    }

    /// `a.zip_map(&b, |x, y| ..)`: a loop over the entries that writes the closure of each
    /// pair into a copy of `a`, so the closure is lowered in place (it may read any value in
    /// scope, as an iterator's closure) and differentiated through.
    pub(super) fn lower_zip_map(&mut self, call: &syn::ExprMethodCall, a: Id) -> Option<Id> {
        if !self.expect_args(call, 2) {
            return None;
        }
        let span = call.span();
        let b = self.lower_expr(&call.args[0], None)?;
        let closure = match &call.args[1] {
            Expr::Closure(closure) if closure.inputs.len() == 2 => Rc::new(closure.clone()),
            other => {
                self.cx.error_spanned_by(
                    other,
                    "`.zip_map()` needs a closure of the two entries, such as `|x, y| x * y`",
                );
                return None;
            }
        };
        let (ta, tb) = (self.graph().ty(a).clone(), self.graph().ty(b).clone());
        if ta != tb {
            self.cx.error_spanned_by(
                call,
                format!(
                    "dimension mismatch in `.zip_map()`: left is {}, right is {}",
                    ta.describe(),
                    tb.describe()
                ),
            );
            return None;
        }
        let cost = token_count(closure.body.to_token_stream()) + 4;
        let (a, b) = (self.val(a), self.val(b));
        let body = closure.body.clone();
        self.entrywise(&a, ("zip_map", &body), cost, span, |this, i, j| {
            let x = this.node_of(&a, span, "a matrix")?;
            let x = this.entry(x, i, j, span)?;
            let y = this.node_of(&b, span, "a matrix")?;
            let y = this.entry(y, i, j, span)?;
            this.call_closure(&closure, vec![x, y], span)
        })
    }

    /// `m.map(|t| ..)` whose closure reads values of the code around it: written as the loop
    /// over the entries a person would write, `out[k] = f(m[k])`, so a value it reads is
    /// differentiated through like any other.
    pub(super) fn map_reading_outer_values(
        &mut self,
        matrix: Id,
        closure: &ExprClosure,
        span: Span,
    ) -> Option<Id> {
        let cost = token_count(closure.body.to_token_stream()) + 4;
        let m = self.val(matrix);
        self.entrywise(&m, ("map", &closure.body), cost, span, |this, i, j| {
            // In a kept loop, the matrix is a value captured from the frame around it.
            let x = this.node_of(&m, span, "a matrix")?;
            let t = this.entry(x, i, j, span)?;
            this.call_closure(closure, vec![t], span)
        })
    }

    /// `m.apply(|t| *t = ..)` on a `let mut` matrix (or `*t += ..`, `-=`, `*=`, `/=`): the
    /// functional update `m = m.map(..)`, as a loop over the entries with `t` bound to the
    /// entry, so the right side may read any value in scope.
    pub(super) fn lower_apply(&mut self, call: &syn::ExprMethodCall) -> Option<Val> {
        const SHAPE: &str = "`.apply()` needs a closure that assigns the entry, such as \
                             `|t| *t = t.tanh()` or `|t| *t *= 2.0`";
        let span = call.span();
        let Expr::Path(target) = &*call.receiver else {
            self.cx.error_spanned_by(
                &call.receiver,
                "`.apply()` is supported on a `let mut` matrix",
            );
            return None;
        };
        let Some(ident) = target.path.get_ident() else {
            self.cx.error_spanned_by(
                &call.receiver,
                "`.apply()` is supported on a `let mut` matrix",
            );
            return None;
        };
        self.check_mutable(ident)?;
        if !self.expect_args(call, 1) {
            return None;
        }
        let Some((entry, right)) = apply_closure(&call.args[0]) else {
            self.cx.error_spanned_by(&call.args[0], SHAPE);
            return None;
        };
        let m = self.value(&call.receiver, None)?;
        let id = self.node_of(&m, span, "a matrix")?;
        if !matches!(self.graph().ty(id), Ty::Mat(..)) {
            self.cx.error_spanned_by(
                &call.receiver,
                "`.apply()` is supported on a `let mut` matrix",
            );
            return None;
        }
        let cost = token_count(right.to_token_stream()) + 4;
        let entry_name = entry.to_string();
        let updated = self.entrywise(&m, ("apply", &right), cost, span, |this, i, j| {
            let current = this.node_of(&m, span, "a matrix")?;
            let t = this.entry(current, i, j, span)?;
            this.with_scope(|this| {
                this.bind(entry_name.clone(), Some(t), false);
                this.value(&right, None)
            })
        })?;
        let updated = self.val(updated);
        self.rebind(&ident.to_string(), Some(updated));
        Some(Val::Unit)
    }

    /// A copy of the matrix `init` with entry `(i, j)` replaced by `value_at(i, j)`, for each
    /// entry in column-major order: a loop carrying the matrix (unrolled when short, as any
    /// loop), whose entry updates have the rules of `SetAt`. `what` names the method and the
    /// expression that gives the entry, for messages.
    fn entrywise(
        &mut self,
        init: &Val,
        (what, entry): (&str, &Expr),
        cost: usize,
        span: Span,
        mut value_at: impl FnMut(&mut Self, &Val, &Val) -> Option<Val>,
    ) -> Option<Id> {
        let id = self.node_of(init, span, "a matrix")?;
        let Ty::Mat(rows, cols) = self.graph().ty(id).clone() else {
            return None;
        };
        let trip = Iter::elements(init.clone(), rows.clone(), cols.clone()).trip;
        let name = format!(" {what} {}", self.next_frame);
        self.with_scope(|this| {
            this.bind(name.clone(), Some(init.clone()), true);
            let names = vec![name.clone()];
            let body = |this: &mut Self, k: Val| {
                let (i, j) = this.linear_position(&k, &rows, &cols, span)?;
                let value = value_at(this, &i, &j)?;
                let value = this.node_of(&value, span, "an entry")?;
                if !this.graph().ty(value).is_scalar() {
                    this.cx.error_spanned_by(
                        entry,
                        format!("the closure of `.{what}()` must give a scalar, the new entry"),
                    );
                    return None;
                }
                let current = this.lookup(&name).and_then(|b| b.val.clone())?;
                let current = this.node_of(&current, span, "a matrix")?;
                let (i, j) = (this.int_node(&i, span)?, this.int_node(&j, span)?);
                let updated = this
                    .g()
                    .try_add(Op::SetAt, &[current, value, i, j], span)
                    .map_err(|message| this.cx.error_at(span, message))
                    .ok()?;
                let updated = this.val(updated);
                this.rebind(&name, Some(updated));
                Some(())
            };
            this.run_loop(&trip, 0, &names, cost, span, body)?;
            let out = this.lookup(&name).and_then(|b| b.val.clone())?;
            this.node_of(&out, span, "a matrix")
        })
    }

    fn combine(&mut self, combine: &Combine, acc: Val, item: Val, span: Span) -> Option<Val> {
        let tokens: proc_macro2::TokenStream = quote::quote_spanned!(span=> acc);
        let (left, right): (Expr, Expr) = (
            syn::parse_quote_spanned!(span=> acc),
            syn::parse_quote_spanned!(span=> item),
        );
        match combine {
            Combine::Add => self.binary_values(Arith::Add, &acc, &item, &tokens, (&left, &right)),
            Combine::Mul => self.binary_values(Arith::Mul, &acc, &item, &tokens, (&left, &right)),
            Combine::Closure(f) => self.call_closure(f, vec![acc, item], span),
            Combine::Method(method) => {
                let a = self.float_node(&acc, &left)?;
                let b = self.float_node(&item, &right)?;
                let op = match method.to_string().as_str() {
                    "max" => Op::Max,
                    "min" => Op::Min,
                    _ => Op::Hypot,
                };
                let id = self
                    .g()
                    .try_add(op, &[a, b], span)
                    .map_err(|message| self.cx.error_at(span, message))
                    .ok()?;
                Some(self.val(id))
            }
        }
    }

    /// A closure applied to values: its parameters bound by pattern, its body lowered in
    /// place, where names resolve as in the code around it.
    pub(super) fn call_closure(
        &mut self,
        closure: &ExprClosure,
        args: Vec<Val>,
        span: Span,
    ) -> Option<Val> {
        if closure.inputs.len() != args.len() {
            self.cx.error_at(
                span,
                format!(
                    "this closure takes {} arguments but is given {}",
                    closure.inputs.len(),
                    args.len()
                ),
            );
            return None;
        }
        self.with_scope(|this| {
            for (pat, arg) in closure.inputs.iter().zip(args) {
                this.bind_pattern(pat, Some(arg), false);
            }
            this.value(&closure.body, None)
        })
    }
}

/// One lowered side of a branch.
struct Side {
    shape: Shape,
    values: Vec<Id>,
    assigned: Vec<Option<Id>>,
}

/// The structure of a branch's value.
#[derive(PartialEq)]
enum Shape {
    Unit,
    Leaf,
    Tuple(Vec<Shape>),
}

/// The entry's name and the new entry of an `.apply()` closure: `|t| *t = e` gives `e`,
/// `|t| *t += e` gives `*t + e` (`-=`, `*=`, `/=` likewise); a block of one such statement
/// too. `None` for any other closure.
fn apply_closure(arg: &Expr) -> Option<(proc_macro2::Ident, Expr)> {
    let Expr::Closure(closure) = arg else {
        return None;
    };
    let entry = match closure.inputs.iter().collect::<Vec<_>>().as_slice() {
        [syn::Pat::Ident(p)] => p.ident.clone(),
        [syn::Pat::Type(typed)] => match &*typed.pat {
            syn::Pat::Ident(p) => p.ident.clone(),
            _ => return None,
        },
        _ => return None,
    };
    let mut body = &*closure.body;
    while let Expr::Block(block) = body {
        match block.block.stmts.as_slice() {
            [syn::Stmt::Expr(inner, _)] => body = inner,
            _ => return None,
        }
    }
    let is_entry = |e: &Expr| match e {
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            expr,
            ..
        }) => matches!(&**expr, Expr::Path(p) if p.path.is_ident(&entry)),
        _ => false,
    };
    match body {
        Expr::Assign(assign) if is_entry(&assign.left) => {
            Some((entry.clone(), (*assign.right).clone()))
        }
        Expr::Binary(binary) if is_entry(&binary.left) => {
            let op = match binary.op {
                syn::BinOp::AddAssign(t) => syn::BinOp::Add(syn::Token![+](t.spans[0])),
                syn::BinOp::SubAssign(t) => syn::BinOp::Sub(syn::Token![-](t.spans[0])),
                syn::BinOp::MulAssign(t) => syn::BinOp::Mul(syn::Token![*](t.spans[0])),
                syn::BinOp::DivAssign(t) => syn::BinOp::Div(syn::Token![/](t.spans[0])),
                _ => return None,
            };
            let right = &binary.right;
            let left = &binary.left;
            Some((entry.clone(), syn::parse_quote!((#left) #op (#right))))
        }
        _ => None,
    }
}
