use matdiff::differentiate;
use matdiff::nalgebra::SVector;

// A vector-valued function has a Jacobian, JVP and VJP, not a gradient.
#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> SVector<f64, 3> {
    x * 2.0
}

fn main() {
    let x = SVector::<f64, 3>::zeros();
    let (_value, _grad): (SVector<f64, 3>, SVector<f64, 3>) = f_value_and_grad(&x);
}
