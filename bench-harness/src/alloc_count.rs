//! The binary's global allocator: mimalloc, wrapped to count the allocations of one thread while
//! it asks (the `serial` scenario's allocations per encode and decode).
//!
//! Counting costs one relaxed atomic load per allocation when nobody counts; while a thread
//! counts, other threads' allocations are not counted (thread-local counter).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// mimalloc with an allocation counter.
pub struct CountingMimalloc;

/// Threads counting right now (0: skip the thread-local lookup).
static COUNTERS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // `const` initialisers without destructors: reading them never allocates, so the allocator
    // may use them.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

#[inline]
fn note() {
    if COUNTERS.load(Ordering::Relaxed) != 0 && COUNTING.with(Cell::get) {
        COUNT.with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every method forwards its arguments unchanged to mimalloc, which upholds the
// `GlobalAlloc` contract; counting touches only thread-local cells and an atomic.
unsafe impl GlobalAlloc for CountingMimalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged (the caller upholds `alloc`'s contract).
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged; `ptr` came from this allocator (mimalloc).
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator (mimalloc).
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
}

/// Heap allocations (allocs, zeroed allocs and reallocs) made by `f` on this thread, and its
/// result.
pub fn count<R>(f: impl FnOnce() -> R) -> (u64, R) {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    COUNTERS.fetch_add(1, Ordering::Relaxed);
    let r = f();
    COUNTERS.fetch_sub(1, Ordering::Relaxed);
    COUNTING.with(|c| c.set(false));
    (COUNT.with(Cell::get), r)
}
