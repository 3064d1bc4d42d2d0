//! Benchmark workloads with control flow in the differentiated body: `for` loops with static
//! bounds, `let mut` accumulators and `+=`, `if`, an iterator chain and `x.column(k)`.
//!
//! Same layout and columns as `workloads/mod.rs` (this module uses its [`Workload`] trait, its
//! num-dual helpers and its finite differences):
//!
//! * the differentiated functions, one module per workload and size, written the way users
//!   write them;
//! * [`hand`]: value+gradient and HVP written by hand, one pass over the data and no heap
//!   allocation (the MPC keeps the 50 vectors `(Q + Qᵀ)xₖ` of its forward sweep in a 4×50
//!   matrix on the stack for the adjoint recursion);
//! * [`nd`]: the same functions generic over the scalar, for the num-dual columns (the trait
//!   has no default for those; the finite-difference columns are the trait's defaults).
//!
//! `visit_control_flow` adds them to `workloads::visit_all`.

use super::*;

// ---------------------------------------------------------------------------------------------
// The differentiated functions.
// ---------------------------------------------------------------------------------------------

/// Rosenbrock as a `for` loop, n = 10.
pub mod rosen_loop10 {
    use super::*;
    /// The dimension.
    const N: usize = 10;
    /// `Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²`, accumulated in a loop.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, N>) -> f64 {
        let mut s = 0.0;
        for i in 0..N - 1 {
            s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
        }
        s
    }
}

/// Rosenbrock as a `for` loop, n = 100.
pub mod rosen_loop100 {
    use super::*;
    /// The dimension.
    const N: usize = 100;
    /// `Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²`, accumulated in a loop.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, N>) -> f64 {
        let mut s = 0.0;
        for i in 0..N - 1 {
            s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
        }
        s
    }
}

/// Rosenbrock as an iterator chain, n = 10.
pub mod rosen_iter10 {
    use super::*;
    /// `Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²` over the pairs `(xᵢ, xᵢ₊₁)`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, 10>) -> f64 {
        x.iter()
            .zip(x.iter().skip(1))
            .map(|(&xi, &xj)| 100.0 * (xj - xi * xi).powi(2) + (1.0 - xi).powi(2))
            .sum::<f64>()
    }
}

/// Rosenbrock as an iterator chain, n = 100.
pub mod rosen_iter100 {
    use super::*;
    /// `Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²` over the pairs `(xᵢ, xᵢ₊₁)`.
    #[differentiate(wrt = x)]
    pub fn f(x: &SVector<f64, 100>) -> f64 {
        x.iter()
            .zip(x.iter().skip(1))
            .map(|(&xi, &xj)| 100.0 * (xj - xi * xi).powi(2) + (1.0 - xi).powi(2))
            .sum::<f64>()
    }
}

/// A 50-step linear MPC rollout, 4 states, 2 inputs.
pub mod mpc50 {
    use super::*;
    /// `Σₖ (xₖᵀ Q xₖ + uₖᵀ R uₖ) + x₅₀ᵀ Q x₅₀` along `xₖ₊₁ = A xₖ + B uₖ` from `x₀`.
    #[differentiate(wrt = u)]
    pub fn cost(
        u: &SMatrix<f64, 2, 50>,
        x0: &SVector<f64, 4>,
        a: &SMatrix<f64, 4, 4>,
        b: &SMatrix<f64, 4, 2>,
        q: &SMatrix<f64, 4, 4>,
        r: &SMatrix<f64, 2, 2>,
    ) -> f64 {
        let mut x = *x0;
        let mut cost = 0.0;
        for k in 0..50 {
            let uk = u.column(k);
            cost += x.dot(&(q * x)) + uk.dot(&(r * uk));
            x = a * x + b * uk;
        }
        cost + x.dot(&(q * x))
    }
}

/// Huber loss of the 100 residuals `Ax − y`, A 100×5.
pub mod huber100x5 {
    use super::*;
    /// `Σᵢ h(rᵢ)` with `r = Ax − y`, `h(r) = r²/2` for `|r| ≤ δ`, else `δ (|r| − δ/2)`.
    #[differentiate(wrt = x)]
    pub fn f(
        x: &SVector<f64, 5>,
        a: &SMatrix<f64, 100, 5>,
        y: &SVector<f64, 100>,
        delta: f64,
    ) -> f64 {
        let r = a * x - y;
        let mut loss = 0.0;
        for i in 0..100 {
            let ri = r[i];
            loss += if ri.abs() <= delta {
                0.5 * ri * ri
            } else {
                delta * (ri.abs() - delta / 2.0)
            };
        }
        loss
    }
}

/// Logistic-regression loss over 200 points, X 5×200 (one point per column).
pub mod logistic200x5 {
    use super::*;
    /// `Σᵢ ln(1 + exp(−yᵢ w·xᵢ))`.
    #[differentiate(wrt = w)]
    pub fn f(w: &SVector<f64, 5>, x: &SMatrix<f64, 5, 200>, y: &SVector<f64, 200>) -> f64 {
        let mut loss = 0.0;
        for i in 0..200 {
            let z = w.dot(&x.column(i));
            loss += (1.0 + (-y[i] * z).exp()).ln();
        }
        loss
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written analytic derivatives.
// ---------------------------------------------------------------------------------------------

/// Value+gradient and HVP written by hand: one pass over the data (the MPC: one forward and
/// one backward sweep), nothing on the heap; where two ways were natural, the faster one
/// (timings from a scratch comparison on the project machine).
pub mod hand {
    use super::*;

    /// Rosenbrock: one sweep over the pairs `(xᵢ, xᵢ₊₁)` (slice windows, no bounds checks);
    /// each term's contribution to `gᵢ₊₁` is carried to the next step, so every entry of the
    /// gradient is written once.
    pub fn rosenbrock_vg<const N: usize>(x: &SVector<f64, N>) -> (f64, SVector<f64, N>) {
        let mut value = 0.0;
        let mut g = SVector::<f64, N>::zeros();
        let gs = g.as_mut_slice();
        // ∂/∂xᵢ of the term i − 1.
        let mut carry = 0.0;
        for (gi, p) in gs.iter_mut().zip(x.as_slice().windows(2)) {
            let (xi, xj) = (p[0], p[1]);
            let d = xj - xi * xi;
            let e = 1.0 - xi;
            value += 100.0 * d * d + e * e;
            *gi = carry - 400.0 * xi * d - 2.0 * e;
            carry = 200.0 * d;
        }
        gs[N - 1] = carry;
        (value, g)
    }

    /// Rosenbrock: `H v` from the 2×2 Hessian block of each term in `(xᵢ, xᵢ₊₁)`,
    /// `[[1200 xᵢ² − 400 xᵢ₊₁ + 2, −400 xᵢ], [−400 xᵢ, 200]]`, in one sweep.
    pub fn rosenbrock_hvp<const N: usize>(
        x: &SVector<f64, N>,
        v: &SVector<f64, N>,
    ) -> SVector<f64, N> {
        let mut h = SVector::<f64, N>::zeros();
        let hs = h.as_mut_slice();
        let mut carry = 0.0;
        let pairs = x.as_slice().windows(2).zip(v.as_slice().windows(2));
        for (hi, (p, w)) in hs.iter_mut().zip(pairs) {
            let (xi, xj, vi, vj) = (p[0], p[1], w[0], w[1]);
            let c = -400.0 * xi;
            *hi = carry + (1200.0 * xi * xi - 400.0 * xj + 2.0) * vi + c * vj;
            carry = c * vi + 200.0 * vj;
        }
        hs[N - 1] = carry;
        h
    }

    /// MPC cost and gradient by the adjoint recursion. With `Qₛ = Q + Qᵀ`, `Rₛ = R + Rᵀ`:
    /// forward, `xₖᵀQxₖ = ½ xₖ·(Qₛxₖ)`, keeping `Qₛxₖ` and starting `gₖ = Rₛuₖ`; backward from
    /// `λ_K = Qₛx_K`, `gₖ += Bᵀλₖ₊₁` and `λₖ = Qₛxₖ + Aᵀλₖ₊₁` (`λ₀` is not needed, but
    /// skipping it behind an `if` costs more than it saves). nalgebra's small fixed-size
    /// products (`*`, `tr_mul`) are faster here than `gemv` / `gemv_tr` into the columns
    /// (570 against 690 ns).
    pub fn mpc_vg<const S: usize, const I: usize, const K: usize>(
        u: &SMatrix<f64, I, K>,
        x0: &SVector<f64, S>,
        a: &SMatrix<f64, S, S>,
        b: &SMatrix<f64, S, I>,
        q: &SMatrix<f64, S, S>,
        r: &SMatrix<f64, I, I>,
    ) -> (f64, SMatrix<f64, I, K>) {
        let qs = q + q.transpose();
        let rs = r + r.transpose();
        let mut qsx = SMatrix::<f64, S, K>::zeros();
        let mut g = SMatrix::<f64, I, K>::zeros();
        let mut x = *x0;
        let mut value = 0.0;
        for k in 0..K {
            let uk = u.column(k);
            let qx = qs * x;
            let ru = rs * uk;
            value += 0.5 * (x.dot(&qx) + uk.dot(&ru));
            qsx.set_column(k, &qx);
            g.set_column(k, &ru);
            x = a * x + b * uk;
        }
        let mut lambda = qs * x;
        value += 0.5 * x.dot(&lambda);
        for k in (0..K).rev() {
            let gk = g.column(k) + b.tr_mul(&lambda);
            g.set_column(k, &gk);
            lambda = qsx.column(k) + a.tr_mul(&lambda);
        }
        (value, g)
    }

    /// MPC `H v`: the cost is quadratic in `u`, so `H v` is the gradient's linear part, the
    /// same forward/backward sweeps from `ẋ₀ = 0` with inputs `v` (and no value).
    pub fn mpc_hvp<const S: usize, const I: usize, const K: usize>(
        a: &SMatrix<f64, S, S>,
        b: &SMatrix<f64, S, I>,
        q: &SMatrix<f64, S, S>,
        r: &SMatrix<f64, I, I>,
        v: &SMatrix<f64, I, K>,
    ) -> SMatrix<f64, I, K> {
        let qs = q + q.transpose();
        let mut qsx = SMatrix::<f64, S, K>::zeros();
        // ẋ₀ = 0, so Qₛẋ₀ = 0 (column 0 of qsx) and ẋ₁ = B v₀.
        let mut x = b * v.column(0);
        for k in 1..K {
            qsx.set_column(k, &(qs * x));
            x = a * x + b * v.column(k);
        }
        let mut h = (r + r.transpose()) * v;
        let mut lambda = qs * x;
        for k in (0..K).rev() {
            let hk = h.column(k) + b.tr_mul(&lambda);
            h.set_column(k, &hk);
            lambda = qsx.column(k) + a.tr_mul(&lambda);
        }
        h
    }

    /// Huber: `r = Ax − y`, turned in place into `ψ(r)` (`r` inside `[−δ, δ]`, `±δ` outside)
    /// while summing the value, then `g = Aᵀψ` by `tr_mul`.
    pub fn huber_vg<const M: usize, const N: usize>(
        x: &SVector<f64, N>,
        a: &SMatrix<f64, M, N>,
        y: &SVector<f64, M>,
        delta: f64,
    ) -> (f64, SVector<f64, N>) {
        let mut r = a * x - y;
        let mut value = 0.0;
        for ri in r.iter_mut() {
            let abs = ri.abs();
            if abs <= delta {
                value += 0.5 * *ri * *ri;
            } else {
                value += delta * (abs - 0.5 * delta);
                *ri = delta.copysign(*ri);
            }
        }
        (value, a.tr_mul(&r))
    }

    /// Huber: `H v = Aᵀ (D A v)` with `D` the indicator of the residuals in `[−δ, δ]`; `Ax`
    /// and `Av` as one product `A [x v]` (266 against 360 ns for two `gemv`s).
    pub fn huber_hvp<const M: usize, const N: usize>(
        x: &SVector<f64, N>,
        a: &SMatrix<f64, M, N>,
        y: &SVector<f64, M>,
        delta: f64,
        v: &SVector<f64, N>,
    ) -> SVector<f64, N> {
        let p = a * SMatrix::<f64, N, 2>::from_columns(&[*x, *v]);
        let mut d = SVector::<f64, M>::zeros();
        for i in 0..M {
            if (p[(i, 0)] - y[i]).abs() <= delta {
                d[i] = p[(i, 1)];
            }
        }
        a.tr_mul(&d)
    }

    /// Logistic regression: `z = Xᵀw` by one `tr_mul`, then per point `eᵢ = exp(−yᵢzᵢ)`, the
    /// value `ln(1 + eᵢ)` and the coefficient `−yᵢ eᵢ / (1 + eᵢ)`, then `g = X c` (2.1 against
    /// 2.4 µs for a loop of column dot products and `g += c xᵢ`).
    pub fn logistic_vg<const D: usize, const M: usize>(
        w: &SVector<f64, D>,
        x: &SMatrix<f64, D, M>,
        y: &SVector<f64, M>,
    ) -> (f64, SVector<f64, D>) {
        let mut c = x.tr_mul(w);
        let mut value = 0.0;
        for (ci, &yi) in c.iter_mut().zip(y.iter()) {
            let e = (-yi * *ci).exp();
            let p = 1.0 + e;
            value += p.ln();
            *ci = -yi * e / p;
        }
        (value, x * c)
    }

    /// Logistic regression: `H v = Σᵢ yᵢ² eᵢ / (1 + eᵢ)² (xᵢ·v) xᵢ`, with `Xᵀw` and `Xᵀv` as
    /// one product `Xᵀ[w v]` and the sum as `X c` (0.97 against 1.56 µs for a loop over the
    /// columns).
    pub fn logistic_hvp<const D: usize, const M: usize>(
        w: &SVector<f64, D>,
        x: &SMatrix<f64, D, M>,
        y: &SVector<f64, M>,
        v: &SVector<f64, D>,
    ) -> SVector<f64, D> {
        let zs = x.tr_mul(&SMatrix::<f64, D, 2>::from_columns(&[*w, *v]));
        let mut c = SVector::<f64, M>::zeros();
        for i in 0..M {
            let yi = y[i];
            let e = (-yi * zs[(i, 0)]).exp();
            let s = 1.0 / (1.0 + e);
            c[i] = yi * yi * e * s * s * zs[(i, 1)];
        }
        x * c
    }
}

// ---------------------------------------------------------------------------------------------
// The same functions generic over the scalar, for num-dual.
// ---------------------------------------------------------------------------------------------

/// The control-flow functions written once over any real scalar (f64 or a num-dual number),
/// with the seeding helpers of `workloads::nd`.
pub mod nd {
    pub use super::super::nd::{lift, seed_grad, seed_hvp, take, Real};
    use super::*;

    /// Rosenbrock as a loop.
    #[inline]
    pub fn rosenbrock_loop<T: Real, const N: usize>(x: &SVector<T, N>) -> T {
        let (one, hundred) = (T::one(), T::from(100.0));
        let mut s = T::zero();
        for i in 0..N - 1 {
            s += hundred * (x[i + 1] - x[i] * x[i]).powi(2) + (one - x[i]).powi(2);
        }
        s
    }

    /// Rosenbrock as an iterator chain.
    #[inline]
    pub fn rosenbrock_iter<T: Real, const N: usize>(x: &SVector<T, N>) -> T {
        let (one, hundred) = (T::one(), T::from(100.0));
        x.iter()
            .zip(x.iter().skip(1))
            .map(|(&xi, &xj)| hundred * (xj - xi * xi).powi(2) + (one - xi).powi(2))
            .fold(T::zero(), |s, t| s + t)
    }

    /// The MPC rollout cost.
    #[inline]
    pub fn mpc<T: Real, const S: usize, const I: usize, const K: usize>(
        u: &SMatrix<T, I, K>,
        x0: &SVector<T, S>,
        a: &SMatrix<T, S, S>,
        b: &SMatrix<T, S, I>,
        q: &SMatrix<T, S, S>,
        r: &SMatrix<T, I, I>,
    ) -> T {
        let mut x = *x0;
        let mut cost = T::zero();
        for k in 0..K {
            let uk = u.column(k);
            cost += x.dot(&(q * x)) + uk.dot(&(r * uk));
            x = a * x + b * uk;
        }
        cost + x.dot(&(q * x))
    }

    /// The Huber loss of `Ax − y`.
    #[inline]
    pub fn huber<T: Real, const M: usize, const N: usize>(
        x: &SVector<T, N>,
        a: &SMatrix<T, M, N>,
        y: &SVector<T, M>,
        delta: T,
    ) -> T {
        let r = a * x - y;
        let half = T::from(0.5);
        let mut loss = T::zero();
        for &ri in r.iter() {
            loss += if ri.abs() <= delta {
                half * ri * ri
            } else {
                delta * (ri.abs() - half * delta)
            };
        }
        loss
    }

    /// The logistic-regression loss.
    #[inline]
    pub fn logistic<T: Real, const D: usize, const M: usize>(
        w: &SVector<T, D>,
        x: &SMatrix<T, D, M>,
        y: &SVector<T, M>,
    ) -> T {
        let mut loss = T::zero();
        for (xi, &yi) in x.column_iter().zip(y.iter()) {
            loss += (T::one() + (-yi * w.dot(&xi)).exp()).ln();
        }
        loss
    }
}

// ---------------------------------------------------------------------------------------------
// The workloads.
// ---------------------------------------------------------------------------------------------

/// Calls `v.visit::<W>()` for every control-flow workload (from `visit_all`, once the macro
/// compiles them).
pub fn visit_control_flow(v: &mut impl Visitor) {
    v.visit::<RosenLoop10>();
    v.visit::<RosenLoop100>();
    v.visit::<RosenIter10>();
    v.visit::<RosenIter100>();
    v.visit::<Mpc50>();
    v.visit::<Huber100x5>();
    v.visit::<Logistic200x5>();
}

/// Rosenbrock workloads (loop or iterator chain): `x`, `v` standard normal.
macro_rules! rosenbrock_workload {
    ($ty:ident, $m:ident, $name:literal, $n:literal, $nd:ident) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            x: SVector<f64, $n>,
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
                $m::f(p)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(p)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.x)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.x)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.x, &self.v)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::rosenbrock_vg(&self.x)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::rosenbrock_hvp(&self.x, &self.v)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let x = nd::seed_grad::<$n, 1, $n>(&self.x, 0);
                let r = nd::$nd(&x);
                (r.re, nd::take(&r.eps, 0))
            }
            fn nd_hvp(&self) -> Self::P {
                let x = nd::seed_hvp::<$n, 1, $n>(&self.x, &self.v, 0);
                let r = nd::$nd(&x);
                nd::take(&r.eps1eps2, 0)
            }
        }
    };
}

rosenbrock_workload!(
    RosenLoop10,
    rosen_loop10,
    "Rosenbrock for n=10",
    10,
    rosenbrock_loop
);
rosenbrock_workload!(
    RosenLoop100,
    rosen_loop100,
    "Rosenbrock for n=100",
    100,
    rosenbrock_loop
);
rosenbrock_workload!(
    RosenIter10,
    rosen_iter10,
    "Rosenbrock iter n=10",
    10,
    rosenbrock_iter
);
rosenbrock_workload!(
    RosenIter100,
    rosen_iter100,
    "Rosenbrock iter n=100",
    100,
    rosenbrock_iter
);

/// The MPC workload: `A` a standard normal matrix scaled to spectral norm 0.95 (a stable
/// system), `B`, `x₀`, `u`, `V` standard normal; `Q` and `R` positive definite but not
/// symmetric (`BBᵀ + nI` plus a standard normal matrix), so that the checks see a transposed
/// `Q` or `R`.
pub struct Mpc50 {
    u: SMatrix<f64, 2, 50>,
    x0: SVector<f64, 4>,
    a: SMatrix<f64, 4, 4>,
    b: SMatrix<f64, 4, 2>,
    q: SMatrix<f64, 4, 4>,
    r: SMatrix<f64, 2, 2>,
    v: SMatrix<f64, 2, 50>,
}

impl Workload for Mpc50 {
    const NAME: &'static str = "MPC 4+2, 50 steps";
    const ID: &'static str = "mpc50";
    const ND: &'static str = "DualSVec64<100>, HyperDualSVec64<100, 1>";
    type P = SMatrix<f64, 2, 50>;

    fn new(rng: &mut Rng) -> Self {
        let a = rng.matrix::<4, 4>();
        let a = a * (0.95 / a.singular_values().max());
        Self {
            u: rng.matrix(),
            x0: rng.matrix(),
            a,
            b: rng.matrix(),
            q: rng.spd::<4>() + rng.matrix::<4, 4>(),
            r: rng.spd::<2>() + rng.matrix::<2, 2>(),
            v: rng.matrix(),
        }
    }
    fn point(&self) -> Self::P {
        self.u
    }
    fn dir(&self) -> Self::P {
        self.v
    }
    fn f_at(&self, p: &Self::P) -> f64 {
        mpc50::cost(p, &self.x0, &self.a, &self.b, &self.q, &self.r)
    }
    fn grad_at(&self, p: &Self::P) -> Self::P {
        mpc50::cost_grad(p, &self.x0, &self.a, &self.b, &self.q, &self.r)
    }
    #[inline]
    fn f(&self) -> f64 {
        mpc50::cost(&self.u, &self.x0, &self.a, &self.b, &self.q, &self.r)
    }
    #[inline]
    fn gen_vg(&self) -> (f64, Self::P) {
        mpc50::cost_value_and_grad(&self.u, &self.x0, &self.a, &self.b, &self.q, &self.r)
    }
    #[inline]
    fn gen_hvp(&self) -> Self::P {
        mpc50::cost_hvp(
            &self.u, &self.x0, &self.a, &self.b, &self.q, &self.r, &self.v,
        )
    }
    #[inline]
    fn hand_vg(&self) -> (f64, Self::P) {
        hand::mpc_vg(&self.u, &self.x0, &self.a, &self.b, &self.q, &self.r)
    }
    #[inline]
    fn hand_hvp(&self) -> Self::P {
        hand::mpc_hvp(&self.a, &self.b, &self.q, &self.r, &self.v)
    }
    fn nd_vg(&self) -> (f64, Self::P) {
        let u = nd::seed_grad::<2, 50, 100>(&self.u, 0);
        let r = nd::mpc(
            &u,
            &nd::lift(&self.x0),
            &nd::lift(&self.a),
            &nd::lift(&self.b),
            &nd::lift(&self.q),
            &nd::lift(&self.r),
        );
        (r.re, nd::take(&r.eps, 0))
    }
    fn nd_hvp(&self) -> Self::P {
        let u = nd::seed_hvp::<2, 50, 100>(&self.u, &self.v, 0);
        let r = nd::mpc(
            &u,
            &nd::lift(&self.x0),
            &nd::lift(&self.a),
            &nd::lift(&self.b),
            &nd::lift(&self.q),
            &nd::lift(&self.r),
        );
        nd::take(&r.eps1eps2, 0)
    }
}

/// The Huber workload: `A`, `x`, `y`, `v` standard normal, `δ = 1.5` (38–45 of the 100
/// residuals in the quadratic part on the test seeds, none within 10⁻³ of a kink).
pub struct Huber100x5 {
    x: SVector<f64, 5>,
    a: SMatrix<f64, 100, 5>,
    y: SVector<f64, 100>,
    delta: f64,
    v: SVector<f64, 5>,
}

impl Workload for Huber100x5 {
    const NAME: &'static str = "Huber 100×5";
    const ID: &'static str = "huber100x5";
    const ND: &'static str = "DualSVec64<5>, HyperDualSVec64<5, 1>";
    type P = SVector<f64, 5>;

    fn new(rng: &mut Rng) -> Self {
        Self {
            x: rng.matrix(),
            a: rng.matrix(),
            y: rng.matrix(),
            delta: 1.5,
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
        huber100x5::f(p, &self.a, &self.y, self.delta)
    }
    fn grad_at(&self, p: &Self::P) -> Self::P {
        huber100x5::f_grad(p, &self.a, &self.y, self.delta)
    }
    #[inline]
    fn f(&self) -> f64 {
        huber100x5::f(&self.x, &self.a, &self.y, self.delta)
    }
    #[inline]
    fn gen_vg(&self) -> (f64, Self::P) {
        huber100x5::f_value_and_grad(&self.x, &self.a, &self.y, self.delta)
    }
    #[inline]
    fn gen_hvp(&self) -> Self::P {
        huber100x5::f_hvp(&self.x, &self.a, &self.y, self.delta, &self.v)
    }
    #[inline]
    fn hand_vg(&self) -> (f64, Self::P) {
        hand::huber_vg(&self.x, &self.a, &self.y, self.delta)
    }
    #[inline]
    fn hand_hvp(&self) -> Self::P {
        hand::huber_hvp(&self.x, &self.a, &self.y, self.delta, &self.v)
    }
    fn nd_vg(&self) -> (f64, Self::P) {
        let x = nd::seed_grad::<5, 1, 5>(&self.x, 0);
        let r = nd::huber(
            &x,
            &nd::lift(&self.a),
            &nd::lift(&self.y),
            self.delta.into(),
        );
        (r.re, nd::take(&r.eps, 0))
    }
    fn nd_hvp(&self) -> Self::P {
        let x = nd::seed_hvp::<5, 1, 5>(&self.x, &self.v, 0);
        let r = nd::huber(
            &x,
            &nd::lift(&self.a),
            &nd::lift(&self.y),
            self.delta.into(),
        );
        nd::take(&r.eps1eps2, 0)
    }
}

/// The logistic-regression workload: `X` standard normal (one point per column), labels
/// `y = ±1` with equal probability, `w`, `v` normal with standard deviation 0.5 (so `w·xᵢ`
/// has a standard deviation of about 1.1 and the losses are not saturated).
pub struct Logistic200x5 {
    w: SVector<f64, 5>,
    x: SMatrix<f64, 5, 200>,
    y: SVector<f64, 200>,
    v: SVector<f64, 5>,
}

impl Workload for Logistic200x5 {
    const NAME: &'static str = "logistic 200×5";
    const ID: &'static str = "logistic200x5";
    const ND: &'static str = "DualSVec64<5>, HyperDualSVec64<5, 1>";
    type P = SVector<f64, 5>;

    fn new(rng: &mut Rng) -> Self {
        Self {
            w: rng.matrix::<5, 1>() * 0.5,
            x: rng.matrix(),
            y: SVector::from_fn(|_, _| if rng.uniform() < 0.0 { -1.0 } else { 1.0 }),
            v: rng.matrix::<5, 1>() * 0.5,
        }
    }
    fn point(&self) -> Self::P {
        self.w
    }
    fn dir(&self) -> Self::P {
        self.v
    }
    fn f_at(&self, p: &Self::P) -> f64 {
        logistic200x5::f(p, &self.x, &self.y)
    }
    fn grad_at(&self, p: &Self::P) -> Self::P {
        logistic200x5::f_grad(p, &self.x, &self.y)
    }
    #[inline]
    fn f(&self) -> f64 {
        logistic200x5::f(&self.w, &self.x, &self.y)
    }
    #[inline]
    fn gen_vg(&self) -> (f64, Self::P) {
        logistic200x5::f_value_and_grad(&self.w, &self.x, &self.y)
    }
    #[inline]
    fn gen_hvp(&self) -> Self::P {
        logistic200x5::f_hvp(&self.w, &self.x, &self.y, &self.v)
    }
    #[inline]
    fn hand_vg(&self) -> (f64, Self::P) {
        hand::logistic_vg(&self.w, &self.x, &self.y)
    }
    #[inline]
    fn hand_hvp(&self) -> Self::P {
        hand::logistic_hvp(&self.w, &self.x, &self.y, &self.v)
    }
    fn nd_vg(&self) -> (f64, Self::P) {
        let w = nd::seed_grad::<5, 1, 5>(&self.w, 0);
        let r = nd::logistic(&w, &nd::lift(&self.x), &nd::lift(&self.y));
        (r.re, nd::take(&r.eps, 0))
    }
    fn nd_hvp(&self) -> Self::P {
        let w = nd::seed_hvp::<5, 1, 5>(&self.w, &self.v, 0);
        let r = nd::logistic(&w, &nd::lift(&self.x), &nd::lift(&self.y));
        nd::take(&r.eps1eps2, 0)
    }
}
