//! Benchmark workloads from geometry (graphics, robotics): a normalised cross product.
//!
//! Same layout and columns as `workloads/mod.rs` (this module uses its [`Workload`] trait, its
//! num-dual helpers and its finite differences):
//!
//! * the differentiated function, written the way users write it;
//! * [`hand`]: value+gradient and HVP derived by hand (the derivation is in the comments), no
//!   heap allocation;
//! * [`nd`]: the same function generic over the scalar, for the num-dual columns (the
//!   finite-difference columns are the trait's defaults).
//!
//! `visit_geometry` adds them to `workloads::visit_all`.

use super::*;

// ---------------------------------------------------------------------------------------------
// The differentiated functions.
// ---------------------------------------------------------------------------------------------

/// Lambertian shading of a triangle with respect to its three vertices.
pub mod lambert_tri {
    use super::*;
    /// `l · n` with `n = (p₁ − p₀) × (p₂ − p₀) / ‖(p₁ − p₀) × (p₂ − p₀)‖` the unit normal of
    /// the triangle whose vertices are the columns of `p`, and `l` the light direction.
    #[differentiate(wrt = p)]
    pub fn f(p: &SMatrix<f64, 3, 3>, light: &SVector<f64, 3>) -> f64 {
        let e1 = p.column(1) - p.column(0);
        let e2 = p.column(2) - p.column(0);
        let n = e1.cross(&e2).normalize();
        light.dot(&n)
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written analytic derivatives.
// ---------------------------------------------------------------------------------------------

/// Value+gradient and HVP written by hand.
///
/// With `a = p₁ − p₀`, `b = p₂ − p₀`, `c = a × b`, `r = ‖c‖`, `n = c / r`, `s = l·n`:
///
/// * `dn = (I − n nᵀ) dc / r`, so `df = l·dn = w·dc` with `w = (l − s n) / r`;
/// * `dc = da × b + a × db`, and `w·(da × b) = da·(b × w)`, `w·(a × db) = db·(w × a)`: the
///   gradient is `g_a = b × w`, `g_b = w × a`, that is `(−g_a − g_b, g_a, g_b)` for the
///   columns `(p₀, p₁, p₂)`;
/// * along a direction `(v₀, v₁, v₂)`: `ȧ = v₁ − v₀`, `ḃ = v₂ − v₀`, `ċ = ȧ × b + a × ḃ`,
///   `ṙ = n·ċ`, `ṅ = (ċ − n ṙ) / r`, `ṡ = l·ṅ = w·ċ`, and from `r w = l − s n`,
///   `ẇ = −(ṡ n + s ṅ + ṙ w) / r`; then `ġ_a = ḃ × w + b × ẇ`, `ġ_b = ẇ × a + w × ȧ`.
pub mod hand {
    use super::*;

    /// The columns `(−g_a − g_b, g_a, g_b)` of the gradient with respect to `(p₀, p₁, p₂)`.
    #[inline(always)]
    fn vertices(ga: &SVector<f64, 3>, gb: &SVector<f64, 3>) -> SMatrix<f64, 3, 3> {
        SMatrix::<f64, 3, 3>::from_columns(&[-(ga + gb), *ga, *gb])
    }

    /// Lambertian shading `l·n` and its gradient with respect to the three vertices: one
    /// cross product for the normal, one norm and one division, then `g_a = b × w`,
    /// `g_b = w × a` with `w = (l − (l·n) n) / r`.
    pub fn lambert_vg(p: &SMatrix<f64, 3, 3>, l: &SVector<f64, 3>) -> (f64, SMatrix<f64, 3, 3>) {
        let p0 = p.column(0);
        let a = p.column(1) - p0;
        let b = p.column(2) - p0;
        let c = a.cross(&b);
        let inv_r = 1.0 / c.norm();
        let n = c * inv_r;
        let s = l.dot(&n);
        let w = (l - n * s) * inv_r;
        let ga = b.cross(&w);
        let gb = w.cross(&a);
        (s, vertices(&ga, &gb))
    }

    /// Lambertian shading: `H v` by the tangent of the gradient above (see the module
    /// documentation), sharing `a`, `b`, `n`, `w` and `1/r` with it.
    pub fn lambert_hvp(
        p: &SMatrix<f64, 3, 3>,
        l: &SVector<f64, 3>,
        v: &SMatrix<f64, 3, 3>,
    ) -> SMatrix<f64, 3, 3> {
        let p0 = p.column(0);
        let a = p.column(1) - p0;
        let b = p.column(2) - p0;
        let c = a.cross(&b);
        let inv_r = 1.0 / c.norm();
        let n = c * inv_r;
        let s = l.dot(&n);
        let w = (l - n * s) * inv_r;

        let v0 = v.column(0);
        let da = v.column(1) - v0;
        let db = v.column(2) - v0;
        let dc = da.cross(&b) + a.cross(&db);
        let dr = n.dot(&dc);
        let ds = w.dot(&dc);
        let dn = (dc - n * dr) * inv_r;
        let dw = -(n * ds + dn * s + w * dr) * inv_r;
        let dga = db.cross(&w) + b.cross(&dw);
        let dgb = dw.cross(&a) + w.cross(&da);
        vertices(&dga, &dgb)
    }
}

// ---------------------------------------------------------------------------------------------
// The same functions generic over the scalar, for num-dual.
// ---------------------------------------------------------------------------------------------

/// The geometry functions written once over any real scalar (f64 or a num-dual number), with
/// the seeding helpers of `workloads::nd`.
pub mod nd {
    pub use super::super::nd::{lift, seed_grad, seed_hvp, take, Real};
    use super::*;

    /// Lambertian shading of the triangle whose vertices are the columns of `p`.
    #[inline]
    pub fn lambert<T: Real>(p: &SMatrix<T, 3, 3>, l: &SVector<T, 3>) -> T {
        let e1 = p.column(1) - p.column(0);
        let e2 = p.column(2) - p.column(0);
        l.dot(&e1.cross(&e2).normalize())
    }
}

// ---------------------------------------------------------------------------------------------
// The workloads.
// ---------------------------------------------------------------------------------------------

/// Calls `v.visit::<W>()` for every geometry workload (from `visit_all`).
pub fn visit_geometry(v: &mut impl Visitor) {
    v.visit::<LambertTri>();
}

/// Lambertian shading of a triangle: the vertices are those of the right triangle
/// `(0, 0, 0), (1, 0, 0), (0, 1, 0)` moved by independent normal offsets of standard deviation
/// 0.2 and then by a standard normal translation (so the triangle is never near degenerate:
/// `‖c‖` stays away from 0), the light direction is a standard normal vector, the HVP
/// direction standard normal.
pub struct LambertTri {
    p: SMatrix<f64, 3, 3>,
    light: SVector<f64, 3>,
    v: SMatrix<f64, 3, 3>,
}

impl Workload for LambertTri {
    const NAME: &'static str = "Lambert triangle";
    const ID: &'static str = "lambert_tri";
    const ND: &'static str = "DualSVec64<9>, HyperDualSVec64<9, 1>";
    type P = SMatrix<f64, 3, 3>;

    fn new(rng: &mut Rng) -> Self {
        let base = SMatrix::<f64, 3, 3>::new(0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0);
        let offsets = rng.matrix::<3, 3>() * 0.2;
        let t = rng.matrix::<3, 1>();
        let p = (base + offsets).map_with_location(|i, _, x| x + t[i]);
        Self {
            p,
            light: rng.matrix(),
            v: rng.matrix(),
        }
    }
    fn point(&self) -> Self::P {
        self.p
    }
    fn dir(&self) -> Self::P {
        self.v
    }
    fn f_at(&self, p: &Self::P) -> f64 {
        lambert_tri::f(p, &self.light)
    }
    fn grad_at(&self, p: &Self::P) -> Self::P {
        lambert_tri::f_grad(p, &self.light)
    }
    #[inline]
    fn f(&self) -> f64 {
        lambert_tri::f(&self.p, &self.light)
    }
    #[inline]
    fn gen_vg(&self) -> (f64, Self::P) {
        lambert_tri::f_value_and_grad(&self.p, &self.light)
    }
    #[inline]
    fn gen_hvp(&self) -> Self::P {
        lambert_tri::f_hvp(&self.p, &self.light, &self.v)
    }
    #[inline]
    fn hand_vg(&self) -> (f64, Self::P) {
        hand::lambert_vg(&self.p, &self.light)
    }
    #[inline]
    fn hand_hvp(&self) -> Self::P {
        hand::lambert_hvp(&self.p, &self.light, &self.v)
    }
    fn nd_vg(&self) -> (f64, Self::P) {
        let p = nd::seed_grad::<3, 3, 9>(&self.p, 0);
        let r = nd::lambert(&p, &nd::lift(&self.light));
        (r.re, nd::take(&r.eps, 0))
    }
    fn nd_hvp(&self) -> Self::P {
        let p = nd::seed_hvp::<3, 3, 9>(&self.p, &self.v, 0);
        let r = nd::lambert(&p, &nd::lift(&self.light));
        nd::take(&r.eps1eps2, 0)
    }
}
