// A path that does not name matdiff: rustc reports it on the attribute's own tokens.
use matdiff::differentiate;

#[differentiate(wrt = x, crate = not_matdiff)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
