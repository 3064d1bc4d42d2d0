use matdiff::differentiate;

#[differentiate(wrt = x, crate = 1)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
