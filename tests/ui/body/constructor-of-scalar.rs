use matdiff::differentiate;

struct Unit;

impl Unit {
    fn identity() -> f64 {
        1.0
    }
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    x * Unit::identity()
}

fn main() {}
