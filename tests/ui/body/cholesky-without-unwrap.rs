use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, Vector3};

// `cholesky` returns an `Option` (`None` when the matrix is not positive definite).
#[differentiate(wrt = a)]
fn f(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let chol = a.cholesky();
    b.dot(&chol.solve(b))
}

fn main() {}
