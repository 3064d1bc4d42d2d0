use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, k: usize) -> f64 {
    match k {
        n if n > 2 => x,
        _ => x * x,
    }
}

fn main() {}
