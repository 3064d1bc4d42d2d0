//! The pipeline: arguments -> signature -> lowering -> reverse sweep -> forward over the
//! gradient -> emission. Simplification happens as nodes are built (`simplify.rs`).

use crate::args::Args;
use crate::ctxt::Ctxt;
use crate::emit::{self, Program};
use crate::ir::{Graph, Id};
use crate::ops::Op;
use crate::sig::Signature;
use crate::{fallback, forward, lower, reverse};
use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

pub fn differentiate(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "`#[differentiate]` applies to a free function, such as \
                 `fn loss(x: &SVector<f64, 3>) -> f64 { ... }`",
            )
            .to_compile_error();
            return quote!(#item #error);
        }
    };
    let args = match Args::from_tokens(args) {
        Ok(args) => args,
        Err(error) => return fallback::expand(&func, None, &error),
    };
    let sig = match Signature::from_syn(&func, &args) {
        Ok(sig) => sig,
        Err(error) => return fallback::expand(&func, None, &error),
    };
    match try_expand(&sig) {
        Ok(generated) => quote!(#func #generated),
        Err(error) => fallback::expand(&func, Some(&sig), &error),
    }
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
    let value = value.expect("lowering without errors gives a value");

    // Parameter nodes are the first ones built, in order; the direction of parameter `k`
    // is `Op::Param(n + k)`.
    let n = sig.params.len();
    let params: Vec<Id> = graph.ids().take(n).collect();
    let wrt: Vec<Id> = sig.wrt.iter().map(|&k| params[k]).collect();
    let gradient = reverse::gradient(&mut graph, value, &wrt);
    let gradient_all = reverse::gradient(&mut graph, value, &params);

    // Hessian-vector products: the tangent of the gradient program (forward over reverse).
    let upto = graph.len();
    let directions: Vec<Id> = params
        .iter()
        .enumerate()
        .map(|(k, &param)| {
            let node = graph.node(param);
            let (ty, span) = (node.ty.clone(), node.span);
            graph.add_typed(Op::Param(n + k), &[], ty, span)
        })
        .collect();
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
    let tangent_all = std::iter::once(tangent[value.index()])
        .chain(
            gradient_all
                .iter()
                .map(|grad| grad.and_then(|id| tangent[id.index()])),
        )
        .collect();

    if let Some((span, message)) = graph.internal_errors.first() {
        return Err(syn::Error::new(
            *span,
            format!("matdiff internal error, please report it: {message}"),
        ));
    }
    Ok(Program {
        graph,
        value,
        gradient,
        hvp,
        gradient_all,
        tangent_all,
    })
}
