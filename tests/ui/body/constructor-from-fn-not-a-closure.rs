use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, Vector2};

// `from_fn` needs the closure of the position written in the call (or bound with `let`);
// a closure of one argument is not one.
#[differentiate(wrt = x)]
fn f(x: &Vector2<f64>) -> f64 {
    Matrix2::from_fn(|k| x[k]).sum()
}

fn main() {}
