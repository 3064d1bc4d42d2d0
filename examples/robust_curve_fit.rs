//! Robust exponential curve fitting, written the way Ceres Solver's `curve_fitting.cc` and
//! `robust_curve_fitting.cc` write it: a loop over the observations, a residual
//! `yᵢ − exp(m xᵢ + c)` per point, and a Huber loss with a branch on the residual's size so
//! that a few gross outliers do not drag the fit.
//!
//! The data are 67 points of `y = exp(0.3 x + 0.1)` with Gaussian noise (σ = 0.2), five of
//! them replaced by outliers. Both fits start from `m = c = 0` and take damped Newton steps:
//! `H d = −∇` is solved by conjugate gradients through the generated Hessian-vector product
//! (`cost_hvp`), then a backtracking line search. The least-squares fit is pulled away by the
//! outliers; the Huber fit recovers `(0.3, 0.1)` to within the noise.
//!
//! The data and the three curves (the truth and both fits) are drawn in
//! `target/plots/robust_curve_fit.svg`.
//!
//! Run it with `cargo run --release --example robust_curve_fit`.

use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, Vector2};
use matdiff::runtime::{conjugate_gradient, Rng};

#[path = "plot/mod.rs"]
mod plot;

/// The number of observations.
const POINTS: usize = 67;

/// Observations, one `(x, y)` per column.
type Data = SMatrix<f64, 2, POINTS>;

/// `Σᵢ ρ(yᵢ − exp(m xᵢ + c))` with `ρ` the Huber loss of width `delta` (`ρ(r) = r²/2` for
/// `|r| ≤ δ`, `δ(|r| − δ/2)` beyond); `delta = ∞` gives least squares.
#[differentiate(wrt = p)]
fn cost(p: &Vector2<f64>, data: &SMatrix<f64, 2, POINTS>, delta: f64) -> f64 {
    let (m, c) = (p[0], p[1]);
    let mut total = 0.0;
    for i in 0..data.ncols() {
        let (x, y) = (data[(0, i)], data[(1, i)]);
        let r = y - (m * x + c).exp();
        if r.abs() <= delta {
            total += 0.5 * r * r;
        } else {
            total += delta * (r.abs() - 0.5 * delta);
        }
    }
    total
}

/// The data: the curve `exp(0.3 x + 0.1)` on `x ∈ [0, 5]`, noise, and five outliers.
fn data(rng: &mut Rng) -> Data {
    let mut data = Data::zeros();
    for i in 0..POINTS {
        let x = 5.0 * i as f64 / (POINTS - 1) as f64;
        data[(0, i)] = x;
        data[(1, i)] = (0.3 * x + 0.1).exp() + 0.2 * rng.normal();
    }
    for i in [7, 21, 33, 48, 60] {
        data[(1, i)] += 5.0;
    }
    data
}

/// Damped Newton from `(0, 0)`; returns the minimiser and the iterations taken.
fn fit(data: &Data, delta: f64) -> (Vector2<f64>, usize) {
    let mut p = Vector2::zeros();
    for iteration in 1..=100 {
        let (value, grad) = cost_value_and_grad(&p, data, delta);
        // The cost sums 67 terms of size up to e²: its gradient is zero to about 1e-8.
        if grad.norm() < 1e-7 {
            return (p, iteration);
        }
        let direction = conjugate_gradient(|v| cost_hvp(&p, data, delta, v), &-grad, 1e-12, 10);
        // The Hessian is indefinite far from the fit: fall back to the gradient there.
        let direction = if direction.dot(&grad) < 0.0 {
            direction
        } else {
            -grad
        };
        let mut step = 1.0;
        while cost(&(p + direction * step), data, delta)
            > value + 1e-4 * step * direction.dot(&grad)
        {
            step *= 0.5;
            assert!(step > 1e-12, "the line search failed");
        }
        p += direction * step;
    }
    (p, 100)
}

fn main() {
    let data = data(&mut Rng::new(2026));
    let (least_squares, ls_iterations) = fit(&data, f64::INFINITY);
    let (huber, huber_iterations) = fit(&data, 0.5);
    assert!(
        ls_iterations < 100 && huber_iterations < 100,
        "Newton did not converge"
    );
    println!(
        "Exponential curve y = exp(m x + c) through {POINTS} noisy points, 5 of them outliers"
    );
    println!("  truth          m = 0.3000, c = 0.1000");
    println!(
        "  least squares  m = {:.4}, c = {:.4}   ({ls_iterations} Newton steps)",
        least_squares[0], least_squares[1]
    );
    println!(
        "  Huber (δ = ½)  m = {:.4}, c = {:.4}   ({huber_iterations} Newton steps)",
        huber[0], huber[1]
    );
    let points: Vec<(f64, f64)> = data.column_iter().map(|c| (c[0], c[1])).collect();
    let curve = |p: Vector2<f64>| move |x: f64| (p[0] * x + p[1]).exp();
    let path = plot::output_path("robust_curve_fit").expect("creating the plots directory");
    plot::curve_fit(
        &path,
        "y = exp(m x + c) through 67 points, 5 of them outliers",
        &points,
        &[
            ("truth exp(0.3 x + 0.1)", &curve(Vector2::new(0.3, 0.1))),
            ("least squares", &curve(least_squares)),
            ("Huber (δ = ½)", &curve(huber)),
        ],
    )
    .expect("drawing the fit");
    println!("  picture: {}", plot::display_path(&path));
    let truth = Vector2::new(0.3, 0.1);
    assert!(
        (huber - truth).norm() < 0.1,
        "the robust fit is off: {huber:?}"
    );
    assert!(
        (huber - truth).norm() < (least_squares - truth).norm(),
        "the outliers should pull the least-squares fit further"
    );
    // The derivatives the fit used, against central differences at the Huber fit.
    let h = 1e-6;
    let g = cost_grad(&huber, &data, 0.5);
    for k in 0..2 {
        let mut e = Vector2::zeros();
        e[k] = h;
        let fd = (cost(&(huber + e), &data, 0.5) - cost(&(huber - e), &data, 0.5)) / (2.0 * h);
        assert!(
            (g[k] - fd).abs() < 1e-6,
            "∂cost/∂p{k}: {} against {fd}",
            g[k]
        );
    }
    // And the Hessian-vector product against differences of the gradient.
    let v = Vector2::new(0.6, -0.8);
    let hv = cost_hvp(&huber, &data, 0.5, &v);
    let fd = (cost_grad(&(huber + v * h), &data, 0.5) - cost_grad(&(huber - v * h), &data, 0.5))
        / (2.0 * h);
    assert!(
        (hv - fd).norm() < 1e-5 * hv.norm(),
        "Hessian-vector product {hv:?} against differences of the gradient {fd:?}"
    );
    println!("Both fits converged; the robust one is within 0.1 of the truth.");
}
