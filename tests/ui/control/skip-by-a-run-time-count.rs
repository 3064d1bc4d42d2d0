use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, k: usize) -> f64 {
    x.iter().skip(k).sum::<f64>()
}

fn main() {}
