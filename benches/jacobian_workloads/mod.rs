//! The Jacobian workloads (issue 10, item 7), shared by the `jacobians` bench target and by
//! `tests/test_jacobian_workloads.rs` (through `#[path]`).
//!
//! Every workload is a residual (a function returning a vector) differentiated by
//! `#[differentiate]` at literal sizes, and its value and Jacobian computed three other ways,
//! all behind the [`JacWorkload`] trait:
//!
//! * `gen_*`: the generated `*_value_and_jacobian`, `*_jacobian`, `*_jvp` and `*_vjp`;
//! * `hand_vj`: value and Jacobian written by hand in one pass, as a careful person would
//!   (shared subexpressions, closed forms: `(1 + e)^(−1/b₄)` as `exp(−ln(1 + e)/b₄)` sharing
//!   the logarithm that `∂/∂b₄` needs, the rotation's derivative as rank-one updates);
//! * `nd_vj`: forward-mode AD with num-dual, one pass of vector duals `DualSVec64<N>` over the
//!   `N` parameters, through the same function written generically over the scalar;
//! * `fd_j`: central finite differences of the function (`2N` evaluations).
//!
//! [`check`] compares every column with the others before anything is timed.
//!
//! The workloads:
//!
//! 1. NIST StRD's Rat43 (Ratkowsky 1983), `yᵢ − b₁ / (1 + exp(b₂ − b₃ xᵢ))^(1/b₄)` over its 15
//!    observations, with respect to `b` (4 parameters), near the certified values;
//! 2. a two-link planar arm's end effector, with respect to the two joint angles;
//! 3. a pinhole reprojection residual: a 3-D point rotated by an angle-axis vector (Rodrigues'
//!    formula, as Ceres's `AngleAxisRotatePoint` away from zero), translated, projected with a
//!    focal length and compared with an observation, with respect to the 6 pose parameters;
//! 4. Ceres's exponential curve fit `yᵢ − exp(m xᵢ + c)` over the 67 observations of its
//!    `examples/curve_fitting.cc`, with respect to `(m, c)`.

// Each bench/test binary uses a different subset of what is here.
#![allow(
    dead_code,
    reason = "each bench and test binary uses a different subset"
)]

use matdiff::differentiate;
use matdiff::nalgebra::{Matrix3, RealField, SMatrix, SVector, Vector2, Vector3, Vector4};
use matdiff::runtime::Rng;
use num_dual::DualSVec64;

// ---------------------------------------------------------------------------------------------
// Data.
// ---------------------------------------------------------------------------------------------

/// NIST StRD Rat43: `x` (the predictor).
pub const RAT43_X: [f64; 15] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
];

/// NIST StRD Rat43: `y` (the response).
pub const RAT43_Y: [f64; 15] = [
    16.08, 33.83, 65.80, 97.20, 191.55, 326.20, 386.87, 520.53, 590.03, 651.92, 724.93, 699.56,
    689.96, 637.56, 717.41,
];

/// NIST StRD Rat43: the certified parameter values.
pub const RAT43_CERTIFIED: [f64; 4] = [
    6.996_415_127_0e2,
    5.277_125_302_5,
    7.596_293_832_9e-1,
    1.279_248_385_9,
];

include!("../data/ceres_curve_fitting.rs");

// ---------------------------------------------------------------------------------------------
// The differentiated residuals, written as people write them: data passed in, a loop over the
// observations, nalgebra's vector operations for the geometry.
// ---------------------------------------------------------------------------------------------

/// NIST Rat43.
pub mod rat43 {
    use super::*;
    /// `yᵢ − b₁ / (1 + exp(b₂ − b₃ xᵢ))^(1/b₄)`.
    #[differentiate(wrt = b)]
    pub fn residual(
        b: &Vector4<f64>,
        x: &SVector<f64, 15>,
        y: &SVector<f64, 15>,
    ) -> SVector<f64, 15> {
        let mut r = SVector::<f64, 15>::zeros();
        for i in 0..15 {
            r[i] = y[i] - b[0] / (1.0 + (b[1] - b[2] * x[i]).exp()).powf(1.0 / b[3]);
        }
        r
    }
}

/// The two-link planar arm.
pub mod arm {
    use super::*;
    /// The end effector of links `l` at joint angles `q`.
    #[differentiate(wrt = q)]
    pub fn residual(q: &Vector2<f64>, l: &Vector2<f64>) -> Vector2<f64> {
        let (a, b) = (q[0], q[0] + q[1]);
        Vector2::new(
            l[0] * a.cos() + l[1] * b.cos(),
            l[0] * a.sin() + l[1] * b.sin(),
        )
    }
}

/// The pinhole reprojection residual.
pub mod reprojection {
    use super::*;
    /// The projection of `point` seen from `pose` (angle-axis rotation, then translation)
    /// through a pinhole of focal length `focal`, minus the observation.
    #[differentiate(wrt = pose)]
    pub fn residual(
        pose: &SVector<f64, 6>,
        point: &Vector3<f64>,
        observed: &Vector2<f64>,
        focal: f64,
    ) -> Vector2<f64> {
        let w = pose.fixed_rows::<3>(0);
        let t = pose.fixed_rows::<3>(3);
        // Rodrigues' formula.
        let theta = w.norm();
        let k = w / theta;
        let (s, c) = (theta.sin(), theta.cos());
        let rotated = point * c + k.cross(point) * s + k * (k.dot(point) * (1.0 - c));
        let p = rotated + t;
        Vector2::new(
            focal * p[0] / p[2] - observed[0],
            focal * p[1] / p[2] - observed[1],
        )
    }
}

/// Ceres's exponential curve fit.
pub mod curve {
    use super::*;
    /// `yᵢ − exp(m xᵢ + c)` with `p = (m, c)`.
    #[differentiate(wrt = p)]
    pub fn residual(
        p: &Vector2<f64>,
        x: &SVector<f64, 67>,
        y: &SVector<f64, 67>,
    ) -> SVector<f64, 67> {
        let mut r = SVector::<f64, 67>::zeros();
        for i in 0..67 {
            r[i] = y[i] - (p[0] * x[i] + p[1]).exp();
        }
        r
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written value and Jacobian.
// ---------------------------------------------------------------------------------------------

/// Value and Jacobian written by hand, one pass each.
pub mod hand {
    use super::*;

    /// Rat43: with `e = exp(b₂ − b₃x)`, `L = ln(1 + e)` and the model `m = b₁ exp(−L/b₄)`,
    /// `∂r/∂b = (−m/b₁, g, −x g, −m L/b₄²)` where `g = m e / (b₄ (1 + e))`; one `exp`, one
    /// `ln` and one `exp` per observation.
    pub fn rat43(
        b: &Vector4<f64>,
        x: &SVector<f64, 15>,
        y: &SVector<f64, 15>,
    ) -> (SVector<f64, 15>, SMatrix<f64, 15, 4>) {
        let mut r = SVector::<f64, 15>::zeros();
        let mut j = SMatrix::<f64, 15, 4>::zeros();
        let inv_b4 = 1.0 / b[3];
        for i in 0..15 {
            let e = (b[1] - b[2] * x[i]).exp();
            let u = 1.0 + e;
            let l = u.ln();
            let w = (-l * inv_b4).exp();
            let m = b[0] * w;
            let g = m * inv_b4 * e / u;
            r[i] = y[i] - m;
            j[(i, 0)] = -w;
            j[(i, 1)] = g;
            j[(i, 2)] = -x[i] * g;
            j[(i, 3)] = -m * l * inv_b4 * inv_b4;
        }
        (r, j)
    }

    /// The arm: the end effector and `[[−y, −y₂], [x, x₂]]` with `(x₂, y₂)` the second link.
    pub fn arm(q: &Vector2<f64>, l: &Vector2<f64>) -> (Vector2<f64>, SMatrix<f64, 2, 2>) {
        let (sa, ca) = q[0].sin_cos();
        let (sb, cb) = (q[0] + q[1]).sin_cos();
        let (x2, y2) = (l[1] * cb, l[1] * sb);
        let (x, y) = (l[0] * ca + x2, l[0] * sa + y2);
        (
            Vector2::new(x, y),
            SMatrix::<f64, 2, 2>::new(-y, -y2, x, x2),
        )
    }

    /// Reprojection. With `θ = ‖w‖`, `k = w/θ`, `(s, c) = (sin θ, cos θ)` and the rotated
    /// point `q = c p + s k×p + (1 − c)(k·p) k`:
    /// `dq = A dθ + B dk`, `A = −s p + c k×p + s (k·p) k`,
    /// `B = −s [p]× + (1 − c)(k·p) I + (1 − c) k pᵀ`, `dθ = kᵀdw`, `dk = (I − kkᵀ) dw / θ`,
    /// so `∂q/∂w = (A − Bk/θ) kᵀ + B/θ` with `Bk = s k×p + 2(1 − c)(k·p) k`; the projection's
    /// derivative is `(f/Z) [[1, 0, −X/Z], [0, 1, −Y/Z]]`, applied row by row.
    pub fn reprojection(
        pose: &SVector<f64, 6>,
        point: &Vector3<f64>,
        observed: &Vector2<f64>,
        focal: f64,
    ) -> (Vector2<f64>, SMatrix<f64, 2, 6>) {
        let w = Vector3::new(pose[0], pose[1], pose[2]);
        let theta = w.norm();
        let inv_theta = 1.0 / theta;
        let k = w * inv_theta;
        let (s, c) = theta.sin_cos();
        let omc = 1.0 - c;
        let kxp = k.cross(point);
        let kp = k.dot(point);
        let rotated = point * c + kxp * s + k * (kp * omc);
        let (px, py, pz) = (
            rotated[0] + pose[3],
            rotated[1] + pose[4],
            rotated[2] + pose[5],
        );
        let iz = 1.0 / pz;
        let fz = focal * iz;
        let (u, v) = (fz * px, fz * py);
        let value = Vector2::new(u - observed[0], v - observed[1]);

        let a = kxp * c + k * (s * kp) - point * s;
        let bk = kxp * s + k * (2.0 * omc * kp);
        let b = point.cross_matrix() * (-s)
            + Matrix3::from_diagonal_element(omc * kp)
            + k * (point.transpose() * omc);
        let d_rot = (a - bk * inv_theta) * k.transpose() + b * inv_theta;
        // Rows of the projection's derivative: fz e₀ − (u/Z) e₂ and fz e₁ − (v/Z) e₂.
        let (du, dv) = (-u * iz, -v * iz);
        let mut j = SMatrix::<f64, 2, 6>::zeros();
        for col in 0..3 {
            j[(0, col)] = fz * d_rot[(0, col)] + du * d_rot[(2, col)];
            j[(1, col)] = fz * d_rot[(1, col)] + dv * d_rot[(2, col)];
        }
        j[(0, 3)] = fz;
        j[(0, 5)] = du;
        j[(1, 4)] = fz;
        j[(1, 5)] = dv;
        (value, j)
    }

    /// The curve fit: `e = exp(m x + c)`, `r = y − e`, `∂r/∂(m, c) = (−x e, −e)`.
    pub fn curve(
        p: &Vector2<f64>,
        x: &SVector<f64, 67>,
        y: &SVector<f64, 67>,
    ) -> (SVector<f64, 67>, SMatrix<f64, 67, 2>) {
        let mut r = SVector::<f64, 67>::zeros();
        let mut j = SMatrix::<f64, 67, 2>::zeros();
        for i in 0..67 {
            let e = (p[0] * x[i] + p[1]).exp();
            r[i] = y[i] - e;
            j[(i, 0)] = -x[i] * e;
            j[(i, 1)] = -e;
        }
        (r, j)
    }
}

// ---------------------------------------------------------------------------------------------
// The same residuals generic over the scalar, for num-dual.
// ---------------------------------------------------------------------------------------------

/// The residuals written once over any real scalar (f64 or a num-dual number).
pub mod nd {
    use super::*;

    /// The scalars the generic functions accept.
    pub trait Real: RealField + Copy + From<f64> {}
    impl<T: RealField + Copy + From<f64>> Real for T {}

    /// Rat43.
    #[inline]
    pub fn rat43<T: Real>(
        b: &Vector4<T>,
        x: &SVector<f64, 15>,
        y: &SVector<f64, 15>,
    ) -> SVector<T, 15> {
        let one = T::one();
        SVector::from_fn(|i, _| {
            T::from(y[i]) - b[0] / (one + (b[1] - b[2] * T::from(x[i])).exp()).powf(one / b[3])
        })
    }

    /// The arm.
    #[inline]
    pub fn arm<T: Real>(q: &Vector2<T>, l: &Vector2<f64>) -> Vector2<T> {
        let (a, b) = (q[0], q[0] + q[1]);
        let (l0, l1) = (T::from(l[0]), T::from(l[1]));
        Vector2::new(l0 * a.cos() + l1 * b.cos(), l0 * a.sin() + l1 * b.sin())
    }

    /// Reprojection.
    #[inline]
    pub fn reprojection<T: Real>(
        pose: &SVector<T, 6>,
        point: &Vector3<f64>,
        observed: &Vector2<f64>,
        focal: f64,
    ) -> Vector2<T> {
        let w = pose.fixed_rows::<3>(0).into_owned();
        let t = pose.fixed_rows::<3>(3).into_owned();
        let point = point.map(T::from);
        let theta = w.norm();
        let k = w / theta;
        let (s, c) = (theta.sin(), theta.cos());
        let rotated = point * c + k.cross(&point) * s + k * (k.dot(&point) * (T::one() - c));
        let p = rotated + t;
        let f = T::from(focal);
        Vector2::new(
            f * p[0] / p[2] - T::from(observed[0]),
            f * p[1] / p[2] - T::from(observed[1]),
        )
    }

    /// The curve fit.
    #[inline]
    pub fn curve<T: Real>(
        p: &Vector2<T>,
        x: &SVector<f64, 67>,
        y: &SVector<f64, 67>,
    ) -> SVector<T, 67> {
        SVector::from_fn(|i, _| T::from(y[i]) - (p[0] * T::from(x[i]) + p[1]).exp())
    }

    /// Seeds the `N` entries of `p` as the derivative variables of vector duals.
    #[inline]
    pub fn seed<const N: usize>(p: &SVector<f64, N>) -> SVector<DualSVec64<N>, N> {
        SVector::from_fn(|i, _| DualSVec64::from_re(p[i]).derivative(i))
    }

    /// The value and the Jacobian (row `i` the derivatives of entry `i`).
    #[inline]
    pub fn unseed<const M: usize, const N: usize>(
        r: &SVector<DualSVec64<N>, M>,
    ) -> (SVector<f64, M>, SMatrix<f64, M, N>) {
        let value = r.map(|d| d.re);
        let mut j = SMatrix::<f64, M, N>::zeros();
        for i in 0..M {
            if let Some(g) = &r[i].eps.0 {
                for k in 0..N {
                    j[(i, k)] = g[k];
                }
            }
        }
        (value, j)
    }
}

// ---------------------------------------------------------------------------------------------
// The workload trait and the workloads.
// ---------------------------------------------------------------------------------------------

/// One Jacobian workload: a residual of `M` entries in `N` parameters, its inputs, and every
/// column.
pub trait JacWorkload<const M: usize, const N: usize> {
    /// Name in the tables.
    const NAME: &'static str;
    /// Identifier for filters.
    const ID: &'static str;

    /// Inputs: the data of the workload and a parameter point drawn from `rng` near a
    /// sensible one.
    fn new(rng: &mut Rng) -> Self;
    /// The parameter point.
    fn point(&self) -> SVector<f64, N>;
    /// The residual at another point (finite differences).
    fn f_at(&self, p: &SVector<f64, N>) -> SVector<f64, M>;

    /// The residual alone at the stored inputs.
    fn f(&self) -> SVector<f64, M>;
    /// The generated `*_value_and_jacobian`.
    fn gen_vj(&self) -> (SVector<f64, M>, SMatrix<f64, M, N>);
    /// The generated `*_jacobian`.
    fn gen_j(&self) -> SMatrix<f64, M, N>;
    /// The generated `*_jvp` along `v`.
    fn gen_jvp(&self, v: &SVector<f64, N>) -> SVector<f64, M>;
    /// The generated `*_vjp` of `u`.
    fn gen_vjp(&self, u: &SVector<f64, M>) -> SVector<f64, N>;
    /// Hand-written value and Jacobian.
    fn hand_vj(&self) -> (SVector<f64, M>, SMatrix<f64, M, N>);
    /// num-dual value and Jacobian (`DualSVec64<N>`, one pass).
    fn nd_vj(&self) -> (SVector<f64, M>, SMatrix<f64, M, N>);
    /// Central-difference Jacobian of the residual.
    fn fd_j(&self) -> SMatrix<f64, M, N> {
        fd_jacobian(|p| self.f_at(p), &self.point())
    }
}

/// Relative step of the central differences, about the cube root of the machine epsilon.
pub const FD_STEP: f64 = 6e-6;

/// Central-difference Jacobian of `f` at `x`: two evaluations per parameter.
pub fn fd_jacobian<const M: usize, const N: usize>(
    f: impl Fn(&SVector<f64, N>) -> SVector<f64, M>,
    x: &SVector<f64, N>,
) -> SMatrix<f64, M, N> {
    let mut j = SMatrix::<f64, M, N>::zeros();
    let mut p = *x;
    for k in 0..N {
        let xk = x[k];
        let h = FD_STEP * xk.abs().max(1.0);
        let (up, down) = (xk + h, xk - h);
        p[k] = up;
        let fp = f(&p);
        p[k] = down;
        let fm = f(&p);
        p[k] = xk;
        j.set_column(k, &((fp - fm) / (up - down)));
    }
    j
}

/// Tolerance between the exact columns (generated, hand-written, num-dual), relative to the
/// norm of each Jacobian column.
pub const TOL_EXACT: f64 = 1e-10;
/// Tolerance of finite differences against the exact columns, relative to the norm of each
/// Jacobian column.
pub const TOL_FD: f64 = 1e-6;

/// `‖a − b‖ / max(‖a‖, ‖b‖)` (0 when both are 0).
pub fn rel_err<const R: usize>(a: &SVector<f64, R>, b: &SVector<f64, R>) -> f64 {
    let scale = a.norm().max(b.norm());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).norm() / scale
    }
}

/// Worst relative disagreements found by [`check`].
#[derive(Debug, Clone, Copy)]
pub struct Agreement {
    /// Largest relative error among the values and Jacobian columns of the exact columns.
    pub exact: f64,
    /// Largest relative error of a finite-difference Jacobian column.
    pub fd: f64,
}

/// Computes every column once and panics unless they all agree: values, and every Jacobian
/// column, of generated (`_value_and_jacobian`, `_jacobian`, `_jvp` along each unit vector,
/// `_vjp` of each unit vector as the rows), hand-written and num-dual to [`TOL_EXACT`], and
/// central differences to [`TOL_FD`].
pub fn check<const M: usize, const N: usize, W: JacWorkload<M, N>>(w: &W) -> Agreement {
    let name = W::NAME;
    let f = w.f();
    let (hv, hj) = w.hand_vj();
    let (gv, gj) = w.gen_vj();
    let (nv, nj) = w.nd_vj();
    let mut exact: f64 = 0.0;
    for (what, v) in [
        ("generated", gv),
        ("hand-written", hv),
        ("num-dual", nv),
        ("f_at", w.f_at(&w.point())),
    ] {
        let e = rel_err(&v, &f);
        assert!(
            e <= TOL_EXACT,
            "{name}: {what} value differs from f by {e:e}\n{what}: {v}\nf: {f}"
        );
        exact = exact.max(e);
    }
    // The generated JVP along e_k is column k; the VJP of e_i is row i.
    let mut jvps = SMatrix::<f64, M, N>::zeros();
    for k in 0..N {
        let mut e = SVector::<f64, N>::zeros();
        e[k] = 1.0;
        jvps.set_column(k, &w.gen_jvp(&e));
    }
    let mut vjps = SMatrix::<f64, M, N>::zeros();
    for i in 0..M {
        let mut e = SVector::<f64, M>::zeros();
        e[i] = 1.0;
        vjps.set_row(i, &w.gen_vjp(&e).transpose());
    }
    let fd = w.fd_j();
    let mut worst_fd: f64 = 0.0;
    for k in 0..N {
        let hand = hj.column(k).into_owned();
        for (what, j) in [
            ("generated _value_and_jacobian", &gj),
            ("generated _jacobian", &w.gen_j()),
            ("generated _jvp", &jvps),
            ("generated _vjp", &vjps),
            ("num-dual", &nj),
        ] {
            let e = rel_err(&j.column(k).into_owned(), &hand);
            assert!(
                e <= TOL_EXACT,
                "{name}: column {k} of the {what} Jacobian differs from the hand-written one \
                 by {e:e}\n{what}: {j}\nhand-written: {hj}"
            );
            exact = exact.max(e);
        }
        let e = rel_err(&fd.column(k).into_owned(), &hand);
        assert!(
            e <= TOL_FD,
            "{name}: column {k} of the finite-difference Jacobian differs from the hand-written \
             one by {e:e}\nfinite differences: {fd}\nhand-written: {hj}"
        );
        worst_fd = worst_fd.max(e);
    }
    Agreement {
        exact,
        fd: worst_fd,
    }
}

/// Something done for every workload type (see [`visit_all`]).
pub trait Visitor {
    /// Called once per workload type.
    fn visit<const M: usize, const N: usize, W: JacWorkload<M, N>>(&mut self);
}

/// Calls `v.visit::<..>()` for every workload, in the order of the issue.
pub fn visit_all(v: &mut impl Visitor) {
    v.visit::<15, 4, Rat43>();
    v.visit::<2, 2, Arm>();
    v.visit::<2, 6, Reprojection>();
    v.visit::<CURVE_POINTS, 2, Curve>();
}

/// Seed of the inputs of every workload.
pub const SEED: u64 = 2024;

/// NIST Rat43 near its certified parameters (each perturbed by 2 %).
pub struct Rat43 {
    b: Vector4<f64>,
    x: SVector<f64, 15>,
    y: SVector<f64, 15>,
}

impl JacWorkload<15, 4> for Rat43 {
    const NAME: &'static str = "Rat43, 15 residuals, 4 parameters";
    const ID: &'static str = "rat43";

    fn new(rng: &mut Rng) -> Self {
        Self {
            b: Vector4::from(RAT43_CERTIFIED).map(|b| b * (1.0 + 0.02 * rng.normal())),
            x: SVector::from(RAT43_X),
            y: SVector::from(RAT43_Y),
        }
    }
    fn point(&self) -> SVector<f64, 4> {
        self.b
    }
    fn f_at(&self, p: &SVector<f64, 4>) -> SVector<f64, 15> {
        rat43::residual(p, &self.x, &self.y)
    }
    #[inline]
    fn f(&self) -> SVector<f64, 15> {
        rat43::residual(&self.b, &self.x, &self.y)
    }
    #[inline]
    fn gen_vj(&self) -> (SVector<f64, 15>, SMatrix<f64, 15, 4>) {
        rat43::residual_value_and_jacobian(&self.b, &self.x, &self.y)
    }
    #[inline]
    fn gen_j(&self) -> SMatrix<f64, 15, 4> {
        rat43::residual_jacobian(&self.b, &self.x, &self.y)
    }
    fn gen_jvp(&self, v: &SVector<f64, 4>) -> SVector<f64, 15> {
        rat43::residual_jvp(&self.b, &self.x, &self.y, v)
    }
    fn gen_vjp(&self, u: &SVector<f64, 15>) -> SVector<f64, 4> {
        rat43::residual_vjp(&self.b, &self.x, &self.y, u)
    }
    #[inline]
    fn hand_vj(&self) -> (SVector<f64, 15>, SMatrix<f64, 15, 4>) {
        hand::rat43(&self.b, &self.x, &self.y)
    }
    #[inline]
    fn nd_vj(&self) -> (SVector<f64, 15>, SMatrix<f64, 15, 4>) {
        nd::unseed(&nd::rat43(&nd::seed(&self.b), &self.x, &self.y))
    }
}

/// The two-link arm at random joint angles, links of lengths about 1 and 0.7.
pub struct Arm {
    q: Vector2<f64>,
    l: Vector2<f64>,
}

impl JacWorkload<2, 2> for Arm {
    const NAME: &'static str = "two-link arm, 2 residuals, 2 angles";
    const ID: &'static str = "arm";

    fn new(rng: &mut Rng) -> Self {
        Self {
            q: rng.matrix(),
            l: Vector2::new(1.0 + 0.1 * rng.uniform(), 0.7 + 0.1 * rng.uniform()),
        }
    }
    fn point(&self) -> SVector<f64, 2> {
        self.q
    }
    fn f_at(&self, p: &SVector<f64, 2>) -> SVector<f64, 2> {
        arm::residual(p, &self.l)
    }
    #[inline]
    fn f(&self) -> SVector<f64, 2> {
        arm::residual(&self.q, &self.l)
    }
    #[inline]
    fn gen_vj(&self) -> (SVector<f64, 2>, SMatrix<f64, 2, 2>) {
        arm::residual_value_and_jacobian(&self.q, &self.l)
    }
    #[inline]
    fn gen_j(&self) -> SMatrix<f64, 2, 2> {
        arm::residual_jacobian(&self.q, &self.l)
    }
    fn gen_jvp(&self, v: &SVector<f64, 2>) -> SVector<f64, 2> {
        arm::residual_jvp(&self.q, &self.l, v)
    }
    fn gen_vjp(&self, u: &SVector<f64, 2>) -> SVector<f64, 2> {
        arm::residual_vjp(&self.q, &self.l, u)
    }
    #[inline]
    fn hand_vj(&self) -> (SVector<f64, 2>, SMatrix<f64, 2, 2>) {
        hand::arm(&self.q, &self.l)
    }
    #[inline]
    fn nd_vj(&self) -> (SVector<f64, 2>, SMatrix<f64, 2, 2>) {
        nd::unseed(&nd::arm(&nd::seed(&self.q), &self.l))
    }
}

/// A pinhole reprojection: a random pose (rotation of angle about 0.5, the point about 5 in
/// front of the camera), a random point, focal length 500, the observation its projection
/// plus noise of a pixel.
pub struct Reprojection {
    pose: SVector<f64, 6>,
    point: Vector3<f64>,
    observed: Vector2<f64>,
    focal: f64,
}

impl JacWorkload<2, 6> for Reprojection {
    const NAME: &'static str = "pinhole reprojection, 2 residuals, 6-DoF pose";
    const ID: &'static str = "reprojection";

    fn new(rng: &mut Rng) -> Self {
        let w = rng.matrix::<3, 1>() * 0.3;
        let t = Vector3::new(0.1, -0.2, 5.0) + rng.matrix::<3, 1>() * 0.1;
        let mut pose = SVector::<f64, 6>::zeros();
        pose.fixed_rows_mut::<3>(0).copy_from(&w);
        pose.fixed_rows_mut::<3>(3).copy_from(&t);
        let point = rng.matrix::<3, 1>();
        let focal = 500.0;
        let exact = reprojection::residual(&pose, &point, &Vector2::zeros(), focal);
        let observed = exact + rng.matrix::<2, 1>();
        Self {
            pose,
            point,
            observed,
            focal,
        }
    }
    fn point(&self) -> SVector<f64, 6> {
        self.pose
    }
    fn f_at(&self, p: &SVector<f64, 6>) -> SVector<f64, 2> {
        reprojection::residual(p, &self.point, &self.observed, self.focal)
    }
    #[inline]
    fn f(&self) -> SVector<f64, 2> {
        reprojection::residual(&self.pose, &self.point, &self.observed, self.focal)
    }
    #[inline]
    fn gen_vj(&self) -> (SVector<f64, 2>, SMatrix<f64, 2, 6>) {
        reprojection::residual_value_and_jacobian(
            &self.pose,
            &self.point,
            &self.observed,
            self.focal,
        )
    }
    #[inline]
    fn gen_j(&self) -> SMatrix<f64, 2, 6> {
        reprojection::residual_jacobian(&self.pose, &self.point, &self.observed, self.focal)
    }
    fn gen_jvp(&self, v: &SVector<f64, 6>) -> SVector<f64, 2> {
        reprojection::residual_jvp(&self.pose, &self.point, &self.observed, self.focal, v)
    }
    fn gen_vjp(&self, u: &SVector<f64, 2>) -> SVector<f64, 6> {
        reprojection::residual_vjp(&self.pose, &self.point, &self.observed, self.focal, u)
    }
    #[inline]
    fn hand_vj(&self) -> (SVector<f64, 2>, SMatrix<f64, 2, 6>) {
        hand::reprojection(&self.pose, &self.point, &self.observed, self.focal)
    }
    #[inline]
    fn nd_vj(&self) -> (SVector<f64, 2>, SMatrix<f64, 2, 6>) {
        nd::unseed(&nd::reprojection(
            &nd::seed(&self.pose),
            &self.point,
            &self.observed,
            self.focal,
        ))
    }
}

/// Ceres's curve fit at `(m, c)` near the generating `(0.3, 0.1)`.
pub struct Curve {
    p: Vector2<f64>,
    x: SVector<f64, CURVE_POINTS>,
    y: SVector<f64, CURVE_POINTS>,
}

impl JacWorkload<CURVE_POINTS, 2> for Curve {
    const NAME: &'static str = "curve fit, 67 residuals, 2 parameters";
    const ID: &'static str = "curve";

    fn new(rng: &mut Rng) -> Self {
        Self {
            p: Vector2::new(0.3, 0.1) + rng.matrix::<2, 1>() * 0.05,
            x: SVector::from_fn(|i, _| CURVE_DATA[2 * i]),
            y: SVector::from_fn(|i, _| CURVE_DATA[2 * i + 1]),
        }
    }
    fn point(&self) -> SVector<f64, 2> {
        self.p
    }
    fn f_at(&self, p: &SVector<f64, 2>) -> SVector<f64, CURVE_POINTS> {
        curve::residual(p, &self.x, &self.y)
    }
    #[inline]
    fn f(&self) -> SVector<f64, CURVE_POINTS> {
        curve::residual(&self.p, &self.x, &self.y)
    }
    #[inline]
    fn gen_vj(&self) -> (SVector<f64, CURVE_POINTS>, SMatrix<f64, CURVE_POINTS, 2>) {
        curve::residual_value_and_jacobian(&self.p, &self.x, &self.y)
    }
    #[inline]
    fn gen_j(&self) -> SMatrix<f64, CURVE_POINTS, 2> {
        curve::residual_jacobian(&self.p, &self.x, &self.y)
    }
    fn gen_jvp(&self, v: &SVector<f64, 2>) -> SVector<f64, CURVE_POINTS> {
        curve::residual_jvp(&self.p, &self.x, &self.y, v)
    }
    fn gen_vjp(&self, u: &SVector<f64, CURVE_POINTS>) -> SVector<f64, 2> {
        curve::residual_vjp(&self.p, &self.x, &self.y, u)
    }
    #[inline]
    fn hand_vj(&self) -> (SVector<f64, CURVE_POINTS>, SMatrix<f64, CURVE_POINTS, 2>) {
        hand::curve(&self.p, &self.x, &self.y)
    }
    #[inline]
    fn nd_vj(&self) -> (SVector<f64, CURVE_POINTS>, SMatrix<f64, CURVE_POINTS, 2>) {
        nd::unseed(&nd::curve(&nd::seed(&self.p), &self.x, &self.y))
    }
}
