use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3x2, Vector3};

// `from_columns` takes column vectors; `from_rows` takes the transposes.
#[differentiate(wrt = x)]
fn f(x: &Vector3<f64>) -> f64 {
    Matrix3x2::from_columns(&[x.transpose(), x.transpose()]).sum()
}

fn main() {}
