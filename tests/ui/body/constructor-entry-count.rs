use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    Vector3::new(x, x).sum()
}

fn main() {}
