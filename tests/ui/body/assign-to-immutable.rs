use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let y = x;
    y = y * x;
    y
}

fn main() {}
