use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, { 1 + 2 }>) -> f64 {
    x.norm_squared()
}

fn main() {}
