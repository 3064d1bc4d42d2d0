use matdiff::differentiate;

type Real = f64;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let y: Real = x * x;
    y
}

fn main() {}
