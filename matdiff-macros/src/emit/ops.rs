//! Per-op emission: the Rust expression that computes one node from its operands, one
//! exhaustive `match` over `Op`. The ops that own a body (a `.map()` closure, a loop, a
//! branch) are written by `nodes.rs`, which writes bodies.

use super::names::{dim, elem_type, literal, local, sym_int, var_named};
use crate::ir::{Dim, Graph, Id, Ty};
use crate::ops::{CmpOp, Extremum, Fun, IntOp, InverseCheck, Op, Solver, Triangle};
use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;

/// The Rust expression computing node `id`, `op` of its operands `a`.
///
/// Matrix operands are references (`&SMatrix`), scalar operands values; `ty` is the node's
/// nalgebra type in expression form (`<SMatrix<f64, 3, 3>>`). `Param` is bound by the emitter
/// and the ops with a body are written by `nodes.rs`, never here.
pub(super) fn expression(
    g: &Graph,
    op: &Op,
    id: Id,
    ty: &TokenStream,
    a: &[TokenStream],
) -> TokenStream {
    let elem = g.elem;
    match op {
        Op::Param(k) => unreachable!("parameter {k} is bound by the emitter"),
        Op::Lit(value) => literal(elem, value.get()),
        Op::FloatConst(name) => quote!(#name),
        Op::IntConst(name) => {
            let elem = elem_type(elem);
            quote!((#name as #elem))
        }
        Op::Identity => quote!(#ty::identity()),
        Op::Fill => {
            let s = &a[0];
            quote!(#ty::repeat(#s))
        }
        Op::Assemble => quote!(#ty::from_column_slice(&[#(#a),*])),
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
            match op {
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
        Op::Normalize => method(&a[0], "normalize", &[]),
        Op::Index(i, j) => {
            let m = &a[0];
            quote!(#m[(#i, #j)])
        }
        Op::Fun(fun) => fun_expression(*fun, &a[0]),
        Op::Powf => method(&a[0], "powf", &a[1..]),
        Op::Max => method(&a[0], "max", &a[1..]),
        Op::Min => method(&a[0], "min", &a[1..]),
        // The user's own std call, so the value keeps its rounding (and `hypot` its range).
        Op::Atan2 => method(&a[0], "atan2", &a[1..]),
        Op::Hypot => method(&a[0], "hypot", &a[1..]),
        Op::CopySign => method(&a[0], "copysign", &a[1..]),
        Op::MulAdd => method(&a[0], "mul_add", &a[1..]),
        Op::Inverse(check) => {
            let m = &a[0];
            let message = match check {
                InverseCheck::Unwrap => return quote!(#m.try_inverse().unwrap()),
                InverseCheck::Expect(message) => message.as_str(),
                InverseCheck::Derivative => {
                    return quote!(#m.try_inverse().expect(__matdiff::SINGULAR));
                }
            };
            quote!(#m.try_inverse().expect(#message))
        }
        // The determinant of a matrix the body factorises by Cholesky comes from its factor,
        // as the user's `chol.determinant()` does.
        Op::Det | Op::LogDet if cholesky_of(g, g.node(id).args[0]).is_some() => {
            let chol = cholesky_factor(g.node(id).args[0]);
            match op {
                Op::Det => quote!(#chol.determinant()),
                _ => quote!(#chol.ln_determinant()),
            }
        }
        Op::Det => method(&a[0], "determinant", &[]),
        Op::Diagonal => method(&a[0], "diagonal", &[]),
        Op::FromDiagonal => {
            let v = &a[0];
            quote!(#ty::from_diagonal(#v))
        }
        Op::Triangle(Triangle::Upper) => method(&a[0], "upper_triangle", &[]),
        Op::Triangle(Triangle::Lower) => method(&a[0], "lower_triangle", &[]),
        Op::Cofactor => {
            let m = &a[0];
            quote!(__matdiff::cofactor_matrix(#m))
        }
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
                // An empty matrix has no extreme entry: its mask is empty.
                if !#m.is_empty() {
                    #mask[#best] = #one;
                }
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
        Op::Solve(solver) => {
            let (matrix, b) = (g.node(id).args[0], &a[1]);
            match solver {
                Solver::Lu(check) => {
                    let lu = lu_factor(matrix);
                    let solved = quote!(#lu.solve(#b));
                    match check {
                        InverseCheck::Unwrap => quote!(#solved.unwrap()),
                        InverseCheck::Expect(message) => quote!(#solved.expect(#message)),
                        InverseCheck::Derivative => {
                            quote!(#solved.expect(__matdiff::SINGULAR_SOLVE))
                        }
                    }
                }
                Solver::LuTransposed => {
                    let lu = lu_factor(matrix);
                    quote!(__matdiff::lu_solve_transpose(&#lu, #b)
                        .expect(__matdiff::SINGULAR_SOLVE))
                }
                Solver::Cholesky => {
                    let chol = cholesky_factor(matrix);
                    quote!(#chol.solve(#b))
                }
            }
        }
        // The factor `fuse.rs` binds before this node (`let __chol = s.cholesky().unwrap()`).
        Op::Cholesky(_) => {
            let chol = cholesky_factor(g.node(id).args[0]);
            quote!(#chol.l())
        }
        Op::SymFromLower => {
            let (m, i, j) = (&a[0], local("i"), local("j"));
            quote!(#ty::from_fn(|#i, #j| if #i >= #j { #m[(#i, #j)] } else { #m[(#j, #i)] }))
        }
        Op::FoldLower => {
            let (m, i, j, zero) = (&a[0], local("i"), local("j"), literal(elem, 0.0));
            quote!(#ty::from_fn(|#i, #j| {
                if #i > #j {
                    #m[(#i, #j)] + #m[(#j, #i)]
                } else if #i == #j {
                    #m[(#i, #j)]
                } else {
                    #zero
                }
            }))
        }
        Op::StrictLower => {
            let (m, i, j, zero) = (&a[0], local("i"), local("j"), literal(elem, 0.0));
            quote!(#ty::from_fn(|#i, #j| if #i > #j { #m[(#i, #j)] } else { #zero }))
        }
        Op::SingularValues => {
            let m = &a[0];
            quote!(#m.singular_values())
        }
        Op::SvdU => {
            let m = &a[0];
            quote!(#m.svd(true, false).u.expect("the SVD computes U"))
        }
        Op::SvdV => {
            let m = &a[0];
            quote!(#m.svd(false, true).v_t.expect("the SVD computes Vᵀ").transpose())
        }
        Op::QrQ => {
            let m = &a[0];
            quote!(#m.qr().q())
        }
        Op::QrR => {
            let m = &a[0];
            quote!(#m.qr().r())
        }
        Op::LowerHalved => {
            let (m, i, j) = (&a[0], local("i"), local("j"));
            let (zero, half) = (literal(elem, 0.0), literal(elem, 0.5));
            quote!(#ty::from_fn(|#i, #j| {
                if #i > #j {
                    #m[(#i, #j)]
                } else if #i == #j {
                    #half * #m[(#i, #j)]
                } else {
                    #zero
                }
            }))
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
            let op = comparison_token(*op);
            quote!((#x #op #y))
        }
        Op::Bool(b) => quote!(#b),
        Op::Not => {
            let c = &a[0];
            quote!((!#c))
        }
        Op::IntToFloat => {
            let (i, elem) = (&a[0], elem_type(elem));
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
            let (r, c) = (dim(r), dim(c));
            quote!(#m.fixed_view::<#r, #c>(#i as usize, #j as usize).into_owned())
        }
        Op::SetBlock => {
            let (m, b, i, j, t) = (&a[0], &a[1], &a[2], &a[3], local("m"));
            let Ty::Mat(r, c) = g.ty(g.node(id).args[1]) else {
                unreachable!("the shape rule admits matrices only")
            };
            let (r, c) = (dim(r), dim(c));
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
            let (r, c) = (dim(r), dim(c));
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
        Op::Map(_) | Op::Loop(_) | Op::Cond(_) => {
            unreachable!("ops with a body are written by `nodes.rs`")
        }
        Op::EigenGaps => {
            let (l, zero) = (&a[0], literal(elem, 0.0));
            let (i, j) = (local("i"), local("j"));
            quote!(#ty::from_fn(|#i, #j| if #i == #j { #zero } else { (#l[#j] - #l[#i]).recip() }))
        }
    }
}

/// The LU factorisation of node `matrix` that `fuse.rs` binds before its first solve.
pub(super) fn lu_factor(matrix: Id) -> proc_macro2::Ident {
    var_named("__lu", matrix)
}

/// The Cholesky factorisation of node `s` that `fuse.rs` binds with its `Cholesky` node.
pub(super) fn cholesky_factor(s: Id) -> proc_macro2::Ident {
    var_named("__chol", s)
}

/// The `Cholesky` node of `s`, if the body factorises `s`: the user's check, always evaluated
/// before the nodes that use its factor.
pub(super) fn cholesky_of(g: &Graph, s: Id) -> Option<Id> {
    g.users_of(s)
        .iter()
        .copied()
        .find(|&id| matches!(g.op(id), Op::Cholesky(_)))
}

fn fun_expression(fun: Fun, x: &TokenStream) -> TokenStream {
    match fun {
        Fun::Powi(n) => quote!(#x.powi(#n)),
        // `abs` of a float is `f64::abs`, but the derivative uses nalgebra-free signum
        // that is 0 at 0 (the documented subgradient), unlike `f64::signum`.
        Fun::Sign => quote!(if #x == 0.0 { 0.0 } else { #x.signum() }),
        Fun::RecipOrZero => quote!(if #x == 0.0 { 0.0 } else { #x.recip() }),
        Fun::LnOrZero => quote!(if #x == 0.0 { 0.0 } else { #x.ln() }),
        Fun::Step => quote!(if #x > 0.0 { 1.0 } else { 0.0 }),
        _ => {
            let name = proc_macro2::Ident::new(fun.name(), Span::call_site());
            quote!(#x.#name())
        }
    }
}

fn comparison_token(cmp: CmpOp) -> TokenStream {
    match cmp {
        CmpOp::Lt => quote!(<),
        CmpOp::Le => quote!(<=),
        CmpOp::Gt => quote!(>),
        CmpOp::Ge => quote!(>=),
        CmpOp::Eq => quote!(==),
        CmpOp::Ne => quote!(!=),
    }
}

/// `f(args)`, or the callee's generated `f::__matdiff_<suffix>(args)`, passing each argument
/// the way the user's call does.
fn call_expr(g: &Graph, c: usize, suffix: Option<&str>, a: &[TokenStream]) -> TokenStream {
    let callee = &g.callees[c];
    let mut path = callee.path.clone();
    if let (Some(suffix), true) = (suffix, calls_associated_function(&path)) {
        let last = path.segments.last_mut().expect("a callee has a name");
        // `format_ident!` drops a raw identifier's `r#`, as `generated_fn` does for the callee.
        let mut name = quote::format_ident!("__matdiff_{}_{}", last.ident, suffix);
        name.set_span(last.ident.span());
        last.ident = name;
    } else if let Some(suffix) = suffix {
        // `f::<N>(..)` calls `f::__matdiff_vjp::<N>(..)`: the hidden type `f` is not generic,
        // its associated function is generic as `f` is.
        let last = path.segments.last_mut().expect("a callee has a name");
        let arguments = std::mem::take(&mut last.arguments);
        let span = last.ident.span();
        let mut segment = syn::PathSegment::from(quote::format_ident!("__matdiff_{}", suffix));
        segment.ident.set_span(span);
        segment.arguments = arguments;
        path.segments.push(segment);
    }
    let operands = a.iter().enumerate().map(|(i, operand)| {
        // A matrix-valued callee's cotangent and its direction: references to matrices.
        let Some(k) = operand_param(g, c, i) else {
            return quote!(#operand);
        };
        // Matrix operands are references already; scalars are values.
        let is_matrix = !callee.scalar_args[k];
        if callee.int_args[k] {
            // An `i64` here; the callee takes the user's integer type.
            return if callee.by_ref[k] {
                quote!(&(#operand as _))
            } else {
                quote!((#operand as _))
            };
        }
        match (callee.by_ref[k], is_matrix) {
            (true, true) | (false, false) => quote!(#operand),
            (true, false) => quote!(&#operand),
            (false, true) => quote!(*#operand),
        }
    });
    quote!(#path(#(#operands),*))
}

/// `Self::f` or `Model::f`: a function of an `impl` block, whose hidden functions are its
/// siblings (`emit::hidden_type`); a type is told from a module by its upper-case name.
fn calls_associated_function(path: &syn::Path) -> bool {
    let n = path.segments.len();
    n >= 2
        && path.segments[n - 2]
            .ident
            .to_string()
            .starts_with(|c: char| c.is_ascii_uppercase())
}

/// The callee's parameter that operand `i` of a call op stands for (an argument, or its
/// direction after them); `None` for a matrix-valued callee's cotangent and its direction
/// (`args, u` and `args, u, dargs, du`).
fn operand_param(g: &Graph, c: usize, i: usize) -> Option<usize> {
    let callee = &g.callees[c];
    let n = callee.by_ref.len();
    if !callee.output.is_matrix() {
        return Some(i % n);
    }
    match i {
        i if i < n => Some(i),
        i if i > n && i <= 2 * n => Some(i - n - 1),
        _ => None,
    }
}

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
pub(super) fn tr_mul_is_fast(g: &Graph, product: Id) -> bool {
    let small = |dim: &Dim| matches!(dim, Dim::Lit(n) if *n <= 4);
    match g.ty(g.node(product).args[1]) {
        Ty::Mat(rows, cols) => small(cols) || (small(rows) && matches!(cols, Dim::Lit(_))),
        _ => true,
    }
}

fn method(receiver: &TokenStream, name: &str, args: &[TokenStream]) -> TokenStream {
    let name = proc_macro2::Ident::new(name, Span::call_site());
    quote!(#receiver.#name(#(#args),*))
}
