use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

// `view` takes the start and the sizes as pairs.
#[differentiate(wrt = x)]
fn f(x: &Matrix3<f64>) -> f64 {
    x.view(0, 2).sum()
}

fn main() {}
