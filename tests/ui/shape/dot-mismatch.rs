use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, y: &SVector<f64, 4>) -> f64 {
    x.dot(y)
}

fn main() {}
