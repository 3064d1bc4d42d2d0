//! A counting global allocator, shared by the test binaries that check generated code never
//! touches the heap. Include it with `#[path = "common/counting_alloc.rs"] mod counting_alloc;`:
//! it installs itself as the binary's `#[global_allocator]`.
#![allow(
    unsafe_code,
    reason = "a counting global allocator must implement the unsafe `GlobalAlloc` trait"
)]
#![allow(dead_code, reason = "each test binary uses the helpers it needs")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

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
    let enabled = ENABLED.try_with(Cell::get).unwrap_or(false);
    if enabled {
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

/// Runs `f` and returns its result and the number of heap allocations it made on this thread.
pub fn allocations_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    COUNT.with(|c| c.set(0));
    ENABLED.with(|e| e.set(true));
    let result = black_box(f());
    ENABLED.with(|e| e.set(false));
    (result, COUNT.with(Cell::get))
}

/// Asserts that `f` makes no heap allocation.
#[track_caller]
pub fn assert_no_allocation<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let (result, count) = allocations_during(f);
    assert_eq!(count, 0, "{what} allocated {count} time(s)");
    result
}
