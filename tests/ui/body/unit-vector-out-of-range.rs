use matdiff::differentiate;
use matdiff::nalgebra::Vector2;

// A 2-vector has no `z` entry.
#[differentiate(wrt = x)]
fn f(x: &Vector2<f64>) -> f64 {
    Vector2::z().dot(x)
}

fn main() {}
