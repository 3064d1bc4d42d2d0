use md::nalgebra::{Matrix2, Matrix3, SVector, Vector2, Vector3};

/// `‖A x‖²`: ∇ₓ = 2 Aᵀ A x, and the Hessian is 2 Aᵀ A.
#[md::differentiate(wrt = x, crate = md)]
fn residual_norm(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (a * x).norm_squared()
}

/// `det A` of a 2 × 2 matrix: its gradient is the cofactor matrix `[[d, −c], [−b, a]]`. The
/// generated code computes it as `det(A) A⁻ᵀ` through matdiff's runtime helpers.
#[md::differentiate(wrt = a, crate = md)]
fn determinant(a: &Matrix2<f64>) -> f64 {
    a.determinant()
}

/// Calls `residual_norm` through its hidden helpers: ∇ₓ = 6 Aᵀ A x, HVP 6 Aᵀ A v.
#[md::differentiate(wrt = x, crate = crate::deps::matdiff)]
fn tripled(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    3.0 * residual_norm(x, a)
}

/// `Σ xᵢ⁴` of any length: the Hessian (a loop of HVPs along the unit vectors) is
/// `diag(12 xᵢ²)`.
#[md::differentiate(wrt = x, crate = md)]
fn quartic<const N: usize>(x: &SVector<f64, N>) -> f64 {
    x.map(|t| t.powi(4)).sum()
}

/// `(x₀ x₁, x₀²)`: the Jacobian is `[[x₁, x₀], [2 x₀, 0]]`.
#[md::differentiate(wrt = x, crate = md)]
fn products(x: &Vector2<f64>) -> Vector2<f64> {
    Vector2::new(x[0] * x[1], x[0] * x[0])
}

/// Functions in an `impl` block, whose hidden helpers are siblings.
struct Model;

impl Model {
    /// `x₀² + 2 x₁²`: ∇ = (2 x₀, 4 x₁).
    #[md::differentiate(wrt = x, associated, crate = md)]
    fn energy(x: &Vector2<f64>) -> f64 {
        x[0] * x[0] + 2.0 * x[1] * x[1]
    }

    /// `5 energy(x)`, through `Self::`: ∇ = (10 x₀, 20 x₁).
    #[md::differentiate(crate = md, wrt = x, associated)]
    fn scaled(x: &Vector2<f64>) -> f64 {
        5.0 * Self::energy(x)
    }
}

fn a() -> Matrix3<f64> {
    Matrix3::new(2.0, -1.0, 0.5, 0.0, 1.5, 1.0, -0.5, 0.25, 3.0)
}

fn assert_close<const R: usize, const C: usize>(
    got: &md::nalgebra::SMatrix<f64, R, C>,
    want: &md::nalgebra::SMatrix<f64, R, C>,
) {
    assert!(
        (got - want).amax() <= 1e-12 * (1.0 + want.amax()),
        "got {got}, want {want}"
    );
}

#[test]
fn gradient_hvp_and_hessian_through_a_renamed_crate() {
    let (x, a) = (Vector3::new(0.5, -1.0, 2.0), a());
    let v = Vector3::new(1.0, 0.25, -0.5);
    let ata = a.transpose() * a;
    let (value, grad) = residual_norm_value_and_grad(&x, &a);
    assert_eq!(value, residual_norm(&x, &a));
    assert!((value - (a * x).norm_squared()).abs() < 1e-12);
    assert_close(&grad, &(2.0 * ata * x));
    assert_close(&residual_norm_grad(&x, &a), &(2.0 * ata * x));
    assert_close(&residual_norm_hvp(&x, &a, &v), &(2.0 * ata * v));
    assert_close(&residual_norm_hessian(&x, &a), &(2.0 * ata));
}

#[test]
fn determinant_gradient_is_the_cofactor_matrix() {
    let m = Matrix2::new(3.0, 1.0, -2.0, 4.0);
    let cofactors = Matrix2::new(4.0, 2.0, -1.0, 3.0);
    assert!((determinant(&m) - 14.0).abs() < 1e-12);
    assert_close(&determinant_grad(&m), &cofactors);
}

#[test]
fn a_call_goes_through_the_callees_hidden_helpers() {
    let (x, a) = (Vector3::new(0.5, -1.0, 2.0), a());
    let v = Vector3::new(1.0, 0.25, -0.5);
    let ata = a.transpose() * a;
    assert_eq!(tripled(&x, &a), 3.0 * residual_norm(&x, &a));
    assert_close(&tripled_grad(&x, &a), &(6.0 * ata * x));
    assert_close(&tripled_hvp(&x, &a, &v), &(6.0 * ata * v));
}

#[test]
fn hessian_of_a_const_generic_length() {
    let x = SVector::<f64, 4>::new(1.0, -0.5, 2.0, 0.0);
    let want = md::nalgebra::SMatrix::<f64, 4, 4>::from_diagonal(&x.map(|t| 12.0 * t * t));
    assert!((quartic(&x) - 17.0625).abs() < 1e-12);
    assert_close(&quartic_hessian(&x), &want);
}

#[test]
fn jacobian_of_a_vector_function() {
    let x = Vector2::new(3.0, -2.0);
    let want = Matrix2::new(-2.0, 3.0, 6.0, 0.0);
    assert_close(&products_jacobian(&x), &want);
    let (value, jacobian) = products_value_and_jacobian(&x);
    assert_close(&value, &products(&x));
    assert_close(&value, &Vector2::new(-6.0, 9.0));
    assert_close(&jacobian, &want);
}

#[test]
fn associated_functions_and_their_sibling_helpers() {
    let x = Vector2::new(1.5, -0.5);
    assert_close(&Model::energy_grad(&x), &Vector2::new(3.0, -2.0));
    assert_close(&Model::scaled_grad(&x), &Vector2::new(15.0, -10.0));
    assert!((Model::scaled(&x) - 5.0 * Model::energy(&x)).abs() < 1e-12);
}
