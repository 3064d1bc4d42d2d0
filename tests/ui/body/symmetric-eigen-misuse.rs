use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

// A field the decomposition does not have.
#[differentiate(wrt = a)]
fn field(a: &Matrix3<f64>) -> f64 {
    a.symmetric_eigen().eigenvalue.sum()
}

// A method of the decomposition matdiff does not differentiate.
#[differentiate(wrt = a)]
fn method(a: &Matrix3<f64>) -> f64 {
    a.symmetric_eigen().recompose().trace()
}

// The decomposition used as a matrix.
#[differentiate(wrt = a)]
fn as_value(a: &Matrix3<f64>) -> f64 {
    let eigen = a.symmetric_eigen();
    (eigen * 2.0).sum()
}

fn main() {}
