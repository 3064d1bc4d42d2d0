//! Every Jacobian benchmark workload of `benches/jacobians.rs` (issue 10, item 7): the
//! generated `*_value_and_jacobian`, `*_jacobian`, `*_jvp` and `*_vjp` agree with the
//! hand-written Jacobian, num-dual and central finite differences, column by column, at three
//! input seeds; and the generated functions never touch the heap.
//!
//! num-dual is built on nalgebra 0.35, so these run when matdiff is too (not under the
//! `nalgebra_v0_34` feature).
#![cfg(not(feature = "nalgebra_v0_34"))]

#[path = "../benches/jacobian_workloads/mod.rs"]
mod jacobian_workloads;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::assert_no_allocation;

use jacobian_workloads::{check, JacWorkload, Visitor, SEED};
use matdiff::nalgebra::SVector;
use matdiff::runtime::Rng;

/// Checks every workload it visits.
struct Checker;

impl Visitor for Checker {
    fn visit<const M: usize, const N: usize, W: JacWorkload<M, N>>(&mut self) {
        for seed in [SEED, 1, 7] {
            let w = W::new(&mut Rng::new(seed));
            let agreement = check(&w);
            eprintln!("{} (seed {seed}): {agreement:?}", W::ID);
            assert_no_allocation(&format!("{} value_and_jacobian", W::ID), || w.gen_vj());
            assert_no_allocation(&format!("{} jacobian", W::ID), || w.gen_j());
            let (v, u) = (
                SVector::<f64, N>::repeat(0.5),
                SVector::<f64, M>::repeat(0.5),
            );
            assert_no_allocation(&format!("{} jvp", W::ID), || w.gen_jvp(&v));
            assert_no_allocation(&format!("{} vjp", W::ID), || w.gen_vjp(&u));
        }
    }
}

#[test]
fn rat43() {
    Checker.visit::<15, 4, jacobian_workloads::Rat43>();
}

#[test]
fn arm() {
    Checker.visit::<2, 2, jacobian_workloads::Arm>();
}

#[test]
fn reprojection() {
    Checker.visit::<2, 6, jacobian_workloads::Reprojection>();
}

#[test]
fn curve() {
    Checker.visit::<{ jacobian_workloads::CURVE_POINTS }, 2, jacobian_workloads::Curve>();
}

/// `visit_all` reaches every workload (the bench's list is the tests' list).
#[test]
fn visit_all_covers_the_tests() {
    struct Count(usize);
    impl Visitor for Count {
        fn visit<const M: usize, const N: usize, W: JacWorkload<M, N>>(&mut self) {
            self.0 += 1;
        }
    }
    let mut count = Count(0);
    jacobian_workloads::visit_all(&mut count);
    assert_eq!(count.0, 4);
}
