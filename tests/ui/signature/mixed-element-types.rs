use matdiff::differentiate;
use matdiff::nalgebra::SVector;

#[differentiate(wrt = x)]
fn f(x: &SVector<f64, 3>, _scale: f32) -> f64 {
    x.norm_squared()
}

fn main() {
    let _: SVector<f64, 3> = f_grad(&SVector::zeros(), 1.0);
}
