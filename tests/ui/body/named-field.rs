use matdiff::differentiate;

struct P { a: f64 }
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x.a
}

fn main() {}
