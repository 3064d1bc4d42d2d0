//! Loops and branches. Their rules are derived from their bodies (`regions.rs`), so they are
//! checked on whole programs, each lowered twice: with every loop unrolled and with every
//! loop kept an `Op::Loop`.
//!
//! * both forms agree on the value, gradient, Hessian-vector product and what callers use;
//! * both agree with central finite differences (value → gradient → HVP) and the Hessian is
//!   symmetric (the `pipeline` harness);
//! * every loop and branch node, of the function and of its gradient program (the taped
//!   forward loops, the reverse loops, the adjoint branches), passes the dot-product test
//!   `<J v, w> = <v, Jᵀ w>` between its tangent and its adjoint rule.

use super::interp::{eval, Value};
use super::support::{differentiate, Differentiated, Domain, Rng};
use crate::build::Build;
use crate::ir::{Graph, Id, Ty};
use crate::lower::FORCE_UNROLL;
use crate::ops::Op;
use crate::{forward, regions, reverse};
use proc_macro2::TokenStream;
use std::str::FromStr;

/// Functions with loops and branches, with their `wrt`.
const PROGRAMS: &[(&str, &str)] = &[
    // Rosenbrock: a loop carrying a scalar, indexing with `i + 1`.
    (
        "fn f(x: &SVector<f64, 5>) -> f64 {
            let mut s = 0.0;
            for i in 0..x.len() - 1 {
                s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
            }
            s
        }",
        "x",
    ),
    // An MPC rollout: a carried state vector, columns of the input matrix, two `wrt`.
    (
        "fn f(u: &SMatrix<f64, 1, 6>, x0: &SVector<f64, 2>, a: &SMatrix<f64, 2, 2>,
              b: &SMatrix<f64, 2, 1>) -> f64 {
            let mut x = *x0;
            let mut cost = 0.0;
            for k in 0..u.ncols() {
                let uk = u.column(k);
                cost += x.dot(&x) + 0.5 * uk.dot(&uk);
                x = a * x + b * uk;
            }
            cost + x.norm_squared()
        }",
        "(u, x0)",
    ),
    // A Huber loss: a value-dependent branch inside a loop.
    (
        "fn f(x: &SVector<f64, 4>, y: &SVector<f64, 4>) -> f64 {
            let mut total = 0.0;
            for i in 0..4 {
                let r = x[i] - y[i];
                total += if r.abs() <= 0.5 { 0.5 * r * r } else { 0.5 * (r.abs() - 0.25) };
            }
            total
        }",
        "(x, y)",
    ),
    // Nested loops writing entries of a `let mut` matrix.
    (
        "fn f(x: &SVector<f64, 3>) -> f64 {
            let mut m = SMatrix::<f64, 3, 3>::zeros();
            for i in 0..3 {
                for j in 0..3 {
                    m[(i, j)] = x[i] * x[j].sin() + (i as f64) * x[j];
                }
            }
            (m * m).trace()
        }",
        "x",
    ),
    // An iterator chain, a fold with a closure capturing a parameter, `rev` and `step_by`.
    (
        "fn f(x: &SVector<f64, 6>, k: f64) -> f64 {
            let a = x.iter().zip(x.iter().skip(1)).map(|(&p, &q)| p * q.cos()).sum::<f64>();
            let b = x.iter().fold(0.0, |acc, &t| acc * k + t);
            let c = (0..6).rev().step_by(2).map(|i| x[i] * (i as f64)).sum::<f64>();
            a + b * b + c
        }",
        "(x, k)",
    ),
    // Index conditions (run-time ones when the loop is kept), an integer carried by the loop.
    (
        "fn f(x: &SVector<f64, 4>) -> f64 {
            let mut s = 0.0;
            let mut j = 3;
            for i in 0..4 {
                if i % 2 == 0 {
                    s += x[i] * x[j];
                } else {
                    s -= x[i].exp();
                }
                j -= 1;
            }
            s
        }",
        "x",
    ),
    // A branch assigning two variables, and a deferred `let`.
    (
        "fn f(x: f64, y: f64) -> f64 {
            let mut a = x;
            let b;
            if x * y > 0.1 {
                a = a * y;
                b = y.sin();
            } else {
                a = -a;
                b = y * y;
            }
            a * b + a
        }",
        "(x, y)",
    ),
    // `match` on a loop index, `&&` whose right side indexes only when the left holds.
    (
        "fn f(x: &SVector<f64, 5>) -> f64 {
            let mut s = 0.0;
            for i in 0..5 {
                s += match i {
                    0 => x[0] * x[0],
                    1..=2 => x[i].sin(),
                    _ => x[i] * x[i - 1],
                };
                if i > 0 && x[i - 1] > 0.0 {
                    s += x[i] * 0.5;
                }
            }
            s
        }",
        "x",
    ),
];

/// `source` lowered with its loops unrolled (`true`) or kept loops (`false`).
fn lowered(source: &str, wrt: &str, unroll: bool) -> Differentiated {
    let func: syn::ItemFn = syn::parse_str(source).expect("a valid function");
    let wrt = TokenStream::from_str(&format!("wrt = {wrt}")).expect("valid tokens");
    FORCE_UNROLL.with(|f| f.set(Some(unroll)));
    let result = std::panic::catch_unwind(|| differentiate(&func, wrt));
    FORCE_UNROLL.with(|f| f.set(None));
    result.unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn has_loop(g: &Graph) -> bool {
    g.ids().any(|id| matches!(g.op(id), Op::Loop(_)))
}

#[test]
fn loops_agree_with_their_unrolling() {
    for (i, (source, wrt)) in PROGRAMS.iter().enumerate() {
        let unrolled = lowered(source, wrt, true);
        let looped = lowered(source, wrt, false);
        assert!(
            !has_loop(&unrolled.program.graph),
            "program {i} kept a loop"
        );
        let loops_expected = source.contains("for ") || source.contains(".iter()");
        assert_eq!(
            has_loop(&looped.program.graph),
            loops_expected,
            "program {i}: a loop should stay a loop"
        );
        let mut rng = Rng::new(0x5EED + i as u64);
        for _ in 0..3 {
            let x: Vec<Value> = unrolled
                .params
                .iter()
                .map(|ty| rng.value(ty, Domain::Any))
                .collect();
            let v: Vec<Value> = unrolled
                .params
                .iter()
                .map(|ty| rng.value(ty, Domain::Any))
                .collect();
            let env = super::interp::Env::default();
            let a = unrolled.outputs(&env, &x, &v);
            let b = looped.outputs(&env, &x, &v);
            let close = |p: &Value, q: &Value, what: &str| {
                let diff = p.axpy(-1.0, q).max_abs();
                let scale = 1.0 + p.max_abs();
                assert!(
                    diff <= 1e-10 * scale,
                    "program {i}: {what} differs by {diff:e} between unrolled and looped"
                );
            };
            close(
                &Value::Scalar(a.value),
                &Value::Scalar(b.value),
                "the value",
            );
            for (p, q) in a.gradient.iter().zip(&b.gradient) {
                close(p, q, "the gradient");
            }
            for (p, q) in a.hvp.iter().zip(&b.hvp) {
                close(p, q, "the Hessian-vector product");
            }
            for (p, q) in a.gradient_all.iter().zip(&b.gradient_all) {
                close(p, q, "gradient_all");
            }
            for (p, q) in a.tangent_all.iter().zip(&b.tangent_all) {
                close(p, q, "tangent_all");
            }
        }
    }
}

#[test]
fn regions_agree_with_finite_differences() {
    for (i, (source, wrt)) in PROGRAMS.iter().enumerate() {
        for unroll in [false, true] {
            let f = lowered(source, wrt, unroll);
            f.check(0xF00D + i as u64, Domain::Any, 3);
        }
    }
}

#[test]
fn region_rules_pass_the_dot_product_test() {
    let mut checked = 0;
    for (i, (source, wrt)) in PROGRAMS.iter().enumerate() {
        let f = lowered(source, wrt, false);
        let g = &f.program.graph;
        let regions: Vec<Id> = g
            .ids()
            .filter(|&id| matches!(g.op(id), Op::Loop(_) | Op::Cond(_)))
            .collect();
        for (j, &y) in regions.iter().enumerate() {
            dot_product_test(
                &f,
                y,
                0xD07 + (i * 100 + j) as u64,
                &format!("program {i}, {y}"),
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} region nodes were tested");
}

/// `<J v, w> = <v, Jᵀ w>` for region node `y` of `f`'s graph, at a random point.
fn dot_product_test(f: &Differentiated, y: Id, seed: u64, what: &str) {
    let mut g = f.program.graph.clone();
    let mut rng = Rng::new(seed);
    let node = g.node(y).clone();
    let Ty::Tuple(items) = node.ty.clone() else {
        panic!("{what}: a region node returns a tuple");
    };
    // Directions of the arguments and cotangents of the results are parameters after the
    // function's own parameters and their directions.
    let base = 2 * f.params.len();
    let span = node.span;
    let mut next = base;
    let mut param = |g: &mut Graph, ty: &Ty| {
        let id = g.add_typed(Op::Param(next), &[], ty.clone(), span);
        next += 1;
        id
    };
    let arg_tys: Vec<Ty> = node.args.iter().map(|&a| g.ty(a).clone()).collect();
    let dirs: Vec<Option<Id>> = arg_tys
        .iter()
        // A tape is read, never differentiated backwards.
        .map(|ty| {
            (ty.is_differentiable() && !matches!(ty, Ty::Array(..))).then(|| param(&mut g, ty))
        })
        .collect();
    let bars: Vec<Option<Id>> = items
        .iter()
        .map(|ty| {
            (ty.is_differentiable() && !matches!(ty, Ty::Array(..))).then(|| param(&mut g, ty))
        })
        .collect();
    let active: Vec<bool> = dirs.iter().map(Option::is_some).collect();
    let tangents = regions::jvp(&mut g, y, &dirs, forward::tangents);
    let adjoints = regions::vjp(&mut g, y, &bars, &active, reverse::vjp);
    assert!(
        g.internal_errors.is_empty(),
        "{what}: {:?}",
        g.internal_errors
    );

    // The function's parameters at a random point, then the directions and cotangents.
    let mut values: Vec<Value> = f
        .params
        .iter()
        .map(|ty| rng.value(ty, Domain::Any))
        .collect();
    values.extend(f.params.iter().map(|ty| rng.value(ty, Domain::Any)));
    let arg_values = eval(&g, &values, &node.args);
    let dir_values: Vec<Option<Value>> = dirs
        .iter()
        .zip(&arg_values)
        .map(|(d, a)| d.map(|_| rng.value(&a.ty(), Domain::Any)))
        .collect();
    let results = eval(&g, &values, &[y]).remove(0);
    let Value::Tuple(result_items) = results else {
        panic!("{what}: a region node evaluates to a tuple");
    };
    let bar_values: Vec<Option<Value>> = bars
        .iter()
        .zip(&result_items)
        .map(|(b, r)| b.map(|_| rng.value(&r.ty(), Domain::Any)))
        .collect();
    values.extend(dir_values.iter().flatten().cloned());
    values.extend(bar_values.iter().flatten().cloned());

    let mut lhs = 0.0;
    for ((t, bar), item) in tangents.iter().zip(&bar_values).zip(&result_items) {
        if let (Some(t), Some(bar)) = (t, bar) {
            let jv = eval(&g, &values, &[*t]).remove(0);
            assert_eq!(jv.ty(), item.ty(), "{what}: a tangent of the wrong type");
            lhs += jv.inner(bar);
        }
    }
    let mut rhs = 0.0;
    for ((a, dir), arg) in adjoints.iter().zip(&dir_values).zip(&arg_values) {
        if let (Some(a), Some(dir)) = (a, dir) {
            let jtw = eval(&g, &values, &[*a]).remove(0);
            assert_eq!(jtw.ty(), arg.ty(), "{what}: an adjoint of the wrong type");
            rhs += jtw.inner(dir);
        }
    }
    let scale = 1.0 + lhs.abs().max(rhs.abs());
    assert!(
        (lhs - rhs).abs() <= 1e-9 * scale,
        "{what}: <J v, w> = {lhs} but <v, Jᵀ w> = {rhs}"
    );
}
