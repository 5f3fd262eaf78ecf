//! The table (stdout and `docs/bench-core.md`) and the verdict on each target.

use std::fmt::Write as _;

use crate::measure::{Costs, DigestCosts, Memory, Params, Point, Ratios};

/// Target (issue 17): sessile's validate at the large count within this factor of the naive
/// lookup.
pub const VALIDATE_RATIO_MAX: f64 = 1.0;
/// Target (issue 17): sessile's validate at the small count within this factor of the naive
/// lookup.
pub const VALIDATE_SMALL_RATIO_MAX: f64 = 1.5;
/// Target: sessile's sweep at the large count within this factor of the small count.
pub const SWEEP_GROWTH_MAX: f64 = 1.5;
/// Target: bytes per session besides payload.
pub const BYTES_PER_SESSION_MAX: f64 = 96.0;

/// Everything one run measured.
#[derive(Clone, Debug)]
pub struct Results {
    /// What was run.
    pub params: Params,
    /// One point per live count, ascending.
    pub points: Vec<Point>,
    /// Memory per session.
    pub memory: Memory,
    /// Digest primitives.
    pub digest: DigestCosts,
    /// CPU and core count.
    pub machine: String,
    /// UTC date of the run.
    pub date: String,
    /// Wall time of the whole run (s).
    pub seconds: f64,
}

/// One target and whether this run met it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What is promised.
    pub goal: String,
    /// What was measured.
    pub measured: String,
    /// Met or not.
    pub met: bool,
}

/// `1234567` -> `1,234,567`.
pub fn fmt_count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in ns, in the unit that reads best.
pub fn fmt_ns(ns: f64) -> String {
    let (v, unit) = if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}x")
    } else if r >= 0.1 {
        format!("{r:.2}x")
    } else {
        format!("{r:.3}x")
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**NOT met**" }
}

fn point(r: &Results, live: usize) -> Result<&Point, String> {
    r.points
        .iter()
        .find(|p| p.live == live)
        .ok_or_else(|| format!("no measurement at {live} live sessions"))
}

/// The verdict on each of the four targets.
pub fn targets(r: &Results) -> Result<Vec<Target>, String> {
    let [small, large] = r.params.table_at;
    let (ps, pl) = (point(r, small)?, point(r, large)?);
    let v = pl.ratio.validate;
    let vs = ps.ratio.validate;
    let g = pl.growth.ok_or_else(|| {
        format!(
            "no sweep growth at {large} live (the {small}-live engine must be swept in its rounds)"
        )
    })?;
    let gs = g.ratio;
    let gn = pl.naive.sweep_us / ps.naive.sweep_us;
    let bytes = r.memory.sessile_layout.max(r.memory.sessile_measured);
    Ok(vec![
        Target {
            goal: format!(
                "validate at {} live within {VALIDATE_RATIO_MAX}x of the naive lookup",
                fmt_count(large)
            ),
            measured: format!(
                "{} vs {}: {}",
                fmt_ns(pl.sessile.validate_ns),
                fmt_ns(pl.naive.validate_ns),
                fmt_ratio(v)
            ),
            met: v <= VALIDATE_RATIO_MAX,
        },
        Target {
            goal: format!(
                "validate at {} live within {VALIDATE_SMALL_RATIO_MAX}x of the naive lookup",
                fmt_count(small)
            ),
            measured: format!(
                "{} vs {}: {}{}",
                fmt_ns(ps.sessile.validate_ns),
                fmt_ns(ps.naive.validate_ns),
                fmt_ratio(vs),
                ps.warm.map_or(String::new(), |w| format!(
                    " (each store warm, not the target's measure: {} vs {}: {})",
                    fmt_ns(w.sessile_ns),
                    fmt_ns(w.naive_ns),
                    fmt_ratio(w.ratio)
                ))
            ),
            met: vs <= VALIDATE_SMALL_RATIO_MAX,
        },
        Target {
            goal: format!(
                "sweep of {} expired within {SWEEP_GROWTH_MAX}x whether {} or {} are live",
                fmt_count(r.params.expiring),
                fmt_count(small),
                fmt_count(large)
            ),
            measured: format!(
                "sessile {} -> {}: {}, swept in the same rounds (at their own points {} -> {} = {}; \
                 naive {} -> {} = {})",
                fmt_ns(g.small_us * 1e3),
                fmt_ns(g.large_us * 1e3),
                fmt_ratio(gs),
                fmt_ns(ps.sessile.sweep_us * 1e3),
                fmt_ns(pl.sessile.sweep_us * 1e3),
                fmt_ratio(pl.sessile.sweep_us / ps.sessile.sweep_us),
                fmt_ns(ps.naive.sweep_us * 1e3),
                fmt_ns(pl.naive.sweep_us * 1e3),
                fmt_ratio(gn)
            ),
            met: gs <= SWEEP_GROWTH_MAX,
        },
        Target {
            goal: format!("at most {BYTES_PER_SESSION_MAX:.0} bytes per session besides payload"),
            measured: format!(
                "{:.1} B (Layout) / {:.1} B (counted)",
                r.memory.sessile_layout, r.memory.sessile_measured
            ),
            met: bytes <= BYTES_PER_SESSION_MAX,
        },
    ])
}

fn op_rows(
    out: &mut String,
    name: &str,
    live: usize,
    s: Option<f64>,
    n: Option<f64>,
    r: Option<f64>,
) {
    if let (Some(s), Some(n), Some(r)) = (s, n, r) {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            fmt_count(live),
            fmt_ns(s),
            fmt_ns(n),
            fmt_ratio(r)
        );
    }
}

/// The operations table (markdown), at the two table counts.
pub fn ops_table(r: &Results) -> Result<String, String> {
    let mut out = String::new();
    out.push_str(
        "| operation | live sessions | sessile | naive | sessile / naive (median of rounds) |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|\n");
    let pts: Vec<&Point> = r
        .params
        .table_at
        .iter()
        .map(|&l| point(r, l))
        .collect::<Result<_, _>>()?;
    type Get = fn(&Costs) -> Option<f64>;
    type GetR = fn(&Ratios) -> Option<f64>;
    let ops: [(&str, Get, GetR); 4] = [
        ("create", |c| c.create_ns, |r| r.create),
        ("validate", |c| Some(c.validate_ns), |r| Some(r.validate)),
        ("rotate", |c| c.rotate_ns, |r| r.rotate),
        ("logout", |c| c.logout_ns, |r| r.logout),
    ];
    for (name, get, get_r) in ops {
        for p in &pts {
            op_rows(
                &mut out,
                name,
                p.live,
                get(&p.sessile),
                get(&p.naive),
                get_r(&p.ratio),
            );
        }
    }
    let sweep = format!("sweep ({} expired)", fmt_count(r.params.expiring));
    for p in &pts {
        op_rows(
            &mut out,
            &sweep,
            p.live,
            Some(p.sessile.sweep_us * 1e3),
            Some(p.naive.sweep_us * 1e3),
            Some(p.ratio.sweep),
        );
    }
    Ok(out)
}

/// The memory table (markdown).
pub fn memory_table(m: &Memory) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| bytes per live session ({} live, no payload) | sessile | naive | sessile / naive |",
        fmt_count(m.live)
    );
    out.push_str("|---|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| `sessile::Layout::bytes_per_session` | {:.1} | | |",
        m.sessile_layout
    );
    let _ = writeln!(
        out,
        "| counting allocator | {:.1} | {:.1} | {} |",
        m.sessile_measured,
        m.naive_measured,
        fmt_ratio(m.sessile_measured / m.naive_measured)
    );
    out
}

/// Where sessile's bytes per session go, region by region (`Layout` of the memory
/// measurement's config), as one markdown sentence.
pub fn memory_breakdown(live: usize) -> String {
    use sessile::{Layout, Link, Slot, Tombstone};
    use std::mem::size_of;
    let config = crate::stores::sessile_config(u32::try_from(live).unwrap_or(u32::MAX));
    let l = Layout::of(&config);
    let per = |bytes: usize| bytes as f64 / l.slots.max(1) as f64;
    format!(
        "Where they go: the session record (`Slot`) {:.1} B, the token index {:.1} B, the \
         principal index {:.1} B, the timing wheel's links {:.1} B, the remembered dead \
         tokens (ring and index) {:.1} B, the event ring {:.2} B; the address sets {:.1} B \
         (a config that counts addresses, `max_addresses` above 0, adds {} B).",
        per(l.slots * size_of::<Slot>()),
        per(l.index * 4),
        per(l.principals * 4),
        per(l.links * size_of::<Link>()),
        per(l.tombstones * size_of::<Tombstone>() + l.tombstone_index * 4),
        per(l.events * size_of::<sessile::Event>()),
        per(l.addresses * size_of::<sessile::Addresses>()),
        size_of::<sessile::Addresses>(),
    )
}

/// The targets table (markdown).
pub fn targets_table(ts: &[Target]) -> String {
    let mut out = String::from("| target | measured | verdict |\n|---|---|---|\n");
    for t in ts {
        let _ = writeln!(out, "| {} | {} | {} |", t.goal, t.measured, verdict(t.met));
    }
    out
}

/// The digest primitives table (markdown), with what they mean for validate.
pub fn digest_table(r: &Results) -> Result<String, String> {
    let d = &r.digest;
    let mut out = String::from("| primitive | ns per call |\n|---|---:|\n");
    let _ = writeln!(
        out,
        "| sessile's token digest (HChaCha8, written out in `token.rs`: `Digest::of`) | {:.1} |",
        d.sessile_ns
    );
    let _ = writeln!(
        out,
        "| HChaCha20 (the `chacha20` crate's; sessile's digest before issue 17) | {:.1} |",
        d.hchacha20_ns
    );
    let _ = writeln!(out, "| HChaCha12 (the crate's) | {:.1} |", d.hchacha12_ns);
    let _ = writeln!(out, "| HChaCha8 (the crate's) | {:.1} |", d.hchacha8_ns);
    let _ = writeln!(
        out,
        "| SipHash-1-3 of a 43-character ID (std `HashMap`, the naive store's hash) | {:.1} |",
        d.siphash_id_ns
    );
    // Both table points: the small one is where validate's fixed costs (decode, digest,
    // tag) weigh most against the naive lookup; the large one adds the cache misses.
    for live in r.params.table_at {
        let pl = point(r, live)?;
        let Some(paths) = pl.paths else { continue };
        let v = pl.sessile.validate_ns;
        let _ = writeln!(
            out,
            "\nsessile's validate at {} live, taken apart through its public API:\n",
            fmt_count(pl.live)
        );
        out.push_str("| step | ns per call | share |\n|---|---:|---:|\n");
        let rows = [
            (
                "call + base64url decode (a token rejected at its last character)",
                paths.malformed_ns,
            ),
            (
                "token digest (HChaCha8, microbenchmark above)",
                d.sessile_ns,
            ),
            (
                "the rest: index lookup, digest compare, touch, `Session` snapshot with its tag",
                v - paths.malformed_ns - d.sessile_ns,
            ),
        ];
        for (name, ns) in rows {
            let _ = writeln!(out, "| {name} | {ns:.0} | {:.0}% |", 100.0 * ns / v);
        }
        let _ = writeln!(out, "| whole validate | {v:.0} | 100% |");
        let _ = writeln!(
            out,
            "\nA well-formed token that names nothing (decode, digest, an index miss and a \
             tombstone miss) costs {:.0} ns.",
            paths.unknown_ns
        );
    }
    Ok(out)
}

/// The whole `docs/bench-core.md`.
pub fn markdown(r: &Results) -> Result<String, String> {
    let p = &r.params;
    let ts = targets(r)?;
    let mut out = String::new();
    out.push_str("# Core benchmarks\n\n");
    out.push_str(
        "<!-- Written by `make bench-core` (bench/src/main.rs); do not edit by hand. -->\n\n",
    );
    let _ = writeln!(
        out,
        "sessile against a naive store (`std::collections::HashMap<String, _>`, 32-byte IDs from \
         `getrandom` in base64url, a linear scan for expiry), both measured in the same run. \
         Measured {} on {}; the whole run took {:.0} s.\n",
        r.date, r.machine, r.seconds
    );
    out.push_str("![validate and sweep cost against live sessions, sessile and the naive store](bench-core.png)\n\n");
    out.push_str("## Operations\n\n");
    out.push_str(&ops_table(r)?);
    out.push_str("\n## Memory\n\n");
    out.push_str(&memory_table(&r.memory));
    let _ = writeln!(
        out,
        "\nsessile allocates everything in `Engine::new` (payload pool excluded above); filling it \
         with {} sessions made {} allocation calls. The naive figure counts requested bytes \
         only (no allocator headers or size-class rounding) and no payload.",
        fmt_count(r.memory.live),
        r.memory.sessile_fill_allocations
    );
    let _ = writeln!(out, "\n{}", memory_breakdown(r.memory.live));
    out.push_str("\n## Targets\n\n");
    out.push_str(&targets_table(&ts));
    out.push_str("\n## Where validate's time goes\n\n");
    out.push_str(&digest_table(r)?);
    out.push_str("\n## Method\n\n");
    let _ = writeln!(
        out,
        "- Hand-written harness (`bench/src/measure.rs`), release build. Alternating batches, \
         median of {} rounds: every round times a batch of sessile and then one of the naive \
         store, after one discarded warm-up round. Each time is the median of its store's \
         batches; each ratio is the median of the rounds' own ratios, of two batches timed next \
         to each other. The order is the same in every round, so every batch follows a batch of \
         the other store: swapping it every other round (as before issue 17's measurement \
         work) made half of each store's batches follow their own, with their data still \
         cached, and each store's median fell on either side of that split from run to run.",
        p.repeats
    );
    out.push_str(
        "- validate with each store warm (in the targets, for comparison, not the target's \
         measure): every timed batch follows an untimed batch of the same store over the same \
         tokens. The naive store, whose sessions take more memory, gains more from it.\n",
    );
    out.push_str(
        "- Time is the benchmark thread's CPU time (user + system, `CLOCK_THREAD_CPUTIME_ID`), so \
         time the scheduler gives other processes on a shared machine is not counted, while \
         every system call a store makes (the naive store's `getrandom`) is.\n",
    );
    let _ = writeln!(
        out,
        "- validate: {} lookups per round of tokens drawn uniformly at random from the live \
         sessions (so at 1,000,000 live they miss the caches); each validation also touches the \
         session, as in a real request. Inputs are laid out back to back before timing.",
        fmt_count(p.lookups)
    );
    let _ = writeln!(
        out,
        "- create, rotate, logout: {} operations per round (rotate and logout on distinct random \
         sessions); sessions created are logged out, and logged-out ones replaced, untimed, so the \
         live count holds.",
        fmt_count(p.batch)
    );
    let _ = writeln!(
        out,
        "- sweep: each round adds {} sessions with a {} ms idle timeout beside the live ones \
         (30 min idle), lets them expire, evicts the caches ({} MiB touched) and times one sweep, \
         which must reclaim exactly those. Both stores have their caches evicted the same way. \
         The sweep's growth is the median of per-round ratios: at the large table point, the \
         small table point's engine (kept from its own rounds) is swept in every round too, \
         just before the large one.",
        fmt_count(p.expiring),
        crate::measure::SWEEP_IDLE_MS,
        p.flush_bytes >> 20
    );
    out.push_str(
        "- sessile: `Engine::new` with the default config and capacity = live + headroom for one \
         round; the naive map is created with the same capacity, so neither grows while timed.\n",
    );
    out.push_str(
        "- Memory: an engine of exactly that capacity, full, against a naive map of as many \
         sessions, measured with a counting global allocator (switched off before timing).\n",
    );
    Ok(out)
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Civil-from-days (H. Hinnant).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// CPU model and core count, from `/proc/cpuinfo` where there is one.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores")
}
