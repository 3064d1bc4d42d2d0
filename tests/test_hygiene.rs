//! Hygiene: user names that look like the macro's own (`v` and `v1` for directions, `__t0`
//! for temporaries, `d0` for the hidden tangent's directions, `m` in emitted blocks, `grad`,
//! `x_bar`, `tangent`) neither clash with nor capture generated code, and the derivatives stay
//! right. Checked against hand-derived formulas and against finite differences.
//!
//! The one clash the macro cannot avoid, an existing item named like a generated function
//! (`f_grad`), is a compile error pinned in `tests/ui/signature/generated-name-clash.rs`.

use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, SMatrix, SVector, Vector2, Vector3};
use matdiff::runtime::{check_all, check_gradient, Rng, VectorSpace};

const TOL: f64 = 1e-6;

/// `vᵀ A v`, differentiated with respect to a parameter named like the direction of `*_hvp`.
#[differentiate(wrt = v)]
fn quadratic_in_v(v: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
    v.dot(&(a * v))
}

#[test]
fn a_parameter_named_v_stays_apart_from_the_direction() {
    let mut rng = Rng::new(1);
    let (a, v, w) = (
        rng.matrix::<3, 3>(),
        rng.matrix::<3, 1>(),
        rng.matrix::<3, 1>(),
    );
    let sym = a + a.transpose();
    let (value, grad) = quadratic_in_v_value_and_grad(&v, &a);
    assert!((value - quadratic_in_v(&v, &a)).abs() < 1e-12);
    assert!((grad - sym * v).norm() < 1e-12);
    // The third argument is the direction; the first is the point, also called `v`.
    assert!((quadratic_in_v_hvp(&v, &a, &w) - sym * w).norm() < 1e-12);
}

/// Two `wrt` parameters named like the two directions `v1`, `v2` of `*_hvp`.
#[differentiate(wrt = (v1, v2))]
fn product_in_v1_v2(v1: &Vector2<f64>, v2: &Vector2<f64>) -> f64 {
    v1.dot(v2) * v1.norm_squared()
}

#[test]
fn parameters_named_v1_v2_stay_apart_from_the_directions() {
    let mut rng = Rng::new(2);
    let x = (rng.matrix::<2, 1>(), rng.matrix::<2, 1>());
    check_all(
        |(a, b): &(Vector2<f64>, Vector2<f64>)| product_in_v1_v2(a, b),
        |(a, b)| product_in_v1_v2_grad(a, b),
        |(a, b), (da, db)| product_in_v1_v2_hvp(a, b, da, db),
        &x,
        &mut rng,
        TOL,
    );
}

/// Locals named like the emitter's temporaries and like derivative variables.
#[differentiate(wrt = x)]
fn locals_named_like_temporaries(x: &Vector3<f64>, m: &SMatrix<f64, 3, 3>) -> f64 {
    let __t0 = m * x;
    let __t1 = __t0.norm_squared();
    let grad = __t1.sqrt();
    let tangent = grad * 2.0;
    let x_bar = tangent + x[0];
    x_bar * x_bar
}

#[test]
fn locals_named_like_temporaries_give_right_derivatives() {
    let mut rng = Rng::new(3);
    let m = rng.well_conditioned::<3>();
    let x = rng.matrix::<3, 1>();
    check_all(
        |x: &Vector3<f64>| locals_named_like_temporaries(x, &m),
        |x| locals_named_like_temporaries_grad(x, &m),
        |x, v| locals_named_like_temporaries_hvp(x, &m, v),
        &x,
        &mut rng,
        TOL,
    );
}

/// Parameters named like the hidden tangent's directions (`d0`, `d1`) and temporaries, taken
/// by value and by reference, with one of them constant.
#[differentiate(wrt = (__t0, d0))]
fn parameters_named_like_generated(__t0: f64, d0: &f64, d1: &SVector<f64, 2>) -> f64 {
    (__t0 * d0).sin() + __t0 * d1.norm_squared()
}

#[test]
fn parameters_named_like_generated_give_right_derivatives() {
    let mut rng = Rng::new(4);
    let d1 = rng.matrix::<2, 1>();
    let x = (0.3, -0.7);
    check_all(
        |&(t, d): &(f64, f64)| parameters_named_like_generated(t, &d, &d1),
        |&(t, d)| parameters_named_like_generated_grad(t, &d, &d1),
        |&(t, d), &(dt, dd)| parameters_named_like_generated_hvp(t, &d, &d1, dt, &dd),
        &x,
        &mut rng,
        TOL,
    );
    // By hand: d/dt = d cos(t d) + |d1|², d/dd = t cos(t d).
    let (t, d) = x;
    let (gt, gd) = parameters_named_like_generated_grad(t, &d, &d1);
    assert!((gt - (d * (t * d).cos() + d1.norm_squared())).abs() < 1e-12);
    assert!((gd - t * (t * d).cos()).abs() < 1e-12);
}

/// A matrix parameter called `m`, indexed, so the gradient places entries into a zero matrix.
#[differentiate(wrt = m)]
fn entries_of_m(m: &Matrix2<f64>, grad: f64) -> f64 {
    grad * m[(0, 1)] * m[(1, 0)] + m[(1, 1)].powi(2)
}

#[test]
fn a_parameter_named_m_with_indexing() {
    let mut rng = Rng::new(5);
    let m = rng.matrix::<2, 2>();
    let g = entries_of_m_grad(&m, 3.0);
    let expected = Matrix2::new(0.0, 3.0 * m[(1, 0)], 3.0 * m[(0, 1)], 2.0 * m[(1, 1)]);
    assert!((g - expected).norm() < 1e-12, "{g} vs {expected}");
    let v = m.random(&mut rng);
    check_gradient(|m: &Matrix2<f64>| entries_of_m(m, 3.0), &g, &m, &v)
        .assert_within(TOL, "gradient of entries_of_m");
}

/// Shadowing the parameter itself.
#[differentiate(wrt = x)]
fn shadowed(x: &Vector3<f64>) -> f64 {
    let x = x * 2.0;
    let x = x.norm_squared();
    x.ln()
}

#[test]
fn shadowing_a_parameter() {
    let x = Vector3::new(0.5, -1.0, 2.0);
    // ln(4|x|²) has gradient 2x / |x|².
    let expected = x * (2.0 / x.norm_squared());
    assert!((shadowed_grad(&x) - expected).norm() < 1e-12);
    assert!((shadowed(&x) - (4.0 * x.norm_squared()).ln()).abs() < 1e-12);
}

/// A differentiated function called by another, both using the same local names.
#[differentiate(wrt = v)]
fn inner(v: &Vector2<f64>) -> f64 {
    let __t0 = v.norm_squared();
    __t0 * __t0
}

#[differentiate(wrt = v)]
fn outer(v: &Vector2<f64>, d0: f64) -> f64 {
    let __t0 = inner(v);
    d0 * __t0
}

#[test]
fn calls_between_functions_with_the_same_local_names() {
    let mut rng = Rng::new(6);
    let v = rng.matrix::<2, 1>();
    // d0 |v|⁴ has gradient 4 d0 |v|² v.
    let expected = v * (4.0 * 1.5 * v.norm_squared());
    assert!((outer_grad(&v, 1.5) - expected).norm() < 1e-10);
    check_all(
        |v: &Vector2<f64>| outer(v, 1.5),
        |v| outer_grad(v, 1.5),
        |v, w| outer_hvp(v, 1.5, w),
        &v,
        &mut rng,
        TOL,
    );
}

mod nested {
    use matdiff::differentiate;
    use matdiff::nalgebra::Vector2;

    /// Generated functions get the visibility of the original.
    #[differentiate(wrt = x)]
    pub fn visible(x: &Vector2<f64>) -> f64 {
        x.norm()
    }
}

#[test]
fn generated_functions_are_visible_like_the_original() {
    let x = Vector2::new(3.0, 4.0);
    assert!((nested::visible(&x) - 5.0).abs() < 1e-12);
    assert!((nested::visible_grad(&x) - x / 5.0).norm() < 1e-12);
}

struct Model;

impl Model {
    /// An associated function without `self`: the generated ones are associated too.
    #[differentiate(wrt = x, associated)]
    fn loss(x: &Vector2<f64>) -> f64 {
        x.norm_squared()
    }

    /// Calls its sibling through `Self::` and through the type's name.
    #[differentiate(wrt = x, associated)]
    fn scaled_loss(x: &Vector2<f64>) -> f64 {
        3.0 * Self::loss(x) + Model::loss(&(2.0 * x))
    }
}

#[test]
fn associated_functions_without_self() {
    let x = Vector2::new(1.0, -2.0);
    assert_eq!(Model::loss(&x), 5.0);
    assert_eq!(Model::loss_grad(&x), 2.0 * x);
    assert_eq!(Model::loss_value_and_grad(&x), (5.0, 2.0 * x));
    assert_eq!(Model::loss_hvp(&x, &x), 2.0 * x);
    // 3‖x‖² + ‖2x‖² = 7‖x‖².
    assert_eq!(Model::scaled_loss(&x), 7.0 * x.norm_squared());
    assert_eq!(Model::scaled_loss_grad(&x), 14.0 * x);
    assert_eq!(Model::scaled_loss_hvp(&x, &x), 14.0 * x);
}
