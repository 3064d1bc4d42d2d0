use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    let y = if x[0] > 0.0 { x[1] } else { *x };
    y.norm()
}

fn main() {}
