use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = m)]
fn f<const N: usize>(m: &SMatrix<f64, N, 2>) -> f64 {
    m[1]
}

fn main() {}
