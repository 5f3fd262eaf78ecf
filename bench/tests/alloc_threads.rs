//! The counting allocator counts the measuring thread's heap only: an allocation another
//! thread makes meanwhile (the test harness's own thread, say) must not land in a
//! measurement. Before the counters were per thread, `memory.rs` failed now and then on a
//! loaded machine ("counted 98.139 vs layout 97").

use std::sync::{Arc, Barrier};

use sessile_bench::alloc_count::{self, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn another_threads_allocation_is_not_counted_here() {
    assert!(alloc_count::installed());
    // The other thread runs before the measurement starts, and allocates 4 KiB inside it
    // (between the barriers), which it keeps past the measurement's end.
    let start = Arc::new(Barrier::new(2));
    let done = Arc::new(Barrier::new(2));
    let (s, d) = (Arc::clone(&start), Arc::clone(&done));
    let other = std::thread::spawn(move || {
        s.wait();
        let kept = std::hint::black_box(vec![1u8; 4096]);
        d.wait();
        kept.len()
    });

    let before = alloc_count::current_bytes();
    let calls = alloc_count::calls();
    start.wait();
    done.wait();
    assert_eq!(
        alloc_count::current_bytes(),
        before,
        "bytes moved by another thread"
    );
    assert_eq!(alloc_count::calls(), calls, "calls moved by another thread");

    // This thread's own allocation is counted, and its free too.
    let mine = std::hint::black_box(vec![2u8; 1000]);
    assert_eq!(alloc_count::current_bytes(), before.wrapping_add(1000));
    assert_eq!(alloc_count::calls(), calls + 1);
    drop(mine);
    assert_eq!(alloc_count::current_bytes(), before);
    assert_eq!(other.join().unwrap(), 4096);
}
