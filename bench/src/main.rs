//! `make bench-core`: prints the table, writes `docs/bench-core.md` and draws
//! `docs/bench-core.png`.
//!
//! Usage: `sessile-bench [--quick] [--out DIR]` (`--quick`: toy sizes, seconds, written to
//! a temporary folder unless `--out` says otherwise; DIR defaults to the repository's `docs/`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sessile_bench::alloc_count::{self, Counting};
use sessile_bench::chart;
use sessile_bench::measure::{self, Params};
use sessile_bench::report::{self, Results, fmt_count};

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sessile-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut params = Params::full();
    let mut out_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => params = Params::quick(),
            "--out" => out_dir = Some(PathBuf::from(args.next().ok_or("--out needs a directory")?)),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (use --quick, --out DIR)"
                ));
            }
        }
    }
    // Toy-sized figures never overwrite the published ones unless asked to.
    let out_dir = out_dir.unwrap_or_else(|| {
        if params.memory_live < Params::full().memory_live {
            std::env::temp_dir().join("sessile-bench-quick")
        } else {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs"))
        }
    });
    let started = Instant::now();

    eprintln!(
        "memory: {} sessions per store",
        fmt_count(params.memory_live)
    );
    let memory = measure::measure_memory(params.memory_live)?;
    // Timing from here on: the naive store allocates per operation and must not pay for counting.
    alloc_count::stop();

    eprintln!("digest primitives");
    let digest = measure::digest_costs(200_000, 5);

    let mut series = params.series.clone();
    series.extend(params.table_at);
    series.sort_unstable();
    series.dedup();
    let mut flush = vec![0u8; params.flush_bytes];
    let mut now = 1_000;
    let mut points = Vec::new();
    // The small table point's engine, kept to be swept again in the large point's rounds.
    let mut small = None;
    for &live in &series {
        let t = Instant::now();
        let all = params.table_at.contains(&live);
        let peer = if live == params.table_at[1] {
            small.as_mut()
        } else {
            None
        };
        let (p, fixture) = measure::run_point(live, all, &params, &mut now, &mut flush, peer);
        if live == params.table_at[0] {
            small = Some(fixture);
        }
        eprintln!(
            "{:>9} live: validate {:.0} / {:.0} ns ({:.2}x), sweep {:.1} / {:.1} µs (sessile / naive) [{:.1} s]",
            fmt_count(live),
            p.sessile.validate_ns,
            p.naive.validate_ns,
            p.ratio.validate,
            p.sessile.sweep_us,
            p.naive.sweep_us,
            t.elapsed().as_secs_f64()
        );
        if let Some(w) = p.warm {
            eprintln!(
                "          each store warm: validate {:.0} / {:.0} ns ({:.2}x)",
                w.sessile_ns, w.naive_ns, w.ratio
            );
        }
        if let Some(g) = p.growth {
            eprintln!(
                "          sweep growth in the same rounds: {:.1} -> {:.1} µs ({:.2}x)",
                g.small_us, g.large_us, g.ratio
            );
        }
        points.push(p);
    }

    let results = Results {
        params,
        points,
        memory,
        digest,
        machine: report::machine(),
        date: report::utc_date(),
        seconds: started.elapsed().as_secs_f64(),
    };
    println!("\n{}", report::ops_table(&results)?);
    println!("{}", report::memory_table(&results.memory));
    println!("{}", report::targets_table(&report::targets(&results)?));
    println!("{}", report::digest_table(&results)?);

    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let md = out_dir.join("bench-core.md");
    std::fs::write(&md, report::markdown(&results)?)
        .map_err(|e| format!("{}: {e}", md.display()))?;
    let png = out_dir.join("bench-core.png");
    chart::draw(&results.points, results.params.expiring, &png)?;
    println!("wrote {} and {}", md.display(), png.display());
    Ok(())
}
