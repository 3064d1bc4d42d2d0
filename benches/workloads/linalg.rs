//! Benchmark workloads through factorisations: a Gaussian negative log-density through
//! `cholesky()` and a quadratic loss of a linear solve `a.lu().solve(&b)`.
//!
//! Same layout and columns as `workloads/mod.rs`: the differentiated functions, one module per
//! workload and size, written as people write them; [`hand`]: value+gradient and HVP written
//! by hand as a careful person would (one factorisation, triangular solves, no inverse where a
//! solve does); [`nd`]: the same functions generic over the scalar, for the num-dual columns.
//!
//! The covariance's derivatives follow the convention of the function as nalgebra computes it:
//! `cholesky()` reads the lower triangle, so the gradient with respect to `Σ` is the
//! symmetric gradient folded onto the lower triangle, and the hand-written code does the same.
//!
//! `visit_linalg` adds them to `workloads::visit_all`.

use super::*;

// ---------------------------------------------------------------------------------------------
// The differentiated functions.
// ---------------------------------------------------------------------------------------------

/// Gaussian negative log-density, 3 dimensions.
pub mod gauss3 {
    use super::*;
    /// `½ (x − μ)ᵀ Σ⁻¹ (x − μ) + ½ ln det Σ`, through one Cholesky factorisation.
    #[differentiate(wrt = (mu, sigma))]
    pub fn f(x: &SVector<f64, 3>, mu: &SVector<f64, 3>, sigma: &SMatrix<f64, 3, 3>) -> f64 {
        let chol = sigma.cholesky().unwrap();
        let r = x - mu;
        0.5 * r.dot(&chol.solve(&r)) + 0.5 * chol.determinant().ln()
    }
}

/// Gaussian negative log-density, 8 dimensions.
pub mod gauss8 {
    use super::*;
    /// `½ (x − μ)ᵀ Σ⁻¹ (x − μ) + ½ ln det Σ`, through one Cholesky factorisation.
    #[differentiate(wrt = (mu, sigma))]
    pub fn f(x: &SVector<f64, 8>, mu: &SVector<f64, 8>, sigma: &SMatrix<f64, 8, 8>) -> f64 {
        let chol = sigma.cholesky().unwrap();
        let r = x - mu;
        0.5 * r.dot(&chol.solve(&r)) + 0.5 * chol.determinant().ln()
    }
}

/// `‖A⁻¹b − c‖²`, 3×3.
pub mod solve3 {
    use super::*;
    /// The squared distance of the solution of `A x = b` to `c`.
    #[differentiate(wrt = (a, b))]
    pub fn f(a: &SMatrix<f64, 3, 3>, b: &SVector<f64, 3>, c: &SVector<f64, 3>) -> f64 {
        let x = a.lu().solve(b).unwrap();
        (x - c).norm_squared()
    }
}

/// `‖A⁻¹b − c‖²`, 8×8.
pub mod solve8 {
    use super::*;
    /// The squared distance of the solution of `A x = b` to `c`.
    #[differentiate(wrt = (a, b))]
    pub fn f(a: &SMatrix<f64, 8, 8>, b: &SVector<f64, 8>, c: &SVector<f64, 8>) -> f64 {
        let x = a.lu().solve(b).unwrap();
        (x - c).norm_squared()
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written derivatives.
// ---------------------------------------------------------------------------------------------

/// Value+gradient and HVP written by hand with nalgebra.
pub mod hand {
    use super::*;

    /// The symmetric matrix whose lower triangle is `m`'s: what `cholesky()` reads.
    #[inline]
    pub fn from_lower<const N: usize>(m: &SMatrix<f64, N, N>) -> SMatrix<f64, N, N> {
        SMatrix::from_fn(|i, j| if i >= j { m[(i, j)] } else { m[(j, i)] })
    }

    /// A symmetric gradient `G` as the gradient with respect to the lower triangle:
    /// `Gᵢⱼ + Gⱼᵢ` below the diagonal, `Gᵢᵢ` on it, 0 above.
    #[inline]
    pub fn fold<const N: usize>(g: &SMatrix<f64, N, N>) -> SMatrix<f64, N, N> {
        SMatrix::from_fn(|i, j| match i.cmp(&j) {
            std::cmp::Ordering::Greater => g[(i, j)] + g[(j, i)],
            std::cmp::Ordering::Equal => g[(i, i)],
            std::cmp::Ordering::Less => 0.0,
        })
    }

    /// The Gaussian: `α = Σ⁻¹ r` by the factor, `∇μ = −α`, `∇Σ = fold(½ (Σ⁻¹ − α αᵀ))`.
    #[inline]
    pub fn gauss_vg<const N: usize>(
        x: &SVector<f64, N>,
        mu: &SVector<f64, N>,
        sigma: &SMatrix<f64, N, N>,
    ) -> (f64, (SVector<f64, N>, SMatrix<f64, N, N>)) {
        let chol = sigma.cholesky().expect("Σ is positive definite");
        let r = x - mu;
        let alpha = chol.solve(&r);
        let value = 0.5 * r.dot(&alpha) + 0.5 * chol.ln_determinant();
        let mut g = chol.inverse();
        g.ger(-1.0, &alpha, &alpha, 1.0);
        (value, (-alpha, fold(&(g * 0.5))))
    }

    /// The Gaussian's HVP along `(vμ, V)`, with `W = from_lower(V)` the direction the function
    /// sees: `dα = Σ⁻¹ (−vμ − W α)`, `Hμ = −dα`,
    /// `HΣ = fold(½ (−Σ⁻¹ W Σ⁻¹ − dα αᵀ − α dαᵀ))`.
    #[inline]
    pub fn gauss_hvp<const N: usize>(
        x: &SVector<f64, N>,
        mu: &SVector<f64, N>,
        sigma: &SMatrix<f64, N, N>,
        v_mu: &SVector<f64, N>,
        v_sigma: &SMatrix<f64, N, N>,
    ) -> (SVector<f64, N>, SMatrix<f64, N, N>) {
        let chol = sigma.cholesky().expect("Σ is positive definite");
        let r = x - mu;
        let alpha = chol.solve(&r);
        let w = from_lower(v_sigma);
        let inverse = chol.inverse();
        let d_alpha = chol.solve(&(-v_mu - w * alpha));
        let mut h = -(inverse * w * inverse);
        h.ger(-1.0, &d_alpha, &alpha, 1.0);
        h.ger(-1.0, &alpha, &d_alpha, 1.0);
        (-d_alpha, fold(&(h * 0.5)))
    }

    /// `Aᵀ z = y` with the LU factors of `A` (`P A = L U`, so `Aᵀ = Uᵀ Lᵀ P`): two triangular
    /// solves and a permutation, no second factorisation.
    #[inline]
    pub fn solve_transpose<const N: usize>(
        lu: &matdiff::nalgebra::LU<f64, Const<N>, Const<N>>,
        y: &SVector<f64, N>,
    ) -> SVector<f64, N>
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let mut z = *y;
        assert!(
            lu.u().tr_solve_upper_triangular_mut(&mut z),
            "A is invertible"
        );
        lu.l().tr_solve_lower_triangular_mut(&mut z);
        lu.p().inv_permute_rows(&mut z);
        z
    }

    /// `‖A⁻¹b − c‖²`: `x = A⁻¹ b`, `z = A⁻ᵀ 2 (x − c)`, `∇b = z`, `∇A = −z xᵀ`.
    #[inline]
    pub fn solve_vg<const N: usize>(
        a: &SMatrix<f64, N, N>,
        b: &SVector<f64, N>,
        c: &SVector<f64, N>,
    ) -> (f64, (SMatrix<f64, N, N>, SVector<f64, N>))
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let lu = a.lu();
        let x = lu.solve(b).expect("A is invertible");
        let r = x - c;
        let z = solve_transpose(&lu, &(r * 2.0));
        (r.norm_squared(), (-z * x.transpose(), z))
    }

    /// Its HVP along `(V, v)`: `dx = A⁻¹ (v − V x)`, `dz = A⁻ᵀ (2 dx − Vᵀ z)`, `Hb = dz`,
    /// `HA = −(dz xᵀ + z dxᵀ)`.
    #[inline]
    pub fn solve_hvp<const N: usize>(
        a: &SMatrix<f64, N, N>,
        b: &SVector<f64, N>,
        c: &SVector<f64, N>,
        v_a: &SMatrix<f64, N, N>,
        v_b: &SVector<f64, N>,
    ) -> (SMatrix<f64, N, N>, SVector<f64, N>)
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let lu = a.lu();
        let x = lu.solve(b).expect("A is invertible");
        let z = solve_transpose(&lu, &((x - c) * 2.0));
        let dx = lu.solve(&(v_b - v_a * x)).expect("A is invertible");
        let mut rhs = dx * 2.0;
        rhs.gemv_tr(-1.0, v_a, &z, 1.0);
        let dz = solve_transpose(&lu, &rhs);
        let mut h = -dz * x.transpose();
        h.ger(-1.0, &z, &dx, 1.0);
        (h, dz)
    }
}

// ---------------------------------------------------------------------------------------------
// The functions generic over the scalar, for num-dual.
// ---------------------------------------------------------------------------------------------

/// The workloads' functions for dual numbers.
pub mod nd {
    use super::super::nd::Real;
    use super::*;

    /// The Gaussian negative log-density.
    #[inline]
    pub fn gauss<T: Real, const N: usize>(
        x: &SVector<T, N>,
        mu: &SVector<T, N>,
        sigma: &SMatrix<T, N, N>,
    ) -> T {
        let chol = sigma.cholesky().expect("Σ is positive definite");
        let r = x - mu;
        T::from(0.5) * r.dot(&chol.solve(&r)) + T::from(0.5) * chol.determinant().ln()
    }

    /// `‖A⁻¹b − c‖²`.
    #[inline]
    pub fn solve<T: Real, const N: usize>(
        a: &SMatrix<T, N, N>,
        b: &SVector<T, N>,
        c: &SVector<T, N>,
    ) -> T
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let x = a.lu().solve(b).expect("A is invertible");
        (x - c).norm_squared()
    }
}

/// Adds the workloads of this module to `workloads::visit_all`.
pub fn visit_linalg(v: &mut impl Visitor) {
    v.visit::<Gauss3>();
    v.visit::<Gauss8>();
    v.visit::<Solve3>();
    v.visit::<Solve8>();
}

/// Gaussian workloads: `x`, `μ`, `vμ` standard normal, `Σ` SPD (`B Bᵀ + nI`), `V` standard
/// normal (not symmetric: its upper triangle has no effect).
macro_rules! gauss_workload {
    ($ty:ident, $m:ident, $name:literal, $n:literal, $nn:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            x: SVector<f64, $n>,
            mu: SVector<f64, $n>,
            sigma: SMatrix<f64, $n, $n>,
            v_mu: SVector<f64, $n>,
            v_sigma: SMatrix<f64, $n, $n>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str =
                concat!("DualSVec64<", $nn, ">, HyperDualSVec64<", $nn, ", 1>");
            type P = (SVector<f64, $n>, SMatrix<f64, $n, $n>);

            fn new(rng: &mut Rng) -> Self {
                Self {
                    x: rng.matrix(),
                    mu: rng.matrix(),
                    sigma: rng.spd(),
                    v_mu: rng.matrix(),
                    v_sigma: rng.matrix(),
                }
            }
            fn point(&self) -> Self::P {
                (self.mu, self.sigma)
            }
            fn dir(&self) -> Self::P {
                (self.v_mu, self.v_sigma)
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(&self.x, &p.0, &p.1)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(&self.x, &p.0, &p.1)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.x, &self.mu, &self.sigma)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.x, &self.mu, &self.sigma)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.x, &self.mu, &self.sigma, &self.v_mu, &self.v_sigma)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::gauss_vg(&self.x, &self.mu, &self.sigma)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::gauss_hvp(&self.x, &self.mu, &self.sigma, &self.v_mu, &self.v_sigma)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let mu = super::nd::seed_grad::<$n, 1, $nn>(&self.mu, 0);
                let sigma = super::nd::seed_grad::<$n, $n, $nn>(&self.sigma, $n);
                let r = nd::gauss(&super::nd::lift(&self.x), &mu, &sigma);
                (
                    r.re,
                    (super::nd::take(&r.eps, 0), super::nd::take(&r.eps, $n)),
                )
            }
            fn nd_hvp(&self) -> Self::P {
                let mu = super::nd::seed_hvp::<$n, 1, $nn>(&self.mu, &self.v_mu, 0);
                let sigma = super::nd::seed_hvp::<$n, $n, $nn>(&self.sigma, &self.v_sigma, $n);
                let r = nd::gauss(&super::nd::lift(&self.x), &mu, &sigma);
                (
                    super::nd::take(&r.eps1eps2, 0),
                    super::nd::take(&r.eps1eps2, $n),
                )
            }
        }
    };
}

gauss_workload!(Gauss3, gauss3, "Gaussian −log p, Cholesky 3×3", 3, 12);
gauss_workload!(Gauss8, gauss8, "Gaussian −log p, Cholesky 8×8", 8, 72);

/// Solve workloads: `A` well conditioned (diagonally dominant, not symmetric), `b`, `c` and
/// the directions standard normal.
macro_rules! solve_workload {
    ($ty:ident, $m:ident, $name:literal, $n:literal, $nn:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            a: SMatrix<f64, $n, $n>,
            b: SVector<f64, $n>,
            c: SVector<f64, $n>,
            v_a: SMatrix<f64, $n, $n>,
            v_b: SVector<f64, $n>,
        }

        impl Workload for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = stringify!($m);
            const ND: &'static str =
                concat!("DualSVec64<", $nn, ">, HyperDualSVec64<", $nn, ", 1>");
            type P = (SMatrix<f64, $n, $n>, SVector<f64, $n>);

            fn new(rng: &mut Rng) -> Self {
                Self {
                    a: rng.well_conditioned(),
                    b: rng.matrix(),
                    c: rng.matrix(),
                    v_a: rng.matrix(),
                    v_b: rng.matrix(),
                }
            }
            fn point(&self) -> Self::P {
                (self.a, self.b)
            }
            fn dir(&self) -> Self::P {
                (self.v_a, self.v_b)
            }
            fn f_at(&self, p: &Self::P) -> f64 {
                $m::f(&p.0, &p.1, &self.c)
            }
            fn grad_at(&self, p: &Self::P) -> Self::P {
                $m::f_grad(&p.0, &p.1, &self.c)
            }
            #[inline]
            fn f(&self) -> f64 {
                $m::f(&self.a, &self.b, &self.c)
            }
            #[inline]
            fn gen_vg(&self) -> (f64, Self::P) {
                $m::f_value_and_grad(&self.a, &self.b, &self.c)
            }
            #[inline]
            fn gen_hvp(&self) -> Self::P {
                $m::f_hvp(&self.a, &self.b, &self.c, &self.v_a, &self.v_b)
            }
            #[inline]
            fn hand_vg(&self) -> (f64, Self::P) {
                hand::solve_vg(&self.a, &self.b, &self.c)
            }
            #[inline]
            fn hand_hvp(&self) -> Self::P {
                hand::solve_hvp(&self.a, &self.b, &self.c, &self.v_a, &self.v_b)
            }
            fn nd_vg(&self) -> (f64, Self::P) {
                let a = super::nd::seed_grad::<$n, $n, $nn>(&self.a, 0);
                let b = super::nd::seed_grad::<$n, 1, $nn>(&self.b, $n * $n);
                let r = nd::solve(&a, &b, &super::nd::lift(&self.c));
                (
                    r.re,
                    (super::nd::take(&r.eps, 0), super::nd::take(&r.eps, $n * $n)),
                )
            }
            fn nd_hvp(&self) -> Self::P {
                let a = super::nd::seed_hvp::<$n, $n, $nn>(&self.a, &self.v_a, 0);
                let b = super::nd::seed_hvp::<$n, 1, $nn>(&self.b, &self.v_b, $n * $n);
                let r = nd::solve(&a, &b, &super::nd::lift(&self.c));
                (
                    super::nd::take(&r.eps1eps2, 0),
                    super::nd::take(&r.eps1eps2, $n * $n),
                )
            }
        }
    };
}

solve_workload!(Solve3, solve3, "‖A⁻¹b − c‖², LU 3×3", 3, 12);
solve_workload!(Solve8, solve8, "‖A⁻¹b − c‖², LU 8×8", 8, 72);
