use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, k: usize) -> f64 {
    x[k.min(2)]
}

fn main() {}
