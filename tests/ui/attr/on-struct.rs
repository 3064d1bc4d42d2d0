use matdiff::differentiate;

#[differentiate(wrt = x)]
struct Loss {
    x: f64,
}

fn main() {}
