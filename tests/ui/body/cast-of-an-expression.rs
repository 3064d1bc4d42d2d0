use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * (2 + 1) as f64
}

fn main() {}
