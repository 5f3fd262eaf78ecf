//! One point of the core benchmark (validate and sweep, both stores) at the live counts
//! given: `point 10000 1000000`. For quick experiments while profiling; the published
//! figures come from `make bench-core` only.

use sessile_bench::measure::{self, Params};

fn main() {
    let params = Params::full();
    let mut flush = vec![0u8; params.flush_bytes];
    let mut now = 1_000;
    for a in std::env::args().skip(1) {
        let live: usize = a.parse().expect("a live count");
        let p = measure::run_point(live, false, &params, &mut now, &mut flush);
        println!(
            "{live:>9} live: validate {:.0} / {:.0} ns ({:.2}x), sweep {:.1} / {:.1} µs",
            p.sessile.validate_ns,
            p.naive.validate_ns,
            p.sessile.validate_ns / p.naive.validate_ns,
            p.sessile.sweep_us,
            p.naive.sweep_us
        );
    }
}
