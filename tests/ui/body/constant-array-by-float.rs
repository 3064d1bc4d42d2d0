use matdiff::differentiate;

const DATA: [f64; 3] = [1.0, 2.0, 3.0];
#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * DATA[x]
}

fn main() {}
