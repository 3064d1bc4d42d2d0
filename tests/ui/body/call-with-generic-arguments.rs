use matdiff::differentiate;

fn scale<T: Into<f64>>(t: T) -> f64 {
    2.0 * t.into()
}

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    scale::<f64>(x)
}

fn main() {}
