//! Matrix functions that generated code calls where nalgebra has no single call for what a
//! derivative needs.

use nalgebra::{Const, DimMin, RealField, SMatrix, LU};

/// What a singular matrix makes the derivative of a determinant report.
pub const SINGULAR: &str =
    "matdiff: the derivative of a determinant needs the inverse of the matrix, which is singular";

/// What a singular matrix makes the derivative of a linear solve report (the user's own solve
/// with the same matrix, evaluated first, reports it with the user's message).
pub const SINGULAR_SOLVE: &str =
    "matdiff: the derivative of a linear solve needs the inverse of the matrix, which is singular";

/// `A⁻ᵀ B` from the LU factorisation of `A` that `A⁻¹ B` used: the adjoint of a solve needs
/// the transposed system, and factorising `Aᵀ` again would double the cost. With `P A = L U`,
/// `Aᵀ = Uᵀ Lᵀ P`, so it solves `Uᵀ w = B`, `Lᵀ v = w` and returns `P⁻¹ v`; `None` where `A`
/// is singular (a zero pivot), as `lu.solve` does.
///
/// ```
/// use matdiff_runtime::lu_solve_transpose;
/// use matdiff_runtime::nalgebra::{Matrix3, Vector3};
///
/// let a = Matrix3::new(1.0, 2.0, 0.0, 3.0, 1.0, 1.0, 0.0, 4.0, 2.0);
/// let b = Vector3::new(1.0, -1.0, 2.0);
/// let x = lu_solve_transpose(&a.lu(), &b).unwrap();
/// assert!((a.transpose() * x - b).norm() < 1e-14);
/// ```
#[inline]
pub fn lu_solve_transpose<T, const N: usize, const K: usize>(
    lu: &LU<T, Const<N>, Const<N>>,
    b: &SMatrix<T, N, K>,
) -> Option<SMatrix<T, N, K>>
where
    T: RealField + Copy,
    Const<N>: DimMin<Const<N>, Output = Const<N>>,
{
    let mut x = *b;
    if !lu.u().tr_solve_upper_triangular_mut(&mut x) {
        return None;
    }
    // `l()` has the unit diagonal written out.
    lu.l().tr_solve_lower_triangular_mut(&mut x);
    lu.p().inv_permute_rows(&mut x);
    Some(x)
}

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
/// use matdiff_runtime::nalgebra::Matrix3;
///
/// let a = Matrix3::new(2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0);
/// let (det, inverse) = determinant_and_inverse(&a);
/// assert_eq!(det, a.determinant());
/// assert!((inverse * a - Matrix3::identity()).norm() < 1e-14);
/// ```
#[inline]
pub fn determinant_and_inverse<T, const N: usize>(a: &SMatrix<T, N, N>) -> (T, SMatrix<T, N, N>)
where
    T: RealField + Copy,
    Const<N>: DimMin<Const<N>, Output = Const<N>>,
{
    let (det, inverse_transpose) = determinant_and_inverse_transpose(a);
    (det, inverse_transpose.transpose())
}

/// The cofactor matrix of `a`, `cof(A) = adj(A)ᵀ`: the gradient of `det A`. It equals
/// `det(A) A⁻ᵀ` where `A` is invertible, and is finite everywhere; up to 3 x 3 it is computed
/// from its closed form, so a singular `A` has its true gradient (the cofactors of a rank
/// `n − 1` matrix are not all zero). Larger matrices go through `A⁻¹` where it exists, and
/// at a singular matrix each cofactor is computed as a determinant (Cramer's rule), so it
/// never panics.
///
/// ```
/// use matdiff_runtime::cofactor_matrix;
/// use matdiff_runtime::nalgebra::Matrix2;
///
/// // Singular, yet its cofactors are those of any 2x2 matrix: [d −c; −b a].
/// let a = Matrix2::new(1.0, 2.0, 2.0, 4.0);
/// assert_eq!(cofactor_matrix(&a), Matrix2::new(4.0, -2.0, -2.0, 1.0));
/// ```
#[inline]
pub fn cofactor_matrix<T, const N: usize>(a: &SMatrix<T, N, N>) -> SMatrix<T, N, N>
where
    T: RealField + Copy,
    Const<N>: DimMin<Const<N>, Output = Const<N>>,
{
    if N == 0 {
        return SMatrix::zeros();
    }
    if N <= 3 {
        return cofactors(a);
    }
    let lu = a.lu();
    let det = lu.determinant();
    if det != T::zero() {
        if let Some(inverse) = lu.try_inverse() {
            return inverse.transpose() * det;
        }
    }
    // Singular: no inverse, yet every cofactor is a determinant. By Cramer, the (i, j)
    // cofactor is the determinant of `A` with column j replaced by the unit vector e_i; each
    // is an LU of a copy of `A` on the stack (N² of them, only at a singular matrix).
    let mut c = SMatrix::<T, N, N>::zeros();
    for j in 0..N {
        for i in 0..N {
            let mut b = *a;
            b.column_mut(j).fill(T::zero());
            b[(i, j)] = T::one();
            c[(i, j)] = b.determinant();
        }
    }
    c
}

/// The determinant of `a` and the transpose of its inverse, `A⁻ᵀ`: the gradient of
/// `ln det A`, which a cofactor formula gives without a transpose.
///
/// # Panics
///
/// If `a` is singular, with the message [`SINGULAR`].
///
/// ```
/// use matdiff_runtime::determinant_and_inverse_transpose;
/// use matdiff_runtime::nalgebra::Matrix2;
///
/// let a = Matrix2::new(4.0, 1.0, 2.0, 3.0);
/// let (det, inverse_transpose) = determinant_and_inverse_transpose(&a);
/// assert_eq!(det, 10.0);
/// assert!((inverse_transpose - a.try_inverse().unwrap().transpose()).norm() < 1e-15);
/// ```
#[inline]
pub fn determinant_and_inverse_transpose<T, const N: usize>(
    a: &SMatrix<T, N, N>,
) -> (T, SMatrix<T, N, N>)
where
    T: RealField + Copy,
    Const<N>: DimMin<Const<N>, Output = Const<N>>,
{
    // The empty matrix: determinant 1 (the empty product), inverse empty.
    if N == 0 {
        return (T::one(), SMatrix::zeros());
    }
    if N > 3 {
        let lu = a.lu();
        let inverse = lu.try_inverse().expect(SINGULAR);
        return (lu.determinant(), inverse.transpose());
    }
    let cofactors = cofactors(a);
    // Expansion along the first row, in the order nalgebra's `determinant()` sums it, so the
    // two agree exactly.
    let mut det = a[(0, 0)] * cofactors[(0, 0)];
    for j in 1..N {
        det += a[(0, j)] * cofactors[(0, j)];
    }
    assert!(det != T::zero(), "{SINGULAR}");
    (det, cofactors * det.recip())
}

/// The cofactor matrix (`det A · A⁻ᵀ`) of a matrix of at most 3 x 3.
#[inline]
fn cofactors<T: RealField + Copy, const N: usize>(a: &SMatrix<T, N, N>) -> SMatrix<T, N, N> {
    let mut c = SMatrix::<T, N, N>::zeros();
    match N {
        1 => c[(0, 0)] = T::one(),
        2 => {
            c[(0, 0)] = a[(1, 1)];
            c[(0, 1)] = -a[(1, 0)];
            c[(1, 0)] = -a[(0, 1)];
            c[(1, 1)] = a[(0, 0)];
        }
        _ => {
            // The cofactor of (i, j) is the minor of the other two rows and columns taken
            // cyclically, which carries the sign (−1)^(i+j) by itself. Written out: a loop
            // with `%` is not unrolled as reliably.
            let m = |i: usize, j: usize| a[(i, j)];
            c[(0, 0)] = m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1);
            c[(0, 1)] = m(1, 2) * m(2, 0) - m(1, 0) * m(2, 2);
            c[(0, 2)] = m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0);
            c[(1, 0)] = m(2, 1) * m(0, 2) - m(2, 2) * m(0, 1);
            c[(1, 1)] = m(2, 2) * m(0, 0) - m(2, 0) * m(0, 2);
            c[(1, 2)] = m(2, 0) * m(0, 1) - m(2, 1) * m(0, 0);
            c[(2, 0)] = m(0, 1) * m(1, 2) - m(0, 2) * m(1, 1);
            c[(2, 1)] = m(0, 2) * m(1, 0) - m(0, 0) * m(1, 2);
            c[(2, 2)] = m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0);
        }
    }
    c
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
        let (det_t, inverse_transpose) = determinant_and_inverse_transpose(a);
        let (det, inverse) = determinant_and_inverse(a);
        assert_eq!(det, det_t);
        assert_eq!(inverse, inverse_transpose.transpose());
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
        for _ in 0..100 {
            let a = rng.matrix::<3, 3>();
            assert_eq!(determinant_and_inverse(&a).0, a.determinant());
            let b = rng.matrix::<2, 2>();
            assert_eq!(determinant_and_inverse(&b).0, b.determinant());
        }
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
