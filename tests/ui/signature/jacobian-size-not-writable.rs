use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

// `R * C` cannot be written as a size on stable Rust: no `_jacobian`, but `_jvp` and `_vjp`.
#[differentiate(wrt = x)]
fn f<const R: usize, const C: usize>(x: &SMatrix<f64, R, C>) -> SMatrix<f64, R, C> {
    x * 2.0
}

fn main() {
    let x = SMatrix::<f64, 2, 3>::zeros();
    let _ = f_jvp(&x, &x);
    let _ = f_vjp(&x, &x);
    let _ = f_jacobian(&x);
}
