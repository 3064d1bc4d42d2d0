use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, k: f64) -> f64 {
    if let 0.0 = k { x } else { x * k }
}

fn main() {}
