//! Least squares, the lecture's worked example, solved two ways with derivatives that
//! `#[differentiate]` writes at compile time.
//!
//! We fit a quadratic `w₀ + w₁ t + w₂ t²` to five points by minimising
//! `loss(w) = ‖X w − y‖²`, whose gradient is `2 Xᵀ (X w − y)` and whose Hessian is the
//! constant `2 XᵀX`. Nowhere below are those formulas written by hand: only `loss` is.
//!
//! 1. Gradient descent with a fixed step, driven by the generated `loss_value_and_grad`.
//! 2. One Newton step from `w = 0`: solve `H d = −∇loss(0)` by conjugate gradients, applying
//!    `H` only through the generated Hessian-vector product `loss_hvp`. The loss is
//!    quadratic, so this single step lands on the minimiser.
//!
//! Both must agree with the exact answer `w* = (3, 29/66, −19/66)` to `1e-6`; the example
//! panics otherwise, so a wrong derivative cannot go unnoticed.
//!
//! It draws the loss above its minimum, `loss(w) − 4/33`, against the iteration of gradient
//! descent in `target/plots/least_squares.svg`: on a log scale, a straight line (the error
//! shrinks by a constant factor per step) down to the rounding error of the loss, about
//! `1e-17`.
//!
//! Run it with `cargo run --release --example least_squares`.

use std::cell::Cell;

use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};
use matdiff::runtime::{conjugate_gradient, GradientDescent};

#[path = "plot/mod.rs"]
mod plot;

/// The sum of squared residuals of the model `X w` against the data `y`.
#[differentiate(wrt = w)]
fn loss(w: &SVector<f64, 3>, x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>) -> f64 {
    (x * w - y).norm_squared()
}

/// Stop gradient descent once `‖∇loss‖` falls below this.
const GRAD_TOL: f64 = 1e-10;
/// Give up on gradient descent after this many iterations.
const MAX_ITER: usize = 1_000_000;
/// How close each method must come to the exact minimiser (largest component error).
const ANSWER_TOL: f64 = 1e-6;

/// Fits the lecture's data by gradient descent and by a Newton step and checks both against
/// the exact minimiser.
fn main() {
    // Rows are (1, t, t²) at t = −2, 0, 1, 3, 4: fitting w₀ + w₁ t + w₂ t² to the points y.
    #[rustfmt::skip]
    let x = SMatrix::<f64, 5, 3>::new(
        1.0, -2.0,  4.0,
        1.0,  0.0,  0.0,
        1.0,  1.0,  1.0,
        1.0,  3.0,  9.0,
        1.0,  4.0, 16.0,
    );
    let y = SVector::<f64, 5>::new(1.0, 3.0, 3.0, 2.0, 0.0);
    let exact = SVector::<f64, 3>::new(3.0, 29.0 / 66.0, -19.0 / 66.0);

    println!("Least squares: minimise loss(w) = ‖Xw − y‖² over w ∈ ℝ³\n");

    // The Hessian of a quadratic is constant; assemble it column by column from loss_hvp,
    // H eᵢ, and read off its extreme eigenvalues. They set the gradient-descent step and
    // explain how many iterations it needs.
    let zero = SVector::<f64, 3>::zeros();
    let hessian = SMatrix::<f64, 3, 3>::from_fn(|i, j| {
        loss_hvp(&zero, &x, &y, &SVector::<f64, 3>::ith(j, 1.0))[i]
    });
    let eigenvalues = hessian.symmetric_eigenvalues();
    let (lambda_min, lambda_max) = (eigenvalues.min(), eigenvalues.max());

    // 1. Gradient descent. With step 1/λ_max (λ_max is the Lipschitz constant of the
    // gradient) every step decreases the loss, and the error shrinks at least by the factor
    // 1 − λ_min/λ_max per iteration: slow here, because the t² column dominates X.
    let gd = GradientDescent {
        step: 1.0 / lambda_max,
    };
    println!("1. Gradient descent from w = 0, fixed step 1/λ_max");
    println!("   Hessian eigenvalues (from loss_hvp): {lambda_min:.4} … {lambda_max:.4}");
    println!(
        "   condition number {:.0}, step {}\n",
        lambda_max / lambda_min,
        fmt_sci(gd.step)
    );
    println!("   {:>9}  {:>12}  {:>10}", "iteration", "loss", "‖∇loss‖");

    let mut w = zero;
    let mut iteration = 0;
    let mut losses = Vec::new();
    // Print on a 1-2-5 log scale so the whole run fits on one screen.
    let mut next_report = 1;
    let w_gd = loop {
        let (value, grad) = loss_value_and_grad(&w, &x, &y);
        losses.push(value);
        let grad_norm = grad.norm();
        let done = grad_norm < GRAD_TOL || iteration == MAX_ITER;
        if iteration == 0 || iteration == next_report || done {
            println!(
                "   {iteration:>9}  {value:>12.8}  {:>10}",
                fmt_sci(grad_norm)
            );
            if iteration == next_report {
                next_report = next_on_125_scale(next_report);
            }
        }
        if done {
            if grad_norm < GRAD_TOL {
                println!("   converged: ‖∇loss‖ < {GRAD_TOL:e} after {iteration} iterations\n");
            } else {
                println!("   stopped at the cap of {MAX_ITER} iterations\n");
            }
            break w;
        }
        w = gd.step(&w, &grad);
        iteration += 1;
    };

    let excess: Vec<f64> = losses.iter().map(|l| l - 4.0 / 33.0).collect();
    let path = plot::output_path("least_squares").expect("creating the plots directory");
    plot::loss_curve(
        &path,
        "Gradient descent on ‖Xw − y‖², step 1/λ_max",
        "iteration",
        plot::Scale::Log,
        &[("loss(w) − 4/33", &excess)],
    )
    .expect("drawing the loss curve");
    println!("   loss curve: {}\n", plot::display_path(&path));

    // 2. Newton from w = 0: d solves H d = −∇loss(0). Conjugate gradients needs H only as
    // the operator v ↦ H v, which is exactly what loss_hvp computes; count its calls.
    println!("2. One Newton step from w = 0, H d = −∇loss(0) solved by conjugate gradients");
    let hvp_calls = Cell::new(0);
    let g0 = loss_grad(&zero, &x, &y);
    let d = conjugate_gradient(
        |v: &SVector<f64, 3>| {
            hvp_calls.set(hvp_calls.get() + 1);
            loss_hvp(&zero, &x, &y, v)
        },
        &-g0,
        1e-12,
        10,
    );
    let w_newton = zero + d;
    println!(
        "   d = {}  ({} Hessian-vector products)",
        fmt_vector(&d),
        hvp_calls.get()
    );
    println!(
        "   at 0 + d: loss {:.8} (exact minimum 4/33 = {:.8}), ‖∇loss‖ {}\n",
        loss(&w_newton, &x, &y),
        4.0 / 33.0,
        fmt_sci(loss_grad(&w_newton, &x, &y).norm())
    );

    println!(
        "   {:<26} {:>8} {:>8} {:>8}   {:>12}",
        "minimiser w*", "w₀", "w₁", "w₂", "largest error"
    );
    println!(
        "   {:<26}{}",
        "exact (3, 29/66, −19/66)",
        fmt_vector(&exact)
    );
    for (method, w) in [
        ("gradient descent", w_gd),
        ("Newton (CG on loss_hvp)", w_newton),
    ] {
        let error = (w - exact).amax();
        println!("   {method:<26}{}  {:>12}", fmt_vector(&w), fmt_sci(error));
        assert!(
            error < ANSWER_TOL,
            "{method} is {error:e} away from the exact minimiser (tolerance {ANSWER_TOL:e})"
        );
    }
    println!("\nBoth agree with the exact minimiser to {ANSWER_TOL:e}.");
}

/// Returns the number after `n` in the sequence 1, 2, 5, 10, 20, 50, 100, ...
fn next_on_125_scale(n: usize) -> usize {
    let mut decade = 1;
    while decade * 10 <= n {
        decade *= 10;
    }
    match n / decade {
        1 => 2 * decade,
        2 => 5 * decade,
        _ => 10 * decade,
    }
}

/// Formats a vector as `(  3.0000,  0.4394, -0.2879)`, columns aligned.
fn fmt_vector(v: &SVector<f64, 3>) -> String {
    let entries: Vec<String> = v.iter().map(|e| format!("{e:>8.4}")).collect();
    format!("({})", entries.join(","))
}

/// Formats a non-negative number as `1.234e-05`: a fixed-width mantissa and a signed two-digit
/// exponent, so that a column of them lines up (unlike `{:e}`, which writes `1.234e-5`).
fn fmt_sci(x: f64) -> String {
    let s = format!("{x:.3e}");
    match s.split_once('e') {
        Some((mantissa, exponent)) => {
            let exponent: i32 = exponent.parse().unwrap_or(0);
            format!("{mantissa}e{exponent:+03}")
        }
        None => s,
    }
}
