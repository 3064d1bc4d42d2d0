//! Whole derivative matrices from the transforms: the Jacobian of a matrix-valued function and
//! the Hessian of a scalar one, IR -> IR.
//!
//! Both are built column by column (or row by row) from unit seeds known at compile time, in
//! one graph, so every column shares the function's own computation and the simplifier drops
//! what a unit seed makes zero (`x[k]`'s tangent along `eⱼ` is `0` or `1`). A Jacobian is
//! built by the forward transform, one column per input entry, when the input has no more
//! entries than the output, else by the reverse sweep, one row per output entry. Loops stay
//! loops: each seed gets the loop's tangent (or adjoint) loop, none is unrolled.
//!
//! Conventions (`MATH.md`): column-major `vec`, `J[(i, j)] = ∂vec(Y)ᵢ / ∂vec(X)ⱼ`, one block per
//! `wrt` parameter; the Hessian's blocks are in `wrt` order.

use crate::build::Build;
use crate::ir::{Dim, Graph, Id, Ty};
use crate::ops::Op;
use crate::{forward, reverse};
use proc_macro2::Span;

/// The number of entries of a value whose size is a literal: 1 for a scalar.
pub fn literal_size(ty: &Ty) -> Option<usize> {
    match ty {
        Ty::Scalar => Some(1),
        Ty::Mat(Dim::Lit(r), Dim::Lit(c)) => Some(r * c),
        _ => None,
    }
}

/// How many unit seeds (columns or rows) a Jacobian may take: each is a copy of the tangent
/// or adjoint program, so beyond this the generated code and its compile time would grow past
/// what a person would write.
pub const MAX_JACOBIAN_SEEDS: usize = 32;

/// The same for a Hessian, built for every scalar function whether or not it is called: each
/// seed is a copy of the gradient's tangent.
pub const MAX_HESSIAN_SEEDS: usize = 16;

/// The Jacobian's rows and the width of each block, where every size is a literal and the
/// seeds are few enough to build it.
pub fn jacobian_shape(output: &Ty, wrt: &[&Ty]) -> Option<(usize, Vec<usize>)> {
    let rows = literal_size(output)?;
    let widths = wrt
        .iter()
        .map(|ty| literal_size(ty))
        .collect::<Option<Vec<usize>>>()?;
    (rows.min(widths.iter().sum()) <= MAX_JACOBIAN_SEEDS).then_some((rows, widths))
}

/// The Hessian's size, where it is a literal and the seeds are few enough to build it.
pub fn hessian_size(wrt: &[&Ty]) -> Option<usize> {
    let n = wrt
        .iter()
        .map(|ty| literal_size(ty))
        .sum::<Option<usize>>()?;
    (n <= MAX_HESSIAN_SEEDS).then_some(n)
}

/// The Jacobian of `value` (a matrix) with respect to each of `wrt`: one block per input,
/// `size(value) x size(input)`. `None` where [`jacobian_shape`] is (the caller then builds no
/// Jacobian).
pub fn jacobian(g: &mut Graph, value: Id, wrt: &[Id]) -> Option<Vec<Id>> {
    let types: Vec<&Ty> = wrt.iter().map(|&x| g.ty(x)).collect();
    let (rows, widths) = jacobian_shape(g.ty(value), &types)?;
    let span = g.node(value).span;
    let upto = value.index() + 1;
    // entries[k][j][i]: block k, column j, row i.
    let entries: Vec<Vec<Vec<Id>>> = if widths.iter().sum::<usize>() <= rows {
        wrt.iter()
            .zip(&widths)
            .map(|(&x, &width)| {
                (0..width)
                    .map(|j| {
                        let seed = unit(g, x, j);
                        let tangent = forward::tangents(g, &[(x, seed)], upto.max(x.index() + 1));
                        entries_of(g, tangent[value.index()], value, span)
                    })
                    .collect()
            })
            .collect()
    } else {
        // Row i of every block at once: the adjoint of the output's i-th entry.
        let rows_of: Vec<Vec<Vec<Id>>> = (0..rows)
            .map(|i| {
                let seed = unit(g, value, i);
                let adjoints = reverse::vjp(g, &[(value, seed)], wrt);
                wrt.iter()
                    .zip(adjoints)
                    .map(|(&x, adjoint)| entries_of(g, adjoint, x, span))
                    .collect()
            })
            .collect();
        (0..wrt.len())
            .map(|k| {
                (0..widths[k])
                    .map(|j| (0..rows).map(|i| rows_of[i][k][j]).collect())
                    .collect()
            })
            .collect()
    };
    Some(
        entries
            .iter()
            .zip(&widths)
            .map(|(columns, &width)| {
                let flat: Vec<Id> = columns.iter().flatten().copied().collect();
                let ty = Ty::Mat(Dim::Lit(rows), Dim::Lit(width));
                g.add_typed(Op::Assemble, &flat, ty, span)
            })
            .collect(),
    )
}

/// The Hessian of a scalar function whose gradient with respect to `wrt` is `gradient`: the
/// `n x n` matrix, `n` the number of `wrt` entries, column `j` the tangent of the gradient
/// along the `j`-th unit direction (an HVP). Entry `(i, j)` is taken from column `max(i, j)`,
/// so the result is symmetric by construction. The gradient program is the first `upto`
/// nodes. `None` where [`hessian_size`] is.
pub fn hessian(g: &mut Graph, gradient: &[Option<Id>], wrt: &[Id], upto: usize) -> Option<Id> {
    let types: Vec<&Ty> = wrt.iter().map(|&x| g.ty(x)).collect();
    hessian_size(&types)?;
    let widths: Vec<usize> = types.iter().filter_map(|ty| literal_size(ty)).collect();
    let span = wrt
        .first()
        .map_or_else(Span::call_site, |&x| g.node(x).span);
    let mut columns: Vec<Vec<Id>> = Vec::new();
    for (&x, &width) in wrt.iter().zip(&widths) {
        for j in 0..width {
            let seed = unit(g, x, j);
            let tangent = forward::tangents(g, &[(x, seed)], upto);
            let mut column = Vec::new();
            for (&y, grad) in wrt.iter().zip(gradient) {
                let d = grad.and_then(|grad| tangent[grad.index()]);
                column.extend(entries_of(g, d, y, span));
            }
            columns.push(column);
        }
    }
    let n = columns.len();
    let flat: Vec<Id> = (0..n)
        .flat_map(|j| (0..n).map(move |i| (i, j)))
        .map(|(i, j)| columns[i.max(j)][i.min(j)])
        .collect();
    let ty = Ty::Mat(Dim::Lit(n), Dim::Lit(n));
    Some(g.add_typed(Op::Assemble, &flat, ty, span))
}

/// The `k`-th unit value of `like`'s type (column-major for a matrix): `1`, or `e_k`.
fn unit(g: &mut Graph, like: Id, k: usize) -> Id {
    let (ty, span) = (g.ty(like).clone(), g.node(like).span);
    let one = g.lit(1.0, span);
    match &ty {
        Ty::Mat(Dim::Lit(rows), _) => g.add_typed(Op::Embed(k % rows, k / rows), &[one], ty, span),
        _ => one,
    }
}

/// The entries of `value` (of `like`'s type) in column-major order; zeros for `None`.
fn entries_of(g: &mut Graph, value: Option<Id>, like: Id, span: Span) -> Vec<Id> {
    let ty = g.ty(like).clone();
    let size = literal_size(&ty).unwrap_or(0);
    let Some(value) = value else {
        let zero = g.lit(0.0, span);
        return vec![zero; size];
    };
    match ty {
        Ty::Mat(Dim::Lit(rows), _) => (0..size)
            .map(|k| g.add(Op::Index(k % rows, k / rows), &[value], span))
            .collect(),
        _ => vec![value],
    }
}
