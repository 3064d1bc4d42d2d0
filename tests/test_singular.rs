//! Singular inputs. A function that inverts a singular matrix with `.try_inverse().unwrap()`
//! or `.try_inverse().expect("...")` panics, and its generated `_grad`, `_value_and_grad`
//! and `_hvp` panic with exactly the same message (compared as payload strings). The
//! derivatives of `det` and `ln det` need `A⁻¹`: at a singular matrix they panic with
//! matdiff's own message naming the determinant, while the user's function itself returns
//! `0` (det) or `−∞` (ln det).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use matdiff::differentiate;
use matdiff::nalgebra::{Matrix2, Matrix3, Matrix4, SMatrix, Vector3};

/// The message std's `Option::unwrap` panics with on `None`.
const UNWRAP_NONE: &str = "called `Option::unwrap()` on a `None` value";

/// The start of the message the generated derivatives of `det`/`ln det` panic with.
const MATDIFF_DET: &str = "matdiff: the derivative of a determinant needs the inverse";

/// Runs `f`, returning its panic message, or `None` if it returned normally.
fn panic_message<R>(f: impl FnOnce() -> R) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    if let Some(s) = payload.downcast_ref::<&str>() {
        Some((*s).to_owned())
    } else if let Some(s) = payload.downcast_ref::<String>() {
        Some(s.clone())
    } else {
        Some("<non-string panic payload>".to_owned())
    }
}

/// A named call that is expected to panic.
type Call<'a> = Box<dyn FnOnce() + 'a>;

/// Asserts that every closure panics with exactly `expected`; reports every one that does
/// not.
#[track_caller]
fn assert_all_panic_with(expected: &str, calls: Vec<(&str, Call<'_>)>) {
    let mut failures = Vec::new();
    for (name, call) in calls {
        match panic_message(call) {
            Some(message) if message == expected => {}
            Some(message) => failures.push(format!("{name} panicked with {message:?}")),
            None => failures.push(format!("{name} returned without panicking")),
        }
    }
    assert!(
        failures.is_empty(),
        "expected every call to panic with {expected:?}, but:\n{}",
        failures.join("\n")
    );
}

/// Exactly singular matrices (nalgebra's `try_inverse` returns `None` for each).
fn singular3() -> [Matrix3<f64>; 3] {
    [
        // Two equal rows.
        Matrix3::new(1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 0.5, -1.0, 4.0),
        // A zero column.
        Matrix3::new(0.0, 2.0, 3.0, 0.0, -1.0, 1.0, 0.0, 4.0, 2.0),
        // The zero matrix.
        Matrix3::zeros(),
    ]
}

// ---------------------------------------------------------------------------------------------
// try_inverse().unwrap() and .expect(..)
// ---------------------------------------------------------------------------------------------

/// `tr(X⁻¹ B)` with `.unwrap()`.
#[differentiate(wrt = x)]
fn inv_unwrap(x: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    (x.try_inverse().unwrap() * b).trace()
}

/// `sum(X⁻¹) ‖X‖²` with `.expect(..)`.
#[differentiate(wrt = x)]
fn inv_expect(x: &Matrix3<f64>) -> f64 {
    x.try_inverse().expect("custom message").sum() * x.norm_squared()
}

/// A message with characters that need escaping and braces that are not a format string.
#[differentiate(wrt = x)]
fn inv_expect_escapes(x: &Matrix2<f64>) -> f64 {
    x.try_inverse()
        .expect("X is \"singular\": {x} \\ {} ∞\n\ttab")
        .norm_squared()
}

/// `X⁻¹` of a 4x4 matrix, `wrt` together with a vector.
#[differentiate(wrt = (x, y))]
fn inv_pair(x: &Matrix4<f64>, y: &SMatrix<f64, 4, 1>) -> f64 {
    y.dot(&(x.try_inverse().expect("4x4 singular") * y))
}

/// `X⁻¹` of a 5x5 matrix (nalgebra inverts it through an LU decomposition).
#[differentiate(wrt = x)]
fn inv5(x: &SMatrix<f64, 5, 5>) -> f64 {
    x.try_inverse().unwrap().trace()
}

/// `xᵀ B⁻¹ x` with respect to `x` only: the inverse is of a constant, but the user's
/// function still panics when `B` is singular, and so must the derivatives.
#[differentiate(wrt = x)]
fn inv_of_constant(x: &Vector3<f64>, b: &Matrix3<f64>) -> f64 {
    x.dot(&(b.try_inverse().expect("B must be invertible") * x))
}

/// The inverse is only a check: its value does not reach the result.
#[differentiate(wrt = x)]
fn inv_unused(x: &Matrix3<f64>) -> f64 {
    let _check = x.try_inverse().expect("X must be invertible");
    x.norm_squared()
}

/// `‖X‖² + sum(B⁻¹)`: the inverse of a constant is in a term whose derivative is zero.
#[differentiate(wrt = x)]
fn inv_constant_term(x: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    x.norm_squared() + b.try_inverse().expect("B must be invertible").sum()
}

/// `0 · sum(X⁻¹) + ‖X‖²`: the inverse is multiplied by a literal zero.
#[differentiate(wrt = x)]
fn inv_times_zero(x: &Matrix3<f64>) -> f64 {
    0.0 * x.try_inverse().expect("X must be invertible").sum() + x.norm_squared()
}

/// An inverse of `X` by value, through a binding.
#[differentiate(wrt = x)]
fn inv_by_value(x: Matrix2<f64>) -> f64 {
    let xi = x.try_inverse().unwrap();
    (xi * xi).trace()
}

#[test]
fn unwrap_panics_like_the_user_function() {
    let b = Matrix3::new(1.0, 0.5, 0.0, -1.0, 2.0, 0.3, 0.0, 1.0, 1.0);
    for x in singular3() {
        assert!(x.try_inverse().is_none());
        let user = panic_message(|| inv_unwrap(&x, &b));
        assert_eq!(user.as_deref(), Some(UNWRAP_NONE));
        assert_all_panic_with(
            UNWRAP_NONE,
            vec![
                (
                    "inv_unwrap_grad",
                    Box::new(|| {
                        let _ = inv_unwrap_grad(&x, &b);
                    }),
                ),
                (
                    "inv_unwrap_value_and_grad",
                    Box::new(|| {
                        let _ = inv_unwrap_value_and_grad(&x, &b);
                    }),
                ),
                (
                    "inv_unwrap_hvp",
                    Box::new(|| {
                        let _ = inv_unwrap_hvp(&x, &b, &b);
                    }),
                ),
            ],
        );
    }
    let x = Matrix2::new(1.0, 2.0, 2.0, 4.0);
    assert!(x.try_inverse().is_none());
    assert_eq!(
        panic_message(|| inv_by_value(x)).as_deref(),
        Some(UNWRAP_NONE)
    );
    assert_all_panic_with(
        UNWRAP_NONE,
        vec![
            (
                "inv_by_value_grad",
                Box::new(|| {
                    let _ = inv_by_value_grad(x);
                }),
            ),
            (
                "inv_by_value_value_and_grad",
                Box::new(|| {
                    let _ = inv_by_value_value_and_grad(x);
                }),
            ),
            (
                "inv_by_value_hvp",
                Box::new(|| {
                    let _ = inv_by_value_hvp(x, x);
                }),
            ),
        ],
    );
    let mut x5 = SMatrix::<f64, 5, 5>::from_fn(|i, j| 1.0 + (i * 5 + j) as f64 * 0.1);
    x5.set_column(2, &SMatrix::<f64, 5, 1>::zeros());
    assert!(x5.try_inverse().is_none());
    assert_eq!(panic_message(|| inv5(&x5)).as_deref(), Some(UNWRAP_NONE));
    assert_all_panic_with(
        UNWRAP_NONE,
        vec![
            (
                "inv5_grad",
                Box::new(|| {
                    let _ = inv5_grad(&x5);
                }),
            ),
            (
                "inv5_value_and_grad",
                Box::new(|| {
                    let _ = inv5_value_and_grad(&x5);
                }),
            ),
            (
                "inv5_hvp",
                Box::new(|| {
                    let _ = inv5_hvp(&x5, &x5);
                }),
            ),
        ],
    );
}

#[test]
fn expect_panics_with_the_same_message() {
    for x in singular3() {
        let user = panic_message(|| inv_expect(&x));
        assert_eq!(user.as_deref(), Some("custom message"));
        assert_all_panic_with(
            "custom message",
            vec![
                (
                    "inv_expect_grad",
                    Box::new(|| {
                        let _ = inv_expect_grad(&x);
                    }),
                ),
                (
                    "inv_expect_value_and_grad",
                    Box::new(|| {
                        let _ = inv_expect_value_and_grad(&x);
                    }),
                ),
                (
                    "inv_expect_hvp",
                    Box::new(|| {
                        let _ = inv_expect_hvp(&x, &x);
                    }),
                ),
            ],
        );
    }

    let x = Matrix2::new(1.0, 2.0, 2.0, 4.0);
    let expected = "X is \"singular\": {x} \\ {} ∞\n\ttab";
    assert_eq!(
        panic_message(|| inv_expect_escapes(&x)).as_deref(),
        Some(expected)
    );
    assert_all_panic_with(
        expected,
        vec![
            (
                "inv_expect_escapes_grad",
                Box::new(|| {
                    let _ = inv_expect_escapes_grad(&x);
                }),
            ),
            (
                "inv_expect_escapes_value_and_grad",
                Box::new(|| {
                    let _ = inv_expect_escapes_value_and_grad(&x);
                }),
            ),
            (
                "inv_expect_escapes_hvp",
                Box::new(|| {
                    let _ = inv_expect_escapes_hvp(&x, &x);
                }),
            ),
        ],
    );

    let x4 = Matrix4::new(
        1.0, 2.0, 3.0, 4.0, //
        0.0, 1.0, 0.0, 1.0, //
        1.0, 2.0, 3.0, 4.0, //
        5.0, 0.0, 1.0, 2.0,
    );
    let y = SMatrix::<f64, 4, 1>::new(1.0, -1.0, 0.5, 2.0);
    assert!(x4.try_inverse().is_none());
    assert_eq!(
        panic_message(|| inv_pair(&x4, &y)).as_deref(),
        Some("4x4 singular")
    );
    assert_all_panic_with(
        "4x4 singular",
        vec![
            (
                "inv_pair_grad",
                Box::new(|| {
                    let _ = inv_pair_grad(&x4, &y);
                }),
            ),
            (
                "inv_pair_value_and_grad",
                Box::new(|| {
                    let _ = inv_pair_value_and_grad(&x4, &y);
                }),
            ),
            (
                "inv_pair_hvp",
                Box::new(|| {
                    let _ = inv_pair_hvp(&x4, &y, &x4, &y);
                }),
            ),
        ],
    );
}

/// The inverted matrix does not depend on the `wrt` parameter.
#[test]
fn singular_constant_operand() {
    let x = Vector3::new(1.0, 2.0, -0.5);
    for b in singular3() {
        let expected = "B must be invertible";
        assert_eq!(
            panic_message(|| inv_of_constant(&x, &b)).as_deref(),
            Some(expected)
        );
        assert_all_panic_with(
            expected,
            vec![
                (
                    "inv_of_constant_grad",
                    Box::new(|| {
                        let _ = inv_of_constant_grad(&x, &b);
                    }),
                ),
                (
                    "inv_of_constant_value_and_grad",
                    Box::new(|| {
                        let _ = inv_of_constant_value_and_grad(&x, &b);
                    }),
                ),
                (
                    "inv_of_constant_hvp",
                    Box::new(|| {
                        let _ = inv_of_constant_hvp(&x, &b, &x);
                    }),
                ),
            ],
        );
    }
}

/// The inverse of a constant only adds a constant to the value, so no derivative needs it;
/// the user's function still panics, and so must every generated function.
#[test]
fn singular_constant_term() {
    let x = Matrix3::new(3.0, 1.0, 0.0, 0.0, 2.0, 1.0, 1.0, 0.0, 4.0);
    for b in singular3() {
        let expected = "B must be invertible";
        assert_eq!(
            panic_message(|| inv_constant_term(&x, &b)).as_deref(),
            Some(expected)
        );
        assert_all_panic_with(
            expected,
            vec![
                (
                    "inv_constant_term_grad",
                    Box::new(|| {
                        let _ = inv_constant_term_grad(&x, &b);
                    }),
                ),
                (
                    "inv_constant_term_value_and_grad",
                    Box::new(|| {
                        let _ = inv_constant_term_value_and_grad(&x, &b);
                    }),
                ),
                (
                    "inv_constant_term_hvp",
                    Box::new(|| {
                        let _ = inv_constant_term_hvp(&x, &b, &x);
                    }),
                ),
            ],
        );
    }
}

/// `0 · sum(X⁻¹)`: the user's function panics before multiplying by zero; so must the
/// generated functions.
#[test]
fn singular_times_zero() {
    for x in singular3() {
        let expected = "X must be invertible";
        assert_eq!(
            panic_message(|| inv_times_zero(&x)).as_deref(),
            Some(expected)
        );
        assert_all_panic_with(
            expected,
            vec![
                (
                    "inv_times_zero_grad",
                    Box::new(|| {
                        let _ = inv_times_zero_grad(&x);
                    }),
                ),
                (
                    "inv_times_zero_value_and_grad",
                    Box::new(|| {
                        let _ = inv_times_zero_value_and_grad(&x);
                    }),
                ),
                (
                    "inv_times_zero_hvp",
                    Box::new(|| {
                        let _ = inv_times_zero_hvp(&x, &x);
                    }),
                ),
            ],
        );
    }
}

/// The inverse's value is never used, but the user's function still panics.
#[test]
fn singular_unused_inverse() {
    for x in singular3() {
        let expected = "X must be invertible";
        assert_eq!(panic_message(|| inv_unused(&x)).as_deref(), Some(expected));
        assert_all_panic_with(
            expected,
            vec![
                (
                    "inv_unused_grad",
                    Box::new(|| {
                        let _ = inv_unused_grad(&x);
                    }),
                ),
                (
                    "inv_unused_value_and_grad",
                    Box::new(|| {
                        let _ = inv_unused_value_and_grad(&x);
                    }),
                ),
                (
                    "inv_unused_hvp",
                    Box::new(|| {
                        let _ = inv_unused_hvp(&x, &x);
                    }),
                ),
            ],
        );
    }
    // And at an invertible matrix it is an ordinary function: ∇‖X‖² = 2X.
    let x = Matrix3::new(3.0, 1.0, 0.0, 0.0, 2.0, 1.0, 1.0, 0.0, 4.0);
    assert_eq!(inv_unused_grad(&x), 2.0 * x);
}

// ---------------------------------------------------------------------------------------------
// det and ln det at a singular matrix
// ---------------------------------------------------------------------------------------------

/// `det X`.
#[differentiate(wrt = x)]
fn det(x: &Matrix3<f64>) -> f64 {
    x.determinant()
}

/// `ln det X`.
#[differentiate(wrt = x)]
fn logdet(x: &Matrix3<f64>) -> f64 {
    x.determinant().ln()
}

/// `ln det X` through a binding.
#[differentiate(wrt = x)]
fn logdet_let(x: &Matrix2<f64>) -> f64 {
    let d = x.determinant();
    d.ln()
}

/// `det X · sum(X⁻¹)`: the user's own inverse comes after the determinant.
#[differentiate(wrt = x)]
fn det_then_inverse(x: &Matrix3<f64>) -> f64 {
    x.determinant() * x.try_inverse().expect("user: singular").sum()
}

/// `sum(X⁻¹) + ln det X`: the user's own inverse comes first.
#[differentiate(wrt = x)]
fn inverse_then_logdet(x: &Matrix3<f64>) -> f64 {
    x.try_inverse().unwrap().sum() + x.determinant().ln()
}

/// Asserts `message` is matdiff's determinant message.
#[track_caller]
fn assert_matdiff_det_message(message: Option<String>, what: &str) {
    let message = message.unwrap_or_else(|| panic!("{what} did not panic"));
    assert!(
        message.starts_with(MATDIFF_DET) && message.contains("singular"),
        "{what} panicked with {message:?}"
    );
}

#[test]
fn determinant_derivatives_at_a_singular_matrix() {
    for x in singular3() {
        // The user's functions do not panic: det is 0 and ln det is −∞.
        assert_eq!(panic_message(|| det(&x)), None);
        assert_eq!(det(&x), 0.0);
        assert_eq!(logdet(&x), f64::NEG_INFINITY);
        // ∇ det is the cofactor matrix, finite here: each entry the signed minor, and the
        // central difference of det (a polynomial) agrees with it.
        let cofactors = Matrix3::from_fn(|i, j| {
            let minor = x.remove_row(i).remove_column(j).determinant();
            if (i + j) % 2 == 0 {
                minor
            } else {
                -minor
            }
        });
        assert_eq!(det_grad(&x), cofactors);
        assert_eq!(det_value_and_grad(&x), (0.0, cofactors));
        let h = 1e-4;
        for (i, j) in [(0, 0), (1, 2), (2, 1)] {
            let mut e = Matrix3::zeros();
            e[(i, j)] = h;
            let fd = (det(&(x + e)) - det(&(x - e))) / (2.0 * h);
            assert!((fd - cofactors[(i, j)]).abs() < 1e-9, "∂det/∂x{i}{j}");
        }
        // Its Hessian-vector product and the derivatives of ln det need X⁻¹, and panic with
        // matdiff's message.
        assert_matdiff_det_message(panic_message(|| det_hvp(&x, &x)), "det_hvp");
        assert_matdiff_det_message(panic_message(|| logdet_grad(&x)), "logdet_grad");
        assert_matdiff_det_message(
            panic_message(|| logdet_value_and_grad(&x)),
            "logdet_value_and_grad",
        );
        assert_matdiff_det_message(panic_message(|| logdet_hvp(&x, &x)), "logdet_hvp");
    }
    let x = Matrix2::new(1.0, 2.0, 2.0, 4.0);
    assert_eq!(logdet_let(&x), f64::NEG_INFINITY);
    assert_matdiff_det_message(panic_message(|| logdet_let_grad(&x)), "logdet_let_grad");
    assert_matdiff_det_message(panic_message(|| logdet_let_hvp(&x, &x)), "logdet_let_hvp");
}

/// When the user's function inverts the matrix itself, the derivatives panic with the user's
/// message, as the function does, whatever the order of the operations.
#[test]
fn user_inverse_message_wins_over_matdiff_message() {
    for x in singular3() {
        let expected = "user: singular";
        assert_eq!(
            panic_message(|| det_then_inverse(&x)).as_deref(),
            Some(expected)
        );
        assert_all_panic_with(
            expected,
            vec![
                (
                    "det_then_inverse_grad",
                    Box::new(|| {
                        let _ = det_then_inverse_grad(&x);
                    }),
                ),
                (
                    "det_then_inverse_value_and_grad",
                    Box::new(|| {
                        let _ = det_then_inverse_value_and_grad(&x);
                    }),
                ),
                (
                    "det_then_inverse_hvp",
                    Box::new(|| {
                        let _ = det_then_inverse_hvp(&x, &x);
                    }),
                ),
            ],
        );
        assert_eq!(
            panic_message(|| inverse_then_logdet(&x)).as_deref(),
            Some(UNWRAP_NONE)
        );
        assert_all_panic_with(
            UNWRAP_NONE,
            vec![
                (
                    "inverse_then_logdet_grad",
                    Box::new(|| {
                        let _ = inverse_then_logdet_grad(&x);
                    }),
                ),
                (
                    "inverse_then_logdet_value_and_grad",
                    Box::new(|| {
                        let _ = inverse_then_logdet_value_and_grad(&x);
                    }),
                ),
                (
                    "inverse_then_logdet_hvp",
                    Box::new(|| {
                        let _ = inverse_then_logdet_hvp(&x, &x);
                    }),
                ),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Across a call
// ---------------------------------------------------------------------------------------------

/// A callee that inverts its argument.
#[differentiate(wrt = x)]
fn callee_inverse(x: &Matrix3<f64>) -> f64 {
    x.try_inverse().expect("callee: singular").trace()
}

/// A caller that passes `X` on to `callee_inverse`.
#[differentiate(wrt = x)]
fn caller_of_inverse(x: &Matrix3<f64>) -> f64 {
    callee_inverse(x) * x.norm_squared()
}

/// A caller that calls `callee_inverse` only for its check and ignores the result.
#[differentiate(wrt = x)]
fn caller_ignoring_result(x: &Matrix3<f64>) -> f64 {
    let _checked = callee_inverse(x);
    x.norm_squared()
}

/// The callee's panic happens in the user's function even when its result is unused; the
/// generated functions must panic too.
#[test]
fn singular_inside_an_unused_call() {
    for x in singular3() {
        let expected = "callee: singular";
        assert_eq!(
            panic_message(|| caller_ignoring_result(&x)).as_deref(),
            Some(expected)
        );
        assert_all_panic_with(
            expected,
            vec![
                (
                    "caller_ignoring_result_grad",
                    Box::new(|| {
                        let _ = caller_ignoring_result_grad(&x);
                    }),
                ),
                (
                    "caller_ignoring_result_value_and_grad",
                    Box::new(|| {
                        let _ = caller_ignoring_result_value_and_grad(&x);
                    }),
                ),
                (
                    "caller_ignoring_result_hvp",
                    Box::new(|| {
                        let _ = caller_ignoring_result_hvp(&x, &x);
                    }),
                ),
            ],
        );
    }
}

#[test]
fn singular_inside_a_called_function() {
    for x in singular3() {
        let expected = "callee: singular";
        assert_eq!(
            panic_message(|| caller_of_inverse(&x)).as_deref(),
            Some(expected)
        );
        assert_all_panic_with(
            expected,
            vec![
                (
                    "caller_of_inverse_grad",
                    Box::new(|| {
                        let _ = caller_of_inverse_grad(&x);
                    }),
                ),
                (
                    "caller_of_inverse_value_and_grad",
                    Box::new(|| {
                        let _ = caller_of_inverse_value_and_grad(&x);
                    }),
                ),
                (
                    "caller_of_inverse_hvp",
                    Box::new(|| {
                        let _ = caller_of_inverse_hvp(&x, &x);
                    }),
                ),
            ],
        );
    }
}

/// A well-conditioned input does not panic anywhere (the panics above come from the
/// singular inputs, not from the generated code).
#[test]
fn invertible_inputs_do_not_panic() {
    let x = Matrix3::new(3.0, 1.0, 0.0, 0.0, 2.0, 1.0, 1.0, 0.0, 4.0);
    let b = Matrix3::identity();
    assert_eq!(panic_message(|| inv_unwrap_hvp(&x, &b, &b)), None);
    assert_eq!(panic_message(|| inv_expect_value_and_grad(&x)), None);
    assert_eq!(panic_message(|| det_then_inverse_hvp(&x, &x)), None);
    assert_eq!(panic_message(|| inverse_then_logdet_hvp(&x, &x)), None);
    assert_eq!(panic_message(|| logdet_hvp(&x, &x)), None);
    assert_eq!(panic_message(|| caller_of_inverse_hvp(&x, &x)), None);
    // d ln det X = X⁻ᵀ.
    let xit = x.try_inverse().unwrap().transpose();
    assert!((logdet_grad(&x) - xit).norm() < 1e-12);
}

#[differentiate(wrt = x)]
fn det5(x: &SMatrix<f64, 5, 5>) -> f64 {
    x.determinant()
}

/// The signed minors of `x`, from nalgebra's own `remove_row`/`remove_column` and determinant.
fn signed_minors<const N: usize>(x: &SMatrix<f64, N, N>) -> SMatrix<f64, N, N> {
    let x = matdiff::nalgebra::DMatrix::from_column_slice(N, N, x.as_slice());
    SMatrix::from_fn(|i, j| {
        let minor = x.clone().remove_row(i).remove_column(j).determinant();
        if (i + j) % 2 == 0 {
            minor
        } else {
            -minor
        }
    })
}

/// Above 3x3 the gradient of `det` at a singular matrix is the cofactor matrix too: finite,
/// equal to the signed minors and to central differences of `det` (a polynomial), for ranks
/// n − 1 (cofactors of rank one, not zero) and n − 2 (cofactors all zero).
#[test]
fn determinant_gradient_at_singular_matrices_above_3x3() {
    let mut rng = matdiff::runtime::Rng::new(5);
    for rank in [4, 3] {
        // A random 5x5 matrix of the given rank: a product of 5 x r and r x 5 factors.
        let mut x = SMatrix::<f64, 5, 5>::zeros();
        for _ in 0..rank {
            let (u, v) = (rng.matrix::<5, 1>(), rng.matrix::<5, 1>());
            x += u * v.transpose();
        }
        assert!(x.determinant().abs() < 1e-12);
        let grad = det5_grad(&x);
        let minors = signed_minors(&x);
        assert!(
            (grad - minors).amax() <= 1e-12 * minors.amax().max(1.0),
            "rank {rank}: {grad} vs {minors}"
        );
        if rank == 4 {
            assert!(
                minors.amax() > 1e-3,
                "rank 4: some cofactor is far from zero"
            );
        }
        let h = 1e-5;
        for (i, j) in [(0, 0), (1, 3), (4, 2), (3, 4)] {
            let mut e = SMatrix::<f64, 5, 5>::zeros();
            e[(i, j)] = h;
            let fd = (det5(&(x + e)) - det5(&(x - e))) / (2.0 * h);
            assert!(
                (fd - grad[(i, j)]).abs() < 1e-7,
                "rank {rank}: ∂det/∂x{i}{j}"
            );
        }
    }
    // Small integers with the last row the sum of the first two: LU finds an exact zero pivot,
    // so no inverse exists and the cofactors come from determinants alone.
    let mut x = SMatrix::<f64, 5, 5>::from_fn(|i, j| ((3 * i + 7 * j + i * j) % 5) as f64 - 2.0);
    let dependent = x.row(0) + x.row(1);
    x.set_row(4, &dependent);
    assert_eq!(x.lu().determinant(), 0.0);
    assert!(x.try_inverse().is_none());
    let minors = signed_minors(&x);
    assert!(
        minors.amax() >= 1.0,
        "rank 4: integer cofactors, not all zero"
    );
    assert!((det5_grad(&x) - minors).amax() <= 1e-12 * minors.amax());
    // And where the matrix is invertible, the same function agrees with det(A) A⁻ᵀ.
    let x = SMatrix::<f64, 5, 5>::identity() * 2.0 + rng.matrix::<5, 5>() * 0.3;
    let expected = x.try_inverse().unwrap().transpose() * x.determinant();
    assert!((det5_grad(&x) - expected).amax() <= 1e-12 * expected.amax());
}
