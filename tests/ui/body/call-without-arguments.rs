use matdiff::differentiate;

fn two() -> f64 {
    2.0
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    two() * x
}

fn main() {}
