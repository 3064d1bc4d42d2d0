use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

const SINGULAR: &str = "singular matrix";

#[differentiate(wrt = m)]
fn f(m: &Matrix2<f64>) -> f64 {
    m.try_inverse().expect(SINGULAR).trace()
}

fn main() {}
