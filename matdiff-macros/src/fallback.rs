//! The expansion when the macro rejects the input: the user's function unchanged, the errors,
//! and, where the signature was understood well enough, every generated function as a stub
//! with the right signature, so that callers (including other differentiated functions) still
//! type-check and the user sees only the real errors.

use crate::emit;
use crate::ir::Ty;
use crate::sig::Signature;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, ReturnType};

pub fn expand(func: &ItemFn, sig: Option<&Signature>, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let Some(sig) = sig else {
        return quote!(#func #error);
    };
    let stubs = stubs(sig);
    quote!(#func #error #stubs)
}

/// `unreachable!()` bodies under the signatures `emit::functions` writes. The value type is
/// the written return type, so that a caller of `*_value_and_grad` sees what it expects even
/// when the return type itself is the error.
fn stubs(sig: &Signature) -> TokenStream {
    let grad_ty = emit::gradient_type(sig);
    let value_ty = match &sig.func.sig.output {
        ReturnType::Type(_, ty) => quote!(#ty),
        ReturnType::Default => quote!(()),
    };
    let unreachable = quote!(::core::unreachable!(
        "matdiff reported a compile error here"
    ));
    let doc = "Not generated: `#[differentiate]` reported an error.";
    let stub = |suffix: &str, extra: &[TokenStream], ret: &TokenStream| {
        emit::generated_fn(sig, suffix, doc, extra, ret, &unreachable)
    };
    let signatures = emit::hidden_signatures(sig);
    let vjp = stub(emit::HIDDEN_VJP, &signatures.vjp, &signatures.ret);
    let tangent = stub(emit::HIDDEN_TANGENT, &signatures.tangent, &signatures.ret);
    let hidden = emit::hidden_type(sig, &quote!(#vjp #tangent));
    if sig.output != Ty::Scalar {
        let jvp = stub("jvp", &emit::direction_params(sig), &value_ty);
        let vjp = stub("vjp", &[emit::cotangent_param(sig)], &grad_ty);
        let jacobian = emit::jacobian_type(sig).map(|jacobian_ty| {
            let jacobian = stub("jacobian", &[], &jacobian_ty);
            let value_and = stub(
                "value_and_jacobian",
                &[],
                &quote!((#value_ty, #jacobian_ty)),
            );
            quote!(#jacobian #value_and)
        });
        return quote!(#jvp #vjp #jacobian #hidden);
    }
    let grad = stub("grad", &[], &grad_ty);
    let value_and_grad = stub("value_and_grad", &[], &quote!((#value_ty, #grad_ty)));
    let hvp = stub("hvp", &emit::direction_params(sig), &grad_ty);
    let hessian = emit::hessian_type(sig).map(|ty| stub("hessian", &[], &ty));
    quote!(#grad #value_and_grad #hvp #hessian #hidden)
}
