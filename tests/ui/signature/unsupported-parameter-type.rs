use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, weights: Vec<f64>) -> f64 {
    x * weights[0]
}

fn main() {
    // Stubs keep the written signature, so callers report nothing more.
    let _: f64 = f_grad(1.0, vec![2.0]);
    let _: (f64, f64) = f_value_and_grad(1.0, vec![2.0]);
    let _: f64 = f_hvp(1.0, vec![2.0], 1.0);
}
