//! Building nodes. [`Build::add`] is how every node is made: its type from the op's shape rule
//! (`shape.rs`), then the rewrite table below, then interning in the arena (`Graph::intern`,
//! which returns an existing identical node).
//!
//! The rewrite table is algebraic simplification, applied as each node is built: a rule that
//! fires returns an equivalent node instead. Every rule makes the program smaller, folds
//! constants, or (the reassociation of products) strictly lowers its multiplication count, so
//! rewriting terminates. Together with hash-consing (common subexpressions) and the emitter's
//! liveness walk (dead code) this is the whole optimiser: symbolic zeros never reach the graph
//! at all, they are `None` in the transforms. Rules build their replacements with `Build` too,
//! which is why the table lives in this module.

use crate::ir::{Dim, Elem, Graph, Id, Ty};
use crate::ops::{Fun, IntOp, Op};
use crate::shape::shape;
use proc_macro2::Span;

/// Building simplified nodes in a [`Graph`].
pub trait Build {
    /// Builds `op(args)`, inferring its type from the op's shape rule and simplifying it with
    /// the rewrite table. Use [`Build::try_add`] where a shape error is the user's.
    fn add(&mut self, op: Op, args: &[Id], span: Span) -> Id;

    /// Like [`Build::add`], but a shape mismatch is returned as a message for the user.
    fn try_add(&mut self, op: Op, args: &[Id], span: Span) -> Result<Id, String>;

    /// Builds a node whose type is not determined by its arguments (`Identity`, `Fill`, ...).
    fn add_typed(&mut self, op: Op, args: &[Id], ty: Ty, span: Span) -> Id;

    /// A literal of the element type. In an `f32` function it is rounded to `f32` here, so
    /// that literals folded together round as the user's `f32` arithmetic does.
    fn lit(&mut self, value: f64, span: Span) -> Id;

    /// `a + b` where `None` is a symbolic zero.
    fn add_opt(&mut self, a: Option<Id>, b: Option<Id>, span: Span) -> Option<Id>;

    /// The zero of a scalar or matrix type, where a symbolic zero must become a value.
    fn zeros(&mut self, ty: &Ty, span: Span) -> Id;

    /// Copies every node of `src` into this graph, parameter `p` of `src` replaced by
    /// `params[p]`, and returns the id each node of `src` became. Closures, callees and
    /// regions that `src` refers to come along. The copies are rebuilt, so they simplify
    /// with their new arguments.
    fn import(&mut self, src: &Graph, params: &[Id]) -> Vec<Id>;
}

impl Build for Graph {
    fn add(&mut self, op: Op, args: &[Id], span: Span) -> Id {
        match self.try_add(op.clone(), args, span) {
            Ok(id) => id,
            Err(message) => {
                self.internal_errors
                    .push((span, format!("{op:?}: {message}")));
                let ty = args.first().map_or(Ty::Scalar, |&a| self.ty(a).clone());
                self.intern(op, args.to_vec(), ty, span)
            }
        }
    }

    fn try_add(&mut self, op: Op, args: &[Id], span: Span) -> Result<Id, String> {
        let tys: Vec<&Ty> = args.iter().map(|&a| self.ty(a)).collect();
        let ty = shape(&op, &tys)?;
        Ok(self.add_typed(op, args, ty, span))
    }

    fn add_typed(&mut self, op: Op, args: &[Id], ty: Ty, span: Span) -> Id {
        if let Some(id) = rewrite(self, &op, args, &ty, span) {
            return id;
        }
        self.intern(op, args.to_vec(), ty, span)
    }

    fn lit(&mut self, value: f64, span: Span) -> Id {
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

    fn add_opt(&mut self, a: Option<Id>, b: Option<Id>, span: Span) -> Option<Id> {
        match (a, b) {
            (Some(a), Some(b)) => Some(self.add(Op::Add, &[a, b], span)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    fn zeros(&mut self, ty: &Ty, span: Span) -> Id {
        let zero = self.lit(0.0, span);
        match ty {
            Ty::Scalar => zero,
            ty => self.add_typed(Op::Fill, &[zero], ty.clone(), span),
        }
    }

    fn import(&mut self, src: &Graph, params: &[Id]) -> Vec<Id> {
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
}

// ---------------------------------------------------------------------------------------------
// The rewrite table.

type Rule = fn(&mut Graph, &Op, &[Id], Span) -> Option<Id>;

/// The rewrite table: one named rule per line.
#[rustfmt::skip]
const RULES: &[(&str, Rule)] = &[
    ("fold-literals",       fold_literals),
    ("add-zero",            add_zero),
    ("sub-zero",            sub_zero),
    ("mul-one",             mul_one),
    ("mul-minus-one",       mul_minus_one),
    ("mul-literals-first",  mul_literals_first),
    ("scale-one",           scale_one),
    ("scale-minus-one",     scale_minus_one),
    ("scale-scale",         scale_scale),
    ("add-same-scaled",     add_same_scaled),
    ("scale-neg",           scale_neg),
    ("neg-neg",             neg_neg),
    ("add-neg",             add_neg),
    ("transpose-transpose", transpose_transpose),
    ("transpose-identity",  transpose_identity),
    ("matmul-identity",     matmul_identity),
    ("recip-recip",         recip_recip),
    ("powi-one",            powi_one),
    ("ln-det",              ln_det),
    ("matmul-transpose",    matmul_transpose),
    ("transpose-product",   transpose_product),
    ("trace-product",       trace_product),
    ("index-1x1-product",   index_1x1_product),
    ("index-of-entries",    index_of_entries),
    ("dot-transposes",      dot_transposes),
    ("matmul-chain-order",  matmul_chain_order),
    ("scale-out-of-product", scale_out_of_product),
    ("scale-out-of-solve",  scale_out_of_solve),
    ("solve-by-inverse",    solve_by_inverse),
    ("component-mul-ones",  component_mul_ones),
    ("add-zeros",           add_zeros),
    ("add-into-scatter",    add_into_scatter),
    ("add-embedded-entry",  add_embedded_entry),
    ("index-embedded",      index_embedded),
    ("fold-integers",       fold_integers),
    ("integer-units",       integer_units),
];

/// An existing or simpler node equal to `op(args)`, if a rule applies.
fn rewrite(g: &mut Graph, op: &Op, args: &[Id], ty: &Ty, span: Span) -> Option<Id> {
    if args.is_empty() {
        return None;
    }
    let (name, result) = RULES
        .iter()
        .find_map(|(name, rule)| rule(g, op, args, span).map(|id| (name, id)))?;
    if g.ty(result) != ty {
        // A rule that changes a type is a bug; keep the node as written and report it.
        let message = format!("rewrite `{name}` changed {ty} to {}", g.ty(result));
        g.internal_errors.push((span, message));
        return None;
    }
    Some(result)
}

/// `A[(i, j)] → a` where `A` is assembled from its entries or filled with `a`: a swizzle or
/// a `from_columns` of a vector built with `new`, and the adjoint of `.sum()` of an assembled
/// matrix read entry by entry, use the entry, not a matrix built to be read once.
fn index_of_entries(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let Op::Index(i, j) = op else {
        return None;
    };
    let node = g.node(args[0]);
    match (&node.op, &node.ty) {
        (Op::Fill, _) => Some(node.args[0]),
        (Op::Assemble, Ty::Mat(Dim::Lit(rows), _)) => node.args.get(i + j * rows).copied(),
        _ => None,
    }
}

/// `X + 0 → X`, `0 + X → X` for a matrix zero (`Fill(0)`), as adjoints of indexing build.
fn add_zeros(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let zeros = |g: &Graph, id: Id| g.op(id) == &Op::Fill && is_lit(g, g.node(id).args[0], 0.0);
    match op {
        Op::Add if zeros(g, args[1]) => Some(args[0]),
        Op::Add if zeros(g, args[0]) => Some(args[1]),
        _ => None,
    }
}

/// `X + (Y + s eᵢⱼ) → (X + Y) + s eᵢⱼ`, and the same for a block: a sum of adjoints of
/// indexing stays a chain of entry updates of one matrix, never a sum of mostly-zero ones.
fn add_into_scatter(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Add {
        return None;
    }
    let scatter = |g: &Graph, id: Id| matches!(g.op(id), Op::AddAt | Op::AddBlock);
    let (other, update) = if scatter(g, args[1]) {
        (args[0], args[1])
    } else if scatter(g, args[0]) {
        (args[1], args[0])
    } else {
        return None;
    };
    let node = g.node(update).clone();
    let base = g.add(Op::Add, &[other, node.args[0]], span);
    Some(g.add(
        node.op,
        &[base, node.args[1], node.args[2], node.args[3]],
        span,
    ))
}

/// `X + s eᵢⱼ → X` with `s` added to entry `(i, j)`: the sum of the adjoints of `x[0]`,
/// `x[1]`, .. (an unrolled loop's) is a chain of entry updates, not of matrix sums.
fn add_embedded_entry(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Add {
        return None;
    }
    let embedded = |g: &Graph, id: Id| matches!(g.op(id), Op::Embed(..));
    let (other, entry) = if embedded(g, args[1]) {
        (args[0], args[1])
    } else if embedded(g, args[0]) {
        (args[1], args[0])
    } else {
        return None;
    };
    let Op::Embed(i, j) = g.op(entry).clone() else {
        return None;
    };
    let s = g.node(entry).args[0];
    let to_int = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let i = g.add_typed(Op::Int(to_int(i)), &[], Ty::Int, span);
    let j = g.add_typed(Op::Int(to_int(j)), &[], Ty::Int, span);
    Some(g.add(Op::AddAt, &[other, s, i, j], span))
}

/// `(s eₖₗ)[(i, j)] → s` at `(k, l)`, else `0`: an entry of a unit seed (a Jacobian's column).
fn index_embedded(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    let (Op::Index(i, j), Op::Embed(k, l)) = (op, g.op(args[0]).clone()) else {
        return None;
    };
    Some(if (*i, *j) == (k, l) {
        g.node(args[0]).args[0]
    } else {
        g.lit(0.0, span)
    })
}

fn int(g: &Graph, id: Id) -> Option<i64> {
    match g.op(id) {
        Op::Int(n) => Some(*n),
        _ => None,
    }
}

/// `2 + 3 → 5` on integers.
fn fold_integers(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    let Op::IntBin(int_op) = op else {
        return None;
    };
    let (a, b) = (int(g, args[0])?, int(g, args[1])?);
    let value = match int_op {
        IntOp::Add => a.checked_add(b),
        IntOp::Sub => a.checked_sub(b),
        IntOp::Mul => a.checked_mul(b),
        IntOp::Div => a.checked_div(b),
        IntOp::Rem => a.checked_rem(b),
    }?;
    Some(g.add_typed(Op::Int(value), &[], Ty::Int, span))
}

/// `i + 0 → i`, `0 + i → i`, `i - 0 → i`, `1 * i → i`, `i * 1 → i`, `i / 1 → i`.
fn integer_units(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let Op::IntBin(int_op) = op else {
        return None;
    };
    match (int_op, int(g, args[0]), int(g, args[1])) {
        (IntOp::Add | IntOp::Sub, _, Some(0)) | (IntOp::Mul | IntOp::Div, _, Some(1)) => {
            Some(args[0])
        }
        (IntOp::Add, Some(0), _) | (IntOp::Mul, Some(1), _) => Some(args[1]),
        _ => None,
    }
}

#[cfg(test)]
pub fn rule_names() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|(name, _)| *name)
}

fn lit(g: &Graph, id: Id) -> Option<f64> {
    g.op(id).as_lit()
}

fn is_lit(g: &Graph, id: Id, value: f64) -> bool {
    lit(g, id) == Some(value)
}

/// `2 * 3 → 6`, `-(2) → -2`, ...
fn fold_literals(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    let values: Option<Vec<f64>> = args.iter().map(|&a| lit(g, a)).collect();
    let values = values?;
    let value = match (op, values.as_slice()) {
        (Op::Neg, [a]) => -a,
        (Op::Add, [a, b]) => a + b,
        (Op::Sub, [a, b]) => a - b,
        (Op::Mul, [a, b]) => a * b,
        _ => return None,
    };
    Some(g.lit(value, span))
}

/// `x + 0 → x`, `0 + x → x` (scalars; matrix zeros are symbolic and never built).
fn add_zero(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    match op {
        Op::Add if is_lit(g, args[1], 0.0) => Some(args[0]),
        Op::Add if is_lit(g, args[0], 0.0) => Some(args[1]),
        _ => None,
    }
}

/// `x - 0 → x`, `0 - x → -x`.
fn sub_zero(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    match op {
        Op::Sub if is_lit(g, args[1], 0.0) => Some(args[0]),
        Op::Sub if is_lit(g, args[0], 0.0) => Some(g.add(Op::Neg, &[args[1]], span)),
        _ => None,
    }
}

/// `1 * x → x`, `x * 1 → x`; this is what folds the reverse sweep's seed `ȳ = 1`.
fn mul_one(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    match op {
        Op::Mul if is_lit(g, args[0], 1.0) => Some(args[1]),
        Op::Mul if is_lit(g, args[1], 1.0) => Some(args[0]),
        _ => None,
    }
}

/// `-1 * x → -x`.
fn mul_minus_one(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    match op {
        Op::Mul if is_lit(g, args[0], -1.0) => Some(g.add(Op::Neg, &[args[1]], span)),
        _ => None,
    }
}

/// `x * 2 → 2 * x` and `2 * (3 * x) → 6 * x`: literals gather on the left and fold.
fn mul_literals_first(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Mul {
        return None;
    }
    if lit(g, args[1]).is_some() && lit(g, args[0]).is_none() {
        return Some(g.add(Op::Mul, &[args[1], args[0]], span));
    }
    let a = lit(g, args[0])?;
    let inner = g.node(args[1]).clone();
    match (inner.op, inner.args.as_slice()) {
        (Op::Mul, &[b, x]) if lit(g, b).is_some() => {
            let ab = g.lit(a * lit(g, b)?, span);
            Some(g.add(Op::Mul, &[ab, x], span))
        }
        _ => None,
    }
}

/// `1 · A → A`.
fn scale_one(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    (op == &Op::Scale && is_lit(g, args[0], 1.0)).then(|| args[1])
}

/// `-1 · A → -A`.
fn scale_minus_one(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    (op == &Op::Scale && is_lit(g, args[0], -1.0)).then(|| g.add(Op::Neg, &[args[1]], span))
}

/// `s · (t · A) → (s t) · A`: one pass over the matrix instead of two.
fn scale_scale(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Scale {
        return None;
    }
    let inner = g.node(args[1]).clone();
    if inner.op != Op::Scale {
        return None;
    }
    let st = g.add(Op::Mul, &[args[0], inner.args[0]], span);
    Some(g.add(Op::Scale, &[st, inner.args[1]], span))
}

/// `s · (−A) → (−s) · A` for a literal `s`: one pass over the matrix instead of two (the
/// adjoint sweep scales the negated terms of solves). Not `−(s · A)`: a negation stays a
/// negation, which the emitter folds into an accumulation (`P − A B` as one `gemm`), and
/// rewriting it measurably slowed the MLP's gradient.
fn scale_neg(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Scale || g.op(args[1]) != &Op::Neg {
        return None;
    }
    let (s, a) = (args[0], g.node(args[1]).args[0]);
    let value = g.op(s).as_lit()?;
    let minus = g.lit(-value, span);
    Some(g.add(Op::Scale, &[minus, a], span))
}

/// `s X + s X → (2 s) X`: two adjoint contributions that hash-consed into one node (the two
/// uses of `r` in `½ rᵀ S⁻¹ r` both give `½ S⁻¹ r`), folded with the literal.
fn add_same_scaled(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Add || args[0] != args[1] {
        return None;
    }
    let inner = g.node(args[0]).clone();
    if inner.op != Op::Scale || !matches!(g.op(inner.args[0]), Op::Lit(_)) {
        return None;
    }
    let two = g.lit(2.0, span);
    let doubled = g.add(Op::Mul, &[two, inner.args[0]], span);
    Some(g.add(Op::Scale, &[doubled, inner.args[1]], span))
}

/// `-(-x) → x`.
fn neg_neg(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let inner = g.node(args.first().copied()?);
    (op == &Op::Neg && inner.op == Op::Neg).then(|| inner.args[0])
}

/// `a + (-b) → a - b`, `(-a) + b → b - a`.
fn add_neg(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Add {
        return None;
    }
    let negated = |g: &Graph, id: Id| {
        let node = g.node(id);
        (node.op == Op::Neg).then(|| node.args[0])
    };
    if let Some(b) = negated(g, args[1]) {
        return Some(g.add(Op::Sub, &[args[0], b], span));
    }
    let a = negated(g, args[0])?;
    Some(g.add(Op::Sub, &[args[1], a], span))
}

/// `(Aᵀ)ᵀ → A`.
fn transpose_transpose(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let inner = g.node(args.first().copied()?);
    (op == &Op::Transpose && inner.op == Op::Transpose).then(|| inner.args[0])
}

/// `Iᵀ → I` for a square identity.
fn transpose_identity(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let inner = args.first().copied()?;
    let square = matches!(g.ty(inner), Ty::Mat(r, c) if r == c);
    (op == &Op::Transpose && g.op(inner) == &Op::Identity && square).then_some(inner)
}

/// `I A → A`, `A I → A` for a square identity (a rectangular one selects rows or columns).
fn matmul_identity(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let is_square_identity =
        |id: Id| g.op(id) == &Op::Identity && matches!(g.ty(id), Ty::Mat(r, c) if r == c);
    match op {
        Op::MatMul if is_square_identity(args[0]) => Some(args[1]),
        Op::MatMul if is_square_identity(args[1]) => Some(args[0]),
        _ => None,
    }
}

/// `1 / (1 / x) → x`.
fn recip_recip(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    let recip = Op::Fun(Fun::Recip);
    let inner = g.node(args.first().copied()?);
    (op == &recip && inner.op == recip).then(|| inner.args[0])
}

/// `x¹ → x`, `x⁰ → 1`.
fn powi_one(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    match op {
        Op::Fun(Fun::Powi(1)) => Some(args[0]),
        Op::Fun(Fun::Powi(0)) => Some(g.lit(1.0, span)),
        _ => None,
    }
}

/// `ln(det A) → ln det A`, whose derivative `tr(A⁻¹ dA)` does not divide by `det A`.
fn ln_det(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    let inner = g.node(args.first().copied()?).clone();
    (op == &Op::Fun(Fun::Ln) && inner.op == Op::Det).then(|| g.add(Op::LogDet, &inner.args, span))
}

/// `Aᵀ B → tr_mul(A, B)`: nalgebra multiplies by a transpose without forming it.
fn matmul_transpose(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::MatMul {
        return None;
    }
    let a = transposed(g, args[0])?;
    Some(g.add(Op::TrMul, &[a, args[1]], span))
}

/// `(P Q)ᵀ → Qᵀ Pᵀ` when a transpose then cancels, and `(Aᵀ B)ᵀ → Bᵀ A`.
fn transpose_product(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Transpose {
        return None;
    }
    let inner = g.node(args[0]).clone();
    let (p, q) = match inner.op {
        Op::TrMul => {
            return Some(g.add(
                Op::TrMul,
                &inner.args.iter().rev().copied().collect::<Vec<_>>(),
                span,
            ))
        }
        Op::MatMul => (inner.args[0], inner.args[1]),
        _ => return None,
    };
    if transposed(g, p).is_none() && transposed(g, q).is_none() {
        return None;
    }
    let qt = g.add(Op::Transpose, &[q], span);
    let pt = g.add(Op::Transpose, &[p], span);
    Some(g.add(Op::MatMul, &[qt, pt], span))
}

/// `tr(F₁ ⋯ Fₖ) → <X, Fᵢ₊₁ ⋯ Fₖ F₁ ⋯ Fᵢ₋₁>` where `Fᵢ = Xᵀ` (trace is cyclic and
/// `tr(Xᵀ R) = <X, R>`), else `<F₁ᵀ, F₂ ⋯ Fₖ>`: one matrix product fewer.
fn trace_product(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    (op == &Op::Trace)
        .then(|| trace_of_chain(g, args[0], span))
        .flatten()
}

/// `(P Q)[(0, 0)]` of a 1 x 1 product is its trace.
fn index_1x1_product(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    let one_by_one = matches!(g.ty(args[0]), Ty::Mat(Dim::Lit(1), Dim::Lit(1)));
    (op == &Op::Index(0, 0) && one_by_one)
        .then(|| trace_of_chain(g, args[0], span))
        .flatten()
}

fn trace_of_chain(g: &mut Graph, product: Id, span: Span) -> Option<Id> {
    let factors = chain_factors(g, product);
    if factors.len() < 2 {
        return None;
    }
    let (x, rest) = match factors.iter().position(|&f| transposed(g, f).is_some()) {
        Some(i) => {
            let x = transposed(g, factors[i])?;
            let rest: Vec<Id> = factors[i + 1..]
                .iter()
                .chain(&factors[..i])
                .copied()
                .collect();
            (x, rest)
        }
        None => (
            g.add(Op::Transpose, &[factors[0]], span),
            factors[1..].to_vec(),
        ),
    };
    let rest = chain_product(g, &rest, span);
    Some(g.add(Op::Dot, &[x, rest], span))
}

/// `<Aᵀ, Bᵀ> → <A, B>`.
fn dot_transposes(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Dot {
        return None;
    }
    let (a, b) = (transposed(g, args[0])?, transposed(g, args[1])?);
    Some(g.add(Op::Dot, &[a, b], span))
}

/// `(A B) C ↔ A (B C)`, whichever needs fewer multiplications, when the dimensions are
/// literals: `a * b * x` becomes `a * (b * x)`, two matrix-vector products.
fn matmul_chain_order(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::MatMul {
        return None;
    }
    let left = g.node(args[0]).clone();
    if left.op == Op::MatMul {
        let (a, b, c) = (left.args[0], left.args[1], args[1]);
        if cost3(g, a, b, c, Assoc::Right)? < cost3(g, a, b, c, Assoc::Left)? {
            let bc = g.add(Op::MatMul, &[b, c], span);
            return Some(g.add(Op::MatMul, &[a, bc], span));
        }
    }
    let right = g.node(args[1]).clone();
    if right.op == Op::MatMul {
        let (a, b, c) = (args[0], right.args[0], right.args[1]);
        if cost3(g, a, b, c, Assoc::Left)? < cost3(g, a, b, c, Assoc::Right)? {
            let ab = g.add(Op::MatMul, &[a, b], span);
            return Some(g.add(Op::MatMul, &[ab, c], span));
        }
    }
    None
}

/// `(s A) B → s (A B)` and `A (s B) → s (A B)` when the product is no larger than the
/// scaled factor, so the scaling touches fewer entries.
fn scale_out_of_product(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if !matches!(op, Op::MatMul | Op::TrMul) {
        return None;
    }
    let result_size = size(&shape(op, &[g.ty(args[0]), g.ty(args[1])]).ok()?)?;
    for k in 0..2 {
        let node = g.node(args[k]).clone();
        if node.op != Op::Scale || size(&node.ty)? < result_size {
            continue;
        }
        let mut operands = args.to_vec();
        operands[k] = node.args[1];
        let product = g.add(op.clone(), &operands, span);
        return Some(g.add(Op::Scale, &[node.args[0], product], span));
    }
    None
}

/// `A⁻¹ (s B) → s (A⁻¹ B)`, `A⁻¹ (−B) → −(A⁻¹ B)`: a solve is linear in its right-hand side,
/// so the scalars the adjoint sweep multiplies in (the `2` of `‖A⁻¹b − c‖²`, the `½` of a
/// quadratic form) come out, and the solve is the one the function already made when the
/// right-hand side is the same (the gradient of `½ rᵀ S⁻¹ r` is `S⁻¹ r`, not a second solve).
fn scale_out_of_solve(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if !matches!(op, Op::Solve(_)) {
        return None;
    }
    let node = g.node(args[1]).clone();
    match node.op {
        Op::Scale => {
            let solved = g.add(op.clone(), &[args[0], node.args[1]], span);
            Some(g.add(Op::Scale, &[node.args[0], solved], span))
        }
        Op::Neg => {
            let solved = g.add(op.clone(), &[args[0], node.args[0]], span);
            Some(g.add(Op::Neg, &[solved], span))
        }
        _ => None,
    }
}

/// `S⁻¹ B → (S⁻¹ I) B` for a Cholesky solve with a square right-hand side when the program
/// already has the inverse `S⁻¹ I` (the gradient of `ln det S` or `.inverse()`): the same
/// flops, as one matrix product instead of two triangular solves column by column (the
/// Hessian-vector product of a Gaussian log-density, `S⁻¹ (dS S⁻¹)`).
fn solve_by_inverse(g: &mut Graph, op: &Op, args: &[Id], span: Span) -> Option<Id> {
    if op != &Op::Solve(crate::ops::Solver::Cholesky) || g.op(args[1]) == &Op::Identity {
        return None;
    }
    if g.ty(args[0]) != g.ty(args[1]) {
        return None;
    }
    let inverse = g
        .users_of(args[0])
        .iter()
        .copied()
        .find(|&user| g.op(user) == op && g.op(g.node(user).args[1]) == &Op::Identity)?;
    Some(g.add(Op::MatMul, &[inverse, args[1]], span))
}

/// `A` if `id` is `Aᵀ`.
fn transposed(g: &Graph, id: Id) -> Option<Id> {
    let node = g.node(id);
    (node.op == Op::Transpose).then(|| node.args[0])
}

/// The factors of a product tree, in order; `Aᵀ B` counts as the factors `Aᵀ`, `B`.
fn chain_factors(g: &mut Graph, id: Id) -> Vec<Id> {
    let node = g.node(id).clone();
    match node.op {
        Op::MatMul => {
            let mut factors = chain_factors(g, node.args[0]);
            factors.extend(chain_factors(g, node.args[1]));
            factors
        }
        Op::TrMul => {
            let at = g.add(Op::Transpose, &[node.args[0]], node.span);
            let mut factors = vec![at];
            factors.extend(chain_factors(g, node.args[1]));
            factors
        }
        _ => vec![id],
    }
}

/// The product of `factors`, associated by the rewrite rules as it is built.
fn chain_product(g: &mut Graph, factors: &[Id], span: Span) -> Id {
    let mut product = factors[0];
    for &factor in &factors[1..] {
        product = g.add(Op::MatMul, &[product, factor], span);
    }
    product
}

enum Assoc {
    Left,
    Right,
}

/// Multiplications for `(A B) C` or `A (B C)`; `None` unless every dimension is a literal.
fn cost3(g: &Graph, a: Id, b: Id, c: Id, assoc: Assoc) -> Option<usize> {
    let (ra, ca) = literal_dims(g.ty(a))?;
    let (_, cb) = literal_dims(g.ty(b))?;
    let (_, cc) = literal_dims(g.ty(c))?;
    Some(match assoc {
        Assoc::Left => ra * ca * cb + ra * cb * cc,
        Assoc::Right => ca * cb * cc + ra * ca * cc,
    })
}

fn literal_dims(ty: &Ty) -> Option<(usize, usize)> {
    match ty {
        Ty::Mat(Dim::Lit(r), Dim::Lit(c)) => Some((*r, *c)),
        _ => None,
    }
}

fn size(ty: &Ty) -> Option<usize> {
    literal_dims(ty).map(|(r, c)| r * c)
}

/// `1 1ᵀ ∘ A → A`: the adjoint of a `.sum()` is a matrix of ones, which a map's rule would
/// otherwise multiply entry by entry.
fn component_mul_ones(g: &mut Graph, op: &Op, args: &[Id], _: Span) -> Option<Id> {
    if op != &Op::ComponentMul {
        return None;
    }
    let is_ones = |id: Id| {
        let node = g.node(id);
        node.op == Op::Fill && is_lit(g, node.args[0], 1.0)
    };
    match (is_ones(args[0]), is_ones(args[1])) {
        (true, _) => Some(args[1]),
        (_, true) => Some(args[0]),
        _ => None,
    }
}
