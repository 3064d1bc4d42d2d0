#![allow(path_statements)]
use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x;
    x * x
}

fn main() {}
