use matdiff::differentiate;
use matdiff::nalgebra::Vector2;

#[differentiate(wrt = x)]
fn f(x: &Vector2<f64>) -> f64 {
    Vector2::new(*x, 1.0).sum()
}

fn main() {}
