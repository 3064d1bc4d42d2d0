use matdiff::differentiate;

// `inner` has an error; `outer`, which calls it, reports nothing more, since `inner`'s hidden
// derivative functions exist as stubs.
#[differentiate(wrt = t)]
fn inner(t: f64) -> f64 {
    t.asinh()
}

#[differentiate(wrt = x)]
fn outer(x: f64) -> f64 {
    inner(x) * x
}

fn main() {
    let _: f64 = outer_grad(1.0);
}
