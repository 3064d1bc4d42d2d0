//! Whole functions through `expand::differentiate_body`: the interpreted gradient against
//! finite differences of the interpreted value, the interpreted Hessian-vector product
//! against finite differences of the interpreted gradient, and the Hessian's symmetry; the
//! same for what callers use (`gradient_all`, `tangent_all`). Where MATH.md gives the closed
//! form, the result is checked against it, and some values against nalgebra directly.

use super::interp::{Env, Value};
use super::support::{
    assert_close, assert_scalar_close, differentiate, Differentiated, Domain, Outputs, Point, Rng,
    FD_STEP,
};
use nalgebra::DMatrix;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, ItemFn};

/// A differentiated function with the functions it calls.
struct Checked<'a> {
    f: &'a Differentiated,
    env: Env<'a>,
}

impl Checked<'_> {
    fn run(&self, x: &[Value], v: &[Value]) -> Outputs {
        self.f.outputs(&self.env, x, v)
    }

    fn random_point(&self, rng: &mut Rng, domain: Domain, directions: Domain) -> Point {
        let params = &self.f.params;
        let x = params.iter().map(|ty| rng.value(ty, domain)).collect();
        let v = params.iter().map(|ty| rng.value(ty, directions)).collect();
        let w = params.iter().map(|ty| rng.value(ty, directions)).collect();
        Point { x, v, w }
    }

    /// `x` with each parameter `k` for which `moved(k)` shifted by `t · dirs[k]`.
    fn shifted(x: &[Value], dirs: &[Value], t: f64, moved: impl Fn(usize) -> bool) -> Vec<Value> {
        let mut out = x.to_vec();
        for k in (0..x.len()).filter(|&k| moved(k)) {
            out[k] = x[k].axpy(t, &dirs[k]);
        }
        out
    }

    /// The outputs at `x ± h v` for the parameters `moved`.
    fn around(&self, point: &Point, moved: impl Fn(usize) -> bool) -> (Outputs, Outputs) {
        let plus = Self::shifted(&point.x, &point.v, FD_STEP, &moved);
        let minus = Self::shifted(&point.x, &point.v, -FD_STEP, &moved);
        (self.run(&plus, &point.v), self.run(&minus, &point.v))
    }

    /// Every numeric check at `trials` random points, directions drawn from `Domain::Any`;
    /// returns each point with its outputs.
    fn check(&self, seed: u64, domain: Domain, trials: usize) -> Vec<(Point, Outputs)> {
        self.check_along(seed, domain, Domain::Any, trials)
    }

    fn check_along(
        &self,
        seed: u64,
        domain: Domain,
        directions: Domain,
        trials: usize,
    ) -> Vec<(Point, Outputs)> {
        let f = self.f;
        let mut rng = Rng::new(seed);
        let mut results = Vec::new();
        for trial in 0..trials {
            let point = self.random_point(&mut rng, domain, directions);
            let at = self.run(&point.x, &point.v);
            let what = |check: &str| format!("trial {trial}: {check}");
            let fd = |plus: &Value, minus: &Value| plus.axpy(-1.0, minus).scaled(0.5 / FD_STEP);

            // The gradient, one parameter at a time, against central differences; for the
            // `wrt` parameters and, as callers see it, for every parameter.
            for k in 0..f.params.len() {
                let (plus, minus) = self.around(&point, |i| i == k);
                let slope = (plus.value - minus.value) / (2.0 * FD_STEP);
                let name = &f.names[k];
                let scale = 1.0 + at.value.abs();
                let directional = at.gradient_all[k].inner(&point.v[k]);
                let check = what(&format!("<grad_all_{name}, v> against finite differences"));
                assert_scalar_close(directional, slope, 1e-6, scale, &check);
                if let Some(j) = f.wrt.iter().position(|&w| w == k) {
                    let directional = at.gradient[j].inner(&point.v[k]);
                    let check = what(&format!("<grad_{name}, v> against finite differences"));
                    assert_scalar_close(directional, slope, 1e-6, scale, &check);
                }
            }

            // The hvp (all `wrt` directions at once) against central differences of the
            // gradient.
            let (plus, minus) = self.around(&point, |k| f.wrt.contains(&k));
            for (j, &k) in f.wrt.iter().enumerate() {
                let check = what(&format!("hvp_{} against the gradient", f.names[k]));
                assert_close(
                    &at.hvp[j],
                    &fd(&plus.gradient[j], &minus.gradient[j]),
                    1e-6,
                    &check,
                );
            }

            // Symmetry: <H v, w> = <v, H w>.
            let at_w = self.run(&point.x, &point.w);
            let hv_w: f64 = f
                .wrt
                .iter()
                .enumerate()
                .map(|(j, &k)| at.hvp[j].inner(&point.w[k]))
                .sum();
            let v_hw: f64 = f
                .wrt
                .iter()
                .enumerate()
                .map(|(j, &k)| point.v[k].inner(&at_w.hvp[j]))
                .sum();
            assert_scalar_close(hv_w, v_hw, 1e-10, hv_w.abs(), &what("<Hv, w> = <v, Hw>"));

            // The callee interface: the tangent of the value and of every gradient along all
            // directions at once.
            let (plus, minus) = self.around(&point, |_| true);
            let slope = (plus.value - minus.value) / (2.0 * FD_STEP);
            let check = what("tangent of the value");
            assert_scalar_close(
                at.tangent_all[0].scalar(),
                slope,
                1e-6,
                1.0 + at.value.abs(),
                &check,
            );
            for k in 0..f.params.len() {
                let check = what(&format!("tangent of grad_all_{}", f.names[k]));
                let expected = fd(&plus.gradient_all[k], &minus.gradient_all[k]);
                assert_close(&at.tangent_all[1 + k], &expected, 1e-6, &check);
            }
            results.push((point, at));
        }
        results
    }
}

fn pipeline(func: ItemFn, wrt: TokenStream) -> Differentiated {
    differentiate(&func, wrt)
}

impl Differentiated {
    fn checked(&self) -> Checked<'_> {
        Checked {
            f: self,
            env: Env::default(),
        }
    }

    pub(super) fn check(&self, seed: u64, domain: Domain, trials: usize) -> Vec<(Point, Outputs)> {
        self.checked().check(seed, domain, trials)
    }

    fn check_along(
        &self,
        seed: u64,
        domain: Domain,
        directions: Domain,
        trials: usize,
    ) -> Vec<(Point, Outputs)> {
        self.checked().check_along(seed, domain, directions, trials)
    }

    /// The interpreted value against the function computed directly with nalgebra.
    fn assert_value(&self, seed: u64, domain: Domain, reference: fn(&[Value]) -> f64) {
        let checked = self.checked();
        let mut rng = Rng::new(seed);
        for _ in 0..3 {
            let point = checked.random_point(&mut rng, domain, Domain::Any);
            let value = checked.run(&point.x, &point.v).value;
            let expected = reference(&point.x);
            let what = "the lowered value against nalgebra";
            assert_scalar_close(value, expected, 1e-12, expected.abs(), what);
        }
    }
}

fn mat(value: &Value) -> &DMatrix<f64> {
    value.mat()
}

#[test]
fn quadratic_form() {
    let f = pipeline(
        parse_quote! {
            fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
                x.dot(&(a * x))
            }
        },
        quote!(wrt = x),
    );
    f.assert_value(1, Domain::Any, |p| {
        p[0].mat().dot(&(p[1].mat() * p[0].mat()))
    });
    for (point, out) in f.check(1, Domain::Any, 3) {
        // MATH.md: ∇ = (A + Aᵀ) x, H[v] = (A + Aᵀ) v.
        let (x, a, v) = (mat(&point.x[0]), mat(&point.x[1]), mat(&point.v[0]));
        let sym = a + a.transpose();
        assert_close(&out.gradient[0], &Value::Mat(&sym * x), 1e-12, "(A + Aᵀ) x");
        assert_close(&out.hvp[0], &Value::Mat(&sym * v), 1e-12, "(A + Aᵀ) v");
    }
}

#[test]
fn least_squares() {
    let f = pipeline(
        parse_quote! {
            fn loss(w: &SVector<f64, 3>, x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>) -> f64 {
                (x * w - y).norm_squared()
            }
        },
        quote!(wrt = w),
    );
    f.assert_value(2, Domain::Any, |p| {
        (p[1].mat() * p[0].mat() - p[2].mat()).norm_squared()
    });
    for (point, out) in f.check(2, Domain::Any, 3) {
        // MATH.md: ∇ = 2 Xᵀ (X w − y), H[v] = 2 Xᵀ X v.
        let (w, x, y) = (mat(&point.x[0]), mat(&point.x[1]), mat(&point.x[2]));
        let v = mat(&point.v[0]);
        let grad = x.transpose() * (x * w - y) * 2.0;
        let hvp = x.transpose() * x * v * 2.0;
        assert_close(&out.gradient[0], &Value::Mat(grad), 1e-12, "2 Xᵀ (X w − y)");
        assert_close(&out.hvp[0], &Value::Mat(hvp), 1e-12, "2 Xᵀ X v");
    }
}

#[test]
fn trace_of_a_quadratic_matrix_form() {
    let f = pipeline(
        parse_quote! {
            fn tr(x: &SMatrix<f64, 3, 2>, a: &SMatrix<f64, 3, 3>, b: &SMatrix<f64, 2, 2>) -> f64 {
                (x.transpose() * a * x * b).trace()
            }
        },
        quote!(wrt = x),
    );
    f.assert_value(3, Domain::Any, |p| {
        let (x, a, b) = (p[0].mat(), p[1].mat(), p[2].mat());
        (x.transpose() * a * x * b).trace()
    });
    for (point, out) in f.check(3, Domain::Any, 3) {
        // For general A, B: ∇ = A X B + Aᵀ X Bᵀ (MATH.md's 2 A X B when both are symmetric).
        let (x, a, b) = (mat(&point.x[0]), mat(&point.x[1]), mat(&point.x[2]));
        let v = mat(&point.v[0]);
        let grad = a * x * b + a.transpose() * x * b.transpose();
        let hvp = a * v * b + a.transpose() * v * b.transpose();
        assert_close(
            &out.gradient[0],
            &Value::Mat(grad),
            1e-12,
            "A X B + Aᵀ X Bᵀ",
        );
        assert_close(&out.hvp[0], &Value::Mat(hvp), 1e-12, "A V B + Aᵀ V Bᵀ");
    }
}

#[test]
fn sum_of_exponentials_of_entries() {
    let f = pipeline(
        parse_quote! {
            fn sum_exp(m: &SMatrix<f64, 2, 2>) -> f64 {
                m[(0, 0)].exp() + m[(0, 1)].exp() + m[(1, 0)].exp() + m[(1, 1)].exp()
            }
        },
        quote!(wrt = m),
    );
    f.assert_value(4, Domain::Any, |p| p[0].mat().map(f64::exp).sum());
    for (point, out) in f.check(4, Domain::Any, 3) {
        let (m, v) = (mat(&point.x[0]), mat(&point.v[0]));
        let exp = m.map(f64::exp);
        assert_close(&out.gradient[0], &Value::Mat(exp.clone()), 1e-12, "exp.(M)");
        assert_close(
            &out.hvp[0],
            &Value::Mat(exp.component_mul(v)),
            1e-12,
            "exp.(M) ∘ V",
        );
    }
}

#[test]
fn two_wrt_parameters_in_reverse_order() {
    let f = pipeline(
        parse_quote! {
            fn two(a: &SMatrix<f64, 2, 3>, b: &SMatrix<f64, 3, 2>, c: &SMatrix<f64, 2, 2>) -> f64 {
                let p = a * b;
                p.component_mul(c).sum().tanh() + p.norm() * 0.5 + a.transpose().dot(b)
            }
        },
        quote!(wrt = (b, a)),
    );
    assert_eq!(f.wrt, vec![1, 0]);
    f.check(5, Domain::Any, 3);
}

#[test]
fn scalar_functions_and_a_scalar_parameter() {
    let f = pipeline(
        parse_quote! {
            fn mix(t: f64, x: &SVector<f64, 2>) -> f64 {
                let u = x[0];
                let v = x[1];
                u.ln() * v.sqrt() + (u * v).cos() - (0.5 * v).tan() / u
                    + (u - 3.0).abs().powi(2) + (t * x).norm_squared().sqrt()
                    + t.sin() * t.powi(3) - 1.0 / t + (t * u).tanh() + v.recip()
            }
        },
        quote!(wrt = (x, t)),
    );
    f.check(6, Domain::Positive, 3);
}

#[test]
fn constructors_and_unused_parameters() {
    let f = pipeline(
        parse_quote! {
            fn cons(x: &SMatrix<f64, 2, 2>, unused: f64, y: &SVector<f64, 2>) -> f64 {
                (x + SMatrix::<f64, 2, 2>::identity()).norm_squared()
                    + (x * Matrix2::identity()).trace()
                    + (SMatrix::<f64, 2, 2>::zeros() - x).sum()
                    + y.norm()
            }
        },
        quote!(wrt = (x, unused)),
    );
    f.assert_value(7, Domain::NonZero, |p| {
        let (x, y) = (p[0].mat(), p[2].mat());
        let eye = DMatrix::<f64>::identity(2, 2);
        (x + &eye).norm_squared() + (x * &eye).trace() + (-x).sum() + y.norm()
    });
    let results = f.check(7, Domain::NonZero, 2);
    // `unused` does not reach the value: its gradient and hvp are symbolic zeros.
    assert_eq!(f.program.gradient[1], None);
    assert_eq!(f.program.hvp[1], None);
    for (point, out) in results {
        let x = mat(&point.x[0]);
        let eye = DMatrix::identity(2, 2);
        // ∇ = 2 (X + I) + I − 11ᵀ.
        let grad = (x + &eye) * 2.0 + eye - DMatrix::from_element(2, 2, 1.0);
        assert_close(
            &out.gradient[0],
            &Value::Mat(grad),
            1e-12,
            "2 (X + I) + I − 11ᵀ",
        );
    }
}

#[test]
fn a_linear_function_has_a_zero_hessian() {
    let f = pipeline(
        parse_quote! {
            fn lin(x: &SMatrix<f64, 2, 3>, a: &SMatrix<f64, 3, 2>, b: &SMatrix<f64, 3, 3>) -> f64 {
                (a * x * b).trace()
            }
        },
        quote!(wrt = x),
    );
    // MATH.md: ∇ tr(A X B) = Aᵀ Bᵀ, H = 0 (no hvp node at all).
    assert_eq!(f.program.hvp, vec![None]);
    for (point, out) in f.check(8, Domain::Any, 2) {
        let (a, b) = (mat(&point.x[1]), mat(&point.x[2]));
        let grad = a.transpose() * b.transpose();
        assert_close(&out.gradient[0], &Value::Mat(grad), 1e-12, "Aᵀ Bᵀ");
    }
}

#[test]
fn log_determinant() {
    let f = pipeline(
        parse_quote! {
            fn logdet(x: &SMatrix<f64, 3, 3>) -> f64 {
                x.determinant().ln()
            }
        },
        quote!(wrt = x),
    );
    for (point, out) in f.check(9, Domain::NearIdentity, 2) {
        // MATH.md: ∇ = X⁻ᵀ, H[V] = −X⁻ᵀ Vᵀ X⁻ᵀ.
        let (x, v) = (mat(&point.x[0]), mat(&point.v[0]));
        let inv_t = x.clone().try_inverse().unwrap().transpose();
        let hvp = -(&inv_t * v.transpose() * &inv_t);
        assert_close(&out.gradient[0], &Value::Mat(inv_t), 1e-12, "X⁻ᵀ");
        assert_close(&out.hvp[0], &Value::Mat(hvp), 1e-12, "−X⁻ᵀ Vᵀ X⁻ᵀ");
    }
}

#[test]
fn determinant() {
    let f = pipeline(
        parse_quote! {
            fn det(x: &SMatrix<f64, 3, 3>) -> f64 {
                x.determinant()
            }
        },
        quote!(wrt = x),
    );
    for (point, out) in f.check(10, Domain::NearIdentity, 2) {
        // MATH.md: ∇ = det(X) X⁻ᵀ, H[V] = det(X) (tr(X⁻¹ V) X⁻ᵀ − X⁻ᵀ Vᵀ X⁻ᵀ).
        let (x, v) = (mat(&point.x[0]), mat(&point.v[0]));
        let det = x.determinant();
        let inv = x.clone().try_inverse().unwrap();
        let inv_t = inv.transpose();
        let hvp = (&inv_t * (&inv * v).trace() - &inv_t * v.transpose() * &inv_t) * det;
        assert_close(
            &out.gradient[0],
            &Value::Mat(&inv_t * det),
            1e-12,
            "det(X) X⁻ᵀ",
        );
        assert_close(
            &out.hvp[0],
            &Value::Mat(hvp),
            1e-12,
            "the det Hessian of MATH.md",
        );
    }
}

#[test]
fn bilinear_form_of_the_inverse() {
    let f = pipeline(
        parse_quote! {
            fn inv(x: &Matrix3<f64>, a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
                a.dot(&(x.try_inverse().expect("invertible") * b))
            }
        },
        quote!(wrt = x),
    );
    for (point, out) in f.check(11, Domain::NearIdentity, 2) {
        // MATH.md: ∇ aᵀ X⁻¹ b = −X⁻ᵀ a bᵀ X⁻ᵀ.
        let (x, a, b) = (mat(&point.x[0]), mat(&point.x[1]), mat(&point.x[2]));
        let inv_t = x.clone().try_inverse().unwrap().transpose();
        let grad = -(&inv_t * a * b.transpose() * &inv_t);
        assert_close(&out.gradient[0], &Value::Mat(grad), 1e-12, "−X⁻ᵀ a bᵀ X⁻ᵀ");
    }
}

#[test]
fn maps_and_component_division() {
    let f = pipeline(
        parse_quote! {
            fn maps(x: &SVector<f64, 3>, y: &SVector<f64, 3>) -> f64 {
                x.map(|t| 1.0 / (1.0 + (-t).exp())).sum()
                    + x.map(f64::tanh).norm_squared()
                    + x.component_div(&y).dot(&x)
                    + y.map(|s| s.powi(3) * s.sin()).sum()
            }
        },
        quote!(wrt = (x, y)),
    );
    f.check(12, Domain::NonZero, 3);
}

#[test]
fn entry_extrema_and_scalar_max() {
    let f = pipeline(
        parse_quote! {
            fn extrema(x: &SMatrix<f64, 2, 3>) -> f64 {
                x.max() + 2.0 * x.min() + x[(0, 0)].max(x[(1, 2)]) * x[(0, 1)]
                    + x[(1, 0)].powf(x[(1, 1)].abs())
            }
        },
        quote!(wrt = x),
    );
    f.check(13, Domain::Positive, 3);
}

/// `min` on its own, so that a failure names it: `d min(a, b) = da` where `a < b`.
#[test]
fn scalar_min() {
    let f = pipeline(
        parse_quote! {
            fn smallest(x: &SVector<f64, 2>) -> f64 {
                x[0].min(x[1])
            }
        },
        quote!(wrt = x),
    );
    for (point, out) in f.check(14, Domain::Any, 3) {
        let x = mat(&point.x[0]);
        let expected = if x[0] < x[1] { [1.0, 0.0] } else { [0.0, 1.0] };
        let expected = Value::Mat(DMatrix::from_column_slice(2, 1, &expected));
        assert_close(&out.gradient[0], &expected, 0.0, "∇ min(x₀, x₁)");
    }
}

#[test]
fn symmetric_eigenvalues() {
    let f = pipeline(
        parse_quote! {
            fn spectrum(a: &SMatrix<f64, 3, 3>) -> f64 {
                let l = a.symmetric_eigenvalues();
                l.max() + l[0] * l[1].powi(2) + l.map(|t| t.exp()).sum()
            }
        },
        quote!(wrt = a),
    );
    // `symmetric_eigen` reads one triangle: only symmetric directions are meaningful.
    f.check_along(15, Domain::SeparatedSymmetric, Domain::Symmetric, 3);
}

#[test]
fn calls_to_other_differentiated_functions() {
    let layer = pipeline(
        parse_quote! {
            fn layer(w: &SMatrix<f64, 2, 3>, x: &SVector<f64, 3>, s: f64) -> f64 {
                (w * x).map(|t| t.tanh()).norm_squared() * s + s.sin()
            }
        },
        quote!(wrt = w),
    );
    let penalty = pipeline(
        parse_quote! {
            fn penalty(w: SMatrix<f64, 2, 3>) -> f64 {
                w.norm_squared().sqrt()
            }
        },
        quote!(wrt = w),
    );
    let loss = pipeline(
        parse_quote! {
            fn loss(w: &SMatrix<f64, 2, 3>, x: &SVector<f64, 3>, s: f64) -> f64 {
                let scaled = s * s;
                layer(w, &(2.0 * x), scaled) + 0.5 * penalty(*w) + layer(&w, x, 1.5)
            }
        },
        quote!(wrt = (w, x, s)),
    );
    let checked = Checked {
        f: &loss,
        env: Env {
            callees: [
                ("layer".to_owned(), &layer.program),
                ("penalty".to_owned(), &penalty.program),
            ]
            .into(),
        },
    };
    checked.check(16, Domain::NonZero, 3);
    layer.check(17, Domain::NonZero, 2);
}

/// nalgebra's identity of a non-square type has ones on its diagonal only, so `I A` is the
/// first rows of `A`.
#[test]
fn product_with_a_non_square_identity() {
    let f = pipeline(
        parse_quote! {
            fn rows(a: &SMatrix<f64, 3, 4>) -> f64 {
                (SMatrix::<f64, 2, 3>::identity() * a).norm_squared()
            }
        },
        quote!(wrt = a),
    );
    f.assert_value(18, Domain::Any, |p| {
        (DMatrix::<f64>::identity(2, 3) * p[0].mat()).norm_squared()
    });
    f.check(18, Domain::Any, 2);
}
