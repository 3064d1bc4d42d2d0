use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let _pair = [x, x];
    x * x
}

fn main() {}
