use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += x[i];
        if s > 1.0 {
            return s;
        } else {
            s = 0.0;
        }
    }
    s
}

fn main() {}
