//! The expansion when the macro rejects the input: the user's function unchanged, the errors,
//! and, where the signature was understood, the generated functions as stubs with the right
//! signatures, so that callers still type-check and the user sees only the real errors.

use crate::emit;
use crate::sig::Signature;
use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

pub fn expand(func: &ItemFn, sig: Option<&Signature>, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let Some(sig) = sig else {
        return quote!(#func #error);
    };
    let grad_ty = emit::gradient_type(sig);
    let elem = emit::elem_type(sig.elem);
    let unreachable = quote!(::core::unreachable!(
        "matdiff reported a compile error here"
    ));
    let doc = "Not generated: `#[differentiate]` reported an error.";
    let stubs = [
        ("grad", Vec::new(), grad_ty.clone()),
        ("value_and_grad", Vec::new(), quote!((#elem, #grad_ty))),
        ("hvp", emit::direction_params(sig), grad_ty.clone()),
    ]
    .into_iter()
    .map(|(suffix, extra, ret)| {
        let stub = emit::generated_fn(sig, suffix, doc, &extra, &ret, &unreachable);
        quote!(#stub)
    });
    quote!(#func #error #(#stubs)*)
}
