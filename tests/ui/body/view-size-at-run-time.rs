use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = x)]
fn f(x: &SMatrix<f64, 3, 3>, n: usize) -> f64 {
    x.rows(0, n).sum()
}

fn main() {}
