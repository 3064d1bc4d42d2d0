use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

#[differentiate(wrt = a)]
fn f(a: &Vector3<f64>) -> f64 {
    let mut m = *a;
    m.apply(|t| *t = a * *t);
    m.sum()
}

fn main() {}
