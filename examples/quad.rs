//! The smallest matdiff example: the quadratic form `quad(x, A) = xᵀ A x`.
//!
//! `#[differentiate(wrt = x)]` keeps `quad` and writes `quad_grad`, `quad_value_and_grad` and
//! `quad_hvp` next to it. This prints what they return next to the closed forms
//! `∇quad = (A + Aᵀ) x` and `H[v] = (A + Aᵀ) v` (A deliberately not symmetric, so a
//! forgotten transpose would show), and asserts that they agree.
//!
//! Run it with `cargo run --example quad`; `examples/quad-expanded.rs` shows the code the
//! macro generates for it.

use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

/// The quadratic form `xᵀ A x`.
#[differentiate(wrt = x)]
fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
    x.dot(&(a * x))
}

/// Calls the three generated functions and compares them with the closed forms.
fn main() {
    #[rustfmt::skip]
    let a = SMatrix::<f64, 3, 3>::new(
        2.0, 1.0, 0.0,
        0.0, 3.0, 1.0,
        1.0, 0.0, 4.0,
    );
    let x = SVector::<f64, 3>::new(1.0, -1.0, 2.0);
    let v = SVector::<f64, 3>::new(0.5, 0.0, 1.0);
    let sym = a + a.transpose();

    let value = quad(&x, &a);
    let grad = quad_grad(&x, &a);
    let (value_again, grad_again) = quad_value_and_grad(&x, &a);
    let hvp = quad_hvp(&x, &a, &v);

    println!("quad(x, A) = xᵀ A x with");
    for (i, row) in a.row_iter().enumerate() {
        let label = if i == 0 { "A =" } else { "" };
        println!("  {label:<4}{}", fmt_vector(&row.transpose()));
    }
    println!("  x = {}\n", fmt_vector(&x));
    println!("  {:<30}{value:>9.4}", "quad(x, A)");
    println!("  {:<30}{value_again:>9.4}", "quad_value_and_grad(x, A).0");
    println!();
    println!("  {:<30}{}", "quad_grad(x, A)", fmt_vector(&grad));
    println!(
        "  {:<30}{}",
        "quad_value_and_grad(x, A).1",
        fmt_vector(&grad_again)
    );
    println!("  {:<30}{}", "(A + Aᵀ) x", fmt_vector(&(sym * x)));
    println!();
    println!("  {:<30}{}", "direction v", fmt_vector(&v));
    println!("  {:<30}{}", "quad_hvp(x, A, v)", fmt_vector(&hvp));
    println!("  {:<30}{}", "(A + Aᵀ) v", fmt_vector(&(sym * v)));

    // The inputs are small integers and halves, so every result is exact in f64.
    assert_eq!(value_again, value);
    assert_eq!(grad, sym * x);
    assert_eq!(grad_again, grad);
    assert_eq!(hvp, sym * v);
    println!("\nAll equal to the closed forms.");
}

/// Formats a vector as `(  1.0000, -1.0000,  2.0000)`, columns aligned.
fn fmt_vector(v: &SVector<f64, 3>) -> String {
    let entries: Vec<String> = v.iter().map(|e| format!("{e:>8.4}")).collect();
    format!("({})", entries.join(","))
}
