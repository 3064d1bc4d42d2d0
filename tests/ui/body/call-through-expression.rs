use matdiff::differentiate;

#[differentiate(wrt = t)]
fn square(t: f64) -> f64 {
    t * t
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    (square)(x)
}

fn main() {}
