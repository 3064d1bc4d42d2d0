use matdiff::differentiate;
use matdiff::nalgebra::{Vector2, Vector3};

#[differentiate(wrt = a)]
fn f(a: &Vector3<f64>, b: &Vector2<f64>) -> f64 {
    a.zip_map(b, |x, y| x * y).sum()
}

fn main() {}
