use matdiff::differentiate;
use matdiff::nalgebra::{DVector, SVector};

// A value whose size is known only at run time has no static Jacobian.
#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> DVector<f64> {
    DVector::from_column_slice(x.as_slice())
}

fn main() {}
