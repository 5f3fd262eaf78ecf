//! `sessile_engine`: the opaque engine and every operation on it.

use core::ffi::c_char;

#[cfg(feature = "std")]
use sessile_backend::{Backend, StoreMut};
use sessile_core::{Config, Engine, SessionRef, SliceStorage, Storage, Store, Token};

use crate::boundary::run;
#[cfg(feature = "std")]
use crate::config::sessile_config;
use crate::result::sessile_result;
use crate::types::{bytes, sessile_client, sessile_event, sessile_session, sessile_stats};

use sessile_result as R;

/// Marks a live engine; cleared by free / deinit so a second call is refused.
pub(crate) const LIVE: u64 = 0x5e55_11e0_0c0a_b1e5;

/// An engine. Opaque: make one with `sessile_engine_new` or `sessile_engine_open` (heap,
/// thread-safe; `_open` may serve from a shared Redis/Valkey store) or
/// `sessile_engine_init` (caller memory, one thread at a time).
pub struct sessile_engine {
    pub(crate) magic: u64,
    pub(crate) inner: Inner,
}

// The engine in caller memory stays inline (there is no allocator to box it with).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Inner {
    /// Thread-safe: every call takes the store's lock. Sessions live in this process's
    /// table or in a shared store, behind the one store seam (`Backend::with`). Boxed:
    /// an engine in caller memory holds this enum too, and must not pay for its size.
    #[cfg(feature = "std")]
    Heap(Box<Backend>),
    /// In caller memory: one thread at a time (the caller's promise).
    Place(Engine<SliceStorage<'static>>),
}

pub(crate) enum Access<'a> {
    #[cfg(feature = "std")]
    Heap(&'a Backend),
    Place(&'a mut Engine<SliceStorage<'static>>),
}

/// The earliest `now_ms` an engine over a shared store takes (2001-09-09 in Unix ms). Its
/// deadlines are compared by every process and host, so `now_ms` must be the wall clock;
/// a monotonic clock (milliseconds since boot) is far below this and is refused rather
/// than have every other process see the sessions as decades old.
#[cfg(feature = "std")]
const SHARED_EPOCH_FLOOR_MS: u64 = 1_000_000_000_000;

/// `now_ms` checked for the engine's clock: a shared store takes Unix milliseconds only.
#[cfg(feature = "std")]
pub(crate) fn check_now(backend: &Backend, now_ms: u64) -> Result<u64, sessile_result> {
    if backend.is_shared() && now_ms < SHARED_EPOCH_FLOOR_MS {
        return Err(R::SESSILE_RESULT_INVALID_ARGUMENT);
    }
    Ok(now_ms)
}

/// What the C API needs of a store beyond the core's seam, for both kinds of engine.
pub(crate) trait Extra: Store {
    /// The latest `now` the store has been given.
    fn latest(&self) -> u64;
    /// Replace the token generator's key.
    fn reseed_with(&mut self, seed: [u8; 32]);
}

impl<S: Storage> Extra for Engine<S> {
    fn latest(&self) -> u64 {
        self.now()
    }
    fn reseed_with(&mut self, seed: [u8; 32]) {
        self.reseed(seed);
    }
}

#[cfg(feature = "std")]
impl Extra for StoreMut<'_> {
    fn latest(&self) -> u64 {
        match self {
            StoreMut::Memory(e) => e.now(),
            StoreMut::Redis(r) => r.now(),
        }
    }
    fn reseed_with(&mut self, seed: [u8; 32]) {
        match self {
            StoreMut::Memory(e) => e.reseed(seed),
            StoreMut::Redis(r) => r.reseed(seed),
        }
    }
}

/// Check the pointer and borrow the engine: shared for a heap engine (other threads may be
/// using it too; its lock serialises them), exclusive for an engine in caller memory.
///
/// # Safety
/// `p` is NULL, or was returned by `sessile_engine_new` / `sessile_engine_init` and its
/// memory is still valid (not freed by `sessile_engine_free`, caller memory not reused).
pub(crate) unsafe fn access<'a>(p: *mut sessile_engine) -> Result<Access<'a>, sessile_result> {
    if p.is_null() {
        return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
    }
    // SAFETY: `p` points to a valid `sessile_engine` (contract); only read here.
    let live = unsafe { core::ptr::addr_of!((*p).magic).read() } == LIVE;
    if !live {
        return Err(R::SESSILE_RESULT_NOT_AN_ENGINE);
    }
    // SAFETY: as above; a shared borrow, so concurrent callers of a heap engine only ever
    // hold shared references to it.
    #[cfg(feature = "std")]
    if let Inner::Heap(backend) = unsafe { &(*p).inner } {
        return Ok(Access::Heap(backend));
    }
    // SAFETY: an engine in caller memory is used by one thread at a time (the documented
    // rule), so this is the only reference for the duration of the call.
    match unsafe { &mut (*p).inner } {
        Inner::Place(e) => Ok(Access::Place(e)),
        #[cfg(feature = "std")]
        Inner::Heap(_) => Err(R::SESSILE_RESULT_PANIC),
    }
}

/// Run `$body` (a `Result<(), sessile_result>` expression) with `$e`, a `&mut` store of
/// either kind (the heap engine's `StoreMut`, or the engine in caller memory): the body
/// calls it through the `Store` seam and `Extra` only, so it is the same code for both.
/// With `$now`, a heap engine over a shared store first checks that it is Unix ms.
macro_rules! with_engine {
    ($p:expr, $e:ident => $body:expr) => {{
        // SAFETY: `$p` is NULL or a live engine: the contract of every engine function.
        match unsafe { crate::engine::access($p) }? {
            #[cfg(feature = "std")]
            crate::engine::Access::Heap(backend) => backend.with(|$e| $body),
            crate::engine::Access::Place($e) => $body,
        }
    }};
    ($p:expr, $now:expr, $e:ident => $body:expr) => {{
        // SAFETY: `$p` is NULL or a live engine: the contract of every engine function.
        match unsafe { crate::engine::access($p) }? {
            #[cfg(feature = "std")]
            crate::engine::Access::Heap(backend) => {
                crate::engine::check_now(backend, $now)?;
                backend.with(|$e| $body)
            }
            crate::engine::Access::Place($e) => $body,
        }
    }};
}

/// A 32-byte seed from C.
///
/// # Safety
/// `seed` is NULL or readable for `len` bytes.
pub(crate) unsafe fn seed32(seed: *const u8, len: usize) -> Result<[u8; 32], sessile_result> {
    // SAFETY: forwarded contract.
    let s = unsafe { bytes(seed, len) }?;
    s.try_into().map_err(|_| R::SESSILE_RESULT_INVALID_ARGUMENT)
}

/// Where a token goes: a buffer, its size, and where to put the length.
struct TokenOut {
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
}

impl TokenOut {
    fn new(buf: *mut c_char, cap: usize, len: *mut usize) -> Result<TokenOut, sessile_result> {
        if buf.is_null() || len.is_null() {
            return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
        }
        Ok(TokenOut { buf, cap, len })
    }

    /// Checked before the operation, so a short buffer changes nothing.
    fn check(&self, config: &Config) -> Result<(), sessile_result> {
        let chars = (usize::from(config.token_bytes) * 4).div_ceil(3);
        if self.cap < chars + 1 {
            return Err(R::SESSILE_RESULT_BUFFER_TOO_SMALL);
        }
        Ok(())
    }

    /// # Safety
    /// `buf` is writable for `cap` bytes and `len` for one `size_t`; `check` passed.
    unsafe fn write(&self, t: &Token) {
        let b = t.as_bytes();
        // SAFETY: `check` made sure `cap >= b.len() + 1`; the pointers are writable.
        unsafe {
            core::ptr::copy_nonoverlapping(b.as_ptr(), self.buf.cast::<u8>(), b.len());
            self.buf.add(b.len()).write(0);
            self.len.write(b.len());
        }
    }
}

/// Copy text plus a NUL into a caller buffer, or `BUFFER_TOO_SMALL` with nothing written.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `len` NULL or writable.
pub(crate) unsafe fn write_text(
    text: &[u8],
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> Result<(), sessile_result> {
    if buf.is_null() || len.is_null() {
        return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
    }
    if cap < text.len() + 1 {
        return Err(R::SESSILE_RESULT_BUFFER_TOO_SMALL);
    }
    // SAFETY: non-NULL, and `cap` covers the text and its NUL.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
        len.write(text.len());
    }
    Ok(())
}

/// Write a snapshot if the caller asked for one (`out` may be NULL).
///
/// # Safety
/// `out` is NULL or writable for one `sessile_session`.
unsafe fn session_to(out: *mut sessile_session, s: &sessile_core::Session) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable by contract.
        unsafe { crate::types::write_session(out, s) };
    }
}

/// Copy a payload of `len` bytes, chunk by chunk, into the front of `out`:
/// `BUFFER_TOO_SMALL` with nothing written when it does not fit. Chunks that do not add
/// up to `len` (only a shared store holding bytes it should not could give them) are
/// `STORE_CORRUPT`.
fn copy_payload<'a>(
    chunks: impl Iterator<Item = &'a [u8]>,
    len: usize,
    out: &mut [u8],
) -> Result<usize, sessile_result> {
    let dest = out
        .get_mut(..len)
        .ok_or(R::SESSILE_RESULT_BUFFER_TOO_SMALL)?;
    let mut at = 0;
    for c in chunks {
        let end = at + c.len();
        dest.get_mut(at..end)
            .ok_or(R::SESSILE_RESULT_STORE_CORRUPT)?
            .copy_from_slice(c);
        at = end;
    }
    if at != len {
        return Err(R::SESSILE_RESULT_STORE_CORRUPT);
    }
    Ok(len)
}

/// Write a required scalar output.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn put<T>(out: *mut T, v: T) -> Result<(), sessile_result> {
    if out.is_null() {
        return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL and writable by contract.
    unsafe { out.write(v) };
    Ok(())
}

pub(crate) fn need<T>(p: *mut T) -> Result<(), sessile_result> {
    if p.is_null() {
        Err(R::SESSILE_RESULT_NULL_ARGUMENT)
    } else {
        Ok(())
    }
}

#[cfg(feature = "std")]
fn boxed(backend: Backend, out: *mut *mut sessile_engine) {
    let b = Box::new(sessile_engine {
        magic: LIVE,
        inner: Inner::Heap(Box::new(backend)),
    });
    // SAFETY: `out` was checked non-NULL by the caller and is writable by contract.
    unsafe { out.write(Box::into_raw(b)) };
}

/// Build a thread-safe engine on the heap, seeded from the operating system, and store it
/// in `*out`. Release it with `sessile_engine_free(&engine)`. Any thread may call any
/// function on it at any time: calls are serialised by the engine's lock. In a forked
/// child the generator is reseeded from the OS before the next token is drawn. Sessions
/// live in this process's table (`sessile_engine_open` chooses the store).
/// (Not in the `no_std` build.)
///
/// # Safety
/// `config` is NULL or a valid `sessile_config`; `out` is NULL or writable.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_new(
    config: *const sessile_config,
    out: *mut *mut sessile_engine,
) -> sessile_result {
    run(|| {
        need(out)?;
        // SAFETY: forwarded contract.
        let config = unsafe { crate::config::to_core(config) }?;
        boxed(Backend::open(config, &Default::default(), None)?, out);
        Ok(())
    })
}

/// Like `sessile_engine_new` but seeded with exactly 32 bytes: reproducible tokens, for
/// tests and conformance vectors only. A forked child still reseeds from the OS.
///
/// # Safety
/// `config` is NULL or valid; `seed` NULL or readable for `seed_len`; `out` NULL or writable.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_new_seeded(
    config: *const sessile_config,
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut sessile_engine,
) -> sessile_result {
    run(|| {
        need(out)?;
        // SAFETY: forwarded contract.
        let (config, seed) = unsafe { (crate::config::to_core(config)?, seed32(seed, seed_len)?) };
        boxed(Backend::open(config, &Default::default(), Some(seed))?, out);
        Ok(())
    })
}

/// The store options from C: `n` names and values, each NUL-terminated.
///
/// # Safety
/// As `sessile_engine_open`.
#[cfg(feature = "std")]
unsafe fn store_options(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
) -> Result<sessile_backend::StoreOptions, sessile_result> {
    use core::ffi::CStr;
    use sessile_core::ConfigError;
    use sessile_core::vocabulary::{Kind, Value};

    let mut options = sessile_backend::StoreOptions::default();
    if n == 0 {
        return Ok(options);
    }
    if keys.is_null() || values.is_null() {
        return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
    }
    for i in 0..n {
        // SAFETY: both arrays hold `n` pointers (contract); `i < n`.
        let (k, v) = unsafe { (keys.add(i).read(), values.add(i).read()) };
        if k.is_null() {
            return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
        }
        // SAFETY: non-NULL and NUL-terminated (contract).
        let name = unsafe { CStr::from_ptr(k) }.to_str().ok();
        let key = name
            .and_then(sessile_backend::store_key)
            .ok_or(ConfigError::UnknownKey)?;
        let bad = ConfigError::BadValue { key: key.name };
        let text = if v.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated (contract).
            Some(unsafe { CStr::from_ptr(v) }.to_str().map_err(|_| bad)?)
        };
        let value = match (key.kind, text) {
            (_, None) => Value::Unset,
            (Kind::Millis { .. } | Kind::Count { .. }, Some(t)) => {
                Value::Int(t.parse().map_err(|_| bad)?)
            }
            (_, Some(t)) => Value::Text(t),
        };
        options.set(key.name, value)?;
    }
    Ok(options)
}

/// Build a heap engine as `sessile_engine_new` does, serving from the store that the
/// `n` store options name: `store_keys[i]` set to `store_values[i]` (NUL-terminated; a
/// NULL value keeps the default). The keys, beside the `sessile_config` fields (names and
/// limits as in every binding, `docs/CONFIG.md`):
///
/// - `store`: unset or `"memory"` for this process's table (then the engine is exactly
///   one of `sessile_engine_new`); a Redis or Valkey URL
///   (`redis://[user[:password]@]host[:port][/db]`, `rediss://...`,
///   `unix:///path/redis.sock[?db=N]`) for one store shared by every process and host
///   that has the same URL, prefix and key;
/// - `store_key`: 64 hex digits (32 random bytes, from your secrets), the same in every
///   process; required with a URL. Keys in the store are digests under it;
/// - `store_prefix`: prefix of every key (default `sessile`), distinct per deployment;
/// - `store_connect_timeout_ms`, `store_response_timeout_ms` (decimal, default 100):
///   the longest wait for a connection, an answer;
/// - `store_tombstone_ttl_ms`: how long a dead token is remembered (default the config's
///   `max_absolute_timeout_ms`).
///
/// `n` 0 (the arrays may then be NULL) is the in-process table. Errors, nothing built:
/// `NULL_ARGUMENT` (an array, a key, `config` or `out`), `CONFIG_UNKNOWN_KEY` (a name
/// that is not a store key), `CONFIG_BAD_VALUE` (a value the key does not take, a URL
/// without `store_key`, or a store-only key without a URL), `STORE_CONFIG` (a URL the
/// client cannot use), or the config's rule. The server is not contacted here: one that
/// is down gives `SESSILE_RESULT_STORE_*` on the calls that need it, within the timeouts,
/// and the engine works again once it is back. The texts are copied (the key is wiped
/// after use); nothing is kept of the arrays.
///
/// Over a shared store every `now_ms` is wall-clock Unix milliseconds (CLOCK_REALTIME,
/// or `sessile_engine_now_ms`), since other processes and hosts compare the deadlines;
/// one below 10^12 (a monotonic clock's) is `INVALID_ARGUMENT`. Snapshot and restore are
/// `SNAPSHOT_SHARED_STORE` there (the store keeps the sessions itself). After `fork()` the
/// child makes its own connection and reseeds its generator; the parent's connection is
/// left to the parent. (Not in the `no_std` build.)
///
/// # Safety
/// `config` NULL or valid; `store_keys` and `store_values` NULL or readable for `n`
/// pointers, each NULL or NUL-terminated; `out` NULL or writable.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_open(
    config: *const sessile_config,
    store_keys: *const *const c_char,
    store_values: *const *const c_char,
    n: usize,
    out: *mut *mut sessile_engine,
) -> sessile_result {
    run(|| {
        need(out)?;
        // SAFETY: forwarded contract.
        let (config, options) = unsafe {
            (
                crate::config::to_core(config)?,
                store_options(store_keys, store_values, n)?,
            )
        };
        boxed(Backend::open(config, &options, None)?, out);
        Ok(())
    })
}

/// `*out` gets the `now_ms` this engine's calls take, read from the clock that engine
/// expects: for an engine over a shared store, the wall clock in Unix milliseconds; for
/// a heap engine with its own table, monotonic milliseconds since it was built; for an
/// engine in caller memory, monotonic milliseconds since the library first read that
/// clock. A program that reads its own clock may keep doing so (any monotonic clock for
/// an in-process engine, CLOCK_REALTIME for a shared store), but one engine takes one
/// clock for its whole life. (Not in the `no_std` build.)
///
/// # Safety
/// `engine` NULL or live; `out` NULL or writable.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_now_ms(
    engine: *mut sessile_engine,
    out: *mut u64,
) -> sessile_result {
    run(|| {
        need(out)?;
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        // SAFETY: `engine` is NULL or live (contract).
        let now = match unsafe { access(engine) }? {
            Access::Heap(backend) => backend.now_ms(),
            Access::Place(_) => START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_millis() as u64,
        };
        // SAFETY: checked non-NULL.
        unsafe { put(out, now) }
    })
}

/// Free a heap engine and set `*engine` to NULL, so freeing the same variable twice is a
/// harmless no-op (`*engine == NULL` returns OK). The engine wipes token digests,
/// tombstones, payloads, principals and its keys before its memory is released. An engine
/// built by `sessile_engine_init` is refused with `SESSILE_RESULT_WRONG_ENGINE_KIND` (use
/// `sessile_engine_deinit`). No other thread may be using the engine. (Not in the `no_std`
/// build.)
///
/// # Safety
/// `engine` is NULL or points to NULL or to a pointer from `sessile_engine_new*` that has
/// not been freed through another copy.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_free(engine: *mut *mut sessile_engine) -> sessile_result {
    run(|| {
        // SAFETY: NULL or a readable and writable pointer variable.
        let slot = unsafe { engine.as_mut() }.ok_or(R::SESSILE_RESULT_NULL_ARGUMENT)?;
        let p = *slot;
        if p.is_null() {
            return Ok(());
        }
        // SAFETY: `p` is a live engine by contract; reading its fields.
        let e = unsafe { &mut *p };
        if e.magic != LIVE {
            return Err(R::SESSILE_RESULT_NOT_AN_ENGINE);
        }
        if !matches!(e.inner, Inner::Heap(_)) {
            return Err(R::SESSILE_RESULT_WRONG_ENGINE_KIND);
        }
        e.magic = 0;
        // SAFETY: heap engines come from `Box::into_raw` in `boxed`; ownership returns here once.
        drop(unsafe { Box::from_raw(p) });
        *slot = core::ptr::null_mut();
        Ok(())
    })
}

/// Give the generator a fresh key from the operating system's CSPRNG: after the process was
/// cloned in a way the fork guard cannot see (a VM snapshot restored, a CRIU image: the
/// pid stays the same, so the clone would repeat the original's tokens), or after the
/// engine's memory may have been read (whoever holds the generator's key predicts the
/// tokens issued after the read until the next reseed). A forked child needs no call: it
/// reseeds by itself. `SESSILE_RESULT_ENTROPY` when the OS gives no entropy; the engine
/// then keeps its key. (Not in the `no_std` build: use `sessile_engine_reseed_with`.)
///
/// # Safety
/// `engine` is NULL or a live engine.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_reseed(engine: *mut sessile_engine) -> sessile_result {
    run(|| {
        // SAFETY: `engine` is NULL or live (contract).
        match unsafe { access(engine) }? {
            Access::Heap(backend) => Ok(backend.reseed()?),
            Access::Place(e) => {
                let mut seed = sessile_core::shared::os_seed()?;
                e.reseed(seed);
                wipe(&mut seed);
                Ok(())
            }
        }
    })
}

/// Replace the generator's key with exactly 32 bytes of fresh entropy from the caller (a
/// hardware RNG on a microcontroller), for the same reasons as `sessile_engine_reseed`, and
/// in the `no_std` build after `fork()` or a restore. Tokens issued afterwards follow only
/// from `seed`: never reuse one. `INVALID_ARGUMENT` for a seed that is not 32 bytes.
///
/// # Safety
/// `engine` is NULL or a live engine; `seed` NULL or readable for `seed_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_reseed_with(
    engine: *mut sessile_engine,
    seed: *const u8,
    seed_len: usize,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let seed = unsafe { seed32(seed, seed_len) }?;
        with_engine!(engine, e => {
            Extra::reseed_with(e, seed);
            Ok(())
        })
    })
}

/// Overwrite our copy of an OS seed (volatile writes, so they are not optimised away as
/// dead stores): the engine keeps the key, the stack need not.
#[cfg(feature = "std")]
fn wipe(seed: &mut [u8; 32]) {
    for b in seed.iter_mut() {
        // SAFETY: a valid, aligned, exclusive reference to one byte.
        unsafe { core::ptr::write_volatile(b, 0) };
    }
}

/// Start an anonymous session. The token (NUL-terminated, `*token_len` characters) goes
/// to `token_out`, which must hold the token and its NUL (`SESSILE_TOKEN_BUFFER` bytes are
/// always enough; a shorter buffer is `BUFFER_TOO_SMALL` and no session is created).
/// `client` and `session_out` may be NULL. `now_ms`: the engine's clock (Time, at the top).
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes; `engine` is a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_create(
    engine: *mut sessile_engine,
    now_ms: u64,
    client: *const sessile_client,
    token_out: *mut c_char,
    token_cap: usize,
    token_len: *mut usize,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        let out = TokenOut::new(token_out, token_cap, token_len)?;
        // SAFETY: forwarded contract.
        let client = unsafe { crate::types::client(client) };
        with_engine!(engine, now_ms, e => {
            out.check(Store::config(e))?;
            let (t, s) = Store::create(e, now_ms, &client)?;
            // SAFETY: checked above; forwarded contract.
            unsafe {
                out.write(&t);
                session_to(session_out, &s);
            }
            Ok(())
        })
    })
}

/// Look a token up; if it names a live session, mark it used and (if `session_out` is not
/// NULL) write its snapshot. Otherwise the reason: `SESSILE_RESULT_UNKNOWN`,
/// `_EXPIRED_IDLE`, `_LOGGED_OUT`, `_ROTATED_OUT`, ... `client` may be NULL.
///
/// # Safety
/// `token` readable for `token_len`; other pointers NULL or valid; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_validate(
    engine: *mut sessile_engine,
    token: *const u8,
    token_len: usize,
    now_ms: u64,
    client: *const sessile_client,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let (token, client) = unsafe { (bytes(token, token_len)?, crate::types::client(client)) };
        with_engine!(engine, now_ms, e => {
            let s = Store::validate(e, token, now_ms, &client)?;
            // SAFETY: forwarded contract.
            unsafe { session_to(session_out, &s) };
            Ok(())
        })
    })
}

/// Find the session cookie in a Cookie request header and validate it: the call to make on
/// every request. `client` and `session_out` may be NULL. Three outcomes:
///
/// - OK with `*token` not NULL: a live session. `*token` points into `header` (not
///   NUL-terminated; valid as long as `header` is) at the copy of the cookie that was used,
///   `*token_len` is its length: pass it to login, rotate, logout, set_cookie. Its snapshot
///   goes to `*session_out`, and the session counts as used (as `sessile_engine_validate`).
/// - OK with `*token` NULL and `*token_len` 0: the header has no session cookie (a new
///   visitor); `*session_out` is not written.
/// - An error, nothing written: why the session the cookie names is not live
///   (`EXPIRED_IDLE`, `LOGGED_OUT`, `MALFORMED`, ...), or `COOKIE_HEADER_TOO_LONG` (over
///   16 KiB), or `COOKIE_DUPLICATE` (below). Treat the request as having no session.
///
/// A browser sends one cookie name several times when the cookies differ in domain or path,
/// so a sibling subdomain can plant a second session cookie beside the user's ("cookie
/// tossing"). Of the distinct copies, the one that names a live session is used, so a
/// planted dead or foreign cookie cannot lock the user out; if none does, the first copy
/// gives the error; if several do, it is ambiguous which is the user's: each of those
/// sessions is ended (event `SESSILE_EVENT_DUPLICATE_COOKIE`, then `SESSILE_EVENT_REVOKED`)
/// and the answer is `COOKIE_DUPLICATE`, so the next request starts clean.
///
/// # Safety
/// `header` readable for `header_len`; `token`, `token_len` writable; `client` and
/// `session_out` NULL or valid; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_validate_cookie_header(
    engine: *mut sessile_engine,
    header: *const u8,
    header_len: usize,
    now_ms: u64,
    client: *const sessile_client,
    token: *mut *const u8,
    token_len: *mut usize,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        need(token)?;
        need(token_len)?;
        // SAFETY: forwarded contract.
        let (header, client) =
            unsafe { (bytes(header, header_len)?, crate::types::client(client)) };
        with_engine!(engine, now_ms, e => {
            let found = Store::validate_cookie(e, header, now_ms, &client)?;
            // SAFETY: `token` and `token_len` checked non-NULL; the rest forwarded contract.
            unsafe {
                match found {
                    Some((t, s)) => {
                        token.write(t.as_ptr());
                        token_len.write(t.len());
                        session_to(session_out, &s);
                    }
                    None => {
                        token.write(core::ptr::null());
                        token_len.write(0);
                    }
                }
            }
            Ok(())
        })
    })
}

/// Look a token up without touching it: no idle-timer restart, no event, no client check,
/// nothing ended, the engine's clock not moved. For listings and administration (a page of
/// sessions must not keep abandoned ones alive). A live session: OK and its snapshot in
/// `*session_out` (may be NULL). Otherwise what validation would say: `EXPIRED_IDLE` /
/// `EXPIRED_ABSOLUTE` for a session past its deadline at `now_ms` (not ended by the peek),
/// the death of a dead token (`LOGGED_OUT`, `ROTATED_OUT`, ...), `UNKNOWN`, `MALFORMED`.
///
/// # Safety
/// `token` readable for `token_len`; `session_out` NULL or writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_peek(
    engine: *mut sessile_engine,
    token: *const u8,
    token_len: usize,
    now_ms: u64,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let token = unsafe { bytes(token, token_len) }?;
        with_engine!(engine, now_ms, e => {
            let s = Store::peek(e, token, now_ms)?;
            // SAFETY: forwarded contract.
            unsafe { session_to(session_out, &s) };
            Ok(())
        })
    })
}

/// Bind the session to `principal` (1..=`SESSILE_MAX_PRINCIPAL` bytes) and rotate its
/// token: the old token dies (anti-fixation). The new token goes to `token_out` as in
/// `sessile_engine_create`. `session_out` may be NULL.
///
/// # Safety
/// As `sessile_engine_create`; `principal` readable for `principal_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_login(
    engine: *mut sessile_engine,
    token: *const u8,
    token_len: usize,
    principal: *const u8,
    principal_len: usize,
    now_ms: u64,
    token_out: *mut c_char,
    token_cap: usize,
    new_token_len: *mut usize,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        let out = TokenOut::new(token_out, token_cap, new_token_len)?;
        // SAFETY: forwarded contract.
        let (token, principal) =
            unsafe { (bytes(token, token_len)?, bytes(principal, principal_len)?) };
        with_engine!(engine, now_ms, e => {
            out.check(Store::config(e))?;
            let (t, s) = Store::login(e, token, principal, now_ms)?;
            // SAFETY: checked above; forwarded contract.
            unsafe {
                out.write(&t);
                session_to(session_out, &s);
            }
            Ok(())
        })
    })
}

/// Give the session a new token (same data); the old one dies and its reuse is reported.
///
/// # Safety
/// As `sessile_engine_create`; `token` readable for `token_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_rotate(
    engine: *mut sessile_engine,
    token: *const u8,
    token_len: usize,
    now_ms: u64,
    token_out: *mut c_char,
    token_cap: usize,
    new_token_len: *mut usize,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        let out = TokenOut::new(token_out, token_cap, new_token_len)?;
        // SAFETY: forwarded contract.
        let token = unsafe { bytes(token, token_len) }?;
        with_engine!(engine, now_ms, e => {
            out.check(Store::config(e))?;
            let (t, s) = Store::rotate(e, token, now_ms)?;
            // SAFETY: checked above; forwarded contract.
            unsafe {
                out.write(&t);
                session_to(session_out, &s);
            }
            Ok(())
        })
    })
}

/// End the session server-side; later use of the token is reported (`reuse_after_logout`).
///
/// # Safety
/// `token` readable for `token_len`; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_logout(
    engine: *mut sessile_engine,
    token: *const u8,
    token_len: usize,
    now_ms: u64,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let token = unsafe { bytes(token, token_len) }?;
        with_engine!(engine, now_ms, e => Ok(Store::logout(e, token, now_ms)?))
    })
}

/// End one session by handle (e.g. from a "your sessions" page).
///
/// # Safety
/// `engine` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_revoke(
    engine: *mut sessile_engine,
    handle: u64,
    now_ms: u64,
) -> sessile_result {
    run(
        || with_engine!(engine, now_ms, e => Ok(Store::revoke(e, SessionRef::from_u64(handle), now_ms)?)),
    )
}

/// End every session of `principal` ("log out everywhere"); `*count` gets how many were live
/// (one past its deadline but not yet swept ends as expired and is not counted).
///
/// # Safety
/// `principal` readable for `principal_len`; `count` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_revoke_principal(
    engine: *mut sessile_engine,
    principal: *const u8,
    principal_len: usize,
    now_ms: u64,
    count: *mut usize,
) -> sessile_result {
    run(|| {
        need(count)?;
        // SAFETY: forwarded contract.
        let principal = unsafe { bytes(principal, principal_len) }?;
        with_engine!(engine, now_ms, e => {
            let n = Store::revoke_principal(e, principal, now_ms)?;
            // SAFETY: checked non-NULL; writable by contract.
            unsafe { put(count, n) }
        })
    })
}

/// End every live session ("log out everyone", e.g. after a key compromise); `*count`
/// gets how many.
///
/// # Safety
/// `count` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_revoke_all(
    engine: *mut sessile_engine,
    now_ms: u64,
    count: *mut usize,
) -> sessile_result {
    run(|| {
        need(count)?;
        with_engine!(engine, now_ms, e => {
            let n = Store::revoke_all(e, now_ms)?;
            // SAFETY: checked non-NULL; writable by contract.
            unsafe { put(count, n) }
        })
    })
}

/// The engine's latest time (ms): the largest `now_ms` it has been given. Its clock never
/// runs backwards.
///
/// # Safety
/// `out` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_now(
    engine: *mut sessile_engine,
    out: *mut u64,
) -> sessile_result {
    run(|| {
        need(out)?;
        // SAFETY: checked non-NULL.
        with_engine!(engine, e => unsafe { put(out, Extra::latest(e)) })
    })
}

/// The live sessions of `principal` at `now_ms`. With `out == NULL` and `cap == 0`, only `*count` is
/// written (how many there are). Otherwise up to `cap` snapshots go to `out` and `*count`
/// says how many; if there are more than `cap`, `BUFFER_TOO_SMALL` and nothing is written.
///
/// # Safety
/// `out` NULL or writable for `cap` snapshots; `count` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_sessions_of(
    engine: *mut sessile_engine,
    principal: *const u8,
    principal_len: usize,
    now_ms: u64,
    out: *mut sessile_session,
    cap: usize,
    count: *mut usize,
) -> sessile_result {
    run(|| {
        need(count)?;
        if out.is_null() && cap != 0 {
            return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        let principal = unsafe { bytes(principal, principal_len) }?;
        // Write the listing only once it is known to fit. An engine in caller memory has
        // no allocator: it counts, then lists the same table again under the caller's one
        // thread. A heap engine lists once (over a shared store, one round trip, and
        // the count is that of the list written).
        let write = |list: &mut dyn Iterator<Item = sessile_core::Session>, n: usize| {
            if !out.is_null() {
                if n > cap {
                    return Err(R::SESSILE_RESULT_BUFFER_TOO_SMALL);
                }
                for (i, s) in list.enumerate().take(n) {
                    // SAFETY: `i < n <= cap` and `out` is writable for `cap` snapshots.
                    unsafe { crate::types::write_session(out.add(i), &s) };
                }
            }
            // SAFETY: checked non-NULL; writable by contract.
            unsafe { put(count, n) }
        };
        // SAFETY: `engine` is NULL or live (contract).
        match unsafe { access(engine) }? {
            #[cfg(feature = "std")]
            Access::Heap(backend) => {
                check_now(backend, now_ms)?;
                let all: Vec<_> = backend
                    .with(|s| Store::sessions_of(s, principal, now_ms).map(|l| l.collect()))?;
                write(&mut all.iter().copied(), all.len())
            }
            Access::Place(e) => {
                let n = Store::sessions_of(e, principal, now_ms)?.count();
                write(&mut Store::sessions_of(e, principal, now_ms)?, n)
            }
        }
    })
}

/// A snapshot of the session behind `handle` at `now_ms` (`STALE_HANDLE` once it has
/// ended, `EXPIRED_IDLE` / `EXPIRED_ABSOLUTE` when it is past its deadline: it ends then).
/// Does not count as use.
///
/// # Safety
/// `out` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_session(
    engine: *mut sessile_engine,
    handle: u64,
    now_ms: u64,
    out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        need(out)?;
        with_engine!(engine, now_ms, e => {
            let s = Store::session(e, SessionRef::from_u64(handle), now_ms)?;
            // SAFETY: checked non-NULL; writable by contract.
            unsafe { session_to(out, &s) };
            Ok(())
        })
    })
}

/// Override one session's timeouts. A NULL `idle_ms` / `absolute_ms` keeps that timeout;
/// a value must be 1..=the configured maximum (`INVALID_TIMEOUT`). `session_out` may be NULL.
///
/// # Safety
/// Each pointer NULL or valid; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_set_timeouts(
    engine: *mut sessile_engine,
    handle: u64,
    idle_ms: *const u32,
    absolute_ms: *const u32,
    now_ms: u64,
    session_out: *mut sessile_session,
) -> sessile_result {
    run(|| {
        // SAFETY: NULL or readable, by contract.
        let (idle, absolute) =
            unsafe { (idle_ms.as_ref().copied(), absolute_ms.as_ref().copied()) };
        with_engine!(engine, now_ms, e => {
            let s = Store::set_timeouts(e, SessionRef::from_u64(handle), idle, absolute, now_ms)?;
            // SAFETY: forwarded contract.
            unsafe { session_to(session_out, &s) };
            Ok(())
        })
    })
}

/// Replace the session's payload (at most `max_payload` bytes; `data` must not be NULL,
/// even for an empty payload). If it does not fit, the old payload stays.
///
/// # Safety
/// `data` readable for `len`; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_write(
    engine: *mut sessile_engine,
    handle: u64,
    data: *const u8,
    len: usize,
    now_ms: u64,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let data = unsafe { bytes(data, len) }?;
        with_engine!(engine, now_ms, e => Ok(Store::write(e, SessionRef::from_u64(handle), data, now_ms)?))
    })
}

/// What `sessile_engine_save` did.
#[repr(u32)]
pub enum sessile_saved {
    /// The new payload is stored.
    SESSILE_SAVED_WRITTEN = 0,
    /// The payload already held these bytes: nothing was written.
    SESSILE_SAVED_UNCHANGED = 1,
    /// The session ended, or its token changed, since the request loaded it: nothing was
    /// written, and the response must not send the cookie it loaded.
    SESSILE_SAVED_DROPPED = 2,
}

/// The request seam's *save*: store `data` as the payload of the session a request
/// loaded (`handle` and `epoch` from its `sessile_session`), at the end of that request.
/// Writes only when the bytes differ; never lands on a session that was logged out,
/// revoked, expired, logged in or rotated since it was loaded (`*saved` then says
/// `SESSILE_SAVED_DROPPED`). A payload over `max_payload` or with no room is an error,
/// and the stored one stays.
///
/// # Safety
/// `data` readable for `len` (not NULL, even when `len` is 0); `saved` writable;
/// `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_save(
    engine: *mut sessile_engine,
    handle: u64,
    epoch: u32,
    data: *const u8,
    len: usize,
    now_ms: u64,
    saved: *mut u32,
) -> sessile_result {
    run(|| {
        need(saved)?;
        // SAFETY: forwarded contract.
        let data = unsafe { bytes(data, len) }?;
        with_engine!(engine, now_ms, e => {
            let r = Store::save(e, SessionRef::from_u64(handle), epoch, data, now_ms)?;
            let code = match r {
                sessile_core::Saved::Written => sessile_saved::SESSILE_SAVED_WRITTEN,
                sessile_core::Saved::Unchanged => sessile_saved::SESSILE_SAVED_UNCHANGED,
                sessile_core::Saved::Dropped => sessile_saved::SESSILE_SAVED_DROPPED,
            };
            // SAFETY: checked non-NULL.
            unsafe { put(saved, code as u32) }
        })
    })
}

/// The request seam's *load*, in one call (one lock): as
/// `sessile_engine_validate_cookie_header`, then the session's payload copied into `out`
/// (`cap` bytes, its length in `*len`). No session cookie in the header: OK with
/// `*token` NULL and `*len` 0. A payload larger than `cap` is `BUFFER_TOO_SMALL` and
/// nothing is written (the session was validated all the same); a buffer of the
/// config's `max_payload` bytes always suffices.
///
/// # Safety
/// `header` readable for `header_len`; `token`, `token_len`, `len` writable; `out`
/// writable for `cap`; `client` and `session_out` NULL or valid; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_load_cookie_header(
    engine: *mut sessile_engine,
    header: *const u8,
    header_len: usize,
    now_ms: u64,
    client: *const sessile_client,
    token: *mut *const u8,
    token_len: *mut usize,
    session_out: *mut sessile_session,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> sessile_result {
    run(|| {
        need(token)?;
        need(token_len)?;
        need(out)?;
        need(len)?;
        // SAFETY: forwarded contract.
        let (header, client) =
            unsafe { (bytes(header, header_len)?, crate::types::client(client)) };
        // SAFETY: non-NULL and writable for `cap` bytes by contract.
        let buf = unsafe { core::slice::from_raw_parts_mut(out, cap) };
        with_engine!(engine, now_ms, e => {
            let Some(found) = Store::load_cookie(e, header, now_ms, &client)? else {
                // SAFETY: checked non-NULL.
                unsafe {
                    token.write(core::ptr::null());
                    token_len.write(0);
                    len.write(0);
                }
                return Ok(());
            };
            let n = copy_payload(found.payload, found.session.payload_len as usize, buf)?;
            // SAFETY: checked non-NULL; the rest forwarded contract.
            unsafe {
                session_to(session_out, &found.session);
                token.write(found.token.as_ptr());
                token_len.write(found.token.len());
                len.write(n);
            }
            Ok(())
        })
    })
}

/// Copy the payload into `out` (`cap` bytes) and its length into `*len`. A payload larger
/// than `cap` is `BUFFER_TOO_SMALL` (its size is `sessile_session.payload_len`).
///
/// # Safety
/// `out` writable for `cap` bytes; `len` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_read(
    engine: *mut sessile_engine,
    handle: u64,
    now_ms: u64,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> sessile_result {
    run(|| {
        need(out)?;
        need(len)?;
        // SAFETY: non-NULL and writable for `cap` bytes by contract.
        let buf = unsafe { core::slice::from_raw_parts_mut(out, cap) };
        with_engine!(engine, now_ms, e => {
            let n = Store::read(e, SessionRef::from_u64(handle), buf, now_ms)?;
            // SAFETY: checked non-NULL.
            unsafe { put(len, n) }
        })
    })
}

/// Reclaim every session whose deadline has passed; `*count` gets how many.
///
/// # Safety
/// `count` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_sweep(
    engine: *mut sessile_engine,
    now_ms: u64,
    count: *mut usize,
) -> sessile_result {
    run(|| {
        need(count)?;
        with_engine!(engine, now_ms, e => {
            let n = Store::sweep(e, now_ms)?;
            // SAFETY: checked non-NULL.
            unsafe { put(count, n) }
        })
    })
}

/// Take the oldest waiting event into `*out`: `SESSILE_RESULT_OK`, or
/// `SESSILE_RESULT_NO_EVENT` (nothing written) when none is waiting. Drain with
/// `while (sessile_engine_next_event(engine, &ev) == SESSILE_RESULT_OK) { ... }`.
///
/// # Safety
/// `out` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_next_event(
    engine: *mut sessile_engine,
    out: *mut sessile_event,
) -> sessile_result {
    run(|| {
        need(out)?;
        with_engine!(engine, e => match Store::pop_event(e) {
            // SAFETY: checked non-NULL.
            Some(ev) => unsafe { put(out, (&ev).into()) },
            None => Err(R::SESSILE_RESULT_NO_EVENT),
        })
    })
}

/// Counters into `*out`.
///
/// # Safety
/// `out` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_stats(
    engine: *mut sessile_engine,
    out: *mut sessile_stats,
) -> sessile_result {
    run(|| {
        need(out)?;
        // SAFETY: checked non-NULL.
        with_engine!(engine, e => unsafe { put(out, Store::stats(e).into()) })
    })
}

/// The Set-Cookie value carrying `token` for the session `handle`, living until the
/// session's absolute deadline (the core's Max-Age, counted from `now_ms`). NUL-terminated
/// into `out` (`SESSILE_SET_COOKIE_BUFFER` bytes are always enough). A session that has
/// ended gives that error; a token that is not cookie-safe text is `INVALID_ARGUMENT`.
///
/// # Safety
/// `token` readable for `token_len`; `out` writable for `cap`; `len` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_set_cookie(
    engine: *mut sessile_engine,
    token: *const u8,
    token_len: usize,
    handle: u64,
    now_ms: u64,
    out: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let token = unsafe { bytes(token, token_len) }?;
        let token = core::str::from_utf8(token).map_err(|_| R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        with_engine!(engine, now_ms, e => {
            let v = match Store::set_cookie(e, token, SessionRef::from_u64(handle), now_ms) {
                Ok(v) => v,
                Err(sessile_core::Error::Session(sessile_core::Invalid::Malformed)) => {
                    return Err(R::SESSILE_RESULT_INVALID_ARGUMENT)
                }
                Err(other) => return Err(other.into()),
            };
            // SAFETY: forwarded contract.
            unsafe { write_text(v.as_bytes(), out, cap, len) }
        })
    })
}

/// The Set-Cookie value that deletes the session cookie (after logout), NUL-terminated.
///
/// # Safety
/// `out` writable for `cap`; `len` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_clear_cookie(
    engine: *mut sessile_engine,
    out: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> sessile_result {
    run(|| {
        with_engine!(engine, e => {
            let v = Store::clear_cookie(e).ok_or(R::SESSILE_RESULT_INVALID_ARGUMENT)?;
            // SAFETY: forwarded contract.
            unsafe { write_text(v.as_bytes(), out, cap, len) }
        })
    })
}

/// Find the session token in a Cookie request header. On OK, `*token` points into
/// `header` (not NUL-terminated; valid as long as `header` is) and `*token_len` is its
/// length, or `*token` is NULL and `*token_len` 0 when the header has no session cookie.
/// A header over 16 KiB or carrying the cookie twice with different values is an error
/// (`COOKIE_HEADER_TOO_LONG`, `COOKIE_DUPLICATE`): treat the request as having no session.
/// To serve a request, prefer `sessile_engine_validate_cookie_header`: it finds and
/// validates in one call, and a second, planted copy of the cookie does not lock the user
/// out there.
///
/// # Safety
/// `header` readable for `header_len`; `token` and `token_len` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_token_from_cookie_header(
    engine: *mut sessile_engine,
    header: *const u8,
    header_len: usize,
    token: *mut *const u8,
    token_len: *mut usize,
) -> sessile_result {
    run(|| {
        need(token)?;
        need(token_len)?;
        // SAFETY: forwarded contract.
        let header = unsafe { bytes(header, header_len) }?;
        with_engine!(engine, e => {
            let name = Store::config(e).cookie.name.as_str();
            let found = sessile_core::cookie::parse_cookie(header, name)?;
            let (p, n) = found.map_or((core::ptr::null(), 0), |t| (t.as_ptr(), t.len()));
            // SAFETY: both checked non-NULL.
            unsafe {
                token.write(p);
                token_len.write(n);
            }
            Ok(())
        })
    })
}
