use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

#[differentiate(wrt = x)]
fn f(x: &SMatrix<f64, 3, 3>) -> f64 {
    let mut y = *x;
    y.diagonal_mut().copy_from(&x.column(0));
    y.sum()
}

fn main() {}
