use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let _single = x as f32;
    x * x
}

fn main() {}
