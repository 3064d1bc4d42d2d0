use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

#[differentiate(wrt = m)]
fn f(m: &Matrix3<f64>) -> f64 {
    m[(0, 0)] * m[(1, 3)]
}

fn main() {}
