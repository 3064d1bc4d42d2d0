use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * Matrix3::<f64>::zeros(3).trace()
}

fn main() {}
