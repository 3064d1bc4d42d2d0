use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f<const N: usize>(x: &SVector<f64, N>) -> f64 {
    let mut s = 0.0;
    for i in 0..N + 1 {
        s += x[i % N];
    }
    s
}

fn main() {}
