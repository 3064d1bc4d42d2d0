use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = x)]
fn f(x: f64, m: &SMatrix<i32, 2, 2>) -> f64 {
    x * f64::from(m[(0, 0)])
}

fn main() {}
