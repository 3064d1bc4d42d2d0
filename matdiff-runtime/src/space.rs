//! The [`VectorSpace`] abstraction over points and directions.

use nalgebra::SMatrix;

use crate::Rng;

/// A finite-dimensional real inner-product space: the type of a point and of
/// a direction.
///
/// Implemented for `f64`, `f32`, `SMatrix<f64, R, C>`, `SMatrix<f32, R, C>`
/// (and hence `SVector`), and componentwise for tuples of two, three or four
/// `VectorSpace`s. The inner product is the Frobenius one (the sum of the
/// products of corresponding entries), so a gradient `G` with
/// `df = tr(Gᵀ dX)` satisfies `df = G.inner(&dX)`.
///
/// ```
/// use matdiff_runtime::VectorSpace;
/// use matdiff_runtime::nalgebra::{Matrix2, Vector2};
///
/// let x = (Matrix2::new(1.0, 2.0, 3.0, 4.0), Vector2::new(1.0, -1.0), 2.0);
/// assert_eq!(x.inner(&x), 1.0 + 4.0 + 9.0 + 16.0 + 1.0 + 1.0 + 4.0);
/// let y = x.axpy(-1.0, &x);
/// assert_eq!(y.norm(), 0.0);
/// ```
pub trait VectorSpace: Clone {
    /// Returns the zero element of the same shape as `self`.
    fn zero_like(&self) -> Self;

    /// Returns `self + a * v`.
    fn axpy(&self, a: f64, v: &Self) -> Self;

    /// Returns `a * self`.
    fn scaled(&self, a: f64) -> Self;

    /// Returns the Frobenius inner product: the sum of the products of
    /// corresponding entries, accumulated in `f64`.
    fn inner(&self, other: &Self) -> f64;

    /// Returns the Frobenius norm, `sqrt(self.inner(self))`.
    fn norm(&self) -> f64 {
        self.inner(self).sqrt()
    }

    /// Returns a value of the same shape as `self` whose entries are drawn
    /// from [`Rng::normal`]. `self` is only used as a shape witness.
    fn random(&self, rng: &mut Rng) -> Self;

    /// Returns the unit roundoff of the scalar type (`f64::EPSILON` by
    /// default, `f32::EPSILON` for `f32`-based types, the largest component
    /// value for tuples).
    ///
    /// Finite-difference checks use it to pick a step size appropriate to the
    /// working precision; implementors for `f64`-based types need not
    /// override it.
    fn unit_roundoff(&self) -> f64 {
        f64::EPSILON
    }
}

impl VectorSpace for f64 {
    fn zero_like(&self) -> Self {
        0.0
    }

    fn axpy(&self, a: f64, v: &Self) -> Self {
        self + a * v
    }

    fn scaled(&self, a: f64) -> Self {
        a * self
    }

    fn inner(&self, other: &Self) -> f64 {
        self * other
    }

    fn random(&self, rng: &mut Rng) -> Self {
        rng.normal()
    }
}

impl VectorSpace for f32 {
    fn zero_like(&self) -> Self {
        0.0
    }

    fn axpy(&self, a: f64, v: &Self) -> Self {
        (f64::from(*self) + a * f64::from(*v)) as f32
    }

    fn scaled(&self, a: f64) -> Self {
        (a * f64::from(*self)) as f32
    }

    fn inner(&self, other: &Self) -> f64 {
        f64::from(*self) * f64::from(*other)
    }

    fn random(&self, rng: &mut Rng) -> Self {
        rng.normal() as f32
    }

    fn unit_roundoff(&self) -> f64 {
        f64::from(f32::EPSILON)
    }
}

impl<const R: usize, const C: usize> VectorSpace for SMatrix<f64, R, C> {
    fn zero_like(&self) -> Self {
        Self::zeros()
    }

    fn axpy(&self, a: f64, v: &Self) -> Self {
        self + v * a
    }

    fn scaled(&self, a: f64) -> Self {
        self * a
    }

    fn inner(&self, other: &Self) -> f64 {
        self.dot(other)
    }

    fn random(&self, rng: &mut Rng) -> Self {
        Self::from_fn(|_, _| rng.normal())
    }
}

impl<const R: usize, const C: usize> VectorSpace for SMatrix<f32, R, C> {
    fn zero_like(&self) -> Self {
        Self::zeros()
    }

    fn axpy(&self, a: f64, v: &Self) -> Self {
        self.zip_map(v, |x, y| x.axpy(a, &y))
    }

    fn scaled(&self, a: f64) -> Self {
        self.map(|x| x.scaled(a))
    }

    fn inner(&self, other: &Self) -> f64 {
        self.iter().zip(other.iter()).map(|(x, y)| x.inner(y)).sum()
    }

    fn random(&self, rng: &mut Rng) -> Self {
        Self::from_fn(|_, _| rng.normal() as f32)
    }

    fn unit_roundoff(&self) -> f64 {
        f64::from(f32::EPSILON)
    }
}

macro_rules! impl_tuple {
    ($($T:ident . $i:tt),+) => {
        impl<$($T: VectorSpace),+> VectorSpace for ($($T,)+) {
            fn zero_like(&self) -> Self {
                ($(self.$i.zero_like(),)+)
            }

            fn axpy(&self, a: f64, v: &Self) -> Self {
                ($(self.$i.axpy(a, &v.$i),)+)
            }

            fn scaled(&self, a: f64) -> Self {
                ($(self.$i.scaled(a),)+)
            }

            fn inner(&self, other: &Self) -> f64 {
                0.0 $(+ self.$i.inner(&other.$i))+
            }

            fn random(&self, rng: &mut Rng) -> Self {
                ($(self.$i.random(rng),)+)
            }

            fn unit_roundoff(&self) -> f64 {
                0.0_f64 $(.max(self.$i.unit_roundoff()))+
            }
        }
    };
}

impl_tuple!(A.0, B.1);
impl_tuple!(A.0, B.1, C.2);
impl_tuple!(A.0, B.1, C.2, D.3);

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2x3, SMatrix, Vector3};

    #[test]
    fn scalars() {
        let x = 3.0_f64;
        assert_eq!(x.axpy(2.0, &0.5), 4.0);
        assert_eq!(x.scaled(-2.0), -6.0);
        assert_eq!(x.inner(&2.0), 6.0);
        assert_eq!((-4.0_f64).norm(), 4.0);
        assert_eq!(x.zero_like(), 0.0);

        let y = 3.0_f32;
        assert_eq!(y.axpy(2.0, &0.5), 4.0);
        assert_eq!(y.scaled(-2.0), -6.0);
        assert_eq!(y.inner(&2.0), 6.0);
        assert_eq!(y.unit_roundoff(), f64::from(f32::EPSILON));
        assert_eq!(x.unit_roundoff(), f64::EPSILON);
    }

    #[test]
    fn matrices_use_frobenius_inner_product() {
        let a = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        let b = Matrix2x3::new(1.0, 0.0, -1.0, 2.0, 0.0, 1.0);
        assert_eq!(a.inner(&b), (a.transpose() * b).trace());
        assert_eq!(a.inner(&b), 1.0 - 3.0 + 8.0 + 6.0);
        assert_eq!(a.axpy(2.0, &b), a + 2.0 * b);
        assert_eq!(a.scaled(0.5), a / 2.0);
        assert_eq!(a.zero_like(), Matrix2x3::zeros());

        let af = a.cast::<f32>();
        let bf = b.cast::<f32>();
        assert_eq!(af.inner(&bf), a.inner(&b));
        assert_eq!(af.axpy(2.0, &bf), (a + 2.0 * b).cast::<f32>());
        assert_eq!(af.scaled(0.5), (a / 2.0).cast::<f32>());
        assert_eq!(VectorSpace::norm(&af), a.norm());
    }

    #[test]
    fn random_has_shape_and_is_deterministic() {
        let x = SMatrix::<f32, 3, 2>::zeros();
        let r1 = x.random(&mut Rng::new(5));
        let r2 = x.random(&mut Rng::new(5));
        assert_eq!(r1, r2);
        assert!(r1.iter().all(|v| *v != 0.0));
        let m = Rng::new(5).matrix::<3, 2>();
        assert_eq!(SMatrix::<f64, 3, 2>::zeros().random(&mut Rng::new(5)), m);
    }

    #[test]
    fn tuples_are_componentwise() {
        let x = (2.0_f64, Vector3::new(1.0, 2.0, 3.0));
        let v = (1.0_f64, Vector3::new(0.0, 1.0, 0.0));
        let y = x.axpy(3.0, &v);
        assert_eq!(y, (5.0, Vector3::new(1.0, 5.0, 3.0)));
        assert_eq!(x.inner(&v), 2.0 + 2.0);
        assert_eq!(x.scaled(2.0), (4.0, Vector3::new(2.0, 4.0, 6.0)));
        assert_eq!(x.zero_like(), (0.0, Vector3::zeros()));

        let t3 = (1.0_f64, 2.0_f32, Vector3::new(1.0, 1.0, 1.0));
        assert_eq!(t3.inner(&t3), 1.0 + 4.0 + 3.0);
        assert_eq!(t3.unit_roundoff(), f64::from(f32::EPSILON));

        let t4 = (1.0_f64, 1.0_f64, 1.0_f64, (2.0_f64, 2.0_f64));
        assert_eq!(t4.norm(), 11.0_f64.sqrt());
        let r = t4.random(&mut Rng::new(9));
        assert_ne!(r.3 .0, r.3 .1);
        assert_eq!(t4.unit_roundoff(), f64::EPSILON);
    }
}
