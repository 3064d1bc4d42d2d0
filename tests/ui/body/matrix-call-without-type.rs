use matdiff::differentiate;
use matdiff::nalgebra::Vector2;

#[differentiate(wrt = x)]
fn residual(x: &Vector2<f64>) -> Vector2<f64> {
    Vector2::new(x[0] - 1.0, x[1] * x[0])
}

// The macro cannot see `residual`'s return type: a matrix-valued call needs it on the `let`,
// `let r: Vector2<f64> = residual(x);`.
#[differentiate(wrt = x)]
fn loss(x: &Vector2<f64>) -> f64 {
    let r = residual(x);
    r.norm_squared()
}

fn main() {}
