use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    assert!(x.len() == 2, "expected two parameters");
    x.sum()
}

fn main() {}
