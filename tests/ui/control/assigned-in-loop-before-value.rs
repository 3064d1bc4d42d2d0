use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 200>) -> f64 {
    let s;
    for i in 0..200 {
        s = x[i];
    }
    x.sum()
}

fn main() {}
