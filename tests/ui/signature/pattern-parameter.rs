use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64, &scale: &f64) -> f64 {
    scale * x * x
}

fn main() {
    // Stubs keep the written signature, so callers report nothing more.
    let _: f64 = f_grad(1.0, &2.0);
}
