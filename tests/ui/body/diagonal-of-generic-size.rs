use matdiff::differentiate;
use matdiff::nalgebra::SMatrix;

// `diagonal()` is read entry by entry: the sizes must be literals.
#[differentiate(wrt = x)]
fn f<const N: usize>(x: &SMatrix<f64, N, N>) -> f64 {
    x.diagonal().sum()
}

fn main() {}
