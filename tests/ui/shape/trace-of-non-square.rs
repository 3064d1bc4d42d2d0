use matdiff::differentiate;
use matdiff::nalgebra::Matrix2x3;

#[differentiate(wrt = m)]
fn f(m: &Matrix2x3<f64>) -> f64 {
    m.trace()
}

fn main() {}
