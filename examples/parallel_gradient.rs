//! The gradient of a loss over a million data points, summed in parallel with rayon.
//!
//! The loss of logistic regression is a sum over the data, `L(w) = Σᵢ ℓ(w; xᵢ, yᵢ)`, and so
//! is its gradient. Only the loss of ONE point is written, as a `#[differentiate]` function;
//! the generated `point_loss_value_and_grad` is a plain function of its arguments (no tape,
//! no shared state, no allocation), so it is `Send + Sync` and rayon calls it on every core
//! at once. The sum over the data is a `map` and a `reduce`:
//!
//! ```text
//! data.par_iter()
//!     .map(|p| point_loss_value_and_grad(&w, &p.x, p.y))
//!     .reduce(|| (0.0, zeros), add)
//! ```
//!
//! The example checks the parallel sum against the same sum taken sequentially (they differ
//! only in the order of the additions, so by rounding) and against the closed form
//! `∇L = −Σᵢ yᵢ σ(−yᵢ wᵀxᵢ) xᵢ`, then times both versions in this process (a few repetitions
//! each, the median) and prints the speed-up over one thread.
//!
//! Run it with `cargo run --release --example parallel_gradient`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use matdiff::differentiate;
use matdiff::nalgebra::SVector;
use matdiff::runtime::Rng;
use rayon::prelude::*;

/// The number of features of a data point.
const FEATURES: usize = 8;
/// The number of data points.
const POINTS: usize = 1_000_000;
/// How often each version is timed; the median is reported.
const REPETITIONS: usize = 15;
/// The parallel and the sequential sums, and the closed form, must agree to this fraction of
/// `Σᵢ |term|` (per component): about five times the rounding error `√n · ε` expected of a
/// sum of `n = 10⁶` terms in double precision.
const SUM_TOL: f64 = 1e-12;

/// The features of one point, or the weights.
type Features = SVector<f64, FEATURES>;

/// One labelled data point.
struct Point {
    /// The features.
    x: Features,
    /// The label, `+1` or `−1`.
    y: f64,
}

/// The logistic loss `ln(1 + exp(−y wᵀx))` of one point with label `y = ±1`, written so that
/// `exp` never overflows: for a negative margin `m = y wᵀx` it is `ln(1 + eᵐ) − m`.
#[differentiate(wrt = w)]
fn point_loss(w: &SVector<f64, FEATURES>, x: &SVector<f64, FEATURES>, y: f64) -> f64 {
    let margin = y * w.dot(x);
    if margin > 0.0 {
        (-margin).exp().ln_1p()
    } else {
        margin.exp().ln_1p() - margin
    }
}

/// A loss and its gradient, or a sum of them.
type ValueAndGrad = (f64, Features);

/// Adds two `(loss, gradient)` pairs.
fn add(a: ValueAndGrad, b: ValueAndGrad) -> ValueAndGrad {
    (a.0 + b.0, a.1 + b.1)
}

/// `L(w)` and `∇L(w)` on one thread.
fn sequential(w: &Features, data: &[Point]) -> ValueAndGrad {
    data.iter()
        .map(|p| point_loss_value_and_grad(w, &p.x, p.y))
        .fold((0.0, Features::zeros()), add)
}

/// `L(w)` and `∇L(w)` on all of rayon's threads.
fn parallel(w: &Features, data: &[Point]) -> ValueAndGrad {
    data.par_iter()
        .map(|p| point_loss_value_and_grad(w, &p.x, p.y))
        .reduce(|| (0.0, Features::zeros()), add)
}

/// The closed-form gradient `−Σᵢ yᵢ σ(−yᵢ wᵀxᵢ) xᵢ`, written by hand, and the sums of the
/// terms' absolute values, `Σᵢ ℓᵢ` and `Σᵢ |∇ℓᵢ|` per component, which scale the tolerances.
fn closed_form(w: &Features, data: &[Point]) -> (Features, f64, Features) {
    let mut grad = Features::zeros();
    let mut abs_loss = 0.0;
    let mut abs_grad = Features::zeros();
    for p in data {
        let margin = p.y * w.dot(&p.x);
        // σ(−m) = 1 / (1 + eᵐ), the slope of ln(1 + e⁻ᵐ) in −m.
        let slope = 1.0 / (1.0 + margin.exp());
        grad -= p.x * (p.y * slope);
        abs_loss += point_loss(w, &p.x, p.y);
        abs_grad += p.x.abs() * slope;
    }
    (grad, abs_loss, abs_grad)
}

/// A million points: standard normal features, labelled by the sign of `w_trueᵀx` plus noise.
fn data(rng: &mut Rng, w_true: &Features) -> Vec<Point> {
    (0..POINTS)
        .map(|_| {
            let x: Features = rng.matrix();
            let y = if w_true.dot(&x) + rng.normal() > 0.0 {
                1.0
            } else {
                -1.0
            };
            Point { x, y }
        })
        .collect()
}

/// The median of `times`.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// How long `f` takes, once.
fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Asserts `|a − b| ≤ SUM_TOL · scale` per component and returns the largest `|a − b| / scale`.
fn assert_close(what: &str, a: &Features, b: &Features, scale: &Features) -> f64 {
    let worst = (a - b).abs().component_div(scale).max();
    assert!(
        worst <= SUM_TOL,
        "{what}: {a:?} against {b:?}, {worst:e} of Σ|term| (tolerance {SUM_TOL:e})"
    );
    worst
}

/// Builds the data, checks the parallel gradient and times it against one thread.
fn main() {
    let mut rng = Rng::new(11);
    let w_true: Features = rng.matrix();
    let data = data(&mut rng, &w_true);
    // Somewhere between the start and the fit, where the gradient is not small.
    let w = 0.5 * w_true;
    let threads = rayon::current_num_threads();
    println!(
        "Logistic regression, {POINTS} points of {FEATURES} features: the gradient of \
         Σᵢ ln(1 + exp(−yᵢ wᵀxᵢ)) summed by rayon on {threads} threads\n"
    );

    let (value_seq, grad_seq) = sequential(&w, &data);
    let (value_par, grad_par) = parallel(&w, &data);
    let (grad_exact, abs_loss, abs_grad) = closed_form(&w, &data);
    println!("L(w) = {value_par:.6}, ‖∇L(w)‖ = {:.6}", grad_par.norm());
    let loss_diff = (value_par - value_seq).abs() / abs_loss;
    assert!(
        loss_diff <= SUM_TOL,
        "parallel loss {value_par} against sequential {value_seq}"
    );
    let par_seq = assert_close(
        "parallel against sequential",
        &grad_par,
        &grad_seq,
        &abs_grad,
    );
    let par_exact = assert_close(
        "parallel against closed form",
        &grad_par,
        &grad_exact,
        &abs_grad,
    );
    println!("largest difference, as a fraction of Σᵢ|term| (tolerance {SUM_TOL:e}):");
    println!("  parallel against sequential loss      {loss_diff:.1e}");
    println!("  parallel against sequential gradient  {par_seq:.1e}");
    println!("  parallel against closed-form gradient {par_exact:.1e}\n");

    // Other work on the machine takes cores from the parallel version first; say how busy it
    // is (Linux only).
    if let Some(load) = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
    {
        println!("load average of the machine (last minute) before timing: {load}");
    }
    // Alternately, so that both versions see the same state of the machine.
    let mut seq_times = Vec::new();
    let mut par_times = Vec::new();
    for _ in 0..REPETITIONS {
        seq_times.push(time(|| {
            black_box(sequential(black_box(&w), &data));
        }));
        par_times.push(time(|| {
            black_box(parallel(black_box(&w), &data));
        }));
    }
    let (seq, par) = (median(seq_times), median(par_times));
    let per_point = |t: Duration| t.as_secs_f64() * 1e9 / POINTS as f64;
    println!("median of {REPETITIONS} runs each:");
    println!(
        "  one thread      {:>8.2} ms  ({:.1} ns per point)",
        seq.as_secs_f64() * 1e3,
        per_point(seq)
    );
    println!(
        "  rayon, {threads} threads {:>8.2} ms  ({:.1} ns per point)",
        par.as_secs_f64() * 1e3,
        per_point(par)
    );
    println!(
        "  speed-up {:.2}× on {threads} threads",
        seq.as_secs_f64() / par.as_secs_f64()
    );
}
