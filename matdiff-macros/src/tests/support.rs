//! Shared test helpers: a deterministic RNG, random values, tolerant comparison, and the
//! pipeline run on a parsed function.

use super::interp::{dims, eval_in, Env, Value};
use crate::args::Args;
use crate::build::Build;
use crate::emit::Program;
use crate::ir::{Graph, Id, Ty};
use crate::ops::Op;
use crate::sig::Signature;
use nalgebra::DMatrix;
use proc_macro2::{Span, TokenStream};
use syn::ItemFn;

/// The step of every central finite difference.
pub const FD_STEP: f64 = 1e-5;

/// SplitMix64: small, deterministic, good enough for test inputs.
pub struct Rng(u64);

/// Where random inputs are drawn from.
#[derive(Clone, Copy, Debug)]
pub enum Domain {
    /// Uniform in `[-1, 1]`.
    Any,
    /// Uniform in `[0.5, 2]`: for `ln`, `sqrt`.
    Positive,
    /// Uniform in `[-0.8, 0.8]`: inside the domain of `asin`, `acos`, `ln_1p`, away from the
    /// poles of their derivatives at `±1`.
    Interior,
    /// `±` uniform in `[0.5, 1.5]`: away from the kinks and poles at 0.
    NonZero,
    /// A square matrix `2 I + E`, `E` uniform in `[-0.25, 0.25]`: invertible, well
    /// conditioned, with a positive determinant.
    NearIdentity,
    /// A symmetric matrix with well separated eigenvalues: `diag(0, 1.5, 3, ..) + E`, `E`
    /// symmetric with entries in `[-0.2, 0.2]`.
    SeparatedSymmetric,
    /// A symmetric matrix with entries in `[-1, 1]`: a direction tangent to the symmetric
    /// matrices.
    Symmetric,
    /// `diag(1, 2.5, 4, ..) + E`, `E` uniform in `[-0.2, 0.2]`: well separated singular values.
    SeparatedSingular,
    /// A square matrix `2 I + E`, `E` symmetric with entries in `[-0.25, 0.25]`: symmetric
    /// positive definite, well conditioned (other shapes: `2 I + E`, `E` uniform).
    SymmetricPositive,
    /// Entries `1.5 i + u`, `u` uniform in `[-0.25, 0.25]`, `i` the linear index: far apart.
    Spread,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A scalar from `domain` (the matrix domains give a uniform in `[-1, 1]`).
    pub fn sample(&mut self, domain: Domain) -> f64 {
        let u = self.unit();
        match domain {
            Domain::NonZero => {
                let sign = if self.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                sign * (0.5 + u)
            }
            Domain::Positive => 0.5 + 1.5 * u,
            Domain::Interior => 1.6 * u - 0.8,
            _ => 2.0 * u - 1.0,
        }
    }

    pub fn value(&mut self, ty: &Ty, domain: Domain) -> Value {
        match ty {
            Ty::Scalar => return Value::Scalar(self.sample(domain)),
            Ty::Tuple(items) => {
                return Value::Tuple(items.iter().map(|ty| self.value(ty, domain)).collect())
            }
            // Small integers: valid indices of the 2x3 and larger matrices the tests use.
            Ty::Int => return Value::Int(i64::from(self.next_u64().is_multiple_of(2))),
            Ty::Bool => return Value::Bool(self.next_u64().is_multiple_of(2)),
            Ty::Array(item, crate::ir::SymInt::Lit(n)) => {
                return Value::Array((0..*n).map(|_| self.value(item, domain)).collect())
            }
            Ty::Array(..) => panic!("tests use tapes of literal length"),
            Ty::Mat(..) => (),
        }
        let (r, c) = dims(ty);
        let m = match domain {
            Domain::Any | Domain::Positive | Domain::NonZero | Domain::Interior => {
                DMatrix::from_fn(r, c, |_, _| self.sample(domain))
            }
            Domain::NearIdentity => DMatrix::identity(r, c) * 2.0 + self.uniform(r, c, 0.25),
            Domain::SeparatedSymmetric => {
                let e = self.uniform(r, c, 0.2);
                DMatrix::from_fn(r, c, |i, j| if i == j { 1.5 * i as f64 } else { 0.0 })
                    + (&e + e.transpose()) * 0.5
            }
            Domain::SeparatedSingular => {
                DMatrix::from_fn(r, c, |i, j| if i == j { 1.0 + 1.5 * i as f64 } else { 0.0 })
                    + self.uniform(r, c, 0.2)
            }
            Domain::SymmetricPositive if r == c => {
                let e = self.uniform(r, c, 0.25);
                DMatrix::identity(r, c) * 2.0 + (&e + e.transpose()) * 0.5
            }
            Domain::SymmetricPositive => DMatrix::identity(r, c) * 2.0 + self.uniform(r, c, 0.25),
            Domain::Symmetric => {
                let e = self.uniform(r, c, 1.0);
                (&e + e.transpose()) * 0.5
            }
            Domain::Spread => {
                let u = self.uniform(r, c, 0.25);
                DMatrix::from_fn(r, c, |i, j| 1.5 * (i + r * j) as f64 + u[(i, j)])
            }
        };
        Value::Mat(m)
    }

    /// An `r x c` matrix with entries uniform in `[-half_width, half_width]`.
    fn uniform(&mut self, r: usize, c: usize, half_width: f64) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |_, _| half_width * (2.0 * self.unit() - 1.0))
    }
}

/// Asserts `|actual - expected| <= tol · (1 + max |expected|)` entrywise.
pub fn assert_close(actual: &Value, expected: &Value, tol: f64, what: &str) {
    assert_eq!(actual.ty(), expected.ty(), "{what}: shapes differ");
    let scale = 1.0 + expected.max_abs();
    let error = actual
        .entries()
        .iter()
        .zip(expected.entries())
        .fold(0.0_f64, |m, (a, e)| m.max((a - e).abs()));
    assert!(
        error <= tol * scale,
        "{what}: error {error:e} exceeds {tol:e} · {scale}\n  actual:   {actual:?}\n  expected: {expected:?}"
    );
}

/// Asserts two scalars agree to `tol` relative to `scale` (at least 1).
pub fn assert_scalar_close(actual: f64, expected: f64, tol: f64, scale: f64, what: &str) {
    let error = (actual - expected).abs();
    assert!(
        error <= tol * scale.max(1.0),
        "{what}: {actual} vs {expected} (error {error:e}, tolerance {tol:e} · {scale})"
    );
}

pub fn sp() -> Span {
    Span::call_site()
}

pub fn param(g: &mut Graph, k: usize, ty: &Ty) -> Id {
    g.add_typed(Op::Param(k), &[], ty.clone(), sp())
}

/// A function run through the pipeline, with what the tests need of its signature.
pub struct Differentiated {
    pub program: Program,
    /// The type of each user parameter; `Param(k)` for `k < params.len()`.
    pub params: Vec<Ty>,
    /// The index of each `wrt` parameter; its direction is `Param(params.len() + j)`.
    pub wrt: Vec<usize>,
    pub names: Vec<String>,
}

/// `expand::differentiate_body` on `func` with the attribute arguments `args`.
pub fn differentiate(func: &ItemFn, args: TokenStream) -> Differentiated {
    let args = Args::from_tokens(args).expect("valid attribute arguments");
    let sig = Signature::from_syn(func, &args).expect("supported signature");
    let program = crate::expand::differentiate_body(&sig)
        .unwrap_or_else(|e| panic!("the pipeline rejected the function: {e}"));
    Differentiated {
        params: sig.params.iter().map(|p| p.ty.clone()).collect(),
        names: sig.params.iter().map(|p| p.ident.to_string()).collect(),
        wrt: sig.wrt.clone(),
        program,
    }
}

/// A point and two directions per parameter (`Param(n + k)` is the direction of parameter `k`).
pub struct Point {
    pub x: Vec<Value>,
    pub v: Vec<Value>,
    pub w: Vec<Value>,
}

/// What the generated functions return at a point.
pub struct Outputs {
    pub value: f64,
    /// Per `wrt` parameter.
    pub gradient: Vec<Value>,
    pub hvp: Vec<Value>,
    /// Per parameter, for callers: `__matdiff_f_vjp`.
    pub gradient_all: Vec<Value>,
    /// The tangent of the value and of `gradient_all`: `__matdiff_f_tangent`.
    pub tangent_all: Vec<Value>,
}

impl Differentiated {
    /// Every output of the program at `x` with the directions `dirs` (one per parameter), in
    /// one pass over the graph; a symbolic zero is the zero of its type.
    pub fn outputs(&self, env: &Env, x: &[Value], dirs: &[Value]) -> Outputs {
        let p = &self.program;
        let wrt_types: Vec<Ty> = self.wrt.iter().map(|&k| self.params[k].clone()).collect();
        let tangent_types: Vec<Ty> = std::iter::once(Ty::Scalar)
            .chain(self.params.iter().cloned())
            .collect();
        let mut roots = vec![Some(p.value)];
        let mut types = vec![Ty::Scalar];
        for (ids, tys) in [
            (&p.gradient, &wrt_types),
            (&p.hvp, &wrt_types),
            (&p.gradient_all, &self.params),
            (&p.tangent_all, &tangent_types),
        ] {
            roots.extend(ids);
            types.extend(tys.iter().cloned());
        }
        let mut params = x.to_vec();
        params.extend(dirs.iter().cloned());
        let ids: Vec<Id> = roots.iter().flatten().copied().collect();
        let mut computed = eval_in(env, &p.graph, &params, &ids).into_iter();
        let mut values = roots.iter().zip(&types).map(|(root, ty)| match root {
            Some(_) => computed.next().expect("one value per root"),
            None => Value::zero(ty),
        });
        let mut take = |n: usize| values.by_ref().take(n).collect::<Vec<_>>();
        let value = take(1)[0].scalar();
        let (nw, np) = (self.wrt.len(), self.params.len());
        Outputs {
            value,
            gradient: take(nw),
            hvp: take(nw),
            gradient_all: take(np),
            tangent_all: take(np + 1),
        }
    }
}
