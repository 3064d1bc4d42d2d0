use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

#[differentiate(wrt = a)]
fn f(a: &Vector3<f64>) -> f64 {
    (a * 2.0).apply(|t| *t = t.sin());
    a.sum()
}

fn main() {}
