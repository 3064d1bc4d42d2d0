//! The attribute's arguments: `wrt = x` or `wrt = (a, b)`, `associated` for a function in an
//! `impl` block, and `crate = path` for a crate that reaches matdiff by a path other than
//! `::matdiff`.
//!
//! Parsing records every problem in a [`Ctxt`] and recovers where the meaning is still clear
//! (a name listed twice, an unknown extra argument), so that the fallback can emit stubs and
//! the user sees only the real error.

use crate::ctxt::Ctxt;
use proc_macro2::{Ident, Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{parenthesized, LitStr, Path, Token};

mod kw {
    syn::custom_keyword!(wrt);
    syn::custom_keyword!(associated);
}

/// How `crate = path` is written, for its messages.
const CRATE_GRAMMAR: &str = "give the path by which this crate reaches matdiff, as in \
                             `crate = my_reexport::matdiff`";

const GRAMMAR: &str = "write `#[differentiate(wrt = x)]`, or `#[differentiate(wrt = (a, b))]` \
                       for several parameters, followed by `, associated` for a function in an \
                       `impl` block";

pub struct Args {
    /// The parameters to differentiate with respect to, in the order given, each once.
    pub wrt: Vec<Ident>,
    /// `associated`: the function is in an `impl` block, where the hidden type that carries
    /// the functions callers use cannot be declared (see `emit::hidden_type`).
    pub associated: bool,
    /// The path generated code names matdiff by: `::matdiff`, or the argument `crate = path`.
    pub krate: Path,
}

impl Args {
    /// The arguments, or every problem with them combined into one error (for tests: the
    /// macro itself recovers from errors).
    #[cfg(test)]
    pub fn from_tokens(tokens: TokenStream) -> syn::Result<Args> {
        let cx = Ctxt::new();
        let args = Args::parse_recovering(&cx, tokens);
        cx.check()?;
        args.ok_or_else(|| syn::Error::new(Span::call_site(), format!("missing `wrt`: {GRAMMAR}")))
    }

    /// Records every problem in `cx`; returns the arguments if their meaning is clear despite
    /// them.
    pub fn parse_recovering(cx: &Ctxt, tokens: TokenStream) -> Option<Args> {
        if tokens.is_empty() {
            cx.error_at(Span::call_site(), format!("missing `wrt`: {GRAMMAR}"));
            return None;
        }
        let parser = |input: ParseStream| parse_entries(cx, input);
        match parser.parse2(tokens) {
            Ok(args) => args,
            Err(error) => {
                cx.syn_error(error);
                None
            }
        }
    }
}

/// `key = value, ...`: the keys are `wrt` and `crate`, and `associated` stands alone. Errors
/// that leave the rest readable are recorded in `cx`; the others end parsing with `Err`.
fn parse_entries(cx: &Ctxt, input: ParseStream) -> syn::Result<Option<Args>> {
    let mut wrt: Option<Vec<Ident>> = None;
    let mut associated = false;
    let mut krate: Option<Path> = None;
    let mut unknown_key = false;
    while !input.is_empty() {
        if input.peek(kw::wrt) {
            parse_wrt(cx, input, &mut wrt)?;
        } else if input.peek(kw::associated) {
            input.parse::<kw::associated>()?;
            associated = true;
        } else if input.peek(Token![crate]) {
            parse_crate(cx, input, &mut krate)?;
        } else if let Ok(key) = input.fork().call(Ident::parse_any) {
            cx.error_at(
                key.span(),
                format!(
                    "unknown argument `{key}`: the arguments are `wrt`, `associated` and \
                     `crate`; {GRAMMAR}"
                ),
            );
            unknown_key = true;
            skip_entry(input)?;
        } else {
            return Err(input.error(format!("expected `wrt`: {GRAMMAR}")));
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `,` or the end of the arguments: {GRAMMAR}"),
            )
        })?;
    }
    let Some(names) = wrt else {
        if !unknown_key {
            cx.error_at(Span::call_site(), format!("missing `wrt`: {GRAMMAR}"));
        }
        return Ok(None);
    };
    Ok(Some(Args {
        wrt: dedup_names(cx, names),
        associated,
        krate: krate.unwrap_or_else(default_crate),
    }))
}

/// `wrt = names`; a second `wrt` is reported and its names are added to the first.
fn parse_wrt(cx: &Ctxt, input: ParseStream, wrt: &mut Option<Vec<Ident>>) -> syn::Result<()> {
    let key = input.parse::<kw::wrt>()?;
    input
        .parse::<Token![=]>()
        .map_err(|e| syn::Error::new(e.span(), format!("expected `=` after `wrt`: {GRAMMAR}")))?;
    let names = parse_names(input)?;
    match wrt {
        None => *wrt = Some(names),
        Some(earlier) => {
            cx.error_at(
                key.span,
                "`wrt` is given twice; list all the parameters in one `wrt`, as in \
                 `wrt = (a, b)`",
            );
            earlier.extend(names);
        }
    }
    Ok(())
}

/// `crate = path`. The path is written bare, as Rust writes paths in `pub(in path)` and `use`,
/// rather than as serde's string: syn parses it with the user's spans, so a path that does
/// not resolve is reported on the attribute's tokens. A second `crate` is reported and the
/// first kept.
fn parse_crate(cx: &Ctxt, input: ParseStream, krate: &mut Option<Path>) -> syn::Result<()> {
    let key = input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected `=` after `crate`; {CRATE_GRAMMAR}"),
        )
    })?;
    let path = parse_crate_path(cx, input)?;
    if krate.is_some() {
        cx.error_at(
            key.span,
            "`crate` is given twice; give the path to matdiff once",
        );
    } else {
        *krate = Some(path);
    }
    Ok(())
}

/// The path after `crate =`. A string is reported; as its meaning is clear, parsing goes on
/// with the path inside it, so that the stubs name matdiff as the user meant.
fn parse_crate_path(cx: &Ctxt, input: ParseStream) -> syn::Result<Path> {
    if input.peek(LitStr) {
        let string = input.parse::<LitStr>()?;
        cx.error_at(
            string.span(),
            "`crate` takes a path, not a string: drop the quotes, as in \
             `crate = my_reexport::matdiff`",
        );
        return Ok(string
            .parse_with(Path::parse_mod_style)
            .unwrap_or_else(|_| default_crate()));
    }
    // Module style: the path to a crate has no generic arguments.
    input.call(Path::parse_mod_style).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected a path after `crate =`; {CRATE_GRAMMAR}"),
        )
    })
}

/// `::matdiff`, where generated code finds matdiff when the attribute does not say.
fn default_crate() -> Path {
    syn::parse_quote!(::matdiff)
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

/// Skips the tokens of an unknown `key = value` entry, up to the next top-level comma.
fn skip_entry(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

/// The names with repeats removed; each repeat is reported.
fn dedup_names(cx: &Ctxt, names: Vec<Ident>) -> Vec<Ident> {
    let mut unique: Vec<Ident> = Vec::new();
    for name in names {
        if unique.contains(&name) {
            cx.error_at(
                name.span(),
                format!("`{name}` appears twice in `wrt`; list each parameter once"),
            );
        } else {
            unique.push(name);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::Args;
    use quote::{quote, ToTokens};

    fn krate(tokens: proc_macro2::TokenStream) -> String {
        let args = Args::from_tokens(tokens).expect("valid arguments");
        args.krate.to_token_stream().to_string()
    }

    #[test]
    fn the_crate_path_defaults_to_matdiff() {
        assert_eq!(krate(quote!(wrt = x)), ":: matdiff");
        assert_eq!(krate(quote!(wrt = x, associated)), ":: matdiff");
    }

    #[test]
    fn the_crate_path_is_any_module_path_in_any_position() {
        assert_eq!(krate(quote!(wrt = x, crate = md)), "md");
        assert_eq!(
            krate(quote!(crate = crate::deps::matdiff, wrt = (a, b))),
            "crate :: deps :: matdiff"
        );
        assert_eq!(krate(quote!(wrt = x, crate = ::md, associated)), ":: md");
    }

    #[test]
    fn a_path_with_generic_arguments_is_not_a_crate() {
        assert!(Args::from_tokens(quote!(wrt = x, crate = md::<f64>)).is_err());
    }
}
