//! Rosenbrock's function in ten dimensions, written as a loop, minimised with argmin three
//! ways on what `#[differentiate]` generates:
//!
//! * L-BFGS on the gradient `rosenbrock_grad`;
//! * a trust region with Steihaug's conjugate-gradient subproblem on the Hessian-vector product
//!   `rosenbrock_hvp`, matrix-free: argmin multiplies by the Hessian through matdiff's
//!   `HessianOperator`;
//! * Newton-CG, on `rosenbrock_hvp` and on the dense `rosenbrock_hessian`.
//!
//! Each starts at the origin (from the usual `(−1.2, 1, −1.2, 1, ..)` a trust region can end in
//! one of the local minima this function has in more than three dimensions). L-BFGS and the trust region must reach the minimum
//! at all ones. argmin 0.11's Newton-CG compares the squared residual of its inner solve with
//! a norm, so once the gradient is below 1 its inner solve stops after one step and it crawls
//! like steepest descent: it is checked for taking the same steps on the operator as on the
//! dense Hessian, and its distance to the minimum is printed.
//!
//! Run it with `cargo run --release --example rosenbrock --features argmin`.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::NewtonCG;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use matdiff::differentiate;
use matdiff::nalgebra::SVector;
use matdiff::runtime::solvers::argmin::Objective;

/// The dimension.
const N: usize = 10;

/// `Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²`, the extended Rosenbrock function.
#[differentiate(wrt = x)]
fn rosenbrock(x: &SVector<f64, N>) -> f64 {
    let mut sum = 0.0;
    for i in 0..x.len() - 1 {
        sum += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    sum
}

/// Prints and checks one solver's result: the best point is all ones.
fn report(solver: &str, best: &SVector<f64, N>, iterations: u64, evaluations: &str) {
    let error = (best - SVector::<f64, N>::repeat(1.0)).amax();
    println!(
        "{solver:<28} {iterations:>4} iterations, {evaluations:<40} max |xᵢ − 1| = {error:.1e}"
    );
    assert!(error < 1e-6, "{solver} stopped at {best}");
}

fn main() {
    let start = SVector::<f64, N>::zeros();
    let objective = Objective::new(rosenbrock, rosenbrock_grad);
    println!(
        "Rosenbrock in {N} dimensions, f(start) = {:.1}, minimum 0 at all ones:",
        objective.cost(&start).unwrap()
    );

    let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), 7);
    let result = Executor::new(objective.clone(), lbfgs)
        .configure(|state| state.param(start).max_iters(200).counting(true))
        .run()
        .expect("L-BFGS");
    let state = result.state();
    let counts = &state.counts;
    report(
        "L-BFGS (gradient)",
        state.get_best_param().unwrap(),
        state.get_iter(),
        &format!(
            "{} costs, {} gradients",
            counts["cost_count"], counts["gradient_count"]
        ),
    );

    let trust_region = TrustRegion::new(Steihaug::new().with_max_iters(2 * N as u64));
    let result = Executor::new(objective.clone().with_hvp(rosenbrock_hvp), trust_region)
        .configure(|state| {
            state
                .param(start)
                .max_iters(200)
                .target_cost(1e-16)
                .counting(true)
        })
        .run()
        .expect("trust region");
    let state = result.state();
    report(
        "Trust region, Steihaug (HVP)",
        state.get_best_param().unwrap(),
        state.get_iter(),
        &format!("{} Hessian operators", state.counts["hessian_count"]),
    );

    let on_products = {
        let result = Executor::new(
            objective.clone().with_hvp(rosenbrock_hvp),
            NewtonCG::new(MoreThuenteLineSearch::new()),
        )
        .configure(|state| state.param(start).max_iters(100))
        .run()
        .expect("Newton-CG");
        *result.state().get_best_param().unwrap()
    };
    let on_matrix = {
        let result = Executor::new(
            objective.with_hessian(rosenbrock_hessian),
            NewtonCG::new(MoreThuenteLineSearch::new()),
        )
        .configure(|state| state.param(start).max_iters(100))
        .run()
        .expect("Newton-CG");
        *result.state().get_best_param().unwrap()
    };
    let error = (on_products - SVector::<f64, N>::repeat(1.0)).amax();
    println!(
        "{:<28} {:>4} iterations, max |xᵢ − 1| = {error:.1e} (same point on the dense Hessian to {:.0e})",
        "Newton-CG (HVP)",
        100,
        (on_products - on_matrix).amax()
    );
    assert!((on_products - on_matrix).amax() < 1e-6);
    assert!(rosenbrock(&on_products) < rosenbrock(&start));
}
