//! Defects found in review, each kept as a regression test named after it.

use quote::quote;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A call to a differentiated function whose name is a raw identifier (`r#gen`) goes to
/// `r#gen::__matdiff_vjp`, the hidden type the callee declares under its own name; the macro
/// once built `__matdiff_r#gen_vjp` and panicked.
#[test]
fn raw_identifier_callee_calls_the_hidden_function() {
    let expanded = catch_unwind(AssertUnwindSafe(|| {
        crate::expand::differentiate(
            quote!(wrt = x),
            quote!(
                fn outer(x: f64) -> f64 {
                    r#gen(x) * 2.0
                }
            ),
        )
    }));
    let tokens = expanded.expect("the macro must not panic on a raw-identifier callee");
    let text = tokens.to_string();
    assert!(text.contains("r#gen :: __matdiff_vjp"), "{text}");
}
