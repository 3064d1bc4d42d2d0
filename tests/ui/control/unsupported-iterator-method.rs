use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    x.iter().filter(|t| **t > 0.0).sum::<f64>()
}

fn main() {}
