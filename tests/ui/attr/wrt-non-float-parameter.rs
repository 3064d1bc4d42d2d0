use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = n)]
fn f(x: &SVector<f64, 3>, n: usize) -> f64 {
    x[n]
}

fn main() {}
