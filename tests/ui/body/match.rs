use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, k: f64) -> f64 {
    match k {
        0.0 => x,
        _ => x * k,
    }
}

fn main() {}
