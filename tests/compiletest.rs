//! The diagnostics suite: every error `#[differentiate]` can report, one mistake per file
//! under `tests/ui/<category>/`, with the expected compiler output pinned in the `.stderr`
//! beside it. Regenerate with `TRYBUILD=overwrite cargo test --test compiletest`, then read
//! every changed `.stderr`: it must show the matdiff error under the right tokens and nothing
//! else that the mistake does not itself cause.
//!
//! The snapshots pin rustc's follow-on messages too, and those list implementations from
//! nalgebra 0.35's dependency tree; the macro's own messages do not depend on the nalgebra
//! version, so the suite runs on 0.35 only.
#![cfg(not(feature = "nalgebra_v0_34"))]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
}
