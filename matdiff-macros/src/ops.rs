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
    /// `x / ‖x‖` (nalgebra's `normalize`, Frobenius norm for a matrix); NaN at 0, as the
    /// user's.
    Normalize,
    Index(usize, usize),
    /// A differentiable scalar function of one scalar.
    Fun(Fun),
    /// `x.powf(p)`, differentiable in both.
    Powf,
    /// `a.max(b)` of scalars; the derivative follows `a` where `a > b`, else `b`.
    Max,
    /// `a.min(b)` of scalars; the derivative follows `a` where `a < b`, else `b`.
    Min,
    /// `y.atan2(x)`: the angle of the point `(x, y)`, differentiable in both; the derivative
    /// is taken as 0 at the origin, where the angle jumps.
    Atan2,
    /// `a.hypot(b) = √(a² + b²)`, computed by `f64::hypot` (no overflow); the derivative is
    /// taken as 0 at the origin, as `.norm()`'s.
    Hypot,
    /// `a.copysign(b)`: `|a|` with the sign of `b`. It is `a` or `−a`, the branch chosen by
    /// the sign bits, so `∂/∂a = signum(a) signum(b)` (±1, the branch taken, at `a = ±0` too)
    /// and `∂/∂b = 0`.
    CopySign,
    /// `a.mul_add(b, c) = a b + c`, rounded once (`f64::mul_add`).
    MulAdd,
    /// The scalar function `Graph::scalar_fns[f]` applied to every entry (`m.map(..)`).
    Map(usize),
    /// `A⁻¹`, with the check the user wrote (or one of matdiff's own).
    Inverse(InverseCheck),
    Det,
    /// The diagonal of a square matrix, as a column vector (`.diagonal()` of a matrix whose size
    /// is a const generic; one of literal size is an `Assemble` of its entries).
    Diagonal,
    /// The square matrix with the vector argument on its diagonal (`from_diagonal(&v)`).
    FromDiagonal,
    /// The upper (lower) triangle, the diagonal included, the rest zero (`.upper_triangle()`).
    Triangle(Triangle),
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

/// Which triangle `Op::Triangle` keeps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Triangle {
    Upper,
    Lower,
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
            Op::Normalize => "`.normalize()`",
            Op::Index(..) => "indexing",
            Op::Fun(fun) => fun.name(),
            Op::Powf => "`.powf()`",
            Op::Max => "`.max()`",
            Op::Min => "`.min()`",
            Op::Atan2 => "`.atan2()`",
            Op::Hypot => "`.hypot()`",
            Op::CopySign => "`.copysign()`",
            Op::MulAdd => "`.mul_add()`",
            Op::Map(_) => "`.map()`",
            Op::Inverse(_) => "`.try_inverse()`",
            Op::Det => "`.determinant()`",
            Op::Diagonal => "`.diagonal()`",
            Op::FromDiagonal => "`from_diagonal()`",
            Op::Triangle(Triangle::Upper) => "`.upper_triangle()`",
            Op::Triangle(Triangle::Lower) => "`.lower_triangle()`",
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

/// Every op with example arguments, for the tests that walk the whole table (`Op::all()`),
/// written as one `match` over the variants: the compiler refuses a variant without its line,
/// so an op cannot be left out of the rule tests by forgetting it here.
#[cfg(test)]
macro_rules! op_examples {
    ($($pattern:pat => [$($example:expr),* $(,)?],)*) => {
        impl Op {
            pub fn all() -> Vec<Op> {
                // Exhaustive, without a wildcard: each variant has its line below.
                fn listed(op: &Op) {
                    match op {
                        $($pattern => {})*
                    }
                }
                let ops = vec![$($($example,)*)*];
                ops.iter().for_each(listed);
                ops
            }

            /// Each example is an instance of the pattern on its line.
            pub fn examples_match_their_patterns() -> bool {
                true $($(&& matches!($example, $pattern))*)*
            }
        }
    };
}

#[cfg(test)]
fn ident(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
}

#[cfg(test)]
op_examples! {
    Op::Param(_) => [Op::Param(0)],
    Op::Lit(_) => [Op::lit(1.0)],
    Op::IntConst(_) => [Op::IntConst(ident("N"))],
    Op::FloatConst(_) => [Op::FloatConst(ident("SCALE"))],
    Op::Identity => [Op::Identity],
    Op::Fill => [Op::Fill],
    Op::Embed(..) => [Op::Embed(0, 0)],
    Op::Assemble => [Op::Assemble],
    Op::Neg => [Op::Neg],
    Op::Add => [Op::Add],
    Op::Sub => [Op::Sub],
    Op::Mul => [Op::Mul],
    Op::Scale => [Op::Scale],
    Op::MatMul => [Op::MatMul],
    Op::TrMul => [Op::TrMul],
    Op::Transpose => [Op::Transpose],
    Op::Trace => [Op::Trace],
    Op::Dot => [Op::Dot],
    Op::Sum => [Op::Sum],
    Op::ComponentMul => [Op::ComponentMul],
    Op::NormSquared => [Op::NormSquared],
    Op::Norm => [Op::Norm],
    Op::Normalize => [Op::Normalize],
    Op::Index(..) => [Op::Index(0, 0)],
    // One line per function: the match is exhaustive over `Fun` too.
    Op::Fun(Fun::Exp) => [Op::Fun(Fun::Exp)],
    Op::Fun(Fun::Ln) => [Op::Fun(Fun::Ln)],
    Op::Fun(Fun::Sqrt) => [Op::Fun(Fun::Sqrt)],
    Op::Fun(Fun::Sin) => [Op::Fun(Fun::Sin)],
    Op::Fun(Fun::Cos) => [Op::Fun(Fun::Cos)],
    Op::Fun(Fun::Tan) => [Op::Fun(Fun::Tan)],
    Op::Fun(Fun::Tanh) => [Op::Fun(Fun::Tanh)],
    Op::Fun(Fun::Recip) => [Op::Fun(Fun::Recip)],
    Op::Fun(Fun::Abs) => [Op::Fun(Fun::Abs)],
    Op::Fun(Fun::Signum) => [Op::Fun(Fun::Signum)],
    Op::Fun(Fun::Step) => [Op::Fun(Fun::Step)],
    Op::Fun(Fun::Sign) => [Op::Fun(Fun::Sign)],
    Op::Fun(Fun::RecipOrZero) => [Op::Fun(Fun::RecipOrZero)],
    Op::Fun(Fun::LnOrZero) => [Op::Fun(Fun::LnOrZero)],
    Op::Fun(Fun::Powi(_)) => [Op::Fun(Fun::Powi(3))],
    Op::Fun(Fun::Ln1p) => [Op::Fun(Fun::Ln1p)],
    Op::Fun(Fun::ExpM1) => [Op::Fun(Fun::ExpM1)],
    Op::Fun(Fun::Log10) => [Op::Fun(Fun::Log10)],
    Op::Fun(Fun::Log2) => [Op::Fun(Fun::Log2)],
    Op::Fun(Fun::Atan) => [Op::Fun(Fun::Atan)],
    Op::Fun(Fun::Asin) => [Op::Fun(Fun::Asin)],
    Op::Fun(Fun::Acos) => [Op::Fun(Fun::Acos)],
    Op::Fun(Fun::Sinh) => [Op::Fun(Fun::Sinh)],
    Op::Fun(Fun::Cosh) => [Op::Fun(Fun::Cosh)],
    Op::Fun(Fun::Cbrt) => [Op::Fun(Fun::Cbrt)],
    Op::Powf => [Op::Powf],
    Op::Max => [Op::Max],
    Op::Min => [Op::Min],
    Op::Atan2 => [Op::Atan2],
    Op::Hypot => [Op::Hypot],
    Op::CopySign => [Op::CopySign],
    Op::MulAdd => [Op::MulAdd],
    Op::Map(_) => [Op::Map(0)],
    Op::Inverse(_) => [
        Op::Inverse(InverseCheck::Unwrap),
        Op::Inverse(InverseCheck::Expect("singular".to_owned())),
        Op::Inverse(InverseCheck::Derivative),
    ],
    Op::Det => [Op::Det],
    Op::Diagonal => [Op::Diagonal],
    Op::FromDiagonal => [Op::FromDiagonal],
    Op::Triangle(_) => [Op::Triangle(Triangle::Upper), Op::Triangle(Triangle::Lower)],
    Op::Cofactor => [Op::Cofactor],
    Op::LogDet => [Op::LogDet],
    Op::MaxEntry => [Op::MaxEntry],
    Op::MinEntry => [Op::MinEntry],
    Op::ArgMask(_) => [Op::ArgMask(Extremum::Max), Op::ArgMask(Extremum::Min)],
    Op::SymEigenvalues => [Op::SymEigenvalues],
    Op::SymEigenvectors => [Op::SymEigenvectors],
    Op::EigenGaps => [Op::EigenGaps],
    Op::Solve(_) => [
        Op::Solve(Solver::Lu(InverseCheck::Unwrap)),
        Op::Solve(Solver::Lu(InverseCheck::Expect("singular".to_owned()))),
        Op::Solve(Solver::Lu(InverseCheck::Derivative)),
        Op::Solve(Solver::LuTransposed),
        Op::Solve(Solver::Cholesky),
    ],
    Op::SymFromLower => [Op::SymFromLower],
    Op::FoldLower => [Op::FoldLower],
    Op::Cholesky(_) => [
        Op::Cholesky(InverseCheck::Unwrap),
        Op::Cholesky(InverseCheck::Expect("not positive definite".to_owned())),
    ],
    Op::LowerHalved => [Op::LowerHalved],
    Op::StrictLower => [Op::StrictLower],
    Op::QrQ => [Op::QrQ],
    Op::QrR => [Op::QrR],
    Op::SingularValues => [Op::SingularValues],
    Op::SvdU => [Op::SvdU],
    Op::SvdV => [Op::SvdV],
    Op::Call(_) => [Op::Call(0)],
    Op::CallVjp(_) => [Op::CallVjp(0)],
    Op::CallTangent(_) => [Op::CallTangent(0)],
    Op::Field(_) => [Op::Field(0)],
    Op::Int(_) => [Op::Int(1)],
    Op::SymConst(_) => [Op::SymConst(SymInt::Lit(1))],
    Op::IntBin(_) => [Op::IntBin(IntOp::Add)],
    Op::Cmp(_) => [Op::Cmp(CmpOp::Lt)],
    Op::Bool(_) => [Op::Bool(true)],
    Op::Not => [Op::Not],
    Op::IntToFloat => [Op::IntToFloat],
    Op::Assert(_) => [Op::Assert("assertion failed".to_owned())],
    Op::At => [Op::At],
    Op::SetAt => [Op::SetAt],
    Op::Block(..) => [Op::Block(Dim::Lit(1), Dim::Lit(1))],
    Op::SetBlock => [Op::SetBlock],
    Op::AddAt => [Op::AddAt],
    Op::AddBlock => [Op::AddBlock],
    Op::Load => [Op::Load],
    Op::EmptyTape => [Op::EmptyTape],
    Op::ConstAt(_) => [Op::ConstAt(ident("DATA"))],
    // The ops that own a region get their rules from their bodies; `tests/regions.rs` tests
    // loops and branches as programs.
    Op::Loop(_) => [],
    Op::Cond(_) => [],
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
    /// `ln x` with `0` at `x = 0`: the weight of the exponent's derivative of `a.powf(b)`,
    /// `aᵇ ln a`, so that it is `0` at `a = 0` (where `aᵇ = 0` for `b > 0`), not `0 · (−∞)`.
    LnOrZero,
    Powi(i32),
    /// `ln(1 + x)`, accurate near 0 (`f64::ln_1p`).
    Ln1p,
    /// `eˣ − 1`, accurate near 0 (`f64::exp_m1`).
    ExpM1,
    Log10,
    Log2,
    Atan,
    /// `asin x`, for `|x| ≤ 1`; its derivative is infinite at `±1`.
    Asin,
    /// `acos x`, for `|x| ≤ 1`; its derivative is infinite at `±1`.
    Acos,
    Sinh,
    Cosh,
    /// The real cube root (negative for negative `x`); its derivative is infinite at 0.
    Cbrt,
}

impl Fun {
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
            Fun::LnOrZero => "ln_or_zero",
            Fun::Powi(_) => "powi",
            Fun::Ln1p => "ln_1p",
            Fun::ExpM1 => "exp_m1",
            Fun::Log10 => "log10",
            Fun::Log2 => "log2",
            Fun::Atan => "atan",
            Fun::Asin => "asin",
            Fun::Acos => "acos",
            Fun::Sinh => "sinh",
            Fun::Cosh => "cosh",
            Fun::Cbrt => "cbrt",
        }
    }
}
