use matdiff::differentiate;

fn f_grad(x: f64) -> f64 {
    2.0 * x
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = f_grad(1.0);
}
