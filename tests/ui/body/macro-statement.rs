use matdiff::differentiate;

#[differentiate(wrt = x)]
fn f(x: f64) -> f64 {
    println!("x = {x}");
    x * x
}

fn main() {}
