use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
    x.add_scalar(y).sum()
}

fn main() {}
