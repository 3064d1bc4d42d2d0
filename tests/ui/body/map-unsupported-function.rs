use matdiff::differentiate;
use matdiff::nalgebra::SVector;

fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    x.map(sigmoid).sum()
}

fn main() {}
