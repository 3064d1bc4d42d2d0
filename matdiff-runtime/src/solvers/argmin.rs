//! argmin's [`CostFunction`], [`Gradient`] and [`Hessian`] from matdiff's generated functions,
//! and a Hessian operator that multiplies by calling the generated Hessian-vector product, so
//! that `NewtonCG` and `TrustRegion` with `Steihaug` run matrix-free.
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::trustregion::{Steihaug, TrustRegion};
//! use matdiff_runtime::nalgebra::{Matrix2, Vector2};
//! use matdiff_runtime::solvers::argmin::Objective;
//!
//! // Rosenbrock's function and its derivatives; with matdiff, `#[differentiate(wrt = x)] fn f`
//! // generates `f_grad` and `f_hvp` with exactly these signatures.
//! fn f(x: &Vector2<f64>) -> f64 {
//!     (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
//! }
//! fn f_grad(x: &Vector2<f64>) -> Vector2<f64> {
//!     let d = x[1] - x[0] * x[0];
//!     Vector2::new(-2.0 * (1.0 - x[0]) - 400.0 * x[0] * d, 200.0 * d)
//! }
//! fn f_hvp(x: &Vector2<f64>, v: &Vector2<f64>) -> Vector2<f64> {
//!     let h = Matrix2::new(
//!         2.0 - 400.0 * (x[1] - 3.0 * x[0] * x[0]), -400.0 * x[0],
//!         -400.0 * x[0], 200.0,
//!     );
//!     h * v
//! }
//!
//! let problem = Objective::new(f, f_grad).with_hvp(f_hvp);
//! let solver = TrustRegion::new(Steihaug::new());
//! let result = Executor::new(problem, solver)
//!     .configure(|state| state.param(Vector2::new(-1.2, 1.0)).max_iters(100).target_cost(1e-16))
//!     .run()
//!     .unwrap();
//! let x = result.state().get_best_param().unwrap();
//! assert!((x - Vector2::new(1.0, 1.0)).norm() < 1e-7, "{x}");
//! ```
//!
//! argmin 0.11's `NewtonCG` runs on the operator too, but converges slowly: its inner
//! conjugate-gradient loop stops when the *squared* residual norm falls below
//! `min(½, √‖g‖) ‖g‖`, which once ‖g‖ < 1 the first step always satisfies, so each outer step
//! is nearly a steepest-descent step. The dense Hessian gives the same iterates; a trust
//! region with `Steihaug` does not have this limit.
//!
//! Functions with data take closures: `Objective::new(|x| f(x, &data), |x| f_grad(x, &data))`
//! (a closure given to [`Objective::with_hvp`] must be `Clone`, as closures borrowing their
//! data are). argmin's `serde1` feature (checkpointing) needs serialisable state, which the
//! Hessian operator is not.

use std::marker::PhantomData;

use ::argmin::core::{CostFunction, Error, Gradient, Hessian};
use ::argmin_math::ArgminDot;
use nalgebra::{RealField, SMatrix, SVector};

/// An objective for argmin: the function, its gradient and, once asked for, its Hessian as a
/// matrix ([`Objective::with_hessian`]) or as products ([`Objective::with_hvp`]).
///
/// The parameter is `SVector<T, N>`; the cost is `T`.
#[derive(Clone, Debug)]
pub struct Objective<C, G, H, T, const N: usize> {
    cost: C,
    gradient: G,
    hessian: H,
    scalar: PhantomData<fn() -> T>,
}

/// No Hessian: the objective serves first-order solvers (L-BFGS, gradient descent, ...).
#[derive(Clone, Copy, Debug)]
pub struct NoHessian;

/// The Hessian as a dense matrix, from a generated `_hessian`.
#[derive(Clone, Copy, Debug)]
pub struct DenseHessian<F>(F);

/// The Hessian as products, from a generated `_hvp`: argmin receives a [`HessianOperator`].
#[derive(Clone, Copy, Debug)]
pub struct HessianProducts<F>(F);

impl<C, G, T, const N: usize> Objective<C, G, NoHessian, T, N>
where
    T: RealField + Copy,
    C: Fn(&SVector<T, N>) -> T,
    G: Fn(&SVector<T, N>) -> SVector<T, N>,
{
    /// The objective of `cost`, with its gradient (a generated `_grad`).
    pub fn new(cost: C, gradient: G) -> Self {
        Self {
            cost,
            gradient,
            hessian: NoHessian,
            scalar: PhantomData,
        }
    }

    /// Adds the dense Hessian (a generated `_hessian`), for argmin's `Newton` and
    /// `TrustRegion` with dense subproblem solvers.
    pub fn with_hessian<H>(self, hessian: H) -> Objective<C, G, DenseHessian<H>, T, N>
    where
        H: Fn(&SVector<T, N>) -> SMatrix<T, N, N>,
    {
        self.with(DenseHessian(hessian))
    }

    /// Adds the Hessian-vector product (a generated `_hvp`): argmin's Hessian is then a
    /// [`HessianOperator`] that calls it, for `NewtonCG` and `TrustRegion` with `Steihaug`.
    pub fn with_hvp<H>(self, hvp: H) -> Objective<C, G, HessianProducts<H>, T, N>
    where
        H: Fn(&SVector<T, N>, &SVector<T, N>) -> SVector<T, N> + Clone,
    {
        self.with(HessianProducts(hvp))
    }

    fn with<H>(self, hessian: H) -> Objective<C, G, H, T, N> {
        Objective {
            cost: self.cost,
            gradient: self.gradient,
            hessian,
            scalar: PhantomData,
        }
    }
}

impl<C, G, H, T, const N: usize> CostFunction for Objective<C, G, H, T, N>
where
    C: Fn(&SVector<T, N>) -> T,
{
    type Param = SVector<T, N>;
    type Output = T;

    fn cost(&self, x: &SVector<T, N>) -> Result<T, Error> {
        Ok((self.cost)(x))
    }
}

impl<C, G, H, T, const N: usize> Gradient for Objective<C, G, H, T, N>
where
    G: Fn(&SVector<T, N>) -> SVector<T, N>,
{
    type Param = SVector<T, N>;
    type Gradient = SVector<T, N>;

    fn gradient(&self, x: &SVector<T, N>) -> Result<SVector<T, N>, Error> {
        Ok((self.gradient)(x))
    }
}

impl<C, G, F, T, const N: usize> Hessian for Objective<C, G, DenseHessian<F>, T, N>
where
    F: Fn(&SVector<T, N>) -> SMatrix<T, N, N>,
{
    type Param = SVector<T, N>;
    type Hessian = SMatrix<T, N, N>;

    fn hessian(&self, x: &SVector<T, N>) -> Result<SMatrix<T, N, N>, Error> {
        Ok((self.hessian.0)(x))
    }
}

impl<C, G, F, T, const N: usize> Hessian for Objective<C, G, HessianProducts<F>, T, N>
where
    T: RealField + Copy,
    F: Fn(&SVector<T, N>, &SVector<T, N>) -> SVector<T, N> + Clone,
{
    type Param = SVector<T, N>;
    type Hessian = HessianOperator<F, T, N>;

    fn hessian(&self, x: &SVector<T, N>) -> Result<HessianOperator<F, T, N>, Error> {
        Ok(HessianOperator {
            at: *x,
            hvp: self.hessian.0.clone(),
        })
    }
}

/// The Hessian at a point as an operator: `h.dot(&v)` is the Hessian-vector product
/// `∇²f(x) v`, computed by the generated `_hvp` without forming the matrix.
#[derive(Clone, Debug)]
pub struct HessianOperator<F, T, const N: usize> {
    at: SVector<T, N>,
    hvp: F,
}

impl<F, T, const N: usize> HessianOperator<F, T, N>
where
    T: RealField + Copy,
{
    /// The point the Hessian is taken at.
    pub fn point(&self) -> SVector<T, N> {
        self.at
    }
}

impl<F, T, const N: usize> ArgminDot<SVector<T, N>, SVector<T, N>> for HessianOperator<F, T, N>
where
    F: Fn(&SVector<T, N>, &SVector<T, N>) -> SVector<T, N>,
{
    fn dot(&self, v: &SVector<T, N>) -> SVector<T, N> {
        (self.hvp)(&self.at, v)
    }
}
