#![allow(irrefutable_let_patterns)]
use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let y = x * x else { unreachable!() };
    y
}

fn main() {}
