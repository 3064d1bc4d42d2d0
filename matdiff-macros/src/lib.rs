//! The `#[differentiate]` attribute of [matdiff](https://docs.rs/matdiff). Depend on `matdiff`,
//! which re-exports it with the runtime it needs.
//!
//! The pipeline, one module per stage: [`args`](self) -> `sig` -> `lower` (syn to IR, with
//! shapes) -> `reverse` (gradient) -> `forward` (Hessian-vector product as the tangent of the
//! gradient program) -> `emit`; `simplify` runs as nodes are built, `fallback` on error.

mod args;
mod ctxt;
mod emit;
mod expand;
mod fallback;
mod forward;
mod fuse;
mod ir;
mod lower;
mod ops;
mod regions;
mod reverse;
mod sig;
mod simplify;

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
