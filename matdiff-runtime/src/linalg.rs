//! Matrix functions that generated code calls where nalgebra has no single call for what a
//! derivative needs.

use nalgebra::{Const, DimMin, RealField, SMatrix};

/// What a singular matrix makes the derivative of a determinant report.
pub const SINGULAR: &str =
    "matdiff: the derivative of a determinant needs the inverse of the matrix, which is singular";

/// The determinant of `a` and its inverse, from one factorisation: cofactors up to 3 x 3 (the
/// determinant then equals nalgebra's `determinant()` exactly), one LU decomposition above.
///
/// The gradient of `det A` is `det A · A⁻ᵀ` and that of `ln det A` is `A⁻ᵀ`, so generated code
/// that needs both calls this instead of `determinant()` and `try_inverse()`, which would
/// factorise `a` twice.
///
/// # Panics
///
/// If `a` is singular, with the message [`SINGULAR`].
///
/// ```
/// use matdiff_runtime::determinant_and_inverse;
/// use nalgebra::Matrix3;
///
/// let a = Matrix3::new(2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0);
/// let (det, inverse) = determinant_and_inverse(&a);
/// assert_eq!(det, a.determinant());
/// assert!((inverse * a - Matrix3::identity()).norm() < 1e-14);
/// ```
pub fn determinant_and_inverse<T, const N: usize>(a: &SMatrix<T, N, N>) -> (T, SMatrix<T, N, N>)
where
    T: RealField + Copy,
    Const<N>: DimMin<Const<N>, Output = Const<N>>,
{
    match N {
        1..=3 => {
            let det = a.determinant();
            assert!(det != T::zero(), "{SINGULAR}");
            (det, adjugate(a) * det.recip())
        }
        _ => {
            let lu = a.lu();
            let inverse = lu.try_inverse().expect(SINGULAR);
            (lu.determinant(), inverse)
        }
    }
}

/// The adjugate (transposed cofactor matrix) of a matrix of at most 3 x 3.
fn adjugate<T: RealField + Copy, const N: usize>(a: &SMatrix<T, N, N>) -> SMatrix<T, N, N> {
    let mut adj = SMatrix::<T, N, N>::zeros();
    match N {
        1 => adj[(0, 0)] = T::one(),
        2 => {
            adj[(0, 0)] = a[(1, 1)];
            adj[(0, 1)] = -a[(0, 1)];
            adj[(1, 0)] = -a[(1, 0)];
            adj[(1, 1)] = a[(0, 0)];
        }
        _ => {
            // adj(A)ᵢⱼ = cofactor of entry (j, i): the minor of the other two rows and
            // columns, cyclically ordered so that the sign comes out right.
            for i in 0..3 {
                for j in 0..3 {
                    let (r1, r2) = ((j + 1) % 3, (j + 2) % 3);
                    let (c1, c2) = ((i + 1) % 3, (i + 2) % 3);
                    adj[(i, j)] = a[(r1, c1)] * a[(r2, c2)] - a[(r1, c2)] * a[(r2, c1)];
                }
            }
        }
    }
    adj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use nalgebra::{Matrix1, Matrix2, Matrix4, Matrix6};

    fn check<const N: usize>(a: &SMatrix<f64, N, N>)
    where
        Const<N>: DimMin<Const<N>, Output = Const<N>>,
    {
        let (det, inverse) = determinant_and_inverse(a);
        assert!((det - a.determinant()).abs() <= 1e-12 * det.abs().max(1.0));
        let expected = a.try_inverse().unwrap();
        assert!(
            (inverse - expected).norm() <= 1e-12 * expected.norm(),
            "{inverse} vs {expected}"
        );
    }

    #[test]
    fn agrees_with_nalgebra_at_every_size() {
        let mut rng = Rng::new(7);
        check(&Matrix1::new(-2.5));
        check(&rng.matrix::<2, 2>());
        for _ in 0..20 {
            check(&rng.matrix::<3, 3>());
        }
        check(&rng.well_conditioned::<4>());
        check(&rng.matrix::<6, 6>());
        let _: Matrix2<f64> = rng.matrix();
        let _: Matrix4<f64> = rng.matrix();
        let _: Matrix6<f64> = rng.matrix();
    }

    #[test]
    fn small_determinants_are_nalgebras_exactly() {
        let mut rng = Rng::new(8);
        let a = rng.matrix::<3, 3>();
        assert_eq!(determinant_and_inverse(&a).0, a.determinant());
    }

    #[test]
    #[should_panic(expected = "needs the inverse of the matrix, which is singular")]
    fn singular_3x3_panics_with_the_message() {
        let _ = determinant_and_inverse(&nalgebra::Matrix3::<f64>::zeros());
    }

    #[test]
    #[should_panic(expected = "needs the inverse of the matrix, which is singular")]
    fn singular_5x5_panics_with_the_message() {
        let _ = determinant_and_inverse(&SMatrix::<f64, 5, 5>::zeros());
    }
}
