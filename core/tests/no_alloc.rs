//! Invariant 1 (bounded memory): after construction the engine never allocates. A counting
//! global allocator watches this test's thread while it runs over a million mixed
//! operations with the table full, evictions, pool exhaustion, expiry, a clock that goes
//! backwards, and an overflowing event ring.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sessile::{Client, Config, Engine, Error, Store, Token};

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel do not count each other's allocations.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-locals may be gone while a thread shuts down.
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| {
        let v: Vec<u8> = std::hint::black_box(vec![1, 2, 3]);
        drop(std::hint::black_box(v));
    });
    assert_eq!(n, 1);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const OPS: u64 = 1_000_000;
const KEPT: usize = 512;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Default)]
struct Seen {
    capacity_exhausted: u64,
    pool_exhausted: u64,
    pool_peak: u64,
    ok_validations: u64,
    logins: u64,
}

#[test]
fn a_million_mixed_operations_allocate_nothing() {
    let config = Config {
        capacity: 64,
        pool_bytes: 48 * 64,
        max_payload: 512,
        idle_timeout_ms: 60_000,
        absolute_timeout_ms: 600_000,
        tombstones: 64,
        events: 32,
        max_sessions_per_principal: 3,
        max_addresses: 2,
        ..Config::default()
    };
    let mut engine = Engine::new(config, [9; 32]).unwrap();
    // Everything the loop uses lives on the stack or in these, made before arming.
    let mut kept: Vec<Option<(Token, sessile::SessionRef)>> = (0..KEPT).map(|_| None).collect();
    let payload = [0x5au8; 600];
    let mut out = [0u8; 600];
    let principals: [&[u8]; 5] = [
        b"alice",
        b"bob",
        b"carol",
        b"dave",
        b"a-rather-long-principal-name-that-takes-two-pool-blocks-because-it-is-over-64-bytes",
    ];
    let ips: [&[u8]; 4] = [b"192.0.2.1", b"192.0.2.2", b"198.51.100.7", b"2001:db8::1"];
    let uas: [&[u8]; 2] = [b"Mozilla/5.0", b"curl/8"];
    let mut header = [0u8; 128];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut now: u64 = 0;
    let mut max_now: u64 = 0;
    let mut seen = Seen::default();

    let allocations = allocations_in(|| {
        for _ in 0..OPS {
            // Time mostly advances a little, sometimes jumps, sometimes goes back.
            match rng.below(5_000) {
                0..=9 => now = now.saturating_sub(rng.below(3_000)),
                10 => now += rng.below(100_000),
                _ => now += rng.below(3),
            }
            max_now = max_now.max(now);
            let k = rng.below(KEPT as u64) as usize;
            let client = Client {
                ip: (rng.below(4) != 0).then(|| ips[rng.below(4) as usize]),
                user_agent: (rng.below(2) != 0).then(|| uas[rng.below(2) as usize]),
            };
            match rng.below(20) {
                0..=3 => match engine.create(now, &client) {
                    Ok((t, s)) => kept[k] = Some((t, s.handle)),
                    Err(Error::CapacityExhausted) => seen.capacity_exhausted += 1,
                    Err(e) => panic!("create: {e}"),
                },
                4..=8 => {
                    if let Some((t, _)) = &kept[k]
                        && engine.validate(t.as_bytes(), now, &client).is_ok()
                    {
                        seen.ok_validations += 1;
                    }
                }
                9 => {
                    if let Some((t, _)) = &kept[k] {
                        let p = principals[rng.below(5) as usize];
                        if let Ok((t2, s)) = engine.login(t.as_bytes(), p, now) {
                            seen.logins += 1;
                            kept[k] = Some((t2, s.handle));
                        }
                    }
                }
                10 => {
                    if let Some((t, _)) = &kept[k]
                        && let Ok((t2, s)) = engine.rotate(t.as_bytes(), now)
                    {
                        kept[k] = Some((t2, s.handle));
                    }
                }
                11 => {
                    if let Some((t, _)) = &kept[k] {
                        let _ = engine.logout(t.as_bytes(), now);
                    }
                }
                12 | 13 => {
                    if let Some((_, h)) = &kept[k] {
                        let n = rng.below(payload.len() as u64) as usize;
                        if engine.write(*h, &payload[..n], now) == Err(Error::PoolExhausted) {
                            seen.pool_exhausted += 1;
                        }
                    }
                }
                14 => {
                    if let Some((_, h)) = &kept[k] {
                        let _ = engine.read(*h, &mut out, now);
                    }
                }
                15 => {
                    let _ = engine.sweep(now);
                }
                16 => {
                    for e in engine.drain_events() {
                        // Events carry the engine clock: the latest time ever given.
                        assert!(e.at_ms <= max_now);
                    }
                }
                17 => {
                    let p = principals[rng.below(5) as usize];
                    if rng.below(8) == 0 {
                        engine.revoke_principal(p, now);
                    } else {
                        assert!(engine.sessions_of(p, now).count() <= 3);
                    }
                }
                18 => {
                    if let Some((t, s)) = &kept[k] {
                        let _ =
                            engine.set_timeouts(*s, Some(1 + rng.below(4_000) as u32), None, now);
                        // The cookie round trip, in fixed buffers.
                        if let Ok(session) = engine.session(*s, now) {
                            let cookie = engine
                                .set_cookie(t.as_str(), session.handle, now)
                                .expect("cookie fits");
                            let value = cookie.split(';').next().unwrap();
                            let n = value.len().min(header.len());
                            header[..n].copy_from_slice(&value.as_bytes()[..n]);
                            let got = engine.token_from_cookie_header(&header[..n]).unwrap();
                            assert_eq!(got, Some(t.as_bytes()));
                        }
                    }
                }
                _ => {
                    // Garbage tokens of every length.
                    let n = rng.below(60) as usize;
                    let _ = engine.validate(&payload[..n], now, &Client::NONE);
                    let st = engine.stats();
                    seen.pool_peak = seen.pool_peak.max(st.pool_used_bytes);
                }
            }
        }
    });
    assert_eq!(allocations, 0, "the engine allocated after construction");
    // The mix really reached the states that matter.
    let s = engine.stats();
    assert!(s.evictions > 1_000, "evictions {}", s.evictions);
    assert!(s.expirations > 1_000, "expirations {}", s.expirations);
    assert!(s.revocations > 0, "revocations {}", s.revocations);
    assert!(s.events_dropped > 0);
    assert_eq!(seen.pool_peak, s.pool_total_bytes, "pool never filled up");
    assert!(seen.ok_validations > 10_000 && seen.logins > 1_000);
    assert!(s.live <= s.capacity);
    println!(
        "stats after {OPS} ops: {s:?}, capacity_exhausted {}",
        seen.capacity_exhausted
    );
}
