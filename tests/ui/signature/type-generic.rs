use matdiff::differentiate;
use matdiff::nalgebra::{RealField, SVector};

#[differentiate(wrt = x)]
fn f<T: RealField + Copy>(x: &SVector<T, 3>) -> T {
    x.norm_squared()
}

fn main() {
    let _: SVector<f64, 3> = f_grad(&SVector::<f64, 3>::zeros());
}
