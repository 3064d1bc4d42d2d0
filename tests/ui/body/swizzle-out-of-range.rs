use matdiff::differentiate;
use matdiff::nalgebra::Vector2;

// A 2-vector has no `z`.
#[differentiate(wrt = x)]
fn f(x: &Vector2<f64>) -> f64 {
    x.xz().norm()
}

fn main() {}
