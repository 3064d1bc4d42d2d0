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
//! `RowSVector` or as nalgebra's aliases, by reference or by value), one or two of them `wrt`;
//! `let` chains; `+ - * /`, transposes, traces, dots, sums, norms, `component_mul`, indexing,
//! explicitly sized identities, scalar functions, `.map` closures, inverses, determinants and
//! log-determinants of well-conditioned matrices. Points near a singularity (an argument of
//! `ln`, `sqrt`, `1/x` or `.norm()` close to 0, a near-singular matrix, huge intermediate
//! values) are resampled closer to 0. A finite difference that disagrees is retried with
//! Richardson extrapolation at several steps before it counts as a failure.
//!
//! The default seed keeps CI reproducible; `MATDIFF_RANDOM_SEED=<n>` explores another
//! sequence. A failure prints the program, its `wrt`, the seed of its points and the checks
//! that failed; `check_source(source, wrt, point_seed)` reproduces it.

use super::interp::{dims, eval, Env, Value};
use super::support::{differentiate, Differentiated, Outputs, Point, Rng, FD_STEP};
use crate::ir::{Id, Ty};
use crate::ops::{Fun, Op};
use nalgebra::DMatrix;
use proc_macro2::TokenStream;
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
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
/// ... or an entry `.map` applies a closure to exceeds this (the closure's own intermediate
/// values are not checked: `sin(t³)` oscillates too fast for finite differences at large `t`).
const MAX_MAP_ARGUMENT: f64 = 10.0;
/// Attempts at a point before the program is skipped; the inputs shrink every other one.
const ATTEMPTS: usize = 8;

#[test]
fn random_programs_have_consistent_derivatives() {
    let seed = std::env::var("MATDIFF_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut failures = Vec::new();
    let (mut points, mut skipped, mut nonlinear) = (0, 0, 0);
    let mut ops: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..PROGRAMS {
        let program_seed =
            Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)).next_u64();
        let mut rng = Rng::new(program_seed);
        let program = generate(&mut rng);
        let point_seed = rng.next_u64();
        let report = check_source(&program.source, &program.wrt, point_seed);
        points += report.points;
        skipped += report.skipped;
        nonlinear += usize::from(report.nonlinear);
        for op in report.ops {
            *ops.entry(op).or_default() += 1;
        }
        if !report.failures.is_empty() {
            failures.push(format!(
                "program {i} (MATDIFF_RANDOM_SEED={seed}), point seed {point_seed}:\n\
                 #[differentiate({})]\n{}\n  {}",
                program.wrt,
                program.source,
                report.failures.join("\n  ")
            ));
        }
    }
    let ops: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
    eprintln!(
        "random programs (seed {seed}): {PROGRAMS} programs ({nonlinear} with a nonzero \
         Hessian), {points} points checked, {skipped} points skipped near singularities; \
         programs using each op: {}",
        ops.join(", ")
    );
    assert!(
        skipped * 10 <= PROGRAMS * POINTS,
        "too many points skipped ({skipped}): the generator drifted towards singular programs"
    );
    assert!(
        failures.is_empty(),
        "{} of {PROGRAMS} random programs failed a check:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// What checking one program found.
struct Report {
    points: usize,
    skipped: usize,
    failures: Vec<String>,
    /// The ops of the differentiated program (value and derivatives), by name.
    ops: BTreeSet<String>,
    /// Whether some Hessian-vector product is not a symbolic zero.
    nonlinear: bool,
}

/// Every check on `source` differentiated with `wrt` (`"wrt = x"`), at [`POINTS`] points drawn
/// from `point_seed`.
fn check_source(source: &str, wrt: &str, point_seed: u64) -> Report {
    let mut report = Report {
        points: 0,
        skipped: 0,
        failures: Vec::new(),
        ops: BTreeSet::new(),
        nonlinear: false,
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
        let Some(p) = harness.tame_point(&mut rng) else {
            report.skipped += 1;
            continue;
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

    /// A random point where the program is far from its singularities; inputs shrink towards
    /// 0 as attempts fail. `None` after [`ATTEMPTS`] attempts.
    fn tame_point(&self, rng: &mut Rng) -> Option<Point> {
        let params = &self.f.params;
        let mut scale = 1.0;
        for attempt in 0..ATTEMPTS {
            if attempt % 2 == 1 {
                scale *= 0.5;
            }
            let x: Vec<Value> = params.iter().map(|ty| random(rng, ty, scale)).collect();
            let v = params.iter().map(|ty| random(rng, ty, 1.0)).collect();
            let w = params.iter().map(|ty| random(rng, ty, 1.0)).collect();
            if self.is_tame(&x) {
                return Some(Point { x, v, w });
            }
        }
        None
    }

    /// Whether every value the program computes at `x` is moderate and every argument of a
    /// function with a singularity is away from it.
    fn is_tame(&self, x: &[Value]) -> bool {
        let g = &self.f.program.graph;
        let live = g.reachable([self.f.program.value]);
        let ids: Vec<Id> = g.ids().filter(|id| live[id.index()]).collect();
        let values = match catch_unwind(AssertUnwindSafe(|| eval(g, x, &ids))) {
            Ok(values) => values,
            // Overflow made an inverted matrix singular: too far out.
            Err(panic) if panic_message(&*panic).contains("singular") => return false,
            // Another panic (an ill-typed node) is reported by the checks that follow.
            Err(_) => return true,
        };
        let mut by_id: Vec<Option<&Value>> = vec![None; g.len()];
        for (id, value) in ids.iter().zip(&values) {
            by_id[id.index()] = Some(value);
        }
        ids.iter().zip(&values).all(|(&id, value)| {
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
        })
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
    if !m.is_square() {
        return 0.0;
    }
    m.clone().singular_values().min()
}

// ---------------------------------------------------------------------------------------------
// A reference: the generated source evaluated from its syntax, with nalgebra.

type Scope = HashMap<String, Value>;

/// `func` at the parameter values `x`, evaluated directly from its syntax (the grammar of
/// [`generate`]), independently of lowering and rewriting.
fn reference_value(func: &ItemFn, x: &[Value]) -> Result<f64, String> {
    let mut scope = Scope::new();
    for (input, value) in func.sig.inputs.iter().zip(x) {
        let syn::FnArg::Typed(typed) = input else {
            return Err("a receiver parameter".to_owned());
        };
        let syn::Pat::Ident(ident) = &*typed.pat else {
            return Err("a parameter pattern".to_owned());
        };
        scope.insert(ident.ident.to_string(), value.clone());
    }
    for statement in &func.block.stmts {
        match statement {
            syn::Stmt::Local(local) => {
                let (syn::Pat::Ident(ident), Some(init)) = (&local.pat, &local.init) else {
                    return Err("a `let` the generator does not write".to_owned());
                };
                let value = evaluate(&init.expr, &scope)?;
                scope.insert(ident.ident.to_string(), value);
            }
            syn::Stmt::Expr(expr, None) => return Ok(evaluate(expr, &scope)?.scalar()),
            _ => return Err("a statement the generator does not write".to_owned()),
        }
    }
    Err("no tail expression".to_owned())
}

fn evaluate(expr: &syn::Expr, scope: &Scope) -> Result<Value, String> {
    use syn::Expr;
    use Value::{Mat, Scalar};
    let unsupported = || Err(format!("unsupported: {}", expr.to_token_stream()));
    Ok(match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => Scalar(f.base10_parse().map_err(|e| e.to_string())?),
        Expr::Path(path) => {
            let name = path.path.get_ident().map(ToString::to_string);
            match name.and_then(|name| scope.get(&name)) {
                Some(value) => value.clone(),
                None => return unsupported(),
            }
        }
        Expr::Paren(e) => evaluate(&e.expr, scope)?,
        Expr::Reference(e) => evaluate(&e.expr, scope)?,
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => evaluate(expr, scope)?.scaled(-1.0),
        Expr::Binary(b) => {
            let (l, r) = (evaluate(&b.left, scope)?, evaluate(&b.right, scope)?);
            match (&b.op, &l, &r) {
                (syn::BinOp::Add(_), _, _) if l.ty() == r.ty() => l.axpy(1.0, &r),
                (syn::BinOp::Sub(_), _, _) if l.ty() == r.ty() => l.axpy(-1.0, &r),
                (syn::BinOp::Mul(_), Scalar(a), _) => r.scaled(*a),
                (syn::BinOp::Mul(_), _, Scalar(b)) => l.scaled(*b),
                (syn::BinOp::Mul(_), Mat(a), Mat(b)) if a.ncols() == b.nrows() => Mat(a * b),
                (syn::BinOp::Div(_), _, Scalar(b)) => l.scaled(1.0 / b),
                _ => return Err(format!("ill-typed: {}", expr.to_token_stream())),
            }
        }
        Expr::Index(index) => {
            let m = evaluate(&index.expr, scope)?;
            let m = m.mat();
            let usize_of = |e: &Expr| match e {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(i),
                    ..
                }) => i.base10_parse::<usize>().ok(),
                _ => None,
            };
            let entry = match &*index.index {
                Expr::Tuple(t) if t.elems.len() == 2 => usize_of(&t.elems[0])
                    .zip(usize_of(&t.elems[1]))
                    .map(|ij| m[ij]),
                // nalgebra's linear index is column-major.
                linear => usize_of(linear).map(|k| m[k]),
            };
            Scalar(entry.ok_or_else(|| format!("bad index: {}", expr.to_token_stream()))?)
        }
        Expr::Call(call) if call.args.is_empty() => {
            // `SMatrix::<f64, r, c>::identity()`, `Matrix2x3::identity()`, `Matrix3::identity()`
            let Expr::Path(path) = &*call.func else {
                return unsupported();
            };
            let text = path.to_token_stream().to_string();
            let numbers: Vec<usize> = text
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .filter(|&n| n != 64)
                .collect();
            match (text.ends_with("identity"), numbers.as_slice()) {
                (true, &[r, c]) => Mat(DMatrix::identity(r, c)),
                (true, &[n]) => Mat(DMatrix::identity(n, n)),
                _ => return unsupported(),
            }
        }
        Expr::MethodCall(call) => method(call, scope)?,
        _ => return unsupported(),
    })
}

fn method(call: &syn::ExprMethodCall, scope: &Scope) -> Result<Value, String> {
    use Value::{Mat, Scalar};
    let name = call.method.to_string();
    if name == "unwrap" {
        let syn::Expr::MethodCall(inner) = &*call.receiver else {
            return Err("`unwrap` of something else than `try_inverse`".to_owned());
        };
        let m = evaluate(&inner.receiver, scope)?;
        let inverse = m.mat().clone().try_inverse().ok_or("a singular inverse")?;
        return Ok(Mat(inverse));
    }
    let receiver = evaluate(&call.receiver, scope)?;
    let arg = |k: usize| evaluate(&call.args[k], scope);
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
        ("transpose", Mat(m)) => Mat(m.transpose()),
        ("trace", Mat(m)) => Scalar(m.trace()),
        ("dot", Mat(m)) => Scalar(m.dot(arg(0)?.mat())),
        ("component_mul", Mat(m)) => Mat(m.component_mul(arg(0)?.mat())),
        ("sum", Mat(m)) => Scalar(m.sum()),
        ("norm_squared", Mat(m)) => Scalar(m.norm_squared()),
        ("norm", Mat(m)) => Scalar(m.norm()),
        ("determinant", Mat(m)) => Scalar(m.determinant()),
        ("map", Mat(m)) => {
            let mut error = None;
            let mapped = m.map(|t| match apply_closure(&call.args[0], t) {
                Ok(y) => y,
                Err(e) => {
                    error = Some(e);
                    f64::NAN
                }
            });
            if let Some(e) = error {
                return Err(e);
            }
            Mat(mapped)
        }
        ("powi", Scalar(s)) => Scalar(s.powi(int_arg().ok_or("a powi exponent")?)),
        (_, Scalar(s)) => Scalar(scalar_method(&name, *s).ok_or_else(|| format!("`.{name}()`"))?),
        _ => return Err(format!("`.{name}()` of a {}", receiver.ty())),
    })
}

fn scalar_method(name: &str, s: f64) -> Option<f64> {
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

/// A `.map` argument (`|t| body` or `f64::name`) at `t`.
fn apply_closure(f: &syn::Expr, t: f64) -> Result<f64, String> {
    match f {
        syn::Expr::Closure(closure) => {
            let syn::Pat::Ident(argument) = &closure.inputs[0] else {
                return Err("a closure pattern".to_owned());
            };
            let scope = Scope::from([(argument.ident.to_string(), Value::Scalar(t))]);
            Ok(evaluate(&closure.body, &scope)?.scalar())
        }
        syn::Expr::Path(path) => {
            let name = path.path.segments.last().map(|s| s.ident.to_string());
            name.and_then(|name| scalar_method(&name, t))
                .ok_or_else(|| format!("the function {}", path.to_token_stream()))
        }
        other => Err(format!("the map argument {}", other.to_token_stream())),
    }
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// A generated function and its attribute arguments.
struct Program {
    source: String,
    wrt: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
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
}

const LITERALS: &[&str] = &["0.5", "1.5", "2.0", "0.25", "3.0", "0.75", "1.0", "0.0"];

/// A scalar expression as a method receiver: literals need parentheses.
fn recv(s: String) -> String {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("({s})")
    } else {
        s
    }
}

fn generate(rng: &mut Rng) -> Program {
    let mut g = Generator {
        rng,
        dims: Vec::new(),
        vars: Vec::new(),
        spd_vars: Vec::new(),
    };
    g.dims = vec![1 + g.below(4), 1 + g.below(4)];
    let n = 1 + g.below(4);
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
        let by = if g.chance(0.15) { "" } else { "&" };
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
        params.push(format!("p{k}: {ty}"));
        g.vars.push((format!("p{k}"), shape));
    }
    let mut body = String::new();
    for i in 0..g.below(4) {
        if g.chance(0.12) {
            let n = g.square();
            let expr = g.spd(n, 2);
            body += &format!("    let v{i} = {expr};\n");
            g.vars.push((format!("v{i}"), Shape::Mat(n, n)));
            g.spd_vars.push((format!("v{i}"), n));
            continue;
        }
        let shape = if g.chance(0.35) {
            Shape::Scalar
        } else {
            let (r, c) = g.mat_shape();
            Shape::Mat(r, c)
        };
        let depth = 2 + g.below(2);
        let expr = g.expr(shape, depth);
        body += &format!("    let v{i} = {expr};\n");
        g.vars.push((format!("v{i}"), shape));
    }
    let tail = g.scalar(3);
    let last = g
        .vars
        .last()
        .cloned()
        .filter(|(name, _)| name.starts_with('v'));
    let tail = match last {
        Some((name, shape)) if g.chance(0.7) => {
            let reduced = g.reduce(&name, shape);
            let op = if g.chance(0.5) { "+" } else { "*" };
            format!("{reduced} {op} {tail}")
        }
        _ => tail,
    };
    body += &format!("    {tail}\n");

    // `wrt`: parameters the body uses, one or two.
    let used: HashSet<&str> = body
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    let mut candidates: Vec<usize> = (0..n)
        .filter(|k| used.contains(&*format!("p{k}")))
        .collect();
    if candidates.is_empty() {
        candidates = (0..n).collect();
    }
    let first = candidates.remove(g.below(candidates.len()));
    let wrt = if !candidates.is_empty() && g.chance(0.4) {
        let second = candidates[g.below(candidates.len())];
        format!("wrt = (p{first}, p{second})")
    } else {
        format!("wrt = p{first}")
    };
    Program {
        source: format!("fn f({}) -> f64 {{\n{body}}}", params.join(", ")),
        wrt,
    }
}

impl Generator<'_> {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.unit() < p
    }

    /// The `r x c` identity, sized explicitly: `SMatrix::<f64, r, c>::identity()` or an alias.
    fn eye(&mut self, r: usize, c: usize) -> String {
        if !self.chance(0.25) || r == 1 || c == 1 {
            format!("SMatrix::<f64, {r}, {c}>::identity()")
        } else if r == c {
            format!("Matrix{r}::identity()")
        } else {
            format!("Matrix{r}x{c}::identity()")
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

    /// The shapes of the matrix variables in scope.
    fn matrix_shapes(&self) -> Vec<(usize, usize)> {
        self.vars
            .iter()
            .filter_map(|(_, shape)| match shape {
                Shape::Mat(r, c) => Some((*r, *c)),
                Shape::Scalar => None,
            })
            .collect()
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

    /// A variable of `shape`, favouring the latest one.
    fn var_of(&mut self, shape: Shape) -> Option<String> {
        let matching: Vec<usize> = (0..self.vars.len())
            .filter(|&i| self.vars[i].1 == shape)
            .collect();
        let &latest = matching.last()?;
        let i = if self.chance(0.4) {
            latest
        } else {
            matching[self.below(matching.len())]
        };
        Some(self.vars[i].0.clone())
    }

    fn scalar_leaf(&mut self) -> String {
        let roll = self.below(10);
        if roll < 5 {
            if let Some(name) = self.var_of(Shape::Scalar) {
                return name;
            }
        }
        let matrices: Vec<(String, Shape)> = self
            .vars
            .iter()
            .filter(|(_, shape)| *shape != Shape::Scalar)
            .cloned()
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
                // A general determinant now and then (singular points are resampled).
                let n = self.square().min(3);
                let m = if self.chance(0.3) {
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
                format!("(1.0 + {a} * {a}).sqrt()")
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
            .vars
            .iter()
            .filter(|(_, shape)| *shape != Shape::Scalar)
            .cloned()
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

    /// A `.map` argument: a closure with a scalar body, or a path.
    fn closure(&mut self) -> String {
        if self.chance(0.15) {
            return self.pick(&["f64::sin", "f64::tanh", "f64::cos"]);
        }
        format!("|t| {}", self.closure_body(2))
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
                format!("(1.0 + {a} * {a}).ln()")
            }
            6 => {
                let a = self.closure_body(d);
                format!("(1.0 + {a} * {a}).sqrt()")
            }
            7 => {
                let a = self.closure_body(d);
                format!("(1.0 / (1.0 + {a} * {a}))")
            }
            _ => format!("(0.5 * {}).exp()", self.closure_body(d)),
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
}
