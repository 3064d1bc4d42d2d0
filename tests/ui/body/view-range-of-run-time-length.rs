use matdiff::differentiate;
use matdiff::nalgebra::Matrix3;

// The length of a range must be known at compile time; `k` is known only at run time.
#[differentiate(wrt = x)]
fn f(x: &Matrix3<f64>, k: usize) -> f64 {
    x.view_range(0..k, 0..2).sum()
}

fn main() {}
