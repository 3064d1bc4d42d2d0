use matdiff::differentiate;

fn checked(x: f64) -> Option<f64> {
    Some(x)
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    let y = checked(x)?;
    y
}

fn main() {}
