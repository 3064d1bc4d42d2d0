use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let add = |a: f64, b: f64| a + b;
    add(x)
}

fn main() {}
