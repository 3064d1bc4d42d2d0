use matdiff::differentiate;
use matdiff::nalgebra::SVector;

struct Model;

// In an `impl` block the attribute needs `associated`: without it, the type that carries the
// functions callers use is declared where Rust allows no type, and rustc says so.
impl Model {
    #[differentiate(wrt = x)]
    fn loss(x: &SVector<f64, 3>) -> f64 {
        x.norm_squared()
    }
}

fn main() {
    let _ = Model::loss_grad(&SVector::zeros());
}
