use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f<const N: usize>(x: &SVector<f64, N>) -> f64 {
    SVector::<f64, N>::new(x[0]).sum()
}

fn main() {}
