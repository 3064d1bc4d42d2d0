use matdiff::differentiate;
use matdiff::nalgebra::SVector;

struct Model {
    scale: f64,
}

impl Model {
    #[differentiate(wrt = x)]
    fn loss(&self, x: &SVector<f64, 3>) -> f64 {
        self.scale * x.norm_squared()
    }
}

fn main() {
    // The generated functions exist as stubs, so this call reports nothing more.
    let model = Model { scale: 2.0 };
    let _: SVector<f64, 3> = model.loss_grad(&SVector::zeros());
}
