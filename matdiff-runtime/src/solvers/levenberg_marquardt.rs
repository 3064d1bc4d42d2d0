//! A [`LeastSquaresProblem`] of the
//! `levenberg-marquardt` crate from a residual function and its generated Jacobian.
//!
//! `#[differentiate(wrt = p)]` on a function returning `SVector<T, M>` generates
//! `<name>_jacobian(p, ..) -> SMatrix<T, M, N>`; [`LeastSquares`] holds the parameters and the
//! two functions, and the solver does the rest:
//!
//! ```
//! use levenberg_marquardt::LevenbergMarquardt;
//! use matdiff_runtime::nalgebra::{Matrix2, SVector, Vector2};
//! use matdiff_runtime::solvers::levenberg_marquardt::LeastSquares;
//!
//! // Rosenbrock's function as two residuals, `(10 (y − x²), 1 − x)`. With matdiff, the
//! // Jacobian is the generated `residual_jacobian` of `#[differentiate(wrt = p)] fn residual`.
//! fn residual(p: &SVector<f64, 2>) -> SVector<f64, 2> {
//!     Vector2::new(10.0 * (p[1] - p[0] * p[0]), 1.0 - p[0])
//! }
//! fn residual_jacobian(p: &SVector<f64, 2>) -> Matrix2<f64> {
//!     Matrix2::new(-20.0 * p[0], 10.0, -1.0, 0.0)
//! }
//!
//! let problem = LeastSquares::new(Vector2::new(-1.2, 1.0), residual, residual_jacobian);
//! let (problem, report) = LevenbergMarquardt::new().minimize(problem);
//! assert!(report.termination.was_successful());
//! assert!((problem.parameters() - Vector2::new(1.0, 1.0)).norm() < 1e-10);
//! ```
//!
//! Functions with data take closures: `LeastSquares::new(p0, |p| r(p, &data), |p|
//! r_jacobian(p, &data))`.

use ::levenberg_marquardt::LeastSquaresProblem;
use nalgebra::{ArrayStorage, Const, RealField, SMatrix, SVector};

/// A least-squares problem `min ½ ‖r(p)‖²` over `p ∈ ℝᴺ` with `M` residuals: the current
/// parameters, the residual function `r` and its Jacobian `∂r/∂p` (`M × N`, row `i` the
/// gradient of `rᵢ`, as matdiff's generated `_jacobian` returns it).
///
/// The solver calls [`LeastSquaresProblem::residuals`] at every trial point and
/// [`LeastSquaresProblem::jacobian`] only where it accepts a step, so the two are kept
/// separate rather than computed together.
#[derive(Clone, Debug)]
pub struct LeastSquares<R, J, T, const M: usize, const N: usize> {
    parameters: SVector<T, N>,
    residual: R,
    jacobian: J,
}

impl<R, J, T, const M: usize, const N: usize> LeastSquares<R, J, T, M, N>
where
    T: RealField + Copy,
    R: Fn(&SVector<T, N>) -> SVector<T, M>,
    J: Fn(&SVector<T, N>) -> SMatrix<T, M, N>,
{
    /// The problem starting at `parameters`, with the residual function and its Jacobian.
    pub fn new(parameters: SVector<T, N>, residual: R, jacobian: J) -> Self {
        Self {
            parameters,
            residual,
            jacobian,
        }
    }

    /// The current parameters: the solution once the solver has returned the problem.
    pub fn parameters(&self) -> SVector<T, N> {
        self.parameters
    }

    /// The residual vector at the current parameters.
    pub fn residual(&self) -> SVector<T, M> {
        (self.residual)(&self.parameters)
    }
}

impl<R, J, T, const M: usize, const N: usize> LeastSquaresProblem<T, Const<M>, Const<N>>
    for LeastSquares<R, J, T, M, N>
where
    T: RealField + Copy,
    R: Fn(&SVector<T, N>) -> SVector<T, M>,
    J: Fn(&SVector<T, N>) -> SMatrix<T, M, N>,
{
    type ResidualStorage = ArrayStorage<T, M, 1>;
    type JacobianStorage = ArrayStorage<T, M, N>;
    type ParameterStorage = ArrayStorage<T, N, 1>;

    fn set_params(&mut self, parameters: &SVector<T, N>) {
        self.parameters = *parameters;
    }

    fn params(&self) -> SVector<T, N> {
        self.parameters
    }

    fn residuals(&self) -> Option<SVector<T, M>> {
        Some(self.residual())
    }

    fn jacobian(&self) -> Option<SMatrix<T, M, N>> {
        Some((self.jacobian)(&self.parameters))
    }
}
