//! Emission: the differentiated program as Rust tokens.
//!
//! One typed `let` per live node, in arena order. Matrix values are bound as references
//! (`let t: &SMatrix<f64, 3, 3> = &(a * b);` keeps the temporary alive without a copy) and
//! scalars as values. Temporaries use `Span::mixed_site()`, so they can never capture or shadow
//! the user's names. Generated code reaches nalgebra and the runtime's helpers through
//! `<krate>::__private`, where `krate` is `::matdiff` or the attribute's `crate = path`; each
//! body imports it once as `__matdiff`, so the code that writes nodes needs no path.
//!
//! * `mod.rs` (this file): the generated functions, their signatures and bodies;
//! * `nodes.rs`: one `let` per node, regions as blocks, closures, updates in place;
//! * `ops.rs`: the expression of each op, one exhaustive `match`;
//! * `fuse.rs`: nodes written together (a map's loop, `determinant_and_inverse`, `gemm`);
//! * `names.rs`: names of values, Rust types, literals;
//! * `docs.rs`, `formula.rs`: the generated functions' docs, with the program each runs
//!   printed in matrix notation.

mod docs;
mod formula;
mod fuse;
mod names;
mod nodes;
mod ops;

use crate::ir::{Dim, Elem, Graph, Id, Ty};
use crate::ops::Op;
use crate::sig::Signature;
use fuse::Uses;
use names::{by_reference, elem_type, literal, local, value_type, var};
use nodes::{
    chain_link, checks, computed, from_taped_twin, fused, fused_loop_block, same_range,
    scatter_chains, taped_twin,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::cell::RefCell;
use std::collections::HashMap;

/// What `expand` computed: the graph and the nodes each generated function returns.
pub struct Program {
    pub graph: Graph,
    pub value: Id,
    /// One per `wrt` parameter; `None` where the gradient is zero.
    pub gradient: Vec<Option<Id>>,
    /// One per `wrt` parameter: the Hessian applied to the directions.
    pub hvp: Vec<Option<Id>>,
    /// One per parameter: the gradient with respect to every parameter, for callers.
    pub gradient_all: Vec<Option<Id>>,
    /// The tangent of the value and of `gradient_all` along a direction for every parameter.
    pub tangent_all: Vec<Option<Id>>,
    /// A scalar function's Hessian with respect to all `wrt` entries, where its size is a
    /// literal.
    pub hessian: Option<Id>,
    /// A matrix-valued function's tangent along one direction per `wrt` parameter (`None`:
    /// zero); the gradient fields above are then empty.
    pub jvp: Option<Id>,
    /// A matrix-valued function's cotangent for each `wrt` parameter, given the output's
    /// cotangent `Op::Param(2n)`.
    pub vjp: Vec<Option<Id>>,
    /// A matrix-valued function's Jacobian blocks, one per `wrt` parameter, where the sizes
    /// are literals.
    pub jacobian: Option<Vec<Id>>,
}

/// The three generated functions, and the two hidden ones other differentiated functions
/// call when they call this one.
pub fn functions(sig: &Signature, program: &Program) -> TokenStream {
    if sig.output != Ty::Scalar {
        return matrix_valued_functions(sig, program);
    }
    let grad_ty = gradient_type(sig);
    let elem = elem_type(sig.elem);
    let wrt_types: Vec<&Ty> = sig.wrt_params().map(|p| &p.ty).collect();
    let grads = outputs(&program.gradient, &wrt_types);
    let hvps = outputs(&program.hvp, &wrt_types);
    let value = Output {
        id: Some(program.value),
        ty: &Ty::Scalar,
    };
    let g = &program.graph;
    let cache = LetCache::default();
    let none = vec![None; sig.params.len()];
    let hvp_directions = hvp_direction_idents(sig);

    // The gradient is computed as in `f_value_and_grad`, value included (the compiler drops
    // it), so that both return the same bits whatever the emitter fuses.
    let grad_body = body(
        sig,
        g,
        &cache,
        &none,
        &[Group::Tuple(&grads)],
        &[program.value],
    );
    let value_and_grad_body = body(
        sig,
        g,
        &cache,
        &none,
        &[Group::Single(&value), Group::Tuple(&grads)],
        &[],
    );
    let hvp_body = body(sig, g, &cache, &hvp_directions, &[Group::Tuple(&hvps)], &[]);

    let grad_doc = docs::grad(sig, g, &program.gradient);
    let value_and_grad_doc = docs::value_and_grad(sig, g, program.value, &program.gradient);
    let hvp_doc = docs::hvp(sig, g, &program.hvp);
    let directions = direction_params(sig);
    let grad_fn = generated_fn(sig, "grad", &grad_doc, &[], &grad_ty, &grad_body);
    let value_and_grad_fn = generated_fn(
        sig,
        "value_and_grad",
        &value_and_grad_doc,
        &[],
        &quote!((#elem, #grad_ty)),
        &value_and_grad_body,
    );
    let hvp_fn = generated_fn(sig, "hvp", &hvp_doc, &directions, &grad_ty, &hvp_body);
    let hessian_doc = docs::hessian(sig, g, program.hessian);
    let hessian_fn = program.hessian.map(|id| {
        let doc = &hessian_doc;
        let output = Output {
            id: Some(id),
            ty: g.ty(id),
        };
        let body = body(
            sig,
            g,
            &cache,
            &none,
            &[Group::Single(&output)],
            &[program.value],
        );
        let ty = hessian_type(sig).expect("a Hessian is built where its type is written");
        generated_fn(sig, "hessian", doc, &[], &ty, &body)
    });
    let hessian_fn = hessian_fn.or_else(|| {
        let (ty, body) = hessian_by_columns(sig)?;
        Some(generated_fn(sig, "hessian", &hessian_doc, &[], &ty, &body))
    });
    let callee_fns = callee_functions(sig, program, &cache);
    quote!(#grad_fn #value_and_grad_fn #hvp_fn #hessian_fn #callee_fns)
}

/// The functions of a matrix-valued function `r`: `r_jvp`, `r_vjp` and, where the sizes are
/// literals, `r_jacobian` and `r_value_and_jacobian`.
fn matrix_valued_functions(sig: &Signature, program: &Program) -> TokenStream {
    let name = &sig.func.sig.ident;
    let g = &program.graph;
    let cache = LetCache::default();
    let none = vec![None; sig.params.len() + 1];
    let value = Output {
        id: Some(program.value),
        ty: &sig.output,
    };
    let output_ty = output_type(sig);

    let jvp = Output {
        id: program.jvp,
        ty: &sig.output,
    };
    let mut directions = hvp_direction_idents(sig);
    let jvp_body = body(
        sig,
        g,
        &cache,
        &directions,
        &[Group::Single(&jvp)],
        &[program.value],
    );
    let jvp_doc = docs::jvp(sig, g, program.jvp);
    let jvp_fn = generated_fn(
        sig,
        "jvp",
        &jvp_doc,
        &direction_params(sig),
        &output_ty,
        &jvp_body,
    );

    let wrt_types: Vec<&Ty> = sig.wrt_params().map(|p| &p.ty).collect();
    let vjps = outputs(&program.vjp, &wrt_types);
    directions.push(Some(cotangent_ident()));
    let vjp_body = body(
        sig,
        g,
        &cache,
        &directions,
        &[Group::Tuple(&vjps)],
        &[program.value],
    );
    let vjp_doc = docs::vjp(sig, g, &program.vjp);
    let vjp_fn = generated_fn(
        sig,
        "vjp",
        &vjp_doc,
        &[cotangent_param(sig)],
        &gradient_type(sig),
        &vjp_body,
    );

    let jacobian_fns = program.jacobian.as_ref().map(|blocks| {
        let types: Vec<&Ty> = blocks.iter().map(|&id| g.ty(id)).collect();
        let jacobians = outputs(
            &blocks.iter().copied().map(Some).collect::<Vec<_>>(),
            &types,
        );
        let jacobian_ty = jacobian_type(sig).expect("a Jacobian's sizes are literals");
        let jacobian_body = body(
            sig,
            g,
            &cache,
            &none,
            &[Group::Tuple(&jacobians)],
            &[program.value],
        );
        let value_and_jacobian_body = body(
            sig,
            g,
            &cache,
            &none,
            &[Group::Single(&value), Group::Tuple(&jacobians)],
            &[],
        );
        let doc = docs::jacobian(sig, g, program.jacobian.as_deref());
        let value_doc =
            docs::value_and_jacobian(sig, g, program.value, program.jacobian.as_deref());
        let jacobian_fn = generated_fn(sig, "jacobian", &doc, &[], &jacobian_ty, &jacobian_body);
        let value_fn = generated_fn(
            sig,
            "value_and_jacobian",
            &value_doc,
            &[],
            &quote!((#output_ty, #jacobian_ty)),
            &value_and_jacobian_body,
        );
        quote!(#jacobian_fn #value_fn)
    });
    let jacobian_fns = jacobian_fns.or_else(|| {
        let (ty, body) = jacobian_by_columns(sig)?;
        let doc = docs::jacobian(sig, g, program.jacobian.as_deref());
        let value_doc =
            docs::value_and_jacobian(sig, g, program.value, program.jacobian.as_deref());
        let jacobian_fn = generated_fn(sig, "jacobian", &doc, &[], &ty, &body);
        let (user, jacobian) = (&sig.func.sig.ident, format_ident!("{name}_jacobian"));
        let (user, jacobian) = if sig.associated {
            (quote!(Self::#user), quote!(Self::#jacobian))
        } else {
            (quote!(#user), quote!(#jacobian))
        };
        let args: Vec<&Ident> = sig.params.iter().map(|p| &p.ident).collect();
        let both = quote!((#user(#(#args),*), #jacobian(#(#args),*)));
        let value_fn = generated_fn(
            sig,
            "value_and_jacobian",
            &value_doc,
            &[],
            &quote!((#output_ty, #ty)),
            &both,
        );
        Some(quote!(#jacobian_fn #value_fn))
    });
    let callee_fns = callee_functions(sig, program, &cache);
    quote!(#jvp_fn #vjp_fn #jacobian_fns #callee_fns)
}

/// The function's return type as the user wrote it.
pub fn output_type(sig: &Signature) -> TokenStream {
    match &sig.func.sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    }
}

/// `SMatrix<T, R, C>` of a matrix type, through matdiff's path to nalgebra.
fn matrix_type(sig: &Signature, ty: &Ty) -> TokenStream {
    let Ty::Mat(rows, cols) = ty else {
        unreachable!("a Jacobian or Hessian is a matrix")
    };
    let (elem, rows, cols) = (elem_type(sig.elem), names::dim(rows), names::dim(cols));
    let krate = &sig.krate;
    quote!(#krate::__private::nalgebra::SMatrix<#elem, #rows, #cols>)
}

/// The Jacobian's type (a tuple of blocks for several `wrt`), where it is built.
pub fn jacobian_type(sig: &Signature) -> Option<TokenStream> {
    let types: Vec<&Ty> = sig.wrt_params().map(|p| &p.ty).collect();
    let Some((rows, widths)) = crate::jacobian::jacobian_shape(&sig.output, &types) else {
        return jacobian_by_columns(sig).map(|(ty, _)| ty);
    };
    let blocks: Vec<TokenStream> = widths
        .iter()
        .map(|&cols| matrix_type(sig, &Ty::mat(rows, cols)))
        .collect();
    Some(match blocks.as_slice() {
        [single] => single.clone(),
        several => quote!((#(#several),*)),
    })
}

/// The Hessian's type, where it is built.
pub fn hessian_type(sig: &Signature) -> Option<TokenStream> {
    let types: Vec<&Ty> = sig.wrt_params().map(|p| &p.ty).collect();
    match crate::jacobian::hessian_size(&types) {
        Some(n) => Some(matrix_type(sig, &Ty::mat(n, n))),
        None => hessian_by_columns(sig).map(|(ty, _)| ty),
    }
}

/// The Hessian of a function of one vector whose Hessian is not built in the IR (its length a
/// const generic `N`, or too long to seed): `N` calls of `f_hvp` along the unit vectors, as a
/// loop, the lower triangle mirrored onto the upper so that it is symmetric by construction.
/// Its type and body.
fn hessian_by_columns(sig: &Signature) -> Option<(TokenStream, TokenStream)> {
    let (n, columns) = columns_along_units(sig, "hvp")?;
    let ty = matrix_type(sig, &Ty::Mat(n.clone(), n.clone()));
    let (h, j, i) = (local("h"), local("j"), local("i"));
    let n = names::dim(&n);
    let body = quote! {
        let mut #h = <#ty>::zeros();
        #columns
        for #j in 0..#n {
            for #i in 0..#j {
                #h[(#i, #j)] = #h[(#j, #i)];
            }
        }
        #h
    };
    Some((ty, body))
}

/// The Jacobian of a vector-valued function of one vector where it is not built in the IR (a
/// const-generic length, or too many seeds): `N` calls of `f_jvp` along the unit vectors, as a
/// loop. Its type and body.
fn jacobian_by_columns(sig: &Signature) -> Option<(TokenStream, TokenStream)> {
    let Ty::Mat(rows, Dim::Lit(1)) = &sig.output else {
        return None;
    };
    let (n, columns) = columns_along_units(sig, "jvp")?;
    let ty = matrix_type(sig, &Ty::Mat(rows.clone(), n));
    let h = local("h");
    Some((ty.clone(), quote!(let mut #h = <#ty>::zeros(); #columns #h)))
}

/// For a function of one vector `x` of length `N`: its length, and the loop that sets column
/// `j` of the matrix `h` (declared by the caller) to `f_<suffix>(.., e_j)`.
fn columns_along_units(sig: &Signature, suffix: &str) -> Option<(Dim, TokenStream)> {
    let [k] = sig.wrt.as_slice() else {
        return None;
    };
    let param = &sig.params[*k];
    let Ty::Mat(n, Dim::Lit(1)) = &param.ty else {
        return None;
    };
    let (len, elem) = (names::dim(n), elem_type(sig.elem));
    let name = format_ident!("{}_{}", sig.func.sig.ident, suffix);
    let callee = if sig.associated {
        quote!(Self::#name)
    } else {
        quote!(#name)
    };
    let args = sig.params.iter().map(|p| &p.ident);
    let (h, j, e) = (local("h"), local("j"), local("e"));
    let krate = &sig.krate;
    let direction = if param.by_ref {
        quote!(&#e)
    } else {
        quote!(#e)
    };
    let columns = quote! {
        for #j in 0..#len {
            let mut #e = #krate::__private::nalgebra::SVector::<#elem, #len>::zeros();
            #e[#j] = 1.0;
            #h.set_column(#j, &#callee(#(#args,)* #direction));
        }
    };
    Some((n.clone(), columns))
}

/// The cotangent `r_vjp` takes, output-shaped, by reference.
fn cotangent_ident() -> Ident {
    Ident::new("u", Span::mixed_site())
}

pub fn cotangent_param(sig: &Signature) -> TokenStream {
    let (ident, ty) = (cotangent_ident(), output_type(sig));
    quote!(#ident: &#ty)
}

/// `__matdiff_f_vjp(params) -> (f, ∇₁f, .., ∇ₙf)` and
/// `__matdiff_f_tangent(params, d₁, .., dₙ)`, its tangent: what a caller's gradient and
/// Hessian-vector product need from `f` (see `Op::Call`).
fn callee_functions(sig: &Signature, program: &Program, cache: &LetCache) -> TokenStream {
    let g = &program.graph;
    let n = sig.params.len();
    let mut types = vec![&sig.output];
    types.extend(sig.params.iter().map(|p| &p.ty));
    let vjp_ids: Vec<Option<Id>> = std::iter::once(Some(program.value))
        .chain(program.gradient_all.iter().copied())
        .collect();
    let vjp = outputs(&vjp_ids, &types);
    let tangent = outputs(&program.tangent_all, &types);
    let singles = |outputs: &[Output]| -> Vec<TokenStream> {
        outputs.iter().map(|o| result(g.elem, o)).collect()
    };
    // Parameter `n + k` is the direction of parameter `k`; a matrix-valued function's
    // cotangent is parameter `2n`, its direction `2n + 1`.
    let mut vjp_directions = vec![None; n];
    let mut tangent_directions: Vec<Option<Ident>> =
        (0..n).map(|k| Some(hidden_direction(k))).collect();
    if sig.output.is_matrix() {
        vjp_directions.push(Some(cotangent_ident()));
        tangent_directions.push(Some(cotangent_ident()));
        tangent_directions.push(Some(cotangent_direction()));
    }
    let vjp_body = tuple_body(sig, g, cache, &vjp_directions, &vjp, &singles(&vjp), &[]);
    let tangent_body = tuple_body(
        sig,
        g,
        cache,
        &tangent_directions,
        &tangent,
        &singles(&tangent),
        &[],
    );
    let hidden = hidden_signatures(sig);
    let doc = "Used by other `#[differentiate]` functions that call this one.";
    let vjp_fn = generated_fn(sig, HIDDEN_VJP, doc, &hidden.vjp, &hidden.ret, &vjp_body);
    let tangent_fn = generated_fn(
        sig,
        HIDDEN_TANGENT,
        doc,
        &hidden.tangent,
        &hidden.ret,
        &tangent_body,
    );
    hidden_type(sig, &quote!(#vjp_fn #tangent_fn))
}

/// What the hidden functions take after the parameters, and return.
pub struct HiddenSignatures {
    /// `__matdiff_vjp`: nothing, or a matrix-valued function's cotangent `u`.
    pub vjp: Vec<TokenStream>,
    /// `__matdiff_tangent`: a direction per parameter; for a matrix-valued function the
    /// cotangent first and its direction last (`u, d₁, .., dₙ, du`).
    pub tangent: Vec<TokenStream>,
    /// `(value, one derivative per parameter)`.
    pub ret: TokenStream,
}

pub fn hidden_signatures(sig: &Signature) -> HiddenSignatures {
    let directions = sig.params.iter().enumerate().map(|(k, p)| {
        let (ident, ty) = (hidden_direction(k), p.written);
        quote!(#ident: #ty)
    });
    let value_types = sig.params.iter().map(|p| p.value_type);
    let output = if sig.output.is_matrix() {
        output_type(sig)
    } else {
        elem_type(sig.elem)
    };
    let ret = quote!((#output, #(#value_types),*));
    if !sig.output.is_matrix() {
        return HiddenSignatures {
            vjp: Vec::new(),
            tangent: directions.collect(),
            ret,
        };
    }
    let du = cotangent_direction();
    let mut tangent = vec![cotangent_param(sig)];
    tangent.extend(directions);
    tangent.push(quote!(#du: &#output));
    HiddenSignatures {
        vjp: vec![cotangent_param(sig)],
        tangent,
        ret,
    }
}

fn hidden_direction(k: usize) -> Ident {
    Ident::new(&format!("__d{k}"), Span::mixed_site())
}

fn cotangent_direction() -> Ident {
    Ident::new("__du", Span::mixed_site())
}

/// The functions callers use, as associated functions of an empty type named like the user's
/// function: the type lives in the type namespace, the function in the value namespace, so a
/// `use m::f;` or `use m::f as g;` that brings `f` into a caller's scope brings them too, and
/// the caller reaches them through the path it calls `f` by (`g::__matdiff_vjp(..)`).
///
/// In an `impl` block no type can be declared: there they are associated functions
/// `__matdiff_f_vjp` next to `f`, which callers reach as `Self::f` or `Type::f`.
pub fn hidden_type(sig: &Signature, functions: &TokenStream) -> TokenStream {
    if sig.associated {
        return quote!(#[doc(hidden)] #functions);
    }
    let (vis, name) = (&sig.func.vis, &sig.func.sig.ident);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}
        #[doc(hidden)]
        impl #name {
            #functions
        }
    }
}

fn outputs<'a>(ids: &[Option<Id>], types: &[&'a Ty]) -> Vec<Output<'a>> {
    ids.iter()
        .zip(types)
        .map(|(&id, &ty)| Output { id, ty })
        .collect()
}

/// The suffixes `generated_fn` gives the hidden helpers callers use (see `hidden_type`), told
/// apart from a matrix-valued function's public `_vjp`.
pub const HIDDEN_VJP: &str = "__vjp";
pub const HIDDEN_TANGENT: &str = "__tangent";

/// A generated function's signature around `body`; shared with the fallback's stubs.
pub fn generated_fn(
    sig: &Signature,
    suffix: &str,
    doc: &str,
    extra_params: &[TokenStream],
    ret: &TokenStream,
    body: &TokenStream,
) -> TokenStream {
    let user = &sig.func.sig;
    let vis = &sig.func.vis;
    let name = match suffix {
        HIDDEN_VJP | HIDDEN_TANGENT => {
            let suffix = &suffix[2..];
            if sig.associated {
                format_ident!("__matdiff_{}_{}", user.ident, suffix)
            } else {
                // Associated functions of the hidden type named like the function.
                format_ident!("__matdiff_{}", suffix)
            }
        }
        _ => format_ident!("{}_{}", user.ident, suffix),
    };
    let generics = &user.generics;
    let where_clause = &user.generics.where_clause;
    let params = sig.params.iter().map(|p| {
        let (ident, ty) = (&p.ident, p.written);
        quote!(#ident: #ty)
    });
    // The user's own `#[allow(..)]` (a parameter named `K`, say) concerns the names and
    // types the generated functions repeat.
    let allowed = sig.func.attrs.iter().filter(|a| a.path().is_ident("allow"));
    quote! {
        #[doc = #doc]
        #(#allowed)*
        // A parameter the derivative does not need (a constant term, or `x` in the Hessian of
        // a quadratic) is still taken, so that all three functions share one signature; and
        // a user need not call all of them. The clippy lints concern code the user did not
        // write: constants folded to literals (`PI` as digits), the directions that double the
        // parameter list, long straight-line bodies, `N as f64` written by the user.
        #[allow(
            unused_variables,
            dead_code,
            clippy::approx_constant,
            clippy::excessive_precision,
            clippy::too_many_arguments,
            clippy::too_many_lines,
            clippy::unreadable_literal,
            clippy::many_single_char_names,
            clippy::similar_names,
            clippy::float_cmp,
            clippy::cast_precision_loss
        )]
        // Inline: a caller in another crate can then inline and specialise it, and a hidden
        // helper nobody calls is never compiled to machine code.
        #[inline]
        #vis fn #name #generics (#(#params,)* #(#extra_params,)*) -> #ret #where_clause {
            #body
        }
    }
}

/// `v: &SVector<f64, 3>` for one `wrt` parameter, `v1, v2, ...` for several, passed like
/// the parameter itself.
pub fn direction_params(sig: &Signature) -> Vec<TokenStream> {
    sig.wrt_params()
        .enumerate()
        .map(|(j, param)| {
            let ident = direction_ident(sig, j);
            let ty = param.written;
            quote!(#ident: #ty)
        })
        .collect()
}

/// The direction of each parameter in `*_hvp`, indexed by parameter; `None` for a constant.
fn hvp_direction_idents(sig: &Signature) -> Vec<Option<Ident>> {
    let mut idents = vec![None; sig.params.len()];
    for (j, &k) in sig.wrt.iter().enumerate() {
        idents[k] = Some(direction_ident(sig, j));
    }
    idents
}

/// The gradient's type: the `wrt` parameter's type without the reference, or a tuple of them.
pub fn gradient_type(sig: &Signature) -> TokenStream {
    let types: Vec<_> = sig.wrt_params().map(|p| p.value_type).collect();
    match types.as_slice() {
        [single] => quote!(#single),
        several => quote!((#(#several),*)),
    }
}

fn direction_ident(sig: &Signature, j: usize) -> Ident {
    let name = if sig.wrt.len() == 1 {
        "v".to_owned()
    } else {
        format!("v{}", j + 1)
    };
    // Mixed-site hygiene: a user parameter that is also called `v` stays distinct.
    Ident::new(&name, Span::mixed_site())
}

struct Output<'a> {
    id: Option<Id>,
    ty: &'a Ty,
}

/// The `let` of each computed node, shared by the functions one expansion writes.
type LetCache = RefCell<HashMap<Id, TokenStream>>;

enum Group<'a> {
    Single(&'a Output<'a>),
    /// A bare value for one output, a tuple for several (the contract's gradient shape).
    Tuple(&'a [Output<'a>]),
}

/// The statements computing `groups`, then the groups as the function's result.
fn body(
    sig: &Signature,
    g: &Graph,
    cache: &LetCache,
    directions: &[Option<Ident>],
    groups: &[Group],
    also_computed: &[Id],
) -> TokenStream {
    let outputs: Vec<&Output> = groups
        .iter()
        .flat_map(|group| match group {
            Group::Single(output) => std::slice::from_ref(*output).iter().collect::<Vec<_>>(),
            Group::Tuple(outputs) => outputs.iter().collect(),
        })
        .collect();
    let results: Vec<TokenStream> = groups
        .iter()
        .map(|group| match group {
            Group::Single(output) => result(g.elem, output),
            Group::Tuple([single]) => result(g.elem, single),
            Group::Tuple(several) => {
                let each = several.iter().map(|o| result(g.elem, o));
                quote!((#(#each),*))
            }
        })
        .collect();
    let outputs: Vec<Output> = outputs
        .into_iter()
        .map(|o| Output { id: o.id, ty: o.ty })
        .collect();
    tuple_body(sig, g, cache, directions, &outputs, &results, also_computed)
}

/// The statements computing `outputs`, then `results` (a value, or a tuple of several).
fn tuple_body(
    sig: &Signature,
    g: &Graph,
    cache: &LetCache,
    directions: &[Option<Ident>],
    outputs: &[Output],
    results: &[TokenStream],
    also_computed: &[Id],
) -> TokenStream {
    let roots: Vec<Id> = outputs
        .iter()
        .filter_map(|o| o.id)
        .chain(also_computed.iter().copied())
        .chain(checks(g))
        .collect();
    let live = g.reachable(roots.iter().copied());
    let uses = Uses::count(g, &live, &roots);
    let chains = scatter_chains(g, &live, &uses, &HashMap::new());
    let mut emitted = vec![false; g.len()];
    let mut lets = Vec::new();
    for id in g.ids().filter(|id| live[id.index()]) {
        if emitted[id.index()] {
            continue;
        }
        if let Some(link) = chains.get(&id) {
            lets.push(chain_link(g, id, link));
            continue;
        }
        if let Some(pair) = loop_partner(g, &live, &emitted, id) {
            lets.push(run_together(
                sig,
                g,
                cache,
                directions,
                &live,
                &mut emitted,
                pair,
            ));
            continue;
        }
        if let Some(taped) = taped_twin(g, &live, id) {
            let mut cache = cache.borrow_mut();
            let tokens = cache
                .entry(taped)
                .or_insert_with(|| binding(sig, g, directions, taped));
            lets.push(tokens.clone());
            lets.push(from_taped_twin(g, id, taped));
            emitted[taped.index()] = true;
            continue;
        }
        if let Some((tokens, members)) = fused(g, &live, &uses, id) {
            lets.push(tokens);
            for member in members {
                emitted[member.index()] = true;
            }
            continue;
        }
        if matches!(g.op(id), Op::Param(_)) {
            lets.push(binding(sig, g, directions, id));
            continue;
        }
        // Every function writes a node the same way: build its `let` once.
        let mut cache = cache.borrow_mut();
        let tokens = cache
            .entry(id)
            .or_insert_with(|| binding(sig, g, directions, id));
        lets.push(tokens.clone());
    }
    let result = match results {
        [single] => single.clone(),
        several => quote!((#(#several),*)),
    };
    let items = const_items(sig);
    // Short names for matdiff's helpers and nalgebra's matrix type keep the generated code
    // readable and small (the macro's output is what rustc parses and type-checks), and name
    // the crate's path once: `emit/ops.rs` and `emit/fuse.rs` write `__matdiff::..`.
    let krate = &sig.krate;
    quote! {
        use #krate::__private::{self as __matdiff, nalgebra::SMatrix as __SMatrix};
        #(#items)*
        #(#lets)*
        #result
    }
}

/// Two loops one `for` runs: `id`, written as `first` (itself, or the taped copy that replaces
/// it), and `partner`.
struct LoopPair {
    id: Id,
    first: Id,
    partner: Id,
}

/// For a loop (or the taped copy that replaces it), a later loop over the same range that
/// does not depend on it, so that one `for` can run both: the order-free reverse sweep of a
/// loop accumulating a loss (see `regions.rs`).
fn loop_partner(g: &Graph, live: &[bool], emitted: &[bool], id: Id) -> Option<LoopPair> {
    let Op::Loop(_) = g.op(id) else {
        return None;
    };
    let first = taped_twin(g, live, id).unwrap_or(id);
    let Op::Loop(spec) = g.op(first) else {
        return None;
    };
    let partner = g.ids().skip(first.index() + 1).find(|&other| {
        let Op::Loop(other_spec) = g.op(other) else {
            return false;
        };
        if !live[other.index()] || emitted[other.index()] || !other_spec.tape.is_empty() {
            return false;
        }
        if !same_range(spec, other_spec) {
            return false;
        }
        // Everything the partner needs must be computable before the first loop: written
        // already, or a constant (its seed `1`, the zeros its sums start from).
        let needs = g.reachable(g.node(other).args.iter().copied());
        g.ids().all(|dep| {
            !needs[dep.index()]
                || dep < id
                || matches!(
                    g.op(dep),
                    Op::Lit(_) | Op::Fill | Op::Int(_) | Op::SymConst(_) | Op::EmptyTape
                )
        })
    })?;
    Some(LoopPair { id, first, partner })
}

/// Writes the loop `id` (or its taped copy) and `partner` as one `for`, after whatever the
/// partner needs that is not written yet.
#[allow(
    clippy::too_many_arguments,
    reason = "the emitter's state, passed along"
)]
fn run_together(
    sig: &Signature,
    g: &Graph,
    cache: &LetCache,
    directions: &[Option<Ident>],
    live: &[bool],
    emitted: &mut [bool],
    LoopPair { id, first, partner }: LoopPair,
) -> TokenStream {
    let mut lets = Vec::new();
    let needs = g.reachable(g.node(partner).args.iter().copied());
    for dep in g
        .ids()
        .skip(id.index() + 1)
        .take_while(|&dep| dep < partner)
    {
        if needs[dep.index()] && live[dep.index()] && !emitted[dep.index()] {
            let mut cache = cache.borrow_mut();
            let tokens = cache
                .entry(dep)
                .or_insert_with(|| binding(sig, g, directions, dep));
            lets.push(tokens.clone());
            emitted[dep.index()] = true;
        }
    }
    let (Op::Loop(a), Op::Loop(b)) = (g.op(first), g.op(partner)) else {
        unreachable!("partners are loops")
    };
    let operands =
        |loop_id: Id| -> Vec<Ident> { g.node(loop_id).args.iter().map(|&arg| var(arg)).collect() };
    let (first_operands, partner_operands) = (operands(first), operands(partner));
    let block = fused_loop_block(
        g,
        (a, &first_operands, first),
        (b, &partner_operands, partner),
    );
    let (first_var, partner_var) = (var(first), var(partner));
    let (first_ty, partner_ty) = (
        value_type(g.elem, g.ty(first)),
        value_type(g.elem, g.ty(partner)),
    );
    lets.push(quote!(let (#first_var, #partner_var): (#first_ty, #partner_ty) = #block;));
    if first != id {
        lets.push(from_taped_twin(g, id, first));
        emitted[first.index()] = true;
    }
    emitted[partner.index()] = true;
    quote!(#(#lets)*)
}

/// The `const` items of the user's body, wherever they are: generated code names them as
/// the body does, so every generated function declares them too.
fn const_items(sig: &Signature) -> Vec<syn::ItemConst> {
    use syn::visit::Visit;
    struct Consts(Vec<syn::ItemConst>);
    impl<'ast> Visit<'ast> for Consts {
        fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
            self.0.push(item.clone());
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut consts = Consts(Vec::new());
    consts.visit_block(&sig.func.block);
    consts.0
}

fn binding(sig: &Signature, g: &Graph, directions: &[Option<Ident>], id: Id) -> TokenStream {
    let node = g.node(id);
    match node.op {
        Op::Param(k) => {
            let (name, ty) = (var(id), value_type(g.elem, &node.ty));
            let value = param_value(sig, directions, k, &node.ty);
            if by_reference(&node.ty) {
                quote!(let #name: &#ty = #value;)
            } else {
                quote!(let #name: #ty = #value;)
            }
        }
        _ => computed(g, id, var),
    }
}

/// Binds parameter `k` (user parameters, then the direction of parameter `k - n`) in the form
/// of its kind: matrices by reference, scalars by value.
fn param_value(sig: &Signature, directions: &[Option<Ident>], k: usize, ty: &Ty) -> TokenStream {
    let n = sig.params.len();
    if k >= 2 * n {
        // A matrix-valued function's cotangent and its direction, taken by reference.
        let ident = directions[k - n]
            .clone()
            .expect("only the VJPs bind the cotangent");
        return quote!(#ident);
    }
    let param = &sig.params[k % n];
    let ident = if k < n {
        param.ident.clone()
    } else {
        directions[k - n]
            .clone()
            .expect("a function binds only the directions it takes")
    };
    match (ty, param.by_ref) {
        (Ty::Mat(..), false) => quote!(&#ident),
        (Ty::Mat(..), true) => quote!(#ident),
        (Ty::Int, true) if k < n => quote!((*#ident as i64)),
        (Ty::Int, false) if k < n => quote!((#ident as i64)),
        // The direction of an integer parameter is never read.
        (Ty::Int, _) => quote!(0i64),
        (Ty::Bool, _) if k >= n => quote!(false),
        (_, true) => quote!(*#ident),
        _ => quote!(#ident),
    }
}

fn result(elem: Elem, output: &Output) -> TokenStream {
    match (output.id, output.ty) {
        (Some(id), ty) if by_reference(ty) => {
            let v = var(id);
            quote!(*#v)
        }
        (Some(id), _) => {
            let v = var(id);
            quote!(#v)
        }
        (None, Ty::Scalar) => literal(elem, 0.0),
        (None, Ty::Int | Ty::Bool) => quote!(::core::default::Default::default()),
        (None, ty) => {
            let ty = value_type(elem, ty);
            quote!(<#ty>::zeros())
        }
    }
}
