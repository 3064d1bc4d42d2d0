use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = x)]
fn f(x: &SMatrix<f64, 3, 3>) -> f64 {
    x.fixed_rows(0).sum()
}

fn main() {}
