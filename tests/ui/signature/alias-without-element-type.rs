use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

#[differentiate(wrt = m)]
fn f(m: &Matrix3) -> f64 {
    m.trace()
}

fn main() {}
