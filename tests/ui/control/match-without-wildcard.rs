use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, k: usize) -> f64 {
    match k {
        0 => x,
        1 => x * x,
    }
}

fn main() {}
