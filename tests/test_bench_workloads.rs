//! Every benchmark workload of `benches/` (issue 5): the generated `*_value_and_grad` and
//! `*_hvp` agree with the hand-written derivatives, num-dual and central finite differences,
//! and they never touch the heap (a counting global allocator sees no allocation during the
//! calls).
//!
//! num-dual is built on nalgebra 0.35, so these run when matdiff is too (not under the
//! `nalgebra_v0_34` feature).
#![cfg(not(feature = "nalgebra_v0_34"))]

#[path = "../benches/workloads/mod.rs"]
mod workloads;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::assert_no_allocation;

use matdiff::runtime::Rng;
use workloads::{check_columns, Flat, Workload, SEED};

/// Checks the columns of `W` against each other on three input seeds (num-dual on the first
/// only, and not for the 2688 parameters of the large MLP, whose one-pass-per-parameter
/// num-dual columns take seconds in debug builds), then that the generated functions do not
/// allocate. Runs on a thread with a large stack: the num-dual columns hold matrices of
/// vector duals (up to 100 derivatives each), which debug builds keep on the stack.
fn run<W: Workload>() {
    std::thread::Builder::new()
        .name(W::ID.into())
        .stack_size(256 << 20)
        .spawn(|| {
            for seed in [SEED, 1, 7] {
                let w = W::new(&mut Rng::new(seed));
                let num_dual = seed == SEED && w.point().dim() <= 100;
                check_columns(&w, num_dual);
                assert_no_allocation(&format!("{} value_and_grad", W::ID), || w.gen_vg());
                assert_no_allocation(&format!("{} hvp", W::ID), || w.gen_hvp());
                let p = w.point();
                assert_no_allocation(&format!("{} grad", W::ID), || w.grad_at(&p));
                assert_no_allocation(&format!("{} f", W::ID), || w.f());
            }
        })
        .expect("spawn the test thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// `xᵀAx`, n = 3.
#[test]
fn quad3() {
    run::<workloads::Quad3>();
}

/// `xᵀAx`, n = 10.
#[test]
fn quad10() {
    run::<workloads::Quad10>();
}

/// `xᵀAx`, n = 30.
#[test]
fn quad30() {
    run::<workloads::Quad30>();
}

/// `tr(XᵀAXB)`, 3×3.
#[test]
fn trquad3() {
    run::<workloads::TrQuad3>();
}

/// `tr(XᵀAXB)`, 10×10.
#[test]
fn trquad10() {
    run::<workloads::TrQuad10>();
}

/// `‖Xw − y‖²`, 5×3.
#[test]
fn lsq5x3() {
    run::<workloads::Lsq5x3>();
}

/// `‖Xw − y‖²`, 100×10.
#[test]
fn lsq100x10() {
    run::<workloads::Lsq100x10>();
}

/// `ln det A`, 3×3.
#[test]
fn logdet3() {
    run::<workloads::LogDet3>();
}

/// `ln det A`, 8×8.
#[test]
fn logdet8() {
    run::<workloads::LogDet8>();
}

/// The MLP 4-8-2.
#[test]
fn mlp4_8_2() {
    run::<workloads::Mlp4_8_2>();
}

/// The MLP 32-64-10.
#[test]
fn mlp32_64_10() {
    run::<workloads::Mlp32_64_10>();
}

#[test]
fn rosen_loop10() {
    run::<workloads::control_flow::RosenLoop10>();
}

#[test]
fn rosen_loop100() {
    run::<workloads::control_flow::RosenLoop100>();
}

#[test]
fn rosen_iter10() {
    run::<workloads::control_flow::RosenIter10>();
}

#[test]
fn rosen_iter100() {
    run::<workloads::control_flow::RosenIter100>();
}

#[test]
fn mpc50() {
    run::<workloads::control_flow::Mpc50>();
}

#[test]
fn huber100x5() {
    run::<workloads::control_flow::Huber100x5>();
}

#[test]
fn logistic200x5() {
    run::<workloads::control_flow::Logistic200x5>();
}

/// Gaussian negative log-density through `cholesky()`, 3×3.
#[test]
fn gauss3() {
    run::<workloads::linalg::Gauss3>();
}

/// Gaussian negative log-density through `cholesky()`, 8×8.
#[test]
fn gauss8() {
    run::<workloads::linalg::Gauss8>();
}

/// `‖A⁻¹b − c‖²` through `lu().solve()`, 3×3.
#[test]
fn solve3() {
    run::<workloads::linalg::Solve3>();
}

/// `‖A⁻¹b − c‖²` through `lu().solve()`, 8×8.
#[test]
fn solve8() {
    run::<workloads::linalg::Solve8>();
}

/// Lambertian shading of a triangle (a normalised cross product), with respect to its three
/// vertices.
#[test]
fn lambert_tri() {
    run::<workloads::geometry::LambertTri>();
}

/// The full Hessians of `benches/hessians.rs`: the generated `f_hessian` equals the closed form,
/// num-dual's and its own transpose to rounding and central differences of the gradient, on
/// three seeds, and does not allocate. On a thread with a large stack, as `run`'s.
#[test]
fn hessians() {
    use workloads::hessians::{check_hessian, visit_hessians, HessVisitor, HessWorkload};
    struct Check;
    impl HessVisitor for Check {
        fn visit<const N: usize, W: HessWorkload<N>>(&mut self) {
            for seed in [SEED, 1, 7] {
                let w = W::new(&mut Rng::new(seed));
                check_hessian(&w);
                assert_no_allocation(&format!("{} hessian", W::ID), || w.gen_h());
            }
        }
    }
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| visit_hessians(&mut Check))
        .expect("spawn the test thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}
