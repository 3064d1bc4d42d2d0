//! The operations: every op matdiff knows (`enum Op`) and the specs of its variants, with
//! the functions that only read them (how the user writes an op, which extremum it picks).
//!
//! What each op means lives in one exhaustive `match` per facet, one module each, so adding an
//! op means adding a variant here and filling the cases the compiler then lists:
//!
//! * `shape.rs`: its type rule and dimension-mismatch message;
//! * `rules.rs`: its tangent and adjoint rules (the ops that own a body, `Map`, `Loop` and
//!   `Cond`, get theirs from the transforms applied to the body, in `regions.rs`);
//! * `emit/ops.rs`: the nalgebra code that computes it;
//! * `Op::surface` below: how the user writes it, for messages.

use crate::types::{Dim, SymInt};
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
    /// A matrix of the node's type from its entries, the scalar arguments in column-major
    /// order (`Vector3::new(a, b, c)`, `Matrix2::new(..)`).
    Assemble,
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
    /// The cofactor matrix `cof(A) = adj(A)ᵀ`, the gradient of `det A`: `det(A) A⁻ᵀ` where `A`
    /// is invertible, and finite everywhere (computed without dividing by `det A` up to 3x3).
    Cofactor,
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
    /// `A⁻¹ B` (`A⁻ᵀ B` for `Solver::LuTransposed`): args `(A, B)`. Every solve with the
    /// same `A` and the same factorisation shares one factorisation of `A` (`emit/fuse.rs`).
    Solve(Solver),
    /// The symmetric matrix whose lower triangle is the argument's: `tril(A) + tril(A, −1)ᵀ`.
    /// nalgebra's `cholesky()` and `symmetric_eigen()` read only the lower triangle, so they
    /// are lowered as functions of this, and entries above the diagonal get no derivative.
    SymFromLower,
    /// The adjoint of `SymFromLower`: `G_ij + G_ji` below the diagonal, `G_ii` on it, 0 above.
    FoldLower,
    /// The lower factor `L` of `S = L Lᵀ` (nalgebra's `cholesky()` then `.l()`), for a
    /// symmetric positive-definite `S`, with the check the user wrote; as a function of any
    /// `S`, it is the factor of `(S + Sᵀ) / 2`.
    Cholesky(InverseCheck),
    /// The lower triangle with the diagonal halved (`Φ` in the derivative of the Cholesky
    /// factor).
    LowerHalved,
    /// The strictly lower triangle, `tril(X, −1)` (in the derivative of a QR factorisation).
    StrictLower,
    /// The thin `Q` of `A = Q R` (`a.qr().q()`, `m x n` for an `m x n` matrix with `m ≥ n`).
    QrQ,
    /// The `n x n` upper-triangular `R` of `A = Q R` (`a.qr().r()`).
    QrR,
    /// The singular values of a square matrix, in nalgebra's (descending) order.
    SingularValues,
    /// The matching left singular vectors `U` (columns), for the derivatives.
    SvdU,
    /// The matching right singular vectors `V` (columns), for the derivatives.
    SvdV,
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
    /// sums of them stay sparse (`build.rs`), so a loop's reverse sweep accumulates an
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

/// Which factorisation a `Solve` goes through.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Solver {
    /// `a.lu().solve(&b)`, with the check the user wrote on its `Option` (`Derivative` for
    /// the solves only a derivative needs).
    Lu(InverseCheck),
    /// `A⁻ᵀ B` from the same LU factorisation of `A`: the adjoint of an LU solve.
    LuTransposed,
    /// `S⁻¹ B` for a symmetric positive-definite `S` (`a.cholesky().unwrap().solve(&b)`, where
    /// `S` is `SymFromLower(a)`), through the Cholesky factor of `S`. Its rules use `S⁻ᵀ = S⁻¹`.
    Cholesky,
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
            Op::IntConst(proc_macro2::Ident::new("N", proc_macro2::Span::call_site())),
            Op::FloatConst(proc_macro2::Ident::new(
                "SCALE",
                proc_macro2::Span::call_site(),
            )),
            Op::Identity,
            Op::Fill,
            Op::Embed(0, 0),
            Op::Assemble,
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
            Op::Cofactor,
            Op::LogDet,
            Op::MaxEntry,
            Op::MinEntry,
            Op::ArgMask(Extremum::Max),
            Op::ArgMask(Extremum::Min),
            Op::SymEigenvalues,
            Op::SymEigenvectors,
            Op::EigenGaps,
            Op::Solve(Solver::Lu(InverseCheck::Unwrap)),
            Op::Solve(Solver::Lu(InverseCheck::Expect("singular".to_owned()))),
            Op::Solve(Solver::Lu(InverseCheck::Derivative)),
            Op::Solve(Solver::LuTransposed),
            Op::Solve(Solver::Cholesky),
            Op::SymFromLower,
            Op::FoldLower,
            Op::Cholesky(InverseCheck::Unwrap),
            Op::Cholesky(InverseCheck::Expect("not positive definite".to_owned())),
            Op::LowerHalved,
            Op::StrictLower,
            Op::QrQ,
            Op::QrR,
            Op::SingularValues,
            Op::SvdU,
            Op::SvdV,
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
            Op::ConstAt(proc_macro2::Ident::new(
                "DATA",
                proc_macro2::Span::call_site(),
            )),
            Op::EmptyTape,
        ]);
        ops
    }

    /// Which entry `MaxEntry`, `MinEntry` and `ArgMask` pick.
    pub fn extremum(&self) -> Extremum {
        match self {
            Op::MinEntry | Op::ArgMask(Extremum::Min) => Extremum::Min,
            _ => Extremum::Max,
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
            Op::Solve(Solver::Cholesky) => "`.cholesky().unwrap().solve()`",
            Op::Solve(_) => "`.lu().solve()`",
            Op::Cholesky(_) => "`.cholesky()`",
            Op::QrQ => "`.qr().q()`",
            Op::QrR => "`.qr().r()`",
            Op::SingularValues => "`.singular_values()`",
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
            | Op::Cofactor
            | Op::SymEigenvectors
            | Op::EigenGaps
            | Op::SymFromLower
            | Op::FoldLower
            | Op::LowerHalved
            | Op::StrictLower
            | Op::SvdU
            | Op::SvdV
            | Op::CallVjp(_)
            | Op::CallTangent(_)
            | Op::Field(_) => "a derivative",
            Op::Param(_)
            | Op::Lit(_)
            | Op::IntConst(_)
            | Op::FloatConst(_)
            | Op::Identity
            | Op::Fill
            | Op::Embed(..)
            | Op::Assemble => "a value",
        }
    }
}

impl CmpOp {
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

// ---------------------------------------------------------------------------------------------
// Scalar functions.

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
    /// Every function, for the tests that walk all ops.
    #[cfg(test)]
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
}
