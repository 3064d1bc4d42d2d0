use matdiff::differentiate;
use matdiff::nalgebra::{SMatrix, SVector};

// `from_fn` is unrolled entry by entry: the sizes must be literals.
#[differentiate(wrt = x)]
fn f<const N: usize>(x: &SVector<f64, N>) -> f64 {
    SMatrix::<f64, N, N>::from_fn(|i, j| x[i] * x[j]).sum()
}

fn main() {}
