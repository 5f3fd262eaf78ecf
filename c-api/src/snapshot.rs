//! Snapshot and restore of an engine's whole table across a restart of its process (not
//! in the `no_std` build): into and out of caller buffers, so the caller chooses where the bytes
//! go (write them to a temporary file and rename it over the old one). Only an engine
//! whose sessions live in this process has a table to snapshot: over a shared store
//! (Redis) these calls are `SNAPSHOT_SHARED_STORE`, as that store keeps its sessions itself.

use sessile_core::snapshot::{Clocks, Restored};

use crate::boundary::run;
use crate::engine::{Access, access, need, put, sessile_engine};
use crate::result::sessile_result;
use crate::types::bytes;

/// Run `$body` with `$e`, the in-process table (`&mut Engine<_>`) of a heap engine without
/// a shared store or of an engine in caller memory; `SNAPSHOT_SHARED_STORE` over a shared
/// store (the core's `SnapshotError::SharedStore`, as in every binding).
macro_rules! with_table {
    ($p:expr, $e:ident => $body:expr) => {{
        // SAFETY: `$p` is NULL or a live engine: the contract of every engine function.
        match unsafe { access($p) }? {
            Access::Heap(backend) => match backend.table() {
                Ok(shared) => shared.with(|$e| $body),
                Err(e) => Err(sessile_result::from(e)),
            },
            Access::Place($e) => $body,
        }
    }};
}

/// Bytes of a snapshot key.
pub const SESSILE_SNAPSHOT_KEY_BYTES: usize = 32;
/// The oldest snapshot the Python and Node bindings restore by default: one hour (ms).
pub const SESSILE_SNAPSHOT_DEFAULT_MAX_AGE_MS: u64 = 3_600_000;

const _: () = assert!(SESSILE_SNAPSHOT_KEY_BYTES == sessile_core::snapshot::KEY_BYTES);
const _: () =
    assert!(SESSILE_SNAPSHOT_DEFAULT_MAX_AGE_MS == sessile_core::snapshot::DEFAULT_MAX_AGE_MS);

/// What `sessile_engine_restore` brought back.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct sessile_restored {
    /// Sessions live again.
    pub sessions: u32,
    /// Sessions whose deadline passed before the restore: their tokens answer
    /// `EXPIRED_IDLE` or `EXPIRED_ABSOLUTE`.
    pub expired: u32,
    /// Dead tokens remembered (logged out, rotated out, ...), the expired ones included.
    pub tombstones: u32,
}

impl From<Restored> for sessile_restored {
    fn from(r: Restored) -> Self {
        sessile_restored {
            sessions: r.sessions,
            expired: r.expired,
            tombstones: r.tombstones,
        }
    }
}

/// `*size` gets the bytes `sessile_engine_snapshot` needs now. Other threads may change
/// the table in between: on `SESSILE_RESULT_BUFFER_TOO_SMALL` ask again. An engine over a
/// shared store has no table here: `SESSILE_RESULT_SNAPSHOT_SHARED_STORE`.
///
/// # Safety
/// `size` writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_snapshot_size(
    engine: *mut sessile_engine,
    size: *mut usize,
) -> sessile_result {
    run(|| {
        need(size)?;
        // SAFETY: checked non-NULL.
        with_table!(engine, e => unsafe { put(size, e.snapshot_len()) })
    })
}

/// Write a snapshot of the whole table into `out` (`*out_len` gets its length):
/// encrypted and authenticated under `key` (`SESSILE_SNAPSHOT_KEY_BYTES` random bytes you
/// keep secret, e.g. from a secrets manager; the same key restores it). Deadlines are
/// written against `wall_ms`, wall-clock milliseconds since the Unix epoch
/// (CLOCK_REALTIME), so they keep counting while the process is down; `now_ms` is the
/// engine's monotonic clock as in every call. The engine keeps serving: take one on
/// graceful shutdown and on demand.
///
/// `SESSILE_RESULT_SNAPSHOT_SHARED_STORE` for an engine over a shared store (Redis keeps its
/// sessions itself: run it with AOF on); `SESSILE_RESULT_SNAPSHOT_KEY` for a key that is
/// not 32 bytes or is all zeros;
/// `SESSILE_RESULT_BUFFER_TOO_SMALL` (nothing useful written) when `out_cap` is below
/// `sessile_engine_snapshot_size`; `SESSILE_RESULT_ENTROPY` in a forked child that
/// cannot reseed.
///
/// # Safety
/// `key` readable for `key_len`; `out` writable for `out_cap`; `out_len` writable;
/// `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_snapshot(
    engine: *mut sessile_engine,
    key: *const u8,
    key_len: usize,
    now_ms: u64,
    wall_ms: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> sessile_result {
    run(|| {
        need(out_len)?;
        need(out)?;
        // SAFETY: forwarded contract.
        let key = unsafe { bytes(key, key_len) }?;
        // SAFETY: `out` is non-NULL and writable for `out_cap` bytes (contract).
        let buf = unsafe { core::slice::from_raw_parts_mut(out, out_cap) };
        let at = Clocks { now_ms, wall_ms };
        with_table!(engine, e => {
            let n = e.snapshot_into(key, at, buf)?;
            // SAFETY: checked non-NULL.
            unsafe { put(out_len, n) }
        })
    })
}

/// Restore a snapshot into `engine`, which must hold nothing yet (just built with a
/// config at least as large as the snapshot's: capacity, pool_bytes, max_payload, and
/// the same token_bytes). Every session live at `wall_ms` comes back with its token,
/// principal, payload and deadlines; every logged-out and rotated-out token still
/// answers so; a session whose deadline passed meanwhile answers `EXPIRED_*`.
/// `restored` may be NULL.
///
/// Refused with a `SESSILE_RESULT_SNAPSHOT_*` code, the engine then holding nothing (and
/// working): `KEY`, `UNRECOGNIZED` (another file), `VERSION`, `TRUNCATED`, `WRONG_KEY`,
/// `TAMPERED`, `FUTURE` (written after `wall_ms`), `STALE` (older than `max_age_ms`;
/// `SESSILE_SNAPSHOT_DEFAULT_MAX_AGE_MS` is a sound choice), `DOES_NOT_FIT`, `CORRUPT`,
/// `NOT_EMPTY`. An engine over a shared store is `SESSILE_RESULT_SNAPSHOT_SHARED_STORE`. The
/// bytes are read, never changed.
///
/// # Safety
/// `snapshot` readable for `len`; `key` readable for `key_len`; `restored` NULL or
/// writable; `engine` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_restore(
    engine: *mut sessile_engine,
    snapshot: *const u8,
    len: usize,
    key: *const u8,
    key_len: usize,
    now_ms: u64,
    wall_ms: u64,
    max_age_ms: u64,
    restored: *mut sessile_restored,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let (file, key) = unsafe { (bytes(snapshot, len)?, bytes(key, key_len)?) };
        let at = Clocks { now_ms, wall_ms };
        with_table!(engine, e => {
            let done = e.restore(file, key, at, max_age_ms)?;
            if !restored.is_null() {
                // SAFETY: non-NULL and writable (contract).
                unsafe { restored.write(done.into()) };
            }
            Ok(())
        })
    })
}
