use matdiff::differentiate;

#[differentiate(wrt = x, order = 2)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
