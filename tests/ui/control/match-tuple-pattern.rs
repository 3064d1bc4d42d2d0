use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, k: usize) -> f64 {
    match k {
        (0) => x,
        Some(_) => x * x,
        _ => x * x * x,
    }
}

fn main() {}
