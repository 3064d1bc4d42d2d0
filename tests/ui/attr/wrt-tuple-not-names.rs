use matdiff::differentiate;

#[differentiate(wrt = (x, y.0))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
