//! The benchmark workloads of issue 5, shared by the `columns` (criterion) and `ratios` bench
//! targets and by `tests/test_bench_workloads.rs` (through `#[path]`).
//!
//! Every workload is a function differentiated by `#[differentiate]` at literal sizes, plus the
//! same derivatives computed four other ways, all behind the [`Workload`] trait:
//!
//! * `gen_*`: the generated `*_value_and_grad` and `*_hvp`;
//! * `hand_*`: analytic nalgebra code written as a careful person would (shared
//!   subexpressions, `tr_mul` / `gemv_tr` / `gemm_tr` instead of materialised transposes, one
//!   factorisation for `ln det`, the forward activations of the MLP reused);
//! * `nd_*`: forward-mode AD with num-dual (vector duals `DualSVec64<N>` for the gradient and
//!   `HyperDualSVec64<N, 1>` for the HVP in one pass when the parameter count `N` is small, one
//!   `Dual64` / `HyperDual64` pass per input direction otherwise);
//! * `fd_*`: central finite differences of the function (gradient, `2N` evaluations) and of the
//!   generated gradient (HVP, two gradient evaluations).
//!
//! [`check`] compares every column with the others before anything is timed.

// Each bench/test binary uses a different subset of what is here.
#![allow(
    dead_code,
    reason = "each bench and test binary uses a different subset"
)]

pub mod control_flow;
pub mod geometry;
pub mod hessians;
pub mod linalg;

use matdiff::differentiate;
use matdiff::nalgebra::{Const, DimMin, RealField, SMatrix, SVector, U1};
use matdiff::runtime::{Rng, VectorSpace};
use num_dual::{Derivative, Dual64, DualSVec64, HyperDual64, HyperDualSVec64, HyperDualVec};

// ---------------------------------------------------------------------------------------------
// The differentiated functions, one module per workload and size (literal dimensions, so the
// macro sees every static size).
// ---------------------------------------------------------------------------------------------

/// `xᵀAx`, n = 3.
pub mod quad3 {
    use super::*;
    /// `xᵀ A x`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
        x.dot(&(a * x))
    }
}

/// `xᵀAx`, n = 10.
pub mod quad10 {
    use super::*;
    /// `xᵀ A x`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, 10>, a: &SMatrix<f64, 10, 10>) -> f64 {
        x.dot(&(a * x))
    }
}

/// `xᵀAx`, n = 30.
pub mod quad30 {
    use super::*;
    /// `xᵀ A x`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, 30>, a: &SMatrix<f64, 30, 30>) -> f64 {
        x.dot(&(a * x))
    }
}

/// `tr(XᵀAXB)`, 3×3.
pub mod trquad3 {
    use super::*;
    /// `tr(Xᵀ A X B)`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SMatrix<f64, 3, 3>, a: &SMatrix<f64, 3, 3>, b: &SMatrix<f64, 3, 3>) -> f64 {
        (x.transpose() * a * x * b).trace()
    }
}

/// `tr(XᵀAXB)`, 10×10.
pub mod trquad10 {
    use super::*;
    /// `tr(Xᵀ A X B)`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SMatrix<f64, 10, 10>, a: &SMatrix<f64, 10, 10>, b: &SMatrix<f64, 10, 10>) -> f64 {
        (x.transpose() * a * x * b).trace()
    }
}

/// `‖Xw − y‖²`, X 5×3.
pub mod lsq5x3 {
    use super::*;
    /// `‖X w − y‖²`.
    #[differentiate(wrt = w)]
    pub fn f(w: &SVector<f64, 3>, x: &SMatrix<f64, 5, 3>, y: &SVector<f64, 5>) -> f64 {
        (x * w - y).norm_squared()
    }
}

/// `‖Xw − y‖²`, X 100×10.
pub mod lsq100x10 {
    use super::*;
    /// `‖X w − y‖²`.
    #[differentiate(wrt = w)]
    pub fn f(w: &SVector<f64, 10>, x: &SMatrix<f64, 100, 10>, y: &SVector<f64, 100>) -> f64 {
        (x * w - y).norm_squared()
    }
}

/// `ln det A`, 3×3.
pub mod logdet3 {
    use super::*;
    /// `ln det A`.
    #[differentiate(wrt = a)]
    pub fn f(a: &SMatrix<f64, 3, 3>) -> f64 {
        a.determinant().ln()
    }
}

/// `ln det A`, 8×8.
pub mod logdet8 {
    use super::*;
    /// `ln det A`.
    #[differentiate(wrt = a)]
    pub fn f(a: &SMatrix<f64, 8, 8>) -> f64 {
        a.determinant().ln()
    }
}

/// The MLP `‖σ(W₂ᵀσ(W₁ᵀφ)) − y‖²`, 4-8-2.
pub mod mlp4_8_2 {
    use super::*;
    /// `‖σ(W₂ᵀ σ(W₁ᵀ φ)) − y‖²` with the logistic sigmoid `σ`.
    #[differentiate(wrt = (w1, w2))]
    pub fn f(
        w1: &SMatrix<f64, 4, 8>,
        w2: &SMatrix<f64, 8, 2>,
        phi: &SVector<f64, 4>,
        y: &SVector<f64, 2>,
    ) -> f64 {
        let h = (w1.transpose() * phi).map(|t| 1.0 / (1.0 + (-t).exp()));
        let o = (w2.transpose() * h).map(|t| 1.0 / (1.0 + (-t).exp()));
        (o - y).norm_squared()
    }
}

/// The MLP `‖σ(W₂ᵀσ(W₁ᵀφ)) − y‖²`, 32-64-10.
pub mod mlp32_64_10 {
    use super::*;
    /// `‖σ(W₂ᵀ σ(W₁ᵀ φ)) − y‖²` with the logistic sigmoid `σ`.
    #[differentiate(wrt = (w1, w2))]
    pub fn f(
        w1: &SMatrix<f64, 32, 64>,
        w2: &SMatrix<f64, 64, 10>,
        phi: &SVector<f64, 32>,
        y: &SVector<f64, 10>,
    ) -> f64 {
        let h = (w1.transpose() * phi).map(|t| 1.0 / (1.0 + (-t).exp()));
        let o = (w2.transpose() * h).map(|t| 1.0 / (1.0 + (-t).exp()));
        (o - y).norm_squared()
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written analytic derivatives.
// ---------------------------------------------------------------------------------------------

/// Value+gradient and HVP written by hand with nalgebra.
pub mod hand {
    use super::*;

    /// The logistic sigmoid.
    #[inline(always)]
    pub fn sigmoid(t: f64) -> f64 {
        1.0 / (1.0 + (-t).exp())
    }

    /// `xᵀAx`: value `x·(Ax)`, gradient `Ax + Aᵀx` with `Aᵀx` by `tr_mul` (at n = 30
    /// accumulating it with `gemv_tr` instead is measurably slower).
    pub fn quad_vg<const N: usize>(
        x: &SVector<f64, N>,
        a: &SMatrix<f64, N, N>,
    ) -> (f64, SVector<f64, N>) {
        let ax = a * x;
        (x.dot(&ax), ax + a.tr_mul(x))
    }

    /// `xᵀAx`: `H v = Av + Aᵀv`.
    pub fn quad_hvp<const N: usize>(
        a: &SMatrix<f64, N, N>,
        v: &SVector<f64, N>,
    ) -> SVector<f64, N> {
        a * v + a.tr_mul(v)
    }

    /// `tr(XᵀAXB) = ⟨X, AXB⟩`, gradient `AXB + Aᵀ(XBᵀ)` (the second term by `gemm_tr`).
    pub fn trquad_vg<const N: usize>(
        x: &SMatrix<f64, N, N>,
        a: &SMatrix<f64, N, N>,
        b: &SMatrix<f64, N, N>,
    ) -> (f64, SMatrix<f64, N, N>) {
        let mut g = (a * x) * b;
        let value = x.dot(&g);
        let xbt = x * b.transpose();
        g.gemm_tr(1.0, a, &xbt, 1.0);
        (value, g)
    }

    /// `tr(XᵀAXB)`: `H[V] = AVB + Aᵀ(VBᵀ)`.
    pub fn trquad_hvp<const N: usize>(
        a: &SMatrix<f64, N, N>,
        b: &SMatrix<f64, N, N>,
        v: &SMatrix<f64, N, N>,
    ) -> SMatrix<f64, N, N> {
        let mut h = (a * v) * b;
        let vbt = v * b.transpose();
        h.gemm_tr(1.0, a, &vbt, 1.0);
        h
    }

    /// `‖Xw − y‖²`: residual `r = Xw − y` by one `gemv`, gradient `2Xᵀr` by `gemv_tr`.
    pub fn lsq_vg<const M: usize, const N: usize>(
        w: &SVector<f64, N>,
        x: &SMatrix<f64, M, N>,
        y: &SVector<f64, M>,
    ) -> (f64, SVector<f64, N>) {
        let mut r = *y;
        r.gemv(1.0, x, w, -1.0);
        let value = r.norm_squared();
        let mut g = SVector::<f64, N>::zeros();
        g.gemv_tr(2.0, x, &r, 0.0);
        (value, g)
    }

    /// `‖Xw − y‖²`: `H v = 2Xᵀ(Xv)`.
    pub fn lsq_hvp<const M: usize, const N: usize>(
        x: &SMatrix<f64, M, N>,
        v: &SVector<f64, N>,
    ) -> SVector<f64, N> {
        let xv = x * v;
        let mut h = SVector::<f64, N>::zeros();
        h.gemv_tr(2.0, x, &xv, 0.0);
        h
    }

    /// The cofactor matrix `C` of a 3×3 matrix (`C_ij` = cofactor of `a_ij`) and `det a`.
    #[inline(always)]
    fn cofactors3(a: &SMatrix<f64, 3, 3>) -> (SMatrix<f64, 3, 3>, f64) {
        let m = |i: usize, j: usize| a[(i, j)];
        let c = SMatrix::<f64, 3, 3>::new(
            m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1),
            m(1, 2) * m(2, 0) - m(1, 0) * m(2, 2),
            m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0),
            m(0, 2) * m(2, 1) - m(0, 1) * m(2, 2),
            m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0),
            m(0, 1) * m(2, 0) - m(0, 0) * m(2, 1),
            m(0, 1) * m(1, 2) - m(0, 2) * m(1, 1),
            m(0, 2) * m(1, 0) - m(0, 0) * m(1, 2),
            m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0),
        );
        let det = m(0, 0) * c[(0, 0)] + m(0, 1) * c[(0, 1)] + m(0, 2) * c[(0, 2)];
        (c, det)
    }

    /// `ln det A` at 3×3: one set of cofactors gives `det A` and `A⁻ᵀ = C / det A`.
    pub fn logdet3_vg(a: &SMatrix<f64, 3, 3>) -> (f64, SMatrix<f64, 3, 3>) {
        let (c, det) = cofactors3(a);
        (det.ln(), c / det)
    }

    /// `ln det A` at 3×3: `H[V] = −A⁻ᵀ Vᵀ A⁻ᵀ = −G (Vᵀ G)` with `G = C / det A`.
    pub fn logdet3_hvp(a: &SMatrix<f64, 3, 3>, v: &SMatrix<f64, 3, 3>) -> SMatrix<f64, 3, 3> {
        let (c, det) = cofactors3(a);
        let g = c / det;
        -(g * v.tr_mul(&g))
    }

    /// `ln det A`: one LU gives `det A` and `A⁻¹`; the gradient is `A⁻ᵀ`.
    pub fn logdet_vg<const N: usize>(a: &SMatrix<f64, N, N>) -> (f64, SMatrix<f64, N, N>)
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let lu = a.lu();
        let value = lu.determinant().ln();
        let inv = lu.try_inverse().expect("A is invertible");
        (value, inv.transpose())
    }

    /// `ln det A`: `H[V] = −A⁻ᵀ Vᵀ A⁻ᵀ = −(A⁻¹ V A⁻¹)ᵀ`, with one in-place inversion (at 8×8
    /// `try_inverse` is a little faster than `lu().try_inverse()`, and `(A⁻¹ V A⁻¹)ᵀ` than
    /// `G (Vᵀ G)` with `G = A⁻ᵀ` materialised).
    pub fn logdet_hvp<const N: usize>(
        a: &SMatrix<f64, N, N>,
        v: &SMatrix<f64, N, N>,
    ) -> SMatrix<f64, N, N>
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let inv = a.try_inverse().expect("A is invertible");
        -(inv * v * inv).transpose()
    }

    /// The MLP loss and its gradient by backpropagation: the forward activations `h`, `o` are
    /// reused for `σ' = σ(1 − σ)`, `W₁ᵀφ` and `W₂ᵀh` by `tr_mul`, the weight gradients as
    /// outer products built straight into the result (binding the 32×64 outer product to a
    /// local first and then moving it into the tuple costs 2.5× when not inlined).
    #[allow(
        clippy::type_complexity,
        reason = "the (value, (G1, G2)) of the contract"
    )]
    pub fn mlp_vg<const I: usize, const H: usize, const O: usize>(
        w1: &SMatrix<f64, I, H>,
        w2: &SMatrix<f64, H, O>,
        phi: &SVector<f64, I>,
        y: &SVector<f64, O>,
    ) -> (f64, (SMatrix<f64, I, H>, SMatrix<f64, H, O>)) {
        let h = w1.tr_mul(phi).map(sigmoid);
        let o = w2.tr_mul(&h).map(sigmoid);
        let r = o - y;
        let value = r.norm_squared();
        // δ₂ = ∂L/∂z₂ = 2 r ∘ o ∘ (1 − o)
        let d2 = r.zip_map(&o, |r, o| 2.0 * r * o * (1.0 - o));
        // δ₁ = (W₂ δ₂) ∘ h ∘ (1 − h)
        let d1 = (w2 * d2).zip_map(&h, |b, h| b * h * (1.0 - h));
        let (d1t, d2t) = (d1.transpose(), d2.transpose());
        (value, (phi * d1t, h * d2t))
    }

    /// The MLP's Hessian-vector product, forward-over-backpropagation by hand: the forward
    /// tangents `ḣ`, `ȯ` along `(V₁, V₂)`, then the tangents of `δ₂`, `W₂δ₂` and `δ₁`.
    #[allow(clippy::type_complexity, reason = "the (H1, H2) of the contract")]
    pub fn mlp_hvp<const I: usize, const H: usize, const O: usize>(
        w1: &SMatrix<f64, I, H>,
        w2: &SMatrix<f64, H, O>,
        phi: &SVector<f64, I>,
        y: &SVector<f64, O>,
        v1: &SMatrix<f64, I, H>,
        v2: &SMatrix<f64, H, O>,
    ) -> (SMatrix<f64, I, H>, SMatrix<f64, H, O>) {
        // Forward pass and its tangent.
        let h = w1.tr_mul(phi).map(sigmoid);
        let s1 = h.map(|h| h * (1.0 - h));
        let hd = v1.tr_mul(phi).component_mul(&s1);
        let o = w2.tr_mul(&h).map(sigmoid);
        let mut z2d = v2.tr_mul(&h);
        z2d.gemv_tr(1.0, w2, &hd, 1.0);
        let r = o - y;
        // δ₂ = 2 r ∘ s₂ and its tangent 2 ȯ ∘ (s₂ + r ∘ (1 − 2o)), with ȯ = s₂ ∘ ż₂.
        let mut d2 = SVector::<f64, O>::zeros();
        let mut d2d = SVector::<f64, O>::zeros();
        for k in 0..O {
            let s2 = o[k] * (1.0 - o[k]);
            let od = s2 * z2d[k];
            d2[k] = 2.0 * r[k] * s2;
            d2d[k] = 2.0 * od * (s2 + r[k] * (1.0 - 2.0 * o[k]));
        }
        // Ḡ₂ = ḣ δ₂ᵀ + h δ̇₂ᵀ
        let mut h2 = hd * d2.transpose();
        h2.ger(1.0, &h, &d2d, 1.0);
        // h̄ = W₂ δ₂ and its tangent V₂ δ₂ + W₂ δ̇₂; δ̇₁ = ḣ̄ ∘ s₁ + h̄ ∘ (1 − 2h) ∘ ḣ.
        let hb = w2 * d2;
        let mut hbd = v2 * d2;
        hbd.gemv(1.0, w2, &d2d, 1.0);
        let mut d1d = SVector::<f64, H>::zeros();
        for j in 0..H {
            d1d[j] = hbd[j] * s1[j] + hb[j] * (1.0 - 2.0 * h[j]) * hd[j];
        }
        (phi * d1d.transpose(), h2)
    }
}

// ---------------------------------------------------------------------------------------------
// The same functions generic over the scalar, for num-dual.
// ---------------------------------------------------------------------------------------------

/// The workload functions written once over any real scalar (f64 or a num-dual number).
pub mod nd {
    use super::*;

    /// The scalars the generic functions accept.
    pub trait Real: RealField + Copy + From<f64> {}
    impl<T: RealField + Copy + From<f64>> Real for T {}

    /// Lifts a matrix of constants to the dual type.
    #[inline]
    pub fn lift<T: Real, const R: usize, const C: usize>(
        m: &SMatrix<f64, R, C>,
    ) -> SMatrix<T, R, C> {
        m.map(T::from)
    }

    /// `xᵀAx`.
    #[inline]
    pub fn quad<T: Real, const N: usize>(x: &SVector<T, N>, a: &SMatrix<T, N, N>) -> T {
        x.dot(&(a * x))
    }

    /// `tr(XᵀAXB)`.
    #[inline]
    pub fn trquad<T: Real, const N: usize>(
        x: &SMatrix<T, N, N>,
        a: &SMatrix<T, N, N>,
        b: &SMatrix<T, N, N>,
    ) -> T {
        (x.transpose() * a * x * b).trace()
    }

    /// `‖Xw − y‖²`.
    #[inline]
    pub fn lsq<T: Real, const M: usize, const N: usize>(
        w: &SVector<T, N>,
        x: &SMatrix<T, M, N>,
        y: &SVector<T, M>,
    ) -> T {
        (x * w - y).norm_squared()
    }

    /// `ln det A`.
    #[inline]
    pub fn logdet<T: Real, const N: usize>(a: &SMatrix<T, N, N>) -> T
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        a.determinant().ln()
    }

    /// The logistic sigmoid.
    #[inline]
    pub fn sigmoid<T: Real>(t: T) -> T {
        T::one() / (T::one() + (-t).exp())
    }

    /// The MLP loss.
    #[inline]
    pub fn mlp<T: Real, const I: usize, const H: usize, const O: usize>(
        w1: &SMatrix<T, I, H>,
        w2: &SMatrix<T, H, O>,
        phi: &SVector<T, I>,
        y: &SVector<T, O>,
    ) -> T {
        let h = w1.tr_mul(phi).map(sigmoid);
        let o = w2.tr_mul(&h).map(sigmoid);
        (o - y).norm_squared()
    }

    /// Seeds the entries of `m` as the gradient variables `offset..offset + R·C`
    /// (column-major) of a vector dual number with `N` derivatives.
    #[inline]
    pub fn seed_grad<const R: usize, const C: usize, const N: usize>(
        m: &SMatrix<f64, R, C>,
        offset: usize,
    ) -> SMatrix<DualSVec64<N>, R, C> {
        SMatrix::from_fn(|i, j| DualSVec64::from_re(m[(i, j)]).derivative(offset + i + j * R))
    }

    /// Seeds the entries of `m` as the variables `offset..offset + R·C` of a hyper-dual number
    /// whose second direction is `v`: the `eps1eps2` part of the result is `H v`.
    #[inline]
    pub fn seed_hvp<const R: usize, const C: usize, const N: usize>(
        m: &SMatrix<f64, R, C>,
        v: &SMatrix<f64, R, C>,
        offset: usize,
    ) -> SMatrix<HyperDualSVec64<N, 1>, R, C> {
        SMatrix::from_fn(|i, j| {
            HyperDualVec::new(
                m[(i, j)],
                Derivative::derivative_generic(Const::<N>, U1, offset + i + j * R),
                Derivative::some(SMatrix::<f64, 1, 1>::new(v[(i, j)])),
                Derivative::none(),
            )
        })
    }

    /// Reads the block `offset..offset + R·C` of a derivative vector back into a matrix.
    #[inline]
    pub fn take<const R: usize, const C: usize, const N: usize>(
        d: &Derivative<f64, Const<N>, U1>,
        offset: usize,
    ) -> SMatrix<f64, R, C> {
        match &d.0 {
            Some(g) => SMatrix::from_fn(|i, j| g[offset + i + j * R]),
            None => SMatrix::zeros(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences and comparisons.
// ---------------------------------------------------------------------------------------------

/// A point whose coordinates can be perturbed one at a time (for finite differences).
pub trait Flat: Copy {
    /// Number of coordinates.
    fn dim(&self) -> usize;
    /// Coordinate `i`.
    fn coord_mut(&mut self, i: usize) -> &mut f64;
}

impl<const R: usize, const C: usize> Flat for SMatrix<f64, R, C> {
    fn dim(&self) -> usize {
        R * C
    }
    fn coord_mut(&mut self, i: usize) -> &mut f64 {
        &mut self.as_mut_slice()[i]
    }
}

impl<A: Flat, B: Flat> Flat for (A, B) {
    fn dim(&self) -> usize {
        self.0.dim() + self.1.dim()
    }
    fn coord_mut(&mut self, i: usize) -> &mut f64 {
        let n = self.0.dim();
        if i < n {
            self.0.coord_mut(i)
        } else {
            self.1.coord_mut(i - n)
        }
    }
}

/// Relative step of the central differences, about the cube root of the machine epsilon.
pub const FD_STEP: f64 = 6e-6;

/// Central-difference gradient of `f` at `x`: two evaluations per coordinate.
pub fn fd_gradient<P: Flat>(f: impl Fn(&P) -> f64, x: &P) -> P {
    let mut g = *x;
    let mut p = *x;
    for i in 0..x.dim() {
        let xi = *p.coord_mut(i);
        let h = FD_STEP * xi.abs().max(1.0);
        let (up, down) = (xi + h, xi - h);
        *p.coord_mut(i) = up;
        let fp = f(&p);
        *p.coord_mut(i) = down;
        let fm = f(&p);
        *p.coord_mut(i) = xi;
        *g.coord_mut(i) = (fp - fm) / (up - down);
    }
    g
}

/// Central difference of the gradient along `v`: `(∇f(x + tv) − ∇f(x − tv)) / 2t`.
pub fn fd_hvp<P: VectorSpace>(grad: impl Fn(&P) -> P, x: &P, v: &P) -> P {
    let t = FD_STEP * x.norm().max(1.0) / v.norm();
    let gp = grad(&x.axpy(t, v));
    let gm = grad(&x.axpy(-t, v));
    gp.axpy(-1.0, &gm).scaled(0.5 / t)
}

/// `‖a − b‖ / max(‖a‖, ‖b‖)` (0 when both are 0).
pub fn rel_err<P: VectorSpace>(a: &P, b: &P) -> f64 {
    let scale = a.norm().max(b.norm());
    if scale == 0.0 {
        0.0
    } else {
        a.axpy(-1.0, b).norm() / scale
    }
}

/// `|a − b| / max(|a|, |b|, 1)`.
pub fn rel_err_scalar(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------------------------
// The workload trait and the workloads.
// ---------------------------------------------------------------------------------------------

/// One benchmark workload: its inputs (point, constants, HVP direction) and every column.
pub trait Workload {
    /// Name in the tables.
    const NAME: &'static str;
    /// Identifier for criterion groups and filters.
    const ID: &'static str;
    /// How num-dual is used for this workload.
    const ND: &'static str;
    /// The `wrt` parameter(s): a matrix or a pair of matrices.
    type P: VectorSpace + Flat + std::fmt::Debug;

    /// Random inputs.
    fn new(rng: &mut Rng) -> Self;
    /// The `wrt` point.
    fn point(&self) -> Self::P;
    /// The HVP direction.
    fn dir(&self) -> Self::P;
    /// The function at another `wrt` point (finite differences).
    fn f_at(&self, p: &Self::P) -> f64;
    /// The generated `*_grad` at another point (finite differences of the gradient).
    fn grad_at(&self, p: &Self::P) -> Self::P;

    /// The function alone at the stored inputs.
    fn f(&self) -> f64;
    /// The generated `*_value_and_grad`.
    fn gen_vg(&self) -> (f64, Self::P);
    /// The generated `*_hvp`.
    fn gen_hvp(&self) -> Self::P;
    /// Hand-written value and gradient.
    fn hand_vg(&self) -> (f64, Self::P);
    /// Hand-written HVP.
    fn hand_hvp(&self) -> Self::P;
    /// num-dual value and gradient.
    fn nd_vg(&self) -> (f64, Self::P);
    /// num-dual HVP.
    fn nd_hvp(&self) -> Self::P;
    /// Central-difference gradient of the function.
    fn fd_grad(&self) -> Self::P {
        fd_gradient(|p| self.f_at(p), &self.point())
    }
    /// Central difference of the generated gradient along the direction.
    fn fd_hvp(&self) -> Self::P {
        fd_hvp(|p| self.grad_at(p), &self.point(), &self.dir())
    }
}

/// Tolerance between the exact columns (generated, hand-written, num-dual).
pub const TOL_EXACT: f64 = 1e-9;
/// Tolerance of finite differences against the exact columns.
pub const TOL_FD: f64 = 1e-5;

/// Worst relative disagreements found by [`check`].
#[derive(Debug, Clone, Copy)]
pub struct Agreement {
    /// Largest relative error among values and gradients of the exact columns.
    pub exact_grad: f64,
    /// Largest relative error among HVPs of the exact columns.
    pub exact_hvp: f64,
    /// Finite-difference gradient against the hand-written one.
    pub fd_grad: f64,
    /// Finite-difference HVP against the hand-written one.
    pub fd_hvp: f64,
}

/// Computes every column once and panics unless they all agree (values and gradients of
/// generated, hand-written and num-dual to [`TOL_EXACT`], finite differences to [`TOL_FD`]).
pub fn check<W: Workload>(w: &W) -> Agreement {
    check_columns(w, true)
}

/// [`check`], with the num-dual columns left out unless `num_dual` (they are slow in debug
/// builds).
pub fn check_columns<W: Workload>(w: &W, num_dual: bool) -> Agreement {
    let name = W::NAME;
    let f = w.f();
    let (gv, gg) = w.gen_vg();
    let (hv, hg) = w.hand_vg();
    let g_only = w.grad_at(&w.point());
    let f_at = w.f_at(&w.point());
    let mut values = vec![("generated", gv), ("hand-written", hv), ("f_at", f_at)];
    let mut grads = vec![("generated", gg), ("generated _grad", g_only)];
    if num_dual {
        let (nv, ng) = w.nd_vg();
        values.push(("num-dual", nv));
        grads.push(("num-dual", ng));
    }
    let mut exact_grad: f64 = 0.0;
    for (what, v) in values {
        let e = rel_err_scalar(v, f);
        assert!(
            e <= TOL_EXACT,
            "{name}: {what} value {v} differs from f = {f} by {e:e}"
        );
        exact_grad = exact_grad.max(e);
    }
    for (what, g) in &grads {
        let e = rel_err(g, &hg);
        assert!(
            e <= TOL_EXACT,
            "{name}: {what} gradient differs from hand-written by {e:e}\n{what}: {g:?}\nhand: {hg:?}"
        );
        exact_grad = exact_grad.max(e);
    }

    let hh = w.hand_hvp();
    let mut hvps = vec![("generated", w.gen_hvp())];
    if num_dual {
        hvps.push(("num-dual", w.nd_hvp()));
    }
    let mut exact_hvp: f64 = 0.0;
    for (what, h) in &hvps {
        let e = rel_err(h, &hh);
        assert!(
            e <= TOL_EXACT,
            "{name}: {what} HVP differs from hand-written by {e:e}\n{what}: {h:?}\nhand: {hh:?}"
        );
        exact_hvp = exact_hvp.max(e);
    }

    let fd_grad = rel_err(&w.fd_grad(), &hg);
    assert!(
        fd_grad <= TOL_FD,
        "{name}: finite-difference gradient off by {fd_grad:e}"
    );
    let fd_hvp = rel_err(&w.fd_hvp(), &hh);
    assert!(
        fd_hvp <= TOL_FD,
        "{name}: finite-difference HVP off by {fd_hvp:e}"
    );
    Agreement {
        exact_grad,
        exact_hvp,
        fd_grad,
        fd_hvp,
    }
}

/// Something done for every workload type (see [`visit_all`]).
pub trait Visitor {
    /// Called once per workload type.
    fn visit<W: Workload>(&mut self);
}

/// Calls `v.visit::<W>()` for every workload, in the order of the issue.
pub fn visit_all(v: &mut impl Visitor) {
    v.visit::<Quad3>();
    v.visit::<Quad10>();
    v.visit::<Quad30>();
    v.visit::<TrQuad3>();
    v.visit::<TrQuad10>();
    v.visit::<Lsq5x3>();
    v.visit::<Lsq100x10>();
    v.visit::<LogDet3>();
    v.visit::<LogDet8>();
    v.visit::<Mlp4_8_2>();
    v.visit::<Mlp32_64_10>();
    control_flow::visit_control_flow(v);
    linalg::visit_linalg(v);
    geometry::visit_geometry(v);
}

/// Seed of the inputs of every workload.
pub const SEED: u64 = 2024;

/// `xᵀAx` workloads: `A` general (not symmetric), `x`, `v` standard normal.
macro_rules! quad_workload {
    ($ty:ident, $m:ident, $name:literal, $n:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            x: SVector<f64, $n>,
            a: SMatrix<f64, $n, $n>,
            v: SVector<f64, $n>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str = concat!("DualSVec64<", $n, ">, HyperDualSVec64<", $n, ", 1>");
            type P = SVector<f64, $n>;

            fn new(rng: &mut Rng) -> Self {
                Self {
                    x: rng.matrix(),
                    a: rng.matrix(),
                    v: rng.matrix(),
                }
            }
            fn point(&self) -> Self::P {
                self.x
            }
            fn dir(&self) -> Self::P {
                self.v
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(p, &self.a)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(p, &self.a)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.x, &self.a)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.x, &self.a)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.x, &self.a, &self.v)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::quad_vg(&self.x, &self.a)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::quad_hvp(&self.a, &self.v)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let x = nd::seed_grad::<$n, 1, $n>(&self.x, 0);
                let r = nd::quad(&x, &nd::lift(&self.a));
                (r.re, nd::take(&r.eps, 0))
            }
            fn nd_hvp(&self) -> Self::P {
                let x = nd::seed_hvp::<$n, 1, $n>(&self.x, &self.v, 0);
                let r = nd::quad(&x, &nd::lift(&self.a));
                nd::take(&r.eps1eps2, 0)
            }
        }
    };
}

quad_workload!(Quad3, quad3, "xᵀAx n=3", 3);
quad_workload!(Quad10, quad10, "xᵀAx n=10", 10);
quad_workload!(Quad30, quad30, "xᵀAx n=30", 30);

/// `tr(XᵀAXB)` workloads: `A`, `B`, `X`, `V` standard normal.
macro_rules! trquad_workload {
    ($ty:ident, $m:ident, $name:literal, $n:literal, $nn:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            x: SMatrix<f64, $n, $n>,
            a: SMatrix<f64, $n, $n>,
            b: SMatrix<f64, $n, $n>,
            v: SMatrix<f64, $n, $n>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str =
                concat!("DualSVec64<", $nn, ">, HyperDualSVec64<", $nn, ", 1>");
            type P = SMatrix<f64, $n, $n>;

            fn new(rng: &mut Rng) -> Self {
                Self {
                    x: rng.matrix(),
                    a: rng.matrix(),
                    b: rng.matrix(),
                    v: rng.matrix(),
                }
            }
            fn point(&self) -> Self::P {
                self.x
            }
            fn dir(&self) -> Self::P {
                self.v
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(p, &self.a, &self.b)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(p, &self.a, &self.b)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.x, &self.a, &self.b)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.x, &self.a, &self.b)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.x, &self.a, &self.b, &self.v)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::trquad_vg(&self.x, &self.a, &self.b)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::trquad_hvp(&self.a, &self.b, &self.v)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let x = nd::seed_grad::<$n, $n, $nn>(&self.x, 0);
                let r = nd::trquad(&x, &nd::lift(&self.a), &nd::lift(&self.b));
                (r.re, nd::take(&r.eps, 0))
            }
            fn nd_hvp(&self) -> Self::P {
                let x = nd::seed_hvp::<$n, $n, $nn>(&self.x, &self.v, 0);
                let r = nd::trquad(&x, &nd::lift(&self.a), &nd::lift(&self.b));
                nd::take(&r.eps1eps2, 0)
            }
        }
    };
}

trquad_workload!(TrQuad3, trquad3, "tr(XᵀAXB) 3×3", 3, 9);
trquad_workload!(TrQuad10, trquad10, "tr(XᵀAXB) 10×10", 10, 100);

/// `‖Xw − y‖²` workloads: `X`, `y`, `w`, `v` standard normal.
macro_rules! lsq_workload {
    ($ty:ident, $m:ident, $name:literal, $rows:literal, $n:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            w: SVector<f64, $n>,
            x: SMatrix<f64, $rows, $n>,
            y: SVector<f64, $rows>,
            v: SVector<f64, $n>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str = concat!("DualSVec64<", $n, ">, HyperDualSVec64<", $n, ", 1>");
            type P = SVector<f64, $n>;

            fn new(rng: &mut Rng) -> Self {
                Self {
                    w: rng.matrix(),
                    x: rng.matrix(),
                    y: rng.matrix(),
                    v: rng.matrix(),
                }
            }
            fn point(&self) -> Self::P {
                self.w
            }
            fn dir(&self) -> Self::P {
                self.v
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(p, &self.x, &self.y)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(p, &self.x, &self.y)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.w, &self.x, &self.y)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.w, &self.x, &self.y)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.w, &self.x, &self.y, &self.v)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::lsq_vg(&self.w, &self.x, &self.y)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::lsq_hvp(&self.x, &self.v)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let w = nd::seed_grad::<$n, 1, $n>(&self.w, 0);
                let r = nd::lsq(&w, &nd::lift(&self.x), &nd::lift(&self.y));
                (r.re, nd::take(&r.eps, 0))
            }
            fn nd_hvp(&self) -> Self::P {
                let w = nd::seed_hvp::<$n, 1, $n>(&self.w, &self.v, 0);
                let r = nd::lsq(&w, &nd::lift(&self.x), &nd::lift(&self.y));
                nd::take(&r.eps1eps2, 0)
            }
        }
    };
}

lsq_workload!(Lsq5x3, lsq5x3, "‖Xw−y‖² 5×3", 5, 3);
lsq_workload!(Lsq100x10, lsq100x10, "‖Xw−y‖² 100×10", 100, 10);

/// `ln det A` workloads: `A` symmetric positive definite (`B Bᵀ + nI`, eigenvalues ≥ n), `V`
/// standard normal (not symmetric).
macro_rules! logdet_workload {
    ($ty:ident, $m:ident, $name:literal, $n:literal, $nn:literal, $vg:expr, $hvp:expr) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            a: SMatrix<f64, $n, $n>,
            v: SMatrix<f64, $n, $n>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str =
                concat!("DualSVec64<", $nn, ">, HyperDualSVec64<", $nn, ", 1>");
            type P = SMatrix<f64, $n, $n>;

            fn new(rng: &mut Rng) -> Self {
                Self {
                    a: rng.spd(),
                    v: rng.matrix(),
                }
            }
            fn point(&self) -> Self::P {
                self.a
            }
            fn dir(&self) -> Self::P {
                self.v
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(p)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(p)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.a)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.a)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.a, &self.v)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                $vg(&self.a)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                $hvp(&self.a, &self.v)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let a = nd::seed_grad::<$n, $n, $nn>(&self.a, 0);
                let r = nd::logdet(&a);
                (r.re, nd::take(&r.eps, 0))
            }
            fn nd_hvp(&self) -> Self::P {
                let a = nd::seed_hvp::<$n, $n, $nn>(&self.a, &self.v, 0);
                let r = nd::logdet(&a);
                nd::take(&r.eps1eps2, 0)
            }
        }
    };
}

logdet_workload!(
    LogDet3,
    logdet3,
    "ln det A 3×3",
    3,
    9,
    hand::logdet3_vg,
    hand::logdet3_hvp
);
logdet_workload!(
    LogDet8,
    logdet8,
    "ln det A 8×8",
    8,
    64,
    hand::logdet_vg::<8>,
    hand::logdet_hvp::<8>
);

/// The MLP workloads: `W₁ ~ N(0, 1/I)`, `W₂ ~ N(0, 1/H)` (so the sigmoids are not
/// saturated), `φ ~ N(0, 1)`, `y` uniform in `[0, 1)`, directions scaled like the weights.
macro_rules! mlp_workload {
    ($ty:ident, $m:ident, $name:literal, $i:literal, $h:literal, $o:literal, $nd:literal,
     |$w:ident| $nd_vg:expr, |$w2:ident| $nd_hvp:expr) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            w1: SMatrix<f64, $i, $h>,
            w2: SMatrix<f64, $h, $o>,
            phi: SVector<f64, $i>,
            y: SVector<f64, $o>,
            v1: SMatrix<f64, $i, $h>,
            v2: SMatrix<f64, $h, $o>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str = $nd;
            type P = (SMatrix<f64, $i, $h>, SMatrix<f64, $h, $o>);

            fn new(rng: &mut Rng) -> Self {
                let s1 = 1.0 / f64::sqrt($i as f64);
                let s2 = 1.0 / f64::sqrt($h as f64);
                Self {
                    w1: rng.matrix::<$i, $h>() * s1,
                    w2: rng.matrix::<$h, $o>() * s2,
                    phi: rng.matrix(),
                    y: SVector::from_fn(|_, _| 0.5 + 0.5 * rng.uniform()),
                    v1: rng.matrix::<$i, $h>() * s1,
                    v2: rng.matrix::<$h, $o>() * s2,
                }
            }
            fn point(&self) -> Self::P {
                (self.w1, self.w2)
            }
            fn dir(&self) -> Self::P {
                (self.v1, self.v2)
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(&p.0, &p.1, &self.phi, &self.y)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(&p.0, &p.1, &self.phi, &self.y)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.w1, &self.w2, &self.phi, &self.y)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.w1, &self.w2, &self.phi, &self.y)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.w1, &self.w2, &self.phi, &self.y, &self.v1, &self.v2)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::mlp_vg(&self.w1, &self.w2, &self.phi, &self.y)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::mlp_hvp(&self.w1, &self.w2, &self.phi, &self.y, &self.v1, &self.v2)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let $w = self;
                $nd_vg
            }
            fn nd_hvp(&self) -> Self::P {
                let $w2 = self;
                $nd_hvp
            }
        }
    };
}

mlp_workload!(
    Mlp4_8_2,
    mlp4_8_2,
    "MLP 4-8-2",
    4,
    8,
    2,
    "DualSVec64<48>, HyperDualSVec64<48, 1>",
    |w| {
        let w1 = nd::seed_grad::<4, 8, 48>(&w.w1, 0);
        let w2 = nd::seed_grad::<8, 2, 48>(&w.w2, 32);
        let r = nd::mlp(&w1, &w2, &nd::lift(&w.phi), &nd::lift(&w.y));
        (r.re, (nd::take(&r.eps, 0), nd::take(&r.eps, 32)))
    },
    |w| {
        let w1 = nd::seed_hvp::<4, 8, 48>(&w.w1, &w.v1, 0);
        let w2 = nd::seed_hvp::<8, 2, 48>(&w.w2, &w.v2, 32);
        let r = nd::mlp(&w1, &w2, &nd::lift(&w.phi), &nd::lift(&w.y));
        (nd::take(&r.eps1eps2, 0), nd::take(&r.eps1eps2, 32))
    }
);

mlp_workload!(
    Mlp32_64_10,
    mlp32_64_10,
    "MLP 32-64-10",
    32,
    64,
    10,
    "Dual64 ×2688 passes, HyperDual64 ×2688 passes",
    |w| {
        // 2688 parameters: too many for a stack-allocated vector dual, so one forward pass
        // per parameter, flipping its tangent to 1 and back.
        let mut w1 = nd::lift::<Dual64, 32, 64>(&w.w1);
        let mut w2 = nd::lift::<Dual64, 64, 10>(&w.w2);
        let phi = nd::lift(&w.phi);
        let y = nd::lift(&w.y);
        let mut g1 = SMatrix::<f64, 32, 64>::zeros();
        let mut g2 = SMatrix::<f64, 64, 10>::zeros();
        let mut value = 0.0;
        for k in 0..32 * 64 {
            w1.as_mut_slice()[k].eps = 1.0;
            let r = nd::mlp(&w1, &w2, &phi, &y);
            w1.as_mut_slice()[k].eps = 0.0;
            value = r.re;
            g1.as_mut_slice()[k] = r.eps;
        }
        for k in 0..64 * 10 {
            w2.as_mut_slice()[k].eps = 1.0;
            let r = nd::mlp(&w1, &w2, &phi, &y);
            w2.as_mut_slice()[k].eps = 0.0;
            g2.as_mut_slice()[k] = r.eps;
        }
        (value, (g1, g2))
    },
    |w| {
        // One hyper-dual pass per parameter: eps1 along the parameter, eps2 along (V1, V2).
        let mut w1 = w.w1.zip_map(&w.v1, |x, v| HyperDual64::new(x, 0.0, v, 0.0));
        let mut w2 = w.w2.zip_map(&w.v2, |x, v| HyperDual64::new(x, 0.0, v, 0.0));
        let phi = nd::lift(&w.phi);
        let y = nd::lift(&w.y);
        let mut h1 = SMatrix::<f64, 32, 64>::zeros();
        let mut h2 = SMatrix::<f64, 64, 10>::zeros();
        for k in 0..32 * 64 {
            w1.as_mut_slice()[k].eps1 = 1.0;
            let r = nd::mlp(&w1, &w2, &phi, &y);
            w1.as_mut_slice()[k].eps1 = 0.0;
            h1.as_mut_slice()[k] = r.eps1eps2;
        }
        for k in 0..64 * 10 {
            w2.as_mut_slice()[k].eps1 = 1.0;
            let r = nd::mlp(&w1, &w2, &phi, &y);
            w2.as_mut_slice()[k].eps1 = 0.0;
            h2.as_mut_slice()[k] = r.eps1eps2;
        }
        (h1, h2)
    }
);
