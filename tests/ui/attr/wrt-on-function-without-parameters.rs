use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f() -> f64 {
    1.0
}

fn main() {}
