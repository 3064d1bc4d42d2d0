use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

type Square<const N: usize> = SMatrix<f64, N, N>;

#[differentiate(wrt = x)]
fn f(x: &Square<3>) -> f64 {
    x.trace()
}

fn main() {}
