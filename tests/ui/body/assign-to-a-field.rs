use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let mut t = (x, x);
    t.0 = 1.0;
    t.1
}

fn main() {}
