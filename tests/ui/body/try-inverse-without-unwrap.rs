use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

#[differentiate(wrt = m)]
fn f(m: &Matrix2<f64>) -> f64 {
    m.try_inverse().unwrap_or(*m).trace()
}

fn main() {}
