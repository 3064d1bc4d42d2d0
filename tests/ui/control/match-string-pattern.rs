use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, k: usize) -> f64 {
    match k {
        0 | 1 => x,
        2..=4 => x * x,
        'a' => x,
        _ => x * x * x,
    }
}

fn main() {}
