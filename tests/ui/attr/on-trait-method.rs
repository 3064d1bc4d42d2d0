use matdiff::differentiate;

trait Loss {
    #[differentiate(wrt = x)]
    fn loss(x: f64) -> f64;
}

fn main() {}
