use matdiff::differentiate;
use matdiff::nalgebra::{RowSVector, SVector};

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, y: &RowSVector<f64, 3>) -> f64 {
    x.component_mul(y).sum()
}

fn main() {}
