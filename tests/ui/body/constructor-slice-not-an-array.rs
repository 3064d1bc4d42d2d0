use matdiff::differentiate;
use matdiff::nalgebra::Matrix2;

const ENTRIES: [f64; 4] = [1.0, 2.0, 3.0, 4.0];

// The entries are read from the array written in the call, not from a named one.
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * Matrix2::from_column_slice(&ENTRIES).determinant()
}

fn main() {}
