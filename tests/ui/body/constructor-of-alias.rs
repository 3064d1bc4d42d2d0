use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

type Square = SMatrix<f64, 3, 3>;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    x.dot(&(Square::identity() * x))
}

fn main() {}
