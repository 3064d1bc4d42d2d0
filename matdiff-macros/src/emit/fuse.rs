//! Emission-time fusion: several IR nodes that one nalgebra call or one loop computes
//! together, which one `let` per node would compute separately.
//!
//! * maps of one closure body over one matrix (a value and its derivatives): one loop that
//!   shares the closure's subexpressions (`exp(-t)` of a sigmoid), found here and written by
//!   `nodes.rs`, which writes closures;
//! * a determinant and the inverse its derivative needs: one factorisation
//!   (`determinant_and_inverse`), giving `A⁻ᵀ` directly when only that is used;
//! * `P ± A B` where the product is used nowhere else: accumulated in place with `gemm`,
//!   without a temporary for the product;
//! * the eigenvalues and eigenvectors of one symmetric matrix: one `symmetric_eigen()`;
//! * every solve with one matrix (the user's, and those its derivatives need): one `lu()` or
//!   `cholesky()` of the matrix, bound before the first and named by the matrix's node.
//!
//! The IR stays one node per value; this module only decides how the emitter writes them.

use super::names::{elem_type, local, value_type, var};
use super::ops::{lu_factor, tr_mul_is_fast};
use crate::ir::{Graph, Id};
use crate::ops::{InverseCheck, Op, Solver};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// How often each live node is used: by live nodes and as a result.
pub(super) struct Uses {
    count: Vec<usize>,
    /// For a node used exactly once by another node: that node.
    consumer: Vec<Option<Id>>,
}

impl Uses {
    /// How many live nodes (and roots) use `id`.
    pub fn of(&self, id: Id) -> usize {
        self.count[id.index()]
    }

    /// The one node that uses `id`, if exactly one does.
    pub fn consumer(&self, id: Id) -> Option<Id> {
        self.consumer[id.index()]
    }

    pub fn count(g: &Graph, live: &[bool], roots: &[Id]) -> Uses {
        let mut count = vec![0; g.len()];
        let mut consumer = vec![None; g.len()];
        for id in g.ids().filter(|id| live[id.index()]) {
            for &arg in &g.node(id).args {
                count[arg.index()] += 1;
                consumer[arg.index()] = Some(id);
            }
        }
        for root in roots {
            count[root.index()] += 1;
        }
        for (n, c) in count.iter().zip(&mut consumer) {
            if *n != 1 {
                *c = None;
            }
        }
        Uses { count, consumer }
    }

    fn single_consumer(&self, id: Id) -> Option<Id> {
        self.consumer[id.index()]
    }
}

/// A node written together with others.
pub(super) enum Fusion {
    /// Maps of one closure body over one matrix, computed by one loop: written by `nodes.rs`,
    /// which writes closures.
    Maps(Vec<Id>),
    /// The statements written here, and the nodes they bind.
    Written(TokenStream, Vec<Id>),
    /// Statements written before the node's own `let`: a factorisation it and later nodes use.
    Before(TokenStream),
}

/// How `id` is written together with other nodes, or `None` when it is written on its own.
pub(super) fn fused(g: &Graph, live: &[bool], uses: &Uses, id: Id) -> Option<Fusion> {
    let maps = maps_sharing_a_loop(g, live, id);
    if maps.len() > 1 {
        return Some(Fusion::Maps(maps));
    }
    if let Some((tokens, members)) = determinant_with_inverse(g, live, uses, id) {
        return Some(Fusion::Written(tokens, members));
    }
    if let Some(tokens) = factorisation(g, live, id) {
        // A Cholesky node used only as the user's check (one use: the check root itself): its
        // factor `L` is never read.
        let unread = matches!(g.op(id), Op::Cholesky(_)) && uses.of(id) <= 1;
        if unread {
            return Some(Fusion::Written(tokens, vec![id]));
        }
        return Some(Fusion::Before(tokens));
    }
    if let Some((tokens, members)) = one_eigendecomposition(g, live, id) {
        return Some(Fusion::Written(tokens, members));
    }
    if let Some((tokens, members)) = one_qr(g, live, id) {
        return Some(Fusion::Written(tokens, members));
    }
    if let Some((tokens, members)) = one_svd(g, live, id) {
        return Some(Fusion::Written(tokens, members));
    }
    if accumulated_into_consumer(g, uses, id) {
        // Written by its consumer, `accumulate`.
        return Some(Fusion::Written(TokenStream::new(), vec![id]));
    }
    accumulate(g, uses, id).map(|tokens| Fusion::Written(tokens, vec![id]))
}

/// The live `.map()`s of the same closure body over the same matrix as `id` (a value and
/// its derivatives, say), which one loop computes together, sharing their subexpressions.
fn maps_sharing_a_loop(g: &Graph, live: &[bool], id: Id) -> Vec<Id> {
    let body_of = |id: Id| match g.op(id) {
        Op::Map(f) => Some((g.scalar_fns[*f].body, g.node(id).args[0])),
        _ => None,
    };
    let Some(key) = body_of(id) else {
        return Vec::new();
    };
    g.users_of(key.1)
        .iter()
        .copied()
        .filter(|&other| other >= id && live[other.index()] && body_of(other) == Some(key))
        .collect()
}

/// The factorisation `id` is the first to use: `let __chol = s.cholesky().unwrap();` for the
/// user's `Cholesky` node (always live, and built before every node that uses the factor),
/// `let __lu = a.lu();` for the first live LU solve with `a`. The later solves name it.
fn factorisation(g: &Graph, live: &[bool], id: Id) -> Option<TokenStream> {
    let is_lu = |op: &Op| matches!(op, Op::Solve(Solver::Lu(_) | Solver::LuTransposed));
    match g.op(id) {
        Op::Cholesky(check) => {
            let s = g.node(id).args[0];
            let (m, chol) = (var(read_matrix(g, s)), super::ops::cholesky_factor(s));
            let factor = match check {
                InverseCheck::Expect(message) => quote!(#m.cholesky().expect(#message)),
                _ => quote!(#m.cholesky().unwrap()),
            };
            Some(quote!(let #chol = #factor;))
        }
        op if is_lu(op) => {
            let a = g.node(id).args[0];
            let first = g
                .users_of(a)
                .iter()
                .copied()
                .filter(|&other| live[other.index()] && is_lu(g.op(other)))
                .min()?;
            let (m, lu) = (var(a), lu_factor(a));
            (first == id).then(|| quote!(let #lu = #m.lu();))
        }
        _ => None,
    }
}

/// The matrix nalgebra is given for the symmetric `s`: `a` itself when `s` is
/// `SymFromLower(a)`, since `cholesky()` and `symmetric_eigen()` read only the lower triangle
/// (the copy `s` is then dead in the value's code, and the compiler drops it).
fn read_matrix(g: &Graph, s: Id) -> Id {
    match g.op(s) {
        Op::SymFromLower => g.node(s).args[0],
        _ => s,
    }
}

/// A live user of `matrix` computing `op`: the other half of a factorisation to fuse with.
fn live_sibling(g: &Graph, live: &[bool], matrix: Id, op: Op) -> Option<Id> {
    g.users_of(matrix)
        .iter()
        .copied()
        .find(|&other| live[other.index()] && g.op(other) == &op)
}

/// When `id` is the eigenvalues or eigenvectors of a symmetric `A` and the other is live too
/// (an eigenvalue's Hessian-vector product needs both): one decomposition for both.
fn one_eigendecomposition(g: &Graph, live: &[bool], id: Id) -> Option<(TokenStream, Vec<Id>)> {
    if !matches!(g.op(id), Op::SymEigenvalues | Op::SymEigenvectors) {
        return None;
    }
    let matrix = g.node(id).args[0];
    let find = |op: Op| live_sibling(g, live, matrix, op);
    let (values, vectors) = (find(Op::SymEigenvalues)?, find(Op::SymEigenvectors)?);
    let (a, eigen) = (var(read_matrix(g, matrix)), local("eigen"));
    let (values_name, vectors_name) = (var(values), var(vectors));
    let values_ty = value_type(g.elem, g.ty(values));
    let vectors_ty = value_type(g.elem, g.ty(vectors));
    let tokens = quote! {
        let #eigen = #a.symmetric_eigen();
        let #values_name: &#values_ty = &#eigen.eigenvalues;
        let #vectors_name: &#vectors_ty = &#eigen.eigenvectors;
    };
    Some((tokens, vec![values, vectors]))
}

/// When `id` is the `Q` or the `R` of `A` and the other is live too (every derivative of
/// either needs both): one `qr()` for both.
fn one_qr(g: &Graph, live: &[bool], id: Id) -> Option<(TokenStream, Vec<Id>)> {
    if !matches!(g.op(id), Op::QrQ | Op::QrR) {
        return None;
    }
    let matrix = g.node(id).args[0];
    let find = |op: Op| live_sibling(g, live, matrix, op);
    let (q, r) = (find(Op::QrQ)?, find(Op::QrR)?);
    let (a, qr) = (var(matrix), local("qr"));
    let (q_name, r_name) = (var(q), var(r));
    let q_ty = value_type(g.elem, g.ty(q));
    let r_ty = value_type(g.elem, g.ty(r));
    let tokens = quote! {
        let #qr = #a.qr();
        let #q_name: &#q_ty = &#qr.q();
        let #r_name: &#r_ty = &#qr.r();
    };
    Some((tokens, vec![q, r]))
}

/// When `id` is the singular values or singular vectors of `A` and a derivative needs the
/// vectors: one `svd(true, true)` for the live ones among `σ`, `U` and `V`.
fn one_svd(g: &Graph, live: &[bool], id: Id) -> Option<(TokenStream, Vec<Id>)> {
    if !matches!(g.op(id), Op::SingularValues | Op::SvdU | Op::SvdV) {
        return None;
    }
    let matrix = g.node(id).args[0];
    let find = |op: Op| live_sibling(g, live, matrix, op);
    let (values, u, v) = (find(Op::SingularValues), find(Op::SvdU), find(Op::SvdV));
    if u.is_none() && v.is_none() {
        return None;
    }
    let (a, svd) = (var(matrix), local("svd"));
    let bind = |node: Option<Id>, value: TokenStream| {
        node.map(|node| {
            let (name, ty) = (var(node), value_type(g.elem, g.ty(node)));
            quote!(let #name: &#ty = &#value;)
        })
    };
    let bindings = [
        bind(values, quote!(#svd.singular_values)),
        bind(u, quote!(#svd.u.expect("the SVD computes U"))),
        bind(
            v,
            quote!(#svd.v_t.expect("the SVD computes Vᵀ").transpose()),
        ),
    ];
    let tokens = quote! {
        let #svd = #a.svd(true, true);
        #(#bindings)*
    };
    Some((tokens, [values, u, v].into_iter().flatten().collect()))
}

/// When `id` is a determinant or log-determinant of `A` and a derivative needs `A⁻¹` too:
/// one `determinant_and_inverse` call for the live determinants of `A` and that inverse (or
/// `A⁻ᵀ`, when the inverse is used only transposed: the gradient of `ln det`).
fn determinant_with_inverse(
    g: &Graph,
    live: &[bool],
    uses: &Uses,
    id: Id,
) -> Option<(TokenStream, Vec<Id>)> {
    if !matches!(g.op(id), Op::Det | Op::LogDet) {
        return None;
    }
    let matrix = g.node(id).args[0];
    let of_matrix = |other: &&Id| live[other.index()];
    let users = g.users_of(matrix);
    let inverse = *users
        .iter()
        .filter(of_matrix)
        .find(|&&other| g.op(other) == &Op::Inverse(InverseCheck::Derivative))?;
    let determinants: Vec<Id> = users
        .iter()
        .filter(of_matrix)
        .copied()
        .filter(|&other| matches!(g.op(other), Op::Det | Op::LogDet))
        .collect();
    let only_transposed = uses
        .single_consumer(inverse)
        .filter(|&consumer| g.op(consumer) == &Op::Transpose);

    let det = Ident::new(&format!("__det{}", inverse.index()), Span::mixed_site());
    let inv = Ident::new(&format!("__inv{}", inverse.index()), Span::mixed_site());
    let elem = elem_type(g.elem);
    let ty = value_type(g.elem, g.ty(inverse));
    let bindings = determinants.iter().map(|&d| {
        let name = var(d);
        match g.op(d) {
            Op::LogDet => quote!(let #name: #elem = #det.ln();),
            _ => quote!(let #name: #elem = #det;),
        }
    });
    let (function, bound) = match only_transposed {
        Some(transpose) => (quote!(determinant_and_inverse_transpose), transpose),
        None => (quote!(determinant_and_inverse), inverse),
    };
    let (a, bound_var) = (var(matrix), var(bound));
    let tokens = quote! {
        let (#det, #inv) = __matdiff::#function(#a);
        #(#bindings)*
        let #bound_var: &#ty = &#inv;
    };
    let mut members = determinants;
    members.push(inverse);
    members.extend(only_transposed);
    Some((tokens, members))
}

/// Whether `id` is a matrix product whose only use is a sum that accumulates it in place.
fn accumulated_into_consumer(g: &Graph, uses: &Uses, id: Id) -> bool {
    matches!(g.op(id), Op::MatMul | Op::TrMul)
        && uses.single_consumer(id).is_some_and(|consumer| {
            accumulation(g, uses, consumer).is_some_and(|(product, ..)| product == id)
        })
}

/// `P + A B`, `P − A B`, `A B − P` as `gemm` into a copy of `P`, for a product used only here.
fn accumulate(g: &Graph, uses: &Uses, id: Id) -> Option<TokenStream> {
    let (product, other, alpha, beta) = accumulation(g, uses, id)?;
    let ty = value_type(g.elem, g.ty(id));
    let node = g.node(product);
    let (a, b, p) = (var(node.args[0]), var(node.args[1]), var(other));
    let acc = local("acc");
    let multiply = match node.op {
        Op::TrMul if tr_mul_is_fast(g, product) => {
            quote!(#acc.gemm_tr(#alpha, #a, #b, #beta);)
        }
        Op::TrMul => quote!(#acc.gemm(#alpha, &#a.transpose(), #b, #beta);),
        _ => quote!(#acc.gemm(#alpha, #a, #b, #beta);),
    };
    let name = var(id);
    Some(quote! {
        let #name: &#ty = &({
            let mut #acc: #ty = *#p;
            #multiply
            #acc
        });
    })
}

/// For a matrix `Add`/`Sub` with a single-use product operand: the product, the other
/// operand, and `alpha`, `beta` of `other ← alpha · product + beta · other`.
fn accumulation(g: &Graph, uses: &Uses, id: Id) -> Option<(Id, Id, TokenStream, TokenStream)> {
    let node = g.node(id);
    if !matches!(node.op, Op::Add | Op::Sub) || node.ty.is_scalar() {
        return None;
    }
    let is_product =
        |arg: Id| matches!(g.op(arg), Op::MatMul | Op::TrMul) && uses.count[arg.index()] == 1;
    let (one, minus_one) = (quote!(1.0), quote!(-1.0));
    let (left, right) = (node.args[0], node.args[1]);
    match node.op {
        _ if is_product(right) && left != right => {
            let alpha = if node.op == Op::Add {
                one.clone()
            } else {
                minus_one
            };
            Some((right, left, alpha, one))
        }
        _ if is_product(left) && left != right => {
            let beta = if node.op == Op::Add {
                one.clone()
            } else {
                minus_one
            };
            Some((left, right, one, beta))
        }
        _ => None,
    }
}
