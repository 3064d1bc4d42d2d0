use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let _half = 0.5f32;
    x * x
}

fn main() {}
