use matdiff::differentiate;

#[differentiate(wrt = x, crate = "matdiff")]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {
    // The stubs name matdiff by the string's path, so callers see only the one error.
    let _ = f_grad(1.0);
}
