use matdiff::differentiate;
use matdiff::nalgebra::SVector;

// An upper-case parameter is a parameter, not a constant in scope.
#[allow(non_snake_case)]
#[differentiate(wrt = (x, K))]
fn f(x: &SVector<f64, 3>, K: f64) -> f64 {
    x.map(|t| t * K).sum()
}

fn main() {}
