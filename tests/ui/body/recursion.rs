use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    if x > 1.0 { f(x / 2.0) } else { x }
}

fn main() {}
