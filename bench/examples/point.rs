//! One point of the core benchmark (validate and sweep, both stores) at the live counts
//! given: `point 10000 1000000`. For quick experiments while profiling; the published
//! figures come from `make bench-core` only.

use sessile_bench::measure::{self, Params};

fn main() {
    let params = Params::full();
    let mut flush = vec![0u8; params.flush_bytes];
    let mut now = 1_000;
    // Each point after the first also sweeps the first point's engine in its rounds.
    let mut first = None;
    for a in std::env::args().skip(1) {
        let live: usize = a.parse().expect("a live count");
        let (p, fixture) =
            measure::run_point(live, false, &params, &mut now, &mut flush, first.as_mut());
        println!(
            "{live:>9} live: validate {:.0} / {:.0} ns ({:.2}x), sweep {:.1} / {:.1} µs",
            p.sessile.validate_ns,
            p.naive.validate_ns,
            p.ratio.validate,
            p.sessile.sweep_us,
            p.naive.sweep_us
        );
        if let Some(g) = p.growth {
            println!(
                "           sweep growth from {} live in the same rounds: {:.1} -> {:.1} µs ({:.2}x)",
                g.small_live, g.small_us, g.large_us, g.ratio
            );
        }
        first.get_or_insert(fixture);
    }
}
