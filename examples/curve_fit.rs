//! Ceres Solver's curve-fitting tutorial (`examples/curve_fitting.cc`) in Rust: fit
//! `y = exp(m x + c)` to its 67 observations by Levenberg-Marquardt, from `m = c = 0`.
//!
//! The residual is written as Ceres's `ExponentialResidual` is, one `yᵢ − exp(m xᵢ + c)` per
//! observation, in a loop over the data array; `#[differentiate]` generates its Jacobian
//! `residual_jacobian` (67 × 2), and matdiff's adapter hands both to the
//! `levenberg-marquardt` crate. Ceres reports `m = 0.291861, c = 0.131439` and a final cost
//! `½ Σ rᵢ² = 1.056751`; this example checks that the fit lands there (Ceres stops at its
//! function tolerance, 4e-5 short of the minimum in `c`; Levenberg-Marquardt here goes on to
//! where the gradient vanishes).
//!
//! It draws the fitted curve over the data in `target/plots/curve_fit.svg`.
//!
//! Run it with `cargo run --release --example curve_fit --features levenberg-marquardt`.

use levenberg_marquardt::LevenbergMarquardt;
use matdiff::differentiate;
use matdiff::nalgebra::{SVector, Vector2};
use matdiff::runtime::solvers::levenberg_marquardt::LeastSquares;

#[path = "plot/mod.rs"]
mod plot;

// `CURVE_POINTS` (67) and `CURVE_DATA`, Ceres's `(x, y)` pairs in its layout `data[2 * i]`,
// `data[2 * i + 1]`.
include!("../benches/data/ceres_curve_fitting.rs");

/// The residuals `rᵢ = yᵢ − exp(m xᵢ + c)` of the model `p = (m, c)`.
#[differentiate(wrt = p)]
fn residual(p: &Vector2<f64>) -> SVector<f64, CURVE_POINTS> {
    let (m, c) = (p[0], p[1]);
    let mut r = SVector::<f64, CURVE_POINTS>::zeros();
    for i in 0..CURVE_POINTS {
        let x = CURVE_DATA[2 * i];
        let y = CURVE_DATA[2 * i + 1];
        r[i] = y - (m * x + c).exp();
    }
    r
}

fn main() {
    let start = Vector2::new(0.0, 0.0);
    let problem = LeastSquares::new(start, residual, residual_jacobian);
    let initial_cost = 0.5 * problem.residual().norm_squared();

    let (problem, report) = LevenbergMarquardt::new().minimize(problem);
    let fit = problem.parameters();
    let cost = 0.5 * problem.residual().norm_squared();

    println!("Levenberg-Marquardt on the generated 67 x 2 Jacobian, from m = c = 0:");
    println!("  termination: {:?}", report.termination);
    println!("  residual evaluations: {}", report.number_of_evaluations);
    println!("  cost: {initial_cost:.6e} -> {cost:.6e}");
    println!("  m = {:.6}, c = {:.6}", fit[0], fit[1]);
    println!("Ceres reports m = 0.291861, c = 0.131439, final cost 1.056751e+00.");

    assert!(
        report.termination.was_successful(),
        "{:?}",
        report.termination
    );
    assert!(
        (initial_cost - 121.1734).abs() < 1e-4,
        "Ceres's initial cost"
    );
    // Ceres stops at its function tolerance, a little short of the minimum; here the gradient
    // Jᵀr vanishes.
    let gradient = residual_jacobian(&fit).transpose() * problem.residual();
    println!("  gradient Jᵀr at the fit: {:.1e}", gradient.amax());
    assert!((fit[0] - 0.291861).abs() < 5e-5 && (fit[1] - 0.131439).abs() < 5e-5);
    assert!((cost - 1.056751).abs() < 5e-7 && gradient.amax() < 1e-8);
    println!("The fit is Ceres's to within 5e-5, at the same cost to the seven digits it prints.");

    let points: Vec<(f64, f64)> = CURVE_DATA.chunks(2).map(|p| (p[0], p[1])).collect();
    let path = plot::output_path("curve_fit").expect("creating the plots directory");
    let fitted = |x: f64| (fit[0] * x + fit[1]).exp();
    plot::curve_fit(
        &path,
        "Ceres's curve fit by Levenberg-Marquardt",
        &points,
        &[("exp(m x + c), fitted", &fitted)],
    )
    .expect("drawing the fit");
    println!("picture: {}", plot::display_path(&path));
}
