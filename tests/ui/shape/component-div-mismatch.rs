use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, y: &SVector<f64, 2>) -> f64 {
    x.component_div(y).sum()
}

fn main() {}
