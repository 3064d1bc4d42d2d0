use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

// `Vector3::x_axis()` (a `Unit`) is not among the constructors; write `Vector3::x()`.
#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>) -> f64 {
    Vector3::x_axis().dot(x)
}

fn main() {}
