use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * x + f64::DIGITS
}

fn main() {}
