//! The harness: fixtures of N live sessions in both stores, one timed round per operation,
//! medians of interleaved repeats, and the memory and digest measurements.
//!
//! Method, in short: both stores hold the same number of live sessions and are measured in
//! alternating batches, sessile then naive in every round, so each batch starts after one of
//! the other store's (the same cache state for both; see `interleaved`); the first round of
//! every operation is a discarded warm-up; each time is the median of the remaining rounds
//! and each ratio the median of the rounds' own ratios (a round's two batches are timed
//! next to each other, so drift and neighbours' load hit both); the sweep's growth is
//! likewise the median of per-round ratios of the large and the small table point's engines,
//! swept in the same rounds; tokens are picked uniformly at random, so with a million sessions
//! lookups miss the caches as they would on a busy server; inputs are laid out contiguously
//! so that reading them costs the same for both stores. Time is the thread's CPU time
//! (user + system), so that rounds during which the scheduler ran other processes on a
//! shared machine are not inflated; it still includes every system call the store makes.

use std::hint::black_box;
use std::time::Duration;

use sessile::{Client, Engine, Layout, POOL_BLOCK, Store as _};

use crate::alloc_count;
use crate::naive::NaiveStore;
use crate::stores::{ABSOLUTE_MS, IDLE_MS, SessileStore, Store, TOKEN_CHARS, sessile_config};

/// Idle timeout of the sessions a sweep round makes expire.
pub const SWEEP_IDLE_MS: u32 = 1_000;

/// How much to measure.
#[derive(Clone, Debug)]
pub struct Params {
    /// Live-session counts for the chart (validate and sweep at each).
    pub series: Vec<usize>,
    /// The two counts of the table (every operation): small and large.
    pub table_at: [usize; 2],
    /// Validations per round.
    pub lookups: usize,
    /// Creates, rotations or logouts per round.
    pub batch: usize,
    /// Sessions expired per sweep round.
    pub expiring: usize,
    /// Timed rounds per operation (after one warm-up round).
    pub repeats: usize,
    /// Live sessions for the memory measurement.
    pub memory_live: usize,
    /// Bytes read between setting up a sweep and timing it, to evict the caches (0 = off).
    pub flush_bytes: usize,
}

impl Params {
    /// The published run: 10^3..10^6 live sessions, table at 10,000 and 1,000,000.
    pub fn full() -> Params {
        Params {
            series: vec![1_000, 3_162, 10_000, 31_623, 100_000, 316_228, 1_000_000],
            table_at: [10_000, 1_000_000],
            lookups: 100_000,
            batch: 1_000,
            expiring: 1_000,
            repeats: 21,
            memory_live: 1_000_000,
            flush_bytes: 64 << 20,
        }
    }

    /// A seconds-long run of the same code at toy sizes (tests, `--quick`).
    pub fn quick() -> Params {
        Params {
            series: vec![300, 1_000, 3_000],
            table_at: [300, 3_000],
            lookups: 3_000,
            batch: 50,
            expiring: 50,
            repeats: 3,
            memory_live: 3_000,
            flush_bytes: 1 << 20,
        }
    }
}

/// Per-operation cost of one store at one live count.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Costs {
    /// ns per create (table points only).
    pub create_ns: Option<f64>,
    /// ns per validate.
    pub validate_ns: f64,
    /// ns per rotate (table points only).
    pub rotate_ns: Option<f64>,
    /// ns per logout (table points only).
    pub logout_ns: Option<f64>,
    /// µs per sweep that reclaims `Params::expiring` sessions.
    pub sweep_us: f64,
}

/// sessile's validate path taken apart through its public API (ns per call), to see
/// where the time goes: a token whose last character is invalid costs the call and the
/// base64url decode; a well-formed unknown token adds the digest, an index miss and a
/// tombstone miss; a live token adds the touch and the `Session` snapshot instead.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ValidatePaths {
    /// Rejected at the last character: call + decode.
    pub malformed_ns: f64,
    /// Well-formed, names nothing: decode + digest + index and tombstone misses.
    pub unknown_ns: f64,
}

/// sessile / naive per operation: the median of the rounds' own ratios (each round times a
/// batch of each store, next to each other).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ratios {
    /// create (table points only).
    pub create: Option<f64>,
    /// validate.
    pub validate: f64,
    /// rotate (table points only).
    pub rotate: Option<f64>,
    /// logout (table points only).
    pub logout: Option<f64>,
    /// sweep.
    pub sweep: f64,
}

/// validate with each store warm: every timed batch follows an untimed batch of the same
/// store over the same tokens, instead of the other store's batch (table points only).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Warm {
    /// sessile, ns per validation (median of rounds).
    pub sessile_ns: f64,
    /// The naive store, ns per validation (median of rounds).
    pub naive_ns: f64,
    /// Median of the rounds' sessile / naive.
    pub ratio: f64,
}

/// The sweep's growth: the large table point's engine and the small one's (kept from its own
/// point), swept in the same rounds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Growth {
    /// Live sessions of the small engine.
    pub small_live: usize,
    /// µs per sweep of the small engine in these rounds (median).
    pub small_us: f64,
    /// µs per sweep of the large engine in these rounds (median).
    pub large_us: f64,
    /// Median of the rounds' large / small.
    pub ratio: f64,
}

/// Both stores at one live count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Live sessions (besides the ones a sweep round adds and reclaims).
    pub live: usize,
    /// sessile.
    pub sessile: Costs,
    /// The naive store.
    pub naive: Costs,
    /// sessile / naive, median of per-round ratios.
    pub ratio: Ratios,
    /// sessile's validate paths (table points only).
    pub paths: Option<ValidatePaths>,
    /// validate with each store warm (table points only).
    pub warm: Option<Warm>,
    /// The sweep's growth from a smaller engine swept in the same rounds (when one was given).
    pub growth: Option<Growth>,
}

/// SplitMix64: a fixed, fast generator for access order (not for tokens).
#[derive(Clone, Debug)]
pub struct Order(u64);

impl Order {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Order {
        Order(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// A point on this thread's CPU clock (user + system time).
#[derive(Clone, Copy, Debug)]
pub struct Stamp(Duration);

impl Stamp {
    /// Now, on this thread's CPU clock.
    pub fn now() -> Stamp {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux and
        // macOS both support. On failure `ts` stays zero, which `elapsed` turns into 0.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        Stamp(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    /// CPU time since this stamp.
    pub fn elapsed(self) -> Duration {
        Stamp::now().0.saturating_sub(self.0)
    }
}

/// Median of a non-empty sample.
pub fn median(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn per_op_ns(d: Duration, ops: usize) -> f64 {
    d.as_nanos() as f64 / ops.max(1) as f64
}

/// A store with `live` sessions and their tokens (contiguous, `TOKEN_CHARS` each).
pub struct Fixture<S> {
    /// The store.
    pub store: S,
    /// Token text of live session `i` at `i * TOKEN_CHARS`.
    pub ids: Vec<u8>,
}

impl<S: Store> Fixture<S> {
    /// Fill `store` with `live` sessions created at `now`.
    pub fn build(mut store: S, live: usize, now: u64) -> Fixture<S> {
        let mut ids = vec![0u8; live * TOKEN_CHARS];
        for out in ids.chunks_exact_mut(TOKEN_CHARS) {
            store.create(now, out);
        }
        assert_eq!(store.live(), live, "{}: fixture size", S::NAME);
        Fixture { store, ids }
    }

    fn len(&self) -> usize {
        self.ids.len() / TOKEN_CHARS
    }

    fn id(&self, i: usize) -> &[u8] {
        &self.ids[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS]
    }

    /// The tokens at `idx`, back to back, as one string (built before timing).
    fn inputs(&self, idx: &[usize]) -> String {
        let mut s = Vec::with_capacity(idx.len() * TOKEN_CHARS);
        for &i in idx {
            s.extend_from_slice(self.id(i));
        }
        String::from_utf8(s).expect("tokens are ASCII")
    }

    /// ns per validation of the sessions at `idx` (every one must be valid).
    pub fn validate_round(&mut self, idx: &[usize], now: u64) -> f64 {
        let inputs = self.inputs(idx);
        let start = Stamp::now();
        let mut ok = 0usize;
        for i in 0..idx.len() {
            let t = &inputs[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS];
            ok += usize::from(self.store.validate(black_box(t), now));
        }
        let took = start.elapsed();
        assert_eq!(ok, idx.len(), "{}: sampled tokens must validate", S::NAME);
        per_op_ns(took, idx.len())
    }

    /// ns per validation of tokens that must all be rejected (`inputs`: back to back).
    pub fn reject_round(&mut self, inputs: &str, now: u64) -> f64 {
        let n = inputs.len() / TOKEN_CHARS;
        let start = Stamp::now();
        let mut ok = 0usize;
        for i in 0..n {
            let t = &inputs[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS];
            ok += usize::from(self.store.validate(black_box(t), now));
        }
        let took = start.elapsed();
        assert_eq!(ok, 0, "{}: these tokens must be rejected", S::NAME);
        per_op_ns(took, n)
    }

    /// The live tokens at `idx` with their last character made invalid.
    pub fn malformed(&self, idx: &[usize]) -> String {
        let mut s = self.inputs(idx).into_bytes();
        for t in s.chunks_exact_mut(TOKEN_CHARS) {
            t[TOKEN_CHARS - 1] = b'.';
        }
        String::from_utf8(s).expect("tokens are ASCII")
    }

    /// ns per create of `n` sessions; they are logged out again afterwards (untimed).
    pub fn create_round(&mut self, n: usize, now: u64) -> f64 {
        let mut out = vec![0u8; n * TOKEN_CHARS];
        let start = Stamp::now();
        for o in out.chunks_exact_mut(TOKEN_CHARS) {
            self.store.create(now, o);
        }
        let took = start.elapsed();
        let made = String::from_utf8(out).expect("tokens are ASCII");
        for i in 0..n {
            let ok = self
                .store
                .logout(&made[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS], now);
            assert!(ok, "{}: a created session must log out", S::NAME);
        }
        per_op_ns(took, n)
    }

    /// ns per rotation of the (distinct) sessions at `idx`; new tokens replace the old.
    pub fn rotate_round(&mut self, idx: &[usize], now: u64) -> f64 {
        let inputs = self.inputs(idx);
        let mut out = vec![0u8; idx.len() * TOKEN_CHARS];
        let start = Stamp::now();
        let mut ok = 0usize;
        for (i, o) in out.chunks_exact_mut(TOKEN_CHARS).enumerate() {
            let t = &inputs[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS];
            ok += usize::from(self.store.rotate(black_box(t), now, o));
        }
        let took = start.elapsed();
        assert_eq!(ok, idx.len(), "{}: sampled sessions must rotate", S::NAME);
        for (k, &i) in idx.iter().enumerate() {
            self.ids[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS]
                .copy_from_slice(&out[k * TOKEN_CHARS..(k + 1) * TOKEN_CHARS]);
        }
        per_op_ns(took, idx.len())
    }

    /// ns per logout of the (distinct) sessions at `idx`; fresh sessions take their places
    /// afterwards (untimed), so the live count is kept.
    pub fn logout_round(&mut self, idx: &[usize], now: u64) -> f64 {
        let inputs = self.inputs(idx);
        let start = Stamp::now();
        let mut ok = 0usize;
        for i in 0..idx.len() {
            let t = &inputs[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS];
            ok += usize::from(self.store.logout(black_box(t), now));
        }
        let took = start.elapsed();
        assert_eq!(ok, idx.len(), "{}: sampled sessions must log out", S::NAME);
        for &i in idx {
            let mut fresh = [0u8; TOKEN_CHARS];
            self.store.create(now, &mut fresh);
            self.ids[i * TOKEN_CHARS..(i + 1) * TOKEN_CHARS].copy_from_slice(&fresh);
        }
        per_op_ns(took, idx.len())
    }

    /// Add `n` sessions that expire `SWEEP_IDLE_MS` after `now` (untimed set-up for a sweep).
    pub fn add_expiring(&mut self, n: usize, now: u64) {
        let mut scratch = [0u8; TOKEN_CHARS];
        for _ in 0..n {
            self.store.create_expiring(now, SWEEP_IDLE_MS, &mut scratch);
        }
    }

    /// µs for one sweep at `now`, which must reclaim exactly `expect` sessions.
    pub fn sweep_round(&mut self, now: u64, expect: usize, flush: &mut [u8]) -> f64 {
        evict_caches(flush);
        let start = Stamp::now();
        let n = self.store.sweep(black_box(now));
        let took = start.elapsed();
        assert_eq!(
            n,
            expect,
            "{}: sweep must reclaim exactly the expired",
            S::NAME
        );
        assert_eq!(
            self.store.live(),
            self.len(),
            "{}: live count after sweep",
            S::NAME
        );
        took.as_nanos() as f64 / 1_000.0
    }
}

/// Touch every cache line of `buf`, so what a sweep reads next comes from memory, as it
/// would after the server spent the sweep interval on other work.
pub fn evict_caches(buf: &mut [u8]) {
    let mut acc = 0u8;
    for line in buf.chunks_mut(64) {
        line[0] = line[0].wrapping_add(1);
        acc ^= line[0];
    }
    black_box(acc);
}

/// `k` distinct indices below `perm.len()` (a partial Fisher–Yates shuffle of `perm`).
pub fn distinct(perm: &mut [usize], k: usize, order: &mut Order) -> Vec<usize> {
    let k = k.min(perm.len());
    for i in 0..k {
        let j = i + order.below(perm.len() - i);
        perm.swap(i, j);
    }
    perm[..k].to_vec()
}

/// The two fixtures and everything a point's rounds share.
struct Pair {
    s: Fixture<SessileStore>,
    n: Fixture<NaiveStore>,
    perm: Vec<usize>,
}

/// Median of the ratios `a[i] / b[i]`.
pub fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    median(&r)
}

/// Run `f(sessile)` and then `f(naive)` once per repeat after one warm-up round; returns the
/// two medians and the median of the rounds' ratios.
///
/// The order is the same in every round, so every timed batch follows a batch of the other
/// store (a round's naive batch follows its sessile one, the next round's sessile batch this
/// naive one) and starts with the caches in the same kind of state. Swapping the order every
/// other round (as this harness did before) made half of each store's batches follow a
/// batch of their own, with their data still cached: at 10,000 live the naive lookup took
/// about 52 ns after its own batch and 80 ns after sessile's, sessile 88 and 100 ns, and
/// each store's median of 11 fell on one side or the other of that split from run to run
/// (the validate ratio 1.33x-1.79x with the same instruction counts).
fn interleaved(
    repeats: usize,
    pair: &mut Pair,
    mut prepare: impl FnMut(&mut Pair) -> Vec<usize>,
    mut fs: impl FnMut(&mut Fixture<SessileStore>, &[usize]) -> f64,
    mut fnaive: impl FnMut(&mut Fixture<NaiveStore>, &[usize]) -> f64,
) -> (f64, f64, f64) {
    let mut a = Vec::with_capacity(repeats);
    let mut b = Vec::with_capacity(repeats);
    for r in 0..=repeats {
        let idx = prepare(pair);
        let x = fs(&mut pair.s, &idx);
        let y = fnaive(&mut pair.n, &idx);
        if r > 0 {
            a.push(x);
            b.push(y);
        }
    }
    (median(&a), median(&b), median_ratio(&a, &b))
}

/// Measure both stores with `live` sessions: validate and sweep always, create, rotate and
/// logout too when `all_ops`. `now` is the run's clock (ms), advanced as rounds go by.
/// `small`, if given, is a smaller point's sessile fixture: it is swept in the same rounds,
/// for the sweep's growth. Returns the point and its sessile fixture (the naive one is
/// dropped).
pub fn run_point(
    live: usize,
    all_ops: bool,
    p: &Params,
    now: &mut u64,
    flush: &mut [u8],
    mut small: Option<&mut Fixture<SessileStore>>,
) -> (Point, Fixture<SessileStore>) {
    assert!(live > 0, "a point needs live sessions");
    // Headroom: a create round's batch plus a sweep round's expiring sessions.
    let capacity = live + p.batch + p.expiring + 16;
    let s = Fixture::build(SessileStore::new(capacity), live, *now);
    let n = Fixture::build(NaiveStore::new(IDLE_MS, ABSOLUTE_MS, capacity), live, *now);
    let mut pair = Pair {
        s,
        n,
        perm: (0..live).collect(),
    };
    let mut order = Order::new(0x5e55_11e0 ^ live as u64);
    let mut sessile = Costs::default();
    let mut naive = Costs::default();
    let mut ratio = Ratios::default();
    *now += 1;
    let t = *now;

    let lookups = p.lookups;
    (sessile.validate_ns, naive.validate_ns, ratio.validate) = interleaved(
        p.repeats,
        &mut pair,
        |pr| (0..lookups).map(|_| order.below(pr.perm.len())).collect(),
        |f, idx| f.validate_round(idx, t),
        |f, idx| f.validate_round(idx, t),
    );

    let mut paths = None;
    let mut warm = None;
    if all_ops {
        // Each store warm: an untimed batch of the same store over the same tokens first.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for r in 0..=p.repeats {
            let idx: Vec<usize> = (0..lookups).map(|_| order.below(live)).collect();
            pair.s.validate_round(&idx, t);
            let x = pair.s.validate_round(&idx, t);
            pair.n.validate_round(&idx, t);
            let y = pair.n.validate_round(&idx, t);
            if r > 0 {
                a.push(x);
                b.push(y);
            }
        }
        warm = Some(Warm {
            sessile_ns: median(&a),
            naive_ns: median(&b),
            ratio: median_ratio(&a, &b),
        });

        let idx: Vec<usize> = (0..lookups).map(|_| order.below(live)).collect();
        let malformed = pair.s.malformed(&idx);
        let unknown: String = (0..lookups).map(|_| crate::naive::new_id()).collect();
        let (mut m, mut u) = (Vec::new(), Vec::new());
        for r in 0..=p.repeats {
            let a = pair.s.reject_round(&malformed, t);
            let b = pair.s.reject_round(&unknown, t);
            if r > 0 {
                m.push(a);
                u.push(b);
            }
        }
        paths = Some(ValidatePaths {
            malformed_ns: median(&m),
            unknown_ns: median(&u),
        });

        let batch = p.batch;
        let (a, b, c) = interleaved(
            p.repeats,
            &mut pair,
            |_| Vec::new(),
            |f, _| f.create_round(batch, t),
            |f, _| f.create_round(batch, t),
        );
        (sessile.create_ns, naive.create_ns, ratio.create) = (Some(a), Some(b), Some(c));
        let mut o2 = order.clone();
        let (a, b, c) = interleaved(
            p.repeats,
            &mut pair,
            |pr| distinct(&mut pr.perm, batch, &mut o2),
            |f, idx| f.rotate_round(idx, t),
            |f, idx| f.rotate_round(idx, t),
        );
        (sessile.rotate_ns, naive.rotate_ns, ratio.rotate) = (Some(a), Some(b), Some(c));
        let (a, b, c) = interleaved(
            p.repeats,
            &mut pair,
            |pr| distinct(&mut pr.perm, batch, &mut order),
            |f, idx| f.logout_round(idx, t),
            |f, idx| f.logout_round(idx, t),
        );
        (sessile.logout_ns, naive.logout_ns, ratio.logout) = (Some(a), Some(b), Some(c));
    }

    // Sweep: each round adds `expiring` sessions due in SWEEP_IDLE_MS, then sweeps just
    // after that; the long-lived sessions (30 min idle) are not due. Every sweep starts with
    // the caches evicted; sessile's (and the smaller engine's, when given) first.
    let mut a = Vec::with_capacity(p.repeats);
    let mut b = Vec::with_capacity(p.repeats);
    let mut c = Vec::with_capacity(p.repeats);
    for r in 0..=p.repeats {
        *now += 1;
        pair.s.add_expiring(p.expiring, *now);
        pair.n.add_expiring(p.expiring, *now);
        if let Some(f) = small.as_deref_mut() {
            f.add_expiring(p.expiring, *now);
        }
        *now += u64::from(SWEEP_IDLE_MS);
        let z = small
            .as_deref_mut()
            .map(|f| f.sweep_round(*now, p.expiring, flush));
        let x = pair.s.sweep_round(*now, p.expiring, flush);
        let y = pair.n.sweep_round(*now, p.expiring, flush);
        if r > 0 {
            a.push(x);
            b.push(y);
            c.extend(z);
        }
    }
    sessile.sweep_us = median(&a);
    naive.sweep_us = median(&b);
    ratio.sweep = median_ratio(&a, &b);
    let growth = small.map(|f| Growth {
        small_live: f.ids.len() / TOKEN_CHARS,
        small_us: median(&c),
        large_us: median(&a),
        ratio: median_ratio(&a, &c),
    });
    (
        Point {
            live,
            sessile,
            naive,
            ratio,
            paths,
            warm,
            growth,
        },
        pair.s,
    )
}

/// Bytes of memory per live session, payload aside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    /// Live sessions measured.
    pub live: usize,
    /// `sessile::Layout::bytes_per_session` for an engine of exactly `live` capacity.
    pub sessile_layout: f64,
    /// Heap bytes the full engine holds, less its payload pool, per session.
    pub sessile_measured: f64,
    /// Allocation calls while filling the engine (sessile promises none after `new`).
    pub sessile_fill_allocations: u64,
    /// Heap bytes the naive store holds per session (requested bytes; no payload).
    pub naive_measured: f64,
}

/// Measure memory per session with `live` sessions; needs [`alloc_count::Counting`] as the
/// global allocator (and still counting).
pub fn measure_memory(live: usize) -> Result<Memory, String> {
    if !alloc_count::installed() {
        return Err("the counting allocator is not this process's global allocator".into());
    }
    let config = sessile_config(u32::try_from(live).map_err(|_| "live count above u32")?);
    let layout = Layout::of(&config);
    let pool = layout.pool_blocks * (POOL_BLOCK + 4);

    let before = alloc_count::current_bytes();
    let mut engine = Engine::new(config, [0x5e; 32]).map_err(|e| format!("{e:?}"))?;
    let calls = alloc_count::calls();
    for _ in 0..live {
        let created = engine
            .create(1, &Client::NONE)
            .map_err(|e| format!("{e:?}"))?;
        black_box(&created);
    }
    let fill_calls = alloc_count::calls() - calls;
    let sessile_bytes = alloc_count::current_bytes().wrapping_sub(before) - pool;
    drop(engine);

    let before = alloc_count::current_bytes();
    let mut store = NaiveStore::new(IDLE_MS, ABSOLUTE_MS, live);
    for _ in 0..live {
        black_box(store.create(1));
    }
    let naive_bytes = alloc_count::current_bytes().wrapping_sub(before);
    drop(store);

    Ok(Memory {
        live,
        sessile_layout: layout.bytes_per_session() as f64,
        sessile_measured: sessile_bytes as f64 / live as f64,
        sessile_fill_allocations: fill_calls,
        naive_measured: naive_bytes as f64 / live as f64,
    })
}

/// Cost of the primitives on the validate path (ns per call).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DigestCosts {
    /// sessile's token digest (`Digest::of`: HChaCha8, written out).
    pub sessile_ns: f64,
    /// HChaCha20 (the `chacha20` crate's): the digest before issue 17.
    pub hchacha20_ns: f64,
    /// HChaCha12: the same PRF with 12 rounds.
    pub hchacha12_ns: f64,
    /// HChaCha8.
    pub hchacha8_ns: f64,
    /// SipHash-1-3 (std `HashMap`'s hasher) of a 43-character ID: the naive store's hash.
    pub siphash_id_ns: f64,
}

fn time_calls(iters: usize, repeats: usize, mut f: impl FnMut(u64)) -> f64 {
    for i in 0..iters / 10 {
        f(i as u64);
    }
    let rounds: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Stamp::now();
            for i in 0..iters {
                f(i as u64);
            }
            per_op_ns(start.elapsed(), iters)
        })
        .collect();
    median(&rounds)
}

/// Microbenchmark of the digest candidates against the naive store's hash.
pub fn digest_costs(iters: usize, repeats: usize) -> DigestCosts {
    use chacha20::{R8, R12, R20, hchacha};
    use std::hash::BuildHasher;
    let mut key = [0x42u8; 32];
    let input = *b"sessile digest 1";
    let mut run = |rounds: u8| {
        time_calls(iters, repeats, |i| {
            key[..8].copy_from_slice(&i.to_le_bytes());
            let k = black_box(key).into();
            let inp = black_box(input).into();
            let out = match rounds {
                20 => hchacha::<R20>(&k, &inp),
                12 => hchacha::<R12>(&k, &inp),
                _ => hchacha::<R8>(&k, &inp),
            };
            black_box(out);
        })
    };
    let mut raw = [0x42u8; 32];
    let sessile_ns = time_calls(iters, repeats, |i| {
        raw[..8].copy_from_slice(&i.to_le_bytes());
        black_box(sessile::digest_of(black_box(&raw)));
    });
    let hchacha20_ns = run(20);
    let hchacha12_ns = run(12);
    let hchacha8_ns = run(8);
    let state = std::collections::hash_map::RandomState::new();
    let ids: Vec<String> = (0..1024).map(|_| crate::naive::new_id()).collect();
    let siphash_id_ns = time_calls(iters, repeats, |i| {
        let s: &str = black_box(&ids[(i & 1023) as usize]);
        black_box(state.hash_one(s));
    });
    DigestCosts {
        sessile_ns,
        hchacha20_ns,
        hchacha12_ns,
        hchacha8_ns,
        siphash_id_ns,
    }
}
