use matdiff::differentiate;
use matdiff::nalgebra::Vector4;

#[differentiate(wrt = a)]
fn f(a: &Vector4<f64>, b: &Vector4<f64>) -> f64 {
    a.cross(b).norm()
}

fn main() {}
