//! Calls between differentiated functions: a `#[differentiate]` function calling another one
//! (by name or by path, passing arguments by value or by `&`), with the chain rule going
//! through the callee's hidden generated functions. Checked with `check_all` (gradient,
//! Hessian-vector product and Hessian symmetry against finite differences) on tuples of
//! several `wrt` parameters, and by value against hand-written backpropagation.

mod common;

use common::{assert_close, assert_scalar_close, full_check, SEEDS, TOL};
use matdiff::differentiate;
use matdiff::nalgebra::{
    Matrix3, Matrix3x2, Matrix4x3, SMatrix, SVector, Vector2, Vector3, Vector4,
};
use matdiff::runtime::{dot_product_test, Rng, VectorSpace};

/// The logistic function, for the hand-written references.
fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

// ---------------------------------------------------------------------------------------------
// A two-layer perceptron built from units
// ---------------------------------------------------------------------------------------------

/// One sigmoid unit `σ(wᵀx + b)`.
#[differentiate(wrt = (w, b))]
fn neuron(w: &Vector3<f64>, x: &Vector3<f64>, b: f64) -> f64 {
    1.0 / (1.0 + (-(w.dot(x) + b)).exp())
}

/// The output unit `σ(v₀ h₀ + v₁ h₁ + c)` of two hidden activations, passed as scalars.
#[differentiate(wrt = (v, h0, h1))]
fn output_unit(v: &Vector2<f64>, h0: f64, h1: f64, c: f64) -> f64 {
    1.0 / (1.0 + (-(v[0] * h0 + v[1] * h1 + c)).exp())
}

/// The squared error of a two-layer perceptron built from `neuron` and `output_unit`. The
/// by-reference parameters `w1a`, `w1b`, `x` are passed straight through; the biases are
/// literals; the hidden activations are scalar arguments of the output unit.
#[differentiate(wrt = (w1a, w1b, v))]
fn mlp_loss(
    w1a: &Vector3<f64>,
    w1b: &Vector3<f64>,
    v: &Vector2<f64>,
    x: &Vector3<f64>,
    y: f64,
) -> f64 {
    let h0 = neuron(w1a, x, 0.1);
    let h1 = neuron(w1b, x, -0.2);
    let out = output_unit(v, h0, h1, 0.05);
    (out - y).powi(2)
}

/// The same loss with respect to the input: `neuron`'s `x` is not one of its `wrt`
/// parameters, but the caller needs its derivative.
#[differentiate(wrt = x)]
fn mlp_input(w1a: &Vector3<f64>, w1b: &Vector3<f64>, v: &Vector2<f64>, x: &Vector3<f64>) -> f64 {
    let out = output_unit(v, neuron(w1a, x, 0.1), neuron(w1b, x, -0.2), 0.05);
    out.ln()
}

/// Hand-written backpropagation of `mlp_loss`: `(loss, (∇w1a, ∇w1b, ∇v), ∇x)`.
#[allow(clippy::type_complexity, reason = "a gradient tuple")]
fn mlp_backprop(
    w1a: &Vector3<f64>,
    w1b: &Vector3<f64>,
    v: &Vector2<f64>,
    x: &Vector3<f64>,
    y: f64,
) -> (
    f64,
    (Vector3<f64>, Vector3<f64>, Vector2<f64>),
    Vector3<f64>,
) {
    let h0 = sigmoid(w1a.dot(x) + 0.1);
    let h1 = sigmoid(w1b.dot(x) - 0.2);
    let out = sigmoid(v[0] * h0 + v[1] * h1 + 0.05);
    let loss = (out - y).powi(2);
    let d_out = 2.0 * (out - y);
    let d_z = d_out * out * (1.0 - out);
    let gv = Vector2::new(d_z * h0, d_z * h1);
    let d_z0 = d_z * v[0] * h0 * (1.0 - h0);
    let d_z1 = d_z * v[1] * h1 * (1.0 - h1);
    let gx = d_z0 * w1a + d_z1 * w1b;
    (loss, (d_z0 * x, d_z1 * x, gv), gx)
}

#[test]
fn perceptron_from_units() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p = (
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<2, 1>(),
        );
        let x = rng.matrix::<3, 1>();
        let y = 0.5 + 0.3 * rng.uniform();
        check_fn!(mlp_loss, mlp_loss_grad, mlp_loss_value_and_grad, mlp_loss_hvp;
            |p, v| (&p.0, &p.1, &p.2, &x, y); (&v.0, &v.1, &v.2); at &p, &mut rng, TOL);
        check_fn!(mlp_input, mlp_input_grad, mlp_input_value_and_grad, mlp_input_hvp;
            |x, v| (&p.0, &p.1, &p.2, x); (v); at &x, &mut rng, TOL);

        let (loss, (ga, gb, gv), _) = mlp_backprop(&p.0, &p.1, &p.2, &x, y);
        assert_scalar_close(mlp_loss(&p.0, &p.1, &p.2, &x, y), loss, 1e-14);
        let (value, (a, b, c)) = mlp_loss_value_and_grad(&p.0, &p.1, &p.2, &x, y);
        assert_scalar_close(value, loss, 1e-14);
        assert_close(&a, &ga, 1e-12);
        assert_close(&b, &gb, 1e-12);
        assert_close(&c, &gv, 1e-12);

        // ∇_x ln(out) = ∇_x loss / (2 (out − y) out) with the same chain, taking y = 0:
        // loss = out², so ∇ loss = 2 out ∇ out and ∇ ln out = ∇ loss / (2 out²).
        let (loss0, _, gx0) = mlp_backprop(&p.0, &p.1, &p.2, &x, 0.0);
        assert_close(
            &mlp_input_grad(&p.0, &p.1, &p.2, &x),
            &(gx0 / (2.0 * loss0)),
            1e-12,
        );
        let dirs = (
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<2, 1>(),
        );
        let w = p.random(&mut rng);
        let hvp = |d: &(Vector3<f64>, Vector3<f64>, Vector2<f64>)| {
            mlp_loss_hvp(&p.0, &p.1, &p.2, &x, y, &d.0, &d.1, &d.2)
        };
        dot_product_test(hvp, hvp, &dirs, &w).assert_within(TOL, "mlp_loss Hessian adjoint");
    }
}

/// The callees' own generated functions still work.
#[test]
fn callees_on_their_own() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p = (rng.matrix::<3, 1>(), rng.normal());
        let x = rng.matrix::<3, 1>();
        check_fn!(neuron, neuron_grad, neuron_value_and_grad, neuron_hvp;
            |p, v| (&p.0, &x, p.1); (&v.0, v.1); at &p, &mut rng, TOL);
        // ∇_w σ(wᵀx + b) = σ(1 − σ) x, ∇_b = σ(1 − σ).
        let s = sigmoid(p.0.dot(&x) + p.1);
        let (gw, gb) = neuron_grad(&p.0, &x, p.1);
        assert_close(&gw, &(s * (1.0 - s) * x), 1e-14);
        assert_scalar_close(gb, s * (1.0 - s), 1e-14);

        let q = (rng.matrix::<2, 1>(), rng.normal(), rng.normal());
        check_fn!(output_unit, output_unit_grad, output_unit_value_and_grad, output_unit_hvp;
            |q, v| (&q.0, q.1, q.2, 0.3); (&v.0, v.1, v.2); at &q, &mut rng, TOL);

        let (w, h) = (rng.matrix::<3, 2>(), rng.matrix::<3, 1>());
        let y = rng.matrix::<2, 1>();
        check_fn!(layer_loss, layer_loss_grad, layer_loss_value_and_grad, layer_loss_hvp;
            |p, v| (&p.0, &p.1, &y); (&v.0, &v.1); at &(w, h), &mut rng, TOL);
        check_fn!(level3, level3_grad, level3_value_and_grad, level3_hvp;
            |x, v| (x); (v); at &x, &mut rng, TOL);
        check_fn!(level2, level2_grad, level2_value_and_grad, level2_hvp;
            |p, v| (&p.0, p.1); (&v.0, v.1); at &(x, 0.7), &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// A two-layer perceptron whose second layer is a called loss
// ---------------------------------------------------------------------------------------------

/// A layer's loss `‖σ(Wᵀ h) − y‖²`.
#[differentiate(wrt = (w, h))]
fn layer_loss(w: &Matrix3x2<f64>, h: &Vector3<f64>, y: &Vector2<f64>) -> f64 {
    ((w.transpose() * h).map(|t| 1.0 / (1.0 + (-t).exp())) - y).norm_squared()
}

/// `‖σ(W₂ᵀ σ(W₁ᵀ x)) − y‖²`: the hidden layer computed here, passed by `&` to `layer_loss`.
#[differentiate(wrt = (w1, w2))]
fn two_layer(w1: &Matrix4x3<f64>, w2: &Matrix3x2<f64>, x: &Vector4<f64>, y: &Vector2<f64>) -> f64 {
    let h = (w1.transpose() * x).map(|t| 1.0 / (1.0 + (-t).exp()));
    layer_loss(w2, &h, y)
}

#[test]
fn perceptron_with_called_layer() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let p = (rng.matrix::<4, 3>(), rng.matrix::<3, 2>());
        let x = rng.matrix::<4, 1>();
        let y = rng.matrix::<2, 1>().map(|t| 0.5 + 0.4 * t.tanh());
        check_fn!(two_layer, two_layer_grad, two_layer_value_and_grad, two_layer_hvp;
            |p, v| (&p.0, &p.1, &x, &y); (&v.0, &v.1); at &p, &mut rng, TOL);

        // Backpropagation by hand.
        let (w1, w2) = p;
        let h = (w1.transpose() * x).map(sigmoid);
        let out = (w2.transpose() * h).map(sigmoid);
        let d_z2 = 2.0 * (out - y).component_mul(&out.map(|o| o * (1.0 - o)));
        let g2 = h * d_z2.transpose();
        let d_z1 = (w2 * d_z2).component_mul(&h.map(|t| t * (1.0 - t)));
        let g1 = x * d_z1.transpose();
        let (value, (a, b)) = two_layer_value_and_grad(&w1, &w2, &x, &y);
        assert_scalar_close(value, (out - y).norm_squared(), 1e-14);
        assert_close(&a, &g1, 1e-12);
        assert_close(&b, &g2, 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Nested calls, repeated calls, aliasing, by value, scalars, nonlinear use of the result
// ---------------------------------------------------------------------------------------------

/// `‖x‖² + sum x`.
#[differentiate(wrt = x)]
fn level3(x: &Vector3<f64>) -> f64 {
    x.norm_squared() + x.sum()
}

/// `sin(s · level3(x)) + level3(s x)`: calls `level3` twice, once on an expression.
#[differentiate(wrt = (x, s))]
fn level2(x: &Vector3<f64>, s: f64) -> f64 {
    (s * level3(x)).sin() + level3(&(x * s))
}

/// `level2(A x, 0.5) · level2(x, sum x)`: three levels deep.
#[differentiate(wrt = (x, a))]
fn level1(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    level2(&(a * x), 0.5) * level2(x, x.sum())
}

/// `‖u − c‖²`.
#[differentiate(wrt = (u, c))]
fn sq_dist(u: &Vector3<f64>, c: &Vector3<f64>) -> f64 {
    (u - c).norm_squared()
}

/// `‖x − a‖² + ‖x − b‖²`: the same callee twice with different arguments.
#[differentiate(wrt = x)]
fn two_dists(x: &Vector3<f64>, a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    sq_dist(x, a) + sq_dist(x, b)
}

/// `d(x, a) · d(x, a)` with `d = sq_dist`: the same call twice, arguments identical.
#[differentiate(wrt = (x, a))]
fn same_call_twice(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    sq_dist(x, a) * sq_dist(x, a)
}

/// `uᵀ M w`.
#[differentiate(wrt = (u, w))]
fn bilinear(u: &Vector3<f64>, m: &Matrix3<f64>, w: &Vector3<f64>) -> f64 {
    u.dot(&(m * w))
}

/// `xᵀ M x` as `bilinear(x, M, x)`: one variable passed as two arguments.
#[differentiate(wrt = x)]
fn aliased(x: &Vector3<f64>, m: &Matrix3<f64>) -> f64 {
    bilinear(x, m, x)
}

/// `‖x‖⁴ + sum x` of a vector taken by value.
#[differentiate(wrt = x)]
fn by_value_callee(x: Vector3<f64>) -> f64 {
    x.norm_squared().powi(2) + x.sum()
}

/// Calls the by-value callee with an expression, with a dereferenced reference, and
/// passes a by-value parameter of its own by `&` to a by-reference callee.
#[differentiate(wrt = (x, y))]
fn by_value_caller(x: &Vector3<f64>, y: Vector3<f64>) -> f64 {
    by_value_callee(x * 0.5 + y) + by_value_callee(*x) + sq_dist(&y, x)
}

/// `s² ‖x‖² + t`, with scalar parameters.
#[differentiate(wrt = (x, s, t))]
fn scaled(s: f64, x: &Vector3<f64>, t: f64) -> f64 {
    s * s * x.norm_squared() + t
}

/// Scalar arguments: a `wrt` scalar, a computed scalar, a literal, and a call's result.
#[differentiate(wrt = (x, s))]
fn scalar_args(x: &Vector3<f64>, s: f64) -> f64 {
    let r = x.norm();
    scaled(s, x, r) + scaled(r, x, 2.0) * scaled(0.5, x, scaled(s, x, 0.0))
}

/// A callee's result used nonlinearly: `y² + eʸ + √(y + 1)` with `y = level3(x) / 10`.
#[differentiate(wrt = x)]
fn nonlinear_use(x: &Vector3<f64>) -> f64 {
    let y = level3(x) * 0.1;
    y * y + y.exp() + (y * y + 1.0).sqrt()
}

/// A call inside a larger expression, its result scaling a matrix.
#[differentiate(wrt = x)]
fn call_scales_matrix(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (a * x * level3(x)).norm_squared() + (a * level3(x)).trace()
}

#[test]
fn nested_calls() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>() * 0.5;
        let a = rng.matrix::<3, 3>() * 0.5;
        check_fn!(level1, level1_grad, level1_value_and_grad, level1_hvp;
            |p, v| (&p.0, &p.1); (&v.0, &v.1); at &(x, a), &mut rng, TOL);
        let s = rng.normal();
        check_fn!(level2, level2_grad, level2_value_and_grad, level2_hvp;
            |p, v| (&p.0, p.1); (&v.0, v.1); at &(x, s), &mut rng, TOL);
        // level2 by value: with L(x) = ‖x‖² + sum x and ∇L = 2x + 1,
        // ∇_x = cos(s L(x)) s ∇L(x) + s ∇L(s x), ∇_s = cos(s L(x)) L(x) + ∇L(s x)·x.
        let l = |x: &Vector3<f64>| x.norm_squared() + x.sum();
        let dl = |x: &Vector3<f64>| 2.0 * x + Vector3::repeat(1.0);
        let (gx, gs) = level2_grad(&x, s);
        let c = (s * l(&x)).cos();
        assert_close(&gx, &(c * s * dl(&x) + s * dl(&(x * s))), 1e-12);
        assert_scalar_close(gs, c * l(&x) + dl(&(x * s)).dot(&x), 1e-12);
        let (v, w) = (x.random(&mut rng), x.random(&mut rng));
        hessian_adjoint(
            |d: &Vector3<f64>| level1_hvp(&x, &a, d, &Matrix3::zeros()).0,
            &v,
            &w,
        );
    }
}

/// The dot-product test of a Hessian block that is its own adjoint.
#[track_caller]
fn hessian_adjoint<X: VectorSpace>(hvp: impl Fn(&X) -> X, v: &X, w: &X) {
    dot_product_test(&hvp, &hvp, v, w).assert_within(TOL, "Hessian dot-product test");
}

#[test]
fn repeated_and_aliased_calls() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, a, b) = (
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
            rng.matrix::<3, 1>(),
        );
        let m = rng.matrix::<3, 3>();
        let v = rng.matrix::<3, 1>();
        check_fn!(two_dists, two_dists_grad, two_dists_value_and_grad, two_dists_hvp;
            |x, v| (x, &a, &b); (v); at &x, &mut rng, TOL);
        assert_close(
            &two_dists_grad(&x, &a, &b),
            &(2.0 * (x - a) + 2.0 * (x - b)),
            1e-14,
        );
        assert_close(&two_dists_hvp(&x, &a, &b, &v), &(4.0 * v), 1e-14);

        check_fn!(same_call_twice, same_call_twice_grad, same_call_twice_value_and_grad,
            same_call_twice_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &(x, a), &mut rng, TOL);
        // ∇_x ‖x − a‖⁴ = 4 ‖x − a‖² (x − a) = −∇_a.
        let d = x - a;
        let (gx, ga) = same_call_twice_grad(&x, &a);
        assert_close(&gx, &(4.0 * d.norm_squared() * d), 1e-12);
        assert_close(&ga, &(-4.0 * d.norm_squared() * d), 1e-12);

        check_fn!(aliased, aliased_grad, aliased_value_and_grad, aliased_hvp;
            |x, v| (x, &m); (v); at &x, &mut rng, TOL);
        let sym = m + m.transpose();
        assert_close(&aliased_grad(&x, &m), &(sym * x), 1e-14);
        assert_close(&aliased_hvp(&x, &m, &v), &(sym * v), 1e-14);
    }
}

#[test]
fn by_value_and_scalar_arguments() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, y) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(by_value_caller, by_value_caller_grad, by_value_caller_value_and_grad,
            by_value_caller_hvp; |p, v| (&p.0, p.1); (&v.0, v.1); at &(x, y), &mut rng, TOL);
        // ∇(‖z‖⁴ + sum z) = 4‖z‖² z + 1.
        let dq = |z: Vector3<f64>| 4.0 * z.norm_squared() * z + Vector3::repeat(1.0);
        let z = x * 0.5 + y;
        let (gx, gy) = by_value_caller_grad(&x, y);
        assert_close(&gx, &(0.5 * dq(z) + dq(x) - 2.0 * (y - x)), 1e-12);
        assert_close(&gy, &(dq(z) + 2.0 * (y - x)), 1e-12);

        let s = rng.normal();
        check_fn!(scalar_args, scalar_args_grad, scalar_args_value_and_grad, scalar_args_hvp;
            |p, v| (&p.0, p.1); (&v.0, v.1); at &(x, s), &mut rng, TOL);
        let q = (rng.matrix::<3, 1>(), rng.normal(), rng.normal());
        check_fn!(scaled, scaled_grad, scaled_value_and_grad, scaled_hvp;
            |q, v| (q.1, &q.0, q.2); (&v.0, v.1, v.2); at &q, &mut rng, TOL);
    }
}

/// `t² + t` of a scalar.
#[differentiate(wrt = t)]
fn scalar_poly(t: f64) -> f64 {
    t * t + t
}

/// A differentiated scalar function called inside a `.map()` closure.
#[differentiate(wrt = x)]
fn call_in_map(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    x.map(|t| scalar_poly(t).sin()).dot(a)
}

#[test]
fn call_inside_a_map() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, a) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(call_in_map, call_in_map_grad, call_in_map_value_and_grad, call_in_map_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        // ∇ = cos(t² + t) (2t + 1) ∘ a.
        let expected = x
            .map(|t| (t * t + t).cos() * (2.0 * t + 1.0))
            .component_mul(&a);
        assert_close(&call_in_map_grad(&x, &a), &expected, 1e-12);
    }
}

#[test]
fn nonlinear_use_of_a_result() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<3, 1>();
        let a = rng.matrix::<3, 3>();
        check_fn!(nonlinear_use, nonlinear_use_grad, nonlinear_use_value_and_grad,
            nonlinear_use_hvp; |x, v| (x); (v); at &x, &mut rng, TOL);
        // With y = L(x)/10: ∇ = (2y + eʸ + y/√(y² + 1)) ∇L / 10.
        let y = (x.norm_squared() + x.sum()) * 0.1;
        let outer = 2.0 * y + y.exp() + y / (y * y + 1.0).sqrt();
        let expected = outer * (2.0 * x + Vector3::repeat(1.0)) * 0.1;
        assert_close(&nonlinear_use_grad(&x), &expected, 1e-12);
        check_fn!(call_scales_matrix, call_scales_matrix_grad,
            call_scales_matrix_value_and_grad, call_scales_matrix_hvp;
            |x, v| (x, &a); (v); at &x, &mut rng, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Calls by path, generic callees, nonlinear matrix callees
// ---------------------------------------------------------------------------------------------

/// Callees in a module, called by path.
mod layers {
    use matdiff::differentiate;
    use matdiff::nalgebra::{Matrix3, Vector3};

    /// `ln det A`.
    #[differentiate(wrt = a)]
    pub fn logdet(a: &Matrix3<f64>) -> f64 {
        a.determinant().ln()
    }

    /// `‖x‖⁴`.
    #[differentiate(wrt = x)]
    pub(crate) fn quartic(x: &Vector3<f64>) -> f64 {
        x.norm_squared().powi(2)
    }
}

/// Reference arguments written the ways users write them: `&x` of a parameter that is
/// already a reference (`&&Vector3`, coerced), a `let` bound to a reference, and a
/// parenthesised argument.
#[differentiate(wrt = x)]
#[allow(
    clippy::needless_borrow,
    clippy::borrow_deref_ref,
    reason = "the test spells the references the redundant ways users may write them"
)]
fn reference_styles(x: &Vector3<f64>, m: &Matrix3<f64>) -> f64 {
    let r = &(m * x);
    let s = r;
    layers::quartic(&x) + sq_dist(r, x) + bilinear(s, m, x) + level3(&(*x))
}

/// `ln det(XᵀX + I)` through a call by path, plus a `crate::` path call.
#[differentiate(wrt = x)]
fn logdet_gram_call(x: &Matrix4x3<f64>, u: &Vector3<f64>) -> f64 {
    let g = x.transpose() * x + Matrix3::identity();
    layers::logdet(&g) + crate::layers::quartic(&(x.transpose() * x * u))
}

/// `aᵀ A⁻¹ a` in a callee, and `λ_max` of a symmetric argument in another.
#[differentiate(wrt = (a, b))]
fn inverse_form(a: &Vector3<f64>, b: &Matrix3<f64>) -> f64 {
    a.dot(&(b.try_inverse().unwrap() * a))
}

/// `λ_max(S)`.
#[differentiate(wrt = s)]
fn top_eigenvalue(s: &Matrix3<f64>) -> f64 {
    s.symmetric_eigenvalues().max()
}

/// `xᵀ (XᵀX + I)⁻¹ x + λ_max(XᵀX)`, built from the two callees above.
#[differentiate(wrt = (x, y))]
fn matrix_callees(x: &Matrix4x3<f64>, y: &Vector3<f64>) -> f64 {
    let g = x.transpose() * x;
    inverse_form(y, &(g + Matrix3::identity())) + top_eigenvalue(&g)
}

/// `‖x‖²` for any size, generic over `N`.
#[differentiate(wrt = x)]
fn generic_norm<const N: usize>(x: &SVector<f64, N>) -> f64 {
    x.norm_squared()
}

/// A generic caller of a generic callee: `generic_norm(A x)²`.
#[differentiate(wrt = (x, a))]
fn generic_caller<const N: usize>(x: &SVector<f64, N>, a: &SMatrix<f64, N, N>) -> f64 {
    let n = generic_norm(&(a * x));
    n * n + generic_norm(x)
}

#[test]
fn calls_by_path_and_matrix_callees() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let x = rng.matrix::<4, 3>();
        let u = rng.matrix::<3, 1>() * 0.3;
        check_fn!(logdet_gram_call, logdet_gram_call_grad, logdet_gram_call_value_and_grad,
            logdet_gram_call_hvp; |x, v| (x, &u); (v); at &x, &mut rng, TOL);
        // ∇ ln det(XᵀX + I) = 2 X (XᵀX + I)⁻¹; with w = XᵀX u and q = ‖w‖⁴, ∇q = 4‖w‖²
        // (X u wᵀ + X w uᵀ).
        let m = x.transpose() * x + Matrix3::identity();
        let w = x.transpose() * x * u;
        let expected = 2.0 * x * m.try_inverse().unwrap()
            + 4.0 * w.norm_squared() * (x * u * w.transpose() + x * w * u.transpose());
        assert_close(&logdet_gram_call_grad(&x, &u), &expected, 1e-10);

        let y = rng.matrix::<3, 1>();
        let g = x.transpose() * x;
        let l = g.symmetric_eigenvalues();
        let mut sorted: Vec<f64> = l.iter().copied().collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert!(
            sorted[0] - sorted[1] > 1e-3,
            "nearly repeated top eigenvalue"
        );
        check_fn!(matrix_callees, matrix_callees_grad, matrix_callees_value_and_grad,
            matrix_callees_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &(x, y), &mut rng, TOL);

        let m3 = rng.matrix::<3, 3>();
        check_fn!(reference_styles, reference_styles_grad, reference_styles_value_and_grad,
            reference_styles_hvp; |x, v| (x, &m3); (v); at &u, &mut rng, TOL);
        let (x3, a3) = (rng.matrix::<3, 1>(), rng.matrix::<3, 3>());
        check_fn!(generic_caller, generic_caller_grad, generic_caller_value_and_grad,
            generic_caller_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &(x3, a3), &mut rng, TOL);
        let (x5, a5) = (rng.matrix::<5, 1>(), rng.matrix::<5, 5>());
        check_fn!(generic_caller, generic_caller_grad, generic_caller_value_and_grad,
            generic_caller_hvp; |p, v| (&p.0, &p.1); (&v.0, &v.1); at &(x5, a5), &mut rng, TOL);
        // ∇_x (‖Ax‖⁴ + ‖x‖²) = 4 ‖Ax‖² Aᵀ A x + 2 x.
        let ax = a3 * x3;
        let expected = 4.0 * ax.norm_squared() * a3.transpose() * ax + 2.0 * x3;
        assert_close(&generic_caller_grad(&x3, &a3).0, &expected, 1e-12);
        full_check(
            |x: &Vector3<f64>| layers::quartic(x),
            layers::quartic_grad,
            layers::quartic_value_and_grad,
            layers::quartic_hvp,
            &x3,
            &mut rng,
            TOL,
        );
    }
}

/// Differentiated functions in another module, reached as people reach functions: imported
/// with `use`, renamed with `use .. as`, through a path, with a turbofish.
mod geometry {
    use matdiff::differentiate;
    use matdiff::nalgebra::{SVector, Vector3};

    /// `‖u − c‖²`.
    #[differentiate(wrt = u)]
    pub fn sq_dist_to(u: &Vector3<f64>, c: &Vector3<f64>) -> f64 {
        (u - c).norm_squared()
    }

    /// `s ‖x‖²` for any length.
    #[differentiate(wrt = x)]
    pub fn weighted<const N: usize>(x: &SVector<f64, N>, s: f64) -> f64 {
        s * x.norm_squared()
    }
}

use geometry::sq_dist_to;
use geometry::sq_dist_to as dist2;
use geometry::weighted;

#[differentiate(wrt = x)]
fn imported_callees(x: &Vector3<f64>, a: &Vector3<f64>) -> f64 {
    sq_dist_to(x, a) * dist2(x, &(2.0 * a))
        + geometry::sq_dist_to(&(x * 3.0), a)
        + weighted(x, 0.5)
        + geometry::weighted(&(x * 2.0), 0.25)
}

#[test]
fn callees_imported_renamed_and_by_path() {
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let (x, a) = (rng.matrix::<3, 1>(), rng.matrix::<3, 1>());
        check_fn!(imported_callees, imported_callees_grad, imported_callees_value_and_grad,
            imported_callees_hvp; |x, v| (x, &a); (v); at &x, &mut rng, TOL);
        // By hand: 2(x − a)‖x − 2a‖² + 2(x − 2a)‖x − a‖² + 6(3x − a) + x + 2x.
        let (d1, d2) = (x - a, x - 2.0 * a);
        let by_hand = 2.0 * d1 * d2.norm_squared()
            + 2.0 * d2 * d1.norm_squared()
            + 6.0 * (3.0 * x - a)
            + 3.0 * x;
        assert_close(&imported_callees_grad(&x, &a), &by_hand, 1e-12);
    }
}
