//! The rule table: for every op, its tangent (forward) rule and its adjoint (reverse) rule, one
//! exhaustive `match` each; larger rules are small functions below the dispatch.
//!
//! Conventions: `y = op(args)`; a tangent rule gets the argument tangents `d` (`None` is a
//! symbolic zero) and returns `dy`; an adjoint rule gets `ȳ` and the index `k` of an argument
//! and returns that argument's contribution `x̄_k` under the Frobenius inner product
//! `<A, B> = tr(Aᵀ B)`. Every op a rule builds has rules itself (checked by a unit test).
//!
//! The ops that own a body (`Map`'s closure, `Loop`'s and `Cond`'s regions) have no rule here:
//! theirs are the transforms applied to the body (`regions.rs`).

use crate::build::Build;
use crate::ir::{Dim, Graph, Id, Ty};
use crate::ops::{Fun, InverseCheck, Op, Solver};
use proc_macro2::Span;

/// `dy` given the argument tangents `d` (`None`: zero). `None` when `dy` is zero.
pub fn jvp(g: &mut Graph, op: &Op, y: Id, args: &[Id], d: &[Option<Id>]) -> Option<Id> {
    let span = g.node(y).span;
    match op {
        Op::Param(_) | Op::Lit(_) | Op::IntConst(_) | Op::FloatConst(_) | Op::Identity => None,
        Op::Fill | Op::Embed(..) => {
            let ty = g.ty(y).clone();
            d[0].map(|ds| g.add_typed(op.clone(), &[ds], ty, span))
        }
        Op::Neg | Op::Transpose | Op::Trace | Op::Sum | Op::Index(..) => {
            d[0].map(|da| g.add(op.clone(), &[da], span))
        }
        // Linear: the same op of the tangent.
        Op::Diagonal | Op::FromDiagonal | Op::Triangle(_) => {
            d[0].map(|da| g.add(op.clone(), &[da], span))
        }
        // Linear in the entries.
        Op::Assemble => {
            if d.iter().all(Option::is_none) {
                return None;
            }
            let zero = g.lit(0.0, span);
            let entries: Vec<Id> = d.iter().map(|di| di.unwrap_or(zero)).collect();
            let ty = g.ty(y).clone();
            Some(g.add_typed(Op::Assemble, &entries, ty, span))
        }
        Op::Add => g.add_opt(d[0], d[1], span),
        Op::Sub => {
            let db = d[1].map(|db| g.add(Op::Neg, &[db], span));
            g.add_opt(d[0], db, span)
        }
        Op::Mul | Op::Scale | Op::MatMul | Op::TrMul | Op::Dot | Op::ComponentMul => {
            bilinear_jvp(g, op, args, d, span)
        }
        Op::NormSquared => norm_squared_jvp(g, args[0], d[0]?, span),
        Op::Norm => norm_jvp(g, y, args[0], d[0]?, span),
        Op::Normalize => Some(normalize_derivative(g, y, args[0], d[0]?, span)),
        Op::Fun(fun) => {
            let slope = fun_derivative(g, *fun, args[0], y, span)?;
            Some(g.add(Op::Mul, &[slope, d[0]?], span))
        }
        Op::Powf | Op::Max | Op::Min | Op::Atan2 | Op::Hypot | Op::CopySign | Op::MulAdd => {
            // dy = Σₖ ∂y/∂xₖ dxₖ.
            let terms: Vec<Option<Id>> = (0..args.len())
                .map(|k| {
                    let slope = scalar_partial(g, op, y, args, k)?;
                    Some(g.add(Op::Mul, &[slope, d[k]?], span))
                })
                .collect();
            terms
                .into_iter()
                .fold(None, |sum, term| g.add_opt(sum, term, span))
        }
        // d(A⁻¹) = −A⁻¹ dA A⁻¹.
        Op::Inverse(_) => {
            let left = g.add(Op::MatMul, &[y, d[0]?], span);
            let both = g.add(Op::MatMul, &[left, y], span);
            Some(g.add(Op::Neg, &[both], span))
        }
        // d det A = <cof(A), dA> (= det A · tr(A⁻¹ dA) where A is invertible).
        Op::Det => {
            let cofactor = g.add(Op::Cofactor, &[args[0]], span);
            Some(g.add(Op::Dot, &[cofactor, d[0]?], span))
        }
        // d cof(A) = det A (<B, dA> B − B dAᵀ B), B = A⁻ᵀ: where A is invertible only.
        Op::Cofactor => {
            let (a, da) = (args[0], d[0]?);
            let b = inverse_transpose(g, a, span);
            let inner = g.add(Op::Dot, &[b, da], span);
            let first = g.add(Op::Scale, &[inner, b], span);
            let da_t = g.add(Op::Transpose, &[da], span);
            let left = g.add(Op::MatMul, &[b, da_t], span);
            let second = g.add(Op::MatMul, &[left, b], span);
            let difference = g.add(Op::Sub, &[first, second], span);
            let det = g.add(Op::Det, &[a], span);
            Some(g.add(Op::Scale, &[det, difference], span))
        }
        // d ln det A = tr(A⁻¹ dA) = <A⁻ᵀ, dA>.
        Op::LogDet => Some(inverse_transpose_dot(g, args[0], d[0]?, span)),
        Op::MaxEntry | Op::MinEntry => {
            let mask = g.add(Op::ArgMask(op.extremum()), &[args[0]], span);
            Some(g.add(Op::Dot, &[mask, d[0]?], span))
        }
        Op::ArgMask(_) => None,
        Op::SymEigenvalues => Some(eigenvalues_jvp(g, args[0], d[0]?, span)),
        Op::SymEigenvectors => Some(eigenvectors_jvp(g, y, args[0], d[0]?, span)),
        Op::EigenGaps => Some(eigen_gaps_jvp(g, y, d[0]?, span)),
        // A matrix-valued callee: dY = the value's part of the tangent of its VJP at a zero
        // cotangent (the callee's `__matdiff_tangent(params, 0, dparams, 0)`).
        Op::Call(c) if g.ty(y).is_matrix() => {
            let output = g.ty(y).clone();
            let zero = g.zeros(&output, span);
            let mut operands = args.to_vec();
            operands.push(zero);
            for (k, &arg) in args.iter().enumerate() {
                operands.push(d[k].unwrap_or_else(|| zeros_like(g, arg, span)));
            }
            operands.push(zero);
            let tuple = call_tuple(g, output, args);
            let tangent = g.add_typed(Op::CallTangent(*c), &operands, tuple, span);
            Some(g.add(Op::Field(0), &[tangent], span))
        }
        Op::Solve(solver) => solve_jvp(g, solver, y, args, d, span),
        // Linear.
        Op::SymFromLower | Op::FoldLower | Op::LowerHalved | Op::StrictLower => {
            d[0].map(|da| g.add(op.clone(), &[da], span))
        }
        Op::QrQ | Op::QrR => Some(qr_jvp(g, op, args[0], d[0]?, span)),
        Op::SingularValues => Some(singular_values_jvp(g, args[0], d[0]?, span)),
        Op::SvdU | Op::SvdV => Some(singular_vectors_jvp(g, op, args[0], d[0]?, span)),
        Op::Cholesky(_) => Some(cholesky_jvp(g, y, d[0]?, span)),
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
            // The tangent of a tuple has the tuple's type.
            let tuple = g.ty(y).clone();
            Some(g.add_typed(Op::CallTangent(*c), &operands, tuple, span))
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
            Some(g.add(op.clone(), &operands, span))
        }
        // Linear in (m, s): the tangent replaces (adds to) the entry of dm by ds.
        Op::SetAt | Op::SetBlock | Op::AddAt | Op::AddBlock => {
            if d[0].is_none() && d[1].is_none() {
                return None;
            }
            let dm = d[0].unwrap_or_else(|| zeros_like(g, args[0], span));
            let ds = d[1].unwrap_or_else(|| zeros_like(g, args[1], span));
            Some(g.add(op.clone(), &[dm, ds, args[2], args[3]], span))
        }
        // Their rules are the transforms applied to their bodies.
        Op::Map(_) | Op::Loop(_) | Op::Cond(_) => {
            g.internal_errors
                .push((span, "a region's tangent is built in regions.rs".to_owned()));
            None
        }
    }
}

/// The contribution `x̄_k` of `ȳ` to the adjoint of argument `k`. `None` when it is zero.
pub fn vjp(g: &mut Graph, op: &Op, y: Id, args: &[Id], ybar: Id, k: usize) -> Option<Id> {
    let span = g.node(y).span;
    let arg_ty = g.ty(args[k]).clone();
    Some(match (op, k) {
        (Op::Param(_) | Op::Lit(_) | Op::IntConst(_) | Op::FloatConst(_) | Op::Identity, _) => {
            return None
        }
        // Fill: y = s 11ᵀ, so s̄ = <11ᵀ, ȳ> = sum(ȳ).
        (Op::Fill, _) => g.add(Op::Sum, &[ybar], span),
        (Op::Embed(i, j), _) => g.add(Op::Index(*i, *j), &[ybar], span),
        // Entry k (column-major) of y is argument k: its adjoint is ȳ's entry.
        (Op::Assemble, _) => {
            let rows = match g.ty(y) {
                crate::ir::Ty::Mat(crate::ir::Dim::Lit(r), _) => *r,
                _ => return None,
            };
            g.add(Op::Index(k % rows, k / rows), &[ybar], span)
        }
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
        // The derivative of x / ‖x‖ is symmetric, so the adjoint is the tangent rule on ȳ.
        (Op::Normalize, _) => normalize_derivative(g, y, args[0], ybar, span),
        (Op::Index(i, j), _) => g.add_typed(Op::Embed(*i, *j), &[ybar], arg_ty, span),
        // `<diag A, ȳ> = <A, Diag ȳ>`, and back; a triangle is an orthogonal projection, its
        // own adjoint.
        (Op::Diagonal, _) => g.add(Op::FromDiagonal, &[ybar], span),
        (Op::FromDiagonal, _) => g.add(Op::Diagonal, &[ybar], span),
        (Op::Triangle(_), _) => g.add(op.clone(), &[ybar], span),
        (Op::Fun(fun), _) => {
            let slope = fun_derivative(g, *fun, args[0], y, span)?;
            g.add(Op::Mul, &[ybar, slope], span)
        }
        (Op::Powf | Op::Max | Op::Min | Op::Atan2 | Op::Hypot | Op::CopySign | Op::MulAdd, _) => {
            let slope = scalar_partial(g, op, y, args, k)?;
            g.add(Op::Mul, &[ybar, slope], span)
        }
        // Ā = −A⁻ᵀ ȳ A⁻ᵀ.
        (Op::Inverse(_), _) => {
            let yt = g.add(Op::Transpose, &[y], span);
            let left = g.add(Op::MatMul, &[yt, ybar], span);
            let both = g.add(Op::MatMul, &[left, yt], span);
            g.add(Op::Neg, &[both], span)
        }
        // Ā = ȳ cof(A), finite at a singular A too.
        (Op::Det, _) => {
            let cofactor = g.add(Op::Cofactor, &[args[0]], span);
            g.add(Op::Scale, &[ybar, cofactor], span)
        }
        // The transpose of the tangent rule, with <Ȳ, B dAᵀ B> = <B Ȳᵀ B, dA>:
        // Ā = det A (<Ȳ, B> B − B Ȳᵀ B), B = A⁻ᵀ.
        (Op::Cofactor, _) => {
            let a = args[0];
            let b = inverse_transpose(g, a, span);
            let inner = g.add(Op::Dot, &[ybar, b], span);
            let first = g.add(Op::Scale, &[inner, b], span);
            let ybar_t = g.add(Op::Transpose, &[ybar], span);
            let left = g.add(Op::MatMul, &[b, ybar_t], span);
            let second = g.add(Op::MatMul, &[left, b], span);
            let difference = g.add(Op::Sub, &[first, second], span);
            let det = g.add(Op::Det, &[a], span);
            g.add(Op::Scale, &[det, difference], span)
        }
        // Ā = ȳ A⁻ᵀ.
        (Op::LogDet, _) => {
            let inv_t = inverse_transpose(g, args[0], span);
            g.add(Op::Scale, &[ybar, inv_t], span)
        }
        (Op::MaxEntry | Op::MinEntry, _) => {
            let mask = g.add(Op::ArgMask(op.extremum()), &[args[0]], span);
            g.add(Op::Scale, &[ybar, mask], span)
        }
        (Op::ArgMask(_), _) => return None,
        (Op::SymEigenvalues, _) => eigenvalues_vjp(g, args[0], ybar, span),
        (Op::SymEigenvectors, _) => eigenvectors_vjp(g, y, args[0], ybar, span),
        (Op::EigenGaps, _) => eigen_gaps_vjp(g, y, ybar, span),
        // A matrix-valued callee: x̄ₖ from its VJP at the cotangent ȳ.
        (Op::Call(c), _) if g.ty(y).is_matrix() => {
            let tuple = call_tuple(g, g.ty(y).clone(), args);
            let mut operands = args.to_vec();
            operands.push(ybar);
            let vjp = g.add_typed(Op::CallVjp(*c), &operands, tuple, span);
            g.add(Op::Field(k + 1), &[vjp], span)
        }
        (Op::Solve(solver), _) => solve_vjp(g, solver, y, args, ybar, k, span),
        // `SymFromLower` and `FoldLower` are each other's adjoints; `LowerHalved` is a mask.
        (Op::SymFromLower, _) => g.add(Op::FoldLower, &[ybar], span),
        (Op::FoldLower, _) => g.add(Op::SymFromLower, &[ybar], span),
        (Op::LowerHalved, _) => g.add(Op::LowerHalved, &[ybar], span),
        (Op::StrictLower, _) => g.add(Op::StrictLower, &[ybar], span),
        (Op::QrQ | Op::QrR, _) => qr_vjp(g, op, args[0], ybar, span),
        (Op::SingularValues, _) => singular_values_vjp(g, args[0], ybar, span),
        // Built only by the rules of `SingularValues`, so only the forward transform of a
        // gradient program meets them; their adjoint would be a third derivative.
        (Op::SvdU | Op::SvdV, _) => {
            g.internal_errors.push((span, SINGULAR_VECTORS.to_owned()));
            return None;
        }
        (Op::Cholesky(_), _) => cholesky_vjp(g, y, ybar, span),
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
            g.add(op.clone(), &[ybar, zeros, args[2], args[3]], span)
        }
        (Op::SetAt, _) => g.add(Op::At, &[ybar, args[2], args[3]], span),
        (Op::SetBlock, _) => {
            let Ty::Mat(r, c) = arg_ty else {
                return None;
            };
            g.add(Op::Block(r, c), &[ybar, args[2], args[3]], span)
        }
        (Op::Map(_) | Op::Loop(_) | Op::Cond(_) | Op::Load, _) => {
            g.internal_errors.push((
                span,
                "a region's adjoint is built in regions.rs, a tape's is never needed".to_owned(),
            ));
            return None;
        }
    })
}

/// `(value, one cotangent per argument)`: what a matrix-valued callee's hidden functions
/// return.
fn call_tuple(g: &Graph, output: Ty, args: &[Id]) -> Ty {
    let mut items = vec![output];
    items.extend(args.iter().map(|&a| g.ty(a).clone()));
    Ty::Tuple(items)
}

const THIRD_ORDER: &str = "a third derivative through a call to another differentiated \
                           function is not supported";

const SINGULAR_VECTORS: &str = "the adjoint of singular vectors, which only derivatives of \
                                singular values use, would be a third derivative";

// ---------------------------------------------------------------------------------------------
// Rules shared by several ops.

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

/// `(I − y yᵀ) v / ‖x‖` for `y = x / ‖x‖`: the tangent of `normalize` along `v = dx`, and
/// its adjoint for `v = ȳ` (the operator is symmetric).
fn normalize_derivative(g: &mut Graph, y: Id, x: Id, v: Id, span: Span) -> Id {
    let along = g.add(Op::Dot, &[y, v], span);
    let projection = g.add(Op::Scale, &[along, y], span);
    let normal = g.add(Op::Sub, &[v, projection], span);
    let norm = g.add(Op::Norm, &[x], span);
    let inv = g.add(Op::Fun(Fun::Recip), &[norm], span);
    g.add(Op::Scale, &[inv, normal], span)
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
    if !g.ty(like).is_differentiable() {
        // An integer or condition argument: its direction is never read.
        return like;
    }
    let ty = g.ty(like).clone();
    g.zeros(&ty, span)
}

/// `∂y/∂args[k]` of a scalar op of two (`mul_add`: three) scalars, `None` where it is zero.
fn scalar_partial(g: &mut Graph, op: &Op, y: Id, args: &[Id], k: usize) -> Option<Id> {
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
        // ∂(aᵇ)/∂b = aᵇ ln a, taken as 0 at a = 0 (its limit for b > 0, where aᵇ = 0).
        (Op::Powf, _) => {
            let ln_a = g.add(Op::Fun(Fun::LnOrZero), &[a], span);
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
        // y = atan2(a, b), the angle of (b, a): ∂/∂a = b / (a² + b²), ∂/∂b = −a / (a² + b²);
        // 0 at the origin (see `Fun::RecipOrZero`).
        (Op::Atan2, _) => {
            let aa = g.add(Op::Mul, &[a, a], span);
            let bb = g.add(Op::Mul, &[b, b], span);
            let radius_squared = g.add(Op::Add, &[aa, bb], span);
            let inv = g.add(Op::Fun(Fun::RecipOrZero), &[radius_squared], span);
            if k == 0 {
                Some(g.add(Op::Mul, &[b, inv], span))
            } else {
                let slope = g.add(Op::Mul, &[a, inv], span);
                Some(g.add(Op::Neg, &[slope], span))
            }
        }
        // y = hypot(a, b): ∂/∂a = a / y, ∂/∂b = b / y; 0 at the origin, as for `.norm()`.
        (Op::Hypot, _) => {
            let inv = g.add(Op::Fun(Fun::RecipOrZero), &[y], span);
            Some(g.add(Op::Mul, &[args[k], inv], span))
        }
        // y = a or −a as the sign bits of a and b agree or not: ∂/∂a = ±1, the branch taken
        // (`signum` reads the sign bit, so this holds at a = ±0 too); b only picks the branch.
        (Op::CopySign, 0) => {
            let sa = g.add(Op::Fun(Fun::Signum), &[a], span);
            let sb = g.add(Op::Fun(Fun::Signum), &[b], span);
            Some(g.add(Op::Mul, &[sa, sb], span))
        }
        (Op::CopySign, _) => None,
        // y = a b + c.
        (Op::MulAdd, 0) => Some(b),
        (Op::MulAdd, 1) => Some(a),
        (Op::MulAdd, _) => Some(g.lit(1.0, span)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Inverses and determinants.

fn inverse_transpose(g: &mut Graph, a: Id, span: Span) -> Id {
    if let Some(inverse) = inverse_by_cholesky(g, a, span) {
        return inverse;
    }
    let inverse = inverse_for_derivative(g, a, span);
    g.add(Op::Transpose, &[inverse], span)
}

/// `A⁻¹` for a derivative: the user's own `a.try_inverse().unwrap()` when the body has one
/// (so a singular `A` panics with the user's message, where the user's function does), else
/// matdiff's.
fn inverse_for_derivative(g: &mut Graph, a: Id, span: Span) -> Id {
    let users = g.users_of(a).iter().copied().find(|&id| {
        matches!(
            g.op(id),
            Op::Inverse(InverseCheck::Unwrap | InverseCheck::Expect(_))
        )
    });
    users.unwrap_or_else(|| g.add(Op::Inverse(InverseCheck::Derivative), &[a], span))
}

/// `S⁻¹ = S⁻ᵀ` through the Cholesky factor of `S` when the body factorises `S` (the
/// symmetric `SymFromLower(a)` of the user's `a.cholesky()`), so the derivative of
/// `chol.determinant().ln()` reuses the user's factorisation instead of an LU of its own.
fn inverse_by_cholesky(g: &mut Graph, s: Id, span: Span) -> Option<Id> {
    let factorised = g
        .users_of(s)
        .iter()
        .any(|&id| matches!(g.op(id), Op::Cholesky(_)));
    if !factorised {
        return None;
    }
    let ty = g.ty(s).clone();
    let identity = g.add_typed(Op::Identity, &[], ty, span);
    Some(g.add(Op::Solve(Solver::Cholesky), &[s, identity], span))
}

/// `<A⁻ᵀ, dA> = tr(A⁻¹ dA)`, without forming the product.
fn inverse_transpose_dot(g: &mut Graph, a: Id, da: Id, span: Span) -> Id {
    let inv_t = inverse_transpose(g, a, span);
    g.add(Op::Dot, &[inv_t, da], span)
}

// ---------------------------------------------------------------------------------------------
// Solves and the Cholesky factor.

/// The solver a derivative of a solve with `solver` uses: the same factorisation of `A`,
/// without the user's check (the user's own solve has panicked first where `A` is singular).
fn derivative_solver(solver: &Solver) -> Solver {
    match solver {
        Solver::Lu(_) => Solver::Lu(InverseCheck::Derivative),
        other => other.clone(),
    }
}

/// The solver of the adjoint: `A⁻ᵀ` for `A⁻¹` and back; `S⁻ᵀ = S⁻¹` for a Cholesky solve.
fn adjoint_solver(solver: &Solver) -> Solver {
    match solver {
        Solver::Lu(_) => Solver::LuTransposed,
        Solver::LuTransposed => Solver::Lu(InverseCheck::Derivative),
        Solver::Cholesky => Solver::Cholesky,
    }
}

/// `Y = A⁻¹ B`: `dY = A⁻¹ (dB − dA Y)`; for `Y = A⁻ᵀ B`: `dY = A⁻ᵀ (dB − dAᵀ Y)`.
fn solve_jvp(
    g: &mut Graph,
    solver: &Solver,
    y: Id,
    args: &[Id],
    d: &[Option<Id>],
    span: Span,
) -> Option<Id> {
    let moved = d[0].map(|da| {
        let da = match solver {
            Solver::LuTransposed => g.add(Op::Transpose, &[da], span),
            _ => da,
        };
        g.add(Op::MatMul, &[da, y], span)
    });
    let rhs = match (d[1], moved) {
        (None, None) => return None,
        (Some(db), None) => db,
        (None, Some(moved)) => g.add(Op::Neg, &[moved], span),
        (Some(db), Some(moved)) => g.add(Op::Sub, &[db, moved], span),
    };
    Some(g.add(Op::Solve(derivative_solver(solver)), &[args[0], rhs], span))
}

/// `Y = A⁻¹ B`: `Z = A⁻ᵀ Ȳ`, `B̄ = Z`, `Ā = −Z Yᵀ`; for `Y = A⁻ᵀ B`: `Z = A⁻¹ Ȳ`, `B̄ = Z`,
/// `Ā = −Y Zᵀ`.
fn solve_vjp(
    g: &mut Graph,
    solver: &Solver,
    y: Id,
    args: &[Id],
    ybar: Id,
    k: usize,
    span: Span,
) -> Id {
    let z = g.add(Op::Solve(adjoint_solver(solver)), &[args[0], ybar], span);
    if k == 1 {
        return z;
    }
    let (left, right) = match solver {
        Solver::LuTransposed => (y, z),
        _ => (z, y),
    };
    // The sign on the thinner factor: negating `Z` (n x k) costs less than `Z Yᵀ` (n x n).
    let minus_left = g.add(Op::Neg, &[left], span);
    let right_t = g.add(Op::Transpose, &[right], span);
    g.add(Op::MatMul, &[minus_left, right_t], span)
}

/// `(X + Xᵀ) / 2`.
fn symmetric_part(g: &mut Graph, x: Id, span: Span) -> Id {
    let xt = g.add(Op::Transpose, &[x], span);
    let sum = g.add(Op::Add, &[x, xt], span);
    let half = g.lit(0.5, span);
    g.add(Op::Scale, &[half, sum], span)
}

/// `L = chol(S)`: `dL = L Φ(L⁻¹ dS L⁻ᵀ)` with `Φ` = `LowerHalved`, `dS` taken symmetric (the
/// op is the factor of `(S + Sᵀ) / 2`; the lowering passes it a symmetric `S`).
fn cholesky_jvp(g: &mut Graph, l: Id, ds: Id, span: Span) -> Id {
    let k = inverse_for_derivative(g, l, span);
    let ds = symmetric_part(g, ds, span);
    let kt = g.add(Op::Transpose, &[k], span);
    let left = g.add(Op::MatMul, &[k, ds], span);
    let x = g.add(Op::MatMul, &[left, kt], span);
    let halved = g.add(Op::LowerHalved, &[x], span);
    g.add(Op::MatMul, &[l, halved], span)
}

/// The transpose of [`cholesky_jvp`]: `S̄ = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)`.
fn cholesky_vjp(g: &mut Graph, l: Id, l_bar: Id, span: Span) -> Id {
    let k = inverse_for_derivative(g, l, span);
    let lt = g.add(Op::Transpose, &[l], span);
    let lt_lbar = g.add(Op::MatMul, &[lt, l_bar], span);
    let m = g.add(Op::LowerHalved, &[lt_lbar], span);
    let kt = g.add(Op::Transpose, &[k], span);
    let left = g.add(Op::MatMul, &[kt, m], span);
    let inner = g.add(Op::MatMul, &[left, k], span);
    symmetric_part(g, inner, span)
}

// ---------------------------------------------------------------------------------------------
// QR (thin, m ≥ n, full column rank).

/// `Q`, `R` and `K = R⁻¹` of `a`.
fn qr_parts(g: &mut Graph, a: Id, span: Span) -> (Id, Id, Id) {
    let q = g.add(Op::QrQ, &[a], span);
    let r = g.add(Op::QrR, &[a], span);
    let k = inverse_for_derivative(g, r, span);
    (q, r, k)
}

/// With `X = Qᵀ dA R⁻¹` and `Ω = tril(X, −1) − tril(X, −1)ᵀ`:
/// `dQ = Q Ω + (I − Q Qᵀ) dA R⁻¹ = Q (Ω − X) + dA R⁻¹`, `dR = (X − Ω) R`.
fn qr_jvp(g: &mut Graph, op: &Op, a: Id, da: Id, span: Span) -> Id {
    let (q, r, k) = qr_parts(g, a, span);
    let da_k = g.add(Op::MatMul, &[da, k], span);
    let qt = g.add(Op::Transpose, &[q], span);
    let x = g.add(Op::MatMul, &[qt, da_k], span);
    let lower = g.add(Op::StrictLower, &[x], span);
    let lower_t = g.add(Op::Transpose, &[lower], span);
    let omega = g.add(Op::Sub, &[lower, lower_t], span);
    match op {
        Op::QrQ => {
            let rotation = g.add(Op::Sub, &[omega, x], span);
            let rotated = g.add(Op::MatMul, &[q, rotation], span);
            g.add(Op::Add, &[rotated, da_k], span)
        }
        _ => {
            let upper = g.add(Op::Sub, &[x, omega], span);
            g.add(Op::MatMul, &[upper, r], span)
        }
    }
}

/// The transpose of [`qr_jvp`]: with `M = R R̄ᵀ − Q̄ᵀ Q` (the term of the other factor's
/// cotangent left out), `Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ`, `copyltu(M) = SymFromLower(M)`.
fn qr_vjp(g: &mut Graph, op: &Op, a: Id, ybar: Id, span: Span) -> Id {
    let (q, r, k) = qr_parts(g, a, span);
    let m = match op {
        Op::QrQ => {
            let qbar_t = g.add(Op::Transpose, &[ybar], span);
            let product = g.add(Op::MatMul, &[qbar_t, q], span);
            g.add(Op::Neg, &[product], span)
        }
        _ => {
            let rbar_t = g.add(Op::Transpose, &[ybar], span);
            g.add(Op::MatMul, &[r, rbar_t], span)
        }
    };
    let copied = g.add(Op::SymFromLower, &[m], span);
    let rotated = g.add(Op::MatMul, &[q, copied], span);
    let left = match op {
        Op::QrQ => g.add(Op::Add, &[ybar, rotated], span),
        _ => rotated,
    };
    let kt = g.add(Op::Transpose, &[k], span);
    g.add(Op::MatMul, &[left, kt], span)
}

// ---------------------------------------------------------------------------------------------
// Singular values of a square matrix, `A = U Σ Vᵀ`.

/// `dσᵢ = uᵢᵀ dA vᵢ`: the column sums of `U ∘ (dA V)`, as a column.
fn singular_values_jvp(g: &mut Graph, a: Id, da: Id, span: Span) -> Id {
    let u = g.add(Op::SvdU, &[a], span);
    let v = g.add(Op::SvdV, &[a], span);
    let da_v = g.add(Op::MatMul, &[da, v], span);
    let products = g.add(Op::ComponentMul, &[u, da_v], span);
    let ones_row = ones(g, Dim::Lit(1), dim_n(g, a), span);
    let sums = g.add(Op::MatMul, &[ones_row, products], span);
    g.add(Op::Transpose, &[sums], span)
}

/// `Ā = Σ σ̄ᵢ uᵢ vᵢᵀ = (U ∘ 1 σ̄ᵀ) Vᵀ`.
fn singular_values_vjp(g: &mut Graph, a: Id, sigma_bar: Id, span: Span) -> Id {
    let u = g.add(Op::SvdU, &[a], span);
    let v = g.add(Op::SvdV, &[a], span);
    let ones_col = ones(g, dim_n(g, a), Dim::Lit(1), span);
    let sigma_bar_t = g.add(Op::Transpose, &[sigma_bar], span);
    let columns = g.add(Op::MatMul, &[ones_col, sigma_bar_t], span);
    let scaled = g.add(Op::ComponentMul, &[u, columns], span);
    let vt = g.add(Op::Transpose, &[v], span);
    g.add(Op::MatMul, &[scaled, vt], span)
}

/// With `P = Uᵀ dA V` and `Fᵢⱼ = 1/(σⱼ² − σᵢ²)` (0 on the diagonal), for a square `A` with
/// simple singular values: `dU = U (F ∘ (P Σ + Σ Pᵀ))`, `dV = V (F ∘ (Σ P + Pᵀ Σ))`.
fn singular_vectors_jvp(g: &mut Graph, op: &Op, a: Id, da: Id, span: Span) -> Id {
    let u = g.add(Op::SvdU, &[a], span);
    let v = g.add(Op::SvdV, &[a], span);
    let sigma = g.add(Op::SingularValues, &[a], span);
    let n = dim_n(g, a);
    let squares = g.add(Op::ComponentMul, &[sigma, sigma], span);
    let gaps = g.add(Op::EigenGaps, &[squares], span);
    let ut = g.add(Op::Transpose, &[u], span);
    let ut_da = g.add(Op::MatMul, &[ut, da], span);
    let p = g.add(Op::MatMul, &[ut_da, v], span);
    let pt = g.add(Op::Transpose, &[p], span);
    // `X Σ` scales the columns of `X` by σ, `Σ X` its rows.
    let ones_col = ones(g, n.clone(), Dim::Lit(1), span);
    let ones_row = ones(g, Dim::Lit(1), n, span);
    let sigma_t = g.add(Op::Transpose, &[sigma], span);
    let by_column = g.add(Op::MatMul, &[ones_col, sigma_t], span);
    let by_row = g.add(Op::MatMul, &[sigma, ones_row], span);
    let (basis, first, second) = match op {
        Op::SvdU => (u, (p, by_column), (pt, by_row)),
        _ => (v, (p, by_row), (pt, by_column)),
    };
    let first = g.add(Op::ComponentMul, &[first.0, first.1], span);
    let second = g.add(Op::ComponentMul, &[second.0, second.1], span);
    let sum = g.add(Op::Add, &[first, second], span);
    let weighted = g.add(Op::ComponentMul, &[gaps, sum], span);
    g.add(Op::MatMul, &[basis, weighted], span)
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigendecomposition.

/// A matrix of ones of the given shape.
fn ones(g: &mut Graph, rows: Dim, cols: Dim, span: Span) -> Id {
    let one = g.lit(1.0, span);
    g.add_typed(Op::Fill, &[one], Ty::Mat(rows, cols), span)
}

/// The row count of `a`'s type.
fn dim_n(g: &Graph, a: Id) -> Dim {
    match g.ty(a) {
        Ty::Mat(r, _) => r.clone(),
        _ => Dim::Lit(1),
    }
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

/// `f'(x)` as a node, given `x` and `y = f(x)`; `None` where it is zero.
#[rustfmt::skip]
fn fun_derivative(g: &mut Graph, fun: Fun, x: Id, y: Id, span: Span) -> Option<Id> {
    let lit = |g: &mut Graph, v: f64| g.lit(v, span);
    Some(match fun {
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
        Fun::LnOrZero => g.add(Op::Fun(Fun::RecipOrZero), &[x], span),       // 1 / x (0 at 0)
        Fun::Powi(0) => return None,
        Fun::Powi(n) => { let n_lit = lit(g, f64::from(n));
                          let p = match n.checked_sub(1) {
                              Some(m) => g.add(Op::Fun(Fun::Powi(m)), &[x], span),
                              None => { let m = lit(g, f64::from(n) - 1.0);
                                        g.add(Op::Powf, &[x, m], span) }
                          };
                          g.add(Op::Mul, &[n_lit, p], span) }                // n x^(n-1)
        Fun::Ln1p   => { let one = lit(g, 1.0); let s = g.add(Op::Add, &[one, x], span);
                         g.add(Op::Fun(Fun::Recip), &[s], span) }            // 1 / (1 + x)
        Fun::ExpM1  => { let one = lit(g, 1.0); g.add(Op::Add, &[y, one], span) } // y + 1 = eˣ
        Fun::Log10  => log_derivative(g, std::f64::consts::LN_10, x, span),  // 1 / (x ln 10)
        Fun::Log2   => log_derivative(g, std::f64::consts::LN_2, x, span),   // 1 / (x ln 2)
        Fun::Atan   => { let one = lit(g, 1.0); let xx = g.add(Op::Mul, &[x, x], span);
                         let s = g.add(Op::Add, &[one, xx], span);
                         g.add(Op::Fun(Fun::Recip), &[s], span) }            // 1 / (1 + x²)
        Fun::Asin   => arcsine_derivative(g, x, span),                       // 1 / √(1 − x²)
        Fun::Acos   => { let d = arcsine_derivative(g, x, span);
                         g.add(Op::Neg, &[d], span) }                        // −1 / √(1 − x²)
        Fun::Sinh   => g.add(Op::Fun(Fun::Cosh), &[x], span),                // cosh x
        Fun::Cosh   => g.add(Op::Fun(Fun::Sinh), &[x], span),                // sinh x
        Fun::Cbrt   => { let third = lit(g, 1.0 / 3.0); let yy = g.add(Op::Mul, &[y, y], span);
                         let r = g.add(Op::Fun(Fun::Recip), &[yy], span);
                         g.add(Op::Mul, &[third, r], span) }                 // 1 / (3 y²)
    })
}

/// `1 / (x ln b)`, the derivative of the base-`b` logarithm, `ln_b` = `ln b`.
fn log_derivative(g: &mut Graph, ln_b: f64, x: Id, span: Span) -> Id {
    let scale = g.lit(ln_b.recip(), span);
    let r = g.add(Op::Fun(Fun::Recip), &[x], span);
    g.add(Op::Mul, &[scale, r], span)
}

/// `1 / √(1 − x²)`, the derivative of `asin` (and of `acos`, negated).
fn arcsine_derivative(g: &mut Graph, x: Id, span: Span) -> Id {
    let one = g.lit(1.0, span);
    let xx = g.add(Op::Mul, &[x, x], span);
    let gap = g.add(Op::Sub, &[one, xx], span);
    let root = g.add(Op::Fun(Fun::Sqrt), &[gap], span);
    g.add(Op::Fun(Fun::Recip), &[root], span)
}
