use matdiff::differentiate;

#[differentiate("x")]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
