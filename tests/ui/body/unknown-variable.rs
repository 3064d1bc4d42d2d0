use matdiff::differentiate;

// A global the body cannot see as a parameter, local or upper-case constant.
#[allow(non_upper_case_globals)]
static scale: f64 = 2.0;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    scale * x * x
}

fn main() {}
