use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let g = |t: f64| t * t;
    g
}

fn main() {}
