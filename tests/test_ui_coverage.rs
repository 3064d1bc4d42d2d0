//! Every error message the macro can emit has a UI case: a `tests/ui/**/*.stderr` that shows
//! it. Adding a message without a UI case fails this test.
//!
//! How it finds the messages: it lexes the macro's sources (`matdiff-macros/src/**/*.rs`,
//! without `src/tests/` and without the `#[cfg(test)] mod` at the end of a file), collects
//! every string literal, and keeps the ones that read like a message: at least four words,
//! not starting with a capital letter (messages are lowercase; generated doc comments are
//! not), and not inside `quote!` (generated code), `expect`, `panic!`, `unreachable!`,
//! `assert!`-style macros or `todo!` (internal invariants, not user errors). A message
//! written as a `format!` string is split at its `{placeholders}`; it counts as covered when
//! every piece of five or more characters appears, in order, in one `.stderr` file.
//!
//! Limits: a message assembled entirely from placeholders, or whose literal pieces are all
//! shorter than five characters, is not checked; a message in a string that does not look
//! like one (starting with a capital letter) is missed; a piece shared by two messages is
//! satisfied by either. Messages that no user input can trigger are listed in `INTERNAL`
//! with the reason; an entry there that no longer matches a source literal fails the test,
//! so the list stays honest.

use std::fs;
use std::path::{Path, PathBuf};

/// Messages that no input can produce, with why. Matched as substrings of the literal.
const INTERNAL: &[(&str, &str)] = &[
    (
        "matdiff internal error, please report it",
        "reports a bug in matdiff itself (a derivative rule building an ill-shaped node, or a \
         missing signature without an error)",
    ),
    (
        "the type of this op is given, not inferred",
        "ops with given types are built by `add_typed`, never through the shape rule",
    ),
    (
        "expected a scalar and a matrix",
        "`Scale` is only built with a scalar first: `lower` picks the op by shape",
    ),
    (
        "needs a matrix or vector, found a scalar",
        "`lower` rejects matrix methods on a scalar receiver (with its own message) before \
         the shape rule runs",
    ),
    (
        "no field {i} in {other}",
        "`Field` is only built by `lower` on the tuple an eigen-decomposition returns",
    ),
    (
        "expected an eigenvalue vector, found a",
        "`EigenGaps` is only built by the eigenvalue rules, on their own results",
    ),
    (
        "the adjoint of singular vectors, which only derivatives",
        "`SvdU` and `SvdV` are built only by the rules of `SingularValues`: only the forward \
         transform of a gradient program meets them",
    ),
    (
        "a third derivative through a call to another",
        "matdiff builds at most second derivatives (the Hessian-vector product)",
    ),
    (
        "rewrite `{name}` changed {ty} to",
        "a simplification rule changing a type is a bug, reported as an internal error",
    ),
    (
        "fn {f} (t = %0):",
        "the IR dump used by the macro's unit tests",
    ),
    (
        "tape of {n} {item}",
        "tapes exist only in derivative programs, whose types no message names",
    ),
    (
        "a region's tangent is built in regions.rs",
        "`forward.rs` gives loops and branches to `regions.rs`, never to `Op::jvp`",
    ),
    (
        "a region's adjoint is built in regions.rs",
        "`reverse.rs` gives loops and branches to `regions.rs`, never to `Op::vjp`",
    ),
    (
        "`from_diagonal()` needs a column vector, found a",
        "`lower` checks `from_diagonal`'s argument (with its own message) before it builds \
         `FromDiagonal`, and the rules build it of a diagonal's cotangent",
    ),
    (
        "expected a tape, found a",
        "`Load` is only built by the loop adjoint, on the tape it records",
    ),
    (
        "expected an integer, found a",
        "`lower` converts indices, positions and counts to integers (or reports its own \
         message) before it builds the node",
    ),
    (
        "the adjoint of a loop's tape is never needed",
        "tapes exist only in gradient programs, which are differentiated forward, never \
         backward",
    ),
    (
        "unary `-` and `!`",
        "syn's unary operators are `*`, `!` and `-`, all lowered; the message covers a future \
         one",
    ),
    (
        "cannot compare a {} with a {}",
        "`lower` compares two integers or two scalars, and reports any other pair itself",
    ),
];

#[test]
fn every_message_has_a_ui_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stderrs: Vec<String> = files(&root.join("tests/ui"), "stderr")
        .iter()
        .map(|path| fs::read_to_string(path).expect("readable .stderr"))
        .collect();
    assert!(stderrs.len() > 40, "the UI suite is missing");

    let mut messages = Vec::new();
    for path in files(&root.join("matdiff-macros/src"), "rs") {
        if path.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let source = fs::read_to_string(&path).expect("readable source");
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        for literal in string_literals(without_test_module(&source)) {
            if looks_like_message(&literal) {
                messages.push((format!("{shown}:{}", literal.line), literal.text));
            }
        }
    }
    assert!(messages.len() > 40, "the extraction found too few messages");

    let mut uncovered = Vec::new();
    for (place, text) in &messages {
        if INTERNAL.iter().any(|(fragment, _)| text.contains(fragment)) {
            continue;
        }
        let pieces = pieces(text);
        if pieces.is_empty() {
            continue;
        }
        if !stderrs
            .iter()
            .any(|stderr| contains_in_order(stderr, &pieces))
        {
            uncovered.push(format!("  {place}: \"{text}\""));
        }
    }
    assert!(
        uncovered.is_empty(),
        "these messages have no UI case; add a `tests/ui/<category>/<mistake>.rs` that \
         triggers each, then run `TRYBUILD=overwrite cargo test --test compiletest` and review \
         the new `.stderr` (or, if no input can trigger it, list it in `INTERNAL` with the \
         reason):\n{}",
        uncovered.join("\n")
    );

    for (fragment, _) in INTERNAL {
        assert!(
            messages.iter().any(|(_, text)| text.contains(fragment)),
            "`INTERNAL` lists \"{fragment}\", which no longer occurs in the macro's sources; \
             remove it"
        );
    }
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The source up to a trailing `#[cfg(test)] mod ...`.
fn without_test_module(source: &str) -> &str {
    let mut from = 0;
    while let Some(i) = source[from..].find("#[cfg(test)]") {
        let at = from + i;
        if source[at + "#[cfg(test)]".len()..]
            .trim_start()
            .starts_with("mod ")
        {
            return &source[..at];
        }
        from = at + 1;
    }
    source
}

struct Literal {
    text: String,
    line: usize,
    /// The macros and functions whose parentheses enclose the literal, outermost first.
    callers: Vec<String>,
}

/// Messages are lowercase sentences of several words; generated docs start with a capital
/// letter; attributes (`#[allow(.., reason = "..")]`) are not messages.
fn looks_like_message(literal: &Literal) -> bool {
    const INTERNAL_CALLERS: &[&str] = &[
        "quote!",
        "quote_spanned!",
        "expect",
        "panic!",
        "unreachable!",
        "todo!",
        "unimplemented!",
        "assert!",
        "assert_eq!",
        "assert_ne!",
        "debug_assert!",
        "debug_assert_eq!",
        "#",
    ];
    let text = literal.text.trim();
    let words = text.split_whitespace().count();
    let starts_upper = text.chars().next().is_some_and(char::is_uppercase);
    let internal = literal
        .callers
        .iter()
        .any(|caller| INTERNAL_CALLERS.contains(&caller.as_str()));
    words >= 4 && !starts_upper && !internal
}

/// The literal pieces of a `format!` string, split at its `{placeholders}`, that are long
/// enough to identify the message.
fn pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' {
            // A placeholder has no spaces: `{name}`, `{}`, `{:?}`, `{SCALAR_METHODS}`.
            let rest: String = chars.clone().take_while(|&c| c != '}').collect();
            let closed = chars.clone().nth(rest.chars().count()) == Some('}');
            if closed && !rest.contains(' ') {
                pieces.push(std::mem::take(&mut current));
                for _ in 0..=rest.chars().count() {
                    chars.next();
                }
                continue;
            }
        }
        current.push(c);
    }
    pieces.push(current);
    pieces
        .into_iter()
        .filter(|piece| piece.chars().filter(|c| !c.is_whitespace()).count() >= 5)
        .collect()
}

fn contains_in_order(haystack: &str, pieces: &[String]) -> bool {
    let mut from = 0;
    for piece in pieces {
        match haystack[from..].find(piece.as_str()) {
            Some(i) => from += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// Every string literal in Rust source, with escapes and line continuations resolved. A small
/// lexer: it knows comments, char literals, lifetimes and raw strings, which is all it takes
/// to find string literals reliably.
fn string_literals(source: &str) -> Vec<Literal> {
    let chars: Vec<char> = source.chars().collect();
    let mut literals = Vec::new();
    // Open delimiters, each with the name before it (`format!`, `expect`, or "").
    let mut open: Vec<String> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => line += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 1;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    } else if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                continue;
            }
            '\'' => {
                // `'x'`, `'\n'`, `'\''` are chars; `'a` is a lifetime.
                if next == Some('\\') {
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            'r' if is_raw_string_start(&chars, i) => {
                let start_line = line;
                let mut j = i + 1;
                let mut hashes = 0;
                while chars[j] == '#' {
                    hashes += 1;
                    j += 1;
                }
                j += 1;
                let mut text = String::new();
                while j < chars.len() {
                    let closes =
                        chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#'));
                    if closes {
                        break;
                    }
                    if chars[j] == '\n' {
                        line += 1;
                    }
                    text.push(chars[j]);
                    j += 1;
                }
                literals.push(Literal {
                    text,
                    line: start_line,
                    callers: open.clone(),
                });
                i = j + 1 + hashes;
                continue;
            }
            '"' => {
                let start_line = line;
                let mut text = String::new();
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' {
                        j += 1;
                        match chars.get(j) {
                            Some('\n') => {
                                line += 1;
                                while chars.get(j + 1).is_some_and(|c| c.is_whitespace()) {
                                    if chars[j + 1] == '\n' {
                                        line += 1;
                                    }
                                    j += 1;
                                }
                            }
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some(&other) => text.push(other),
                            None => {}
                        }
                    } else {
                        if chars[j] == '\n' {
                            line += 1;
                        }
                        text.push(chars[j]);
                    }
                    j += 1;
                }
                literals.push(Literal {
                    text,
                    line: start_line,
                    callers: open.clone(),
                });
                i = j + 1;
                continue;
            }
            '(' | '[' | '{' => open.push(name_before(&chars, i)),
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    literals
}

fn is_raw_string_start(chars: &[char], i: usize) -> bool {
    let before_is_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if before_is_ident {
        return false;
    }
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// The identifier (with a `!` for a macro) just before the delimiter at `i`; `#` for the
/// bracket of an attribute.
fn name_before(chars: &[char], i: usize) -> String {
    if chars[i] == '[' && i > 0 && (chars[i - 1] == '#' || chars[i - 1] == '!') {
        return "#".to_owned();
    }
    let mut j = i;
    while j > 0 && chars[j - 1].is_whitespace() {
        j -= 1;
    }
    let bang = j > 0 && chars[j - 1] == '!';
    if bang {
        j -= 1;
    }
    let end = j;
    while j > 0 && (chars[j - 1].is_alphanumeric() || chars[j - 1] == '_') {
        j -= 1;
    }
    let mut name: String = chars[j..end].iter().collect();
    if bang {
        name.push('!');
    }
    name
}
