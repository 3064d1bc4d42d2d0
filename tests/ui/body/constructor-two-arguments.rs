use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

// A static matrix's `from_diagonal_element` takes only the scalar; the sizes are its type's.
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    Matrix2::from_diagonal_element(2, x).sum()
}

fn main() {}
