//! The pipeline: arguments -> signature -> lowering -> reverse sweep -> forward over the
//! gradient -> emission. Simplification happens as nodes are built (`build.rs`).

use crate::args::Args;
use crate::build::Build;
use crate::ctxt::Ctxt;
use crate::emit::{self, Program};
use crate::ir::{Graph, Id, Ty};
use crate::ops::Op;
use crate::sig::Signature;
use crate::{fallback, forward, jacobian, lower, reverse};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ItemFn;

pub fn differentiate(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => return not_a_function(item),
    };
    // Attribute and signature problems are all reported together; the body is looked at
    // only once they are fixed, since its shapes come from the signature.
    let cx = Ctxt::new();
    let args = Args::parse_recovering(&cx, args);
    let sig = args
        .as_ref()
        .and_then(|args| Signature::parse_recovering(&cx, &func, args));
    if let Err(error) = cx.check() {
        return fallback::expand(&func, sig.as_ref(), &error);
    }
    let Some(sig) = sig else {
        let error = syn::Error::new(
            func.sig.ident.span(),
            "matdiff internal error, please report it: no signature and no error",
        );
        return fallback::expand(&func, None, &error);
    };
    match try_expand(&sig) {
        Ok(generated) => quote!(#func #generated),
        Err(error) => fallback::expand(&func, Some(&sig), &error),
    }
}

/// The item unchanged, with an error naming what it is instead of a function.
fn not_a_function(item: TokenStream) -> TokenStream {
    const USE: &str = "put it on a function such as \
                       `fn loss(x: &SVector<f64, 3>) -> f64 { ... }`";
    let (tokens, what) = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Verbatim(_)) | Err(_) => (item.clone(), "this item"),
        Ok(other) => item_kind(&other),
    };
    let error = bodiless_fn(item.clone()).unwrap_or_else(|| {
        syn::Error::new_spanned(
            tokens,
            format!("`#[differentiate]` applies to functions, not to {what}; {USE}"),
        )
    });
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// The error for a function declared without a body (in a trait or an `extern` block).
fn bodiless_fn(tokens: TokenStream) -> Option<syn::Error> {
    let decl: syn::TraitItemFn = syn::parse2(tokens).ok()?;
    Some(syn::Error::new_spanned(
        &decl.sig,
        "`#[differentiate]` needs the function's body to differentiate it; it cannot apply \
         to a declaration without one",
    ))
}

/// The item's keyword and name, for the error's span, and what to call it.
fn item_kind(item: &syn::Item) -> (TokenStream, &'static str) {
    use syn::Item;
    match item {
        Item::Struct(s) => (keyword_and_name(&s.struct_token, &s.ident), "a struct"),
        Item::Enum(e) => (keyword_and_name(&e.enum_token, &e.ident), "an enum"),
        Item::Union(u) => (keyword_and_name(&u.union_token, &u.ident), "a union"),
        Item::Trait(t) => (keyword_and_name(&t.trait_token, &t.ident), "a trait"),
        Item::Mod(m) => (keyword_and_name(&m.mod_token, &m.ident), "a module"),
        Item::Const(c) => (keyword_and_name(&c.const_token, &c.ident), "a constant"),
        Item::Static(s) => (keyword_and_name(&s.static_token, &s.ident), "a static"),
        Item::Type(t) => (keyword_and_name(&t.type_token, &t.ident), "a type alias"),
        Item::Impl(i) => (i.impl_token.to_token_stream(), "an impl block"),
        _ => (quote!(#item), "this item"),
    }
}

fn keyword_and_name(keyword: &impl ToTokens, name: &proc_macro2::Ident) -> TokenStream {
    quote!(#keyword #name)
}

fn try_expand(sig: &Signature) -> syn::Result<TokenStream> {
    let program = differentiate_body(sig)?;
    Ok(emit::functions(sig, &program))
}

/// Lowers the body and builds the gradient and Hessian-vector-product programs.
pub fn differentiate_body(sig: &Signature) -> syn::Result<Program> {
    let cx = Ctxt::new();
    let mut graph = Graph::new(sig.elem);
    let value = lower::lower_body(&cx, &mut graph, sig);
    cx.check()?;
    graph.primal_len = graph.len();
    let Some(value) = value else {
        return Err(syn::Error::new(
            sig.func.sig.ident.span(),
            "matdiff internal error, please report it: the body has no value and no error",
        ));
    };

    if graph.ty(value) != &sig.output {
        return Err(syn::Error::new(
            graph.node(value).span,
            format!(
                "the body's value is a {} but the function returns a {}; make them agree",
                graph.ty(value).describe(),
                sig.output.describe()
            ),
        ));
    }

    // Parameter nodes are the first ones built, in order; the direction of parameter `k`
    // is `Op::Param(n + k)`, and a matrix-valued function's cotangent `Op::Param(2n)`.
    let n = sig.params.len();
    let params: Vec<Id> = graph.ids().take(n).collect();
    let wrt: Vec<Id> = sig.wrt.iter().map(|&k| params[k]).collect();
    if sig.output != Ty::Scalar {
        return matrix_valued(graph, value, &params, &wrt, sig);
    }
    let gradient = reverse::gradient(&mut graph, value, &wrt);
    let gradient_all = reverse::gradient(&mut graph, value, &params);

    // Hessian-vector products: the tangent of the gradient program (forward over reverse).
    let upto = graph.len();
    let directions = direction_params(&mut graph, &params);
    let wrt_seeds: Vec<(Id, Id)> = sig
        .wrt
        .iter()
        .map(|&k| (params[k], directions[k]))
        .collect();
    let tangent = forward::tangents(&mut graph, &wrt_seeds, upto);
    let hvp = gradient
        .iter()
        .map(|grad| grad.and_then(|id| tangent[id.index()]))
        .collect();

    let all_seeds: Vec<(Id, Id)> = params.iter().copied().zip(directions).collect();
    let tangent = forward::tangents(&mut graph, &all_seeds, upto);
    let tangent_all = tangents_of(&tangent, value, &gradient_all);

    // Over the gradient program only (the first `upto` nodes), as `hvp`.
    let hessian = jacobian::hessian(&mut graph, &gradient, &wrt, upto);
    check_internal(&graph)?;
    Ok(Program {
        graph,
        value,
        gradient,
        hvp,
        gradient_all,
        tangent_all,
        hessian,
        jvp: None,
        vjp: Vec::new(),
        jacobian: None,
    })
}

/// The derivatives of a function whose value is a matrix: its JVP (the tangent along one
/// direction per `wrt` parameter), its VJP (the reverse sweep from a cotangent parameter) and,
/// where the sizes are literals, its Jacobian.
fn matrix_valued(
    mut graph: Graph,
    value: Id,
    params: &[Id],
    wrt: &[Id],
    sig: &Signature,
) -> syn::Result<Program> {
    let n = params.len();
    let primal = graph.len();
    let span = graph.node(value).span;
    let cotangent = graph.add_typed(Op::Param(2 * n), &[], sig.output.clone(), span);
    let directions = direction_params(&mut graph, params);

    // For callers, first, so that the tangent pass over it sees no other derivative: the VJP
    // with respect to every parameter, and its tangent along a direction for every parameter
    // and for the cotangent (`Op::Param(2n + 1)`).
    let gradient_all = reverse::vjp(&mut graph, &[(value, cotangent)], params);
    let upto = graph.len();
    let mut seeds: Vec<(Id, Id)> = params.iter().copied().zip(directions.clone()).collect();
    let direction = graph.add_typed(Op::Param(2 * n + 1), &[], sig.output.clone(), span);
    seeds.push((cotangent, direction));
    let tangent = forward::tangents(&mut graph, &seeds, upto);
    let tangent_all = tangents_of(&tangent, value, &gradient_all);

    // The user's: along the `wrt` directions only, and the Jacobian over the primal.
    let wrt_seeds: Vec<(Id, Id)> = sig
        .wrt
        .iter()
        .map(|&k| (params[k], directions[k]))
        .collect();
    let jvp = forward::tangents(&mut graph, &wrt_seeds, primal)[value.index()];
    let vjp = reverse::vjp(&mut graph, &[(value, cotangent)], wrt);
    let jacobian = jacobian::jacobian(&mut graph, value, wrt);
    check_internal(&graph)?;
    Ok(Program {
        graph,
        value,
        gradient: Vec::new(),
        hvp: Vec::new(),
        gradient_all,
        tangent_all,
        hessian: None,
        jvp,
        vjp,
        jacobian,
    })
}

/// The direction of each parameter, `Op::Param(n + k)` for parameter `k` of `n`.
fn direction_params(graph: &mut Graph, params: &[Id]) -> Vec<Id> {
    let n = params.len();
    params
        .iter()
        .enumerate()
        .map(|(k, &param)| {
            let node = graph.node(param);
            let (ty, span) = (node.ty.clone(), node.span);
            graph.add_typed(Op::Param(n + k), &[], ty, span)
        })
        .collect()
}

/// The tangent of the value and of each of `gradient_all`: what a caller's tangent helper
/// returns.
fn tangents_of(tangent: &[Option<Id>], value: Id, gradient_all: &[Option<Id>]) -> Vec<Option<Id>> {
    std::iter::once(tangent[value.index()])
        .chain(
            gradient_all
                .iter()
                .map(|grad| grad.and_then(|id| tangent[id.index()])),
        )
        .collect()
}

/// Rules run on `.map()` closure bodies too; their errors count as much as the graph's.
fn check_internal(graph: &Graph) -> syn::Result<()> {
    let internal = graph
        .bodies
        .iter()
        .chain(std::iter::once(graph))
        .find_map(|g| g.internal_errors.first());
    match internal {
        Some((span, message)) => Err(syn::Error::new(
            *span,
            format!("matdiff internal error, please report it: {message}"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use quote::{quote, ToTokens};
    use std::collections::BTreeMap;

    /// The stubs must have exactly the signatures of the real generated functions, or a
    /// caller of a function with an error would see follow-on errors.
    #[test]
    fn stubs_have_the_generated_signatures() {
        let cases = [
            (
                quote!(wrt = x),
                quote!(
                    pub fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
                        x.dot(&(a * x))
                    }
                ),
            ),
            (
                quote!(wrt = (x, a)),
                quote!(
                    pub fn residual(x: &SVector<f64, 3>, a: &Matrix2x3<f64>) -> Vector2<f64> {
                        a * x
                    }
                ),
            ),
            (
                quote!(wrt = (w, s)),
                quote!(
                    fn two<const N: usize>(w: SVector<f32, N>, s: f32, c: &Matrix2<f32>) -> f32 {
                        s * w.norm_squared() + c.trace()
                    }
                ),
            ),
        ];
        for (args, item) in cases {
            let func: syn::ItemFn = syn::parse2(item).expect("test function parses");
            let real = super::differentiate(args.clone(), quote!(#func));
            let parsed = crate::args::Args::from_tokens(args).expect("valid arguments");
            let sig = crate::sig::Signature::from_syn(&func, &parsed).expect("valid signature");
            let error = syn::Error::new(proc_macro2::Span::call_site(), "test");
            let stubbed = crate::fallback::expand(&func, Some(&sig), &error);
            let expected = signatures(&real);
            assert!(
                expected.len() >= 4,
                "the user's function and the generated ones"
            );
            assert_eq!(expected, signatures(&stubbed), "for {}", func.sig.ident);
        }
    }

    /// Each generated function's name and signature, printed.
    fn signatures(tokens: &proc_macro2::TokenStream) -> BTreeMap<String, String> {
        let file: syn::File = syn::parse2(tokens.clone()).expect("expansion parses as items");
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Fn(f) => {
                    let sig = &f.sig;
                    let vis = &f.vis;
                    let attrs: Vec<_> = f
                        .attrs
                        .iter()
                        .filter(|a| !a.path().is_ident("doc"))
                        .collect();
                    // Parameter names are free: callers pass arguments by position.
                    let inputs: Vec<String> = sig
                        .inputs
                        .iter()
                        .map(|arg| match arg {
                            syn::FnArg::Typed(t) => t.ty.to_token_stream().to_string(),
                            syn::FnArg::Receiver(r) => r.to_token_stream().to_string(),
                        })
                        .collect();
                    let (generics, output) = (&sig.generics, &sig.output);
                    let shown = quote!(#(#attrs)* #vis #generics -> #output).to_string();
                    Some((
                        sig.ident.to_string(),
                        format!("{shown} ({})", inputs.join(", ")),
                    ))
                }
                _ => None,
            })
            .collect()
    }
}
