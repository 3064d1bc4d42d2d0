use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let t = (x, x * x);
    t.2
}

fn main() {}
