//! The memory measurement, in a binary of its own whose global allocator counts (one test
//! only, so no other test allocates while it measures).

use sessile_bench::alloc_count::Counting;
use sessile_bench::measure;

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn memory_is_counted_for_both_stores() {
    let m = measure::measure_memory(4_000).unwrap();
    assert_eq!(m.live, 4_000);
    // The engine's heap is exactly what its Layout says (the engine struct itself lives on the stack).
    assert!(
        (m.sessile_measured - m.sessile_layout).abs() < 1.0,
        "counted {} vs layout {}",
        m.sessile_measured,
        m.sessile_layout
    );
    assert_eq!(m.sessile_fill_allocations, 0, "creates allocate nothing");
    // The naive store holds at least each ID's text (43 bytes) and its String header (24).
    assert!(m.naive_measured > 67.0, "naive {}", m.naive_measured);
}
