//! The attribute's arguments: `wrt = x` or `wrt = (a, b)`.

use proc_macro2::{Ident, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parenthesized, Token};

mod kw {
    syn::custom_keyword!(wrt);
}

const GRAMMAR: &str = "write `#[differentiate(wrt = x)]`, or `#[differentiate(wrt = (a, b))]` \
                       for several parameters";

pub struct Args {
    /// The parameters to differentiate with respect to, in the order given.
    pub wrt: Vec<Ident>,
}

impl Args {
    pub fn from_tokens(tokens: TokenStream) -> syn::Result<Args> {
        if tokens.is_empty() {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("missing `wrt`: {GRAMMAR}"),
            ));
        }
        syn::parse2(tokens)
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(kw::wrt) {
            let message = match input.fork().parse::<Ident>() {
                Ok(key) => {
                    format!("unknown argument `{key}`: the only argument is `wrt`; {GRAMMAR}")
                }
                Err(_) => format!("expected `wrt`: {GRAMMAR}"),
            };
            return Err(syn::Error::new(input.span(), message));
        }
        input.parse::<kw::wrt>()?;
        input.parse::<Token![=]>().map_err(|e| {
            syn::Error::new(e.span(), format!("expected `=` after `wrt`: {GRAMMAR}"))
        })?;
        let wrt = parse_names(input)?;
        input.parse::<Option<Token![,]>>()?;
        if !input.is_empty() {
            return Err(input.error(format!(
                "unexpected tokens after the `wrt` argument: the only argument is `wrt`; {GRAMMAR}"
            )));
        }
        reject_duplicates(&wrt)?;
        Ok(Args { wrt })
    }
}

fn parse_names(input: ParseStream) -> syn::Result<Vec<Ident>> {
    if input.peek(syn::token::Paren) {
        let content;
        let parens = parenthesized!(content in input);
        let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content).map_err(|e| {
            syn::Error::new(e.span(), format!("expected parameter names: {GRAMMAR}"))
        })?;
        if names.is_empty() {
            return Err(syn::Error::new(
                parens.span.join(),
                format!("`wrt` names no parameter: {GRAMMAR}"),
            ));
        }
        return Ok(names.into_iter().collect());
    }
    let name = input
        .parse::<Ident>()
        .map_err(|e| syn::Error::new(e.span(), format!("expected a parameter name: {GRAMMAR}")))?;
    Ok(vec![name])
}

fn reject_duplicates(names: &[Ident]) -> syn::Result<()> {
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(syn::Error::new(
                name.span(),
                format!("`{name}` appears twice in `wrt`; list each parameter once"),
            ));
        }
    }
    Ok(())
}
