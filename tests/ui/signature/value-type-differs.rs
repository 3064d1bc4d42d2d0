use matdiff::differentiate;
use matdiff::nalgebra::SVector;

// The body computes a vector where the signature promises a scalar.
#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    x * 2.0
}

fn main() {}
