use matdiff::differentiate;
use matdiff::nalgebra::SVector;

// `k` is differentiated: a `.map()` closure must not read it as a frozen constant.
#[differentiate(wrt = (x, k))]
fn f(x: &SVector<f64, 3>, k: f64) -> f64 {
    x.map(|t| t * (k as f64)).sum()
}

fn main() {}
