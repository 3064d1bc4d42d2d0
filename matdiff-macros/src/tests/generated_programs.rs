//! A sample of the random programs of `random_programs.rs`, written as Rust source into
//! `tests/generated/random_programs.rs`, where `tests/test_random_programs.rs` compiles them
//! through the real macro and checks the generated `_grad`, `_value_and_grad` and `_hvp`
//! against central differences of the generated function itself
//! (`matdiff::runtime::check_all`).
//!
//! The sample favours control flow: every program has a loop, a branch or an iterator chain,
//! and at least half of them a loop or iterator of more than 64 steps (beyond the unrolling
//! limit). A few of them return early from a loop and build matrices with `Vector3::new(..)`
//! and the like (the test on the sample counts them).
//! Each comes with points where the reference evaluator of the source finds nothing
//! singular, and where the finite differences `check_all` will take (its direction replayed
//! from the seed written next to the point) stay on the branches taken at the point.
//!
//! The file is checked in. `generated_random_programs_are_current` fails when it is not what the
//! generator writes now;
//! `MATDIFF_UPDATE_GENERATED=1 cargo test -p matdiff-macros generated_programs` rewrites it.

use super::interp::Value;
use super::random_programs::{check_source, generate, reference, Evaluation, Program, Shape};
use super::support::{differentiate, Rng};
use crate::ops::Op;
use nalgebra::DMatrix;
use proc_macro2::TokenStream;
use std::fmt::Write;
use std::path::PathBuf;
use std::str::FromStr;
use syn::ItemFn;

/// The sequence of programs the sample is drawn from.
const SEED: u64 = 0x6765_6e65_7261_7465;
/// Programs in the sample.
const PROGRAMS: usize = 32;
/// Points per program.
const POINTS: usize = 2;
/// Attempts at a point; the inputs shrink every other one.
const ATTEMPTS: usize = 12;

/// The step of `matdiff_runtime::directional_derivative` is this times `max(1, |x|) / |v|`.
fn runtime_step_factor() -> f64 {
    f64::EPSILON.powf(0.2)
}

const REGENERATE: &str =
    "MATDIFF_UPDATE_GENERATED=1 cargo test -p matdiff-macros generated_programs";

fn generated_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/generated/random_programs.rs")
}

#[test]
fn generated_random_programs_are_current() {
    let expected = export().text;
    let path = generated_path();
    if std::env::var_os("MATDIFF_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &expected).expect("tests/generated/random_programs.rs is writable");
        return;
    }
    let actual = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "tests/generated/random_programs.rs is not what the random-program generator writes \
             now (first difference at line {}); regenerate it with\n    {REGENERATE}\nand review \
             the diff",
            line + 1
        );
    }
}

/// The exported programs through the pipeline: they lower (some to `Op::Loop` regions, as
/// the integration test means them to) and pass the interpreter's checks.
#[test]
fn generated_random_programs_lower_to_loops_and_pass_the_interpreter_checks() {
    let exported = export();
    let mut regions = 0;
    let mut unrolled = Vec::new();
    let mut failures = Vec::new();
    for (k, program) in exported.programs.iter().enumerate() {
        let func: ItemFn = syn::parse_str(&program.source).expect("the program parses");
        let args = TokenStream::from_str(&program.wrt).expect("attribute arguments tokenize");
        let f = differentiate(&func, args);
        let g = &f.program.graph;
        if g.ids().any(|id| matches!(g.op(id), Op::Loop(_))) {
            regions += 1;
        } else if is_long(program) {
            unrolled.push(format!("f{k:02}"));
        }
        let report = check_source(&program.source, &program.wrt, SEED ^ k as u64);
        if !report.failures.is_empty() {
            failures.push(format!(
                "f{k:02}: #[differentiate({})]\n{}\n  {}",
                program.wrt,
                program.source,
                report.failures.join("\n  ")
            ));
        }
    }
    eprintln!("{regions} of the {PROGRAMS} exported programs have an `Op::Loop`");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for construct in [
        "early return from a for loop",
        "constructor with entries (Vector3::new / Matrix2::new)",
        "constructor of a repeated entry (repeat / from_element)",
    ] {
        let using = exported
            .programs
            .iter()
            .filter(|program| program.constructs.contains(construct))
            .count();
        eprintln!("{using} of the {PROGRAMS} exported programs use {construct}");
        assert!(
            using >= 2,
            "only {using} of the {PROGRAMS} exported programs use {construct}: the sample no \
             longer exercises it"
        );
    }
    assert!(
        regions >= PROGRAMS / 4,
        "only {regions} of the {PROGRAMS} exported programs have an `Op::Loop`: the unrolling \
         limits grew past the generator's long loops (unrolled: {})",
        unrolled.join(", ")
    );
}

/// The sample and its text.
struct Export {
    programs: Vec<Program>,
    text: String,
}

/// A point of a program: the parameters' values and the seed `check_all` draws its
/// directions from.
struct Point {
    x: Vec<Value>,
    seed: u64,
}

fn export() -> Export {
    let mut text = format!(
        "// @generated by matdiff-macros/src/tests/generated_programs.rs: {PROGRAMS} programs of \
         the random-program\n// generator (random_programs.rs, sequence {SEED:#x}) with \
         points away from singularities and\n// branch switches. Do not edit: regenerate with\n\
         //     {REGENERATE}\n// (`cargo test -p matdiff-macros generated_programs` fails \
         while this file is stale).\n// Included by tests/test_random_programs.rs.\n"
    );
    let mut programs = Vec::new();
    let mut short = 0;
    for i in 0.. {
        if programs.len() == PROGRAMS {
            break;
        }
        let mut rng = Rng::new(Rng::new(SEED ^ (i as u64).wrapping_mul(0x9E37_79B9)).next_u64());
        let program = generate(&mut rng);
        let control = program.constructs.iter().any(|c| {
            ["loop", "range", "iterator", "if", "match"]
                .iter()
                .any(|word| c.contains(word))
        });
        let long = is_long(&program);
        if !control || (!long && short >= PROGRAMS / 2) {
            continue;
        }
        let func: ItemFn = syn::parse_str(&program.source).expect("the program parses");
        let mut points = Vec::new();
        for _ in 0..POINTS {
            if let Some(point) = safe_point(&func, &program, &mut rng) {
                points.push(point);
            }
        }
        if points.len() < POINTS {
            continue;
        }
        short += usize::from(!long);
        write_program(&mut text, programs.len(), &program, &points);
        programs.push(program);
    }
    Export { programs, text }
}

/// Whether a program has a loop or an iterator of more than 64 steps.
fn is_long(program: &Program) -> bool {
    program
        .constructs
        .iter()
        .any(|c| c.contains("> 64") || c.contains("more than 64"))
}

/// A point where the program is far from its singularities and where the finite differences
/// `check_all` takes do not cross a branch switch; `None` after [`ATTEMPTS`] attempts.
fn safe_point(func: &ItemFn, program: &Program, rng: &mut Rng) -> Option<Point> {
    let mut scale = 1.0;
    for attempt in 0..ATTEMPTS {
        if attempt % 2 == 1 {
            scale *= 0.5;
        }
        let x: Vec<Value> = program
            .params
            .iter()
            .map(|p| {
                let (r, c) = match p.shape {
                    Shape::Scalar => return Value::Scalar(scale * (2.0 * rng.unit() - 1.0)),
                    Shape::Mat(r, c) => (r, c),
                };
                Value::Mat(DMatrix::from_fn(r, c, |_, _| {
                    scale * (2.0 * rng.unit() - 1.0)
                }))
            })
            .collect();
        let seed = rng.next_u64();
        if stays_on_its_branches(func, program, &x, seed) {
            return Some(Point { x, seed });
        }
    }
    None
}

/// Whether the source at `x` and at every point `check_all` (seeded with `seed`) evaluates
/// the function and its gradient at evaluates without anything singular and takes the same
/// branches; points at twice and half the step are checked too, so that a change in the
/// step's rule does not silently make the test straddle a switch.
fn stays_on_its_branches(func: &ItemFn, program: &Program, x: &[Value], seed: u64) -> bool {
    let Ok(at) = reference(func, x) else {
        return false;
    };
    if at.wild.is_some() {
        return false;
    }
    // `check_all` draws `v` first, `w` second; the finite differences move along `v`.
    let mut rng = Rng::new(seed);
    let v: Vec<Value> = program
        .wrt_params
        .iter()
        .map(|&k| match program.params[k].shape {
            Shape::Scalar => Value::Scalar(normal(&mut rng)),
            Shape::Mat(r, c) => Value::Mat(DMatrix::from_fn(r, c, |_, _| normal(&mut rng))),
        })
        .collect();
    let norm = |values: &mut dyn Iterator<Item = &Value>| {
        values
            .map(|v| v.entries().iter().map(|e| e * e).sum::<f64>())
            .sum::<f64>()
            .sqrt()
    };
    let x_norm = norm(&mut program.wrt_params.iter().map(|&k| &x[k]));
    let v_norm = norm(&mut v.iter());
    let h = runtime_step_factor() * x_norm.max(1.0) / v_norm.max(f64::MIN_POSITIVE);
    [1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 0.25, -0.25]
        .iter()
        .all(|s| {
            let mut moved = x.to_vec();
            for (j, &k) in program.wrt_params.iter().enumerate() {
                moved[k] = x[k].axpy(s * h, &v[j]);
            }
            matches!(
                reference(func, &moved),
                Ok(there @ Evaluation { wild: None, .. }) if there.same_branches(&at)
            )
        })
}

/// `matdiff_runtime::Rng::normal` (Box–Muller on SplitMix64, as `support::Rng` draws it).
fn normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.unit();
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The Rust type of a parameter's value.
fn rust_type(shape: Shape) -> String {
    match shape {
        Shape::Scalar => "f64".to_owned(),
        Shape::Mat(r, c) => format!("SMatrix<f64, {r}, {c}>"),
    }
}

/// A value as a Rust expression (`{:?}` prints the shortest decimal that reads back exactly).
fn literal(value: &Value) -> String {
    match value {
        Value::Scalar(s) => format!("{s:?}"),
        Value::Mat(m) => {
            let entries: Vec<String> = m.iter().map(|e| format!("{e:?}")).collect();
            format!(
                "SMatrix::<f64, {}, {}>::from_column_slice(&[{}])",
                m.nrows(),
                m.ncols(),
                entries.join(", ")
            )
        }
        other => unreachable!("a parameter of type {}", other.ty()),
    }
}

fn write_program(out: &mut String, k: usize, program: &Program, points: &[Point]) {
    let name = format!("f{k:02}");
    let constructs: Vec<&str> = program.constructs.iter().copied().collect();
    let source = program
        .source
        .strip_prefix("fn f(")
        .expect("the generator names its function `f`");
    let _ = write!(
        out,
        "\n/// Uses: {}.\n#[differentiate({})]\nfn {name}({source}\n",
        constructs.join(", "),
        program.wrt
    );
    // The closures' point `x` (the `wrt` parameters, a tuple for two) and direction `v`.
    let wrt = &program.wrt_params;
    let x_type = match wrt.as_slice() {
        [k] => rust_type(program.params[*k].shape),
        ks => format!(
            "({})",
            ks.iter()
                .map(|&k| rust_type(program.params[k].shape))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let argument = |k: usize, of: &str| -> String {
        let param = &program.params[k];
        let by_ref = param.by_ref && param.shape != Shape::Scalar;
        match wrt.iter().position(|&w| w == k) {
            None if by_ref => format!("&{}", param.name),
            None => param.name.clone(),
            Some(_) if wrt.len() == 1 && by_ref => of.to_owned(),
            Some(_) if wrt.len() == 1 => format!("*{of}"),
            Some(j) if by_ref => format!("&{of}.{j}"),
            Some(j) => format!("{of}.{j}"),
        }
    };
    let args: Vec<String> = (0..program.params.len())
        .map(|k| argument(k, "x"))
        .collect();
    let args = args.join(", ");
    let directions: Vec<String> = wrt.iter().map(|&k| argument(k, "v")).collect();
    let directions = directions.join(", ");
    let point = match wrt.as_slice() {
        [k] => format!("&{}", program.params[*k].name),
        ks => format!(
            "&({})",
            ks.iter()
                .map(|&k| program.params[k].name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let _ = write!(out, "\n#[test]\nfn {name}_derivatives() {{\n");
    for p in points {
        out.push_str("    {\n");
        for (param, value) in program.params.iter().zip(&p.x) {
            let _ = writeln!(
                out,
                "        let {}: {} = {};",
                param.name,
                rust_type(param.shape),
                literal(value)
            );
        }
        let _ = write!(
            out,
            "        check(\n            |x: &{x_type}| {name}({args}),\n            \
             |x: &{x_type}| {name}_grad({args}),\n            \
             |x: &{x_type}| {name}_value_and_grad({args}),\n            \
             |x: &{x_type}, v: &{x_type}| {name}_hvp({args}, {directions}),\n            \
             {point},\n            {:#x},\n        );\n    }}\n",
            p.seed
        );
    }
    out.push_str("}\n");
}
