use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 200>) -> f64 {
    let mut s = 0.0;
    for i in 0..200 {
        s = x * x[i];
    }
    s
}

fn main() {}
