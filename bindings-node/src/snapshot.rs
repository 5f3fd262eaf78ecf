//! `engine.snapshot(path, key)` and `engine.restoreFrom(path, key)`: the in-process table
//! carried across a restart of its process (the methods are declared in lib.rs, in the
//! `Engine` class napi types). The file, its encryption and every check
//! are the core's (`sessile::snapshot`, `sessile::shared::write_atomically`). An engine
//! over a shared store has no table of its own to carry: `SESSILE_SNAPSHOT` with reason
//! `snapshot_shared_store` (the store keeps its sessions: Redis persistence, AOF).

use napi::bindgen_prelude::{Env, JsObjectValue, Status};
use napi::{Error, Result};
use napi_derive::napi;
use sessile::shared::{FileError, SharedEngine, wall_ms};
use sessile::snapshot::{Clocks, DEFAULT_MAX_AGE_MS};

use crate::NativeEngine;
use crate::error::{arg_error, throw};

/// Options of `engine.snapshot`.
#[napi(object)]
pub struct SnapshotOptions {
    /// Wall-clock time of the snapshot, ms since the epoch (default: `Date.now()`); for
    /// tests.
    pub wall_ms: Option<f64>,
}

/// Options of `engine.restoreFrom` (and `Engine.restore`).
#[napi(object)]
pub struct RestoreOptions {
    /// The oldest snapshot accepted, ms (default one hour): an older one is refused
    /// (`snapshot_stale`), as it may bring back sessions logged out since.
    pub max_age_ms: Option<f64>,
    /// Wall-clock time of the restore, ms since the epoch (default: `Date.now()`); for
    /// tests.
    pub wall_ms: Option<f64>,
}

/// What a restore brought back.
#[napi(object)]
pub struct Restored {
    /// Sessions live again.
    pub sessions: u32,
    /// Sessions whose deadline passed before the restore (their tokens answer
    /// `expired_idle` or `expired_absolute`).
    pub expired: u32,
    /// Dead tokens remembered (logged out, rotated out, ...), the expired ones included.
    pub tombstones: u32,
}

fn whole_ms(env: &Env, name: &str, v: Option<f64>, default: u64) -> Result<u64> {
    match v {
        None => Ok(default),
        // Below 2^53, where every whole number is exact.
        Some(x)
            if x.is_finite()
                && x.fract() == 0.0
                && (0.0..9.007_199_254_740_992e15).contains(&x) =>
        {
            Ok(x as u64)
        }
        Some(_) => Err(arg_error(
            env,
            name,
            "must be a whole number of milliseconds >= 0",
        )?),
    }
}

/// A file system error as Node's fs reports one (`code` `ENOENT`, `EACCES`, ...), or a
/// refused snapshot as `SESSILE_SNAPSHOT`.
fn file_error(env: &Env, e: FileError) -> Result<Error> {
    let io = match e {
        FileError::Engine(e) => return throw(env, e),
        FileError::Io(io) => io,
    };
    let code = match io.kind() {
        std::io::ErrorKind::NotFound => "ENOENT",
        std::io::ErrorKind::PermissionDenied => "EACCES",
        std::io::ErrorKind::AlreadyExists => "EEXIST",
        std::io::ErrorKind::InvalidInput => "EINVAL",
        _ => "EIO",
    };
    let mut obj = env.create_error(Error::new(
        Status::GenericFailure,
        format!("snapshot file: {io}"),
    ))?;
    obj.set_named_property("code", code)?;
    if let Some(errno) = io.raw_os_error() {
        obj.set_named_property("errno", errno)?;
    }
    env.throw(obj)?;
    Ok(Error::new(Status::PendingException, String::new()))
}

/// The in-process table, or the typed refusal for an engine over a shared store.
fn table<'a>(engine: &'a NativeEngine, env: &Env) -> Result<&'a SharedEngine> {
    engine.inner.table().or_else(|e| Err(throw(env, e)?))
}

/// `engine.snapshot` (see lib.rs, where napi sees it as a method of `Engine`).
pub(crate) fn snapshot(
    engine: &NativeEngine,
    env: &Env,
    path: &str,
    key: &[u8],
    options: Option<SnapshotOptions>,
) -> Result<f64> {
    let wall = whole_ms(env, "wallMs", options.and_then(|o| o.wall_ms), wall_ms())?;
    let at = Clocks {
        now_ms: engine.now(env)?,
        wall_ms: wall,
    };
    match table(engine, env)?.snapshot_to(path.as_ref(), key, at) {
        Ok(n) => Ok(n as f64),
        Err(e) => Err(file_error(env, e)?),
    }
}

/// `engine.restoreFrom` (see lib.rs).
pub(crate) fn restore_from(
    engine: &NativeEngine,
    env: &Env,
    path: &str,
    key: &[u8],
    options: Option<RestoreOptions>,
) -> Result<Restored> {
    let (max_age, wall) = match options {
        Some(o) => (o.max_age_ms, o.wall_ms),
        None => (None, None),
    };
    let max_age_ms = whole_ms(env, "maxAgeMs", max_age, DEFAULT_MAX_AGE_MS)?;
    let wall = whole_ms(env, "wallMs", wall, wall_ms())?;
    let at = Clocks {
        now_ms: engine.now(env)?,
        wall_ms: wall,
    };
    match table(engine, env)?.restore_from(path.as_ref(), key, at, max_age_ms) {
        Ok(r) => Ok(Restored {
            sessions: r.sessions,
            expired: r.expired,
            tombstones: r.tombstones,
        }),
        Err(e) => Err(file_error(env, e)?),
    }
}
