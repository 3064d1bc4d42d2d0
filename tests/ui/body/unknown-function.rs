use matdiff::differentiate;

// A call goes through the callee's hidden generated functions, so calling a function without
// `#[differentiate]` is reported by rustc: the callee is not the module-like path
// `square::__matdiff_tangent` that a differentiated function provides.
fn square(t: f64) -> f64 {
    t * t
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    square(x) + x
}

fn main() {}
