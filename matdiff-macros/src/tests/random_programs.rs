//! A property test on random, well-typed programs: a few hundred functions generated from the
//! supported grammar go through `expand::differentiate_body`, and at random points the
//! interpreted program (`interp.rs`) must agree with the source and with itself:
//!
//! 0. the value against the source evaluated directly with nalgebra (a rewrite that changes
//!    the value is invisible to the derivative checks, which differentiate the same graph);
//! 1. every gradient (`gradient`, `gradient_all`) against central differences of the value;
//! 2. every Hessian-vector product against central differences of the gradient;
//! 3. the Hessian's symmetry, `<H v, w> = <v, H w>`;
//! 4. what callers use: `gradient_all` equals `gradient`, `tangent_all` equals the directional
//!    derivative and `hvp` along the `wrt` directions, and `tangent_all` agrees with central
//!    differences along all directions.
//!
//! The generator tracks shapes, so every program type-checks: parameters of scalar, vector,
//! row and matrix shapes with literal dimensions 1 to 4 (spelled `SMatrix`, `SVector`,
//! `RowSVector` or as nalgebra's aliases, by reference or by value), one or two of them `wrt`,
//! now and then a vector of length 6 to 70; `let` chains; `+ - * /`, transposes, traces, dots,
//! sums, norms, `component_mul`, indexing, explicitly sized identities, matrices built from
//! scalar expressions (`Vector3::new(a, b, c)`, `Matrix2::new(a, b, c, d)` row by row,
//! `SMatrix::<f64, 2, 3>::new(..)`, `RowVector2::repeat(s)`, `Matrix2::from_element(s)`, sizes 1
//! to 4 under their aliases or `SMatrix`/`SVector`/`RowSVector`), scalar functions,
//! `.map` closures, inverses, determinants and log-determinants of well-conditioned matrices.
//! And control flow: `let mut` variables updated by `=`, `+=`, `-=`, `*=`, `/=` (also entry by
//! entry, `v[i] += ..`, `m[(i, j)] = ..`) in `for` loops short enough to be unrolled and longer
//! than the unrolling limits (65 to 100 and 129 to 200 iterations), nested, over `0..n` and
//! `0..x.len()`, each iteration a small perturbation or a contraction (iterated maps can be
//! chaotic, with derivatives no finite difference reproduces), whose bodies index with
//! the loop index (`x[i]`, `x[i % n]`, `m[(i % r, i / r % c)]`, `x[i - 1]` under `if i > 0`,
//! `.column(i)`, `i as f64`), branch on it (`if i == 0`, `else if`, `match i % 3`) and on values;
//! value-dependent `if`/`else if`/`else` as expressions, as statements assigning a `let mut`, and
//! with deferred initialisation; `&&`, `||`, `!`; iterator chains (`.iter()`, `.zip()`,
//! `.skip()`, `.take()`, `.step_by()`, `.rev()`, `.enumerate()`, `.map(|..| ..)`, `.sum()`,
//! `.fold()`, `(0..n).map(..)`) whose closures read the values in scope; closures bound with
//! `let` and called; tuple `let`s; an early `return` from a `for` loop at the function's top
//! level (`for i in 0..n { if x[i] > c { return e; } acc += ..; }`, short or longer than the
//! unrolling limits, from a nested loop, with the update in an `else`, or the `return` in it),
//! which the reference evaluator follows out of the loops. Every program with a loop is checked
//! a second time with every loop lowered to an `Op::Loop` region (the `FORCE_UNROLL` test hook),
//! whatever the unrolling policy decides for it by default.
//!
//! Points near a singularity (an argument of `ln`, `sqrt`, `1/x` or `.norm()` close to 0, a
//! near-singular matrix, huge intermediate values) or near a branch switch (the two sides of a
//! comparison of floats closer than [`BRANCH_MARGIN`], where a finite difference would straddle
//! the switch, an early `return`'s condition included) are resampled, at smaller and at full
//! scale. The reference evaluator of the
//! source finds them inside loops and branches too; the summary counts the skipped points by
//! reason. A finite difference that disagrees is retried with Richardson extrapolation at
//! several steps before it counts as a failure.
//!
//! The default seed keeps CI reproducible; `MATDIFF_RANDOM_SEED=<n>` explores another
//! sequence. A failure prints the program, its `wrt`, the seed of its points and the checks
//! that failed; `check_source(source, wrt, point_seed)` reproduces it.
//!
//! `generated_programs.rs` compiles a sample of the same programs through the real macro.

use super::interp::{dims, eval, Env, Value};
use super::support::{differentiate, Differentiated, Outputs, Point, Rng, FD_STEP};
use crate::ir::{Id, Ty};
use crate::lower::FORCE_UNROLL;
use crate::ops::{Fun, Op};
use nalgebra::DMatrix;
use proc_macro2::TokenStream;
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::str::FromStr;
use syn::ItemFn;

/// Programs per run.
const PROGRAMS: usize = 300;
/// Random points per program.
const POINTS: usize = 2;
const DEFAULT_SEED: u64 = 0x7261_6e64_6f6d_2121;

/// Relative tolerance of the finite-difference checks.
const FD_TOL: f64 = 1e-5;
/// Relative tolerance of the identities that hold up to rounding.
const EXACT_TOL: f64 = 1e-9;

/// A point is resampled if an intermediate value exceeds this.
const MAX_MAGNITUDE: f64 = 1e3;
/// ... or an argument of `ln`, `sqrt`, `1/x`, a negative power or `.norm()` is below this ...
const MIN_ARGUMENT: f64 = 0.1;
/// ... or a determined or inverted matrix has a singular value below this ...
const MIN_SINGULAR_VALUE: f64 = 0.05;
/// ... or an argument of `exp` exceeds this ...
const MAX_EXP_ARGUMENT: f64 = 6.0;
/// ... or an entry `.map` applies a closure to exceeds this (`sin(t³)` oscillates too fast for
/// finite differences at large `t`; the closure's own values are checked as any other) ...
const MAX_MAP_ARGUMENT: f64 = 10.0;
/// ... or the two sides of a comparison of floats are closer than this ...
const BRANCH_MARGIN: f64 = 1e-3;
/// Attempts at a point before the program is skipped, with inputs shrunk by 1, 1, 1/2, 1, 1/2,
/// 1/4, ..
const ATTEMPTS: usize = 12;

#[test]
fn random_programs_have_consistent_derivatives() {
    let seed = std::env::var("MATDIFF_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut failures = Vec::new();
    let (mut points, mut skipped, mut nonlinear) = (0, 0, 0);
    let mut ops: BTreeMap<String, usize> = BTreeMap::new();
    let mut constructs: BTreeMap<&str, usize> = BTreeMap::new();
    // Programs with loops, checked again with every loop kept a loop (`Op::Loop`).
    let (mut with_loops, mut region_points, mut region_skipped) = (0, 0, 0);
    let mut region_ops: BTreeMap<String, usize> = BTreeMap::new();
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut tally = |reasons: &[String]| {
        for reason in reasons {
            let category = reason.split(':').next().unwrap_or_default().to_owned();
            *skip_reasons.entry(category).or_default() += 1;
        }
    };
    for i in 0..PROGRAMS {
        let program_seed =
            Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)).next_u64();
        let mut rng = Rng::new(program_seed);
        let program = generate(&mut rng);
        for construct in &program.constructs {
            *constructs.entry(construct).or_default() += 1;
        }
        let point_seed = rng.next_u64();
        let report = check_source(&program.source, &program.wrt, point_seed);
        points += report.points;
        skipped += report.skipped;
        tally(&report.skip_reasons);
        nonlinear += usize::from(report.nonlinear);
        for op in report.ops {
            *ops.entry(op).or_default() += 1;
        }
        let mut found = report.failures;
        if has_loops(&program) {
            with_loops += 1;
            let report =
                with_loop_regions(|| check_source(&program.source, &program.wrt, point_seed));
            region_points += report.points;
            region_skipped += report.skipped;
            tally(&report.skip_reasons);
            for op in report.ops {
                *region_ops.entry(op).or_default() += 1;
            }
            found.extend(
                report
                    .failures
                    .into_iter()
                    .map(|failure| format!("(every loop a region) {failure}")),
            );
        }
        if !found.is_empty() {
            failures.push(format!(
                "program {i} (MATDIFF_RANDOM_SEED={seed}), point seed {point_seed}:\n\
                 #[differentiate({})]\n{}\n  {}",
                program.wrt,
                program.source,
                found.join("\n  ")
            ));
        }
    }
    let count = |ops: &BTreeMap<String, usize>, op: &str| ops.get(op).copied().unwrap_or(0);
    let ops_list: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
    let constructs: Vec<String> = constructs
        .iter()
        .map(|(construct, n)| format!("  {n:4}  {construct}"))
        .collect();
    let skip_reasons: Vec<String> = skip_reasons
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    eprintln!(
        "random programs (seed {seed}): {PROGRAMS} programs ({nonlinear} with a nonzero \
         Hessian), {points} points checked, {skipped} points skipped near singularities or \
         branch switches; programs using each op: {}\n\
         {with_loops} programs with loops, {} of them with an `Op::Loop`, {} with an `Op::Cond`; \
         checked again with every loop a region (`Op::Loop` in {}, `Op::Cond` in {}): \
         {region_points} points checked, {region_skipped} skipped\n\
         points skipped, by the reason of the last attempt: {}\n\
         programs using each construct:\n{}",
        ops_list.join(", "),
        count(&ops, "Loop"),
        count(&ops, "Cond"),
        count(&region_ops, "Loop"),
        count(&region_ops, "Cond"),
        skip_reasons.join(", "),
        constructs.join("\n")
    );
    assert!(
        (skipped + region_skipped) * 10 <= (PROGRAMS + with_loops) * POINTS,
        "too many points skipped ({skipped} + {region_skipped}): the generator drifted \
         towards singular programs"
    );
    assert!(
        failures.is_empty(),
        "{} of {PROGRAMS} random programs failed a check:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Whether a program has a loop or an iterator chain (which lowers to a loop).
fn has_loops(program: &Program) -> bool {
    program.source.contains("for ")
        || program.source.contains(".iter()")
        || program.source.contains("(0..")
}

/// `f` with every loop whose trip count is a literal lowered to an `Op::Loop` region, however
/// short: the unrolled and the region lowering of the same programs are both checked.
fn with_loop_regions<T>(f: impl FnOnce() -> T) -> T {
    FORCE_UNROLL.with(|forced| forced.set(Some(false)));
    let result = catch_unwind(AssertUnwindSafe(f));
    FORCE_UNROLL.with(|forced| forced.set(None));
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// What checking one program found.
pub(super) struct Report {
    pub points: usize,
    pub skipped: usize,
    pub failures: Vec<String>,
    /// The ops of the differentiated program (value and derivatives), by name.
    pub ops: BTreeSet<String>,
    /// Whether some Hessian-vector product is not a symbolic zero.
    pub nonlinear: bool,
    /// Why each skipped point was skipped.
    pub skip_reasons: Vec<String>,
}

/// Every check on `source` differentiated with `wrt` (`"wrt = x"`), at [`POINTS`] points drawn
/// from `point_seed`.
pub(super) fn check_source(source: &str, wrt: &str, point_seed: u64) -> Report {
    let mut report = Report {
        points: 0,
        skipped: 0,
        failures: Vec::new(),
        ops: BTreeSet::new(),
        nonlinear: false,
        skip_reasons: Vec::new(),
    };
    let func: ItemFn = match syn::parse_str(source) {
        Ok(func) => func,
        Err(e) => {
            report
                .failures
                .push(format!("the source does not parse: {e}"));
            return report;
        }
    };
    let args = TokenStream::from_str(wrt).expect("attribute arguments tokenize");
    let f = match catch_unwind(AssertUnwindSafe(|| differentiate(&func, args))) {
        Ok(f) => f,
        Err(panic) => {
            report
                .failures
                .push(format!("the pipeline failed: {}", panic_message(&*panic)));
            return report;
        }
    };
    let g = &f.program.graph;
    report.ops = g.ids().map(|id| op_name(g.op(id))).collect();
    report.nonlinear = f.program.hvp.iter().any(Option::is_some);
    let harness = Harness { f: &f, func: &func };
    let mut rng = Rng::new(point_seed);
    for point in 0..POINTS {
        let p = match harness.tame_point(&mut rng) {
            Ok(p) => p,
            Err(reason) => {
                report.skipped += 1;
                report.skip_reasons.push(reason);
                continue;
            }
        };
        report.points += 1;
        let failures = catch_unwind(AssertUnwindSafe(|| harness.check(&p)))
            .unwrap_or_else(|panic| vec![format!("panicked: {}", panic_message(&*panic))]);
        report.failures.extend(
            failures
                .into_iter()
                .map(|failure| format!("point {point}: {failure}")),
        );
    }
    report
}

/// `Fun(Powi(2))` as `Powi`, `Index(0, 1)` as `Index`.
fn op_name(op: &Op) -> String {
    let name = match op {
        Op::Fun(fun) => format!("{fun:?}"),
        other => format!("{other:?}"),
    };
    name.split('(').next().unwrap_or_default().to_owned()
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

struct Harness<'a> {
    f: &'a Differentiated,
    func: &'a ItemFn,
}

impl Harness<'_> {
    /// Evaluates `roots` (`None` is a zero of the matching type in `types`) at `x` with the
    /// directions `dirs`, in one pass over the graph.
    fn eval(&self, x: &[Value], dirs: &[Value], roots: &[Option<Id>], types: &[Ty]) -> Vec<Value> {
        let mut params = x.to_vec();
        params.extend(dirs.iter().cloned());
        let ids: Vec<Id> = roots.iter().flatten().copied().collect();
        let mut values = eval(&self.f.program.graph, &params, &ids).into_iter();
        roots
            .iter()
            .zip(types)
            .map(|(root, ty)| match root {
                Some(_) => values.next().expect("one value per root"),
                None => Value::zero(ty),
            })
            .collect()
    }

    fn wrt_types(&self) -> Vec<Ty> {
        self.f
            .wrt
            .iter()
            .map(|&k| self.f.params[k].clone())
            .collect()
    }

    fn tangent_types(&self) -> Vec<Ty> {
        std::iter::once(Ty::Scalar)
            .chain(self.f.params.iter().cloned())
            .collect()
    }

    fn value(&self, x: &[Value]) -> f64 {
        self.eval(x, &[], &[Some(self.f.program.value)], &[Ty::Scalar])[0].scalar()
    }

    /// `gradient` then `gradient_all`.
    fn gradients(&self, x: &[Value]) -> (Vec<Value>, Vec<Value>) {
        let p = &self.f.program;
        let mut roots = p.gradient.clone();
        roots.extend(&p.gradient_all);
        let mut types = self.wrt_types();
        types.extend(self.f.params.iter().cloned());
        let mut values = self.eval(x, &[], &roots, &types);
        let all = values.split_off(p.gradient.len());
        (values, all)
    }

    fn hvp(&self, x: &[Value], dirs: &[Value]) -> Vec<Value> {
        self.eval(x, dirs, &self.f.program.hvp, &self.wrt_types())
    }

    fn tangent_all(&self, x: &[Value], dirs: &[Value]) -> Vec<Value> {
        self.eval(x, dirs, &self.f.program.tangent_all, &self.tangent_types())
    }

    fn outputs(&self, x: &[Value], dirs: &[Value]) -> Outputs {
        self.f.outputs(&Env::default(), x, dirs)
    }

    /// A random point where the program is far from its singularities and branch switches;
    /// inputs shrink towards 0 as attempts fail (and grow back: a value may be too close to 0).
    /// After [`ATTEMPTS`] attempts, why the last one failed.
    fn tame_point(&self, rng: &mut Rng) -> Result<Point, String> {
        let params = &self.f.params;
        let mut why = String::new();
        for attempt in 0..ATTEMPTS {
            // 1, 1, 0.5, 1, 0.5, 0.25, ..: a value too close to 0 gets other chances too.
            let scale = 0.5_f64.powi(
                i32::try_from(attempt % 4)
                    .unwrap_or(0)
                    .min(i32::try_from(attempt / 2).unwrap_or(0)),
            );
            let x: Vec<Value> = params.iter().map(|ty| random(rng, ty, scale)).collect();
            let v = params.iter().map(|ty| random(rng, ty, 1.0)).collect();
            let w = params.iter().map(|ty| random(rng, ty, 1.0)).collect();
            match self.is_tame(&x) {
                Ok(()) => return Ok(Point { x, v, w }),
                Err(reason) => why = reason,
            }
        }
        Err(why)
    }

    /// Whether every value the program computes at `x` is moderate, every argument of a
    /// function with a singularity is away from it, and every comparison of floats away from
    /// switching: in the lowered program (where rewrites may have introduced functions) and in
    /// the source (whose loops and branches are regions of the lowered program).
    fn is_tame(&self, x: &[Value]) -> Result<(), String> {
        if let Ok(Evaluation {
            wild: Some(reason), ..
        }) = reference(self.func, x)
        {
            return Err(reason);
        }
        let g = &self.f.program.graph;
        let live = g.reachable([self.f.program.value]);
        let ids: Vec<Id> = g.ids().filter(|id| live[id.index()]).collect();
        let values = match catch_unwind(AssertUnwindSafe(|| eval(g, x, &ids))) {
            Ok(values) => values,
            // Overflow made an inverted matrix singular: too far out.
            Err(panic) if panic_message(&*panic).contains("singular") => {
                return Err("singular matrix: an inverse in the program".to_owned())
            }
            // Another panic (an ill-typed node) is reported by the checks that follow.
            Err(_) => return Ok(()),
        };
        let mut by_id: Vec<Option<&Value>> = vec![None; g.len()];
        for (id, value) in ids.iter().zip(&values) {
            by_id[id.index()] = Some(value);
        }
        let tame = ids.iter().zip(&values).all(|(&id, value)| {
            if value
                .entries()
                .iter()
                .any(|e| !e.is_finite() || e.abs() > MAX_MAGNITUDE)
            {
                return false;
            }
            let node = g.node(id);
            let arg = || by_id[node.args[0].index()].expect("arguments are live");
            match &node.op {
                Op::Fun(Fun::Ln | Fun::Sqrt) => arg().scalar() >= MIN_ARGUMENT,
                Op::Fun(Fun::Recip) => arg().scalar().abs() >= MIN_ARGUMENT,
                Op::Fun(Fun::Powi(n)) if *n < 0 => arg().scalar().abs() >= MIN_ARGUMENT,
                Op::Fun(Fun::Exp) => arg().scalar() <= MAX_EXP_ARGUMENT,
                Op::Norm => arg().mat().norm() >= MIN_ARGUMENT,
                Op::Map(_) => arg().max_abs() <= MAX_MAP_ARGUMENT,
                Op::Det | Op::Inverse(_) => smallest_singular_value(arg()) >= MIN_SINGULAR_VALUE,
                Op::LogDet => {
                    smallest_singular_value(arg()) >= MIN_SINGULAR_VALUE
                        && arg().mat().determinant() > 0.0
                }
                _ => true,
            }
        });
        if tame {
            Ok(())
        } else {
            Err("in the lowered program: a value or an argument out of range".to_owned())
        }
    }

    /// Every check at `p`; the failed ones, described.
    fn check(&self, p: &Point) -> Vec<String> {
        let f = self.f;
        let n = f.params.len();
        let mut failures = Vec::new();
        let mut fail = |check: String, result: Result<(), String>| {
            if let Err(message) = result {
                failures.push(format!("{check}: {message}"));
            }
        };
        let at = self.outputs(&p.x, &p.v);
        let wrt_index = |k: usize| f.wrt.iter().position(|&w| w == k);

        // (0) The lowered and simplified value against the source evaluated directly: a
        // rewrite that changes the value is invisible to the derivative checks.
        match reference_value(self.func, &p.x) {
            Ok(expected) => fail(
                "(0) value against the source evaluated with nalgebra".to_owned(),
                compare(&[at.value], &[expected], 0.0, EXACT_TOL),
            ),
            Err(message) => fail("(0) evaluating the source".to_owned(), Err(message)),
        }

        // (1) Gradients, one parameter at a time, against central differences of the value.
        for k in 0..n {
            let moved = |t: f64| shifted(&p.x, &p.v, t, |i| i == k);
            let slope = |t: f64| vec![self.value(&moved(t))];
            let name = &f.names[k];
            let all = &at.gradient_all[k];
            fail(
                format!("(1) <grad_all_{name}, v> against finite differences"),
                compare_derivative(&[all.inner(&p.v[k])], abs_inner(all, &p.v[k]), &slope),
            );
            if let Some(j) = wrt_index(k) {
                let grad = &at.gradient[j];
                fail(
                    format!("(1) <grad_{name}, v> against finite differences"),
                    compare_derivative(&[grad.inner(&p.v[k])], abs_inner(grad, &p.v[k]), &slope),
                );
            }
        }

        // (2) Hessian-vector products against central differences of the gradient, all `wrt`
        // parameters moved at once.
        let moved = |t: f64| shifted(&p.x, &p.v, t, |i| f.wrt.contains(&i));
        for (j, &k) in f.wrt.iter().enumerate() {
            let gradient = |t: f64| self.gradients(&moved(t)).0[j].entries();
            fail(
                format!("(2) hvp_{} against finite differences", f.names[k]),
                compare_derivative(&at.hvp[j].entries(), 0.0, &gradient),
            );
        }

        // (3) Symmetry: <H v, w> = <v, H w>.
        let hw = self.hvp(&p.x, &p.w);
        let (mut hv_w, mut v_hw, mut magnitude) = (0.0, 0.0, 0.0);
        for (j, &k) in f.wrt.iter().enumerate() {
            hv_w += at.hvp[j].inner(&p.w[k]);
            v_hw += p.v[k].inner(&hw[j]);
            magnitude += abs_inner(&at.hvp[j], &p.w[k]) + abs_inner(&p.v[k], &hw[j]);
        }
        fail(
            "(3) <Hv, w> = <v, Hw>".to_owned(),
            compare(&[hv_w], &[v_hw], magnitude, EXACT_TOL),
        );

        // (4) The callee interface against the wrt outputs: the gradients agree, and along
        // the `wrt` directions alone the tangents are the directional derivative and the hvp.
        let mut wrt_dirs: Vec<Value> = p.v.iter().map(|v| Value::zero(&v.ty())).collect();
        let mut directional = 0.0;
        let mut directional_magnitude = 0.0;
        for (j, &k) in f.wrt.iter().enumerate() {
            let name = &f.names[k];
            fail(
                format!("(4) grad_all_{name} = grad_{name}"),
                compare(
                    &at.gradient_all[k].entries(),
                    &at.gradient[j].entries(),
                    0.0,
                    EXACT_TOL,
                ),
            );
            wrt_dirs[k] = p.v[k].clone();
            directional += at.gradient[j].inner(&p.v[k]);
            directional_magnitude += abs_inner(&at.gradient[j], &p.v[k]);
        }
        let tangent = self.tangent_all(&p.x, &wrt_dirs);
        fail(
            "(4) tangent_all value = <grad, v> along the wrt directions".to_owned(),
            compare(
                &tangent[0].entries(),
                &[directional],
                directional_magnitude,
                EXACT_TOL,
            ),
        );
        for (j, &k) in f.wrt.iter().enumerate() {
            fail(
                format!(
                    "(4) tangent_all grad_{0} = hvp_{0} along the wrt directions",
                    f.names[k]
                ),
                compare(
                    &tangent[1 + k].entries(),
                    &at.hvp[j].entries(),
                    0.0,
                    EXACT_TOL,
                ),
            );
        }

        // (4) ... and along every direction, against central differences.
        let moved = |t: f64| shifted(&p.x, &p.v, t, |_| true);
        let value = |t: f64| vec![self.value(&moved(t))];
        let magnitude: f64 = (0..n)
            .map(|k| abs_inner(&at.gradient_all[k], &p.v[k]))
            .sum();
        fail(
            "(4) tangent_all value against finite differences".to_owned(),
            compare_derivative(&at.tangent_all[0].entries(), magnitude, &value),
        );
        for k in 0..n {
            let gradient = |t: f64| self.gradients(&moved(t)).1[k].entries();
            fail(
                format!(
                    "(4) tangent_all grad_all_{} against finite differences",
                    f.names[k]
                ),
                compare_derivative(&at.tangent_all[1 + k].entries(), 0.0, &gradient),
            );
        }
        failures
    }
}

/// `x` with each parameter `k` for which `moved(k)` shifted by `t · dirs[k]`.
fn shifted(x: &[Value], dirs: &[Value], t: f64, moved: impl Fn(usize) -> bool) -> Vec<Value> {
    x.iter()
        .zip(dirs)
        .enumerate()
        .map(|(k, (x, d))| if moved(k) { x.axpy(t, d) } else { x.clone() })
        .collect()
}

/// `Σ |aᵢ bᵢ|`: the size of the terms of `<a, b>` before they cancel.
fn abs_inner(a: &Value, b: &Value) -> f64 {
    a.entries()
        .iter()
        .zip(b.entries())
        .map(|(a, b)| (a * b).abs())
        .sum()
}

/// `|actual - expected| <= tol · (1 + max(|actual|, |expected|, magnitude))` entrywise (NaN
/// fails).
fn compare(actual: &[f64], expected: &[f64], magnitude: f64, tol: f64) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!(
            "{} entries against {}",
            actual.len(),
            expected.len()
        ));
    }
    let max_abs = |xs: &[f64]| xs.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let scale = 1.0 + max_abs(actual).max(max_abs(expected)).max(magnitude);
    let error = actual
        .iter()
        .zip(expected)
        .fold(0.0_f64, |m, (a, e)| m.max((a - e).abs()));
    if error <= tol * scale {
        Ok(())
    } else {
        Err(format!(
            "error {error:.3e} exceeds {tol:e} · {scale:.3e}\n      actual:   {actual:?}\n      \
             expected: {expected:?}"
        ))
    }
}

/// `actual` against the derivative at `t = 0` of `f`: a central difference with
/// [`FD_STEP`], then, should that disagree, central differences and their Richardson
/// extrapolations (fourth order) at steps from `1e-3` to `1e-7`, so that only a disagreement
/// with all of them is a failure. No one step suits both a rapidly oscillating function such
/// as `cos(det A)` (truncation error) and one computed with cancellation (rounding error),
/// while a wrong derivative disagrees at every step.
fn compare_derivative(
    actual: &[f64],
    magnitude: f64,
    f: &dyn Fn(f64) -> Vec<f64>,
) -> Result<(), String> {
    let central = |h: f64| -> Vec<f64> {
        let (plus, minus) = (f(h), f(-h));
        plus.iter()
            .zip(&minus)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect()
    };
    let first = compare(actual, &central(FD_STEP), magnitude, FD_TOL);
    if first.is_ok() {
        return first;
    }
    for h in [1e-3, 1e-4, 1e-5, 1e-6, 1e-7] {
        let (coarse, fine) = (central(h), central(h / 2.0));
        let extrapolated: Vec<f64> = coarse
            .iter()
            .zip(&fine)
            .map(|(c, f)| (4.0 * f - c) / 3.0)
            .collect();
        let agrees = |estimate: &[f64]| compare(actual, estimate, magnitude, FD_TOL).is_ok();
        if agrees(&coarse) || agrees(&fine) || agrees(&extrapolated) {
            return Ok(());
        }
    }
    first
}

fn random(rng: &mut Rng, ty: &Ty, scale: f64) -> Value {
    let mut entry = || scale * (2.0 * rng.unit() - 1.0);
    match ty {
        Ty::Scalar => Value::Scalar(entry()),
        _ => {
            let (r, c) = dims(ty);
            Value::Mat(DMatrix::from_fn(r, c, |_, _| entry()))
        }
    }
}

fn smallest_singular_value(value: &Value) -> f64 {
    let m = value.mat();
    // An overflowed matrix is as bad as a singular one (and nalgebra's SVD panics on it).
    if !m.is_square() || m.iter().any(|e| !e.is_finite()) {
        return 0.0;
    }
    m.clone().singular_values().min()
}

// ---------------------------------------------------------------------------------------------
// A reference: the generated source evaluated from its syntax, with nalgebra.

/// What evaluating a generated function's source at a point found.
pub(super) struct Evaluation {
    pub value: f64,
    /// `left − right` of every comparison of floats evaluated, in order: the branches taken
    /// change only where one of these changes sign (or the sequence changes).
    pub gaps: Vec<f64>,
    /// Why finite differences at this point are not to be trusted (an argument close to a
    /// singularity, a huge intermediate value, a branch condition close to switching) as
    /// `"category: detail"`, or `None`.
    pub wild: Option<String>,
}

impl Evaluation {
    /// Whether the same branches are taken as in `other`.
    pub fn same_branches(&self, other: &Evaluation) -> bool {
        self.gaps.len() == other.gaps.len()
            && self
                .gaps
                .iter()
                .zip(&other.gaps)
                .all(|(a, b)| (*a > 0.0) == (*b > 0.0) && (*a < 0.0) == (*b < 0.0))
    }
}

/// `func` at the parameter values `x`, evaluated directly from its syntax (the grammar of
/// [`generate`]), independently of lowering and rewriting.
fn reference_value(func: &ItemFn, x: &[Value]) -> Result<f64, String> {
    reference(func, x).map(|evaluation| evaluation.value)
}

/// [`reference_value`], with what the evaluation saw on the way.
pub(super) fn reference(func: &ItemFn, x: &[Value]) -> Result<Evaluation, String> {
    let mut frame = HashMap::new();
    for (input, value) in func.sig.inputs.iter().zip(x) {
        let syn::FnArg::Typed(typed) = input else {
            return Err("a receiver parameter".to_owned());
        };
        let syn::Pat::Ident(ident) = &*typed.pat else {
            return Err("a parameter pattern".to_owned());
        };
        frame.insert(ident.ident.to_string(), Binding::Value(value.clone()));
    }
    let mut reference = Reference {
        frames: vec![frame],
        gaps: Vec::new(),
        wild: None,
        returned: None,
    };
    let last = reference.stmts(&func.block.stmts)?;
    let value = match reference.returned.take().unwrap_or(last) {
        Value::Scalar(value) => value,
        other => return Err(format!("the function returns a {}", other.ty())),
    };
    Ok(Evaluation {
        value,
        gaps: reference.gaps,
        wild: reference.wild,
    })
}

/// What a name is bound to.
#[derive(Clone)]
enum Binding {
    Value(Value),
    /// `let y;`, before its assignment.
    Unset,
    /// `let c = |t: f64| ..;`: its body is evaluated where it is called (the generator's
    /// closures capture only variables that are never assigned, and names are not reused).
    Closure(Rc<syn::ExprClosure>),
}

/// The value of statements and expressions that have none (`()`).
fn unit() -> Value {
    Value::Tuple(Vec::new())
}

/// An evaluator of the generated language: blocks are frames of bindings, iterators are
/// evaluated eagerly into `Value::Array`s of their items.
struct Reference {
    frames: Vec<HashMap<String, Binding>>,
    gaps: Vec<f64>,
    wild: Option<String>,
    /// The value of a `return` evaluated: the statements and iterations after it are not.
    returned: Option<Value>,
}

type Evaluated = Result<Value, String>;

impl Reference {
    /// Marks the point as unfit for finite differences (the first reason is kept).
    fn flag(&mut self, reason: impl FnOnce() -> String) {
        if self.wild.is_none() {
            self.wild = Some(reason());
        }
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.frames.iter().rev().find_map(|frame| frame.get(name))
    }

    fn declare(&mut self, name: String, binding: Binding) {
        self.frames
            .last_mut()
            .expect("a frame")
            .insert(name, binding);
    }

    fn assign(&mut self, name: &str, value: Value) -> Result<(), String> {
        let frame = self
            .frames
            .iter_mut()
            .rev()
            .find(|frame| frame.contains_key(name))
            .ok_or_else(|| format!("assignment to `{name}`, which is not in scope"))?;
        frame.insert(name.to_owned(), Binding::Value(value));
        Ok(())
    }

    fn in_frame<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.frames.push(HashMap::new());
        let result = f(self);
        self.frames.pop();
        result
    }

    /// Statements in the current frame; the value of the last one if it has no `;`.
    fn stmts(&mut self, stmts: &[syn::Stmt]) -> Evaluated {
        let mut last = unit();
        for stmt in stmts {
            last = unit();
            match stmt {
                syn::Stmt::Local(local) => self.local(local)?,
                syn::Stmt::Expr(expr, semi) => {
                    let value = self.eval(expr)?;
                    if semi.is_none() {
                        last = value;
                    }
                }
                other => {
                    return Err(format!(
                        "a statement the generator does not write: {}",
                        other.to_token_stream()
                    ))
                }
            }
            if self.returned.is_some() {
                return Ok(unit());
            }
        }
        Ok(last)
    }

    fn block(&mut self, block: &syn::Block) -> Evaluated {
        self.in_frame(|this| this.stmts(&block.stmts))
    }

    fn local(&mut self, local: &syn::Local) -> Result<(), String> {
        let Some(init) = &local.init else {
            let mut names = Vec::new();
            pattern_names(&local.pat, &mut names);
            for name in names {
                self.declare(name, Binding::Unset);
            }
            return Ok(());
        };
        if let syn::Expr::Closure(closure) = &*init.expr {
            let mut names = Vec::new();
            pattern_names(&local.pat, &mut names);
            let [name] = names.as_slice() else {
                return Err("a closure bound to a pattern".to_owned());
            };
            self.declare(name.clone(), Binding::Closure(Rc::new(closure.clone())));
            return Ok(());
        }
        let value = self.eval(&init.expr)?;
        self.bind(&local.pat, value)
    }

    /// Binds the names of `pat` to the parts of `value` in the current frame.
    fn bind(&mut self, pat: &syn::Pat, value: Value) -> Result<(), String> {
        match pat {
            syn::Pat::Ident(ident) => {
                self.declare(ident.ident.to_string(), Binding::Value(value));
                Ok(())
            }
            syn::Pat::Type(typed) => self.bind(&typed.pat, value),
            syn::Pat::Reference(reference) => self.bind(&reference.pat, value),
            syn::Pat::Paren(paren) => self.bind(&paren.pat, value),
            syn::Pat::Wild(_) => Ok(()),
            syn::Pat::Tuple(tuple) => match value {
                Value::Tuple(parts) if parts.len() == tuple.elems.len() => {
                    for (pat, part) in tuple.elems.iter().zip(parts) {
                        self.bind(pat, part)?;
                    }
                    Ok(())
                }
                other => Err(format!(
                    "a tuple pattern of {} for a {}",
                    tuple.elems.len(),
                    other.ty()
                )),
            },
            other => Err(format!("the pattern {}", other.to_token_stream())),
        }
    }

    /// `expr`, with its value checked for size.
    fn eval(&mut self, expr: &syn::Expr) -> Evaluated {
        let value = self.eval_inner(expr)?;
        if matches!(value, Value::Scalar(_) | Value::Mat(_))
            && value
                .entries()
                .iter()
                .any(|e| !e.is_finite() || e.abs() > MAX_MAGNITUDE)
        {
            self.flag(|| format!("large value: {}", expr.to_token_stream()));
        }
        Ok(value)
    }

    fn eval_inner(&mut self, expr: &syn::Expr) -> Evaluated {
        use syn::Expr;
        use Value::{Mat, Scalar};
        let unsupported = || Err(format!("unsupported: {}", expr.to_token_stream()));
        Ok(match expr {
            Expr::Lit(lit) => match &lit.lit {
                syn::Lit::Float(f) => Scalar(f.base10_parse().map_err(|e| e.to_string())?),
                syn::Lit::Int(i) if i.suffix().starts_with('f') => {
                    Scalar(i.base10_parse().map_err(|e| e.to_string())?)
                }
                syn::Lit::Int(i) => Value::Int(i.base10_parse().map_err(|e| e.to_string())?),
                syn::Lit::Bool(b) => Value::Bool(b.value),
                _ => return unsupported(),
            },
            Expr::Path(path) => {
                let name = path.path.get_ident().map(ToString::to_string);
                match name.as_deref().and_then(|name| self.lookup(name)) {
                    Some(Binding::Value(value)) => value.clone(),
                    Some(Binding::Unset) => {
                        return Err(format!("`{}` read unset", name.unwrap_or_default()))
                    }
                    Some(Binding::Closure(_)) | None => return unsupported(),
                }
            }
            Expr::Paren(e) => self.eval(&e.expr)?,
            Expr::Group(e) => self.eval(&e.expr)?,
            Expr::Reference(e) => self.eval(&e.expr)?,
            Expr::Unary(unary) => {
                let value = self.eval(&unary.expr)?;
                match (&unary.op, value) {
                    (syn::UnOp::Neg(_), Value::Int(n)) => Value::Int(-n),
                    (syn::UnOp::Neg(_), value @ (Scalar(_) | Mat(_))) => value.scaled(-1.0),
                    (syn::UnOp::Not(_), Value::Bool(b)) => Value::Bool(!b),
                    _ => return unsupported(),
                }
            }
            Expr::Binary(binary) => self.binary(binary)?,
            Expr::Assign(assign) => {
                let value = self.eval(&assign.right)?;
                self.store(&assign.left, value)?;
                unit()
            }
            Expr::Index(index) => {
                let m = self.eval(&index.expr)?;
                let position = self.eval(&index.index)?;
                let (i, j) = position_in(m.mat(), &position)?;
                Scalar(m.mat()[(i, j)])
            }
            Expr::Cast(cast) => {
                let value = self.eval(&cast.expr)?;
                let target = cast.ty.to_token_stream().to_string();
                match (value, target.as_str()) {
                    #[allow(clippy::cast_precision_loss, reason = "as the source's `as`")]
                    (Value::Int(n), "f64") => Scalar(n as f64),
                    (Scalar(s), "f64") => Scalar(s),
                    (Value::Int(n), "usize" | "i32" | "i64") => Value::Int(n),
                    _ => return unsupported(),
                }
            }
            Expr::If(branch) => {
                if self.eval(&branch.cond)?.condition() {
                    self.block(&branch.then_branch)?
                } else if let Some((_, other)) = &branch.else_branch {
                    self.eval(other)?
                } else {
                    unit()
                }
            }
            Expr::Match(m) => {
                let n = self.eval(&m.expr)?.int();
                for arm in &m.arms {
                    if arm.guard.is_none() && pattern_matches(&arm.pat, n)? {
                        return self.in_frame(|this| {
                            if let syn::Pat::Ident(ident) = &arm.pat {
                                this.declare(
                                    ident.ident.to_string(),
                                    Binding::Value(Value::Int(n)),
                                );
                            }
                            this.eval(&arm.body)
                        });
                    }
                }
                return Err(format!("no arm matches {n}"));
            }
            Expr::ForLoop(for_loop) => {
                let items = match self.eval(&for_loop.expr)? {
                    Value::Array(items) => items,
                    Mat(m) => m.iter().map(|&e| Scalar(e)).collect(),
                    _ => return unsupported(),
                };
                for item in items {
                    self.in_frame(|this| {
                        this.bind(&for_loop.pat, item)?;
                        this.stmts(&for_loop.body.stmts)
                    })?;
                    if self.returned.is_some() {
                        break;
                    }
                }
                unit()
            }
            Expr::Return(ret) => {
                let value = match &ret.expr {
                    Some(e) => self.eval(e)?,
                    None => return unsupported(),
                };
                self.returned = Some(value);
                unit()
            }
            Expr::Block(block) => self.block(&block.block)?,
            Expr::Range(range) => {
                let bound = |this: &mut Self, e: &Option<Box<Expr>>| match e {
                    Some(e) => this.eval(e).map(|v| v.int()),
                    None => Err("an open range".to_owned()),
                };
                let start = bound(self, &range.start)?;
                let mut end = bound(self, &range.end)?;
                if matches!(range.limits, syn::RangeLimits::Closed(_)) {
                    end += 1;
                }
                Value::Array((start..end).map(Value::Int).collect())
            }
            Expr::Tuple(tuple) => Value::Tuple(
                tuple
                    .elems
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Call(call) => self.call(call)?,
            Expr::MethodCall(call) => self.method(call)?,
            _ => return unsupported(),
        })
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> Evaluated {
        use syn::BinOp;
        match binary.op {
            BinOp::And(_) | BinOp::Or(_) => {
                let left = self.eval(&binary.left)?.condition();
                let decided = matches!(binary.op, BinOp::Or(_)) == left;
                return Ok(Value::Bool(if decided {
                    left
                } else {
                    self.eval(&binary.right)?.condition()
                }));
            }
            BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_) => {
                let right = self.eval(&binary.right)?;
                let left = self.eval(&binary.left)?;
                let op = match binary.op {
                    BinOp::AddAssign(_) => BinOp::Add(Default::default()),
                    BinOp::SubAssign(_) => BinOp::Sub(Default::default()),
                    BinOp::MulAssign(_) => BinOp::Mul(Default::default()),
                    _ => BinOp::Div(Default::default()),
                };
                let value = self.arithmetic(&op, left, right, binary)?;
                self.store(&binary.left, value)?;
                return Ok(unit());
            }
            _ => {}
        }
        let left = self.eval(&binary.left)?;
        let right = self.eval(&binary.right)?;
        let holds = match (&left, &right) {
            (Value::Scalar(a), Value::Scalar(b)) => comparison_holds(&binary.op, a, b),
            (Value::Int(a), Value::Int(b)) => comparison_holds(&binary.op, a, b),
            _ => None,
        };
        if let Some(holds) = holds {
            if let (Value::Scalar(a), Value::Scalar(b)) = (&left, &right) {
                let gap = a - b;
                self.gaps.push(gap);
                if gap.abs() < BRANCH_MARGIN {
                    self.flag(|| format!("branch switch: {}", binary.to_token_stream()));
                }
            }
            return Ok(Value::Bool(holds));
        }
        self.arithmetic(&binary.op, left, right, binary)
    }

    fn arithmetic(
        &mut self,
        op: &syn::BinOp,
        l: Value,
        r: Value,
        expr: &syn::ExprBinary,
    ) -> Evaluated {
        use syn::BinOp;
        use Value::{Int, Mat, Scalar};
        Ok(match (op, &l, &r) {
            (BinOp::Add(_), Int(a), Int(b)) => Int(a + b),
            (BinOp::Sub(_), Int(a), Int(b)) => Int(a - b),
            (BinOp::Mul(_), Int(a), Int(b)) => Int(a * b),
            (BinOp::Div(_), Int(a), Int(b)) => Int(a / b),
            (BinOp::Rem(_), Int(a), Int(b)) => Int(a % b),
            (BinOp::Add(_), Scalar(_) | Mat(_), _) if l.ty() == r.ty() => l.axpy(1.0, &r),
            (BinOp::Sub(_), Scalar(_) | Mat(_), _) if l.ty() == r.ty() => l.axpy(-1.0, &r),
            (BinOp::Mul(_), Scalar(a), Scalar(_) | Mat(_)) => r.scaled(*a),
            (BinOp::Mul(_), Mat(_), Scalar(b)) => l.scaled(*b),
            (BinOp::Mul(_), Mat(a), Mat(b)) if a.ncols() == b.nrows() => Mat(a * b),
            (BinOp::Div(_), Scalar(_) | Mat(_), Scalar(b)) => {
                if b.abs() < MIN_ARGUMENT {
                    self.flag(|| format!("small divisor: {}", expr.right.to_token_stream()));
                }
                l.scaled(1.0 / b)
            }
            _ => return Err(format!("ill-typed: {}", expr.to_token_stream())),
        })
    }

    /// `target = value` for a variable or an entry of one.
    fn store(&mut self, target: &syn::Expr, value: Value) -> Result<(), String> {
        match target {
            syn::Expr::Path(path) => {
                let name = path.path.get_ident().ok_or("an assignment to a path")?;
                self.assign(&name.to_string(), value)
            }
            syn::Expr::Paren(paren) => self.store(&paren.expr, value),
            syn::Expr::Index(index) => {
                let position = self.eval(&index.index)?;
                let mut m = self.eval(&index.expr)?;
                let Value::Mat(entries) = &mut m else {
                    return Err("an entry of a non-matrix".to_owned());
                };
                let ij = position_in(entries, &position)?;
                entries[ij] = value.scalar();
                self.store(&index.expr, m)
            }
            other => Err(format!("an assignment to {}", other.to_token_stream())),
        }
    }

    fn call(&mut self, call: &syn::ExprCall) -> Evaluated {
        let syn::Expr::Path(path) = &*call.func else {
            return Err(format!("the call {}", call.to_token_stream()));
        };
        if let Some(name) = path.path.get_ident() {
            let Some(Binding::Closure(closure)) = self.lookup(&name.to_string()).cloned() else {
                return Err(format!("a call of `{name}`"));
            };
            let args = call
                .args
                .iter()
                .map(|a| self.eval(a))
                .collect::<Result<Vec<_>, _>>()?;
            return self.apply(&closure, args);
        }
        // `SMatrix::<f64, r, c>::identity()`, `Matrix2x3::identity()`, `Matrix3::zeros()`,
        // `Vector3::new(a, b, c)`, `RowSVector::<f64, 2>::repeat(s)`, `Matrix2::from_element(s)`
        let text = path.to_token_stream().to_string();
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let [.., ty, kind] = segments.as_slice() else {
            return Err(format!("the constructor {text}"));
        };
        let numbers: Vec<usize> = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .filter(|&n| n != 64)
            .collect();
        let (r, c) = match *numbers.as_slice() {
            [r, c] => (r, c),
            [n] if ty.starts_with("Row") => (1, n),
            [n] if ty.starts_with("Vector") || ty.starts_with("SVector") => (n, 1),
            [n] => (n, n),
            _ => return Err(format!("the constructor {text}")),
        };
        let mut entries = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            match self.eval(arg)? {
                Value::Scalar(s) => entries.push(s),
                other => return Err(format!("an entry of type {} in {text}", other.ty())),
            }
        }
        match (kind.as_str(), entries.as_slice()) {
            ("identity", []) => Ok(Value::Mat(DMatrix::identity(r, c))),
            ("zeros", []) => Ok(Value::Mat(DMatrix::zeros(r, c))),
            ("repeat" | "from_element", [s]) => Ok(Value::Mat(DMatrix::from_element(r, c, *s))),
            // nalgebra's `new` takes the entries row by row.
            ("new", _) if entries.len() == r * c => {
                Ok(Value::Mat(DMatrix::from_row_slice(r, c, &entries)))
            }
            _ => Err(format!(
                "the constructor {text} with {} entries",
                entries.len()
            )),
        }
    }

    /// A closure applied to values; its body sees the names in scope where it is called.
    fn apply(&mut self, closure: &syn::ExprClosure, args: Vec<Value>) -> Evaluated {
        if closure.inputs.len() != args.len() {
            return Err(format!(
                "{} arguments for {}",
                args.len(),
                closure.to_token_stream()
            ));
        }
        self.in_frame(|this| {
            for (pat, arg) in closure.inputs.iter().zip(args) {
                this.bind(pat, arg)?;
            }
            this.eval(&closure.body)
        })
    }

    /// A `.map` argument (a closure or `f64::name`) applied to a scalar.
    fn apply_fn(&mut self, f: &syn::Expr, t: f64) -> Result<f64, String> {
        match f {
            syn::Expr::Closure(closure) => {
                Ok(self.apply(closure, vec![Value::Scalar(t)])?.scalar())
            }
            syn::Expr::Path(path) => {
                let name = path.path.segments.last().map(|s| s.ident.to_string());
                let name = name.unwrap_or_default();
                self.scalar_method(&name, t, f)
                    .ok_or_else(|| format!("the function {}", path.to_token_stream()))
            }
            other => Err(format!("the map argument {}", other.to_token_stream())),
        }
    }

    fn method(&mut self, call: &syn::ExprMethodCall) -> Evaluated {
        use Value::{Array, Int, Mat, Scalar};
        let name = call.method.to_string();
        if name == "unwrap" {
            let syn::Expr::MethodCall(inner) = &*call.receiver else {
                return Err("`unwrap` of something else than `try_inverse`".to_owned());
            };
            let m = self.eval(&inner.receiver)?;
            if smallest_singular_value(&m) < MIN_SINGULAR_VALUE {
                self.flag(|| format!("singular matrix: {}", inner.to_token_stream()));
            }
            let inverse = m.mat().clone().try_inverse().ok_or("a singular inverse")?;
            return Ok(Mat(inverse));
        }
        let receiver = self.eval(&call.receiver)?;
        let arg = |this: &mut Self, k: usize| match call.args.iter().nth(k) {
            Some(a) => this.eval(a),
            None => Err(format!("`.{name}()` without argument {k}")),
        };
        let int_arg = || match &call.args[0] {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<i32>().ok(),
            syn::Expr::Unary(syn::ExprUnary { expr, .. }) => match &**expr {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(i),
                    ..
                }) => i.base10_parse::<i32>().ok().map(|n| -n),
                _ => None,
            },
            _ => None,
        };
        Ok(match (name.as_str(), &receiver) {
            // Iterators.
            ("iter" | "copied", Array(_)) => receiver,
            ("iter", Mat(m)) => Array(m.iter().map(|&e| Scalar(e)).collect()),
            ("map", Array(items)) => {
                let f = &call.args[0];
                let mut mapped = Vec::with_capacity(items.len());
                for item in items.clone() {
                    mapped.push(match f {
                        syn::Expr::Closure(closure) => self.apply(closure, vec![item])?,
                        _ => Scalar(self.apply_fn(f, item.scalar())?),
                    });
                }
                Array(mapped)
            }
            ("zip", Array(items)) => {
                let Array(others) = arg(self, 0)? else {
                    return Err("`.zip()` of a non-iterator".to_owned());
                };
                Array(
                    items
                        .iter()
                        .zip(others)
                        .map(|(a, b)| Value::Tuple(vec![a.clone(), b]))
                        .collect(),
                )
            }
            ("enumerate", Array(items)) => Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(k, item)| {
                        Value::Tuple(vec![Int(i64::try_from(k).expect("short")), item.clone()])
                    })
                    .collect(),
            ),
            ("skip" | "take" | "step_by", Array(items)) => {
                let n = usize::try_from(arg(self, 0)?.int()).map_err(|e| e.to_string())?;
                let items = items.iter().cloned();
                Array(match name.as_str() {
                    "skip" => items.skip(n).collect(),
                    "take" => items.take(n).collect(),
                    _ => items.step_by(n).collect(),
                })
            }
            ("rev", Array(items)) => Array(items.iter().rev().cloned().collect()),
            ("sum", Array(items)) => {
                let mut total = Scalar(0.0);
                for item in items {
                    total = total.axpy(1.0, item);
                }
                total
            }
            ("product", Array(items)) => Scalar(items.iter().map(Value::scalar).product()),
            ("fold", Array(items)) => {
                let mut acc = arg(self, 0)?;
                let syn::Expr::Closure(closure) = &call.args[1] else {
                    return Err("`.fold()` without a closure".to_owned());
                };
                for item in items.clone() {
                    acc = self.apply(closure, vec![acc, item])?;
                }
                acc
            }
            ("count", Array(items)) => Int(i64::try_from(items.len()).expect("short")),
            // Sizes and views.
            ("len", Mat(m)) => Int(i64::try_from(m.len()).expect("small")),
            ("nrows", Mat(m)) => Int(i64::try_from(m.nrows()).expect("small")),
            ("ncols", Mat(m)) => Int(i64::try_from(m.ncols()).expect("small")),
            ("column", Mat(m)) => {
                let j = usize::try_from(arg(self, 0)?.int()).map_err(|e| e.to_string())?;
                if j >= m.ncols() {
                    return Err(format!("column {j} of a {}", receiver.ty()));
                }
                Mat(DMatrix::from_column_slice(
                    m.nrows(),
                    1,
                    m.column(j).clone_owned().as_slice(),
                ))
            }
            ("row", Mat(m)) => {
                let i = usize::try_from(arg(self, 0)?.int()).map_err(|e| e.to_string())?;
                if i >= m.nrows() {
                    return Err(format!("row {i} of a {}", receiver.ty()));
                }
                Mat(DMatrix::from_fn(1, m.ncols(), |_, j| m[(i, j)]))
            }
            ("clone_owned" | "into_owned" | "clone", _) => receiver,
            // Matrix functions.
            ("transpose", Mat(m)) => Mat(m.transpose()),
            ("trace", Mat(m)) => Scalar(m.trace()),
            ("dot", Mat(m)) => Scalar(m.dot(arg(self, 0)?.mat())),
            ("component_mul", Mat(m)) => Mat(m.component_mul(arg(self, 0)?.mat())),
            ("sum", Mat(m)) => Scalar(m.sum()),
            ("norm_squared", Mat(m)) => Scalar(m.norm_squared()),
            ("norm", Mat(m)) => {
                let norm = m.norm();
                if norm < MIN_ARGUMENT {
                    self.flag(|| format!("small norm: {}", call.to_token_stream()));
                }
                Scalar(norm)
            }
            ("determinant", Mat(m)) => {
                if smallest_singular_value(&receiver) < MIN_SINGULAR_VALUE {
                    self.flag(|| format!("singular matrix: {}", call.to_token_stream()));
                }
                Scalar(m.determinant())
            }
            ("map", Mat(m)) => {
                if receiver.max_abs() > MAX_MAP_ARGUMENT {
                    self.flag(|| format!("large map argument: {}", call.to_token_stream()));
                }
                let mut mapped = m.clone();
                for entry in mapped.iter_mut() {
                    *entry = self.apply_fn(&call.args[0], *entry)?;
                }
                Mat(mapped)
            }
            // Scalar functions.
            ("powi", Scalar(s)) => {
                let n = int_arg().ok_or("a powi exponent")?;
                if n < 0 && s.abs() < MIN_ARGUMENT {
                    self.flag(|| format!("small argument: {}", call.to_token_stream()));
                }
                Scalar(s.powi(n))
            }
            ("min" | "max", Int(a)) => {
                let b = arg(self, 0)?.int();
                Int(if name == "min" {
                    *a.min(&b)
                } else {
                    *a.max(&b)
                })
            }
            (_, Scalar(s)) => Scalar(
                self.scalar_method(&name, *s, call)
                    .ok_or_else(|| format!("`.{name}()`"))?,
            ),
            _ => return Err(format!("`.{name}()` of a {}", receiver.ty())),
        })
    }

    /// `s.name()` for a scalar function, with its argument checked.
    fn scalar_method(&mut self, name: &str, s: f64, expr: &dyn ToTokens) -> Option<f64> {
        let singular = match name {
            "ln" | "sqrt" => s < MIN_ARGUMENT,
            "exp" => s > MAX_EXP_ARGUMENT,
            _ => false,
        };
        if singular {
            self.flag(|| format!("{name} argument: {s} in {}", expr.to_token_stream()));
        }
        Some(match name {
            "exp" => s.exp(),
            "ln" => s.ln(),
            "sqrt" => s.sqrt(),
            "sin" => s.sin(),
            "cos" => s.cos(),
            "tanh" => s.tanh(),
            _ => return None,
        })
    }
}

/// Whether `a op b` holds, for a comparison `op`.
fn comparison_holds<T: PartialOrd>(op: &syn::BinOp, a: &T, b: &T) -> Option<bool> {
    use syn::BinOp;
    Some(match op {
        BinOp::Lt(_) => a < b,
        BinOp::Le(_) => a <= b,
        BinOp::Gt(_) => a > b,
        BinOp::Ge(_) => a >= b,
        BinOp::Eq(_) => a == b,
        BinOp::Ne(_) => a != b,
        _ => return None,
    })
}

/// Row and column of `m[index]`: `(i, j)`, or `k` in a vector, or column-major `k`.
fn position_in(m: &DMatrix<f64>, index: &Value) -> Result<(usize, usize), String> {
    let usize_of = |v: &Value| match v {
        Value::Int(n) => usize::try_from(*n).map_err(|e| e.to_string()),
        other => Err(format!("an index of type {}", other.ty())),
    };
    let (i, j) = match index {
        Value::Tuple(ij) if ij.len() == 2 => (usize_of(&ij[0])?, usize_of(&ij[1])?),
        k => {
            let k = usize_of(k)?;
            if m.ncols() == 1 {
                (k, 0)
            } else if m.nrows() == 1 {
                (0, k)
            } else {
                (k % m.nrows(), k / m.nrows())
            }
        }
    };
    if i < m.nrows() && j < m.ncols() {
        Ok((i, j))
    } else {
        Err(format!(
            "index ({i}, {j}) out of a {}x{} matrix",
            m.nrows(),
            m.ncols()
        ))
    }
}

/// Whether the integer `n` matches a `match` arm's pattern.
fn pattern_matches(pat: &syn::Pat, n: i64) -> Result<bool, String> {
    let literal = |e: &syn::Expr| match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<i64>().map_err(|e| e.to_string()),
        other => Err(format!("the pattern bound {}", other.to_token_stream())),
    };
    Ok(match pat {
        syn::Pat::Wild(_) | syn::Pat::Ident(_) => true,
        syn::Pat::Lit(lit) => literal(&syn::Expr::Lit(lit.clone()))? == n,
        syn::Pat::Range(range) => {
            let low = range.start.as_deref().map(literal).transpose()?;
            let high = range.end.as_deref().map(literal).transpose()?;
            let closed = matches!(range.limits, syn::RangeLimits::Closed(_));
            low.is_none_or(|low| n >= low)
                && high.is_none_or(|high| if closed { n <= high } else { n < high })
        }
        syn::Pat::Or(or) => {
            for case in &or.cases {
                if pattern_matches(case, n)? {
                    return Ok(true);
                }
            }
            false
        }
        other => return Err(format!("the pattern {}", other.to_token_stream())),
    })
}

/// The names a pattern binds.
fn pattern_names(pat: &syn::Pat, names: &mut Vec<String>) {
    match pat {
        syn::Pat::Ident(ident) => names.push(ident.ident.to_string()),
        syn::Pat::Type(typed) => pattern_names(&typed.pat, names),
        syn::Pat::Reference(reference) => pattern_names(&reference.pat, names),
        syn::Pat::Paren(paren) => pattern_names(&paren.pat, names),
        syn::Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| pattern_names(p, names)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// A generated function, its attribute arguments, and what a caller needs of its signature.
pub(super) struct Program {
    pub source: String,
    pub wrt: String,
    pub params: Vec<Param>,
    /// The positions in `params` of the `wrt` parameters, in order.
    pub wrt_params: Vec<usize>,
    /// The constructs beyond straight-line code that the body uses, by name.
    pub constructs: BTreeSet<&'static str>,
}

/// A parameter of a generated function.
pub(super) struct Param {
    pub name: String,
    pub shape: Shape,
    /// Passed as `&SMatrix<..>` rather than by value.
    pub by_ref: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Shape {
    Scalar,
    Mat(usize, usize),
}

struct Generator<'r> {
    rng: &'r mut Rng,
    /// The dimensions the program's shapes are drawn from (besides 1).
    dims: Vec<usize>,
    /// Parameters and `let` bindings in scope, oldest first.
    vars: Vec<(String, Shape)>,
    /// The `let` bindings of [`Generator::spd`] matrices, with their size: an inverse and a
    /// log-determinant of the same matrix share nodes.
    spd_vars: Vec<(String, usize)>,
    /// The `let mut` variables among `vars`.
    mutable: HashSet<String>,
    /// Whether expressions may read `let mut` variables: not in the body of a closure bound
    /// with `let`, which would borrow them across their later assignments.
    capture_mutable: bool,
    /// Vector parameters longer than 4, with their lengths: only loops, iterators and
    /// reductions read them (products of 70 x 70 matrices would dominate the run time).
    long: Vec<(String, usize)>,
    /// The loop indices in scope, outermost first, with their number of values: the index
    /// expression (`i`, or `(i - 1)` where `i > 0`) and the trip count of its loop.
    indices: Vec<(String, usize)>,
    /// The closures `|t: f64| ..` bound with `let`.
    closures: Vec<String>,
    /// How deep the generator is inside iterator chains and inline `if`s.
    nesting: usize,
    /// A counter for the names of closure parameters.
    fresh: usize,
    constructs: BTreeSet<&'static str>,
    /// The variables that loops, branches and iterator chains compute, with the statement
    /// that binds each: the tail reads those nothing else reads, so that none is dead code.
    results: Vec<(usize, String, Shape)>,
}

const LITERALS: &[&str] = &["0.5", "1.5", "2.0", "0.25", "3.0", "0.75", "1.0", "0.0"];

/// Loop indices by nesting depth.
const INDEX_NAMES: &[&str] = &["i", "j", "k", "l"];

/// Whether `s` is arithmetic on float literals alone: Rust cannot call a method on it, nor
/// infer the type of a variable bound to it, without a suffix.
fn literal_only(s: &str) -> bool {
    !s.chars().any(|c| c.is_ascii_alphabetic())
}

/// `s` with the type `f64` spelled where Rust could not infer it.
fn typed(s: String) -> String {
    if !literal_only(&s) {
        s
    } else if s.parse::<f64>().is_ok() && !s.starts_with('-') {
        format!("{s}_f64")
    } else {
        format!("({s} as f64)")
    }
}

/// A scalar expression as a method receiver: literals need a type and parentheses.
fn recv(s: String) -> String {
    let s = typed(s);
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("({s})")
    } else {
        s
    }
}

/// A matrix expression as a value of its own: a parameter taken by `&` is copied.
fn owned(s: String) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{s}.clone_owned()")
    } else {
        s
    }
}

/// Whether the identifier `name` occurs in `s`.
fn mentions(s: &str, name: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|word| word == name)
}

/// Whether `s` reads a parameter or a value computed from one (as opposed to literals and
/// loop indices alone, whose comparison could sit exactly on its switching point).
fn mentions_data(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|word| {
            ["p", "v", "w", "s", "t", "u", "acc"].iter().any(|prefix| {
                word.strip_prefix(prefix).is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                })
            })
        })
}

/// A multiplier for the terms a loop of `trip` iterations adds up, so that the sum stays of
/// moderate size.
fn coefficient(trip: usize) -> &'static str {
    match trip {
        0..=4 => "0.5",
        5..=16 => "0.1",
        _ => "0.01",
    }
}

pub(super) fn generate(rng: &mut Rng) -> Program {
    let mut g = Generator {
        rng,
        dims: Vec::new(),
        vars: Vec::new(),
        spd_vars: Vec::new(),
        mutable: HashSet::new(),
        capture_mutable: true,
        long: Vec::new(),
        indices: Vec::new(),
        closures: Vec::new(),
        nesting: 0,
        fresh: 0,
        constructs: BTreeSet::new(),
        results: Vec::new(),
    };
    g.dims = vec![1 + g.below(4), 1 + g.below(4)];
    let n = 1 + g.below(4);
    let mut signature = Vec::new();
    let mut params = Vec::new();
    for k in 0..n {
        let shape = match g.below(20) {
            0..=3 => Shape::Scalar,
            4..=8 => Shape::Mat(g.dim(), 1),
            9..=11 => Shape::Mat(1, g.dim()),
            _ => Shape::Mat(g.dim(), g.dim()),
        };
        // nalgebra's aliases now and then, and matrices by value now and then.
        let alias = g.chance(0.3);
        let by_ref = shape != Shape::Scalar && !g.chance(0.15);
        let by = if by_ref { "&" } else { "" };
        let ty = match shape {
            Shape::Scalar => "f64".to_owned(),
            Shape::Mat(r, 1) if alias => format!("{by}Vector{r}<f64>"),
            Shape::Mat(1, c) if alias => format!("{by}RowVector{c}<f64>"),
            Shape::Mat(r, c) if alias && r == c => format!("{by}Matrix{r}<f64>"),
            Shape::Mat(r, c) if alias => format!("{by}Matrix{r}x{c}<f64>"),
            Shape::Mat(r, 1) => format!("{by}SVector<f64, {r}>"),
            Shape::Mat(1, c) => format!("{by}RowSVector<f64, {c}>"),
            Shape::Mat(r, c) => format!("{by}SMatrix<f64, {r}, {c}>"),
        };
        signature.push(format!("p{k}: {ty}"));
        g.vars.push((format!("p{k}"), shape));
        params.push(Param {
            name: format!("p{k}"),
            shape,
            by_ref,
        });
    }
    // A long vector now and then, for loops and iterators to run over.
    if g.chance(0.3) {
        let len = [6, 10, 16, 40, 66, 70][g.below(6)];
        let by_ref = !g.chance(0.15);
        let by = if by_ref { "&" } else { "" };
        let name = format!("p{n}");
        signature.push(format!("{name}: {by}SVector<f64, {len}>"));
        g.long.push((name.clone(), len));
        g.constructs.insert(if len > 64 {
            "vector parameter of length > 64"
        } else {
            "vector parameter of length 5 to 64"
        });
        params.push(Param {
            name,
            shape: Shape::Mat(len, 1),
            by_ref,
        });
    }
    let statements: Vec<String> = (0..g.below(5)).map(|i| g.statement(i)).collect();
    let tail = g.scalar(3);
    let last = g
        .vars
        .last()
        .cloned()
        .filter(|(name, _)| name.starts_with('v'));
    let mut tail = match last {
        Some((name, shape)) if g.chance(0.7) => {
            let reduced = g.reduce(&name, shape);
            let op = if g.chance(0.5) { "+" } else { "*" };
            format!("{reduced} {op} {tail}")
        }
        _ => tail,
    };
    for (index, name, shape) in std::mem::take(&mut g.results) {
        let later = statements[index + 1..].concat() + &tail;
        if !mentions(&later, &name) {
            tail = format!("{tail} + {}", g.reduce(&name, shape));
        }
    }
    if g.chance(0.08) {
        g.constructs.insert("value-dependent if/else as the tail");
        let cond = g.condition(1);
        let other = g.scalar(2);
        tail = format!("if {cond} {{\n        {tail}\n    }} else {{\n        {other}\n    }}");
    }
    let mut body = statements.concat();
    body += &format!("    {tail}\n");

    // `wrt`: parameters the body uses, one or two.
    let used: HashSet<&str> = body
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    let mut candidates: Vec<usize> = (0..params.len())
        .filter(|&k| used.contains(params[k].name.as_str()))
        .collect();
    if candidates.is_empty() {
        candidates = (0..params.len()).collect();
    }
    let first = candidates.remove(g.below(candidates.len()));
    let (wrt, wrt_params) = if !candidates.is_empty() && g.chance(0.4) {
        let second = candidates[g.below(candidates.len())];
        (format!("wrt = (p{first}, p{second})"), vec![first, second])
    } else {
        (format!("wrt = p{first}"), vec![first])
    };
    Program {
        source: format!("fn f({}) -> f64 {{\n{body}}}", signature.join(", ")),
        wrt,
        params,
        wrt_params,
        constructs: g.constructs,
    }
}

impl Generator<'_> {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.unit() < p
    }

    /// The `r x c` identity, sized explicitly: `SMatrix::<f64, r, c>::identity()` or an alias
    /// (`Matrix3::<f64>::identity()`: Rust could not always infer the element type).
    fn eye(&mut self, r: usize, c: usize) -> String {
        if !self.chance(0.25) || r == 1 || c == 1 {
            format!("SMatrix::<f64, {r}, {c}>::identity()")
        } else if r == c {
            format!("Matrix{r}::<f64>::identity()")
        } else {
            format!("Matrix{r}x{c}::<f64>::identity()")
        }
    }

    fn pick(&mut self, items: &[&str]) -> String {
        items[self.below(items.len())].to_owned()
    }

    /// A dimension: one of the program's, sometimes 1.
    fn dim(&mut self) -> usize {
        if self.chance(0.15) {
            1
        } else {
            let i = self.below(self.dims.len());
            self.dims[i]
        }
    }

    /// The variables expressions may read here, oldest first.
    fn visible(&self) -> Vec<(String, Shape)> {
        self.vars
            .iter()
            .filter(|(name, _)| self.capture_mutable || !self.mutable.contains(name))
            .cloned()
            .collect()
    }

    /// The shapes of the matrix variables in scope.
    fn matrix_shapes(&self) -> Vec<(usize, usize)> {
        self.visible()
            .into_iter()
            .filter_map(|(_, shape)| match shape {
                Shape::Mat(r, c) => Some((r, c)),
                Shape::Scalar => None,
            })
            .collect()
    }

    /// The matrix variables in scope and the long vectors, with their shapes.
    fn iterables(&self) -> Vec<(String, usize, usize)> {
        let mut all: Vec<(String, usize, usize)> = self
            .visible()
            .into_iter()
            .filter_map(|(name, shape)| match shape {
                Shape::Mat(r, c) => Some((name, r, c)),
                Shape::Scalar => None,
            })
            .collect();
        all.extend(self.long.iter().map(|(name, len)| (name.clone(), *len, 1)));
        all
    }

    /// A matrix shape: often that of a variable (or its transpose), so that leaves match.
    fn mat_shape(&mut self) -> (usize, usize) {
        let shapes = self.matrix_shapes();
        if shapes.is_empty() || self.chance(0.35) {
            return (self.dim(), self.dim());
        }
        let (r, c) = shapes[self.below(shapes.len())];
        if self.chance(0.3) {
            (c, r)
        } else {
            (r, c)
        }
    }

    /// A square size: often that of a variable's side.
    fn square(&mut self) -> usize {
        let (r, c) = self.mat_shape();
        if self.chance(0.5) {
            r
        } else {
            c
        }
    }

    /// The inner dimension of a product giving `r x c`: often one for which a variable has
    /// the shape of a factor.
    fn inner_dim(&mut self, r: usize, c: usize) -> usize {
        let fits: Vec<usize> = self
            .matrix_shapes()
            .into_iter()
            .flat_map(|(a, b)| [(a, b), (b, a)])
            .filter_map(|(a, b)| {
                if a == r {
                    Some(b)
                } else if b == c {
                    Some(a)
                } else {
                    None
                }
            })
            .collect();
        if fits.is_empty() || self.chance(0.3) {
            self.dim()
        } else {
            fits[self.below(fits.len())]
        }
    }

    fn expr(&mut self, shape: Shape, depth: usize) -> String {
        match shape {
            Shape::Scalar => self.scalar(depth),
            Shape::Mat(r, c) => self.matrix(r, c, depth),
        }
    }

    /// An expression of `shape` as a value of its own (typed, owned).
    fn value(&mut self, shape: Shape, depth: usize) -> String {
        match shape {
            Shape::Scalar => typed(self.scalar(depth)),
            Shape::Mat(r, c) => owned(self.matrix(r, c, depth)),
        }
    }

    /// `: f64` for a scalar `let`, nothing for a matrix.
    fn annotation(shape: Shape) -> &'static str {
        match shape {
            Shape::Scalar => ": f64",
            Shape::Mat(..) => "",
        }
    }

    /// A variable of `shape`, favouring the latest one.
    fn var_of(&mut self, shape: Shape) -> Option<String> {
        let matching: Vec<String> = self
            .visible()
            .into_iter()
            .filter(|(_, s)| *s == shape)
            .map(|(name, _)| name)
            .collect();
        let latest = matching.last()?.clone();
        if self.chance(0.4) {
            Some(latest)
        } else {
            Some(matching[self.below(matching.len())].clone())
        }
    }

    /// Runs `f` with `names` in scope as scalars, and forgets whatever `f` binds.
    fn with_scalars<T>(&mut self, names: &[&str], f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.vars.len();
        for name in names {
            self.vars.push(((*name).to_owned(), Shape::Scalar));
        }
        let result = f(self);
        self.vars.truncate(saved);
        result
    }

    /// Runs `f` with a loop index of `trip` values in scope; `f` gets its name.
    fn with_index<T>(&mut self, trip: usize, f: impl FnOnce(&mut Self, &str) -> T) -> T {
        let name = INDEX_NAMES[self.indices.len().min(INDEX_NAMES.len() - 1)].to_owned();
        self.indices.push((name.clone(), trip));
        let saved = self.vars.len();
        let result = f(self, &name);
        self.vars.truncate(saved);
        self.indices.pop();
        result
    }

    fn fresh(&mut self) -> usize {
        self.fresh += 1;
        self.fresh
    }

    fn scalar_leaf(&mut self) -> String {
        if !self.indices.is_empty() && self.chance(0.45) {
            return self.index_leaf();
        }
        if !self.closures.is_empty() && self.chance(0.15) {
            self.constructs.insert("call of a let-bound closure");
            let k = self.below(self.closures.len());
            let f = self.closures[k].clone();
            let arg = self.scalar_leaf();
            return format!("{f}({arg})");
        }
        let roll = self.below(10);
        if roll < 5 {
            if let Some(name) = self.var_of(Shape::Scalar) {
                return name;
            }
        }
        let matrices: Vec<(String, Shape)> = self
            .visible()
            .into_iter()
            .filter(|(_, shape)| *shape != Shape::Scalar)
            .collect();
        if roll < 8 && !matrices.is_empty() {
            let (name, shape) = matrices[self.below(matrices.len())].clone();
            let Shape::Mat(r, c) = shape else {
                unreachable!()
            };
            return self.index_into(&name, r, c);
        }
        self.pick(LITERALS)
    }

    /// A leaf that reads a parameter or a value computed from one.
    fn data_leaf(&mut self) -> String {
        for _ in 0..8 {
            let leaf = self.scalar_leaf();
            if mentions_data(&leaf) {
                return leaf;
            }
        }
        let (name, shape) = self.visible()[0].clone();
        match shape {
            Shape::Scalar => name,
            Shape::Mat(r, c) => self.index_into(&name, r, c),
        }
    }

    /// A scalar that depends on a loop index in scope: an entry it selects, the index as a
    /// float, a column or row it selects.
    fn index_leaf(&mut self) -> String {
        let k = if self.chance(0.6) {
            self.indices.len() - 1
        } else {
            self.below(self.indices.len())
        };
        let (i, trip) = self.indices[k].clone();
        let iterables = self.iterables();
        let matrices: Vec<(String, usize, usize)> = iterables
            .iter()
            .filter(|(_, r, c)| *r > 1 && *c > 1)
            .cloned()
            .collect();
        match self.below(7) {
            0..=3 if !iterables.is_empty() => {
                self.constructs.insert("entry selected by a loop index");
                let (name, r, c) = iterables[self.below(iterables.len())].clone();
                let len = r * c;
                if r == 1 || c == 1 {
                    let index = if len == 1 {
                        "0".to_owned()
                    } else if trip <= len {
                        i
                    } else {
                        self.constructs.insert("integer % in an index");
                        format!("{i} % {len}")
                    };
                    format!("{name}[{index}]")
                } else if self.indices.len() >= 2 && self.chance(0.5) {
                    let k = self.below(self.indices.len());
                    let (j, _) = self.indices[k].clone();
                    format!("{name}[({i} % {r}, {j} % {c})]")
                } else {
                    self.constructs.insert("integer % in an index");
                    format!("{name}[({i} % {r}, {i} / {r} % {c})]")
                }
            }
            4 if !matrices.is_empty() => {
                self.constructs.insert(".column(i) / .row(i)");
                let (name, r, c) = matrices[self.below(matrices.len())].clone();
                let reduction = self.pick(&["sum()", "norm_squared()"]);
                if self.chance(0.5) {
                    format!("{name}.column({i} % {c}).{reduction}")
                } else {
                    format!("{name}.row({i} % {r}).{reduction}")
                }
            }
            5 if !self.closures.is_empty() => {
                let k = self.below(self.closures.len());
                let f = self.closures[k].clone();
                let coefficient = coefficient(trip);
                self.constructs.insert("call of a let-bound closure");
                format!("{f}({i} as f64 * {coefficient})")
            }
            _ => {
                // Offset: a leaf that is 0 at `i = 0` would make norms and determinants vanish.
                self.constructs.insert("i as f64");
                let coefficient = coefficient(trip);
                format!("(0.5 + {i} as f64 * {coefficient})")
            }
        }
    }

    /// `m[(i, j)]`, `v[i]` or `m[k]`, in bounds.
    fn index_into(&mut self, m: &str, r: usize, c: usize) -> String {
        let (i, j) = (self.below(r), self.below(c));
        if c == 1 && self.chance(0.5) {
            format!("{m}[{i}]")
        } else if r == 1 && self.chance(0.5) {
            format!("{m}[{j}]")
        } else if self.chance(0.15) {
            format!("{m}[{}]", i + r * j)
        } else {
            format!("{m}[({i}, {j})]")
        }
    }

    fn scalar(&mut self, depth: usize) -> String {
        if depth == 0 || self.chance(0.2) {
            return self.scalar_leaf();
        }
        let d = depth - 1;
        if self.chance(0.1) {
            if let Some(s) = self.control_scalar(d) {
                return s;
            }
        }
        match self.below(17) {
            0 => format!("({} + {})", self.scalar(d), self.scalar(d)),
            1 => format!("({} - {})", self.scalar(d), self.scalar(d)),
            2 => format!("({} * {})", self.scalar(d), self.scalar(d)),
            3 => format!("({} / {})", self.scalar(d), self.positive(d)),
            4 => {
                let n = self.square();
                if self.chance(0.5) {
                    format!("{}.trace()", self.matrix(n, n, d))
                } else {
                    // The trace of a product, which the rewrites turn into a dot.
                    let k = self.inner_dim(n, n);
                    format!(
                        "({} * {}).trace()",
                        self.matrix(n, k, d),
                        self.matrix(k, n, d)
                    )
                }
            }
            5 => {
                let (r, c) = self.mat_shape();
                format!("{}.dot(&{})", self.matrix(r, c, d), self.matrix(r, c, d))
            }
            6 => {
                let (r, c) = self.mat_shape();
                format!("{}.sum()", self.matrix(r, c, d))
            }
            7 => {
                let (r, c) = self.mat_shape();
                format!("{}.norm_squared()", self.matrix(r, c, d))
            }
            8 => {
                let (r, c) = self.mat_shape();
                format!("{}.norm()", self.matrix(r, c, d))
            }
            9 => {
                if self.chance(0.2) {
                    // A bilinear form `(r M c)[(0, 0)]`, a 1 x 1 product indexed.
                    let (k, m) = (self.dim(), self.dim());
                    let form = format!(
                        "({} * {} * {})",
                        self.matrix(1, k, d),
                        self.matrix(k, m, d),
                        self.matrix(m, 1, d)
                    );
                    return self.index_into(&form, 1, 1);
                }
                let (r, c) = if self.chance(0.3) {
                    (1, 1)
                } else {
                    self.mat_shape()
                };
                let m = self.matrix(r, c, d);
                self.index_into(&m, r, c)
            }
            10 | 11 => {
                let fun = self.pick(&[
                    "sin()", "cos()", "tanh()", "exp()", "powi(2)", "powi(3)", "powi(1)",
                ]);
                format!("{}.{fun}", recv(self.scalar(d)))
            }
            12 => {
                let fun = self.pick(&["sqrt()", "ln()", "powi(-1)", "powi(-2)"]);
                format!("{}.{fun}", recv(self.positive(d)))
            }
            13 => {
                let n = self.square();
                format!("{}.determinant().ln()", self.spd(n, d))
            }
            14 => {
                // A general determinant now and then (singular points are resampled), not
                // where it is evaluated for many values (a loop body, an iterator's closure):
                // one of them would be singular.
                let n = self.square().min(3);
                let m = if self.indices.is_empty() && self.nesting == 0 && self.chance(0.3) {
                    self.matrix(n, n, d)
                } else {
                    self.spd(n, d)
                };
                format!("{m}.determinant()")
            }
            15 => format!("(-{})", self.scalar(d)),
            _ => format!("({} * {})", self.pick(LITERALS), self.scalar(d)),
        }
    }

    /// A scalar from a construct beyond straight-line code, where one fits: a call of a
    /// closure bound with `let`, an inline `if`, an iterator chain, a reduction of a long
    /// vector.
    fn control_scalar(&mut self, d: usize) -> Option<String> {
        match self.below(4) {
            0 if !self.closures.is_empty() => {
                self.constructs.insert("call of a let-bound closure");
                let k = self.below(self.closures.len());
                let f = self.closures[k].clone();
                let arg = self.scalar(d);
                Some(format!("{f}({arg})"))
            }
            1 if self.nesting == 0 => {
                self.constructs
                    .insert("value-dependent if/else inside an expression");
                self.nesting += 1;
                let cond = self.condition(d.min(1));
                let (a, b) = (typed(self.scalar(d)), typed(self.scalar(d)));
                self.nesting -= 1;
                Some(format!("(if {cond} {{ {a} }} else {{ {b} }})"))
            }
            2 if self.nesting == 0 => Some(format!("({})", self.chain())),
            3 if !self.long.is_empty() => {
                let k = self.below(self.long.len());
                let (name, len) = self.long[k].clone();
                Some(match self.below(3) {
                    0 => format!("({name}.norm_squared() / {len}.0)"),
                    1 => format!("({name}.sum() / {len}.0)"),
                    _ => {
                        let i = self.below(len);
                        format!("{name}[{i}]")
                    }
                })
            }
            _ => None,
        }
    }

    /// A condition on scalar values: a comparison, now and then combined with `&&`, `||` or
    /// `!`.
    fn condition(&mut self, depth: usize) -> String {
        match self.below(20) {
            0 | 1 => {
                self.constructs.insert("&&, || or ! in a condition");
                let (a, b) = (self.comparison(depth), self.comparison(depth));
                let op = if self.chance(0.5) { "&&" } else { "||" };
                format!("{a} {op} {b}")
            }
            2 => {
                self.constructs.insert("&&, || or ! in a condition");
                format!("!({})", self.comparison(depth))
            }
            _ => self.comparison(depth),
        }
    }

    fn comparison(&mut self, depth: usize) -> String {
        let op = self.pick(&["<", ">", "<=", ">="]);
        let left = self.scalar(depth);
        let mut right = self.scalar(depth);
        // A side that reads no data could sit exactly on the switching point for every input.
        for _ in 0..8 {
            if (mentions_data(&left) || mentions_data(&right)) && left != right {
                break;
            }
            right = self.data_leaf();
        }
        // An offset: the two sides may be one value written two ways (`p0[0]`, `p0[(0, 0)]`).
        let offset = self.pick(&["0.1", "0.25", "0.5"]);
        format!("{left} {op} {right} + {offset}")
    }

    /// A scalar expression that is positive everywhere.
    fn positive(&mut self, depth: usize) -> String {
        let d = depth.saturating_sub(1);
        match self.below(9) {
            8 => format!("(1.0 / {})", self.positive(d)),
            0 => {
                let a = self.scalar(d);
                format!("(1.0 + {a} * {a})")
            }
            1 => format!("{}.exp()", recv(self.scalar(d))),
            2 => format!("(2.0 + {}.sin())", recv(self.scalar(d))),
            3 => format!("(1.5 + {}.tanh())", recv(self.scalar(d))),
            4 => {
                let (r, c) = self.mat_shape();
                format!("({}.norm_squared() + 0.5)", self.matrix(r, c, d))
            }
            5 => self.pick(&["0.5", "2.0", "3.0"]),
            6 => {
                let n = self.square();
                format!("{}.determinant()", self.spd(n, d))
            }
            _ => {
                let a = self.scalar(d);
                format!("{}.sqrt()", recv(format!("(1.0 + {a} * {a})")))
            }
        }
    }

    /// An `n x n` matrix whose symmetric part is positive definite with eigenvalues of at
    /// least 2: invertible, well conditioned, with a positive determinant.
    fn spd(&mut self, n: usize, depth: usize) -> String {
        let bound: Vec<String> = self
            .spd_vars
            .iter()
            .filter(|(_, size)| *size == n)
            .map(|(name, _)| name.clone())
            .collect();
        if !bound.is_empty() && self.chance(0.6) {
            return bound[self.below(bound.len())].clone();
        }
        let d = depth.saturating_sub(1);
        let k = self.inner_dim(n, n);
        let i = self.eye(n, n);
        match self.below(4) {
            0 => {
                let m = self.matrix(n, k, d);
                format!("({m} * {m}.transpose() + {i} * 3.0)")
            }
            1 => {
                let m = self.matrix(k, n, d);
                format!("({m}.transpose() * {m} + 2.0 * {i})")
            }
            2 => {
                let m = self.matrix(n, k, d);
                format!("({i} * 2.0 + ({m} * 0.5) * ({m} * 0.5).transpose())")
            }
            _ => {
                let m = self.matrix(n, n, d);
                format!("({i} * 4.0 + {m}.map(|t| t.tanh()) * 0.5)")
            }
        }
    }

    /// A variable of shape `r x c`, or the transpose of one of shape `c x r`.
    fn var_or_transpose(&mut self, r: usize, c: usize) -> Option<String> {
        let exact = self.var_of(Shape::Mat(r, c));
        let transposed = self.var_of(Shape::Mat(c, r));
        match (exact, transposed) {
            (Some(name), None) => Some(name),
            (None, Some(name)) => Some(format!("{name}.transpose()")),
            (Some(name), Some(other)) => Some(if self.chance(0.7) {
                name
            } else {
                format!("{other}.transpose()")
            }),
            (None, None) => None,
        }
    }

    fn matrix_leaf(&mut self, r: usize, c: usize) -> String {
        if let Some(leaf) = self.var_or_transpose(r, c) {
            return leaf;
        }
        // A product of two variables.
        let inner: Vec<usize> = (1..=4)
            .filter(|&k| {
                let shapes = self.matrix_shapes();
                let has = |a, b| shapes.contains(&(a, b)) || shapes.contains(&(b, a));
                has(r, k) && has(k, c)
            })
            .collect();
        if !inner.is_empty() && self.chance(0.6) {
            let k = inner[self.below(inner.len())];
            let a = self.var_or_transpose(r, k).expect("a left factor");
            let b = self.var_or_transpose(k, c).expect("a right factor");
            return format!("({a} * {b})");
        }
        let matrices: Vec<(String, Shape)> = self
            .visible()
            .into_iter()
            .filter(|(_, shape)| *shape != Shape::Scalar)
            .collect();
        if matrices.is_empty() {
            return format!("({} * {})", self.scalar_leaf(), self.eye(r, c));
        }
        // Rows and columns of another variable, selected or padded by rectangular identities.
        let (name, shape) = matrices[self.below(matrices.len())].clone();
        let Shape::Mat(a, b) = shape else {
            unreachable!()
        };
        let mut m = name;
        if a != r || self.chance(0.1) {
            m = format!("{} * {m}", self.eye(r, a));
        }
        if b != c {
            m = format!("{m} * {}", self.eye(b, c));
        }
        format!("({m})")
    }

    fn matrix(&mut self, r: usize, c: usize, depth: usize) -> String {
        if depth == 0 || self.chance(0.2) {
            return self.matrix_leaf(r, c);
        }
        let d = depth - 1;
        if self.chance(0.07) {
            return self.constructed(r, c, d);
        }
        match self.below(16) {
            0 => format!("({} + {})", self.matrix(r, c, d), self.matrix(r, c, d)),
            1 => format!("({} - {})", self.matrix(r, c, d), self.matrix(r, c, d)),
            2 => format!("({} * {})", self.scalar(d), self.matrix(r, c, d)),
            3 => format!("({} * {})", self.matrix(r, c, d), self.scalar(d)),
            4 => format!("({} / {})", self.matrix(r, c, d), self.positive(d)),
            5 | 6 => {
                let k = self.inner_dim(r, c);
                format!("({} * {})", self.matrix(r, k, d), self.matrix(k, c, d))
            }
            7 | 8 => format!("{}.transpose()", self.matrix(c, r, d)),
            9 => format!(
                "{}.component_mul(&{})",
                self.matrix(r, c, d),
                self.matrix(r, c, d)
            ),
            10 => {
                let m = self.matrix(r, c, d);
                format!("{m}.map({})", self.closure())
            }
            11 => format!("(-{})", self.matrix(r, c, d)),
            12 => match self.below(3) {
                0 if r == c => format!("({} + {})", self.matrix(r, c, d), self.eye(r, c)),
                1 => {
                    let k = self.dim();
                    format!("({} * {})", self.eye(r, k), self.matrix(k, c, d))
                }
                _ => {
                    let k = self.dim();
                    format!("({} * {})", self.matrix(r, k, d), self.eye(k, c))
                }
            },
            13 if r == c => format!("{}.try_inverse().unwrap()", self.spd(r, d)),
            14 if r == c => {
                let inverse = format!("{}.try_inverse().unwrap()", self.spd(r, d));
                format!("({inverse} * {})", self.matrix(r, c, d))
            }
            _ => format!("({} * {})", self.matrix(r, 1, d), self.matrix(1, c, d)),
        }
    }

    /// An `r x c` matrix built from scalar expressions: `Vector3::new(a, b, c)`,
    /// `Matrix2::new(a, b, c, d)` (entries row by row), `SMatrix::<f64, 2, 3>::new(..)`,
    /// `Vector3::repeat(s)`, `Matrix2::from_element(s)`.
    fn constructed(&mut self, r: usize, c: usize, depth: usize) -> String {
        let alias = if c == 1 {
            format!("Vector{r}")
        } else if r == 1 {
            format!("RowVector{c}")
        } else if r == c {
            format!("Matrix{r}")
        } else {
            format!("Matrix{r}x{c}")
        };
        let ty = match self.below(4) {
            0 | 1 => alias,
            2 if c == 1 => format!("SVector::<f64, {r}>"),
            2 if r == 1 => format!("RowSVector::<f64, {c}>"),
            _ => format!("SMatrix::<f64, {r}, {c}>"),
        };
        if self.chance(0.3) {
            self.constructs
                .insert("constructor of a repeated entry (repeat / from_element)");
            let kind = if self.chance(0.5) {
                "repeat"
            } else {
                "from_element"
            };
            let s = typed(self.scalar(depth));
            return format!("{ty}::{kind}({s})");
        }
        self.constructs
            .insert("constructor with entries (Vector3::new / Matrix2::new)");
        // Many entries are leaves, so that a 4 x 4 stays of moderate length.
        let depth = if r * c > 4 { depth.min(1) } else { depth };
        let entries: Vec<String> = (0..r * c)
            .map(|_| {
                if self.chance(0.2) {
                    self.pick(LITERALS) + "_f64"
                } else {
                    typed(self.scalar(depth))
                }
            })
            .collect();
        format!("{ty}::new({})", entries.join(", "))
    }

    /// A `.map` argument: a closure with a scalar body, or a path.
    fn closure(&mut self) -> String {
        if self.chance(0.15) {
            return self.pick(&["f64::sin", "f64::tanh", "f64::cos"]);
        }
        format!("|t| {}", typed(self.closure_body(2)))
    }

    fn closure_body(&mut self, depth: usize) -> String {
        if depth == 0 || self.chance(0.25) {
            return self.pick(&["t", "t", "t", "0.5", "2.0"]);
        }
        let d = depth - 1;
        match self.below(9) {
            0 => format!("({} + {})", self.closure_body(d), self.closure_body(d)),
            1 => format!("({} - {})", self.closure_body(d), self.closure_body(d)),
            2 => format!("({} * {})", self.closure_body(d), self.closure_body(d)),
            3 => {
                let fun = self.pick(&["sin()", "cos()", "tanh()"]);
                format!("{}.{fun}", recv(self.closure_body(d)))
            }
            4 => {
                let fun = self.pick(&["powi(2)", "powi(3)"]);
                format!("{}.{fun}", recv(self.closure_body(d)))
            }
            5 => {
                let a = self.closure_body(d);
                format!("{}.ln()", recv(format!("(1.0 + {a} * {a})")))
            }
            6 => {
                let a = self.closure_body(d);
                format!("{}.sqrt()", recv(format!("(1.0 + {a} * {a})")))
            }
            7 => {
                let a = self.closure_body(d);
                format!("(1.0 / (1.0 + {a} * {a}))")
            }
            _ => format!(
                "{}.exp()",
                recv(format!("(0.5 * {})", self.closure_body(d)))
            ),
        }
    }

    /// A scalar computed from the variable `name`.
    fn reduce(&mut self, name: &str, shape: Shape) -> String {
        let Shape::Mat(r, c) = shape else {
            return name.to_owned();
        };
        match self.below(5) {
            0 => format!("{name}.sum()"),
            1 => format!("{name}.norm_squared()"),
            2 if r == c => format!("{name}.trace()"),
            3 => {
                let other = self.matrix(r, c, 1);
                format!("{name}.dot(&{other})")
            }
            _ => self.index_into(name, r, c),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Statements.

    /// The `n`-th statement of the body: it binds `v{n}` (and `w{n}` for a tuple, `c{n}` for
    /// a closure).
    fn statement(&mut self, n: usize) -> String {
        match self.below(100) {
            0..=35 => self.plain_let(n),
            36..=39 => self.return_loop(n),
            40..=51 => self.scalar_loop(n),
            52..=59 => self.matrix_loop(n),
            60..=66 => self.if_let(n),
            67..=73 => self.if_statement(n),
            74..=85 => self.chain_let(n),
            86..=92 => self.closure_let(n),
            _ => self.tuple_let(n),
        }
    }

    fn plain_let(&mut self, n: usize) -> String {
        let name = format!("v{n}");
        if self.chance(0.12) {
            let size = self.square();
            let expr = self.spd(size, 2);
            self.vars.push((name.clone(), Shape::Mat(size, size)));
            self.spd_vars.push((name.clone(), size));
            return format!("    let {name} = {expr};\n");
        }
        let shape = if self.chance(0.35) {
            Shape::Scalar
        } else {
            let (r, c) = self.mat_shape();
            Shape::Mat(r, c)
        };
        let depth = 2 + self.below(2);
        let expr = match shape {
            Shape::Scalar => typed(self.scalar(depth)),
            _ => self.expr(shape, depth),
        };
        self.vars.push((name.clone(), shape));
        format!("    let {name}{} = {expr};\n", Self::annotation(shape))
    }

    /// A trip count: the number of entries of a variable (each once), a short loop, or one
    /// longer than the unrolling limit.
    fn trip(&mut self) -> usize {
        let lengths: Vec<usize> = self
            .iterables()
            .into_iter()
            .map(|(_, r, c)| r * c)
            .filter(|&len| len > 1)
            .collect();
        let trip = match self.below(10) {
            0..=3 if !lengths.is_empty() => lengths[self.below(lengths.len())],
            0..=6 => 2 + self.below(4),
            // Beyond the unrolling limits, old (64) and new (128).
            7 => 65 + self.below(36),
            _ => 129 + self.below(72),
        };
        self.constructs.insert(if trip > 64 {
            "for loop or range, trip count > 64"
        } else {
            "for loop or range, trip count <= 64"
        });
        trip
    }

    /// `for i in 0..trip`, or `0..x.len()` for a variable with `trip` entries.
    fn loop_header(&mut self, index: &str, trip: usize) -> String {
        let sized: Vec<String> = self
            .iterables()
            .into_iter()
            .filter(|(_, r, c)| r * c == trip)
            .map(|(name, _, _)| name)
            .collect();
        if !sized.is_empty() && self.chance(0.4) {
            self.constructs.insert("0..x.len()");
            let name = &sized[self.below(sized.len())];
            format!("for {index} in 0..{name}.len()")
        } else {
            format!("for {index} in 0..{trip}")
        }
    }

    /// `let mut v = ..; for i in 0..K { v = v op (a term of i); }`, with index conditions,
    /// `match`, value-dependent branches and inner `let`s in the body.
    fn scalar_loop(&mut self, n: usize) -> String {
        let name = format!("v{n}");
        let init = typed(self.scalar(1));
        let trip = self.trip();
        self.vars.push((name.clone(), Shape::Scalar));
        self.mutable.insert(name.clone());
        let (header, body) = self.with_index(trip, |g, i| {
            let header = g.loop_header(i, trip);
            let body = g.loop_body(&name, Shape::Scalar, trip, "        ");
            (header, body)
        });
        self.results.push((n, name.clone(), Shape::Scalar));
        format!("    let mut {name}: f64 = {init};\n    {header} {{\n{body}    }}\n")
    }

    /// `let mut v = ..; for i in 0..K { if c { return e; } v += ..; }` at the function's top
    /// level: the return in the loop or in a nested one, with or without an `else`, the
    /// condition on values (the reference flags points where it is close to switching).
    fn return_loop(&mut self, n: usize) -> String {
        self.constructs.insert("early return from a for loop");
        let name = format!("v{n}");
        let init = typed(self.scalar(1));
        let trip = self.trip();
        if trip > 64 {
            self.constructs
                .insert("early return from a loop of > 64 iterations");
        }
        self.vars.push((name.clone(), Shape::Scalar));
        self.mutable.insert(name.clone());
        let nested = self.chance(0.3);
        let (header, body) = self.with_index(trip, |g, i| {
            let header = g.loop_header(i, trip);
            let body = if nested {
                g.constructs.insert("early return in nested for loops");
                g.constructs.insert("nested for loops");
                let inner_trip = 2 + g.below(3);
                let mut body = String::new();
                if g.chance(0.5) {
                    body += &g.update(&name, Shape::Scalar, trip, "        ");
                }
                let inner = g.with_index(inner_trip, |g, j| {
                    let inner = g.returning_body(&name, trip * inner_trip, "            ");
                    format!("        for {j} in 0..{inner_trip} {{\n{inner}        }}\n")
                });
                body + &inner
            } else {
                g.returning_body(&name, trip, "        ")
            };
            (header, body)
        });
        self.results.push((n, name.clone(), Shape::Scalar));
        format!("    let mut {name}: f64 = {init};\n    {header} {{\n{body}    }}\n")
    }

    /// A loop body that returns from the function when a condition on values holds, and
    /// otherwise updates `acc`.
    fn returning_body(&mut self, acc: &str, trip: usize, indent: &str) -> String {
        let mut out = String::new();
        if self.chance(0.25) {
            let w = format!("s{}", self.fresh());
            let e = typed(self.scalar(2));
            out += &format!("{indent}let {w}: f64 = {e};\n");
            self.vars.push((w, Shape::Scalar));
        }
        let deeper = format!("{indent}    ");
        let cond = if self.chance(0.8) {
            self.comparison(1)
        } else {
            self.condition(1)
        };
        let value = typed(self.scalar(2));
        let ret = format!("{deeper}return {value};\n");
        match self.below(4) {
            0 => {
                self.constructs.insert("early return with an else branch");
                let update = self.update(acc, Shape::Scalar, trip, &deeper);
                out +=
                    &format!("{indent}if {cond} {{\n{ret}{indent}}} else {{\n{update}{indent}}}\n");
            }
            1 => {
                self.constructs.insert("early return with an else branch");
                let update = self.update(acc, Shape::Scalar, trip, &deeper);
                out +=
                    &format!("{indent}if {cond} {{\n{update}{indent}}} else {{\n{ret}{indent}}}\n");
            }
            _ => {
                out += &format!("{indent}if {cond} {{\n{ret}{indent}}}\n");
                out += &self.update(acc, Shape::Scalar, trip, indent);
            }
        }
        out
    }

    /// The body of a loop that updates `acc`, indented by `indent`.
    fn loop_body(&mut self, acc: &str, shape: Shape, trip: usize, indent: &str) -> String {
        let mut out = String::new();
        if self.chance(0.25) {
            let w = format!("s{}", self.fresh());
            let e = typed(self.scalar(2));
            out += &format!("{indent}let {w}: f64 = {e};\n");
            self.vars.push((w, Shape::Scalar));
        }
        let (i, _) = self.indices.last().cloned().expect("in a loop");
        let deeper = format!("{indent}    ");
        match self.below(10) {
            0..=3 => out += &self.update(acc, shape, trip, indent),
            4 => {
                out += &self.update(acc, shape, trip, indent);
                out += &self.update(acc, shape, trip, indent);
            }
            5 | 6 => {
                self.constructs
                    .insert("index condition in a loop (if i == 0 ..)");
                let (cond, previous) = match self.below(6) {
                    0 => (format!("{i} == 0"), false),
                    1 => (format!("{i} % 2 == 1"), false),
                    2 => (format!("{i} + 1 < {trip}"), false),
                    3 => (format!("{i} < {}", trip / 2), false),
                    _ => (format!("{i} > 0"), true),
                };
                // `x[i - 1]` where `i > 0`.
                let then_side = if previous && trip > 1 {
                    self.constructs.insert("x[i - 1] under if i > 0");
                    let saved = self.indices.len();
                    self.indices.push((format!("({i} - 1)"), trip - 1));
                    let update = self.update(acc, shape, trip, &deeper);
                    self.indices.truncate(saved);
                    update
                } else {
                    self.update(acc, shape, trip, &deeper)
                };
                out += &format!("{indent}if {cond} {{\n{then_side}{indent}}}");
                match self.below(3) {
                    0 => out += "\n",
                    1 => {
                        let other = self.update(acc, shape, trip, &deeper);
                        out += &format!(" else {{\n{other}{indent}}}\n");
                    }
                    _ => {
                        self.constructs.insert("else if");
                        let (a, b) = (
                            self.update(acc, shape, trip, &deeper),
                            self.update(acc, shape, trip, &deeper),
                        );
                        out += &format!(
                            " else if {i} % 3 == 1 {{\n{a}{indent}}} else {{\n{b}{indent}}}\n"
                        );
                    }
                }
            }
            7 => {
                self.constructs.insert("match on a loop index");
                let arms = if self.chance(0.5) {
                    (format!("{i} % 3"), ["0", "1", "_"])
                } else {
                    (i.clone(), ["0", "1..=3", "_"])
                };
                let inner = format!("{deeper}    ");
                out += &format!("{indent}match {} {{\n", arms.0);
                for (k, pattern) in arms.1.iter().enumerate() {
                    let update = if k == 2 && self.chance(0.3) {
                        String::new()
                    } else {
                        self.update(acc, shape, trip, &inner)
                    };
                    out += &format!("{deeper}{pattern} => {{\n{update}{deeper}}}\n");
                }
                out += &format!("{indent}}}\n");
            }
            _ => {
                self.constructs.insert("value-dependent if in a loop");
                let cond = self.condition(1);
                let a = self.update(acc, shape, trip, &deeper);
                let b = self.update(acc, shape, trip, &deeper);
                out += &format!("{indent}if {cond} {{\n{a}{indent}}} else {{\n{b}{indent}}}\n");
            }
        }
        out
    }

    /// One assignment to the loop variable `acc`, which keeps it of moderate size. Every term
    /// is scaled by the loop's [`coefficient`], so that an iteration is a small perturbation
    /// of the identity or a contraction: an update such as `v = 0.5 v + sin(v + v²)` iterated
    /// 160 times is chaotic, with derivatives of 1e35 that no finite difference reproduces.
    fn update(&mut self, acc: &str, shape: Shape, trip: usize, indent: &str) -> String {
        let c = coefficient(trip);
        let Shape::Mat(r, cols) = shape else {
            let term = self.loop_term();
            let roll = self.below(7);
            if roll != 2 && roll != 3 && roll != 6 {
                self.constructs
                    .insert("compound assignment (+=, -=, *=, /=)");
            }
            return match roll {
                0 => format!("{indent}{acc} += {term} * {c};\n"),
                1 => format!("{indent}{acc} -= {term} * {c};\n"),
                2 => format!("{indent}{acc} = {acc} * 0.5 + {term} * {c};\n"),
                3 => format!("{indent}{acc} = ({acc} + {term} * {c}).tanh();\n"),
                4 => format!("{indent}{acc} *= 1.0 + {}.tanh() * {c};\n", recv(term)),
                5 if trip <= 4 => format!("{indent}{acc} /= 1.5 + {}.tanh();\n", recv(term)),
                _ => format!("{indent}{acc} = {acc} + {term} * {c};\n"),
            };
        };
        // A matrix: one entry, or the whole of it.
        let (i, trip_i) = self.indices.last().cloned().expect("in a loop");
        if self.chance(0.6) {
            self.constructs
                .insert("entry update m[(i, j)] / v[i] in a loop");
            let len = r * cols;
            let position = if len == 1 {
                "0".to_owned()
            } else if r == 1 || cols == 1 {
                if trip_i <= len {
                    i
                } else {
                    format!("{i} % {len}")
                }
            } else if self.indices.len() >= 2 {
                let (outer, _) = self.indices[self.indices.len() - 2].clone();
                format!("({outer} % {r}, {i} % {cols})")
            } else {
                format!("({i} % {r}, {i} / {r} % {cols})")
            };
            let term = self.loop_term();
            return match self.below(4) {
                0 => {
                    format!("{indent}{acc}[{position}] = {acc}[{position}] * 0.5 + {term} * {c};\n")
                }
                1 => format!("{indent}{acc}[{position}] += {term} * {c};\n"),
                2 => format!("{indent}{acc}[{position}] -= {term} * {c};\n"),
                _ => format!(
                    "{indent}{acc}[{position}] *= 1.0 + {}.tanh() * {c};\n",
                    recv(term)
                ),
            };
        }
        self.constructs.insert("matrix carried by a loop");
        let m = self.matrix(r, cols, 1);
        let m = if self.chance(0.6) {
            format!("({m} * {})", self.loop_term())
        } else {
            m
        };
        match self.below(3) {
            0 => format!("{indent}{acc} = {acc} * 0.5 + {m} * {c};\n"),
            1 => format!("{indent}{acc} += {m} * {c};\n"),
            _ => format!("{indent}{acc} -= {m} * {c};\n"),
        }
    }

    /// A scalar term of a loop's update, most often depending on the loop index.
    fn loop_term(&mut self) -> String {
        if self.indices.is_empty() || self.chance(0.3) {
            return self.scalar(2);
        }
        let leaf = self.index_leaf();
        match self.below(4) {
            0 => leaf,
            1 => format!("({leaf} * {})", self.scalar(1)),
            2 => format!("({leaf} - {})", self.scalar(1)),
            _ => format!("{}.sin()", recv(format!("({leaf} + {})", self.scalar(1)))),
        }
    }

    /// A `let mut` matrix or vector updated in a loop: entry by entry (`v[i] += ..`,
    /// `m[(i, j)] = ..` in nested loops) or as a whole.
    fn matrix_loop(&mut self, n: usize) -> String {
        let name = format!("v{n}");
        let (r, c) = self.mat_shape();
        let init = if self.chance(0.4) {
            format!("SMatrix::<f64, {r}, {c}>::zeros()")
        } else {
            owned(self.matrix(r, c, 1))
        };
        let shape = Shape::Mat(r, c);
        self.vars.push((name.clone(), shape));
        self.mutable.insert(name.clone());
        self.results.push((n, name.clone(), shape));
        let mut out = format!("    let mut {name} = {init};\n");
        if r > 1 && c > 1 && self.chance(0.4) {
            // Every entry, by rows and columns.
            self.constructs.insert("nested for loops");
            self.constructs
                .insert("for loop or range, trip count <= 64");
            let body = self.with_index(r, |g, i| {
                g.with_index(c, |g, j| {
                    let term = g.scalar(2);
                    let value = if g.chance(0.5) {
                        format!("{name}[({i}, {j})] * 0.5 + {term}")
                    } else {
                        term
                    };
                    g.constructs.insert("entry update m[(i, j)] / v[i] in a loop");
                    format!("        for {j} in 0..{c} {{\n            {name}[({i}, {j})] = {value};\n        }}\n")
                })
            });
            out += &format!("    for i in 0..{r} {{\n{body}    }}\n");
            return out;
        }
        let trip = self.trip();
        let (header, body) = self.with_index(trip, |g, i| {
            let header = g.loop_header(i, trip);
            (header, g.loop_body(&name, shape, trip, "        "))
        });
        out += &format!("    {header} {{\n{body}    }}\n");
        out
    }

    /// `let v = if c { a } else if c2 { b } else { d };`
    fn if_let(&mut self, n: usize) -> String {
        self.constructs.insert("value-dependent if/else expression");
        let shape = if self.chance(0.6) {
            Shape::Scalar
        } else {
            let (r, c) = self.mat_shape();
            Shape::Mat(r, c)
        };
        let cond = self.condition(1);
        let a = self.value(shape, 2);
        let middle = if self.chance(0.3) {
            self.constructs.insert("else if");
            let cond = self.condition(1);
            let b = self.value(shape, 2);
            format!(" else if {cond} {{\n        {b}\n    }}")
        } else {
            String::new()
        };
        let d = self.value(shape, 2);
        let name = format!("v{n}");
        self.vars.push((name.clone(), shape));
        self.results.push((n, name.clone(), shape));
        format!(
            "    let {name}{} = if {cond} {{\n        {a}\n    }}{middle} else {{\n        {d}\n    }};\n",
            Self::annotation(shape)
        )
    }

    /// `let mut v = ..; if c { v = ..; } else if .. { v += ..; }`, or `let v; if c { v = ..; }
    /// else { v = ..; }`.
    fn if_statement(&mut self, n: usize) -> String {
        let name = format!("v{n}");
        let shape = if self.chance(0.6) {
            Shape::Scalar
        } else {
            let (r, c) = self.mat_shape();
            Shape::Mat(r, c)
        };
        let cond = self.condition(1);
        self.results.push((n, name.clone(), shape));
        if self.chance(0.3) {
            self.constructs
                .insert("deferred initialisation (let v; if .. { v = .. })");
            let (a, b) = (self.value(shape, 2), self.value(shape, 2));
            let ty = match shape {
                Shape::Scalar => "f64".to_owned(),
                Shape::Mat(r, c) => format!("SMatrix<f64, {r}, {c}>"),
            };
            self.vars.push((name.clone(), shape));
            return format!(
                "    let {name}: {ty};\n    if {cond} {{\n        {name} = {a};\n    }} else {{\n        {name} = {b};\n    }}\n"
            );
        }
        self.constructs.insert("if statement assigning a let mut");
        let init = self.value(shape, 2);
        self.vars.push((name.clone(), shape));
        self.mutable.insert(name.clone());
        let mut out = format!(
            "    let mut {name}{} = {init};\n    if {cond} {{\n{}    }}",
            Self::annotation(shape),
            self.assignment(&name, shape)
        );
        match self.below(3) {
            0 => {}
            1 => out += &format!(" else {{\n{}    }}", self.assignment(&name, shape)),
            _ => {
                self.constructs.insert("else if");
                let cond = self.condition(1);
                out += &format!(
                    " else if {cond} {{\n{}    }}",
                    self.assignment(&name, shape)
                );
            }
        }
        out + "\n"
    }

    /// `v = ..;`, `v += ..;`, `v -= ..;`, `v *= ..;` or `v /= ..;` inside a branch.
    fn assignment(&mut self, name: &str, shape: Shape) -> String {
        let roll = self.below(5);
        if roll > 0 {
            self.constructs
                .insert("compound assignment (+=, -=, *=, /=)");
        }
        let line = match roll {
            0 => format!("{name} = {}", self.value(shape, 2)),
            1 => format!("{name} += {}", self.expr(shape, 2)),
            2 => format!("{name} -= {}", self.expr(shape, 2)),
            3 => format!("{name} *= {}", recv(self.scalar(1)) + ".tanh()"),
            _ => format!("{name} /= {}", self.positive(1)),
        };
        format!("        {line};\n")
    }

    /// `let v: f64 = x.iter().map(|&t| ..).sum::<f64>();` and other iterator chains.
    fn chain_let(&mut self, n: usize) -> String {
        let chain = self.chain();
        let name = format!("v{n}");
        self.vars.push((name.clone(), Shape::Scalar));
        self.results.push((n, name.clone(), Shape::Scalar));
        format!("    let {name}: f64 = {chain};\n")
    }

    /// An iterator chain giving a scalar, whose closures read the values in scope.
    fn chain(&mut self) -> String {
        self.nesting += 1;
        let sources = self.iterables();
        let f = self.fresh();
        let (t, u, acc) = (format!("t{f}"), format!("u{f}"), format!("acc{f}"));
        let chain = match (self.below(8), sources.is_empty()) {
            (0 | 1, false) => {
                self.constructs.insert("iterator .map(..).sum()");
                let (x, len) = self.source(&sources);
                let body = self.with_scalars(&[&t], |g| typed(g.scalar(2)));
                mean(format!("{x}.iter().map(|&{t}| {body}).sum::<f64>()"), len)
            }
            (2, false) => {
                self.constructs.insert("iterator .zip(..)");
                let (x, len) = self.source(&sources);
                let (other, len) = if len >= 2 && self.chance(0.5) {
                    self.constructs.insert("iterator .skip(k)");
                    (format!("{x}.iter().skip(1)"), len - 1)
                } else {
                    let (y, other) = self.source(&sources);
                    (format!("{y}.iter()"), len.min(other))
                };
                let body = self.with_scalars(&[&t, &u], |g| typed(g.scalar(2)));
                mean(
                    format!("{x}.iter().zip({other}).map(|(&{t}, &{u})| {body}).sum::<f64>()"),
                    len,
                )
            }
            (3, false) => {
                self.constructs.insert("iterator .enumerate()");
                let (x, len) = self.source(&sources);
                let body = self.with_index(len, |g, k| {
                    let body = g.with_scalars(&[&t], |g| typed(g.scalar(2)));
                    format!("|({k}, &{t})| {body}")
                });
                mean(
                    format!("{x}.iter().enumerate().map({body}).sum::<f64>()"),
                    len,
                )
            }
            (4 | 5, false) => {
                self.constructs.insert("iterator .fold(init, |acc, t| ..)");
                let (x, len) = self.source(&sources);
                let (adapter, len) = match self.below(6) {
                    0 => (".rev()".to_owned(), len),
                    1 if len >= 2 => (".skip(1)".to_owned(), len - 1),
                    2 if len >= 2 => (".step_by(2)".to_owned(), len.div_ceil(2)),
                    3 if len >= 3 => (".take(2)".to_owned(), 2),
                    _ => (String::new(), len),
                };
                let init = if self.chance(0.5) {
                    "0.0_f64".to_owned()
                } else {
                    typed(self.scalar(1))
                };
                let c = coefficient(len);
                let update = self.with_scalars(&[&acc, &t], |g| {
                    let term = g.scalar(2);
                    match g.below(3) {
                        0 => format!("{acc} * 0.5 + {term} * {c}"),
                        1 => format!("({acc} + {term} * {c}).tanh()"),
                        _ => format!("{acc} + {term} * {c}"),
                    }
                });
                format!("{x}.iter(){adapter}.fold({init}, |{acc}, &{t}| {update})")
            }
            _ => {
                self.constructs.insert("range (0..n).map(|i| ..).sum()");
                let trip = self.trip();
                let body = self.with_index(trip, |g, k| {
                    let body = typed(g.scalar(2));
                    format!("|{k}| {body}")
                });
                mean(format!("(0..{trip}).map({body}).sum::<f64>()"), trip)
            }
        };
        self.nesting -= 1;
        chain
    }

    /// A variable to iterate over, with its number of entries.
    fn source(&mut self, sources: &[(String, usize, usize)]) -> (String, usize) {
        // Favour long vectors: they make the loops that are not unrolled.
        let long: Vec<&(String, usize, usize)> = sources.iter().filter(|s| s.1 > 4).collect();
        let (name, r, c) = if !long.is_empty() && self.chance(0.5) {
            long[self.below(long.len())].clone()
        } else {
            sources[self.below(sources.len())].clone()
        };
        if r * c > 64 {
            self.constructs.insert("iterator over more than 64 entries");
        }
        (name, r * c)
    }

    /// `let c = |t: f64| ..;`, called later.
    fn closure_let(&mut self, n: usize) -> String {
        self.constructs.insert("let-bound closure");
        let name = format!("c{n}");
        let t = format!("t{}", self.fresh());
        let saved = (self.capture_mutable, std::mem::take(&mut self.indices));
        self.capture_mutable = false;
        let body = self.with_scalars(&[&t], |g| typed(g.scalar(2)));
        (self.capture_mutable, self.indices) = saved;
        self.closures.push(name.clone());
        format!("    let {name} = |{t}: f64| {body};\n")
    }

    /// `let (v, w) = (a, b);`
    fn tuple_let(&mut self, n: usize) -> String {
        self.constructs.insert("tuple let");
        let shapes: Vec<Shape> = (0..2)
            .map(|_| {
                if self.chance(0.6) {
                    Shape::Scalar
                } else {
                    let (r, c) = self.mat_shape();
                    Shape::Mat(r, c)
                }
            })
            .collect();
        let a = self.value(shapes[0], 2);
        let b = self.value(shapes[1], 2);
        let (v, w) = (format!("v{n}"), format!("w{n}"));
        self.vars.push((v.clone(), shapes[0]));
        self.vars.push((w.clone(), shapes[1]));
        format!("    let ({v}, {w}) = ({a}, {b});\n")
    }
}

/// A sum over more than a few items as a mean, so that it stays of moderate size.
fn mean(sum: String, len: usize) -> String {
    if len > 8 {
        format!("{sum} / {len}.0")
    } else {
        sum
    }
}
