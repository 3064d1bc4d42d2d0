//! The `#[differentiate]` attribute of [matdiff](https://docs.rs/matdiff). Depend on `matdiff`,
//! which re-exports it with the runtime it needs.
//!
//! The pipeline: [`args`](self) -> `sig` -> `lower` (syn to IR, with shapes) -> `reverse`
//! (gradient) -> `forward` (Hessian-vector product as the tangent of the gradient program) ->
//! `emit`; `build` simplifies every node as it is built, `fallback` runs on error. The modules
//! are layered, each importing only the layers below (`ARCHITECTURE.md` draws them): types
//! (`types`, `ops`) -> arena (`ir`) -> building (`shape`, `build`) -> rules and transforms
//! (`rules`, `regions`, `forward`, `reverse`) -> frontend (`ctxt`, `args`, `sig`, `lower`) ->
//! emission (`emit`) -> `fallback`, `expand`.

mod args;
mod build;
mod ctxt;
mod emit;
mod expand;
mod fallback;
mod forward;
mod ir;
mod jacobian;
mod lower;
mod ops;
mod regions;
mod reverse;
mod rules;
mod shape;
mod sig;
mod types;

/// Generates `<name>_grad`, `<name>_value_and_grad` and `<name>_hvp` next to the function.
///
/// See the `matdiff` crate for the full documentation.
#[proc_macro_attribute]
pub fn differentiate(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand::differentiate(args.into(), item.into()).into()
}

#[cfg(test)]
mod tests;
