use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    x[x[0] as usize]
}

fn main() {}
