//! A counting global allocator, to measure what a store really asks the heap for.
//!
//! A binary opts in with `#[global_allocator] static A: Counting = Counting;`. Counting is
//! on from the start (so every block allocated before a measurement is matched by its
//! free) and can be switched off for the timed part of a run, where the naive store, which
//! allocates on every create and rotate, should not pay for the bookkeeping.
//! The counts are the calling thread's own: what another thread allocates meanwhile (a test
//! harness's thread, say) never lands in a measurement. A block one thread allocates and
//! another frees moves both threads' counts; a measurement keeps its blocks on its thread.
//! Requested bytes are counted, not the allocator's rounding and headers, which understates
//! the naive store (it makes one small allocation per session) rather than sessile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

static ON: AtomicBool = AtomicBool::new(true);

thread_local! {
    // Const-initialised, no destructor: reading them never allocates (the allocator
    // itself reads them). Wrapping, since a thread may free what another allocated.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

fn add(bytes: usize, calls: u64) {
    // `try_with`: during a thread's teardown the cells may be gone; nothing is counted then.
    let _ = CURRENT.try_with(|c| c.set(c.get().wrapping_add(bytes)));
    let _ = CALLS.try_with(|c| c.set(c.get().wrapping_add(calls)));
}

fn sub(bytes: usize) {
    let _ = CURRENT.try_with(|c| c.set(c.get().wrapping_sub(bytes)));
}

/// The system allocator, counting live bytes and allocation calls while counting is on.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`; the counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            add(layout.size(), 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            add(layout.size(), 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Relaxed) {
            sub(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && ON.load(Relaxed) {
            sub(layout.size());
            add(new_size, 1);
        }
        p
    }
}

/// Bytes this thread has allocated and not freed (while counting is on), modulo 2^64: a
/// thread that freed another's blocks may have wrapped below zero, so take differences
/// between two readings with `wrapping_sub`.
pub fn current_bytes() -> usize {
    CURRENT.with(Cell::get)
}

/// This thread's allocation calls so far (while counting is on).
pub fn calls() -> u64 {
    CALLS.with(Cell::get)
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
