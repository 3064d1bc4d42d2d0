use matdiff::differentiate;

#[differentiate(wrt = (x, y))]
fn f(x: f64, y: f64) -> f64 {
    let (a, b) = (x * x, y);
    a * b
}

fn main() {}
