use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

#[allow(non_upper_case_globals)]
static scale: f64 = 2.0;

// Three independent mistakes, all reported in one build, and nothing else: the callers in
// `main` type-check against the stubs.
#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
    let y = scale * (a * x);
    let z = x.iamax() + y.norm();
    if z > 0.0 { z } else { x.norm() }
}

fn main() {
    let x = SVector::<f64, 3>::zeros();
    let a = SMatrix::<f64, 3, 3>::identity();
    let _: SVector<f64, 3> = f_grad(&x, &a);
    let _: (f64, SVector<f64, 3>) = f_value_and_grad(&x, &a);
    let _: SVector<f64, 3> = f_hvp(&x, &a, &x);
}
