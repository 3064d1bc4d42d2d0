#![allow(unreachable_code)]
use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    while x > 1.0 {}
    x
}

fn main() {}
