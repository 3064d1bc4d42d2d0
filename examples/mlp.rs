//! A two-layer perceptron learns XOR, trained by gradient descent on the gradient that
//! `#[differentiate]` writes at compile time: backpropagation without writing it.
//!
//! The lecture's network: a layer with weight matrix `W` maps features `φ` to
//! `σ(Wᵀ φ)`, with `σ(t) = 1 / (1 + e⁻ᵗ)` applied entry by entry, so two layers give
//!
//! ```text
//! φ₁ = σ(W₁ᵀ φ₀),   φ₂ = σ(W₂ᵀ φ₁),   W₁ ∈ ℝ^{3×H}, W₂ ∈ ℝ^{H×1}.
//! ```
//!
//! Each column of `φ₀` is one sample `(x₁, x₂, 1)`: the constant third feature gives the
//! hidden units a bias. All `N` samples go through the network at once as the columns of a
//! `3 × N` matrix, so the body of `loss` is straight-line matrix code with no loop. The cost
//! is the squared error `ℰ(φ₂) = ½ ‖φ₂ − y‖²`, written as its own `#[differentiate]` function
//! `cost` that `loss` calls: the chain rule crosses the call, just as the lecture composes
//! `∂ℰ/∂φ₂` with the layers' derivatives.
//!
//! The generated `loss_value_and_grad` returns `ℰ` and `(∇_{W₁} ℰ, ∇_{W₂} ℰ)`, which drive
//! gradient descent with momentum, `V ← β V − α ∇ℰ / N`, `W ← W + V`.
//!
//! The data: `N = 128` noisy points around the four corners `(±1, ±1)`, labelled 1 where the
//! signs of the corner differ. No linear classifier gets more than three of XOR's four corners
//! right; the trained network must classify more than 95% of the training points, and of as
//! many fresh points from the same distribution, correctly, or the example panics.
//!
//! The loss against the epoch is drawn in `target/plots/mlp.svg`.
//!
//! Run it with `cargo run --release --example mlp`.

use matdiff::differentiate;
use matdiff::nalgebra::{RowSVector, SMatrix};
use matdiff::runtime::{check_gradient, Rng, VectorSpace};

#[path = "plot/mod.rs"]
mod plot;

/// The number of training samples, `N`.
const SAMPLES: usize = 128;
/// The number of hidden units, `H`.
const HIDDEN: usize = 8;

/// The input-to-hidden weights `W₁`: column `k` holds hidden unit `k`'s weights.
type Hidden = SMatrix<f64, 3, HIDDEN>;
/// The hidden-to-output weights `W₂`.
type Output = SMatrix<f64, HIDDEN, 1>;
/// The inputs `φ₀`, one sample `(x₁, x₂, 1)` per column.
type Inputs = SMatrix<f64, 3, SAMPLES>;
/// One number per sample: labels or network outputs.
type PerSample = RowSVector<f64, SAMPLES>;

/// The step size `α`: each step moves the weights by `α` times the mean per-sample gradient.
const STEP: f64 = 2.0;
/// The momentum `β`.
const MOMENTUM: f64 = 0.9;
/// The number of full passes over the data (one gradient step each).
const EPOCHS: usize = 1000;
/// Print progress every this many epochs.
const REPORT_EVERY: usize = 100;
/// The accuracy the example insists on, on the training set and on fresh samples.
const REQUIRED_ACCURACY: f64 = 0.95;

/// The cost `ℰ(φ) = ½ ‖φ − y‖²` of outputs `φ` against labels `y`.
#[differentiate(wrt = phi)]
fn cost<const N: usize>(phi: &RowSVector<f64, N>, y: &RowSVector<f64, N>) -> f64 {
    0.5 * (phi - y).norm_squared()
}

/// The cost of the network with weights `(w1, w2)` on the inputs `phi0` with labels `y`.
///
/// The dimensions are const generic parameters because matdiff reads every shape from the
/// signature, where it accepts literals and const generics but not named constants such as
/// `SAMPLES`.
#[differentiate(wrt = (w1, w2))]
fn loss<const N: usize, const H: usize>(
    w1: &SMatrix<f64, 3, H>,
    w2: &SMatrix<f64, H, 1>,
    phi0: &SMatrix<f64, 3, N>,
    y: &RowSVector<f64, N>,
) -> f64 {
    let phi1 = (w1.transpose() * phi0).map(|t| 1.0 / (1.0 + (-t).exp()));
    let phi2 = (w2.transpose() * phi1).map(|t| 1.0 / (1.0 + (-t).exp()));
    cost(&phi2, y)
}

/// The network's outputs `φ₂ = σ(W₂ᵀ σ(W₁ᵀ φ₀))`, one per sample: the body of `loss`
/// without the cost (a differentiated function returns a scalar, so `loss` cannot call this).
fn forward(w1: &Hidden, w2: &Output, phi0: &Inputs) -> PerSample {
    let phi1 = (w1.transpose() * phi0).map(sigmoid);
    (w2.transpose() * phi1).map(sigmoid)
}

/// The logistic function `σ(t) = 1 / (1 + e⁻ᵗ)`.
fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// The fraction of samples whose output is on the same side of ½ as its label.
fn accuracy(phi2: &PerSample, y: &PerSample) -> f64 {
    let correct = phi2
        .iter()
        .zip(y.iter())
        .filter(|(p, l)| (**p > 0.5) == (**l > 0.5))
        .count();
    correct as f64 / SAMPLES as f64
}

/// Noisy XOR: `SAMPLES` points scattered (standard deviation `0.3`) around the corners
/// `(±1, ±1)`, labelled 1 where the corner's coordinates have different signs. Returns
/// `(φ₀, y)`.
fn xor_data(rng: &mut Rng) -> (Inputs, PerSample) {
    let mut phi0 = Inputs::zeros();
    let mut y = PerSample::zeros();
    for j in 0..SAMPLES {
        // The corners in turn, so each gets a quarter of the points.
        let (s1, s2) = ([1.0, -1.0][j % 2], [1.0, -1.0][(j / 2) % 2]);
        phi0[(0, j)] = s1 + 0.3 * rng.normal();
        phi0[(1, j)] = s2 + 0.3 * rng.normal();
        phi0[(2, j)] = 1.0;
        y[j] = if s1 * s2 < 0.0 { 1.0 } else { 0.0 };
    }
    (phi0, y)
}

/// Generates the data, trains the network and checks that it has learnt XOR.
fn main() {
    let mut rng = Rng::new(2024);
    let (phi0, y) = xor_data(&mut rng);
    let n = SAMPLES as f64;

    // Small random weights, so that the hidden units start in the sigmoid's linear part.
    let mut w: (Hidden, Output) = (0.5 * rng.matrix(), 0.5 * rng.matrix());
    println!("A 3 → {HIDDEN} → 1 sigmoid network on noisy XOR, {SAMPLES} training samples\n");

    // Before training, compare the generated gradient with central differences of `loss`
    // along a random direction.
    let direction = w.random(&mut rng);
    let check = check_gradient(
        |w: &(Hidden, Output)| loss(&w.0, &w.1, &phi0, &y),
        &loss_grad(&w.0, &w.1, &phi0, &y),
        &w,
        &direction,
    );
    println!("gradient vs finite differences: {check}");
    check.assert_within(1e-7, "gradient of loss");

    println!("\ngradient descent with momentum: α = {STEP}, β = {MOMENTUM}\n");
    println!("{:>6}  {:>12}  {:>8}", "epoch", "ℰ / N", "accuracy");
    let mut velocity = w.zero_like();
    let mut losses = Vec::with_capacity(EPOCHS + 1);
    for epoch in 0..=EPOCHS {
        let (value, grad) = loss_value_and_grad(&w.0, &w.1, &phi0, &y);
        losses.push(value / n);
        if epoch % REPORT_EVERY == 0 {
            let acc = accuracy(&forward(&w.0, &w.1, &phi0), &y);
            println!("{epoch:>6}  {:>12.6}  {:>7.1}%", value / n, 100.0 * acc);
        }
        velocity = velocity.scaled(MOMENTUM).axpy(-STEP / n, &grad);
        w = w.axpy(1.0, &velocity);
    }

    let path = plot::output_path("mlp").expect("creating the plots directory");
    plot::loss_curve(
        &path,
        "Perceptron 3 → 8 → 1 on noisy XOR, gradient descent with momentum",
        "epoch",
        plot::Scale::Log,
        &[("ℰ / N", &losses)],
    )
    .expect("drawing the loss curve");
    println!("\nloss curve: {}", plot::display_path(&path));

    let phi2 = forward(&w.0, &w.1, &phi0);
    // `forward` repeats the network written in `loss`; make sure the two agree.
    assert!((cost(&phi2, &y) - loss(&w.0, &w.1, &phi0, &y)).abs() < 1e-12);
    let train = accuracy(&phi2, &y);
    let (test_phi0, test_y) = xor_data(&mut rng);
    let test = accuracy(&forward(&w.0, &w.1, &test_phi0), &test_y);
    println!("\nfinal training accuracy {:.1}%", 100.0 * train);
    println!("accuracy on {SAMPLES} fresh samples {:.1}%", 100.0 * test);
    for (what, acc) in [("training", train), ("fresh-sample", test)] {
        assert!(
            acc > REQUIRED_ACCURACY,
            "the network did not learn XOR: {what} accuracy {acc} (required {REQUIRED_ACCURACY})"
        );
    }
}
