//! The one error type, and why a token is not valid.

use crate::config::ConfigError;
use crate::cookie::CookieError;

/// Which deadline ended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// Not seen for longer than its idle timeout.
    Idle,
    /// Older than its absolute timeout.
    Absolute,
}

/// Why a presented token does not name a live session. Strict mode: none of these ever
/// turns valid again, and none is ever adopted as a new session's ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invalid {
    /// Not a token this engine could have issued (wrong length or alphabet).
    Malformed,
    /// Well formed, but no session has it and no tombstone remembers it.
    Unknown,
    /// The session timed out.
    Expired(Expiry),
    /// The session was logged out; presenting it again is a security event.
    LoggedOut,
    /// The token was replaced by rotation or login; presenting it again is a security event.
    RotatedOut,
    /// The session was revoked ("log out everywhere", or the rotated-reuse policy).
    Revoked,
    /// The session was evicted to make room.
    Evicted,
    /// The client changed and the policy is `Enforce`; the session itself stays alive.
    ClientMismatch,
}

impl Invalid {
    /// Stable snake_case code, the same in every binding and in the conformance vectors.
    pub const fn code(self) -> &'static str {
        match self {
            Invalid::Malformed => "malformed",
            Invalid::Unknown => "unknown",
            Invalid::Expired(Expiry::Idle) => "expired_idle",
            Invalid::Expired(Expiry::Absolute) => "expired_absolute",
            Invalid::LoggedOut => "logged_out",
            Invalid::RotatedOut => "rotated_out",
            Invalid::Revoked => "revoked",
            Invalid::Evicted => "evicted",
            Invalid::ClientMismatch => "client_mismatch",
        }
    }
}

impl core::fmt::Display for Invalid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Invalid::Malformed => "malformed session token",
            Invalid::Unknown => "unknown session",
            Invalid::Expired(Expiry::Idle) => "session expired (idle timeout)",
            Invalid::Expired(Expiry::Absolute) => "session expired (absolute timeout)",
            Invalid::LoggedOut => "session was logged out",
            Invalid::RotatedOut => "session token was rotated out",
            Invalid::Revoked => "session was revoked",
            Invalid::Evicted => "session was evicted",
            Invalid::ClientMismatch => "session used from a different client",
        })
    }
}

/// Why a session store outside this process (Redis, Valkey) could not answer. The
/// in-process table never gives these. Every one fails closed: no token is taken as
/// valid, nothing is written, and the next call tries again (a store that comes back
/// needs no restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreError {
    /// The store cannot be reached (connection refused, closed or reset).
    Unavailable,
    /// The store did not answer within the configured timeout.
    Timeout,
    /// The store answered with an error: out of memory (`maxmemory`), permission
    /// denied (ACL), a read-only replica, a script it will not run, ...
    Refused,
    /// Other requests kept changing what this one read, more times than the store's
    /// retry bound: nothing was written; the call may be repeated.
    Conflict,
    /// The store holds data this code did not write (another program's keys under the
    /// same prefix, or tampering): it is not used.
    Corrupt,
    /// The store's own configuration is unusable (its URL, key or prefix).
    Config,
}

impl StoreError {
    /// Stable snake_case code, the same in every binding.
    pub const fn code(self) -> &'static str {
        match self {
            StoreError::Unavailable => "store_unavailable",
            StoreError::Timeout => "store_timeout",
            StoreError::Refused => "store_refused",
            StoreError::Conflict => "store_conflict",
            StoreError::Corrupt => "store_corrupt",
            StoreError::Config => "store_config",
        }
    }

    /// Every code [`StoreError::code`] can return.
    pub const CODES: [&'static str; 6] = [
        "store_unavailable",
        "store_timeout",
        "store_refused",
        "store_conflict",
        "store_corrupt",
        "store_config",
    ];
}

impl core::fmt::Display for StoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            StoreError::Unavailable => "session store unavailable",
            StoreError::Timeout => "session store did not answer in time",
            StoreError::Refused => "session store refused the command",
            StoreError::Conflict => "session store busy with concurrent changes; retry",
            StoreError::Corrupt => "session store holds data sessile did not write",
            StoreError::Config => "session store configuration is unusable",
        })
    }
}

/// Why a snapshot was not written, or why a restore refused one (the engine then stays
/// empty). Checked in this order, so the first that applies is the one reported: the
/// key, the file's shape (magic, version, length), the key check, authentication, the
/// times, the config, the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SnapshotError {
    /// The key is not 32 bytes, or is all zeros (an unset key, never a chosen one).
    Key,
    /// Not a sessile snapshot (its first bytes are not the snapshot magic).
    NotASnapshot,
    /// A snapshot format this version of sessile does not read, or one whose keyed
    /// digests are another width's (a 64-bit build's file on a 32-bit build, or the
    /// reverse: `sessile::snapshot::DIGESTS`).
    UnknownVersion,
    /// Shorter than its header says: cut off while being written or copied.
    Truncated,
    /// Written under another key (or its key check bytes were changed).
    WrongKey,
    /// Authentication failed: a byte of the header or body was changed, or bytes were
    /// appended.
    Tampered,
    /// Written at a wall-clock time after the restore's: a clock is wrong, and
    /// deadlines converted with it could be extended.
    Future,
    /// Older than the caller's maximum age: it may bring back sessions that were logged
    /// out after it was written (a rollback).
    Stale,
    /// The new configuration is smaller than the one it was written with, or issues
    /// tokens of another length; `key` names the config key.
    DoesNotFit {
        /// The config key (`capacity`, `pool_bytes`, `max_payload`, `token_bytes`).
        key: &'static str,
    },
    /// Authentic but inconsistent: written by a faulty program holding the key.
    Corrupt,
    /// Restore is for an engine that holds nothing yet (no session, no tombstone).
    NotEmpty,
    /// Snapshot and restore are for the in-process table: the engine's sessions live in
    /// a shared store (Redis), which keeps them across restarts itself.
    SharedStore,
}

impl SnapshotError {
    /// Stable snake_case code, the same in every binding (prefixed, like the cookie
    /// config's codes, so each is unique among all the codes a C caller sees).
    pub const fn code(&self) -> &'static str {
        match self {
            SnapshotError::Key => "snapshot_key",
            SnapshotError::NotASnapshot => "snapshot_unrecognized",
            SnapshotError::UnknownVersion => "snapshot_version",
            SnapshotError::Truncated => "snapshot_truncated",
            SnapshotError::WrongKey => "snapshot_wrong_key",
            SnapshotError::Tampered => "snapshot_tampered",
            SnapshotError::Future => "snapshot_future",
            SnapshotError::Stale => "snapshot_stale",
            SnapshotError::DoesNotFit { .. } => "snapshot_does_not_fit",
            SnapshotError::Corrupt => "snapshot_corrupt",
            SnapshotError::NotEmpty => "snapshot_not_empty",
            SnapshotError::SharedStore => "snapshot_shared_store",
        }
    }

    /// Every code [`SnapshotError::code`] can return.
    pub const CODES: [&'static str; 12] = [
        "snapshot_key",
        "snapshot_unrecognized",
        "snapshot_version",
        "snapshot_truncated",
        "snapshot_wrong_key",
        "snapshot_tampered",
        "snapshot_future",
        "snapshot_stale",
        "snapshot_does_not_fit",
        "snapshot_corrupt",
        "snapshot_not_empty",
        "snapshot_shared_store",
    ];
}

impl core::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SnapshotError::Key => f.write_str("the snapshot key must be 32 bytes, not all zero"),
            SnapshotError::NotASnapshot => f.write_str("not a sessile snapshot"),
            SnapshotError::UnknownVersion => f.write_str("unknown snapshot format version"),
            SnapshotError::Truncated => f.write_str("the snapshot is truncated"),
            SnapshotError::WrongKey => f.write_str("the snapshot was written under another key"),
            SnapshotError::Tampered => {
                f.write_str("the snapshot failed authentication (changed or extended)")
            }
            SnapshotError::Future => {
                f.write_str("the snapshot was written later than the current wall-clock time")
            }
            SnapshotError::Stale => f.write_str("the snapshot is older than its maximum age"),
            SnapshotError::DoesNotFit { key } => {
                write!(f, "the snapshot does not fit this configuration ({key})")
            }
            SnapshotError::Corrupt => f.write_str("the snapshot is authentic but inconsistent"),
            SnapshotError::NotEmpty => {
                f.write_str("a snapshot is restored only into an engine that holds nothing")
            }
            SnapshotError::SharedStore => f.write_str(
                "snapshot and restore are for the in-process table; a shared store keeps its \
                 sessions itself (Redis persistence: AOF)",
            ),
        }
    }
}

/// Everything that can go wrong, as one typed enum. No input makes the engine panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The table is full of sessions that may not be evicted.
    CapacityExhausted,
    /// The payload pool has no room, even after reclaiming expired and anonymous sessions.
    PoolExhausted,
    /// The payload is larger than the per-session cap.
    PayloadTooLarge,
    /// The principal is empty or longer than [`crate::config::MAX_PRINCIPAL`].
    InvalidPrincipal,
    /// The principal has its maximum number of sessions and the policy is `Refuse`.
    PrincipalLimit,
    /// A per-session timeout override is zero or above the configured maximum.
    InvalidTimeout,
    /// The configuration breaks a rule.
    Config(ConfigError),
    /// The token does not name a live session.
    Session(Invalid),
    /// The handle names a session that has ended (its slot may hold another session now).
    StaleHandle,
    /// The Cookie header could not be used.
    Cookie(CookieError),
    /// An output buffer is too small.
    BufferTooSmall,
    /// Storage handed to the engine does not match the config's sizes.
    StorageSize,
    /// The operating system's entropy source failed.
    Entropy,
    /// The memory for the engine's storage could not be allocated (capacity or pool
    /// too large for this machine). Returned by construction only.
    OutOfMemory,
    /// A session store outside this process failed (see [`StoreError`]); never from
    /// the in-process table.
    Store(StoreError),
    /// A snapshot could not be written or was refused on restore (the engine is then
    /// left empty); the reason says why.
    Snapshot(SnapshotError),
}

impl Error {
    /// Stable snake_case code of the variant (`"session"` for [`Error::Session`]; see
    /// [`Invalid::code`] for the reason). Bindings derive their exception classes and
    /// error codes from these.
    pub const fn code(&self) -> &'static str {
        match self {
            Error::CapacityExhausted => "capacity_exhausted",
            Error::PoolExhausted => "pool_exhausted",
            Error::PayloadTooLarge => "payload_too_large",
            Error::InvalidPrincipal => "invalid_principal",
            Error::PrincipalLimit => "principal_limit",
            Error::InvalidTimeout => "invalid_timeout",
            Error::Config(_) => "config",
            Error::Session(_) => "session",
            Error::StaleHandle => "stale_handle",
            Error::Cookie(_) => "cookie",
            Error::BufferTooSmall => "buffer_too_small",
            Error::StorageSize => "storage_size",
            Error::Entropy => "entropy",
            Error::OutOfMemory => "out_of_memory",
            Error::Store(_) => "store",
            Error::Snapshot(_) => "snapshot",
        }
    }

    /// True for a failure of the store rather than of the request: the request's own
    /// inputs were not judged (a caller answers "try again later", e.g. HTTP 503).
    pub const fn is_store(&self) -> bool {
        matches!(self, Error::Store(_))
    }

    /// Every code [`Error::code`] can return.
    pub const CODES: [&'static str; 16] = [
        "capacity_exhausted",
        "pool_exhausted",
        "payload_too_large",
        "invalid_principal",
        "principal_limit",
        "invalid_timeout",
        "config",
        "session",
        "stale_handle",
        "cookie",
        "buffer_too_small",
        "storage_size",
        "entropy",
        "out_of_memory",
        "store",
        "snapshot",
    ];
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::CapacityExhausted => f.write_str("session table is full"),
            Error::PoolExhausted => f.write_str("payload pool is full"),
            Error::PayloadTooLarge => f.write_str("payload exceeds the per-session limit"),
            Error::InvalidPrincipal => f.write_str("principal is empty or too long"),
            Error::PrincipalLimit => f.write_str("principal has too many sessions"),
            Error::InvalidTimeout => f.write_str("timeout is zero or above the configured maximum"),
            Error::Config(e) => write!(f, "invalid configuration: {e}"),
            Error::Session(why) => write!(f, "{why}"),
            Error::StaleHandle => f.write_str("session handle is stale"),
            Error::Cookie(e) => write!(f, "cookie header: {e}"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
            Error::StorageSize => f.write_str("storage does not match the configuration"),
            Error::Entropy => f.write_str("operating system entropy unavailable"),
            Error::OutOfMemory => {
                f.write_str("not enough memory for the configured capacity and pool")
            }
            Error::Store(e) => write!(f, "{e}"),
            Error::Snapshot(e) => write!(f, "snapshot: {e}"),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Session(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<SnapshotError> for Error {
    fn from(e: SnapshotError) -> Self {
        Error::Snapshot(e)
    }
}

impl From<CookieError> for Error {
    fn from(e: CookieError) -> Self {
        Error::Cookie(e)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
