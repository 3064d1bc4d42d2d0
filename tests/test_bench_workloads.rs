//! Every benchmark workload of `benches/` (issue 5): the generated `*_value_and_grad` and
//! `*_hvp` agree with the hand-written derivatives, num-dual and central finite differences,
//! and they never touch the heap (a counting global allocator sees no allocation during the
//! calls).
#![allow(
    unsafe_code,
    reason = "a counting global allocator must implement the unsafe `GlobalAlloc` trait"
)]

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use matdiff::runtime::Rng;
use workloads::{check_columns, Flat, Workload, SEED};

/// Wraps the system allocator and counts the allocations made by the current thread while
/// its counting flag is set.
struct Counting;

thread_local! {
    /// Whether allocations on this thread are being counted.
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    /// Allocations counted on this thread.
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn record() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    if ENABLED.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// bookkeeping touches only const-initialised thread-locals, which do not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded from the caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: `ptr` was allocated by `System` (through this wrapper) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this wrapper) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and panics if it allocated on this thread.
#[track_caller]
fn assert_no_allocation<R>(what: &str, f: impl FnOnce() -> R) {
    COUNT.with(|c| c.set(0));
    ENABLED.with(|e| e.set(true));
    let result = black_box(f());
    ENABLED.with(|e| e.set(false));
    drop(result);
    let count = COUNT.with(Cell::get);
    assert_eq!(count, 0, "{what} allocated {count} time(s)");
}

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
