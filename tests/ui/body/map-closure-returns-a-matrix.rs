use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    x.map(|t| SMatrix::<f64, 2, 2>::identity() * t)[0].trace()
}

fn main() {}
