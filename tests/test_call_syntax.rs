//! The function-call spelling of the scalar methods, `f64::ln(s)`, is differentiated like
//! the method form `s.ln()`.

use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

/// `ln det X + exp(sum X)`, written with function-call syntax.
#[differentiate(wrt = x)]
fn call_syntax(x: &Matrix3<f64>) -> f64 {
    f64::ln(x.determinant()) + f64::exp(x.sum())
}

#[test]
fn function_call_syntax_of_scalar_methods() {
    let x = Matrix3::<f64>::new(3.0, 1.0, 0.0, 0.0, 2.0, 1.0, 1.0, 0.0, 4.0);
    // ∇ = X⁻ᵀ + exp(sum X) 1 1ᵀ.
    let expected = x.try_inverse().unwrap().transpose() + Matrix3::<f64>::repeat(x.sum().exp());
    assert!((call_syntax_grad(&x) - expected).norm() < 1e-9 * expected.norm());
    let (value, _) = call_syntax_value_and_grad(&x);
    assert!((value - call_syntax(&x)).abs() < 1e-12);
}
