//! A counting global allocator, to measure what a store really asks the heap for.
//!
//! A binary opts in with `#[global_allocator] static A: Counting = Counting;`. Counting is
//! on from the start (so every block allocated before a measurement is matched by its
//! free) and can be switched off for the timed part of a run, where the naive store, which
//! allocates on every create and rotate, should not pay for the bookkeeping.
//! Requested bytes are counted, not the allocator's rounding and headers, which understates
//! the naive store (it makes one small allocation per session) rather than sessile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

static ON: AtomicBool = AtomicBool::new(true);
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static CALLS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting live bytes and allocation calls while counting is on.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`; the counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            CURRENT.fetch_add(layout.size(), Relaxed);
            CALLS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            CURRENT.fetch_add(layout.size(), Relaxed);
            CALLS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Relaxed) {
            CURRENT.fetch_sub(layout.size(), Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && ON.load(Relaxed) {
            CURRENT.fetch_sub(layout.size(), Relaxed);
            CURRENT.fetch_add(new_size, Relaxed);
            CALLS.fetch_add(1, Relaxed);
        }
        p
    }
}

/// Bytes currently allocated (while counting is on).
pub fn current_bytes() -> usize {
    CURRENT.load(Relaxed)
}

/// Allocation calls so far (while counting is on).
pub fn calls() -> u64 {
    CALLS.load(Relaxed)
}

/// Stop counting for the rest of the process. Counts read afterwards are meaningless.
pub fn stop() {
    ON.store(false, Relaxed);
}

/// True when [`Counting`] is this process's global allocator and still counting.
pub fn installed() -> bool {
    if !ON.load(Relaxed) {
        return false;
    }
    let before = calls();
    let b = std::hint::black_box(Box::new([0u8; 64]));
    drop(b);
    calls() > before
}
