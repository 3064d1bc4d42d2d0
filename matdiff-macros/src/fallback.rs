//! The expansion when the macro rejects the input: the user's function unchanged, the errors,
//! and, where the signature was understood well enough, every generated function as a stub
//! with the right signature, so that callers (including other differentiated functions) still
//! type-check and the user sees only the real errors.

use crate::emit;
use crate::sig::Signature;
use proc_macro2::{Ident, Span, TokenStream};
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
    let value_types = sig.params.iter().map(|p| p.value_type);
    let all_values = quote!((#value_ty, #(#value_types),*));
    let directions: Vec<TokenStream> = sig
        .params
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let ident = Ident::new(&format!("__d{k}"), Span::mixed_site());
            let ty = p.written;
            quote!(#ident: #ty)
        })
        .collect();
    let unreachable = quote!(::core::unreachable!(
        "matdiff reported a compile error here"
    ));
    let doc = "Not generated: `#[differentiate]` reported an error.";
    let stub = |suffix: &str, extra: &[TokenStream], ret: &TokenStream| {
        emit::generated_fn(sig, suffix, doc, extra, ret, &unreachable)
    };
    let grad = stub("grad", &[], &grad_ty);
    let value_and_grad = stub("value_and_grad", &[], &quote!((#value_ty, #grad_ty)));
    let hvp = stub("hvp", &emit::direction_params(sig), &grad_ty);
    let vjp = stub("vjp", &[], &all_values);
    let tangent = stub("tangent", &directions, &all_values);
    quote!(#grad #value_and_grad #hvp #[doc(hidden)] #vjp #[doc(hidden)] #tangent)
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
            let real = crate::expand::differentiate(args.clone(), quote!(#func));
            let parsed = crate::args::Args::from_tokens(args).expect("valid arguments");
            let sig = crate::sig::Signature::from_syn(&func, &parsed).expect("valid signature");
            let error = syn::Error::new(proc_macro2::Span::call_site(), "test");
            let stubbed = super::expand(&func, Some(&sig), &error);
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
