use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

// A 2x2 matrix takes 4 entries; nalgebra would panic at run time.
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    Matrix2::from_row_slice(&[x, 1.0, 2.0]).determinant()
}

fn main() {}
