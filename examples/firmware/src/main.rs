//! The README flow on a Cortex-M4 with no allocator: the engine's every region is a
//! static array (`.bss`), sized at compile time for 8 sessions. Each step prints one
//! line over semihosting; `make test-firmware` runs it under `qemu-system-arm` and
//! compares the output with `expected.txt`, and `make bench-firmware` measures it.
//!
//! The seed is fixed so that every run prints the same thing. A real device seeds the
//! engine from its hardware random number generator, never from a constant.
#![no_std]
#![no_main]

mod check;
mod host;
mod mem;

use cortex_m_rt::entry;
use host::Piece::{B, N};
use host::{exit, say};
use sessile::wheel::Wheel;
use sessile::{
    Cell, Client, ClientPolicy, Config, Engine, Event, Link, POOL_BLOCK, Parts, SessionRef,
    SliceStorage, Slot, Store, Tombstone,
};

const CAPACITY: usize = 8;
/// Index cells: 13/8 (tokens) and 10/8 (principals) of the entries, at least 8, a
/// multiple of 8 up to 128: 16 both (`Layout::of` says so too: the engine refuses other
/// sizes).
const CELLS: usize = 16;
const LINKS: usize = Wheel::links_len(CAPACITY);
const POOL_BLOCKS: usize = 8;
const TOMBSTONES: usize = 16;
const TOMBSTONE_CELLS: usize = 32;
const EVENTS: usize = 16;
/// The bytes of the static regions below (`main`'s `static mut`s), all `.bss`. The engine
/// checks them against the config's `Layout` and refuses other sizes (`FAIL: engine`).
const STORAGE_BYTES: usize = size_of::<[Slot; CAPACITY]>()
    + size_of::<[Cell; CELLS]>() * 2
    + size_of::<[Link; LINKS]>()
    + POOL_BLOCKS * POOL_BLOCK
    + size_of::<[u32; POOL_BLOCKS]>()
    + size_of::<[Tombstone; TOMBSTONES]>()
    + size_of::<[Cell; TOMBSTONE_CELLS]>()
    + size_of::<[Event; EVENTS]>();
/// Fixed for a deterministic test only.
const SEED: [u8; 32] = *b"sessile firmware: fixed test key";

/// A free slot as all-zero bytes, so the slot array lands in `.bss` (no flash image).
// SAFETY: `Slot` is plain integers and byte arrays, and the core documents all-zero
// bytes as a valid free slot (the engine initialises every region itself anyway).
const FREE_SLOT: Slot = unsafe { core::mem::zeroed() };
const ZERO_LINK: Link = Link { prev: 0, next: 0 };

/// Minutes, in the engine's milliseconds.
const MIN: u64 = 60_000;

fn config() -> Config {
    Config {
        capacity: CAPACITY as u32,
        pool_bytes: (POOL_BLOCKS * POOL_BLOCK) as u32,
        max_payload: 256,
        tombstones: TOMBSTONES as u32,
        events: EVENTS as u32,
        // Built without the core's `principal-cap` feature (about 620 bytes of code):
        // the engine then refuses a config with a cap. One user per device here.
        max_sessions_per_principal: 0,
        // No client facts on this device (every request passes `Client::NONE`): with
        // both policies off the engine keeps no client digests (8 bytes per session).
        ip_policy: ClientPolicy::Off,
        user_agent_policy: ClientPolicy::Off,
        ..Config::default()
    }
}

// cortex-m-rt passes each `static mut` below to the real main as an argument.
#[allow(clippy::too_many_arguments)]
#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` borrows, taken once: static memory
    // with no `unsafe` here.
    static mut SLOTS: [Slot; CAPACITY] = [FREE_SLOT; CAPACITY];
    static mut INDEX: [Cell; CELLS] = [0; CELLS];
    static mut PRINCIPALS: [Cell; CELLS] = [0; CELLS];
    static mut LINKS_: [Link; LINKS] = [ZERO_LINK; LINKS];
    static mut POOL: [u8; POOL_BLOCKS * POOL_BLOCK] = [0; POOL_BLOCKS * POOL_BLOCK];
    static mut POOL_NEXT: [u32; POOL_BLOCKS] = [0; POOL_BLOCKS];
    static mut TOMBS: [Tombstone; TOMBSTONES] = [Tombstone::EMPTY; TOMBSTONES];
    static mut TOMB_INDEX: [Cell; TOMBSTONE_CELLS] = [0; TOMBSTONE_CELLS];
    static mut EVENT_RING: [Event; EVENTS] = [Event::EMPTY; EVENTS];

    let parts = Parts {
        slots: SLOTS,
        // The config counts no addresses (`max_addresses` 0): no address sets.
        addresses: &mut [],
        // Nor does it watch the client (both policies off): no client digests.
        clients: &mut [],
        index: INDEX,
        principals: PRINCIPALS,
        links: LINKS_,
        pool: POOL,
        pool_next: POOL_NEXT,
        tombstones: TOMBS,
        tombstone_index: TOMB_INDEX,
        events: EVENT_RING,
    };
    // make test-firmware's second image checks the assembly runtime functions instead
    // of running the flow (src/check.rs); the measured image links none of it.
    if cfg!(feature = "asm-check") {
        check::run();
    }
    run(parts)
}

/// A step answered wrongly: prints `FAIL: <step>` and fails the run. The flow stops at
/// the first such step; nothing returns a `Result` to it (every `?` on a large `Ok`
/// value moved the value again).
#[inline(never)]
fn fail(step: &'static str) -> ! {
    host::fail("FAIL: %", step)
}

/// The value of a step that must succeed, or [`fail`] naming it.
trait Step<T> {
    fn or_fail(self, step: &'static str) -> T;
}

impl<T, E> Step<T> for Result<T, E> {
    #[inline(always)]
    fn or_fail(self, step: &'static str) -> T {
        match self {
            Ok(value) => value,
            Err(_) => fail(step),
        }
    }
}

impl<T> Step<T> for Option<T> {
    #[inline(always)]
    fn or_fail(self, step: &'static str) -> T {
        match self {
            Some(value) => value,
            None => fail(step),
        }
    }
}

// The longer steps of the flow are functions of their own, never inlined into `run`:
// in one big function a Cortex-M0 (eight low registers) spills and reloads around every
// step. About 500 bytes less code on each image, the same output.

/// The engine over the static regions, as configured.
#[inline(never)]
fn start(parts: Parts<'static>) -> Engine<SliceStorage<'static>> {
    say(
        "sessile on Cortex-M: capacity %, static storage % bytes",
        &[N(CAPACITY as u32), N(STORAGE_BYTES as u32)],
    );
    Engine::with_storage(config(), SliceStorage::new(parts), SEED).or_fail("engine")
}

/// The `Set-Cookie` for `token`'s session, printed with the token elided (after
/// checking that it is the cookie's value).
#[inline(never)]
fn set_cookie(engine: &mut Engine<SliceStorage<'static>>, token: &str, handle: SessionRef) {
    let cookie = engine.set_cookie(token, handle, 0).or_fail("set-cookie");
    let name = engine.config().cookie.name.as_str();
    let rest = cookie
        .as_bytes()
        .strip_prefix(name.as_bytes())
        .and_then(|r| r.strip_prefix(b"="))
        .and_then(|r| r.strip_prefix(token.as_bytes()))
        .or_fail("set-cookie value");
    say("set-cookie: %=<token>%", &[B(name.as_bytes()), B(rest)]);
}

/// Validates the request's `Cookie` header and prints who is logged in; returns the
/// session's handle.
#[inline(never)]
fn validate_cookie(engine: &mut Engine<SliceStorage<'static>>, header: &[u8]) -> SessionRef {
    let (_, session) = engine
        .validate_cookie(header, 3 * MIN, &Client::NONE)
        .or_fail("validate cookie")
        .or_fail("no session cookie found");
    let user = session.principal.as_ref().or_fail("no principal");
    say("validate cookie: logged in as %", &[B(user.as_bytes())]);
    session.handle
}

/// Writes a payload into the session and prints what reads back.
#[inline(never)]
fn write_and_read(engine: &mut Engine<SliceStorage<'static>>, handle: SessionRef) {
    let data = br#"{"theme":"dark"}"#;
    engine.write(handle, data, 3 * MIN).or_fail("write");
    let mut out = [0u8; 32];
    let n = engine.read(handle, &mut out, 3 * MIN).or_fail("read");
    say(
        "write: % bytes, read back %",
        &[N(data.len() as u32), B(&out[..n])],
    );
}

/// Prints every pending event, oldest first.
#[inline(never)]
fn print_events(engine: &mut Engine<SliceStorage<'static>>) {
    for event in engine.drain_events() {
        say("event: %", &[B(event.kind.as_str().as_bytes())]);
    }
}

/// The flow; an unexpected answer names the step that gave it. It ends the run itself
/// (`ok`, exit 0) with the engine still live, as a device's engine never ends: no drop of
/// it is linked (its key and generator state would be wiped, 204 bytes of code).
fn run(parts: Parts<'static>) -> ! {
    let mut engine = start(parts);
    let none = &Client::NONE;

    // A visitor arrives: an anonymous session and its cookie.
    let (anon, session) = engine.create(0, none).or_fail("create");
    let anon = anon.as_str();
    say(
        "create: anonymous session, token of % chars",
        &[N(anon.len() as u32)],
    );
    set_cookie(&mut engine, anon, session.handle);
    // A second visitor, who never comes back (the sweep reclaims it).
    engine.create(0, none).or_fail("create second");

    // Login rotates the token and binds the user; the pre-login token is dead.
    let (token, _) = engine
        .login(anon.as_bytes(), b"alice", MIN)
        .or_fail("login");
    say("login: alice, token rotated", &[]);
    refused(
        &mut engine,
        anon.as_bytes(),
        2 * MIN,
        "validate pre-login token: %",
    );

    // The next request: the browser sends the cookie back.
    let mut header = [0u8; 96];
    let len = join(
        &mut header,
        &[
            b"theme=dark; ",
            engine.config().cookie.name.as_bytes(),
            b"=",
            token.as_bytes(),
        ],
    );
    let handle = validate_cookie(&mut engine, &header[..len]);

    write_and_read(&mut engine, handle);

    // Logout is server-side: the same token is dead, and showing it again is an event.
    engine.logout(token.as_bytes(), 4 * MIN).or_fail("logout");
    say("logout: ok", &[]);
    refused(&mut engine, token.as_bytes(), 5 * MIN, "validate again: %");
    print_events(&mut engine);

    // The second visitor's idle timeout passes; the sweep reclaims its slot.
    let idle = u64::from(engine.config().idle_timeout_ms);
    let swept = engine.sweep(idle + MIN);
    let stats = engine.stats();
    say(
        "sweep: % expired, % live, pool % bytes used",
        &[
            N(swept as u32),
            N(stats.live),
            N(stats.pool_used_bytes as u32),
        ],
    );
    print_events(&mut engine);
    #[cfg(feature = "stack-report")]
    say("stack peak: % bytes", &[N(stack_peak())]);
    say("ok", &[]);
    exit(true)
}

/// The deepest the stack has been: cortex-m-rt painted it with `STACK_PAINT_VALUE` at
/// reset, from `_stack_end` (after `.bss`) up to `_stack_start` (the top of RAM); the
/// lowest word no longer painted marks the peak.
#[cfg(feature = "stack-report")]
fn stack_peak() -> u32 {
    unsafe extern "C" {
        static _stack_end: u32;
        static _stack_start: u32;
    }
    let low = &raw const _stack_end as usize;
    let high = &raw const _stack_start as usize;
    let mut at = low;
    // SAFETY: every word from `_stack_end` to `_stack_start` is RAM the link script
    // gives the stack; reading it (volatile: the compiler knows nothing of the paint)
    // disturbs nothing.
    while at < high
        && unsafe { core::ptr::read_volatile(at as *const u32) } == cortex_m_rt::STACK_PAINT_VALUE
    {
        at += 4;
    }
    (high - at) as u32
}

/// Validates `token` at `now`, which must be refused, and prints `line` with why (the
/// error of its validation, as the core names it); accepting it is a failed step.
#[inline(never)]
fn refused(engine: &mut Engine<SliceStorage<'static>>, token: &[u8], now: u64, line: &str) {
    let why = engine
        .validate(token, now, &Client::NONE)
        .err()
        .or_fail("a dead token was accepted");
    say(line, &[B(why.code().as_bytes())]);
}

/// Concatenates `pieces` into `buf` (cut at its end); returns the length written.
fn join(buf: &mut [u8], pieces: &[&[u8]]) -> usize {
    let mut len = 0;
    for piece in pieces {
        for &b in *piece {
            if len == buf.len() {
                return len;
            }
            buf[len] = b;
            len += 1;
        }
    }
    len
}
