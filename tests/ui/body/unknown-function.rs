use matdiff::differentiate;

// A call goes through the callee's hidden generated functions, so calling a function without
// `#[differentiate]` is reported by rustc as a missing `__matdiff_<name>_*` function.
fn square(t: f64) -> f64 {
    t * t
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    square(x) + x
}

fn main() {}
