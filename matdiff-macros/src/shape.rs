//! Shape rules: the type of `op(args)` from its arguments' types, or the message saying why
//! they do not fit (a dimension mismatch names both shapes). `Build::add` runs this on every
//! node it builds; lowering reports an error as the user's, the transforms as a bug in a rule.

use crate::ops::Op;
use crate::types::{Dim, Ty};

/// The type of `op(args)`, or a message saying why the shapes do not fit.
///
/// Ops whose type is not a function of their arguments' (`Param`, `Lit`, `Identity`,
/// `Fill`, `Embed`) are built with `Build::add_typed` and never reach this.
pub fn shape(op: &Op, args: &[&Ty]) -> Result<Ty, String> {
    match op {
        Op::Param(_)
        | Op::Lit(_)
        | Op::IntConst(_)
        | Op::FloatConst(_)
        | Op::Identity
        | Op::Fill
        | Op::Embed(..)
        | Op::Assemble
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
        Op::Add | Op::Sub => same_shape(op, args),
        Op::Mul => scalar_pair(args),
        Op::Scale => scale_shape(args),
        Op::MatMul => matmul_shape(args),
        Op::TrMul => matmul_shape(&[&args[0].transposed(), args[1]]),
        Op::Transpose => matrix(args[0], "`.transpose()`").map(Ty::transposed),
        Op::Trace => trace_shape(args[0]),
        Op::Dot | Op::ComponentMul => same_shape(op, args).map(|ty| match op {
            Op::Dot => Ty::Scalar,
            _ => ty,
        }),
        Op::Sum | Op::NormSquared | Op::Norm => matrix(args[0], op.surface()).map(|_| Ty::Scalar),
        Op::Index(i, j) => index_shape(args[0], *i, *j),
        Op::Fun(_) => scalar_pair(&[args[0], args[0]]),
        Op::Powf | Op::Max | Op::Min | Op::Atan2 | Op::Hypot | Op::CopySign | Op::MulAdd => {
            scalar_pair(args)
        }
        Op::Map(_) | Op::ArgMask(_) | Op::Normalize => matrix(args[0], op.surface()).cloned(),
        Op::Solve(_) => solve_shape(args),
        Op::QrQ | Op::QrR => qr_shape(op, args[0]),
        Op::SymFromLower | Op::FoldLower | Op::LowerHalved | Op::StrictLower | Op::Cholesky(_) => {
            square(args[0], op.surface()).cloned()
        }
        Op::SingularValues => match args[0] {
            ty @ Ty::Mat(r, c) if r == c => Ok(Ty::Mat(rows(ty), Dim::Lit(1))),
            other => Err(format!(
                "`.singular_values()` is differentiated for square matrices, found a {}; the \
                 singular values of a tall `a` are the square roots of \
                 `(a.transpose() * a).symmetric_eigenvalues()`",
                other.describe()
            )),
        },
        Op::SvdU | Op::SvdV => square(args[0], op.surface()).cloned(),
        Op::Inverse(_) | Op::SymEigenvectors | Op::Cofactor => {
            square(args[0], op.surface()).cloned()
        }
        Op::Det | Op::LogDet => square(args[0], op.surface()).map(|_| Ty::Scalar),
        Op::Diagonal => square(args[0], op.surface()).map(|ty| Ty::Mat(rows(ty), Dim::Lit(1))),
        Op::FromDiagonal => match args[0] {
            Ty::Mat(n, Dim::Lit(1)) => Ok(Ty::Mat(n.clone(), n.clone())),
            other => Err(format!(
                "`from_diagonal()` needs a column vector, found a {}",
                other.describe()
            )),
        },
        Op::Triangle(_) => matrix(args[0], op.surface()).cloned(),
        Op::MaxEntry | Op::MinEntry => matrix(args[0], op.surface()).map(|_| Ty::Scalar),
        Op::SymEigenvalues => {
            square(args[0], op.surface()).map(|ty| Ty::Mat(rows(ty), Dim::Lit(1)))
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

/// The thin `Q` (`m x n`) or `R` (`n x n`) of an `m x n` matrix with `m ≥ n`, the shapes
/// whose derivative matdiff knows (a wide matrix's `R` is not square).
fn qr_shape(op: &Op, ty: &Ty) -> Result<Ty, String> {
    let tall = match ty {
        Ty::Mat(Dim::Lit(m), Dim::Lit(n)) => m >= n,
        Ty::Mat(m, n) => m == n,
        _ => false,
    };
    match (ty, tall) {
        (Ty::Mat(m, n), true) => Ok(match op {
            Op::QrQ => Ty::Mat(m.clone(), n.clone()),
            _ => Ty::Mat(n.clone(), n.clone()),
        }),
        _ => Err(format!(
            "`.qr()` is differentiated for a matrix with at least as many rows as columns \
             (full column rank), found a {}; for a wide matrix, factorise its transpose \
             (`a.transpose().qr()`)",
            ty.describe()
        )),
    }
}

/// `A⁻¹ B`: `A` square, `B` with as many rows, the result shaped as `B`.
fn solve_shape(args: &[&Ty]) -> Result<Ty, String> {
    match (args[0], args[1]) {
        (Ty::Mat(n, m), b @ Ty::Mat(rows, _)) if n == m && n == rows => Ok(b.clone()),
        (Ty::Mat(n, m), Ty::Mat(..)) if n == m => Err(format!(
            "dimension mismatch in `.solve()`: cannot solve with a {} for a {}; the right-hand \
             side must have as many rows as the matrix",
            args[0].describe(),
            args[1].describe()
        )),
        (Ty::Mat(n, m), other) if n == m => Err(format!(
            "the right-hand side of `.solve()` must be a matrix or vector, found a {}",
            other.describe()
        )),
        (a, _) => Err(format!(
            "`.solve()` needs a square matrix, found a {}",
            a.describe()
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

/// `(value, one derivative per argument)`: the type of `CallVjp` and `CallTangent`.
fn call_results(args: &[&Ty]) -> Ty {
    let mut items = vec![Ty::Scalar];
    items.extend(args.iter().map(|&ty| ty.clone()));
    Ty::Tuple(items)
}
