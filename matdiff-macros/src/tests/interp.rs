//! A reference interpreter for the IR: every node evaluated with `nalgebra::DMatrix<f64>`,
//! following nalgebra's semantics for the method each op stands for.
//!
//! A call into another differentiated function is interpreted from that function's own
//! program (see [`Env`]). The interpreter also checks the IR's own bookkeeping: every value
//! must have exactly the shape its node declares, so a rule or rewrite that returns a node of
//! the wrong type is caught here.

use crate::emit::Program;
use crate::ir::{Dim, Graph, Id, ScalarFn, SymInt, Ty};
use crate::ops::{Extremum, Fun, IntOp, Op, Solver};
use nalgebra::DMatrix;
use quote::ToTokens;
use std::collections::HashMap;

/// A runtime value: a scalar, a matrix (vectors are `n x 1`), or the tuple a call's
/// derivative returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(f64),
    Mat(DMatrix<f64>),
    Tuple(Vec<Value>),
    /// An integer or a condition: no entries, no derivative.
    Int(i64),
    Bool(bool),
    /// A loop's tape: one value per iteration.
    Array(Vec<Value>),
}

/// The other differentiated functions a graph calls, by the path the call names: a callee
/// is interpreted from its own program, as the generated `__matdiff_f_vjp` and
/// `__matdiff_f_tangent` compute it.
#[derive(Default)]
pub struct Env<'a> {
    pub callees: HashMap<String, &'a Program>,
}

impl Value {
    /// The zero of a type.
    pub fn zero(ty: &Ty) -> Value {
        match ty {
            Ty::Scalar => Value::Scalar(0.0),
            Ty::Mat(..) => {
                let (r, c) = dims(ty);
                Value::Mat(DMatrix::zeros(r, c))
            }
            Ty::Tuple(items) => Value::Tuple(items.iter().map(Value::zero).collect()),
            Ty::Int => Value::Int(0),
            Ty::Bool => Value::Bool(false),
            Ty::Array(item, n) => {
                let n = usize::try_from(sym_value(n)).expect("a tape's length");
                Value::Array(vec![Value::zero(item); n])
            }
        }
    }

    /// The IR type of this value (literal dimensions).
    pub fn ty(&self) -> Ty {
        match self {
            Value::Scalar(_) => Ty::Scalar,
            Value::Mat(m) => Ty::mat(m.nrows(), m.ncols()),
            Value::Tuple(items) => Ty::Tuple(items.iter().map(Value::ty).collect()),
            Value::Int(_) => Ty::Int,
            Value::Bool(_) => Ty::Bool,
            Value::Array(items) => Ty::Array(
                Box::new(items.first().map_or(Ty::Scalar, Value::ty)),
                SymInt::Lit(i64::try_from(items.len()).expect("a short tape")),
            ),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            other => panic!("expected an integer, found a {}", other.ty()),
        }
    }

    pub fn index(&self) -> usize {
        usize::try_from(self.int()).expect("a non-negative index")
    }

    pub fn condition(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            other => panic!("expected a condition, found a {}", other.ty()),
        }
    }

    pub fn scalar(&self) -> f64 {
        match self {
            Value::Scalar(s) => *s,
            other => panic!("expected a scalar, found a {}", other.ty()),
        }
    }

    pub fn mat(&self) -> &DMatrix<f64> {
        match self {
            Value::Mat(m) => m,
            other => panic!("expected a matrix, found a {}", other.ty()),
        }
    }

    /// The entries, column-major (a scalar is one entry, a tuple its items' in order).
    pub fn entries(&self) -> Vec<f64> {
        match self {
            Value::Scalar(s) => vec![*s],
            Value::Mat(m) => m.iter().copied().collect(),
            Value::Tuple(items) | Value::Array(items) => {
                items.iter().flat_map(Value::entries).collect()
            }
            Value::Int(_) | Value::Bool(_) => Vec::new(),
        }
    }

    /// The Frobenius inner product `<self, other>` (a product for scalars, the sum over the
    /// items for tuples).
    pub fn inner(&self, other: &Value) -> f64 {
        assert_eq!(self.ty(), other.ty(), "inner product of different types");
        self.entries()
            .iter()
            .zip(other.entries())
            .map(|(a, b)| a * b)
            .sum()
    }

    /// `self + t · other`.
    pub fn axpy(&self, t: f64, other: &Value) -> Value {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(a + t * b),
            (Value::Mat(a), Value::Mat(b)) => {
                assert_eq!(a.shape(), b.shape(), "axpy of different shapes");
                Value::Mat(a + b * t)
            }
            (Value::Tuple(a), Value::Tuple(b)) => {
                assert_eq!(a.len(), b.len(), "axpy of different tuples");
                Value::Tuple(a.iter().zip(b).map(|(a, b)| a.axpy(t, b)).collect())
            }
            (Value::Array(a), Value::Array(b)) => {
                assert_eq!(a.len(), b.len(), "axpy of different tapes");
                Value::Array(a.iter().zip(b).map(|(a, b)| a.axpy(t, b)).collect())
            }
            // Integers and conditions have no tangent space: they stay as they are.
            (Value::Int(_), Value::Int(_)) | (Value::Bool(_), Value::Bool(_)) => self.clone(),
            _ => panic!("axpy of a {} and a {}", self.ty(), other.ty()),
        }
    }

    /// `t · self`.
    pub fn scaled(&self, t: f64) -> Value {
        Value::zero(&self.ty()).axpy(t, self)
    }

    /// The largest entry in absolute value.
    pub fn max_abs(&self) -> f64 {
        self.entries().iter().fold(0.0, |m, x| m.max(x.abs()))
    }
}

/// The literal dimensions of a matrix type. Tests use literal dimensions only.
pub fn dims(ty: &Ty) -> (usize, usize) {
    match ty {
        Ty::Mat(Dim::Lit(r), Dim::Lit(c)) => (*r, *c),
        other => {
            panic!("the interpreter needs a matrix type with literal dimensions, found {other}")
        }
    }
}

/// Evaluates `roots` given the value of every `Param(k)` they depend on (`params[k]`).
///
/// Only the nodes the roots depend on are evaluated, so unrelated parameters may be missing.
/// Panics if a value does not have its node's type, or if a node is ill-formed.
pub fn eval(g: &Graph, params: &[Value], roots: &[Id]) -> Vec<Value> {
    eval_in(&Env::default(), g, params, roots)
}

/// [`eval`] for a graph that calls the functions in `env`.
pub fn eval_in(env: &Env, g: &Graph, params: &[Value], roots: &[Id]) -> Vec<Value> {
    let live = g.reachable(roots.iter().copied());
    let mut values: Vec<Option<Value>> = vec![None; g.len()];
    for id in g.ids().filter(|id| live[id.index()]) {
        let node = g.node(id);
        let args: Vec<&Value> = node
            .args
            .iter()
            .map(|a| {
                values[a.index()]
                    .as_ref()
                    .expect("arguments precede a node")
            })
            .collect();
        let value = eval_node(env, g, &node.op, &node.ty, &args, params);
        // An empty tape's item type is not in its value.
        let declared = match (&node.ty, &value) {
            (Ty::Array(..), Value::Array(items)) if items.is_empty() => value.ty(),
            _ => node.ty.clone(),
        };
        assert_eq!(
            value.ty(),
            declared,
            "node {id} = {:?} declares type {} but evaluates to a {}\n{}",
            node.op,
            node.ty,
            value.ty(),
            g.dump(&[id]),
        );
        values[id.index()] = Some(value);
    }
    roots
        .iter()
        .map(|r| values[r.index()].clone().expect("root evaluated"))
        .collect()
}

/// One node. The match is exhaustive: a new op must be given semantics here.
fn eval_node(env: &Env, g: &Graph, op: &Op, ty: &Ty, a: &[&Value], params: &[Value]) -> Value {
    use Value::{Mat, Scalar, Tuple};
    match op {
        Op::Param(k) => params
            .get(*k)
            .unwrap_or_else(|| panic!("no value given for Param({k})"))
            .clone(),
        Op::Lit(bits) => Scalar(bits.get()),
        Op::IntConst(name) | Op::FloatConst(name) => {
            panic!("`{name}` has no value in the interpreter")
        }
        Op::Identity => {
            let (r, c) = dims(ty);
            Mat(DMatrix::identity(r, c))
        }
        Op::Fill => {
            let (r, c) = dims(ty);
            Mat(DMatrix::from_element(r, c, a[0].scalar()))
        }
        Op::Assemble => {
            let (r, c) = dims(ty);
            let entries: Vec<f64> = a.iter().map(|v| v.scalar()).collect();
            Mat(DMatrix::from_column_slice(r, c, &entries))
        }
        Op::Embed(i, j) => {
            let (r, c) = dims(ty);
            let mut m = DMatrix::zeros(r, c);
            m[(*i, *j)] = a[0].scalar();
            Mat(m)
        }
        Op::Neg => match a[0] {
            Scalar(s) => Scalar(-s),
            Mat(m) => Mat(-m),
            other => panic!("Neg of a {}", other.ty()),
        },
        Op::Add | Op::Sub => {
            let sign = if op == &Op::Add { 1.0 } else { -1.0 };
            match (a[0], a[1]) {
                (Scalar(x), Scalar(y)) => Scalar(x + sign * y),
                (Mat(x), Mat(y)) => {
                    assert_eq!(x.shape(), y.shape(), "{op:?} of different shapes");
                    Mat(x + y * sign)
                }
                _ => panic!("{op:?} of a scalar and a matrix"),
            }
        }
        Op::Mul => Scalar(a[0].scalar() * a[1].scalar()),
        Op::Scale => Mat(a[1].mat() * a[0].scalar()),
        Op::MatMul => {
            let (x, y) = (a[0].mat(), a[1].mat());
            assert_eq!(x.ncols(), y.nrows(), "MatMul of mismatched shapes");
            Mat(x * y)
        }
        Op::TrMul => {
            let (x, y) = (a[0].mat(), a[1].mat());
            assert_eq!(x.nrows(), y.nrows(), "TrMul of mismatched shapes");
            Mat(x.tr_mul(y))
        }
        Op::Transpose => Mat(a[0].mat().transpose()),
        Op::Trace => {
            let m = a[0].mat();
            assert!(m.is_square(), "Trace of a non-square matrix");
            Scalar(m.trace())
        }
        Op::Dot => {
            let (x, y) = (a[0].mat(), a[1].mat());
            assert_eq!(x.shape(), y.shape(), "Dot of different shapes");
            Scalar(x.dot(y))
        }
        Op::Sum => Scalar(a[0].mat().sum()),
        Op::ComponentMul => {
            let (x, y) = (a[0].mat(), a[1].mat());
            assert_eq!(x.shape(), y.shape(), "ComponentMul of different shapes");
            Mat(x.component_mul(y))
        }
        Op::NormSquared => Scalar(a[0].mat().norm_squared()),
        Op::Norm => Scalar(a[0].mat().norm()),
        Op::Normalize => Mat(a[0].mat().normalize()),
        Op::Index(i, j) => Scalar(a[0].mat()[(*i, *j)]),
        Op::Fun(fun) => Scalar(apply(*fun, a[0].scalar())),
        Op::Powf => Scalar(a[0].scalar().powf(a[1].scalar())),
        Op::Max => Scalar(a[0].scalar().max(a[1].scalar())),
        Op::Min => Scalar(a[0].scalar().min(a[1].scalar())),
        Op::Atan2 => Scalar(a[0].scalar().atan2(a[1].scalar())),
        Op::Hypot => Scalar(a[0].scalar().hypot(a[1].scalar())),
        Op::CopySign => Scalar(a[0].scalar().copysign(a[1].scalar())),
        Op::MulAdd => Scalar(a[0].scalar().mul_add(a[1].scalar(), a[2].scalar())),
        Op::Map(f) => Mat(a[0].mat().map(|t| scalar_fn(env, g, *f, t))),
        Op::Inverse(_) => Mat(a[0]
            .mat()
            .clone()
            .try_inverse()
            .expect("Inverse of a singular matrix")),
        Op::Det => Scalar(square(a[0]).determinant()),
        Op::Diagonal => {
            let diagonal = square(a[0]).diagonal();
            Mat(DMatrix::from_column_slice(
                diagonal.len(),
                1,
                diagonal.as_slice(),
            ))
        }
        Op::FromDiagonal => {
            let v = a[0].mat();
            Mat(DMatrix::from_diagonal(
                &nalgebra::DVector::from_column_slice(v.as_slice()),
            ))
        }
        Op::Triangle(crate::ops::Triangle::Upper) => Mat(a[0].mat().upper_triangle()),
        Op::Triangle(crate::ops::Triangle::Lower) => Mat(a[0].mat().lower_triangle()),
        Op::Cofactor => {
            // det(A) A⁻ᵀ: the interpreter's inputs are invertible.
            let m = square(a[0]);
            let inverse = m
                .clone()
                .try_inverse()
                .expect("Cofactor of a singular matrix");
            Mat(inverse.transpose() * m.determinant())
        }
        Op::LogDet => Scalar(square(a[0]).determinant().ln()),
        Op::MaxEntry => Scalar(a[0].mat().max()),
        Op::MinEntry => Scalar(a[0].mat().min()),
        Op::ArgMask(extremum) => {
            let m = a[0].mat();
            // The first extreme entry in nalgebra's (column-major) linear order.
            let mut best = 0;
            for i in 1..m.len() {
                let better = match extremum {
                    Extremum::Max => m[i] > m[best],
                    Extremum::Min => m[i] < m[best],
                };
                if better {
                    best = i;
                }
            }
            let mut mask = DMatrix::zeros(m.nrows(), m.ncols());
            mask[best] = 1.0;
            Mat(mask)
        }
        Op::Call(c) => {
            let program = callee(env, g, *c);
            let params: Vec<Value> = a.iter().map(|&v| v.clone()).collect();
            eval(&program.graph, &params, &[program.value]).remove(0)
        }
        Op::CallVjp(c) => call_vjp(callee(env, g, *c), a),
        Op::CallTangent(c) => call_tangent(callee(env, g, *c), a),
        Op::Field(i) => match a[0] {
            Tuple(items) => items[*i].clone(),
            other => panic!("Field of a {}", other.ty()),
        },
        Op::SymEigenvalues => {
            let values = square(a[0]).clone().symmetric_eigen().eigenvalues;
            Mat(DMatrix::from_column_slice(
                values.len(),
                1,
                values.as_slice(),
            ))
        }
        Op::SymEigenvectors => Mat(square(a[0]).clone().symmetric_eigen().eigenvectors),
        // A general solve, whatever the factorisation: `S⁻¹ B` for a Cholesky solve too, so
        // finite differences along non-symmetric directions measure the true derivative.
        Op::Solve(solver) => {
            let m = square(a[0]).clone();
            let m = match solver {
                Solver::LuTransposed => m.transpose(),
                _ => m,
            };
            Mat(m
                .lu()
                .solve(a[1].mat())
                .expect("Solve with a singular matrix"))
        }
        Op::SymFromLower => {
            let m = square(a[0]);
            Mat(DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                if i >= j {
                    m[(i, j)]
                } else {
                    m[(j, i)]
                }
            }))
        }
        Op::FoldLower => {
            let m = square(a[0]);
            Mat(DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                match i.cmp(&j) {
                    std::cmp::Ordering::Greater => m[(i, j)] + m[(j, i)],
                    std::cmp::Ordering::Equal => m[(i, j)],
                    std::cmp::Ordering::Less => 0.0,
                }
            }))
        }
        Op::StrictLower => {
            let m = square(a[0]);
            Mat(DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                if i > j {
                    m[(i, j)]
                } else {
                    0.0
                }
            }))
        }
        Op::QrQ => Mat(a[0].mat().clone().qr().q()),
        Op::SingularValues => {
            let values = a[0].mat().clone().singular_values();
            Mat(DMatrix::from_column_slice(
                values.len(),
                1,
                values.as_slice(),
            ))
        }
        Op::SvdU => Mat(a[0].mat().clone().svd(true, false).u.expect("U")),
        Op::SvdV => Mat(a[0]
            .mat()
            .clone()
            .svd(false, true)
            .v_t
            .expect("Vᵀ")
            .transpose()),
        Op::QrR => Mat(a[0].mat().clone().qr().r()),
        Op::LowerHalved => {
            let m = square(a[0]);
            Mat(DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                match i.cmp(&j) {
                    std::cmp::Ordering::Greater => m[(i, j)],
                    std::cmp::Ordering::Equal => 0.5 * m[(i, j)],
                    std::cmp::Ordering::Less => 0.0,
                }
            }))
        }
        // The factor of the symmetric part, the op's meaning for any argument.
        Op::Cholesky(_) => {
            let m = square(a[0]);
            let symmetric = (m + m.transpose()) * 0.5;
            Mat(symmetric
                .cholesky()
                .expect("Cholesky of a matrix that is not positive definite")
                .l())
        }
        Op::Int(n) => Value::Int(*n),
        Op::SymConst(value) => Value::Int(sym_value(value)),
        Op::IntBin(op) => {
            let (x, y) = (a[0].int(), a[1].int());
            Value::Int(match op {
                IntOp::Add => x + y,
                IntOp::Sub => x - y,
                IntOp::Mul => x * y,
                IntOp::Div => x / y,
                IntOp::Rem => x % y,
            })
        }
        Op::Cmp(cmp) => Value::Bool(match (a[0], a[1]) {
            (Value::Int(x), Value::Int(y)) => cmp.holds(x, y),
            (Scalar(x), Scalar(y)) => cmp.holds(x, y),
            _ => panic!("Cmp of a {} and a {}", a[0].ty(), a[1].ty()),
        }),
        Op::Bool(b) => Value::Bool(*b),
        Op::Not => Value::Bool(!a[0].condition()),
        Op::IntToFloat => {
            #[allow(clippy::cast_precision_loss, reason = "as the generated code's `as`")]
            let x = a[0].int() as f64;
            Scalar(x)
        }
        Op::Assert(message) => {
            assert!(a[0].condition(), "{message}");
            a[0].clone()
        }
        Op::At => Scalar(a[0].mat()[(a[1].index(), a[2].index())]),
        Op::SetAt => {
            let mut m = a[0].mat().clone();
            m[(a[2].index(), a[3].index())] = a[1].scalar();
            Mat(m)
        }
        Op::Block(..) => {
            let (r, c) = dims(ty);
            Mat(a[0]
                .mat()
                .view((a[1].index(), a[2].index()), (r, c))
                .into_owned())
        }
        Op::SetBlock => {
            let mut m = a[0].mat().clone();
            let b = a[1].mat();
            m.view_mut((a[2].index(), a[3].index()), b.shape())
                .copy_from(b);
            Mat(m)
        }
        Op::AddAt => {
            let mut m = a[0].mat().clone();
            m[(a[2].index(), a[3].index())] += a[1].scalar();
            Mat(m)
        }
        Op::AddBlock => {
            let mut m = a[0].mat().clone();
            let b = a[1].mat();
            let mut view = m.view_mut((a[2].index(), a[3].index()), b.shape());
            view += b;
            Mat(m)
        }
        Op::Load => match a[0] {
            Value::Array(items) => items[a[1].index()].clone(),
            other => panic!("Load of a {}", other.ty()),
        },
        Op::ConstAt(name) => panic!("`{name}` has no value in the interpreter"),
        Op::EmptyTape => Value::Array(Vec::new()),
        Op::Loop(spec) => run_loop(env, g, spec, a),
        Op::Cond(spec) => {
            let region = if a[0].condition() {
                spec.then_region
            } else {
                spec.else_region
            };
            let region = &g.regions[region];
            let params: Vec<Value> = a[1..].iter().map(|&v| v.clone()).collect();
            Tuple(eval_in(env, &region.graph, &params, &region.outputs))
        }
        Op::EigenGaps => {
            let l = a[0].mat();
            assert_eq!(l.ncols(), 1, "EigenGaps of a non-vector");
            let n = l.nrows();
            Mat(DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    0.0
                } else {
                    (l[j] - l[i]).recip()
                }
            }))
        }
    }
}

/// A symbolic integer's value: tests give literal ones only.
pub fn sym_value(value: &SymInt) -> i64 {
    let pair = |a: &SymInt, b: &SymInt| (sym_value(a), sym_value(b));
    match value {
        SymInt::Lit(n) => *n,
        SymInt::Name(name) | SymInt::Len(name) => {
            panic!("`{name}` has no value in the interpreter")
        }
        SymInt::Add(a, b) => {
            let (a, b) = pair(a, b);
            a + b
        }
        SymInt::Sub(a, b) => {
            let (a, b) = pair(a, b);
            a - b
        }
        SymInt::Mul(a, b) => {
            let (a, b) = pair(a, b);
            a * b
        }
        SymInt::Div(a, b) => {
            let (a, b) = pair(a, b);
            a / b
        }
        SymInt::Rem(a, b) => {
            let (a, b) = pair(a, b);
            a % b
        }
        SymInt::Min(a, b) => {
            let (a, b) = pair(a, b);
            a.min(b)
        }
        SymInt::Max(a, b) => {
            let (a, b) = pair(a, b);
            a.max(b)
        }
    }
}

/// A loop, iteration by iteration, as the generated `for` runs it.
fn run_loop(env: &Env, g: &Graph, spec: &crate::ops::LoopSpec, a: &[&Value]) -> Value {
    let region = &g.regions[spec.region];
    let n = spec.n_carries;
    let mut carried: Vec<Value> = a[..n].iter().map(|&v| v.clone()).collect();
    let captures: Vec<Value> = a[n..].iter().map(|&v| v.clone()).collect();
    let trip = sym_value(&spec.trip).max(0);
    let taped: Vec<usize> = spec.taped().collect();
    let mut order: Vec<i64> = (0..trip).collect();
    if spec.backward {
        order.reverse();
    }
    let capacity = match crate::types::tape_capacity(&spec.trip) {
        Some(SymInt::Lit(c)) => usize::try_from(c).expect("a tape's length"),
        other => panic!("a tape of capacity {other:?}"),
    };
    let mut tapes: Vec<Vec<Value>> = taped
        .iter()
        .map(|&j| vec![Value::zero(&carried[j].ty()); capacity])
        .collect();
    for k in order {
        let i = sym_value(&spec.start) + spec.step * k;
        let slot = usize::try_from(k).expect("k >= 0");
        for (tape, &j) in tapes.iter_mut().zip(&taped) {
            tape[slot] = carried[j].clone();
        }
        let mut params = vec![Value::Int(i), Value::Int(k)];
        params.extend(carried.iter().cloned());
        params.extend(captures.iter().cloned());
        carried = eval_in(env, &region.graph, &params, &region.outputs);
    }
    let mut items = carried;
    items.extend(tapes.into_iter().map(Value::Array));
    Value::Tuple(items)
}

fn square(value: &Value) -> &DMatrix<f64> {
    let m = value.mat();
    assert!(m.is_square(), "expected a square matrix");
    m
}

/// The scalar function `g.scalar_fns[f]` at `t`: its closure body evaluated with `Param(0) = t`.
fn scalar_fn(env: &Env, g: &Graph, f: usize, t: f64) -> f64 {
    let ScalarFn { body, output } = g.scalar_fns[f];
    eval_in(env, &g.bodies[body], &[Value::Scalar(t)], &[output])[0].scalar()
}

/// The program of the function `g.callees[c]` names.
fn callee<'a>(env: &Env<'a>, g: &Graph, c: usize) -> &'a Program {
    let path = g.callees[c].path.to_token_stream().to_string();
    env.callees
        .get(&path)
        .unwrap_or_else(|| panic!("no program given for the callee `{path}`"))
}

/// `(f, ∇₁f, .., ∇ₙf)` at `args`, from the callee's program.
fn call_vjp(program: &Program, args: &[&Value]) -> Value {
    let params: Vec<Value> = args.iter().map(|&v| v.clone()).collect();
    let value = eval(&program.graph, &params, &[program.value]).remove(0);
    let mut items = vec![value];
    for (k, grad) in program.gradient_all.iter().enumerate() {
        items.push(match grad {
            Some(id) => eval(&program.graph, &params, &[*id]).remove(0),
            None => Value::zero(&args[k].ty()),
        });
    }
    Value::Tuple(items)
}

/// The tangent of [`call_vjp`] along the directions in the second half of `args`.
fn call_tangent(program: &Program, args: &[&Value]) -> Value {
    let params: Vec<Value> = args.iter().map(|&v| v.clone()).collect();
    let n = args.len() / 2;
    let types = std::iter::once(Ty::Scalar).chain(args[..n].iter().map(|v| v.ty()));
    let items = program
        .tangent_all
        .iter()
        .zip(types)
        .map(|(id, ty)| match id {
            Some(id) => eval(&program.graph, &params, &[*id]).remove(0),
            None => Value::zero(&ty),
        })
        .collect();
    Value::Tuple(items)
}

/// A scalar function, as `f64`'s method of the same name; the derivative-only ones: `Sign` is
/// 0 at 0, `RecipOrZero` is 0 at 0, the step is 1 for `x > 0`, else 0.
pub fn apply(fun: Fun, x: f64) -> f64 {
    match fun {
        Fun::Exp => x.exp(),
        Fun::Ln => x.ln(),
        Fun::Sqrt => x.sqrt(),
        Fun::Sin => x.sin(),
        Fun::Cos => x.cos(),
        Fun::Tan => x.tan(),
        Fun::Tanh => x.tanh(),
        Fun::Recip => x.recip(),
        Fun::Abs => x.abs(),
        Fun::Signum => x.signum(),
        Fun::Sign => {
            if x == 0.0 {
                0.0
            } else {
                x.signum()
            }
        }
        Fun::RecipOrZero => {
            if x == 0.0 {
                0.0
            } else {
                x.recip()
            }
        }
        Fun::LnOrZero => {
            if x == 0.0 {
                0.0
            } else {
                x.ln()
            }
        }
        Fun::Step => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Fun::Powi(n) => x.powi(n),
        Fun::Ln1p => x.ln_1p(),
        Fun::ExpM1 => x.exp_m1(),
        Fun::Log10 => x.log10(),
        Fun::Log2 => x.log2(),
        Fun::Atan => x.atan(),
        Fun::Asin => x.asin(),
        Fun::Acos => x.acos(),
        Fun::Sinh => x.sinh(),
        Fun::Cosh => x.cosh(),
        Fun::Cbrt => x.cbrt(),
    }
}

/// Tests of the interpreter itself, against hand-computed values.
mod sanity {
    use super::*;
    use crate::build::Build;
    use crate::ir::Elem;
    use proc_macro2::Span;

    fn rows(r: usize, c: usize, entries: &[f64]) -> Value {
        Value::Mat(DMatrix::from_row_slice(r, c, entries))
    }

    fn param(g: &mut Graph, k: usize, ty: Ty) -> Id {
        g.add_typed(Op::Param(k), &[], ty, Span::call_site())
    }

    #[test]
    fn matrix_ops_follow_nalgebra() {
        let sp = Span::call_site();
        let mut g = Graph::new(Elem::F64);
        let a = param(&mut g, 0, Ty::mat(2, 3));
        let b = param(&mut g, 1, Ty::mat(3, 2));
        let ab = g.add(Op::MatMul, &[a, b], sp);
        let tr = g.add(Op::Trace, &[ab], sp);
        let bt = g.add(Op::Transpose, &[b], sp);
        let dot = g.add(Op::Dot, &[a, bt], sp);
        let idx = g.add(Op::Index(1, 2), &[a], sp);
        let s = g.lit(2.5, sp);
        let fill = g.add_typed(Op::Fill, &[s], Ty::mat(2, 2), sp);
        let embed = g.add_typed(Op::Embed(0, 1), &[s], Ty::mat(2, 2), sp);
        let eye = g.add_typed(Op::Identity, &[], Ty::mat(2, 3), sp);
        let sum = g.add(Op::Sum, &[a], sp);
        let norm = g.add(Op::Norm, &[a], sp);
        let am = rows(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let bm = rows(3, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        let params = [am, bm];
        let out = eval(
            &g,
            &params,
            &[ab, tr, dot, idx, fill, embed, eye, sum, norm],
        );
        assert_eq!(out[0], rows(2, 2, &[4.0, 5.0, 10.0, 11.0]));
        assert_eq!(out[1], Value::Scalar(15.0));
        assert_eq!(out[2], Value::Scalar(15.0)); // <A, Bᵀ> = tr(A B)
        assert_eq!(out[3], Value::Scalar(6.0));
        assert_eq!(out[4], rows(2, 2, &[2.5, 2.5, 2.5, 2.5]));
        assert_eq!(out[5], rows(2, 2, &[0.0, 2.5, 0.0, 0.0]));
        assert_eq!(out[6], rows(2, 3, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]));
        assert_eq!(out[7], Value::Scalar(21.0));
        assert_eq!(out[8], Value::Scalar(91.0_f64.sqrt()));
    }

    #[test]
    fn sign_is_zero_at_zero_and_signum_is_not() {
        assert_eq!(apply(Fun::Sign, 0.0), 0.0);
        assert_eq!(apply(Fun::Sign, -0.0), 0.0);
        assert_eq!(apply(Fun::Sign, -3.0), -1.0);
        assert_eq!(apply(Fun::Signum, 0.0), 1.0);
        assert_eq!(apply(Fun::RecipOrZero, 0.0), 0.0);
        assert_eq!(apply(Fun::RecipOrZero, 4.0), 0.25);
        assert_eq!(apply(Fun::Powi(-2), 2.0), 0.25);
    }

    #[test]
    #[should_panic(expected = "declares type")]
    fn a_mistyped_node_is_caught() {
        let sp = Span::call_site();
        let mut g = Graph::new(Elem::F64);
        let s = g.lit(2.0, sp);
        // A parameter given a value of another shape than the one it declares.
        let x = param(&mut g, 0, Ty::mat(2, 2));
        let y = g.add(Op::Scale, &[s, x], sp);
        eval(&g, &[Value::Mat(DMatrix::zeros(3, 2))], &[y]);
    }
}
