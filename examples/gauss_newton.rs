//! Gauss-Newton on the lecture's least-squares problem, written as the residual people pass to
//! a least-squares solver: `r(w) = X w − y`. The macro derives `residual_jacobian` (here `X`
//! itself, since `r` is affine), and one Gauss-Newton step `w − (JᵀJ)⁻¹ Jᵀ r` from any start
//! lands on the exact minimiser `w* = (3, 29/66, −19/66)`.
//!
//! Run with `cargo run --release --example gauss_newton`.

use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

/// The residual of fitting `w₀ + w₁ t + w₂ t²` to the points `(tᵢ, yᵢ)`, the rows of `x`
/// being `(1, tᵢ, tᵢ²)`.
#[differentiate(wrt = w)]
fn residual(w: &SVector<f64, 3>, x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>) -> SVector<f64, 5> {
    x * w - y
}

fn main() {
    // Rows are (1, t, t²) at t = −2, 0, 1, 3, 4.
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

    let w0 = SVector::<f64, 3>::new(-1.0, 2.0, 0.5);
    let (r, j) = residual_value_and_jacobian(&w0, &x, &y);
    println!("residual at w0 = {:?}: {:?}", w0.as_slice(), r.as_slice());
    println!("Jacobian (= X):{j}");
    assert_eq!(j, x, "the Jacobian of X w − y is X");
    assert!(
        (r - residual(&w0, &x, &y)).amax() < 1e-12,
        "the value is the function's"
    );

    // One step: solve the normal equations (Jᵀ J) d = Jᵀ r by Cholesky.
    let normal = j.transpose() * j;
    let gradient = j.transpose() * r;
    let d = normal
        .cholesky()
        .expect("X has full column rank")
        .solve(&gradient);
    let w = w0 - d;
    println!("after one Gauss-Newton step: {:?}", w.as_slice());
    println!("exact (3, 29/66, −19/66):    {:?}", exact.as_slice());
    assert!((w - exact).amax() < 1e-12, "one step reaches w*");

    // The same step from the matrix-free products: Jᵀ r by `residual_vjp`.
    assert!((residual_vjp(&w0, &x, &y, &r) - gradient).amax() < 1e-12);
    println!("Jᵀ r from residual_vjp agrees with the Jacobian's");
}
