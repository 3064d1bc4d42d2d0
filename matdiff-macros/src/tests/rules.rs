//! The rule table, op by op: for `y = op(x_1, .., x_k)` on random inputs,
//!
//! * the tangent rule against central finite differences of the primal, for every non-empty
//!   subset of seeded arguments (the rules have a branch per symbolic zero);
//! * the dot-product test `<J[dx], ȳ> = Σ_i <dx_i, J_iᵀ[ȳ]>` of the tangent/adjoint pair;
//! * the tangent of each adjoint against finite differences of the adjoint: the
//!   Hessian-vector product applies the tangent rules to the nodes the adjoint rules build;
//! * closure: every op a rule builds is in `Op::all()`, so it has rules of its own.
//!
//! `instances` matches on `Op` exhaustively, so a new op does not compile without a case.
//! The ops that only appear in gradient programs (`CallVjp`, `Field`) have a tangent rule
//! only, and `CallTangent` none: their missing rules must report an internal error.

use super::interp::{eval_in, Env, Value};
use super::support::{
    assert_close, assert_scalar_close, differentiate, param, sp, Differentiated, Domain, Rng,
    FD_STEP,
};
use crate::build::Build;
use crate::ir::{Callee, Dim, Elem, Graph, Id, Ty};
use crate::ops::{Fun, Op, Solver};
use crate::{forward, reverse, rules};
use std::mem::{discriminant, Discriminant};
use std::panic::{catch_unwind, AssertUnwindSafe};
use syn::parse_quote;

/// Which of an op's rules exist.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rules {
    /// Tangent and adjoint.
    Both,
    /// A tangent rule only: the op appears only in gradient programs, which only the forward
    /// transform walks; its adjoint would be a third derivative.
    TangentOnly,
    /// Neither (`CallTangent`: any derivative of it is a third derivative).
    Neither,
}

/// One concrete use of an op: argument types, the result type for ops whose type is given
/// rather than inferred, where the inputs and their directions are drawn from, and for
/// `Map` the closure body (registered as scalar function 0).
#[derive(Debug)]
struct Instance {
    op: Op,
    args: Vec<Ty>,
    given: Option<Ty>,
    domain: Domain,
    directions: Domain,
    body: Option<fn(&mut Graph, Id) -> Id>,
    /// Register [`callee`] as the graph's callee 0.
    calls: bool,
    rules: Rules,
}

fn inst(op: Op, args: &[Ty]) -> Instance {
    Instance {
        op,
        args: args.to_vec(),
        given: None,
        domain: Domain::Any,
        directions: Domain::Any,
        body: None,
        calls: false,
        rules: Rules::Both,
    }
}

fn calling(op: Op, args: &[Ty], rules: Rules) -> Instance {
    Instance {
        calls: true,
        rules,
        ..inst(op, args)
    }
}

/// The differentiated function the call instances call, as callee 0 (`inner`).
fn callee() -> Differentiated {
    differentiate(
        &parse_quote! {
            fn inner(x: &SVector<f64, 3>, s: f64) -> f64 {
                s * x.norm_squared() + x[0].sin() * s.exp() + x.dot(&x).sqrt()
            }
        },
        quote::quote!(wrt = x),
    )
}

fn on(domain: Domain, op: Op, args: &[Ty]) -> Instance {
    Instance {
        domain,
        ..inst(op, args)
    }
}

/// An op of symmetric matrices: inputs with separated eigenvalues, symmetric directions
/// (nalgebra's `symmetric_eigen` reads one triangle, so only those directions are meaningful).
fn symmetric(op: Op, args: &[Ty]) -> Instance {
    Instance {
        domain: Domain::SeparatedSymmetric,
        directions: Domain::Symmetric,
        ..inst(op, args)
    }
}

fn mapped(body: fn(&mut Graph, Id) -> Id) -> Instance {
    Instance {
        body: Some(body),
        ..inst(Op::Map(0), &[Ty::mat(2, 3)])
    }
}

/// `t sin t + exp t`.
fn body_sin_exp(g: &mut Graph, t: Id) -> Id {
    let sin = g.add(Op::Fun(Fun::Sin), &[t], sp());
    let product = g.add(Op::Mul, &[t, sin], sp());
    let exp = g.add(Op::Fun(Fun::Exp), &[t], sp());
    g.add(Op::Add, &[product, exp], sp())
}

/// `ln(t² + 1) / 2`.
fn body_log(g: &mut Graph, t: Id) -> Id {
    let square = g.add(Op::Fun(Fun::Powi(2)), &[t], sp());
    let one = g.lit(1.0, sp());
    let sum = g.add(Op::Add, &[square, one], sp());
    let log = g.add(Op::Fun(Fun::Ln), &[sum], sp());
    let half = g.lit(0.5, sp());
    g.add(Op::Mul, &[half, log], sp())
}

/// `2 t + 1`: linear, so its second derivative is zero.
fn body_affine(g: &mut Graph, t: Id) -> Id {
    let two = g.lit(2.0, sp());
    let scaled = g.add(Op::Mul, &[two, t], sp());
    let one = g.lit(1.0, sp());
    g.add(Op::Add, &[scaled, one], sp())
}

fn typed(op: Op, args: &[Ty], ty: Ty) -> Instance {
    Instance {
        given: Some(ty),
        ..inst(op, args)
    }
}

fn within(domain: Domain, op: Op) -> Instance {
    Instance {
        domain,
        ..inst(op, &[Ty::Scalar])
    }
}

/// The instances that exercise `op`'s rules; empty for a leaf, which has none.
fn instances(op: &Op) -> Vec<Instance> {
    let s = Ty::Scalar;
    let m = Ty::mat;
    match op {
        Op::Param(_) | Op::Lit(_) | Op::IntConst(_) | Op::FloatConst(_) | Op::Identity => {
            Vec::new()
        }
        Op::Fill => vec![
            typed(Op::Fill, &[Ty::Scalar], m(2, 3)),
            typed(Op::Fill, &[s], m(3, 1)),
        ],
        Op::Assemble => vec![
            typed(Op::Assemble, &[s.clone(), s.clone(), s.clone()], m(3, 1)),
            typed(
                Op::Assemble,
                &[s.clone(), s.clone(), s.clone(), s.clone()],
                m(2, 2),
            ),
        ],
        Op::Embed(..) => vec![
            typed(Op::Embed(0, 0), &[Ty::Scalar], m(2, 3)),
            typed(Op::Embed(1, 2), &[s], m(3, 4)),
        ],
        Op::Neg => vec![inst(Op::Neg, &[m(2, 3)]), inst(Op::Neg, &[s])],
        Op::Add | Op::Sub => vec![
            inst(op.clone(), &[m(2, 3), m(2, 3)]),
            inst(op.clone(), &[s.clone(), s]),
        ],
        Op::Mul => vec![inst(Op::Mul, &[s.clone(), s])],
        Op::Scale => vec![
            inst(Op::Scale, &[s.clone(), m(2, 3)]),
            inst(Op::Scale, &[s, m(3, 1)]),
        ],
        Op::MatMul => vec![
            inst(Op::MatMul, &[m(2, 3), m(3, 4)]),
            inst(Op::MatMul, &[m(1, 3), m(3, 1)]),
            inst(Op::MatMul, &[m(3, 1), m(1, 2)]),
        ],
        Op::TrMul => vec![
            inst(Op::TrMul, &[m(3, 2), m(3, 4)]),
            inst(Op::TrMul, &[m(3, 1), m(3, 1)]),
        ],
        Op::Transpose => vec![inst(Op::Transpose, &[m(2, 3)])],
        Op::Trace => vec![inst(Op::Trace, &[m(3, 3)])],
        Op::Dot | Op::ComponentMul => vec![
            inst(op.clone(), &[m(2, 3), m(2, 3)]),
            inst(op.clone(), &[m(3, 1), m(3, 1)]),
        ],
        Op::Sum | Op::NormSquared | Op::Norm => {
            vec![inst(op.clone(), &[m(2, 3)]), inst(op.clone(), &[m(1, 1)])]
        }
        // Entries of one sign in [0.5, 1.5]: far from the origin, where it is undefined.
        Op::Normalize => vec![
            on(Domain::NonZero, Op::Normalize, &[m(3, 1)]),
            on(Domain::NonZero, Op::Normalize, &[m(2, 3)]),
        ],
        Op::Index(..) => vec![
            inst(Op::Index(0, 0), &[m(2, 3)]),
            inst(Op::Index(1, 2), &[m(3, 4)]),
            inst(Op::Index(2, 0), &[m(3, 1)]),
        ],
        Op::Fun(fun) => match fun {
            Fun::Exp
            | Fun::Sin
            | Fun::Cos
            | Fun::Tan
            | Fun::Tanh
            | Fun::ExpM1
            | Fun::Atan
            | Fun::Sinh
            | Fun::Cosh => vec![within(Domain::Any, op.clone())],
            Fun::Ln | Fun::Sqrt | Fun::Log10 | Fun::Log2 => {
                vec![within(Domain::Positive, op.clone())]
            }
            // Inside (−1, 1), away from the poles of the derivatives at ±1 (−1 for `ln_1p`).
            Fun::Asin | Fun::Acos | Fun::Ln1p => vec![within(Domain::Interior, op.clone())],
            // Away from the pole of the derivative at 0, on both sides.
            Fun::Cbrt => vec![within(Domain::NonZero, op.clone())],
            Fun::LnOrZero => vec![within(Domain::Positive, op.clone())],
            Fun::Recip | Fun::Abs | Fun::Signum | Fun::Step | Fun::Sign | Fun::RecipOrZero => {
                vec![within(Domain::NonZero, op.clone())]
            }
            // `Powi(1)` and `Powi(0)` are rewritten away when built (see the simplifier tests).
            Fun::Powi(_) => [2, 3, 4, -1, -2]
                .iter()
                .map(|&n| within(Domain::NonZero, Op::Fun(Fun::Powi(n))))
                .collect(),
        },
        Op::Powf => vec![on(Domain::Positive, Op::Powf, &[s.clone(), s])],
        Op::Max | Op::Min | Op::MulAdd => {
            let arity = if op == &Op::MulAdd { 3 } else { 2 };
            vec![inst(op.clone(), &vec![s; arity])]
        }
        // Away from the origin, where `atan2` jumps and `hypot` has a kink, and from `a = 0`,
        // the kink of `copysign`.
        Op::Atan2 | Op::Hypot | Op::CopySign => {
            vec![on(Domain::NonZero, op.clone(), &[s.clone(), s])]
        }
        Op::Map(_) => vec![mapped(body_sin_exp), mapped(body_log), mapped(body_affine)],
        Op::Inverse(_) => vec![
            on(Domain::NearIdentity, op.clone(), &[m(3, 3)]),
            on(Domain::NearIdentity, op.clone(), &[m(1, 1)]),
        ],
        Op::Diagonal => vec![
            inst(Op::Diagonal, &[m(3, 3)]),
            inst(Op::Diagonal, &[m(1, 1)]),
        ],
        Op::FromDiagonal => vec![inst(Op::FromDiagonal, &[m(3, 1)])],
        Op::Triangle(_) => vec![
            inst(op.clone(), &[m(3, 3)]),
            inst(op.clone(), &[m(2, 3)]),
            inst(op.clone(), &[m(3, 2)]),
        ],
        Op::Cofactor => vec![
            on(Domain::NearIdentity, Op::Cofactor, &[m(3, 3)]),
            on(Domain::NearIdentity, Op::Cofactor, &[m(2, 2)]),
        ],
        Op::Det | Op::LogDet => vec![
            on(Domain::NearIdentity, op.clone(), &[m(3, 3)]),
            on(Domain::NearIdentity, op.clone(), &[m(2, 2)]),
        ],
        Op::MaxEntry | Op::MinEntry | Op::ArgMask(_) => {
            vec![inst(op.clone(), &[m(2, 3)]), inst(op.clone(), &[m(3, 1)])]
        }
        Op::SymEigenvalues | Op::SymEigenvectors => vec![
            symmetric(op.clone(), &[m(3, 3)]),
            symmetric(op.clone(), &[m(2, 2)]),
        ],
        Op::EigenGaps => vec![on(Domain::Spread, Op::EigenGaps, &[m(3, 1)])],
        // A vector, a matrix and a square right-hand side.
        Op::Solve(Solver::Lu(_) | Solver::LuTransposed) => vec![
            on(Domain::NearIdentity, op.clone(), &[m(3, 3), m(3, 1)]),
            on(Domain::NearIdentity, op.clone(), &[m(3, 3), m(3, 2)]),
            on(Domain::NearIdentity, op.clone(), &[m(2, 2), m(2, 2)]),
        ],
        // The rules use `S⁻ᵀ = S⁻¹`: symmetric inputs, any directions.
        Op::Solve(Solver::Cholesky) => vec![
            on(Domain::SymmetricPositive, op.clone(), &[m(3, 3), m(3, 1)]),
            on(Domain::SymmetricPositive, op.clone(), &[m(3, 3), m(3, 2)]),
            on(Domain::SymmetricPositive, op.clone(), &[m(2, 2), m(2, 2)]),
        ],
        Op::SingularValues => vec![
            on(Domain::SeparatedSingular, op.clone(), &[m(3, 3)]),
            on(Domain::SeparatedSingular, op.clone(), &[m(2, 2)]),
        ],
        Op::SvdU | Op::SvdV => vec![
            Instance {
                rules: Rules::TangentOnly,
                ..on(Domain::SeparatedSingular, op.clone(), &[m(3, 3)])
            },
            Instance {
                rules: Rules::TangentOnly,
                ..on(Domain::SeparatedSingular, op.clone(), &[m(2, 2)])
            },
        ],
        Op::QrQ | Op::QrR => vec![
            on(Domain::NearIdentity, op.clone(), &[m(3, 3)]),
            on(Domain::NearIdentity, op.clone(), &[m(4, 2)]),
            on(Domain::NearIdentity, op.clone(), &[m(3, 1)]),
        ],
        Op::SymFromLower | Op::FoldLower | Op::LowerHalved | Op::StrictLower => {
            vec![inst(op.clone(), &[m(3, 3)]), inst(op.clone(), &[m(1, 1)])]
        }
        Op::Cholesky(_) => vec![
            on(Domain::SymmetricPositive, op.clone(), &[m(3, 3)]),
            on(Domain::SymmetricPositive, op.clone(), &[m(2, 2)]),
            on(Domain::SymmetricPositive, op.clone(), &[m(1, 1)]),
        ],
        Op::Call(_) => vec![calling(Op::Call(0), &[m(3, 1), s], Rules::Both)],
        Op::CallVjp(_) => vec![calling(Op::CallVjp(0), &[m(3, 1), s], Rules::TangentOnly)],
        Op::CallTangent(_) => vec![calling(
            Op::CallTangent(0),
            &[m(3, 1), s.clone(), m(3, 1), s],
            Rules::Neither,
        )],
        // Integers and conditions have no derivatives to check.
        Op::Int(_)
        | Op::SymConst(_)
        | Op::IntBin(_)
        | Op::Cmp(_)
        | Op::Bool(_)
        | Op::Not
        | Op::IntToFloat
        | Op::Assert(_)
        | Op::ConstAt(_)
        | Op::EmptyTape => Vec::new(),
        Op::At => vec![
            inst(Op::At, &[m(2, 3), Ty::Int, Ty::Int]),
            inst(Op::At, &[m(3, 2), Ty::Int, Ty::Int]),
        ],
        Op::SetAt => vec![inst(Op::SetAt, &[m(2, 3), s.clone(), Ty::Int, Ty::Int])],
        Op::Block(..) => vec![
            inst(
                Op::Block(Dim::Lit(1), Dim::Lit(2)),
                &[m(2, 3), Ty::Int, Ty::Int],
            ),
            inst(
                Op::Block(Dim::Lit(2), Dim::Lit(1)),
                &[m(3, 3), Ty::Int, Ty::Int],
            ),
        ],
        Op::SetBlock => vec![inst(Op::SetBlock, &[m(2, 3), m(1, 2), Ty::Int, Ty::Int])],
        Op::AddAt => vec![inst(Op::AddAt, &[m(2, 3), s.clone(), Ty::Int, Ty::Int])],
        Op::AddBlock => vec![inst(Op::AddBlock, &[m(2, 3), m(1, 2), Ty::Int, Ty::Int])],
        Op::Load => vec![Instance {
            rules: Rules::TangentOnly,
            ..inst(
                Op::Load,
                &[
                    Ty::Array(Box::new(m(2, 1)), crate::ir::SymInt::Lit(3)),
                    Ty::Int,
                ],
            )
        }],
        // Loops and branches own regions: their rules are checked on whole programs in
        // `tests/regions.rs`.
        Op::Loop(_) | Op::Cond(_) => Vec::new(),
        Op::Field(_) => {
            let tuple = Ty::Tuple(vec![Ty::Scalar, m(3, 1), m(2, 2)]);
            (0..3)
                .map(|i| Instance {
                    rules: Rules::TangentOnly,
                    ..inst(Op::Field(i), std::slice::from_ref(&tuple))
                })
                .collect()
        }
    }
}

type Kind = (Discriminant<Op>, Option<Discriminant<Fun>>);

/// An op's variant, with the function's variant for `Fun` (`Powi(n)` is one kind for all n).
fn kind(op: &Op) -> Kind {
    match op {
        Op::Fun(fun) => (discriminant(op), Some(discriminant(fun))),
        _ => (discriminant(op), None),
    }
}

/// `Op::all()` lists every variant (the compiler checks that); each example is of its line.
#[test]
fn op_examples_are_of_their_variants() {
    assert!(Op::examples_match_their_patterns());
}

/// Every node of `g`, and of the closure bodies it holds, is of an op in `Op::all()`.
fn assert_closed(g: &Graph, what: &str) {
    let known: Vec<Kind> = Op::all().iter().map(kind).collect();
    for id in g.ids() {
        let op = g.op(id);
        assert!(
            known.contains(&kind(op)),
            "{what}: a rule built {op:?}, which is not in Op::all()"
        );
    }
    for body in &g.bodies {
        assert_closed(body, what);
    }
}

/// The graph of one instance, with its inputs, their directions and `ȳ` as parameters.
struct Setup {
    g: Graph,
    xs: Vec<Id>,
    dxs: Vec<Id>,
    y: Id,
    ybar: Id,
}

fn setup(inst: &Instance) -> Setup {
    let mut g = Graph::new(Elem::F64);
    if inst.calls {
        let callee = Callee {
            path: parse_quote!(inner),
            by_ref: vec![true, false],
            scalar_args: vec![false, true],
            int_args: vec![false, false],
            output: Ty::Scalar,
        };
        assert_eq!(g.add_callee(callee), 0);
    }
    if let Some(build) = inst.body {
        let mut body = Graph::new(Elem::F64);
        let t = param(&mut body, 0, &Ty::Scalar);
        let output = build(&mut body, t);
        assert_eq!(g.add_scalar_fn(body, output), 0);
    }
    let n = inst.args.len();
    let xs: Vec<Id> = (0..n).map(|k| param(&mut g, k, &inst.args[k])).collect();
    let y = match &inst.given {
        Some(ty) => g.add_typed(inst.op.clone(), &xs, ty.clone(), sp()),
        None => g
            .try_add(inst.op.clone(), &xs, sp())
            .unwrap_or_else(|e| panic!("{inst:?}: bad test shapes: {e}")),
    };
    assert_eq!(g.op(y), &inst.op, "{inst:?}: y was rewritten when built");
    let dxs: Vec<Id> = (0..n)
        .map(|k| param(&mut g, n + k, &inst.args[k]))
        .collect();
    let y_ty = g.ty(y).clone();
    let ybar = param(&mut g, 2 * n, &y_ty);
    Setup {
        g,
        xs,
        dxs,
        y,
        ybar,
    }
}

/// `[x.., dx.., ȳ]`, with `x` drawn from the instance's domain.
fn random_params(inst: &Instance, rng: &mut Rng, y_ty: &Ty) -> Vec<Value> {
    let mut params: Vec<Value> = inst
        .args
        .iter()
        .map(|ty| rng.value(ty, inst.domain))
        .collect();
    for ty in &inst.args {
        params.push(rng.value(ty, inst.directions));
    }
    params.push(rng.value(y_ty, Domain::Any));
    params
}

/// `params` with each `x_i` moved by `t · dx_i` for the `i` in `mask`.
fn shifted(params: &[Value], n: usize, mask: u32, t: f64) -> Vec<Value> {
    let mut out = params.to_vec();
    for i in (0..n).filter(|i| mask & (1 << i) != 0) {
        out[i] = params[i].axpy(t, &params[n + i]);
    }
    out
}

/// A graph with the functions it calls, evaluated at given parameters.
struct At<'a> {
    env: &'a Env<'a>,
    g: &'a Graph,
}

impl At<'_> {
    fn eval(&self, node: Id, params: &[Value]) -> Value {
        eval_in(self.env, self.g, params, &[node]).remove(0)
    }

    fn value_or_zero(&self, node: Option<Id>, ty: &Ty, params: &[Value]) -> Value {
        node.map_or_else(|| Value::zero(ty), |id| self.eval(id, params))
    }

    /// Central difference of `node` along the masked directions.
    fn central_difference(&self, node: Id, params: &[Value], n: usize, mask: u32) -> Value {
        let plus = self.eval(node, &shifted(params, n, mask, FD_STEP));
        let minus = self.eval(node, &shifted(params, n, mask, -FD_STEP));
        plus.axpy(-1.0, &minus).scaled(0.5 / FD_STEP)
    }
}

/// The rules an op does not have must say so with an internal error, never build a node.
fn check_missing_rules(inst: &Instance) {
    let Setup {
        mut g,
        xs,
        dxs,
        y,
        ybar,
    } = setup(inst);
    if inst.rules == Rules::Neither {
        let d: Vec<Option<Id>> = dxs.iter().copied().map(Some).collect();
        let before = g.len();
        assert_eq!(
            rules::jvp(&mut g, &inst.op, y, &xs, &d),
            None,
            "{inst:?}: tangent"
        );
        assert_eq!(
            g.len(),
            before,
            "{inst:?}: a missing tangent rule built nodes"
        );
        assert!(
            !g.internal_errors.is_empty(),
            "{inst:?}: no internal error for the tangent"
        );
        g.internal_errors.clear();
    }
    for i in 0..xs.len() {
        assert_eq!(
            reverse::contribution(&mut g, &inst.op, y, &xs, ybar, i),
            None,
            "{inst:?}: adjoint {i}"
        );
        assert!(
            !g.internal_errors.is_empty(),
            "{inst:?}: no internal error for adjoint {i}"
        );
        g.internal_errors.clear();
    }
}

fn check_instance(env: &Env, inst: &Instance, rng: &mut Rng) {
    if inst.rules != Rules::Both {
        check_missing_rules(inst);
    }
    if inst.rules == Rules::Neither {
        return;
    }
    let Setup {
        mut g,
        xs,
        dxs,
        y,
        ybar,
    } = setup(inst);
    let n = xs.len();
    let y_ty = g.ty(y).clone();
    let upto = y.index() + 1;
    let all = (1u32 << n) - 1;

    // Tangents for every non-empty subset of seeded arguments.
    let tangent_of = |g: &mut Graph, mask: u32| {
        let seeds: Vec<(Id, Id)> = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| (xs[i], dxs[i]))
            .collect();
        let tangent = forward::tangents(g, &seeds, upto)[y.index()];
        if let Some(t) = tangent {
            assert_eq!(g.ty(t), &y_ty, "{inst:?}: tangent has the wrong type");
        }
        tangent
    };
    let tangents: Vec<Option<Id>> = (1..=all).map(|mask| tangent_of(&mut g, mask)).collect();
    let with_adjoints = inst.rules == Rules::Both;
    let adjoints: Vec<Option<Id>> = (0..n)
        .filter(|_| with_adjoints)
        .map(|i| {
            let bar = reverse::contribution(&mut g, &inst.op, y, &xs, ybar, i);
            if let Some(b) = bar {
                assert_eq!(
                    g.ty(b),
                    g.ty(xs[i]),
                    "{inst:?}: adjoint {i} has the wrong type"
                );
            }
            bar
        })
        .collect();
    // The tangents of the adjoints, as forward-over-reverse builds them (ops with a tangent
    // rule only are never transformed twice, so they skip this).
    let adjoint_seeds: Vec<(Id, Id)> = xs.iter().copied().zip(dxs.iter().copied()).collect();
    let len = g.len();
    let adjoint_tangent = if with_adjoints {
        forward::tangents(&mut g, &adjoint_seeds, len)
    } else {
        Vec::new()
    };
    assert!(
        g.internal_errors.is_empty(),
        "{inst:?}: a rule built an ill-shaped node: {:?}",
        g.internal_errors
    );
    assert_closed(&g, &format!("{inst:?}"));

    let at = At { env, g: &g };
    for trial in 0..3 {
        let params = random_params(inst, rng, &y_ty);
        let what = |check: &str| format!("{inst:?}, trial {trial}: {check}");

        // a. Tangent against finite differences.
        for mask in 1..=all {
            let tangent = at.value_or_zero(tangents[mask as usize - 1], &y_ty, &params);
            let fd = at.central_difference(y, &params, n, mask);
            assert_close(
                &tangent,
                &fd,
                1e-6,
                &what(&format!("tangent, seeds {mask:b}")),
            );
        }

        if !with_adjoints {
            continue;
        }

        // b. Dot-product test.
        let tangent = at.value_or_zero(tangents[all as usize - 1], &y_ty, &params);
        let lhs = tangent.inner(&params[2 * n]);
        let mut rhs = 0.0;
        let mut scale = lhs.abs();
        for i in 0..n {
            let bar = at.value_or_zero(adjoints[i], &inst.args[i], &params);
            let term = params[n + i].inner(&bar);
            rhs += term;
            scale += term.abs();
        }
        assert_scalar_close(lhs, rhs, 1e-10, scale, &what("<J dx, ȳ> = <dx, Jᵀ ȳ>"));

        // d. Tangent of each adjoint against finite differences of the adjoint.
        for (i, bar) in adjoints.iter().enumerate() {
            let Some(bar) = *bar else { continue };
            let tangent = at.value_or_zero(adjoint_tangent[bar.index()], &inst.args[i], &params);
            let fd = at.central_difference(bar, &params, n, all);
            assert_close(
                &tangent,
                &fd,
                1e-6,
                &what(&format!("tangent of adjoint {i}")),
            );
        }
    }
}

#[test]
fn every_op_has_a_case() {
    for op in Op::all() {
        // Leaves, integers and conditions have no derivative; loops and branches are
        // checked on whole programs (`tests/regions.rs`).
        let exempt = matches!(
            op,
            Op::Param(_)
                | Op::Lit(_)
                | Op::IntConst(_)
                | Op::FloatConst(_)
                | Op::Identity
                | Op::Int(_)
                | Op::SymConst(_)
                | Op::IntBin(_)
                | Op::Cmp(_)
                | Op::Bool(_)
                | Op::Not
                | Op::IntToFloat
                | Op::Assert(_)
                | Op::ConstAt(_)
                | Op::EmptyTape
                | Op::Loop(_)
                | Op::Cond(_)
        );
        assert_eq!(
            instances(&op).is_empty(),
            exempt,
            "{op:?}: only leaves, integer and condition ops, loops and branches may go without \
             a rule test here"
        );
    }
}

#[test]
fn rules_agree_with_finite_differences_and_each_other() {
    let inner = callee();
    let env = Env {
        callees: [("inner".to_owned(), &inner.program)].into(),
    };
    // Every instance is checked, and all failures are listed at the end.
    let mut failed = Vec::new();
    for op in Op::all() {
        for inst in instances(&op) {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                check_instance(&env, &inst, &mut Rng::new(0x00D1_FF00));
            }));
            if let Err(cause) = outcome {
                let message = cause
                    .downcast_ref::<String>()
                    .map_or("(see above)", String::as_str)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                failed.push(message);
            }
        }
    }
    assert!(failed.is_empty(), "failing rules:\n{}", failed.join("\n"));
}

#[test]
fn leaves_have_zero_tangents() {
    for op in Op::all() {
        if !instances(&op).is_empty() {
            continue;
        }
        let mut g = Graph::new(Elem::F64);
        let ty = match op {
            Op::Lit(_) | Op::IntConst(_) | Op::FloatConst(_) => Ty::Scalar,
            _ => Ty::mat(3, 3),
        };
        let leaf = g.add_typed(op.clone(), &[], ty, sp());
        let before = g.len();
        assert_eq!(rules::jvp(&mut g, &op, leaf, &[], &[]), None, "{op:?}");
        assert_eq!(
            g.len(),
            before,
            "{op:?}: the tangent rule of a leaf built nodes"
        );
        assert_closed(&g, &format!("{op:?}"));
    }
}
