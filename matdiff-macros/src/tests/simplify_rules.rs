//! The rewrite table, rule by rule: each case builds a small expression through `Build::add`
//! (so every rule runs, as in the pipeline), pins the printed result, and checks it against
//! the unsimplified expression computed directly with nalgebra, on random inputs. A rule that
//! has no case here fails `every_rule_has_a_case`.

use super::interp::{eval, Value};
use super::support::{assert_close, param, sp, Domain, Rng};
use crate::build::Build;
use crate::ir::{Elem, Graph, Id, Ty};
use crate::ops::{Fun, IntOp, InverseCheck, Op, Solver};
use expect_test::{expect, Expect};
use nalgebra::DMatrix;
use std::panic::{catch_unwind, AssertUnwindSafe};

struct Case {
    rule: &'static str,
    params: Vec<Ty>,
    domain: Domain,
    /// Builds the expression from the parameters.
    build: fn(&mut Graph, &[Id]) -> Id,
    /// The same expression, unsimplified, in nalgebra.
    reference: fn(&[Value]) -> Value,
    expect: Expect,
}

fn case(
    rule: &'static str,
    params: &[Ty],
    build: fn(&mut Graph, &[Id]) -> Id,
    reference: fn(&[Value]) -> Value,
    expect: Expect,
) -> Case {
    Case {
        rule,
        params: params.to_vec(),
        domain: Domain::Any,
        build,
        reference,
        expect,
    }
}

fn s() -> Ty {
    Ty::Scalar
}

fn m(r: usize, c: usize) -> Ty {
    Ty::mat(r, c)
}

fn lit(g: &mut Graph, v: f64) -> Id {
    g.lit(v, sp())
}

fn add(g: &mut Graph, op: Op, args: &[Id]) -> Id {
    g.add(op, args, sp())
}

fn eye(g: &mut Graph, r: usize, c: usize) -> Id {
    g.add_typed(Op::Identity, &[], m(r, c), sp())
}

fn sc(x: f64) -> Value {
    Value::Scalar(x)
}

fn mt(x: DMatrix<f64>) -> Value {
    Value::Mat(x)
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "fold-literals",
            &[],
            |g, _| {
                let (two, three) = (lit(g, 2.0), lit(g, 3.0));
                let product = add(g, Op::Mul, &[two, three]);
                let five = lit(g, 5.0);
                let difference = add(g, Op::Sub, &[product, five]);
                add(g, Op::Neg, &[difference])
            },
            |_| sc(-(2.0 * 3.0 - 5.0)),
            expect![[r#"
                %5: scalar = Lit(-1.0)
                out %5
            "#]],
        ),
        case(
            "add-zero",
            &[s()],
            |g, p| {
                let zero = lit(g, 0.0);
                let left = add(g, Op::Add, &[zero, p[0]]);
                add(g, Op::Add, &[left, zero])
            },
            |v| sc(0.0 + v[0].scalar() + 0.0),
            expect![[r#"
                %0: scalar = Param(0)
                out %0
            "#]],
        ),
        case(
            "sub-zero",
            &[s()],
            |g, p| {
                let zero = lit(g, 0.0);
                let x = add(g, Op::Sub, &[p[0], zero]);
                add(g, Op::Sub, &[zero, x])
            },
            |v| sc(0.0 - (v[0].scalar() - 0.0)),
            expect![[r#"
                %0: scalar = Param(0)
                %2: scalar = Neg %0
                out %2
            "#]],
        ),
        case(
            "mul-one",
            &[s()],
            |g, p| {
                let one = lit(g, 1.0);
                let left = add(g, Op::Mul, &[one, p[0]]);
                add(g, Op::Mul, &[left, one])
            },
            |v| sc(v[0].scalar()),
            expect![[r#"
                %0: scalar = Param(0)
                out %0
            "#]],
        ),
        case(
            "mul-minus-one",
            &[s()],
            |g, p| {
                let minus_one = lit(g, -1.0);
                add(g, Op::Mul, &[minus_one, p[0]])
            },
            |v| sc(-v[0].scalar()),
            expect![[r#"
                %0: scalar = Param(0)
                %2: scalar = Neg %0
                out %2
            "#]],
        ),
        case(
            "mul-minus-one",
            &[s()],
            |g, p| {
                let minus_one = lit(g, -1.0);
                add(g, Op::Mul, &[p[0], minus_one])
            },
            |v| sc(-v[0].scalar()),
            expect![[r#"
                %0: scalar = Param(0)
                %2: scalar = Neg %0
                out %2
            "#]],
        ),
        case(
            "mul-literals-first",
            &[s()],
            |g, p| {
                let three = lit(g, 3.0);
                let x3 = add(g, Op::Mul, &[p[0], three]);
                let two = lit(g, 2.0);
                add(g, Op::Mul, &[two, x3])
            },
            |v| sc(2.0 * (v[0].scalar() * 3.0)),
            expect![[r#"
                %0: scalar = Param(0)
                %4: scalar = Lit(6.0)
                %5: scalar = Mul %4 %0
                out %5
            "#]],
        ),
        case(
            "component-mul-ones",
            &[m(2, 3)],
            |g, p| {
                let one = lit(g, 1.0);
                let ones = g.add_typed(Op::Fill, &[one], m(2, 3), sp());
                add(g, Op::ComponentMul, &[ones, p[0]])
            },
            |v| mt(v[0].mat().component_mul(&DMatrix::from_element(2, 3, 1.0))),
            expect![[r#"
                %0: 2x3 = Param(0)
                out %0
            "#]],
        ),
        case(
            "component-mul-ones",
            &[m(2, 3)],
            |g, p| {
                let two = lit(g, 2.0);
                let twos = g.add_typed(Op::Fill, &[two], m(2, 3), sp());
                add(g, Op::ComponentMul, &[p[0], twos])
            },
            |v| mt(v[0].mat().component_mul(&DMatrix::from_element(2, 3, 2.0))),
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: scalar = Lit(2.0)
                %2: 2x3 = Fill %1
                %3: 2x3 = ComponentMul %0 %2
                out %3
            "#]],
        ),
        case(
            "scale-one",
            &[m(2, 3)],
            |g, p| {
                let one = lit(g, 1.0);
                add(g, Op::Scale, &[one, p[0]])
            },
            |v| mt(v[0].mat() * 1.0),
            expect![[r#"
                %0: 2x3 = Param(0)
                out %0
            "#]],
        ),
        case(
            "scale-minus-one",
            &[m(2, 3)],
            |g, p| {
                let minus_one = lit(g, -1.0);
                add(g, Op::Scale, &[minus_one, p[0]])
            },
            |v| mt(v[0].mat() * -1.0),
            expect![[r#"
                %0: 2x3 = Param(0)
                %2: 2x3 = Neg %0
                out %2
            "#]],
        ),
        case(
            "scale-scale",
            &[s(), s(), m(2, 3)],
            |g, p| {
                let inner = add(g, Op::Scale, &[p[1], p[2]]);
                add(g, Op::Scale, &[p[0], inner])
            },
            |v| mt(v[2].mat() * v[1].scalar() * v[0].scalar()),
            expect![[r#"
                %0: scalar = Param(0)
                %1: scalar = Param(1)
                %2: 2x3 = Param(2)
                %4: scalar = Mul %0 %1
                %5: 2x3 = Scale %4 %2
                out %5
            "#]],
        ),
        case(
            "scale-scale",
            &[m(2, 3)],
            |g, p| {
                let (two, three) = (lit(g, 2.0), lit(g, 3.0));
                let inner = add(g, Op::Scale, &[three, p[0]]);
                add(g, Op::Scale, &[two, inner])
            },
            |v| mt(v[0].mat() * 3.0 * 2.0),
            expect![[r#"
                %0: 2x3 = Param(0)
                %4: scalar = Lit(6.0)
                %5: 2x3 = Scale %4 %0
                out %5
            "#]],
        ),
        case(
            "neg-neg",
            &[m(2, 3)],
            |g, p| {
                let negated = add(g, Op::Neg, &[p[0]]);
                add(g, Op::Neg, &[negated])
            },
            |v| mt(-(-v[0].mat())),
            expect![[r#"
                %0: 2x3 = Param(0)
                out %0
            "#]],
        ),
        case(
            "add-neg",
            &[m(2, 3), m(2, 3)],
            |g, p| {
                let nb = add(g, Op::Neg, &[p[1]]);
                add(g, Op::Add, &[p[0], nb])
            },
            |v| mt(v[0].mat() + -v[1].mat()),
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: 2x3 = Param(1)
                %3: 2x3 = Sub %0 %1
                out %3
            "#]],
        ),
        case(
            "add-neg",
            &[s(), s()],
            |g, p| {
                let na = add(g, Op::Neg, &[p[0]]);
                add(g, Op::Add, &[na, p[1]])
            },
            |v| sc(-v[0].scalar() + v[1].scalar()),
            expect![[r#"
                %0: scalar = Param(0)
                %1: scalar = Param(1)
                %3: scalar = Sub %1 %0
                out %3
            "#]],
        ),
        case(
            "transpose-transpose",
            &[m(2, 3)],
            |g, p| {
                let t = add(g, Op::Transpose, &[p[0]]);
                add(g, Op::Transpose, &[t])
            },
            |v| mt(v[0].mat().transpose().transpose()),
            expect![[r#"
                %0: 2x3 = Param(0)
                out %0
            "#]],
        ),
        case(
            "transpose-identity",
            &[],
            |g, _| {
                let i = eye(g, 3, 3);
                add(g, Op::Transpose, &[i])
            },
            |_| mt(DMatrix::identity(3, 3).transpose()),
            expect![[r#"
                %0: 3x3 = Identity
                out %0
            "#]],
        ),
        // Not for a non-square identity: its transpose is another matrix.
        case(
            "transpose-identity",
            &[],
            |g, _| {
                let i = eye(g, 2, 3);
                add(g, Op::Transpose, &[i])
            },
            |_| mt(DMatrix::identity(2, 3).transpose()),
            expect![[r#"
                %0: 2x3 = Identity
                %1: 3x2 = Transpose %0
                out %1
            "#]],
        ),
        case(
            "matmul-identity",
            &[m(3, 4), m(2, 3)],
            |g, p| {
                let i = eye(g, 3, 3);
                let left = add(g, Op::MatMul, &[i, p[0]]);
                let right = add(g, Op::MatMul, &[p[1], i]);
                add(g, Op::MatMul, &[right, left])
            },
            |v| {
                let i = DMatrix::identity(3, 3);
                mt((v[1].mat() * &i) * (&i * v[0].mat()))
            },
            expect![[r#"
                %0: 3x4 = Param(0)
                %1: 2x3 = Param(1)
                %3: 2x4 = MatMul %1 %0
                out %3
            "#]],
        ),
        // nalgebra's identity of a non-square type has ones on the diagonal only: `I A`
        // keeps the first rows of `A`, it is not `A`.
        case(
            "matmul-identity",
            &[m(3, 4)],
            |g, p| {
                let i = eye(g, 2, 3);
                add(g, Op::MatMul, &[i, p[0]])
            },
            |v| mt(DMatrix::identity(2, 3) * v[0].mat()),
            expect![[r#"
                %0: 3x4 = Param(0)
                %1: 2x3 = Identity
                %2: 2x4 = MatMul %1 %0
                out %2
            "#]],
        ),
        case(
            "matmul-identity",
            &[m(4, 2)],
            |g, p| {
                let i = eye(g, 2, 3);
                add(g, Op::MatMul, &[p[0], i])
            },
            |v| mt(v[0].mat() * DMatrix::identity(2, 3)),
            expect![[r#"
                %0: 4x2 = Param(0)
                %1: 2x3 = Identity
                %2: 4x3 = MatMul %0 %1
                out %2
            "#]],
        ),
        case(
            "recip-recip",
            &[s()],
            |g, p| {
                let r = add(g, Op::Fun(Fun::Recip), &[p[0]]);
                add(g, Op::Fun(Fun::Recip), &[r])
            },
            |v| sc(v[0].scalar().recip().recip()),
            expect![[r#"
                %0: scalar = Param(0)
                out %0
            "#]],
        ),
        case(
            "powi-one",
            &[s()],
            |g, p| {
                let x1 = add(g, Op::Fun(Fun::Powi(1)), &[p[0]]);
                let x0 = add(g, Op::Fun(Fun::Powi(0)), &[p[0]]);
                add(g, Op::Add, &[x1, x0])
            },
            |v| sc(v[0].scalar().powi(1) + v[0].scalar().powi(0)),
            expect![[r#"
                %0: scalar = Param(0)
                %1: scalar = Lit(1.0)
                %2: scalar = Add %0 %1
                out %2
            "#]],
        ),
        Case {
            domain: Domain::NearIdentity,
            ..case(
                "ln-det",
                &[m(3, 3)],
                |g, p| {
                    let det = add(g, Op::Det, &[p[0]]);
                    add(g, Op::Fun(Fun::Ln), &[det])
                },
                |v| sc(v[0].mat().determinant().ln()),
                expect![[r#"
                    %0: 3x3 = Param(0)
                    %2: scalar = LogDet %0
                    out %2
                "#]],
            )
        },
        case(
            "matmul-transpose",
            &[m(3, 2), m(3, 4)],
            |g, p| {
                let at = add(g, Op::Transpose, &[p[0]]);
                add(g, Op::MatMul, &[at, p[1]])
            },
            |v| mt(v[0].mat().transpose() * v[1].mat()),
            expect![[r#"
                %0: 3x2 = Param(0)
                %1: 3x4 = Param(1)
                %3: 2x4 = TrMul %0 %1
                out %3
            "#]],
        ),
        case(
            "transpose-product",
            &[m(3, 2), m(3, 4)],
            |g, p| {
                let product = add(g, Op::TrMul, &[p[0], p[1]]);
                add(g, Op::Transpose, &[product])
            },
            |v| mt((v[0].mat().transpose() * v[1].mat()).transpose()),
            expect![[r#"
                %0: 3x2 = Param(0)
                %1: 3x4 = Param(1)
                %3: 4x2 = TrMul %1 %0
                out %3
            "#]],
        ),
        case(
            "transpose-product",
            &[m(2, 3), m(4, 3)],
            |g, p| {
                let bt = add(g, Op::Transpose, &[p[1]]);
                let product = add(g, Op::MatMul, &[p[0], bt]);
                add(g, Op::Transpose, &[product])
            },
            |v| mt((v[0].mat() * v[1].mat().transpose()).transpose()),
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: 4x3 = Param(1)
                %4: 3x2 = Transpose %0
                %5: 4x2 = MatMul %1 %4
                out %5
            "#]],
        ),
        case(
            "trace-product",
            &[m(2, 3), m(3, 2)],
            |g, p| {
                let product = add(g, Op::MatMul, &[p[0], p[1]]);
                add(g, Op::Trace, &[product])
            },
            |v| sc((v[0].mat() * v[1].mat()).trace()),
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: 3x2 = Param(1)
                %3: 3x2 = Transpose %0
                %4: scalar = Dot %3 %1
                out %4
            "#]],
        ),
        case(
            "trace-product",
            &[m(2, 3), m(4, 3), m(4, 2)],
            |g, p| {
                // tr(A Xᵀ B) = <X, B A>.
                let xt = add(g, Op::Transpose, &[p[1]]);
                let axt = add(g, Op::MatMul, &[p[0], xt]);
                let product = add(g, Op::MatMul, &[axt, p[2]]);
                add(g, Op::Trace, &[product])
            },
            |v| sc((v[0].mat() * v[1].mat().transpose() * v[2].mat()).trace()),
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: 4x3 = Param(1)
                %2: 4x2 = Param(2)
                %7: 4x3 = MatMul %2 %0
                %8: scalar = Dot %1 %7
                out %8
            "#]],
        ),
        case(
            "index-1x1-product",
            &[m(1, 3), m(3, 1)],
            |g, p| {
                let product = add(g, Op::MatMul, &[p[0], p[1]]);
                add(g, Op::Index(0, 0), &[product])
            },
            |v| sc((v[0].mat() * v[1].mat())[(0, 0)]),
            expect![[r#"
                %0: 1x3 = Param(0)
                %1: 3x1 = Param(1)
                %3: 3x1 = Transpose %0
                %4: scalar = Dot %3 %1
                out %4
            "#]],
        ),
        case(
            "dot-transposes",
            &[m(2, 3), m(2, 3)],
            |g, p| {
                let at = add(g, Op::Transpose, &[p[0]]);
                let bt = add(g, Op::Transpose, &[p[1]]);
                add(g, Op::Dot, &[at, bt])
            },
            |v| sc(v[0].mat().transpose().dot(&v[1].mat().transpose())),
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: 2x3 = Param(1)
                %4: scalar = Dot %0 %1
                out %4
            "#]],
        ),
        case(
            "matmul-chain-order",
            &[m(3, 3), m(3, 3), m(3, 1)],
            |g, p| {
                let ab = add(g, Op::MatMul, &[p[0], p[1]]);
                add(g, Op::MatMul, &[ab, p[2]])
            },
            |v| mt(v[0].mat() * v[1].mat() * v[2].mat()),
            expect![[r#"
                %0: 3x3 = Param(0)
                %1: 3x3 = Param(1)
                %2: 3x1 = Param(2)
                %4: 3x1 = MatMul %1 %2
                %5: 3x1 = MatMul %0 %4
                out %5
            "#]],
        ),
        case(
            "matmul-chain-order",
            &[m(1, 3), m(3, 3), m(3, 3)],
            |g, p| {
                let bc = add(g, Op::MatMul, &[p[1], p[2]]);
                add(g, Op::MatMul, &[p[0], bc])
            },
            |v| mt(v[0].mat() * (v[1].mat() * v[2].mat())),
            expect![[r#"
                %0: 1x3 = Param(0)
                %1: 3x3 = Param(1)
                %2: 3x3 = Param(2)
                %4: 1x3 = MatMul %0 %1
                %5: 1x3 = MatMul %4 %2
                out %5
            "#]],
        ),
        case(
            "scale-out-of-product",
            &[s(), m(3, 3), m(3, 1)],
            |g, p| {
                let sa = add(g, Op::Scale, &[p[0], p[1]]);
                add(g, Op::MatMul, &[sa, p[2]])
            },
            |v| mt((v[1].mat() * v[0].scalar()) * v[2].mat()),
            expect![[r#"
                %0: scalar = Param(0)
                %1: 3x3 = Param(1)
                %2: 3x1 = Param(2)
                %4: 3x1 = MatMul %1 %2
                %5: 3x1 = Scale %0 %4
                out %5
            "#]],
        ),
        Case {
            domain: Domain::NearIdentity,
            ..case(
                "scale-out-of-solve",
                &[s(), m(3, 3), m(3, 2)],
                |g, p| {
                    let sb = add(g, Op::Scale, &[p[0], p[2]]);
                    let solved = add(g, Op::Solve(Solver::Lu(InverseCheck::Unwrap)), &[p[1], sb]);
                    let nb = add(g, Op::Neg, &[p[2]]);
                    let again = add(g, Op::Solve(Solver::Cholesky), &[p[1], nb]);
                    add(g, Op::Add, &[solved, again])
                },
                |v| {
                    let a = v[1].mat().clone();
                    let x = a.lu().solve(v[2].mat()).expect("invertible");
                    mt(&x * v[0].scalar() - &x)
                },
                expect![[r#"
                    %0: scalar = Param(0)
                    %1: 3x3 = Param(1)
                    %2: 3x2 = Param(2)
                    %4: 3x2 = Solve(Lu(Unwrap)) %1 %2
                    %5: 3x2 = Scale %0 %4
                    %7: 3x2 = Solve(Cholesky) %1 %2
                    %9: 3x2 = Sub %5 %7
                    out %9
                "#]],
            )
        },
        Case {
            domain: Domain::NearIdentity,
            ..case(
                "solve-by-inverse",
                &[m(3, 3), m(3, 3)],
                |g, p| {
                    let solve = Op::Solve(Solver::Cholesky);
                    let identity = eye(g, 3, 3);
                    let inverse = add(g, solve.clone(), &[p[0], identity]);
                    let solved = add(g, solve, &[p[0], p[1]]);
                    add(g, Op::Add, &[inverse, solved])
                },
                |v| {
                    let a = v[0].mat().clone();
                    let inverse = a.try_inverse().expect("invertible");
                    mt(&inverse + &inverse * v[1].mat())
                },
                expect![[r#"
                    %0: 3x3 = Param(0)
                    %1: 3x3 = Param(1)
                    %2: 3x3 = Identity
                    %3: 3x3 = Solve(Cholesky) %0 %2
                    %4: 3x3 = MatMul %3 %1
                    %5: 3x3 = Add %3 %4
                    out %5
                "#]],
            )
        },
        case(
            "add-same-scaled",
            &[m(3, 1)],
            |g, p| {
                let half = lit(g, 0.5);
                let scaled = add(g, Op::Scale, &[half, p[0]]);
                add(g, Op::Add, &[scaled, scaled])
            },
            |v| mt(v[0].mat() * 0.5 + v[0].mat() * 0.5),
            expect![[r#"
                %0: 3x1 = Param(0)
                out %0
            "#]],
        ),
        case(
            "scale-neg",
            &[m(3, 2)],
            |g, p| {
                let half = lit(g, 0.5);
                let negated = add(g, Op::Neg, &[p[0]]);
                let first = add(g, Op::Scale, &[half, negated]);
                let three = lit(g, 3.0);
                let scaled = add(g, Op::Scale, &[three, p[0]]);
                // A negated scaling stays a negation.
                let second = add(g, Op::Neg, &[scaled]);
                add(g, Op::Add, &[first, second])
            },
            |v| mt(-v[0].mat() * 0.5 - v[0].mat() * 3.0),
            expect![[r#"
                %0: 3x2 = Param(0)
                %3: scalar = Lit(-0.5)
                %4: 3x2 = Scale %3 %0
                %5: scalar = Lit(3.0)
                %6: 3x2 = Scale %5 %0
                %8: 3x2 = Sub %4 %6
                out %8
            "#]],
        ),
        case(
            "add-zeros",
            &[m(2, 3)],
            |g, p| {
                let zero = lit(g, 0.0);
                let zeros = g.add_typed(Op::Fill, &[zero], m(2, 3), sp());
                let left = add(g, Op::Add, &[zeros, p[0]]);
                add(g, Op::Add, &[left, zeros])
            },
            |v| mt(v[0].mat().clone()),
            expect![[r#"
                %0: 2x3 = Param(0)
                out %0
            "#]],
        ),
        // Two adjoints of indexing summed into a third matrix: entry updates of it.
        case(
            "add-into-scatter",
            &[m(2, 3), s(), s(), Ty::Int, Ty::Int],
            |g, p| {
                let zero = lit(g, 0.0);
                let zeros = g.add_typed(Op::Fill, &[zero], m(2, 3), sp());
                let one = g.add_typed(Op::Int(1), &[], Ty::Int, sp());
                let a = add(g, Op::AddAt, &[zeros, p[1], p[3], p[4]]);
                let b = add(g, Op::AddAt, &[zeros, p[2], one, p[4]]);
                let ab = add(g, Op::Add, &[a, b]);
                add(g, Op::Add, &[p[0], ab])
            },
            |v| {
                let mut m = v[0].mat().clone();
                let (i, j) = (v[3].index(), v[4].index());
                m[(i, j)] += v[1].scalar();
                m[(1, j)] += v[2].scalar();
                mt(m)
            },
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: scalar = Param(1)
                %2: scalar = Param(2)
                %3: int = Param(3)
                %4: int = Param(4)
                %7: int = Int(1)
                %11: 2x3 = AddAt %0 %1 %3 %4
                %12: 2x3 = AddAt %11 %2 %7 %4
                out %12
            "#]],
        ),
        case(
            "add-embedded-entry",
            &[m(2, 3), s(), s()],
            |g, p| {
                let a = g.add_typed(Op::Embed(1, 2), &[p[1]], m(2, 3), sp());
                let b = g.add_typed(Op::Embed(0, 0), &[p[2]], m(2, 3), sp());
                let ab = add(g, Op::Add, &[a, b]);
                add(g, Op::Add, &[p[0], ab])
            },
            |v| {
                let mut m = v[0].mat().clone();
                m[(1, 2)] += v[1].scalar();
                m[(0, 0)] += v[2].scalar();
                mt(m)
            },
            expect![[r#"
                %0: 2x3 = Param(0)
                %1: scalar = Param(1)
                %2: scalar = Param(2)
                %5: int = Int(0)
                %7: int = Int(1)
                %8: int = Int(2)
                %9: 2x3 = AddAt %0 %1 %7 %8
                %10: 2x3 = AddAt %9 %2 %5 %5
                out %10
            "#]],
        ),
        // The entries of a unit seed: its scalar where it sits, zero elsewhere.
        case(
            "index-embedded",
            &[s(), s()],
            |g, p| {
                let e = g.add_typed(Op::Embed(1, 2), &[p[0]], m(2, 3), sp());
                let at = add(g, Op::Index(1, 2), &[e]);
                let off = add(g, Op::Index(0, 2), &[e]);
                let sum = add(g, Op::Add, &[at, off]);
                add(g, Op::Mul, &[sum, p[1]])
            },
            |v| sc(v[0].scalar() * v[1].scalar()),
            expect![[r#"
                %0: scalar = Param(0)
                %1: scalar = Param(1)
                %4: scalar = Mul %0 %1
                out %4
            "#]],
        ),
        case(
            "index-of-entries",
            &[s(), s(), s(), s()],
            |g, p| {
                let a = g.add_typed(Op::Assemble, &[p[0], p[1], p[2], p[3]], m(2, 2), sp());
                let entry = add(g, Op::Index(1, 0), &[a]);
                let filled = g.add_typed(Op::Fill, &[p[3]], m(2, 3), sp());
                let other = add(g, Op::Index(1, 2), &[filled]);
                add(g, Op::Mul, &[entry, other])
            },
            |v| {
                let a = DMatrix::from_column_slice(
                    2,
                    2,
                    &[v[0].scalar(), v[1].scalar(), v[2].scalar(), v[3].scalar()],
                );
                let filled = DMatrix::from_element(2, 3, v[3].scalar());
                sc(a[(1, 0)] * filled[(1, 2)])
            },
            expect![[r#"
                %1: scalar = Param(1)
                %3: scalar = Param(3)
                %6: scalar = Mul %1 %3
                out %6
            "#]],
        ),
        case(
            "fold-integers",
            &[m(3, 1)],
            |g, p| {
                let two = g.add_typed(Op::Int(2), &[], Ty::Int, sp());
                let three = g.add_typed(Op::Int(3), &[], Ty::Int, sp());
                let five = add(g, Op::IntBin(IntOp::Add), &[two, three]);
                let one = add(g, Op::IntBin(IntOp::Rem), &[five, two]);
                let zero = g.add_typed(Op::Int(0), &[], Ty::Int, sp());
                add(g, Op::At, &[p[0], one, zero])
            },
            |v| sc(v[0].mat()[1]),
            expect![[r#"
                %0: 3x1 = Param(0)
                %4: int = Int(1)
                %5: int = Int(0)
                %6: scalar = At %0 %4 %5
                out %6
            "#]],
        ),
        case(
            "integer-units",
            &[m(3, 1), Ty::Int],
            |g, p| {
                let zero = g.add_typed(Op::Int(0), &[], Ty::Int, sp());
                let one = g.add_typed(Op::Int(1), &[], Ty::Int, sp());
                let a = add(g, Op::IntBin(IntOp::Add), &[zero, p[1]]);
                let b = add(g, Op::IntBin(IntOp::Mul), &[a, one]);
                let c = add(g, Op::IntBin(IntOp::Sub), &[b, zero]);
                add(g, Op::At, &[p[0], c, zero])
            },
            |v| sc(v[0].mat()[v[1].index()]),
            expect![[r#"
                %0: 3x1 = Param(0)
                %1: int = Param(1)
                %2: int = Int(0)
                %4: scalar = At %0 %1 %2
                out %4
            "#]],
        ),
        // Not when the product is larger than the scaled factor.
        case(
            "scale-out-of-product",
            &[s(), m(3, 1), m(1, 3)],
            |g, p| {
                let sx = add(g, Op::Scale, &[p[0], p[1]]);
                add(g, Op::MatMul, &[sx, p[2]])
            },
            |v| mt((v[1].mat() * v[0].scalar()) * v[2].mat()),
            expect![[r#"
                %0: scalar = Param(0)
                %1: 3x1 = Param(1)
                %2: 1x3 = Param(2)
                %3: 3x1 = Scale %0 %1
                %4: 3x3 = MatMul %3 %2
                out %4
            "#]],
        ),
    ]
}

#[test]
fn every_rule_has_a_case() {
    let names: Vec<&str> = crate::build::rule_names().collect();
    let cases = cases();
    for name in &names {
        assert!(
            cases.iter().any(|c| c.rule == *name),
            "the rewrite rule `{name}` has no test case in simplify_rules.rs"
        );
    }
    for case in &cases {
        assert!(
            names.contains(&case.rule),
            "a test case names `{}`, which is not a rewrite rule",
            case.rule
        );
    }
}

#[test]
fn rules_rewrite_to_equal_expressions() {
    let mut failed = Vec::new();
    for (index, case) in (0u64..).zip(cases()) {
        let mut g = Graph::new(Elem::F64);
        let params: Vec<Id> = case
            .params
            .iter()
            .enumerate()
            .map(|(k, ty)| param(&mut g, k, ty))
            .collect();
        let out = (case.build)(&mut g, &params);
        case.expect.assert_eq(&g.dump(&[out]));
        let mut rng = Rng::new(0x5_1397 + index);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            assert!(g.internal_errors.is_empty(), "{:?}", g.internal_errors);
            for _ in 0..3 {
                let values: Vec<Value> = case
                    .params
                    .iter()
                    .map(|ty| rng.value(ty, case.domain))
                    .collect();
                let expected = (case.reference)(&values);
                assert_eq!(
                    g.ty(out),
                    &expected.ty(),
                    "the rewritten node has another type than the expression"
                );
                let actual = eval(&g, &values, &[out]).remove(0);
                assert_close(&actual, &expected, 1e-12, "rewritten against unsimplified");
            }
        }));
        if let Err(cause) = outcome {
            let message = cause.downcast_ref::<String>().cloned().unwrap_or_default();
            failed.push(format!(
                "{}: {}",
                case.rule,
                message.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(failed.is_empty(), "wrong rewrites:\n{}", failed.join("\n"));
}
