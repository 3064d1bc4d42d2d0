use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = y)]
fn f(x: &SVector<f64, 3>, a: f64) -> f64 {
    a * x.norm_squared()
}

fn main() {}
