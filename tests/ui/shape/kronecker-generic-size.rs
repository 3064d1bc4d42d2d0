use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, SMatrix};

// The size of `a ⊗ b` is `2N x 2N`, which a const generic `N` cannot name in a type.
#[differentiate(wrt = a)]
fn f<const N: usize>(a: &SMatrix<f64, N, N>, b: &Matrix2<f64>) -> f64 {
    a.kronecker(b).sum()
}

fn main() {}
