//! The solver adapters against the real crates: `levenberg-marquardt`'s
//! `LeastSquaresProblem` and argmin's `CostFunction`/`Gradient`/`Hessian`, on residuals and
//! objectives written as people write them. Each solver must land on a known answer, and what
//! the adapters hand the solvers is checked against the solvers' own finite differences.
//!
//! Run with `cargo test --features levenberg-marquardt,argmin --test test_solvers` (both crates
//! are built on nalgebra 0.34, which these features select).
#![cfg(any(feature = "levenberg-marquardt", feature = "argmin"))]

mod common;

#[cfg(feature = "levenberg-marquardt")]
mod levenberg_marquardt_adapter {
    use levenberg_marquardt::{differentiate_numerically, LeastSquaresProblem, LevenbergMarquardt};
    use matdiff::differentiate;
    use matdiff::nalgebra::{Matrix3, SMatrix, SVector, Vector2, Vector3};
    use matdiff::runtime::solvers::levenberg_marquardt::LeastSquares;
    use matdiff::runtime::Rng;

    use crate::common::SEEDS;

    include!("../benches/data/ceres_curve_fitting.rs");

    /// Ceres's `ExponentialResidual`, one residual per observation, in a loop.
    #[differentiate(wrt = p)]
    fn curve_residual(p: &Vector2<f64>) -> SVector<f64, CURVE_POINTS> {
        let mut r = SVector::<f64, CURVE_POINTS>::zeros();
        for i in 0..CURVE_POINTS {
            r[i] = CURVE_DATA[2 * i + 1] - (p[0] * CURVE_DATA[2 * i] + p[1]).exp();
        }
        r
    }

    /// Six points seen through a pinhole from `pose` (angle-axis rotation by Rodrigues'
    /// formula, then translation), minus their observations: twelve residuals.
    #[differentiate(wrt = pose)]
    fn reprojection(
        pose: &SVector<f64, 6>,
        points: &SMatrix<f64, 3, 6>,
        observed: &SMatrix<f64, 2, 6>,
    ) -> SVector<f64, 12> {
        let w = pose.fixed_rows::<3>(0);
        let t = pose.fixed_rows::<3>(3);
        let theta = w.norm();
        let k = w / theta;
        let (s, c) = theta.sin_cos();
        let mut r = SVector::<f64, 12>::zeros();
        for i in 0..6 {
            let x = points.column(i);
            let p = x * c + k.cross(&x) * s + k * (k.dot(&x) * (1.0 - c)) + t;
            r[2 * i] = p[0] / p[2] - observed[(0, i)];
            r[2 * i + 1] = p[1] / p[2] - observed[(1, i)];
        }
        r
    }

    /// Ceres's published fit: `m = 0.291861, c = 0.131439`, final cost `1.056751`.
    #[test]
    fn curve_fit_lands_on_ceres_fit() {
        let problem = LeastSquares::new(Vector2::zeros(), curve_residual, curve_residual_jacobian);
        let (problem, report) = LevenbergMarquardt::new().minimize(problem);
        assert!(
            report.termination.was_successful(),
            "{:?}",
            report.termination
        );
        // Ceres stops at its function tolerance, a little before the minimum; LM here goes on
        // to where the gradient Jᵀr vanishes, 4e-5 from Ceres's printed fit (in c), with the
        // same cost to Ceres's seven digits.
        let fit = problem.parameters();
        assert!(
            (fit - Vector2::new(0.291861, 0.131439)).amax() < 5e-5,
            "{fit}"
        );
        assert!((report.objective_function - 1.056751).abs() < 5e-7);
        let gradient = curve_residual_jacobian(&fit).transpose() * curve_residual(&fit);
        assert!(gradient.amax() < 1e-8, "{gradient}");
    }

    /// What the adapter hands the solver is the residual's Jacobian, in its convention (row
    /// `i` the gradient of `rᵢ`): the crate's own finite differences agree.
    #[test]
    fn jacobians_agree_with_the_solvers_finite_differences() {
        for seed in SEEDS {
            let mut rng = Rng::new(seed);
            let p = Vector2::new(0.3 * rng.uniform(), 0.3 * rng.uniform());
            let mut problem = LeastSquares::new(p, curve_residual, curve_residual_jacobian);
            let numerical = differentiate_numerically(&mut problem).unwrap();
            let generated = problem.jacobian().unwrap();
            assert!((generated - numerical).amax() < 1e-6 * generated.amax());

            let (pose, points, _) = scene(&mut rng);
            let observed = SMatrix::<f64, 2, 6>::zeros();
            let mut problem = LeastSquares::new(
                pose,
                |p| reprojection(p, &points, &observed),
                |p| reprojection_jacobian(p, &points, &observed),
            );
            let numerical = differentiate_numerically(&mut problem).unwrap();
            let generated = problem.jacobian().unwrap();
            assert!((generated - numerical).amax() < 1e-6 * generated.amax());
        }
    }

    /// A camera pose recovered from six exact observations, started a few degrees and
    /// centimetres off.
    #[test]
    fn pose_recovered_from_reprojections() {
        for seed in SEEDS {
            let mut rng = Rng::new(seed);
            let (pose, points, observed) = scene(&mut rng);
            let start = pose + 0.05 * rng.matrix::<6, 1>();
            let problem = LeastSquares::new(
                start,
                |p| reprojection(p, &points, &observed),
                |p| reprojection_jacobian(p, &points, &observed),
            );
            let (problem, report) = LevenbergMarquardt::new().minimize(problem);
            assert!(
                report.termination.was_successful(),
                "{:?}",
                report.termination
            );
            let found = problem.parameters();
            assert!(
                (found - pose).amax() < 1e-8,
                "seed {seed}: {found} vs {pose}"
            );
        }
    }

    /// A pose (rotation of about half a radian), six points about five units in front of the
    /// camera, and their exact projections.
    fn scene(rng: &mut Rng) -> (SVector<f64, 6>, SMatrix<f64, 3, 6>, SMatrix<f64, 2, 6>) {
        let axis: Vector3<f64> = rng.matrix::<3, 1>().normalize();
        let pose = SVector::<f64, 6>::from_iterator(
            (0.5 * axis)
                .iter()
                .copied()
                .chain(rng.matrix::<3, 1>().scale(0.2).iter().copied()),
        );
        let points = SMatrix::<f64, 3, 6>::from_fn(|i, _| if i == 2 { 5.0 } else { 0.0 })
            + Matrix3::identity() * rng.matrix::<3, 6>();
        let observed = SMatrix::<f64, 2, 6>::from_column_slice(
            reprojection(&pose, &points, &SMatrix::zeros()).as_slice(),
        );
        (pose, points, observed)
    }
}

#[cfg(feature = "argmin")]
mod argmin_adapter {
    use argmin::core::{Executor, Hessian, State};
    use argmin::solver::linesearch::MoreThuenteLineSearch;
    use argmin::solver::newton::{Newton, NewtonCG};
    use argmin::solver::quasinewton::LBFGS;
    use argmin::solver::trustregion::{Steihaug, TrustRegion};
    use argmin_math::ArgminDot;
    use matdiff::differentiate;
    use matdiff::nalgebra::SVector;
    use matdiff::runtime::solvers::argmin::Objective;
    use matdiff::runtime::{directional_derivative, Rng};

    use crate::common::{assert_close, SEEDS};

    const N: usize = 6;

    /// The extended Rosenbrock function, written as a loop.
    #[differentiate(wrt = x)]
    fn rosenbrock(x: &SVector<f64, N>) -> f64 {
        let mut sum = 0.0;
        for i in 0..x.len() - 1 {
            sum += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
        }
        sum
    }

    /// The origin: from the usual `(−1.2, 1, −1.2, ..)` a trust region may end in the local
    /// minimum near `(−1, 1, .., 1)` that this function has in 4 to 7 dimensions.
    fn start() -> SVector<f64, N> {
        SVector::zeros()
    }

    fn assert_at_ones(solver: &str, x: Option<&SVector<f64, N>>) {
        let x = x.unwrap_or_else(|| panic!("{solver} found nothing"));
        let error = (x - SVector::<f64, N>::repeat(1.0)).amax();
        assert!(error < 1e-6, "{solver} stopped at {x}");
    }

    #[test]
    fn lbfgs_on_the_gradient() {
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7);
        let result = Executor::new(Objective::new(rosenbrock, rosenbrock_grad), solver)
            .configure(|state| state.param(start()).max_iters(200))
            .run()
            .unwrap();
        assert_at_ones("L-BFGS", result.state().get_best_param());
    }

    #[test]
    fn steihaug_trust_region_on_the_hvp() {
        let objective = Objective::new(rosenbrock, rosenbrock_grad).with_hvp(rosenbrock_hvp);
        let solver = TrustRegion::new(Steihaug::new().with_max_iters(2 * N as u64));
        let result = Executor::new(objective, solver)
            .configure(|state| state.param(start()).max_iters(200).target_cost(1e-16))
            .run()
            .unwrap();
        assert_at_ones("trust region (Steihaug)", result.state().get_best_param());
    }

    /// Newton-CG takes the same steps on the operator as on the dense Hessian (argmin 0.11's
    /// Newton-CG itself converges slowly near the minimum, see the README).
    #[test]
    fn newton_cg_on_the_hvp_steps_as_on_the_dense_hessian() {
        let objective = Objective::new(rosenbrock, rosenbrock_grad);
        let on_products = Executor::new(
            objective.clone().with_hvp(rosenbrock_hvp),
            NewtonCG::new(MoreThuenteLineSearch::new()),
        )
        .configure(|state| state.param(start()).max_iters(30))
        .run()
        .unwrap();
        let on_matrix = Executor::new(
            objective.with_hessian(rosenbrock_hessian),
            NewtonCG::new(MoreThuenteLineSearch::new()),
        )
        .configure(|state| state.param(start()).max_iters(30))
        .run()
        .unwrap();
        let (a, b) = (on_products.state(), on_matrix.state());
        let (x, y) = (a.get_best_param().unwrap(), b.get_best_param().unwrap());
        assert!((x - y).amax() < 1e-9, "{x} vs {y}");
        assert!(a.get_best_cost() < 0.1 * rosenbrock(&start()));
    }

    #[test]
    fn newton_on_the_dense_hessian() {
        let objective =
            Objective::new(rosenbrock, rosenbrock_grad).with_hessian(rosenbrock_hessian);
        // Pure Newton steps need a start inside the basin: halfway to the minimum.
        let near = start().lerp(&SVector::repeat(1.0), 0.9);
        let result = Executor::new(objective, Newton::<f64>::new())
            .configure(|state| state.param(near).max_iters(50))
            .run()
            .unwrap();
        assert_at_ones("Newton", result.state().get_best_param());
    }

    /// The operator argmin multiplies by is the Hessian: equal to the dense `f_hessian` times
    /// the vector, and to central differences of the gradient.
    #[test]
    fn hessian_operator_multiplies_by_the_hessian() {
        let objective = Objective::new(rosenbrock, rosenbrock_grad).with_hvp(rosenbrock_hvp);
        for seed in SEEDS {
            let mut rng = Rng::new(seed);
            let x = rng.matrix::<N, 1>();
            let v = rng.matrix::<N, 1>();
            let operator = objective.hessian(&x).unwrap();
            let product: SVector<f64, N> = operator.dot(&v);
            assert_close(&product, &(rosenbrock_hessian(&x) * v), 1e-12);
            let differences = SVector::<f64, N>::from_fn(|i, _| {
                directional_derivative(|y| rosenbrock_grad(y)[i], &x, &v)
            });
            assert_close(&product, &differences, 1e-6);
            assert_eq!(operator.point(), x);
        }
    }
}
