use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, s: f64) -> f64 {
    x.map(|t| (t * s).tanh()).sum()
}

fn main() {}
