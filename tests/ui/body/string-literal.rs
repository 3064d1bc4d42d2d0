use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let _label = "square";
    x * x
}

fn main() {}
