use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = a)]
fn f(a: &SMatrix<f64, 2, 2>, b: &SMatrix<f64, 2, 2>) -> f64 {
    (a / b).trace()
}

fn main() {}
