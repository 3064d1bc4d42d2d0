use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>) -> f64 {
    let mut y = *x;
    y.set_column(0, &x, 1);
    y.sum()
}

fn main() {}
