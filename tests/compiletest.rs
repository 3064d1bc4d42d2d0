//! The diagnostics suite: every error `#[differentiate]` can report, one mistake per file
//! under `tests/ui/<category>/`, with the expected compiler output pinned in the `.stderr`
//! beside it. Regenerate with `TRYBUILD=overwrite cargo test --test compiletest`, then read
//! every changed `.stderr`: it must show the matdiff error under the right tokens and nothing
//! else that the mistake does not itself cause.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
}
