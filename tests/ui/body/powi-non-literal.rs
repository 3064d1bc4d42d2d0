use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x.powi(1 + 2)
}

fn main() {}
