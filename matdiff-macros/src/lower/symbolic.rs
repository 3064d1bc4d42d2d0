//! Integers known at compile time, symbolically (`N - 1`, `x.len() / 2`): arithmetic on
//! `SymInt` that folds literals, for loop bounds, sizes and trip counts.

use crate::ops::IntOp;
use crate::types::{Dim, SymInt};

/// `x op y` on symbolic integers, folding literals.
pub(super) fn sym_arith(op: IntOp, x: SymInt, y: SymInt) -> SymInt {
    match (op, &x, &y) {
        (IntOp::Add | IntOp::Sub, _, SymInt::Lit(0))
        | (IntOp::Mul | IntOp::Div, _, SymInt::Lit(1)) => return x,
        (IntOp::Add, SymInt::Lit(0), _) | (IntOp::Mul, SymInt::Lit(1), _) => return y,
        _ => {}
    }
    let (x, y) = (Box::new(x), Box::new(y));
    match op {
        IntOp::Add => SymInt::Add(x, y),
        IntOp::Sub => SymInt::Sub(x, y),
        IntOp::Mul => SymInt::Mul(x, y),
        IntOp::Div => SymInt::Div(x, y),
        IntOp::Rem => SymInt::Rem(x, y),
    }
}

pub(super) fn dim_sym(d: &Dim) -> SymInt {
    match d {
        Dim::Lit(n) => SymInt::Lit(i64::try_from(*n).unwrap_or(i64::MAX)),
        Dim::Param(name) => SymInt::Name(name.clone()),
    }
}

pub(super) fn sym_mul(a: SymInt, b: SymInt) -> SymInt {
    match (&a, &b) {
        (SymInt::Lit(1), _) => b,
        (_, SymInt::Lit(1)) => a,
        (SymInt::Lit(x), SymInt::Lit(y)) => SymInt::Lit(x * y),
        _ => sym_arith(IntOp::Mul, a, b),
    }
}

/// `a − b`, folded where the sides allow (`(N − 1) − 1` stays symbolic).
pub(super) fn sym_sub(a: SymInt, b: SymInt) -> SymInt {
    match (&a, &b) {
        (SymInt::Lit(x), SymInt::Lit(y)) => SymInt::Lit(x - y),
        (_, SymInt::Lit(0)) => a,
        _ => sym_arith(IntOp::Sub, a, b),
    }
}

/// The smaller of two trip counts, where it is clear which (`N` and `N − 1`).
pub(super) fn sym_min(a: SymInt, b: SymInt) -> SymInt {
    if a == b {
        return a;
    }
    if let (SymInt::Lit(x), SymInt::Lit(y)) = (&a, &b) {
        return SymInt::Lit(*x.min(y));
    }
    let below = |small: &SymInt, large: &SymInt| matches!(small, SymInt::Sub(base, k) if **base == *large && matches!(**k, SymInt::Lit(k) if k >= 0));
    if below(&a, &b) {
        return a;
    }
    if below(&b, &a) {
        return b;
    }
    SymInt::Min(Box::new(a), Box::new(b))
}
