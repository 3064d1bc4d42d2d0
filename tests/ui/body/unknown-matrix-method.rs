use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = m)]
fn f(m: &SMatrix<f64, 3, 3>) -> f64 {
    m.camax()
}

fn main() {}
