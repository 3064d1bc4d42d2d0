use matdiff::differentiate;

#[differentiate(wrt = x, crate matdiff)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
