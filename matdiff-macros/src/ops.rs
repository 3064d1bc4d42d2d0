//! The rule table: every operation matdiff knows, and for each its shape rule, tangent
//! (forward) rule, adjoint (reverse) rule and emission.
//!
//! The facets are dispatched by one exhaustive `match` each, at the top of this file; the rules
//! themselves are grouped per operation below, so adding an operation means adding a variant
//! and filling one section. The compiler's exhaustiveness check lists any facet left out.
//!
//! Conventions: `y = op(args)`; a tangent rule gets the argument tangents `d` (`None` is a
//! symbolic zero) and returns `dy`; an adjoint rule gets `ȳ` and the index `k` of an argument
//! and returns that argument's contribution `x̄_k` under the Frobenius inner product
//! `<A, B> = tr(Aᵀ B)`. Every op a rule builds has rules itself (checked by a unit test).

use crate::ir::{Dim, Elem, Graph, Id, SymInt, Ty};
use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    /// The k-th parameter of the generated function (user parameters, then directions).
    Param(usize),
    /// A scalar literal.
    Lit(F64Bits),
    /// An integer constant the macro cannot see the value of, a const generic or a named
    /// `const` (`N as f64`), converted to the element type.
    IntConst(proc_macro2::Ident),
    /// A named float constant in scope (`const SCALE: f64 = 2.0;`), of the element type.
    FloatConst(proc_macro2::Ident),
    /// The identity matrix of the node's type.
    Identity,
    /// A matrix of the node's type with every entry equal to the scalar argument.
    Fill,
    /// A zero matrix of the node's type with the scalar argument at `(i, j)`.
    Embed(usize, usize),
    Neg,
    Add,
    Sub,
    /// scalar · scalar
    Mul,
    /// scalar · matrix, arguments `[s, A]`
    Scale,
    /// matrix · matrix
    MatMul,
    /// `Aᵀ B` without forming `Aᵀ` (nalgebra's `tr_mul`); `MatMul(Aᵀ, B)` is rewritten to it.
    TrMul,
    Transpose,
    Trace,
    /// Frobenius inner product `<A, B>` (nalgebra's `dot`).
    Dot,
    Sum,
    ComponentMul,
    NormSquared,
    Norm,
    Index(usize, usize),
    /// A differentiable scalar function of one scalar.
    Fun(Fun),
    /// `x.powf(p)`, differentiable in both.
    Powf,
    /// `a.max(b)` of scalars; the derivative follows `a` where `a > b`, else `b`.
    Max,
    /// `a.min(b)` of scalars; the derivative follows `a` where `a < b`, else `b`.
    Min,
    /// The scalar function `Graph::scalar_fns[f]` applied to every entry (`m.map(..)`).
    Map(usize),
    /// `A⁻¹`, with the check the user wrote (or one of matdiff's own).
    Inverse(InverseCheck),
    Det,
    /// `ln det A`, recognised in `a.determinant().ln()`.
    LogDet,
    /// The largest entry (`.max()`); its derivative picks the entry at the arg max.
    MaxEntry,
    /// The smallest entry (`.min()`).
    MinEntry,
    /// A matrix of the argument's type with a 1 at the first arg max (arg min) and 0 elsewhere.
    ArgMask(Extremum),
    /// The eigenvalues of a symmetric matrix, in the order of nalgebra's `symmetric_eigen()`.
    SymEigenvalues,
    /// The matching unit eigenvectors, as columns.
    SymEigenvectors,
    /// `F[i][j] = 1 / (λ_j − λ_i)` off the diagonal, 0 on it: the eigenvector derivative's
    /// weights, from the eigenvalue vector.
    EigenGaps,
    /// `f(args)` for the differentiated function `Graph::callees[c]`.
    Call(usize),
    /// `(f, ∇₁f, .., ∇ₙf)` at the arguments: the callee's generated `__matdiff_f_vjp`.
    CallVjp(usize),
    /// The tangent of `CallVjp` along directions given after the arguments, one per
    /// argument: the callee's generated `__matdiff_f_tangent`.
    CallTangent(usize),
    /// Item `i` of a tuple.
    Field(usize),
    // Integers and conditions: control flow, never differentiated.
    /// An integer literal.
    Int(i64),
    /// An integer known symbolically (`N - 1` with `N` a const generic).
    SymConst(SymInt),
    /// Integer arithmetic on two integers.
    IntBin(IntOp),
    /// A comparison of two scalars or two integers, giving a condition.
    Cmp(CmpOp),
    /// A condition literal.
    Bool(bool),
    /// `!c`.
    Not,
    /// `i as f64`: an integer converted to the element type.
    IntToFloat,
    /// The user's `assert!(c, ..)`: the condition, checked where it is evaluated.
    Assert(String),
    // Indices known only at run time (loop indices, integer parameters).
    /// `m[(i, j)]` with integer nodes `i`, `j`: args `(m, i, j)`.
    At,
    /// `m` with entry `(i, j)` replaced by `s`: args `(m, s, i, j)`.
    SetAt,
    /// The `R x C` block of `m` starting at `(i, j)`: args `(m, i, j)` (`.column(j)`, ..).
    Block(Dim, Dim),
    /// `m` with the block at `(i, j)` replaced by `b`: args `(m, b, i, j)`.
    SetBlock,
    /// `m` with `s` added to entry `(i, j)`: args `(m, s, i, j)`. The adjoint of indexing;
    /// sums of them stay sparse (`simplify.rs`), so a loop's reverse sweep accumulates an
    /// entry per iteration, not a matrix.
    AddAt,
    /// `m` with `b` added to the block at `(i, j)`: args `(m, b, i, j)`; the adjoint of a view.
    AddBlock,
    /// Entry `k` of a loop's tape: args `(tape, k)`.
    Load,
    /// A tape of length 0, for a carried value a reverse sweep never reads.
    EmptyTape,
    /// Entry `i` of a constant float array in scope (`const DATA: [f64; 8] = ..`): args `(i)`.
    ConstAt(proc_macro2::Ident),
    // Structured control flow: nodes that own sub-programs (`Graph::regions`); their rules
    // are derived from their bodies in `regions.rs`.
    /// A loop with a static trip count.
    Loop(LoopSpec),
    /// `if c { .. } else { .. }`: args `(c, captures..)`; only the branch taken runs.
    Cond(CondSpec),
}

/// How a user's inverse reports a singular matrix; the generated code does the same.
/// Integer arithmetic.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A comparison.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A loop `for k in 0..trip` with index `i = start + step k`, run backwards (`k` from
/// `trip - 1` down to 0) when `backward`.
///
/// Its region's parameters are `i`, `k`, the `n_carries` loop-carried values (initialised
/// by the node's first `n_carries` arguments), then the captured values (the remaining
/// arguments); its outputs are the carried values after one iteration. The node's value is
/// the tuple of the final carried values, followed by one array (a tape) per carried value
/// `j` with `tape[j]`, holding its value at the start of each iteration (`tape` is empty for
/// a loop that records nothing).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LoopSpec {
    pub region: usize,
    pub start: SymInt,
    pub step: i64,
    pub trip: SymInt,
    pub n_carries: usize,
    pub backward: bool,
    pub tape: Vec<bool>,
}

impl LoopSpec {
    /// The carried values this loop records, in order.
    pub fn taped(&self) -> impl Iterator<Item = usize> + '_ {
        self.tape
            .iter()
            .enumerate()
            .filter_map(|(j, &on)| on.then_some(j))
    }
}

/// A branch: both regions take the node's arguments after the condition as parameters and
/// return values of the same types; the node's value is the tuple of the outputs of the
/// branch taken.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CondSpec {
    pub then_region: usize,
    pub else_region: usize,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum InverseCheck {
    /// `.try_inverse().unwrap()`
    Unwrap,
    /// `.try_inverse().expect(message)`
    Expect(String),
    /// An inverse only a derivative needs (of `det` or `ln det`).
    Derivative,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Extremum {
    Max,
    Min,
}

/// An `f64` that can be hashed, so literals take part in hash-consing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct F64Bits(u64);

impl F64Bits {
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl fmt::Debug for F64Bits {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:?}", self.get())
    }
}

impl Op {
    pub fn lit(value: f64) -> Op {
        // Normalise -0.0 so that it hash-conses with 0.0.
        Op::Lit(F64Bits((value + 0.0).to_bits()))
    }

    pub fn as_lit(&self) -> Option<f64> {
        match self {
            Op::Lit(bits) => Some(bits.get()),
            _ => None,
        }
    }

    /// Every op with example arguments, for the tests that walk the whole table.
    #[cfg(test)]
    pub fn all() -> Vec<Op> {
        let mut ops = vec![
            Op::Param(0),
            Op::lit(1.0),
            Op::IntConst(proc_macro2::Ident::new("N", Span::call_site())),
            Op::FloatConst(proc_macro2::Ident::new("SCALE", Span::call_site())),
            Op::Identity,
            Op::Fill,
            Op::Embed(0, 0),
            Op::Neg,
            Op::Add,
            Op::Sub,
            Op::Mul,
            Op::Scale,
            Op::MatMul,
            Op::TrMul,
            Op::Transpose,
            Op::Trace,
            Op::Dot,
            Op::Sum,
            Op::ComponentMul,
            Op::NormSquared,
            Op::Norm,
            Op::Index(0, 0),
        ];
        ops.extend(Fun::ALL.iter().map(|&f| Op::Fun(f)));
        ops.extend([
            Op::Powf,
            Op::Max,
            Op::Min,
            Op::Map(0),
            Op::Inverse(InverseCheck::Unwrap),
            Op::Inverse(InverseCheck::Expect("singular".to_owned())),
            Op::Inverse(InverseCheck::Derivative),
            Op::Det,
            Op::LogDet,
            Op::MaxEntry,
            Op::MinEntry,
            Op::ArgMask(Extremum::Max),
            Op::ArgMask(Extremum::Min),
            Op::SymEigenvalues,
            Op::SymEigenvectors,
            Op::EigenGaps,
            Op::Call(0),
            Op::CallVjp(0),
            Op::CallTangent(0),
            Op::Field(0),
            Op::Int(1),
            Op::SymConst(SymInt::Lit(1)),
            Op::IntBin(IntOp::Add),
            Op::Cmp(CmpOp::Lt),
            Op::Bool(true),
            Op::Not,
            Op::IntToFloat,
            Op::Assert("assertion failed".to_owned()),
            Op::At,
            Op::SetAt,
            Op::Block(Dim::Lit(1), Dim::Lit(1)),
            Op::SetBlock,
            Op::AddAt,
            Op::AddBlock,
            Op::Load,
            Op::ConstAt(proc_macro2::Ident::new("DATA", Span::call_site())),
            Op::EmptyTape,
        ]);
        ops
    }

    /// The type of `op(args)`, or a message saying why the shapes do not fit.
    ///
    /// Ops whose type is not a function of their arguments' (`Param`, `Lit`, `Identity`,
    /// `Fill`, `Embed`) are built with `Graph::add_typed` and never reach this.
    pub fn shape(&self, args: &[&Ty]) -> Result<Ty, String> {
        match self {
            Op::Param(_)
            | Op::Lit(_)
            | Op::IntConst(_)
            | Op::FloatConst(_)
            | Op::Identity
            | Op::Fill
            | Op::Embed(..)
            | Op::Int(_)
            | Op::SymConst(_)
            | Op::Bool(_)
            | Op::Loop(_)
            | Op::Cond(_)
            | Op::EmptyTape => Err("the type of this op is given, not inferred".to_owned()),
            Op::IntBin(_) => integers(args).map(|()| Ty::Int),
            Op::Cmp(_) => match (args[0], args[1]) {
                (Ty::Scalar, Ty::Scalar) | (Ty::Int, Ty::Int) => Ok(Ty::Bool),
                (a, b) => Err(format!(
                    "cannot compare a {} with a {}",
                    a.describe(),
                    b.describe()
                )),
            },
            Op::Not | Op::Assert(_) => exactly(args[0], &Ty::Bool, "a condition").cloned(),
            Op::IntToFloat | Op::ConstAt(_) => {
                exactly(args[0], &Ty::Int, "an integer").map(|_| Ty::Scalar)
            }
            Op::At => {
                integers(&args[1..])?;
                matrix(args[0], "indexing").map(|_| Ty::Scalar)
            }
            Op::SetAt | Op::AddAt => {
                integers(&args[2..])?;
                exactly(args[1], &Ty::Scalar, "a scalar entry")?;
                matrix(args[0], "indexing").cloned()
            }
            Op::Block(r, c) => {
                integers(&args[1..])?;
                matrix(args[0], "a view").map(|_| Ty::Mat(r.clone(), c.clone()))
            }
            Op::SetBlock | Op::AddBlock => {
                integers(&args[2..])?;
                matrix(args[1], "a view")?;
                matrix(args[0], "a view").cloned()
            }
            Op::Load => match (args[0], args[1]) {
                (Ty::Array(item, _), Ty::Int) => Ok((**item).clone()),
                (a, _) => Err(format!("expected a tape, found a {}", a.describe())),
            },
            Op::Neg => Ok(args[0].clone()),
            Op::Add | Op::Sub => same_shape(self, args),
            Op::Mul => scalar_pair(args),
            Op::Scale => scale_shape(args),
            Op::MatMul => matmul_shape(args),
            Op::TrMul => matmul_shape(&[&args[0].transposed(), args[1]]),
            Op::Transpose => matrix(args[0], "`.transpose()`").map(Ty::transposed),
            Op::Trace => trace_shape(args[0]),
            Op::Dot | Op::ComponentMul => same_shape(self, args).map(|ty| match self {
                Op::Dot => Ty::Scalar,
                _ => ty,
            }),
            Op::Sum | Op::NormSquared | Op::Norm => {
                matrix(args[0], self.surface()).map(|_| Ty::Scalar)
            }
            Op::Index(i, j) => index_shape(args[0], *i, *j),
            Op::Fun(_) => scalar_pair(&[args[0], args[0]]),
            Op::Powf | Op::Max | Op::Min => scalar_pair(args),
            Op::Map(_) | Op::ArgMask(_) => matrix(args[0], self.surface()).cloned(),
            Op::Inverse(_) | Op::SymEigenvectors => square(args[0], self.surface()).cloned(),
            Op::Det | Op::LogDet => square(args[0], self.surface()).map(|_| Ty::Scalar),
            Op::MaxEntry | Op::MinEntry => matrix(args[0], self.surface()).map(|_| Ty::Scalar),
            Op::SymEigenvalues => {
                square(args[0], self.surface()).map(|ty| Ty::Mat(rows(ty), Dim::Lit(1)))
            }
            Op::Call(_) => Ok(Ty::Scalar),
            Op::CallVjp(_) => Ok(call_results(args)),
            Op::CallTangent(_) => Ok(call_results(&args[..args.len() / 2])),
            Op::Field(i) => match args[0] {
                Ty::Tuple(items) if *i < items.len() => Ok(items[*i].clone()),
                other => Err(format!("no field {i} in {other}")),
            },
            Op::EigenGaps => match args[0] {
                Ty::Mat(n, Dim::Lit(1)) => Ok(Ty::Mat(n.clone(), n.clone())),
                other => Err(format!(
                    "expected an eigenvalue vector, found a {}",
                    other.describe()
                )),
            },
        }
    }

    /// `dy` given the argument tangents `d` (`None`: zero). `None` when `dy` is zero.
    pub fn jvp(&self, g: &mut Graph, y: Id, args: &[Id], d: &[Option<Id>]) -> Option<Id> {
        let span = g.node(y).span;
        match self {
            Op::Param(_) | Op::Lit(_) | Op::IntConst(_) | Op::FloatConst(_) | Op::Identity => None,
            Op::Fill | Op::Embed(..) => {
                let ty = g.ty(y).clone();
                d[0].map(|ds| g.add_typed(self.clone(), &[ds], ty, span))
            }
            Op::Neg | Op::Transpose | Op::Trace | Op::Sum | Op::Index(..) => {
                d[0].map(|da| g.add(self.clone(), &[da], span))
            }
            Op::Add => g.add_opt(d[0], d[1], span),
            Op::Sub => {
                let db = d[1].map(|db| g.add(Op::Neg, &[db], span));
                g.add_opt(d[0], db, span)
            }
            Op::Mul | Op::Scale | Op::MatMul | Op::TrMul | Op::Dot | Op::ComponentMul => {
                bilinear_jvp(g, self, args, d, span)
            }
            Op::NormSquared => norm_squared_jvp(g, args[0], d[0]?, span),
            Op::Norm => norm_jvp(g, y, args[0], d[0]?, span),
            Op::Fun(fun) => {
                let slope = fun.derivative(g, args[0], y, span)?;
                Some(g.add(Op::Mul, &[slope, d[0]?], span))
            }
            Op::Powf | Op::Max | Op::Min => {
                let terms: Vec<Option<Id>> = (0..2)
                    .map(|k| {
                        let slope = scalar_partial(self, g, y, args, k)?;
                        Some(g.add(Op::Mul, &[slope, d[k]?], span))
                    })
                    .collect();
                g.add_opt(terms[0], terms[1], span)
            }
            Op::Map(f) => {
                let slope = map_slope(g, *f, args[0], span)?;
                Some(g.add(Op::ComponentMul, &[slope, d[0]?], span))
            }
            // d(A⁻¹) = −A⁻¹ dA A⁻¹.
            Op::Inverse(_) => {
                let left = g.add(Op::MatMul, &[y, d[0]?], span);
                let both = g.add(Op::MatMul, &[left, y], span);
                Some(g.add(Op::Neg, &[both], span))
            }
            // d det A = det A · tr(A⁻¹ dA) = det A · <A⁻ᵀ, dA>.
            Op::Det => {
                let inner = inverse_transpose_dot(g, args[0], d[0]?, span);
                Some(g.add(Op::Mul, &[y, inner], span))
            }
            // d ln det A = tr(A⁻¹ dA) = <A⁻ᵀ, dA>.
            Op::LogDet => Some(inverse_transpose_dot(g, args[0], d[0]?, span)),
            Op::MaxEntry | Op::MinEntry => {
                let mask = g.add(Op::ArgMask(self.extremum()), &[args[0]], span);
                Some(g.add(Op::Dot, &[mask, d[0]?], span))
            }
            Op::ArgMask(_) => None,
            Op::SymEigenvalues => Some(eigenvalues_jvp(g, args[0], d[0]?, span)),
            Op::SymEigenvectors => Some(eigenvectors_jvp(g, y, args[0], d[0]?, span)),
            Op::EigenGaps => Some(eigen_gaps_jvp(g, y, d[0]?, span)),
            // df = Σₖ <∇ₖf, dxₖ>.
            Op::Call(c) => {
                let vjp = g.add(Op::CallVjp(*c), args, span);
                let terms: Vec<Option<Id>> = (0..args.len())
                    .map(|k| {
                        let grad = g.add(Op::Field(k + 1), &[vjp], span);
                        Some(inner_product(g, grad, d[k]?, span))
                    })
                    .collect();
                terms
                    .into_iter()
                    .fold(None, |sum, term| g.add_opt(sum, term, span))
            }
            Op::CallVjp(c) => {
                let mut operands = args.to_vec();
                for (k, &arg) in args.iter().enumerate() {
                    let direction = d[k].unwrap_or_else(|| zeros_like(g, arg, span));
                    operands.push(direction);
                }
                Some(g.add(Op::CallTangent(*c), &operands, span))
            }
            Op::Field(i) => d[0].map(|dt| g.add(Op::Field(*i), &[dt], span)),
            Op::CallTangent(_) => {
                g.internal_errors.push((span, THIRD_ORDER.to_owned()));
                None
            }
            Op::Int(_)
            | Op::SymConst(_)
            | Op::IntBin(_)
            | Op::Cmp(_)
            | Op::Bool(_)
            | Op::Not
            | Op::IntToFloat
            | Op::ConstAt(_)
            | Op::EmptyTape
            | Op::Assert(_) => None,
            // Linear in the matrix, the indices fixed: d(m[(i, j)]) = dm[(i, j)].
            Op::At | Op::Block(..) | Op::Load => {
                let mut operands = args.to_vec();
                operands[0] = d[0]?;
                Some(g.add(self.clone(), &operands, span))
            }
            // Linear in (m, s): the tangent replaces (adds to) the entry of dm by ds.
            Op::SetAt | Op::SetBlock | Op::AddAt | Op::AddBlock => {
                if d[0].is_none() && d[1].is_none() {
                    return None;
                }
                let dm = d[0].unwrap_or_else(|| zeros_like(g, args[0], span));
                let ds = d[1].unwrap_or_else(|| zeros_like(g, args[1], span));
                Some(g.add(self.clone(), &[dm, ds, args[2], args[3]], span))
            }
            Op::Loop(_) | Op::Cond(_) => {
                g.internal_errors
                    .push((span, "a region's tangent is built in regions.rs".to_owned()));
                None
            }
        }
    }

    /// The contribution `x̄_k` of `ȳ` to the adjoint of argument `k`. `None` when it is zero.
    pub fn vjp(&self, g: &mut Graph, y: Id, args: &[Id], ybar: Id, k: usize) -> Option<Id> {
        let span = g.node(y).span;
        let arg_ty = g.ty(args[k]).clone();
        Some(match (self, k) {
            (Op::Param(_) | Op::Lit(_) | Op::IntConst(_) | Op::FloatConst(_) | Op::Identity, _) => {
                return None
            }
            // Fill: y = s 11ᵀ, so s̄ = <11ᵀ, ȳ> = sum(ȳ).
            (Op::Fill, _) => g.add(Op::Sum, &[ybar], span),
            (Op::Embed(i, j), _) => g.add(Op::Index(*i, *j), &[ybar], span),
            (Op::Neg, _) | (Op::Sub, 1) => g.add(Op::Neg, &[ybar], span),
            (Op::Add, _) | (Op::Sub, _) => ybar,
            (Op::Mul, _) => g.add(Op::Mul, &[ybar, args[1 - k]], span),
            // y = s A: s̄ = <A, ȳ>, Ā = s ȳ.
            (Op::Scale, 0) => g.add(Op::Dot, &[args[1], ybar], span),
            (Op::Scale, _) => g.add(Op::Scale, &[args[0], ybar], span),
            // y = A B: Ā = ȳ Bᵀ, B̄ = Aᵀ ȳ.
            (Op::MatMul, 0) => {
                let bt = g.add(Op::Transpose, &[args[1]], span);
                g.add(Op::MatMul, &[ybar, bt], span)
            }
            (Op::MatMul, _) => {
                let at = g.add(Op::Transpose, &[args[0]], span);
                g.add(Op::MatMul, &[at, ybar], span)
            }
            // y = Aᵀ B: Ā = B ȳᵀ, B̄ = A ȳ.
            (Op::TrMul, 0) => {
                let ybar_t = g.add(Op::Transpose, &[ybar], span);
                g.add(Op::MatMul, &[args[1], ybar_t], span)
            }
            (Op::TrMul, _) => g.add(Op::MatMul, &[args[0], ybar], span),
            (Op::Transpose, _) => g.add(Op::Transpose, &[ybar], span),
            // d tr(A) = tr(dA) = <I, dA>, so Ā = ȳ I.
            (Op::Trace, _) => {
                let eye = g.add_typed(Op::Identity, &[], arg_ty, span);
                g.add(Op::Scale, &[ybar, eye], span)
            }
            (Op::Dot, _) => g.add(Op::Scale, &[ybar, args[1 - k]], span),
            (Op::Sum, _) => g.add_typed(Op::Fill, &[ybar], arg_ty, span),
            (Op::ComponentMul, _) => g.add(Op::ComponentMul, &[ybar, args[1 - k]], span),
            // d ‖A‖² = 2 <A, dA>.
            (Op::NormSquared, _) => {
                let two = g.lit(2.0, span);
                let factor = g.add(Op::Mul, &[two, ybar], span);
                g.add(Op::Scale, &[factor, args[0]], span)
            }
            // d ‖A‖ = <A, dA> / ‖A‖ (0 at A = 0, see `Fun::RecipOrZero`).
            (Op::Norm, _) => {
                let inv = g.add(Op::Fun(Fun::RecipOrZero), &[y], span);
                let factor = g.add(Op::Mul, &[ybar, inv], span);
                g.add(Op::Scale, &[factor, args[0]], span)
            }
            (Op::Index(i, j), _) => g.add_typed(Op::Embed(*i, *j), &[ybar], arg_ty, span),
            (Op::Fun(fun), _) => {
                let slope = fun.derivative(g, args[0], y, span)?;
                g.add(Op::Mul, &[ybar, slope], span)
            }
            (Op::Powf | Op::Max | Op::Min, _) => {
                let slope = scalar_partial(self, g, y, args, k)?;
                g.add(Op::Mul, &[ybar, slope], span)
            }
            (Op::Map(f), _) => {
                let slope = map_slope(g, *f, args[0], span)?;
                g.add(Op::ComponentMul, &[ybar, slope], span)
            }
            // Ā = −A⁻ᵀ ȳ A⁻ᵀ.
            (Op::Inverse(_), _) => {
                let yt = g.add(Op::Transpose, &[y], span);
                let left = g.add(Op::MatMul, &[yt, ybar], span);
                let both = g.add(Op::MatMul, &[left, yt], span);
                g.add(Op::Neg, &[both], span)
            }
            // Ā = ȳ det A · A⁻ᵀ.
            (Op::Det, _) => {
                let factor = g.add(Op::Mul, &[ybar, y], span);
                let inv_t = inverse_transpose(g, args[0], span);
                g.add(Op::Scale, &[factor, inv_t], span)
            }
            // Ā = ȳ A⁻ᵀ.
            (Op::LogDet, _) => {
                let inv_t = inverse_transpose(g, args[0], span);
                g.add(Op::Scale, &[ybar, inv_t], span)
            }
            (Op::MaxEntry | Op::MinEntry, _) => {
                let mask = g.add(Op::ArgMask(self.extremum()), &[args[0]], span);
                g.add(Op::Scale, &[ybar, mask], span)
            }
            (Op::ArgMask(_), _) => return None,
            (Op::SymEigenvalues, _) => eigenvalues_vjp(g, args[0], ybar, span),
            (Op::SymEigenvectors, _) => eigenvectors_vjp(g, y, args[0], ybar, span),
            (Op::EigenGaps, _) => eigen_gaps_vjp(g, y, ybar, span),
            // x̄ₖ = ȳ ∇ₖf.
            (Op::Call(c), _) => {
                let vjp = g.add(Op::CallVjp(*c), args, span);
                let grad = g.add(Op::Field(k + 1), &[vjp], span);
                scale(g, ybar, grad, span)
            }
            // Only the forward transform runs over a gradient program that holds these, so
            // their adjoints would be third derivatives.
            (Op::CallVjp(_) | Op::CallTangent(_) | Op::Field(_), _) => {
                g.internal_errors.push((span, THIRD_ORDER.to_owned()));
                return None;
            }
            (
                Op::Int(_)
                | Op::SymConst(_)
                | Op::IntBin(_)
                | Op::Cmp(_)
                | Op::Bool(_)
                | Op::Not
                | Op::IntToFloat
                | Op::ConstAt(_)
                | Op::EmptyTape
                | Op::Assert(_),
                _,
            )
            | (Op::At | Op::Block(..), 1..)
            | (Op::SetAt | Op::SetBlock | Op::AddAt | Op::AddBlock, 2..) => return None,
            // m̄ = ȳ in entry (i, j), zero elsewhere.
            (Op::At, _) => {
                let zeros = zeros_like(g, args[0], span);
                g.add(Op::AddAt, &[zeros, ybar, args[1], args[2]], span)
            }
            (Op::Block(..), _) => {
                let zeros = zeros_like(g, args[0], span);
                g.add(Op::AddBlock, &[zeros, ybar, args[1], args[2]], span)
            }
            // y = m + s e_ij: m̄ = ȳ, s̄ = ȳ[(i, j)].
            (Op::AddAt | Op::AddBlock, 0) => ybar,
            (Op::AddAt, _) => g.add(Op::At, &[ybar, args[2], args[3]], span),
            (Op::AddBlock, _) => {
                let Ty::Mat(r, c) = arg_ty else {
                    return None;
                };
                g.add(Op::Block(r, c), &[ybar, args[2], args[3]], span)
            }
            // The replaced entry does not reach the result: m̄ = ȳ with it zeroed, s̄ = ȳ[(i, j)].
            (Op::SetAt | Op::SetBlock, 0) => {
                let zeros = zeros_like(g, args[1], span);
                g.add(self.clone(), &[ybar, zeros, args[2], args[3]], span)
            }
            (Op::SetAt, _) => g.add(Op::At, &[ybar, args[2], args[3]], span),
            (Op::SetBlock, _) => {
                let Ty::Mat(r, c) = arg_ty else {
                    return None;
                };
                g.add(Op::Block(r, c), &[ybar, args[2], args[3]], span)
            }
            (Op::Load | Op::Loop(_) | Op::Cond(_), _) => {
                g.internal_errors.push((
                    span,
                    "a region's adjoint is built in regions.rs, a tape's is never needed"
                        .to_owned(),
                ));
                return None;
            }
        })
    }

    fn extremum(&self) -> Extremum {
        match self {
            Op::MinEntry | Op::ArgMask(Extremum::Min) => Extremum::Min,
            _ => Extremum::Max,
        }
    }

    /// The Rust expression computing this node from its operands.
    ///
    /// Matrix operands are references (`&SMatrix`), scalar operands values; `ty` is the
    /// node's nalgebra type in expression form (`<SMatrix<f64, 3, 3>>`). `Param` is bound by the emitter, never emitted here.
    pub fn emit(&self, g: &Graph, id: Id, ty: &TokenStream, a: &[TokenStream]) -> TokenStream {
        let elem = g.elem;
        match self {
            Op::Param(k) => unreachable!("parameter {k} is bound by the emitter"),
            Op::Lit(value) => literal(elem, value.get()),
            Op::FloatConst(name) => quote!(#name),
            Op::IntConst(name) => {
                let elem = crate::emit::elem_type(elem);
                quote!((#name as #elem))
            }
            Op::Identity => quote!(#ty::identity()),
            Op::Fill => {
                let s = &a[0];
                quote!(#ty::repeat(#s))
            }
            Op::Embed(i, j) => {
                let (s, m) = (&a[0], local("m"));
                quote!({
                    let mut #m = #ty::zeros();
                    #m[(#i, #j)] = #s;
                    #m
                })
            }
            Op::Neg => {
                let x = &a[0];
                quote!(-#x)
            }
            Op::Add | Op::Sub | Op::Mul | Op::MatMul => {
                let (x, y) = (&a[0], &a[1]);
                match self {
                    Op::Add => quote!(#x + #y),
                    Op::Sub => quote!(#x - #y),
                    _ => quote!(#x * #y),
                }
            }
            Op::Scale => {
                let (s, m) = (&a[0], &a[1]);
                quote!(#m * #s)
            }
            Op::TrMul => tr_mul(g, id, a),
            Op::Transpose => method(&a[0], "transpose", &[]),
            Op::Trace => method(&a[0], "trace", &[]),
            Op::Dot => method(&a[0], "dot", &a[1..]),
            Op::Sum => method(&a[0], "sum", &[]),
            Op::ComponentMul => method(&a[0], "component_mul", &a[1..]),
            Op::NormSquared => method(&a[0], "norm_squared", &[]),
            Op::Norm => method(&a[0], "norm", &[]),
            Op::Index(i, j) => {
                let m = &a[0];
                quote!(#m[(#i, #j)])
            }
            Op::Fun(fun) => fun.emit(&a[0]),
            Op::Powf => method(&a[0], "powf", &a[1..]),
            Op::Max => method(&a[0], "max", &a[1..]),
            Op::Min => method(&a[0], "min", &a[1..]),
            Op::Map(f) => {
                let (m, closure) = (&a[0], crate::emit::scalar_closure(g, *f));
                quote!(#m.map(#closure))
            }
            Op::Inverse(check) => {
                let m = &a[0];
                let message = match check {
                    InverseCheck::Unwrap => return quote!(#m.try_inverse().unwrap()),
                    InverseCheck::Expect(message) => message.as_str(),
                    InverseCheck::Derivative => {
                        return quote!(#m.try_inverse().expect(::matdiff::__private::SINGULAR));
                    }
                };
                quote!(#m.try_inverse().expect(#message))
            }
            Op::Det => method(&a[0], "determinant", &[]),
            Op::LogDet => {
                let m = &a[0];
                quote!(#m.determinant().ln())
            }
            Op::MaxEntry => method(&a[0], "max", &[]),
            Op::MinEntry => method(&a[0], "min", &[]),
            Op::ArgMask(extremum) => {
                let m = &a[0];
                let better = match extremum {
                    Extremum::Max => quote!(>),
                    Extremum::Min => quote!(<),
                };
                let one = literal(elem, 1.0);
                let (best, i, mask) = (local("best"), local("i"), local("mask"));
                quote!({
                    let mut #best = 0;
                    for #i in 1..#m.len() {
                        if #m[#i] #better #m[#best] {
                            #best = #i;
                        }
                    }
                    let mut #mask = #ty::zeros();
                    #mask[#best] = #one;
                    #mask
                })
            }
            // Values and vectors come from the same decomposition call, so their order agrees.
            Op::SymEigenvalues => {
                let m = &a[0];
                quote!(#m.symmetric_eigen().eigenvalues)
            }
            Op::SymEigenvectors => {
                let m = &a[0];
                quote!(#m.symmetric_eigen().eigenvectors)
            }
            Op::Call(c) => call_expr(g, *c, None, a),
            Op::CallVjp(c) => call_expr(g, *c, Some("vjp"), a),
            Op::CallTangent(c) => call_expr(g, *c, Some("tangent"), a),
            Op::Field(i) => {
                let (t, i) = (&a[0], proc_macro2::Literal::usize_unsuffixed(*i));
                quote!(#t.#i)
            }
            Op::Int(n) => {
                let n = Literal::i64_suffixed(*n);
                quote!(#n)
            }
            Op::SymConst(value) => sym_int(value),
            Op::IntBin(op) => {
                let (x, y) = (&a[0], &a[1]);
                match op {
                    IntOp::Add => quote!((#x + #y)),
                    IntOp::Sub => quote!((#x - #y)),
                    IntOp::Mul => quote!((#x * #y)),
                    IntOp::Div => quote!((#x / #y)),
                    IntOp::Rem => quote!((#x % #y)),
                }
            }
            Op::Cmp(op) => {
                let (x, y) = (&a[0], &a[1]);
                let op = op.token();
                quote!((#x #op #y))
            }
            Op::Bool(b) => quote!(#b),
            Op::Not => {
                let c = &a[0];
                quote!((!#c))
            }
            Op::IntToFloat => {
                let (i, elem) = (&a[0], crate::emit::elem_type(elem));
                quote!((#i as #elem))
            }
            Op::Assert(message) => {
                let c = &a[0];
                quote!({
                    ::core::assert!(#c, "{}", #message);
                    #c
                })
            }
            Op::At => {
                let (m, i, j) = (&a[0], &a[1], &a[2]);
                quote!(#m[(#i as usize, #j as usize)])
            }
            Op::SetAt => {
                let (m, s, i, j, t) = (&a[0], &a[1], &a[2], &a[3], local("m"));
                quote!({
                    let mut #t = *#m;
                    #t[(#i as usize, #j as usize)] = #s;
                    #t
                })
            }
            Op::Block(r, c) => {
                let (m, i, j) = (&a[0], &a[1], &a[2]);
                let (r, c) = (crate::emit::dim(r), crate::emit::dim(c));
                quote!(#m.fixed_view::<#r, #c>(#i as usize, #j as usize).into_owned())
            }
            Op::SetBlock => {
                let (m, b, i, j, t) = (&a[0], &a[1], &a[2], &a[3], local("m"));
                let Ty::Mat(r, c) = g.ty(g.node(id).args[1]) else {
                    unreachable!("the shape rule admits matrices only")
                };
                let (r, c) = (crate::emit::dim(r), crate::emit::dim(c));
                quote!({
                    let mut #t = *#m;
                    #t.fixed_view_mut::<#r, #c>(#i as usize, #j as usize).copy_from(#b);
                    #t
                })
            }
            Op::AddAt => {
                let (m, s, i, j, t) = (&a[0], &a[1], &a[2], &a[3], local("m"));
                quote!({
                    let mut #t = *#m;
                    #t[(#i as usize, #j as usize)] += #s;
                    #t
                })
            }
            Op::AddBlock => {
                let (m, b, i, j, t) = (&a[0], &a[1], &a[2], &a[3], local("m"));
                let view = local("view");
                let Ty::Mat(r, c) = g.ty(g.node(id).args[1]) else {
                    unreachable!("the shape rule admits matrices only")
                };
                let (r, c) = (crate::emit::dim(r), crate::emit::dim(c));
                quote!({
                    let mut #t = *#m;
                    let mut #view = #t.fixed_view_mut::<#r, #c>(#i as usize, #j as usize);
                    #view += #b;
                    #t
                })
            }
            Op::Load => {
                let (tape, k) = (&a[0], &a[1]);
                quote!(#tape[#k as usize])
            }
            Op::ConstAt(name) => {
                let i = &a[0];
                quote!(#name[#i as usize])
            }
            Op::EmptyTape => quote!([]),
            Op::Loop(_) | Op::Cond(_) => unreachable!("regions are emitted by emit.rs"),
            Op::EigenGaps => {
                let (l, zero) = (&a[0], literal(elem, 0.0));
                let (i, j) = (local("i"), local("j"));
                quote!(#ty::from_fn(|#i, #j| if #i == #j { #zero } else { (#l[#j] - #l[#i]).recip() }))
            }
        }
    }

    /// How the user writes this op, for messages.
    pub fn surface(&self) -> &'static str {
        match self {
            Op::Add => "`+`",
            Op::Sub => "`-`",
            Op::Mul | Op::Scale | Op::MatMul | Op::TrMul => "`*`",
            Op::Neg => "unary `-`",
            Op::Transpose => "`.transpose()`",
            Op::Trace => "`.trace()`",
            Op::Dot => "`.dot()`",
            Op::Sum => "`.sum()`",
            Op::ComponentMul => "`.component_mul()`",
            Op::NormSquared => "`.norm_squared()`",
            Op::Norm => "`.norm()`",
            Op::Index(..) => "indexing",
            Op::Fun(fun) => fun.name(),
            Op::Powf => "`.powf()`",
            Op::Max => "`.max()`",
            Op::Min => "`.min()`",
            Op::Map(_) => "`.map()`",
            Op::Inverse(_) => "`.try_inverse()`",
            Op::Det => "`.determinant()`",
            Op::LogDet => "`.determinant().ln()`",
            Op::MaxEntry => "`.max()`",
            Op::MinEntry => "`.min()`",
            Op::SymEigenvalues => "`.symmetric_eigenvalues()`",
            Op::Call(_) => "a call",
            Op::Cmp(_) => "a comparison",
            Op::Not => "`!`",
            Op::IntBin(_) => "integer arithmetic",
            Op::IntToFloat => "`as`",
            Op::Assert(_) => "`assert!`",
            Op::At | Op::SetAt | Op::AddAt => "indexing",
            Op::Block(..) | Op::SetBlock | Op::AddBlock => "a view",
            Op::Loop(_) => "a loop",
            Op::Cond(_) => "`if`",
            Op::Int(_)
            | Op::SymConst(_)
            | Op::Bool(_)
            | Op::Load
            | Op::ConstAt(_)
            | Op::EmptyTape => "a value",
            Op::ArgMask(_)
            | Op::SymEigenvectors
            | Op::EigenGaps
            | Op::CallVjp(_)
            | Op::CallTangent(_)
            | Op::Field(_) => "a derivative",
            Op::Param(_)
            | Op::Lit(_)
            | Op::IntConst(_)
            | Op::FloatConst(_)
            | Op::Identity
            | Op::Fill
            | Op::Embed(..) => "a value",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shape rules.

fn matrix<'a>(ty: &'a Ty, what: &str) -> Result<&'a Ty, String> {
    match ty {
        Ty::Mat(..) => Ok(ty),
        other => Err(format!(
            "{what} needs a matrix or vector, found a {}",
            other.describe()
        )),
    }
}

fn square<'a>(ty: &'a Ty, what: &str) -> Result<&'a Ty, String> {
    match ty {
        Ty::Mat(r, c) if r == c => Ok(ty),
        other => Err(format!(
            "{what} needs a square matrix, found a {}",
            other.describe()
        )),
    }
}

fn rows(ty: &Ty) -> Dim {
    match ty {
        Ty::Mat(r, _) => r.clone(),
        _ => Dim::Lit(1),
    }
}

/// `Ok` when every type is an integer.
fn integers(args: &[&Ty]) -> Result<(), String> {
    match args.iter().find(|ty| ***ty != Ty::Int) {
        None => Ok(()),
        Some(other) => Err(format!("expected an integer, found a {}", other.describe())),
    }
}

fn exactly<'a>(ty: &'a Ty, expected: &Ty, what: &str) -> Result<&'a Ty, String> {
    if ty == expected {
        Ok(ty)
    } else {
        Err(format!("expected {what}, found a {}", ty.describe()))
    }
}

/// A symbolic integer as an `i64` expression.
pub fn sym_int(value: &SymInt) -> TokenStream {
    let pair = |a: &SymInt, b: &SymInt| (sym_int(a), sym_int(b));
    match value {
        SymInt::Lit(n) => {
            let n = Literal::i64_suffixed(*n);
            quote!(#n)
        }
        SymInt::Name(name) => quote!((#name as i64)),
        SymInt::Len(name) => quote!((#name.len() as i64)),
        SymInt::Add(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a + #b))
        }
        SymInt::Sub(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a - #b))
        }
        SymInt::Mul(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a * #b))
        }
        SymInt::Div(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a / #b))
        }
        SymInt::Rem(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a % #b))
        }
        SymInt::Min(a, b) => {
            let (a, b) = pair(a, b);
            quote!(::core::cmp::min(#a, #b))
        }
        SymInt::Max(a, b) => {
            let (a, b) = pair(a, b);
            quote!(::core::cmp::max(#a, #b))
        }
    }
}

impl CmpOp {
    fn token(self) -> TokenStream {
        match self {
            CmpOp::Lt => quote!(<),
            CmpOp::Le => quote!(<=),
            CmpOp::Gt => quote!(>),
            CmpOp::Ge => quote!(>=),
            CmpOp::Eq => quote!(==),
            CmpOp::Ne => quote!(!=),
        }
    }

    /// The comparison on two known values.
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

fn same_shape(op: &Op, args: &[&Ty]) -> Result<Ty, String> {
    if args[0] == args[1] {
        return Ok(args[0].clone());
    }
    let (a, b) = (args[0].describe(), args[1].describe());
    let hint = match (args[0], args[1]) {
        (Ty::Scalar, _) | (_, Ty::Scalar) => {
            "; matdiff adds and subtracts values of the same shape only"
        }
        _ => "",
    };
    Err(format!(
        "dimension mismatch in {}: left is {a}, right is {b}{hint}",
        op.surface()
    ))
}

fn scalar_pair(args: &[&Ty]) -> Result<Ty, String> {
    if args.iter().all(|ty| ty.is_scalar()) {
        Ok(Ty::Scalar)
    } else {
        Err("expected scalars".to_owned())
    }
}

fn scale_shape(args: &[&Ty]) -> Result<Ty, String> {
    match (args[0], args[1]) {
        (Ty::Scalar, m @ Ty::Mat(..)) => Ok(m.clone()),
        _ => Err("expected a scalar and a matrix".to_owned()),
    }
}

fn matmul_shape(args: &[&Ty]) -> Result<Ty, String> {
    match (args[0], args[1]) {
        (Ty::Mat(r, k1), Ty::Mat(k2, c)) if k1 == k2 => Ok(Ty::Mat(r.clone(), c.clone())),
        (a, b) => Err(format!(
            "dimension mismatch in `*`: cannot multiply a {} by a {}; the left operand's \
             column count must equal the right operand's row count",
            a.describe(),
            b.describe()
        )),
    }
}

fn trace_shape(ty: &Ty) -> Result<Ty, String> {
    match ty {
        Ty::Mat(r, c) if r == c => Ok(Ty::Scalar),
        other => Err(format!(
            "`.trace()` needs a square matrix, found a {}",
            other.describe()
        )),
    }
}

fn index_shape(ty: &Ty, i: usize, j: usize) -> Result<Ty, String> {
    let Ty::Mat(r, c) = ty else {
        return Err("indexing needs a matrix or vector, found a scalar".to_owned());
    };
    let out_of = |index: usize, dim: &Dim| matches!(dim, Dim::Lit(n) if index >= *n);
    if out_of(i, r) || out_of(j, c) {
        return Err(format!(
            "index ({i}, {j}) is out of bounds for a {}",
            ty.describe()
        ));
    }
    Ok(Ty::Scalar)
}

// ---------------------------------------------------------------------------------------------
// Tangent rules shared by several ops.

/// `d B(a, b) = B(da, b) + B(a, db)` for an op bilinear in its two arguments.
fn bilinear_jvp(g: &mut Graph, op: &Op, args: &[Id], d: &[Option<Id>], span: Span) -> Option<Id> {
    let left = d[0].map(|da| g.add(op.clone(), &[da, args[1]], span));
    let right = d[1].map(|db| g.add(op.clone(), &[args[0], db], span));
    g.add_opt(left, right, span)
}

/// `d ‖A‖² = 2 <A, dA>`.
fn norm_squared_jvp(g: &mut Graph, a: Id, da: Id, span: Span) -> Option<Id> {
    let two = g.lit(2.0, span);
    let inner = g.add(Op::Dot, &[a, da], span);
    Some(g.add(Op::Mul, &[two, inner], span))
}

/// `d ‖A‖ = <A, dA> / ‖A‖` (0 at A = 0, see `Fun::RecipOrZero`).
fn norm_jvp(g: &mut Graph, y: Id, a: Id, da: Id, span: Span) -> Option<Id> {
    let inner = g.add(Op::Dot, &[a, da], span);
    let inv = g.add(Op::Fun(Fun::RecipOrZero), &[y], span);
    Some(g.add(Op::Mul, &[inv, inner], span))
}

const THIRD_ORDER: &str = "a third derivative through a call to another differentiated \
                           function is not supported";

/// `(value, one derivative per argument)`: the type of `CallVjp` and `CallTangent`.
fn call_results(args: &[&Ty]) -> Ty {
    let mut items = vec![Ty::Scalar];
    items.extend(args.iter().map(|&ty| ty.clone()));
    Ty::Tuple(items)
}

/// `<a, b>` for matrices, `a b` for scalars.
fn inner_product(g: &mut Graph, a: Id, b: Id, span: Span) -> Id {
    let op = if g.ty(a).is_scalar() {
        Op::Mul
    } else {
        Op::Dot
    };
    g.add(op, &[a, b], span)
}

/// `s a` for a scalar `s` and a scalar or matrix `a`.
fn scale(g: &mut Graph, s: Id, a: Id, span: Span) -> Id {
    let op = if g.ty(a).is_scalar() {
        Op::Mul
    } else {
        Op::Scale
    };
    g.add(op, &[s, a], span)
}

/// A zero of `like`'s type, for a call's argument whose tangent is symbolically zero.
fn zeros_like(g: &mut Graph, like: Id, span: Span) -> Id {
    if !crate::regions::differentiable(g.ty(like)) {
        // An integer or condition argument: its direction is never read.
        return like;
    }
    let zero = g.lit(0.0, span);
    match g.ty(like).clone() {
        Ty::Scalar => zero,
        ty => g.add_typed(Op::Fill, &[zero], ty, span),
    }
}

/// `f(args)`, or the callee's generated `__matdiff_f_<suffix>(args)`, passing each argument
/// the way the user's call does.
fn call_expr(g: &Graph, c: usize, suffix: Option<&str>, a: &[TokenStream]) -> TokenStream {
    let callee = &g.callees[c];
    let mut path = callee.path.clone();
    if let (Some(suffix), Some(last)) = (suffix, path.segments.last_mut()) {
        // `format_ident!` drops a raw identifier's `r#`, as `generated_fn` does for the callee.
        let mut name = quote::format_ident!("__matdiff_{}_{}", last.ident, suffix);
        name.set_span(last.ident.span());
        last.ident = name;
    }
    let n = callee.by_ref.len();
    let operands = a.iter().enumerate().map(|(i, operand)| {
        // Matrix operands are references already; scalars are values.
        let is_matrix = !operand_is_scalar(g, c, i);
        if callee.int_args.get(i % n).copied().unwrap_or(false) {
            // An `i64` here; the callee takes the user's integer type.
            return if callee.by_ref[i % n] {
                quote!(&(#operand as _))
            } else {
                quote!((#operand as _))
            };
        }
        match (callee.by_ref[i % n], is_matrix) {
            (true, true) | (false, false) => quote!(#operand),
            (true, false) => quote!(&#operand),
            (false, true) => quote!(*#operand),
        }
    });
    quote!(#path(#(#operands),*))
}

fn operand_is_scalar(g: &Graph, c: usize, i: usize) -> bool {
    let n = g.callees[c].by_ref.len();
    g.callees[c]
        .scalar_args
        .get(i % n)
        .copied()
        .unwrap_or(false)
}

/// `∂y/∂args[k]` of a scalar op of two scalars, `None` where it is zero.
fn scalar_partial(op: &Op, g: &mut Graph, y: Id, args: &[Id], k: usize) -> Option<Id> {
    let span = g.node(y).span;
    let (a, b) = (args[0], args[1]);
    match (op, k) {
        // ∂(aᵇ)/∂a = b a^(b−1).
        (Op::Powf, 0) => {
            let one = g.lit(1.0, span);
            let b_minus_one = g.add(Op::Sub, &[b, one], span);
            let power = g.add(Op::Powf, &[a, b_minus_one], span);
            Some(g.add(Op::Mul, &[b, power], span))
        }
        // ∂(aᵇ)/∂b = aᵇ ln a.
        (Op::Powf, _) => {
            let ln_a = g.add(Op::Fun(Fun::Ln), &[a], span);
            Some(g.add(Op::Mul, &[y, ln_a], span))
        }
        // max follows a where a > b, min where a < b: the step H(±(a − b)) with H(0) = 0,
        // the subgradient ReLU uses; b gets the rest.
        (Op::Max | Op::Min, _) => {
            let gap = match op {
                Op::Max => g.add(Op::Sub, &[a, b], span),
                _ => g.add(Op::Sub, &[b, a], span),
            };
            let step = g.add(Op::Fun(Fun::Step), &[gap], span);
            if k == 0 {
                Some(step)
            } else {
                let one = g.lit(1.0, span);
                Some(g.add(Op::Sub, &[one, step], span))
            }
        }
        _ => None,
    }
}

/// The entry-wise derivative `f'.(A)` of `map(f)` at `A`.
fn map_slope(g: &mut Graph, f: usize, a: Id, span: Span) -> Option<Id> {
    let derivative = g.scalar_fn_derivative(f)?;
    Some(g.add(Op::Map(derivative), &[a], span))
}

fn inverse_transpose(g: &mut Graph, a: Id, span: Span) -> Id {
    let inverse = inverse_for_derivative(g, a, span);
    g.add(Op::Transpose, &[inverse], span)
}

/// `A⁻¹` for a derivative: the user's own `a.try_inverse().unwrap()` when the body has one
/// (so a singular `A` panics with the user's message, where the user's function does), else
/// matdiff's.
fn inverse_for_derivative(g: &mut Graph, a: Id, span: Span) -> Id {
    let users = g.ids().find(|&id| {
        matches!(
            g.op(id),
            Op::Inverse(InverseCheck::Unwrap | InverseCheck::Expect(_))
        ) && g.node(id).args == [a]
    });
    users.unwrap_or_else(|| g.add(Op::Inverse(InverseCheck::Derivative), &[a], span))
}

/// `<A⁻ᵀ, dA> = tr(A⁻¹ dA)`, without forming the product.
fn inverse_transpose_dot(g: &mut Graph, a: Id, da: Id, span: Span) -> Id {
    let inv_t = inverse_transpose(g, a, span);
    g.add(Op::Dot, &[inv_t, da], span)
}

/// A matrix of ones of the given shape.
fn ones(g: &mut Graph, rows: Dim, cols: Dim, span: Span) -> Id {
    let one = g.lit(1.0, span);
    g.add_typed(Op::Fill, &[one], Ty::Mat(rows, cols), span)
}

fn dim_n(g: &Graph, a: Id) -> Dim {
    rows(g.ty(a))
}

/// `dλ_i = u_iᵀ dA u_i`: the column sums of `U ∘ (dA U)`, as a column.
fn eigenvalues_jvp(g: &mut Graph, a: Id, da: Id, span: Span) -> Id {
    let u = g.add(Op::SymEigenvectors, &[a], span);
    let da_u = g.add(Op::MatMul, &[da, u], span);
    let products = g.add(Op::ComponentMul, &[u, da_u], span);
    let ones_row = ones(g, Dim::Lit(1), dim_n(g, a), span);
    let sums = g.add(Op::MatMul, &[ones_row, products], span);
    g.add(Op::Transpose, &[sums], span)
}

/// `Ā = Σ λ̄_i u_i u_iᵀ = (U ∘ 1 λ̄ᵀ) Uᵀ`.
fn eigenvalues_vjp(g: &mut Graph, a: Id, lambda_bar: Id, span: Span) -> Id {
    let u = g.add(Op::SymEigenvectors, &[a], span);
    let ones_col = ones(g, dim_n(g, a), Dim::Lit(1), span);
    let lambda_bar_t = g.add(Op::Transpose, &[lambda_bar], span);
    let columns = g.add(Op::MatMul, &[ones_col, lambda_bar_t], span);
    let scaled = g.add(Op::ComponentMul, &[u, columns], span);
    let ut = g.add(Op::Transpose, &[u], span);
    g.add(Op::MatMul, &[scaled, ut], span)
}

/// `dU = U (F ∘ Uᵀ dA U)` with `F = EigenGaps(λ)`.
fn eigenvectors_jvp(g: &mut Graph, u: Id, a: Id, da: Id, span: Span) -> Id {
    let gaps = eigen_gaps_of(g, a, span);
    let ut = g.add(Op::Transpose, &[u], span);
    let ut_da = g.add(Op::MatMul, &[ut, da], span);
    let projected = g.add(Op::MatMul, &[ut_da, u], span);
    let weighted = g.add(Op::ComponentMul, &[gaps, projected], span);
    g.add(Op::MatMul, &[u, weighted], span)
}

/// `Ā = U (F ∘ Uᵀ Ū) Uᵀ`, the transpose of [`eigenvectors_jvp`].
fn eigenvectors_vjp(g: &mut Graph, u: Id, a: Id, u_bar: Id, span: Span) -> Id {
    let gaps = eigen_gaps_of(g, a, span);
    let ut = g.add(Op::Transpose, &[u], span);
    let ut_ubar = g.add(Op::MatMul, &[ut, u_bar], span);
    let weighted = g.add(Op::ComponentMul, &[gaps, ut_ubar], span);
    let left = g.add(Op::MatMul, &[u, weighted], span);
    g.add(Op::MatMul, &[left, ut], span)
}

fn eigen_gaps_of(g: &mut Graph, a: Id, span: Span) -> Id {
    let lambda = g.add(Op::SymEigenvalues, &[a], span);
    g.add(Op::EigenGaps, &[lambda], span)
}

/// `dF_ij = −F_ij² (dλ_j − dλ_i)`.
fn eigen_gaps_jvp(g: &mut Graph, f: Id, dl: Id, span: Span) -> Id {
    let n = dim_n(g, f);
    let ones_col = ones(g, n.clone(), Dim::Lit(1), span);
    let ones_row = ones(g, Dim::Lit(1), n, span);
    let dl_t = g.add(Op::Transpose, &[dl], span);
    let dl_j = g.add(Op::MatMul, &[ones_col, dl_t], span);
    let dl_i = g.add(Op::MatMul, &[dl, ones_row], span);
    let differences = g.add(Op::Sub, &[dl_j, dl_i], span);
    let squared = g.add(Op::ComponentMul, &[f, f], span);
    let product = g.add(Op::ComponentMul, &[squared, differences], span);
    g.add(Op::Neg, &[product], span)
}

/// With `M = F̄ ∘ F ∘ F`: `λ̄ = (M − Mᵀ) 1`, the transpose of [`eigen_gaps_jvp`].
fn eigen_gaps_vjp(g: &mut Graph, f: Id, f_bar: Id, span: Span) -> Id {
    let n = dim_n(g, f);
    let squared = g.add(Op::ComponentMul, &[f, f], span);
    let m = g.add(Op::ComponentMul, &[f_bar, squared], span);
    let mt = g.add(Op::Transpose, &[m], span);
    let antisymmetric = g.add(Op::Sub, &[m, mt], span);
    let ones_col = ones(g, n, Dim::Lit(1), span);
    g.add(Op::MatMul, &[antisymmetric, ones_col], span)
}

// ---------------------------------------------------------------------------------------------
// Scalar functions: one line per function, the derivative in terms of `x` and the result `y`.

/// A scalar function `y = f(x)`, written by the user as a method on a scalar.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Fun {
    Exp,
    Ln,
    Sqrt,
    Sin,
    Cos,
    Tan,
    Tanh,
    Recip,
    Abs,
    Signum,
    /// The step `H(x)`: 1 for `x > 0`, else 0; the derivative weight of `max`/`min`.
    Step,
    /// `sign(x)` with `sign(0) = 0`: the derivative of `abs`, the documented subgradient.
    Sign,
    /// `1 / x` with `0` at `x = 0`: the derivative weight of `.norm()`, so that the gradient
    /// of a smooth function of the norm (`‖x‖²`) is 0 at the origin, not `0 · ∞`.
    RecipOrZero,
    Powi(i32),
}

impl Fun {
    /// The functions that take no argument besides the receiver, as the user spells them.
    pub const ALL: [Fun; 14] = [
        Fun::Exp,
        Fun::Ln,
        Fun::Sqrt,
        Fun::Sin,
        Fun::Cos,
        Fun::Tan,
        Fun::Tanh,
        Fun::Recip,
        Fun::Abs,
        Fun::Signum,
        Fun::Step,
        Fun::Sign,
        Fun::RecipOrZero,
        Fun::Powi(3),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fun::Exp => "exp",
            Fun::Ln => "ln",
            Fun::Sqrt => "sqrt",
            Fun::Sin => "sin",
            Fun::Cos => "cos",
            Fun::Tan => "tan",
            Fun::Tanh => "tanh",
            Fun::Recip => "recip",
            Fun::Abs => "abs",
            Fun::Signum => "signum",
            Fun::Step => "step",
            Fun::Sign => "sign",
            Fun::RecipOrZero => "recip_or_zero",
            Fun::Powi(_) => "powi",
        }
    }

    /// The function called `name` that takes no argument, if any.
    pub fn from_method(name: &str) -> Option<Fun> {
        Fun::ALL
            .into_iter()
            .find(|fun| fun.name() == name && fun.is_user_method())
    }

    /// Whether users write it as a method (the others serve derivatives only).
    fn is_user_method(self) -> bool {
        !matches!(
            self,
            Fun::Powi(_) | Fun::Step | Fun::Sign | Fun::RecipOrZero
        )
    }

    /// `f'(x)` as a node, given `x` and `y = f(x)`; `None` where it is zero.
    #[rustfmt::skip]
    fn derivative(self, g: &mut Graph, x: Id, y: Id, span: Span) -> Option<Id> {
        let lit = |g: &mut Graph, v: f64| g.lit(v, span);
        Some(match self {
            Fun::Exp    => y,                                                    // exp' = exp
            Fun::Ln     => g.add(Op::Fun(Fun::Recip), &[x], span),               // 1 / x
            Fun::Sqrt   => { let h = lit(g, 0.5); let r = g.add(Op::Fun(Fun::Recip), &[y], span);
                             g.add(Op::Mul, &[h, r], span) }                     // 1 / (2 y)
            Fun::Sin    => g.add(Op::Fun(Fun::Cos), &[x], span),                 // cos x
            Fun::Cos    => { let s = g.add(Op::Fun(Fun::Sin), &[x], span);
                             g.add(Op::Neg, &[s], span) }                        // -sin x
            Fun::Tan    => { let one = lit(g, 1.0); let yy = g.add(Op::Mul, &[y, y], span);
                             g.add(Op::Add, &[one, yy], span) }                  // 1 + y²
            Fun::Tanh   => { let one = lit(g, 1.0); let yy = g.add(Op::Mul, &[y, y], span);
                             g.add(Op::Sub, &[one, yy], span) }                  // 1 - y²
            Fun::Recip  => { let yy = g.add(Op::Mul, &[y, y], span);
                             g.add(Op::Neg, &[yy], span) }                       // -y²
            Fun::Abs    => g.add(Op::Fun(Fun::Sign), &[x], span),                // sign x (0 at 0)
            Fun::Signum | Fun::Step | Fun::Sign => return None,                  // 0 almost everywhere
            Fun::RecipOrZero => { let yy = g.add(Op::Mul, &[y, y], span);
                                  g.add(Op::Neg, &[yy], span) }                  // -y² (0 at 0)
            Fun::Powi(0) => return None,
            Fun::Powi(n) => { let n_lit = lit(g, f64::from(n));
                              let p = match n.checked_sub(1) {
                                  Some(m) => g.add(Op::Fun(Fun::Powi(m)), &[x], span),
                                  None => { let m = lit(g, f64::from(n) - 1.0);
                                            g.add(Op::Powf, &[x, m], span) }
                              };
                              g.add(Op::Mul, &[n_lit, p], span) }                // n x^(n-1)
        })
    }

    fn emit(self, x: &TokenStream) -> TokenStream {
        match self {
            Fun::Powi(n) => quote!(#x.powi(#n)),
            // `abs` of a float is `f64::abs`, but the derivative uses nalgebra-free signum
            // that is 0 at 0 (the documented subgradient), unlike `f64::signum`.
            Fun::Sign => quote!(if #x == 0.0 { 0.0 } else { #x.signum() }),
            Fun::RecipOrZero => quote!(if #x == 0.0 { 0.0 } else { #x.recip() }),
            Fun::Step => quote!(if #x > 0.0 { 1.0 } else { 0.0 }),
            _ => {
                let name = proc_macro2::Ident::new(self.name(), Span::call_site());
                quote!(#x.#name())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Emission helpers.

/// `Aᵀ B`, with nalgebra's `tr_mul` where [`tr_mul_is_fast`], else transpose-then-multiply.
fn tr_mul(g: &Graph, id: Id, a: &[TokenStream]) -> TokenStream {
    let (at, b) = (&a[0], &a[1]);
    if tr_mul_is_fast(g, id) {
        quote!(#at.tr_mul(#b))
    } else {
        quote!(#at.transpose() * #b)
    }
}

/// Whether the product `Aᵀ B` of node `product` is faster with nalgebra's `tr_mul` than with
/// an explicit transpose. `tr_mul` computes each entry as a dot product of columns: best for
/// a vector `B` and small matrices, while above 4 x 4 nalgebra's blocked product of a
/// transposed copy wins (measured in `benches/`).
pub fn tr_mul_is_fast(g: &Graph, product: Id) -> bool {
    let small = |dim: &Dim| matches!(dim, Dim::Lit(n) if *n <= 4);
    match g.ty(g.node(product).args[1]) {
        Ty::Mat(rows, cols) => small(cols) || (small(rows) && matches!(cols, Dim::Lit(_))),
        _ => true,
    }
}

/// A name local to a generated block. Mixed-site hygiene keeps it apart from the user's
/// variables, and the `__` prefix from the user's const generics, which a `let` binding
/// cannot shadow whatever its hygiene (`fn f<const m: usize>` and a generated `let m`).
pub fn local(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(&format!("__{name}"), Span::mixed_site())
}

fn method(receiver: &TokenStream, name: &str, args: &[TokenStream]) -> TokenStream {
    let name = proc_macro2::Ident::new(name, Span::call_site());
    quote!(#receiver.#name(#(#args),*))
}

pub fn literal(elem: Elem, value: f64) -> TokenStream {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "f32 functions use f32 literals"
    )]
    let narrowed = match elem {
        Elem::F32 => f64::from(value as f32),
        Elem::F64 => value,
    };
    // Infinity and NaN (a literal such as `1e400`, or folded from `1e300 * 1e300`) have no
    // literal syntax; `Literal::f64_suffixed` would panic.
    if !narrowed.is_finite() {
        let ty = match elem {
            Elem::F32 => quote!(f32),
            Elem::F64 => quote!(f64),
        };
        return match (narrowed.is_nan(), narrowed.is_sign_negative()) {
            (true, _) => quote!(<#ty>::NAN),
            (false, false) => quote!(<#ty>::INFINITY),
            (false, true) => quote!((-<#ty>::INFINITY)),
        };
    }
    let magnitude = match elem {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "f32 functions use f32 literals"
        )]
        Elem::F32 => Literal::f32_suffixed(value.abs() as f32),
        Elem::F64 => Literal::f64_suffixed(value.abs()),
    };
    if value.is_sign_negative() {
        quote!((-#magnitude))
    } else {
        quote!(#magnitude)
    }
}
