use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    const HALF: f64 = 0.5;
    x * x
}

fn main() {}
