use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(mut x: f64) -> f64 {
    x = x * x;
    x
}

fn main() {}
