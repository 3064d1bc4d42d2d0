use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

// `Vector3::x()` (the unit vector) is not among the constructors; write `Vector3::new(1.0, 0.0, 0.0)`.
#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>) -> f64 {
    Vector3::x().dot(x)
}

fn main() {}
