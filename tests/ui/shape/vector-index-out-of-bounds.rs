use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>) -> f64 {
    x[0] * x[3]
}

fn main() {}
