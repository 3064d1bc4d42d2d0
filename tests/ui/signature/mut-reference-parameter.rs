use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &mut SVector<f64, 3>) -> f64 {
    x.norm_squared()
}

fn main() {}
