use matdiff::differentiate;
use matdiff::nalgebra::Vector3;

// Two statements: `.apply()` takes one assignment of the entry.
#[differentiate(wrt = a)]
fn f(a: &Vector3<f64>) -> f64 {
    let mut m = *a;
    m.apply(|t| {
        *t = t.sin();
        *t += 1.0;
    });
    m.sum()
}

fn main() {}
