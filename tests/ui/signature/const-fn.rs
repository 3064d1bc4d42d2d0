use matdiff::differentiate;

#[differentiate(wrt = x)]
const fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
