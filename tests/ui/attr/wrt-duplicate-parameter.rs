use matdiff::differentiate;

#[differentiate(wrt = (x, y, x))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {
    // The duplicate is dropped for the stubs: callers see the gradient they asked for.
    let (_gx, _gy): (f64, f64) = f_grad(1.0, 2.0);
}
