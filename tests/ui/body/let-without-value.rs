use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let _y: f64;
    x * x
}

fn main() {}
