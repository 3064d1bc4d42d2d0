//! Full Hessians of the workloads whose `wrt` has at most 16 entries (issue 10, item 7): the
//! generated `f_hessian`, a hand-written closed form, and num-dual's `hessian` (second-order
//! vector duals `Dual2Vec`, one pass), for `benches/hessians.rs` and
//! `tests/test_bench_workloads.rs`.

use num_dual::{hessian, Dual2SVec64};

use super::*;

/// A workload with an `N × N` Hessian over its `wrt` entries (column-major).
pub trait HessWorkload<const N: usize>: Workload {
    /// The generated `f_hessian`.
    fn gen_h(&self) -> SMatrix<f64, N, N>;
    /// A closed form, written by hand.
    fn hand_h(&self) -> SMatrix<f64, N, N>;
    /// num-dual's `hessian` (value, gradient and Hessian in one pass).
    fn nd_h(&self) -> SMatrix<f64, N, N>;
}

/// Visits every Hessian workload.
pub trait HessVisitor {
    /// Called once per workload.
    fn visit<const N: usize, W: HessWorkload<N>>(&mut self);
}

/// The Hessian workloads, in the order of the README's table.
pub fn visit_hessians(v: &mut impl HessVisitor) {
    v.visit::<3, Quad3>();
    v.visit::<10, Quad10>();
    v.visit::<9, TrQuad3>();
    v.visit::<3, Lsq5x3>();
    v.visit::<10, Lsq100x10>();
    v.visit::<9, LogDet3>();
}

/// Relative differences of the generated Hessian from the hand-written one, num-dual's, its
/// transpose, and central differences of the generated gradient, column by column.
#[derive(Debug)]
pub struct HessAgreement {
    /// Against the closed form.
    pub hand: f64,
    /// Against num-dual.
    pub nd: f64,
    /// Against its own transpose.
    pub symmetry: f64,
    /// Against central differences of the gradient along the unit vectors.
    pub fd: f64,
}

/// Compares the columns; panics if they disagree beyond [`TOL_EXACT`] / [`TOL_FD`].
pub fn check_hessian<const N: usize, W: HessWorkload<N>>(w: &W) -> HessAgreement {
    let h = w.gen_h();
    let mut fd = h;
    for k in 0..N {
        let mut e = w.point().scaled(0.0);
        *e.coord_mut(k) = 1.0;
        let column = fd_hvp(|p| w.grad_at(p), &w.point(), &e);
        let mut flat = column;
        for i in 0..N {
            fd[(i, k)] = *flat.coord_mut(i);
        }
    }
    let agreement = HessAgreement {
        hand: rel_err(&h, &w.hand_h()),
        nd: rel_err(&h, &w.nd_h()),
        symmetry: rel_err(&h, &h.transpose()),
        fd: rel_err(&h, &fd),
    };
    let exact = agreement.hand.max(agreement.nd).max(agreement.symmetry);
    assert!(
        exact < TOL_EXACT && agreement.fd < TOL_FD,
        "{}: {agreement:?}",
        W::NAME
    );
    agreement
}

macro_rules! quad_hessian {
    ($ty:ident, $m:ident, $n:literal) => {
        impl HessWorkload<$n> for $ty {
            #[inline]
            fn gen_h(&self) -> SMatrix<f64, $n, $n> {
                $m::f_hessian(&self.x, &self.a)
            }
            /// `A + Aᵀ`.
            #[inline]
            fn hand_h(&self) -> SMatrix<f64, $n, $n> {
                self.a + self.a.transpose()
            }
            fn nd_h(&self) -> SMatrix<f64, $n, $n> {
                let a = nd::lift(&self.a);
                hessian(|x: SVector<Dual2SVec64<$n>, $n>| nd::quad(&x, &a), &self.x).2
            }
        }
    };
}
quad_hessian!(Quad3, quad3, 3);
quad_hessian!(Quad10, quad10, 10);

impl HessWorkload<9> for TrQuad3 {
    #[inline]
    fn gen_h(&self) -> SMatrix<f64, 9, 9> {
        trquad3::f_hessian(&self.x, &self.a, &self.b)
    }
    /// `H vec(V) = vec(A V B + Aᵀ V Bᵀ)`, so `H = Bᵀ ⊗ A + B ⊗ Aᵀ`.
    #[inline]
    fn hand_h(&self) -> SMatrix<f64, 9, 9> {
        let (a, b) = (&self.a, &self.b);
        b.transpose().kronecker(a) + b.kronecker(&a.transpose())
    }
    fn nd_h(&self) -> SMatrix<f64, 9, 9> {
        let (a, b) = (nd::lift(&self.a), nd::lift(&self.b));
        let x = SVector::<f64, 9>::from_column_slice(self.x.as_slice());
        let f = |x: SVector<Dual2SVec64<9>, 9>| {
            nd::trquad(&SMatrix::<_, 3, 3>::from_column_slice(x.as_slice()), &a, &b)
        };
        hessian(f, &x).2
    }
}

macro_rules! lsq_hessian {
    ($ty:ident, $m:ident, $n:literal) => {
        impl HessWorkload<$n> for $ty {
            #[inline]
            fn gen_h(&self) -> SMatrix<f64, $n, $n> {
                $m::f_hessian(&self.w, &self.x, &self.y)
            }
            /// `2 XᵀX`.
            #[inline]
            fn hand_h(&self) -> SMatrix<f64, $n, $n> {
                2.0 * self.x.tr_mul(&self.x)
            }
            fn nd_h(&self) -> SMatrix<f64, $n, $n> {
                let (x, y) = (nd::lift(&self.x), nd::lift(&self.y));
                hessian(
                    |w: SVector<Dual2SVec64<$n>, $n>| nd::lsq(&w, &x, &y),
                    &self.w,
                )
                .2
            }
        }
    };
}
lsq_hessian!(Lsq5x3, lsq5x3, 3);
lsq_hessian!(Lsq100x10, lsq100x10, 10);

impl HessWorkload<9> for LogDet3 {
    #[inline]
    fn gen_h(&self) -> SMatrix<f64, 9, 9> {
        logdet3::f_hessian(&self.a)
    }
    /// `∇ = A⁻ᵀ` and `d∇ = −A⁻ᵀ dAᵀ A⁻ᵀ`: with `B = A⁻ᵀ`, the column of the entry `(i, j)`
    /// holds `−B[(p, j)] B[(i, q)]` at the entry `(p, q)`.
    #[inline]
    fn hand_h(&self) -> SMatrix<f64, 9, 9> {
        let b = self
            .a
            .try_inverse()
            .expect("A is positive definite")
            .transpose();
        SMatrix::from_fn(|row, column| {
            let (p, q) = (row % 3, row / 3);
            let (i, j) = (column % 3, column / 3);
            -b[(p, j)] * b[(i, q)]
        })
    }
    fn nd_h(&self) -> SMatrix<f64, 9, 9> {
        let a = SVector::<f64, 9>::from_column_slice(self.a.as_slice());
        let f = |a: SVector<Dual2SVec64<9>, 9>| {
            nd::logdet(&SMatrix::<_, 3, 3>::from_column_slice(a.as_slice()))
        };
        hessian(f, &a).2
    }
}
