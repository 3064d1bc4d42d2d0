use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let t = (x, x);
    t[0]
}

fn main() {}
