use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(mut x: f64) -> f64 {
    x += 1.0;
    x * x
}

fn main() {}
