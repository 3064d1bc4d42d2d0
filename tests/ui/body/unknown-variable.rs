use matdiff::differentiate;

const SCALE: f64 = 2.0;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    SCALE * x * x
}

fn main() {}
