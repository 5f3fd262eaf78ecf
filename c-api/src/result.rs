//! Result codes: one per core error variant (and per session, cookie and config reason),
//! plus the boundary's own. Values are fixed forever: a code is never renumbered or reused.

use core::ffi::CStr;

use sessile_core::{
    ConfigError, CookieConfigError, CookieError, Error, Expiry, Invalid, SnapshotError, StoreError,
};

/// What a call did. `SESSILE_RESULT_OK` is 0; every other value names one reason, and
/// `sessile_result_str()` gives its stable snake_case code (the core's code where the core
/// has one, e.g. "expired_idle", "capacity_exhausted", "cookie_invalid_name").
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum sessile_result {
    /// Success.
    SESSILE_RESULT_OK = 0,
    /// `sessile_engine_next_event`: no event is waiting (not an error).
    SESSILE_RESULT_NO_EVENT = 1,
    /// A required pointer was NULL.
    SESSILE_RESULT_NULL_ARGUMENT = 2,
    /// The library panicked (a bug); the call had no effect that can be relied on.
    SESSILE_RESULT_PANIC = 3,
    /// An argument is out of range: an enum value the header does not define, a seed that
    /// is not 32 bytes, a token that is not cookie-safe text, a `now_ms` below 10^12 (not
    /// Unix milliseconds) for an engine over a shared store.
    SESSILE_RESULT_INVALID_ARGUMENT = 4,
    /// An output buffer is too small; nothing was written and nothing changed.
    SESSILE_RESULT_BUFFER_TOO_SMALL = 5,
    /// Memory given to `sessile_engine_init` is smaller than `sessile_engine_size()` says,
    /// or the storage does not match the configuration.
    SESSILE_RESULT_STORAGE_SIZE = 6,
    /// `sessile_engine_free` on an engine built in caller memory, or
    /// `sessile_engine_deinit` on a heap engine, or snapshot / restore on an engine whose
    /// sessions live in a shared store (Redis, Valkey), which keeps them itself.
    SESSILE_RESULT_WRONG_ENGINE_KIND = 7,
    /// The pointer does not name a live engine (already deinitialised, or never built).
    SESSILE_RESULT_NOT_AN_ENGINE = 8,
    /// The table is full of sessions that may not be evicted.
    SESSILE_RESULT_CAPACITY_EXHAUSTED = 10,
    /// The payload pool has no room.
    SESSILE_RESULT_POOL_EXHAUSTED = 11,
    /// The payload is larger than `max_payload`.
    SESSILE_RESULT_PAYLOAD_TOO_LARGE = 12,
    /// The principal is empty or longer than `SESSILE_MAX_PRINCIPAL` bytes.
    SESSILE_RESULT_INVALID_PRINCIPAL = 13,
    /// The principal has its maximum of sessions and the policy is REFUSE.
    SESSILE_RESULT_PRINCIPAL_LIMIT = 14,
    /// A per-session timeout is zero or above the configured maximum.
    SESSILE_RESULT_INVALID_TIMEOUT = 15,
    /// The handle names a session that has ended.
    SESSILE_RESULT_STALE_HANDLE = 16,
    /// The operating system's entropy source failed.
    SESSILE_RESULT_ENTROPY = 17,
    /// Not enough memory for the configured capacity and pool (heap engines only).
    SESSILE_RESULT_OUT_OF_MEMORY = 18,
    /// Token: not one this engine could have issued.
    SESSILE_RESULT_MALFORMED = 20,
    /// Token: no session has it and no tombstone remembers it.
    SESSILE_RESULT_UNKNOWN = 21,
    /// Token: its session hit the idle timeout.
    SESSILE_RESULT_EXPIRED_IDLE = 22,
    /// Token: its session hit the absolute timeout.
    SESSILE_RESULT_EXPIRED_ABSOLUTE = 23,
    /// Token: its session was logged out (reuse is reported as an event).
    SESSILE_RESULT_LOGGED_OUT = 24,
    /// Token: replaced by rotation or login (reuse is reported as an event).
    SESSILE_RESULT_ROTATED_OUT = 25,
    /// Token: its session was revoked.
    SESSILE_RESULT_REVOKED = 26,
    /// Token: its session was evicted to make room.
    SESSILE_RESULT_EVICTED = 27,
    /// Token: the client changed and the policy is ENFORCE (the session stays alive).
    SESSILE_RESULT_CLIENT_MISMATCH = 28,
    /// Cookie header longer than 16 KiB.
    SESSILE_RESULT_COOKIE_HEADER_TOO_LONG = 40,
    /// The session cookie appears twice with different values: treat as no session.
    SESSILE_RESULT_COOKIE_DUPLICATE = 41,
    /// Config: capacity is 0 or too large.
    SESSILE_RESULT_CONFIG_CAPACITY = 50,
    /// Config: token_bytes outside 16..=32.
    SESSILE_RESULT_CONFIG_TOKEN_BYTES = 51,
    /// Config: a timeout is 0.
    SESSILE_RESULT_CONFIG_ZERO_TIMEOUT = 52,
    /// Config: the idle timeout is longer than the absolute timeout.
    SESSILE_RESULT_CONFIG_IDLE_ABOVE_ABSOLUTE = 53,
    /// Config: a default timeout is above its maximum.
    SESSILE_RESULT_CONFIG_TIMEOUT_ABOVE_MAX = 54,
    /// Config: max_payload is larger than pool_bytes.
    SESSILE_RESULT_CONFIG_PAYLOAD_ABOVE_POOL = 55,
    /// Config: max_addresses above 3.
    SESSILE_RESULT_CONFIG_MAX_ADDRESSES = 56,
    /// Config: events is 0 or too large.
    SESSILE_RESULT_CONFIG_EVENTS = 57,
    /// Config: tombstones too large.
    SESSILE_RESULT_CONFIG_TOMBSTONES = 58,
    /// Config: no key has this name.
    SESSILE_RESULT_CONFIG_UNKNOWN_KEY = 59,
    /// Config: a value of the wrong type, out of range, or not one of the key's spellings.
    SESSILE_RESULT_CONFIG_BAD_VALUE = 60,
    /// Cookie config: the name is empty.
    SESSILE_RESULT_COOKIE_EMPTY_NAME = 70,
    /// Cookie config: the name is longer than 64 bytes.
    SESSILE_RESULT_COOKIE_NAME_TOO_LONG = 71,
    /// Cookie config: the name is not an RFC 6265 token.
    SESSILE_RESULT_COOKIE_INVALID_NAME = 72,
    /// Cookie config: a `__Host-` cookie must be Secure.
    SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE = 73,
    /// Cookie config: a `__Host-` cookie must not have a Domain.
    SESSILE_RESULT_COOKIE_HOST_PREFIX_FORBIDS_DOMAIN = 74,
    /// Cookie config: a `__Host-` cookie must have Path=/.
    SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_ROOT_PATH = 75,
    /// Cookie config: a `__Secure-` cookie must be Secure.
    SESSILE_RESULT_COOKIE_SECURE_PREFIX_NEEDS_SECURE = 76,
    /// Cookie config: SameSite=None needs Secure.
    SESSILE_RESULT_COOKIE_SAME_SITE_NONE_NEEDS_SECURE = 77,
    /// Cookie config: Partitioned needs Secure.
    SESSILE_RESULT_COOKIE_PARTITIONED_NEEDS_SECURE = 78,
    /// Cookie config: the domain is not acceptable.
    SESSILE_RESULT_COOKIE_INVALID_DOMAIN = 79,
    /// Cookie config: the path is not acceptable.
    SESSILE_RESULT_COOKIE_INVALID_PATH = 80,
    /// Store (Redis, Valkey; never the in-process engine): it cannot be reached.
    SESSILE_RESULT_STORE_UNAVAILABLE = 90,
    /// Store: it did not answer within the configured timeout.
    SESSILE_RESULT_STORE_TIMEOUT = 91,
    /// Store: it answered with an error (out of memory, ACL, read-only replica, ...).
    SESSILE_RESULT_STORE_REFUSED = 92,
    /// Store: concurrent changes outlasted the retry bound; nothing was written.
    SESSILE_RESULT_STORE_CONFLICT = 93,
    /// Store: it holds data sessile did not write.
    SESSILE_RESULT_STORE_CORRUPT = 94,
    /// Store: its own configuration (URL, key, prefix) is unusable.
    SESSILE_RESULT_STORE_CONFIG = 95,
    /// Snapshot: the key is not 32 bytes, or is all zeros.
    SESSILE_RESULT_SNAPSHOT_KEY = 110,
    /// Snapshot: not a sessile snapshot (another file).
    SESSILE_RESULT_SNAPSHOT_UNRECOGNIZED = 111,
    /// Snapshot: a format version this library does not read, or a file of the other
    /// width's keyed digests (a 64-bit build's on a 32-bit build, or the reverse).
    SESSILE_RESULT_SNAPSHOT_VERSION = 112,
    /// Snapshot: shorter than its header says.
    SESSILE_RESULT_SNAPSHOT_TRUNCATED = 113,
    /// Snapshot: written under another key.
    SESSILE_RESULT_SNAPSHOT_WRONG_KEY = 114,
    /// Snapshot: authentication failed (a byte changed, or bytes appended).
    SESSILE_RESULT_SNAPSHOT_TAMPERED = 115,
    /// Snapshot: written at a wall-clock time after the restore's.
    SESSILE_RESULT_SNAPSHOT_FUTURE = 116,
    /// Snapshot: older than the maximum age given.
    SESSILE_RESULT_SNAPSHOT_STALE = 117,
    /// Snapshot: the config is smaller than the one it was written with (capacity,
    /// pool_bytes, max_payload) or issues tokens of another length.
    SESSILE_RESULT_SNAPSHOT_DOES_NOT_FIT = 118,
    /// Snapshot: authentic but inconsistent (written by a faulty program with the key).
    SESSILE_RESULT_SNAPSHOT_CORRUPT = 119,
    /// Snapshot: restore is only into an engine that holds nothing yet.
    SESSILE_RESULT_SNAPSHOT_NOT_EMPTY = 120,
    /// Snapshot: the engine's sessions live in a shared store (Redis), which keeps them
    /// across restarts itself; snapshot and restore are for the in-process table.
    SESSILE_RESULT_SNAPSHOT_SHARED_STORE = 121,
}

use sessile_result as R;

impl From<Invalid> for sessile_result {
    fn from(e: Invalid) -> Self {
        match e {
            Invalid::Malformed => R::SESSILE_RESULT_MALFORMED,
            Invalid::Unknown => R::SESSILE_RESULT_UNKNOWN,
            Invalid::Expired(Expiry::Idle) => R::SESSILE_RESULT_EXPIRED_IDLE,
            Invalid::Expired(Expiry::Absolute) => R::SESSILE_RESULT_EXPIRED_ABSOLUTE,
            Invalid::LoggedOut => R::SESSILE_RESULT_LOGGED_OUT,
            Invalid::RotatedOut => R::SESSILE_RESULT_ROTATED_OUT,
            Invalid::Revoked => R::SESSILE_RESULT_REVOKED,
            Invalid::Evicted => R::SESSILE_RESULT_EVICTED,
            Invalid::ClientMismatch => R::SESSILE_RESULT_CLIENT_MISMATCH,
        }
    }
}

impl From<CookieError> for sessile_result {
    fn from(e: CookieError) -> Self {
        match e {
            CookieError::HeaderTooLong => R::SESSILE_RESULT_COOKIE_HEADER_TOO_LONG,
            CookieError::Duplicate => R::SESSILE_RESULT_COOKIE_DUPLICATE,
        }
    }
}

impl From<CookieConfigError> for sessile_result {
    fn from(e: CookieConfigError) -> Self {
        use CookieConfigError as C;
        match e {
            C::EmptyName => R::SESSILE_RESULT_COOKIE_EMPTY_NAME,
            C::NameTooLong => R::SESSILE_RESULT_COOKIE_NAME_TOO_LONG,
            C::InvalidName => R::SESSILE_RESULT_COOKIE_INVALID_NAME,
            C::HostPrefixNeedsSecure => R::SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE,
            C::HostPrefixForbidsDomain => R::SESSILE_RESULT_COOKIE_HOST_PREFIX_FORBIDS_DOMAIN,
            C::HostPrefixNeedsRootPath => R::SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_ROOT_PATH,
            C::SecurePrefixNeedsSecure => R::SESSILE_RESULT_COOKIE_SECURE_PREFIX_NEEDS_SECURE,
            C::SameSiteNoneNeedsSecure => R::SESSILE_RESULT_COOKIE_SAME_SITE_NONE_NEEDS_SECURE,
            C::PartitionedNeedsSecure => R::SESSILE_RESULT_COOKIE_PARTITIONED_NEEDS_SECURE,
            C::InvalidDomain => R::SESSILE_RESULT_COOKIE_INVALID_DOMAIN,
            C::InvalidPath => R::SESSILE_RESULT_COOKIE_INVALID_PATH,
        }
    }
}

impl From<ConfigError> for sessile_result {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Capacity => R::SESSILE_RESULT_CONFIG_CAPACITY,
            ConfigError::TokenBytes => R::SESSILE_RESULT_CONFIG_TOKEN_BYTES,
            ConfigError::ZeroTimeout { .. } => R::SESSILE_RESULT_CONFIG_ZERO_TIMEOUT,
            ConfigError::IdleAboveAbsolute => R::SESSILE_RESULT_CONFIG_IDLE_ABOVE_ABSOLUTE,
            ConfigError::TimeoutAboveMax { .. } => R::SESSILE_RESULT_CONFIG_TIMEOUT_ABOVE_MAX,
            ConfigError::PayloadAbovePool => R::SESSILE_RESULT_CONFIG_PAYLOAD_ABOVE_POOL,
            ConfigError::MaxAddresses => R::SESSILE_RESULT_CONFIG_MAX_ADDRESSES,
            ConfigError::Events => R::SESSILE_RESULT_CONFIG_EVENTS,
            ConfigError::Tombstones => R::SESSILE_RESULT_CONFIG_TOMBSTONES,
            ConfigError::Cookie(c) => c.into(),
            ConfigError::UnknownKey => R::SESSILE_RESULT_CONFIG_UNKNOWN_KEY,
            ConfigError::BadValue { .. } => R::SESSILE_RESULT_CONFIG_BAD_VALUE,
        }
    }
}

impl From<StoreError> for sessile_result {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => R::SESSILE_RESULT_STORE_UNAVAILABLE,
            StoreError::Timeout => R::SESSILE_RESULT_STORE_TIMEOUT,
            StoreError::Refused => R::SESSILE_RESULT_STORE_REFUSED,
            StoreError::Conflict => R::SESSILE_RESULT_STORE_CONFLICT,
            StoreError::Corrupt => R::SESSILE_RESULT_STORE_CORRUPT,
            StoreError::Config => R::SESSILE_RESULT_STORE_CONFIG,
        }
    }
}

impl From<SnapshotError> for sessile_result {
    fn from(e: SnapshotError) -> Self {
        match e {
            SnapshotError::Key => R::SESSILE_RESULT_SNAPSHOT_KEY,
            SnapshotError::NotASnapshot => R::SESSILE_RESULT_SNAPSHOT_UNRECOGNIZED,
            SnapshotError::UnknownVersion => R::SESSILE_RESULT_SNAPSHOT_VERSION,
            SnapshotError::Truncated => R::SESSILE_RESULT_SNAPSHOT_TRUNCATED,
            SnapshotError::WrongKey => R::SESSILE_RESULT_SNAPSHOT_WRONG_KEY,
            SnapshotError::Tampered => R::SESSILE_RESULT_SNAPSHOT_TAMPERED,
            SnapshotError::Future => R::SESSILE_RESULT_SNAPSHOT_FUTURE,
            SnapshotError::Stale => R::SESSILE_RESULT_SNAPSHOT_STALE,
            SnapshotError::DoesNotFit { .. } => R::SESSILE_RESULT_SNAPSHOT_DOES_NOT_FIT,
            SnapshotError::Corrupt => R::SESSILE_RESULT_SNAPSHOT_CORRUPT,
            SnapshotError::NotEmpty => R::SESSILE_RESULT_SNAPSHOT_NOT_EMPTY,
            SnapshotError::SharedStore => R::SESSILE_RESULT_SNAPSHOT_SHARED_STORE,
        }
    }
}

impl From<Error> for sessile_result {
    fn from(e: Error) -> Self {
        match e {
            Error::CapacityExhausted => R::SESSILE_RESULT_CAPACITY_EXHAUSTED,
            Error::PoolExhausted => R::SESSILE_RESULT_POOL_EXHAUSTED,
            Error::PayloadTooLarge => R::SESSILE_RESULT_PAYLOAD_TOO_LARGE,
            Error::InvalidPrincipal => R::SESSILE_RESULT_INVALID_PRINCIPAL,
            Error::PrincipalLimit => R::SESSILE_RESULT_PRINCIPAL_LIMIT,
            Error::InvalidTimeout => R::SESSILE_RESULT_INVALID_TIMEOUT,
            Error::Config(c) => c.into(),
            Error::Session(i) => i.into(),
            Error::StaleHandle => R::SESSILE_RESULT_STALE_HANDLE,
            Error::Cookie(c) => c.into(),
            Error::BufferTooSmall => R::SESSILE_RESULT_BUFFER_TOO_SMALL,
            Error::StorageSize => R::SESSILE_RESULT_STORAGE_SIZE,
            Error::Entropy => R::SESSILE_RESULT_ENTROPY,
            Error::OutOfMemory => R::SESSILE_RESULT_OUT_OF_MEMORY,
            Error::Snapshot(e) => e.into(),
            Error::Store(e) => e.into(),
        }
    }
}

impl sessile_result {
    /// The stable code, NUL-terminated (tested equal to the core's `code()` strings).
    pub(crate) fn code(self) -> &'static CStr {
        match self {
            R::SESSILE_RESULT_OK => c"ok",
            R::SESSILE_RESULT_NO_EVENT => c"no_event",
            R::SESSILE_RESULT_NULL_ARGUMENT => c"null_argument",
            R::SESSILE_RESULT_PANIC => c"panic",
            R::SESSILE_RESULT_INVALID_ARGUMENT => c"invalid_argument",
            R::SESSILE_RESULT_BUFFER_TOO_SMALL => c"buffer_too_small",
            R::SESSILE_RESULT_STORAGE_SIZE => c"storage_size",
            R::SESSILE_RESULT_WRONG_ENGINE_KIND => c"wrong_engine_kind",
            R::SESSILE_RESULT_NOT_AN_ENGINE => c"not_an_engine",
            R::SESSILE_RESULT_CAPACITY_EXHAUSTED => c"capacity_exhausted",
            R::SESSILE_RESULT_POOL_EXHAUSTED => c"pool_exhausted",
            R::SESSILE_RESULT_PAYLOAD_TOO_LARGE => c"payload_too_large",
            R::SESSILE_RESULT_INVALID_PRINCIPAL => c"invalid_principal",
            R::SESSILE_RESULT_PRINCIPAL_LIMIT => c"principal_limit",
            R::SESSILE_RESULT_INVALID_TIMEOUT => c"invalid_timeout",
            R::SESSILE_RESULT_STALE_HANDLE => c"stale_handle",
            R::SESSILE_RESULT_ENTROPY => c"entropy",
            R::SESSILE_RESULT_OUT_OF_MEMORY => c"out_of_memory",
            R::SESSILE_RESULT_MALFORMED => c"malformed",
            R::SESSILE_RESULT_UNKNOWN => c"unknown",
            R::SESSILE_RESULT_EXPIRED_IDLE => c"expired_idle",
            R::SESSILE_RESULT_EXPIRED_ABSOLUTE => c"expired_absolute",
            R::SESSILE_RESULT_LOGGED_OUT => c"logged_out",
            R::SESSILE_RESULT_ROTATED_OUT => c"rotated_out",
            R::SESSILE_RESULT_REVOKED => c"revoked",
            R::SESSILE_RESULT_EVICTED => c"evicted",
            R::SESSILE_RESULT_CLIENT_MISMATCH => c"client_mismatch",
            R::SESSILE_RESULT_COOKIE_HEADER_TOO_LONG => c"header_too_long",
            R::SESSILE_RESULT_COOKIE_DUPLICATE => c"duplicate",
            R::SESSILE_RESULT_CONFIG_CAPACITY => c"capacity",
            R::SESSILE_RESULT_CONFIG_TOKEN_BYTES => c"token_bytes",
            R::SESSILE_RESULT_CONFIG_ZERO_TIMEOUT => c"zero_timeout",
            R::SESSILE_RESULT_CONFIG_IDLE_ABOVE_ABSOLUTE => c"idle_above_absolute",
            R::SESSILE_RESULT_CONFIG_TIMEOUT_ABOVE_MAX => c"timeout_above_max",
            R::SESSILE_RESULT_CONFIG_PAYLOAD_ABOVE_POOL => c"payload_above_pool",
            R::SESSILE_RESULT_CONFIG_MAX_ADDRESSES => c"max_addresses",
            R::SESSILE_RESULT_CONFIG_EVENTS => c"events",
            R::SESSILE_RESULT_CONFIG_TOMBSTONES => c"tombstones",
            R::SESSILE_RESULT_CONFIG_UNKNOWN_KEY => c"unknown_key",
            R::SESSILE_RESULT_CONFIG_BAD_VALUE => c"bad_value",
            R::SESSILE_RESULT_COOKIE_EMPTY_NAME => c"cookie_empty_name",
            R::SESSILE_RESULT_COOKIE_NAME_TOO_LONG => c"cookie_name_too_long",
            R::SESSILE_RESULT_COOKIE_INVALID_NAME => c"cookie_invalid_name",
            R::SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE => c"cookie_host_prefix_needs_secure",
            R::SESSILE_RESULT_COOKIE_HOST_PREFIX_FORBIDS_DOMAIN => {
                c"cookie_host_prefix_forbids_domain"
            }
            R::SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_ROOT_PATH => {
                c"cookie_host_prefix_needs_root_path"
            }
            R::SESSILE_RESULT_COOKIE_SECURE_PREFIX_NEEDS_SECURE => {
                c"cookie_secure_prefix_needs_secure"
            }
            R::SESSILE_RESULT_COOKIE_SAME_SITE_NONE_NEEDS_SECURE => {
                c"cookie_same_site_none_needs_secure"
            }
            R::SESSILE_RESULT_COOKIE_PARTITIONED_NEEDS_SECURE => c"cookie_partitioned_needs_secure",
            R::SESSILE_RESULT_COOKIE_INVALID_DOMAIN => c"cookie_invalid_domain",
            R::SESSILE_RESULT_COOKIE_INVALID_PATH => c"cookie_invalid_path",
            R::SESSILE_RESULT_STORE_UNAVAILABLE => c"store_unavailable",
            R::SESSILE_RESULT_STORE_TIMEOUT => c"store_timeout",
            R::SESSILE_RESULT_STORE_REFUSED => c"store_refused",
            R::SESSILE_RESULT_STORE_CONFLICT => c"store_conflict",
            R::SESSILE_RESULT_STORE_CORRUPT => c"store_corrupt",
            R::SESSILE_RESULT_STORE_CONFIG => c"store_config",
            R::SESSILE_RESULT_SNAPSHOT_KEY => c"snapshot_key",
            R::SESSILE_RESULT_SNAPSHOT_UNRECOGNIZED => c"snapshot_unrecognized",
            R::SESSILE_RESULT_SNAPSHOT_VERSION => c"snapshot_version",
            R::SESSILE_RESULT_SNAPSHOT_TRUNCATED => c"snapshot_truncated",
            R::SESSILE_RESULT_SNAPSHOT_WRONG_KEY => c"snapshot_wrong_key",
            R::SESSILE_RESULT_SNAPSHOT_TAMPERED => c"snapshot_tampered",
            R::SESSILE_RESULT_SNAPSHOT_FUTURE => c"snapshot_future",
            R::SESSILE_RESULT_SNAPSHOT_STALE => c"snapshot_stale",
            R::SESSILE_RESULT_SNAPSHOT_DOES_NOT_FIT => c"snapshot_does_not_fit",
            R::SESSILE_RESULT_SNAPSHOT_CORRUPT => c"snapshot_corrupt",
            R::SESSILE_RESULT_SNAPSHOT_NOT_EMPTY => c"snapshot_not_empty",
            R::SESSILE_RESULT_SNAPSHOT_SHARED_STORE => c"snapshot_shared_store",
        }
    }
}

pub(crate) fn from_u32(v: u32) -> Option<sessile_result> {
    // Look the value up; never transmute C input into the enum.
    KNOWN.iter().copied().find(|r| *r as u32 == v)
}

const KNOWN: [sessile_result; 69] = [
    R::SESSILE_RESULT_OK,
    R::SESSILE_RESULT_NO_EVENT,
    R::SESSILE_RESULT_NULL_ARGUMENT,
    R::SESSILE_RESULT_PANIC,
    R::SESSILE_RESULT_INVALID_ARGUMENT,
    R::SESSILE_RESULT_BUFFER_TOO_SMALL,
    R::SESSILE_RESULT_STORAGE_SIZE,
    R::SESSILE_RESULT_WRONG_ENGINE_KIND,
    R::SESSILE_RESULT_NOT_AN_ENGINE,
    R::SESSILE_RESULT_CAPACITY_EXHAUSTED,
    R::SESSILE_RESULT_POOL_EXHAUSTED,
    R::SESSILE_RESULT_PAYLOAD_TOO_LARGE,
    R::SESSILE_RESULT_INVALID_PRINCIPAL,
    R::SESSILE_RESULT_PRINCIPAL_LIMIT,
    R::SESSILE_RESULT_INVALID_TIMEOUT,
    R::SESSILE_RESULT_STALE_HANDLE,
    R::SESSILE_RESULT_ENTROPY,
    R::SESSILE_RESULT_OUT_OF_MEMORY,
    R::SESSILE_RESULT_MALFORMED,
    R::SESSILE_RESULT_UNKNOWN,
    R::SESSILE_RESULT_EXPIRED_IDLE,
    R::SESSILE_RESULT_EXPIRED_ABSOLUTE,
    R::SESSILE_RESULT_LOGGED_OUT,
    R::SESSILE_RESULT_ROTATED_OUT,
    R::SESSILE_RESULT_REVOKED,
    R::SESSILE_RESULT_EVICTED,
    R::SESSILE_RESULT_CLIENT_MISMATCH,
    R::SESSILE_RESULT_COOKIE_HEADER_TOO_LONG,
    R::SESSILE_RESULT_COOKIE_DUPLICATE,
    R::SESSILE_RESULT_CONFIG_CAPACITY,
    R::SESSILE_RESULT_CONFIG_TOKEN_BYTES,
    R::SESSILE_RESULT_CONFIG_ZERO_TIMEOUT,
    R::SESSILE_RESULT_CONFIG_IDLE_ABOVE_ABSOLUTE,
    R::SESSILE_RESULT_CONFIG_TIMEOUT_ABOVE_MAX,
    R::SESSILE_RESULT_CONFIG_PAYLOAD_ABOVE_POOL,
    R::SESSILE_RESULT_CONFIG_MAX_ADDRESSES,
    R::SESSILE_RESULT_CONFIG_EVENTS,
    R::SESSILE_RESULT_CONFIG_TOMBSTONES,
    R::SESSILE_RESULT_CONFIG_UNKNOWN_KEY,
    R::SESSILE_RESULT_CONFIG_BAD_VALUE,
    R::SESSILE_RESULT_COOKIE_EMPTY_NAME,
    R::SESSILE_RESULT_COOKIE_NAME_TOO_LONG,
    R::SESSILE_RESULT_COOKIE_INVALID_NAME,
    R::SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE,
    R::SESSILE_RESULT_COOKIE_HOST_PREFIX_FORBIDS_DOMAIN,
    R::SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_ROOT_PATH,
    R::SESSILE_RESULT_COOKIE_SECURE_PREFIX_NEEDS_SECURE,
    R::SESSILE_RESULT_COOKIE_SAME_SITE_NONE_NEEDS_SECURE,
    R::SESSILE_RESULT_COOKIE_PARTITIONED_NEEDS_SECURE,
    R::SESSILE_RESULT_COOKIE_INVALID_DOMAIN,
    R::SESSILE_RESULT_COOKIE_INVALID_PATH,
    R::SESSILE_RESULT_STORE_UNAVAILABLE,
    R::SESSILE_RESULT_STORE_TIMEOUT,
    R::SESSILE_RESULT_STORE_REFUSED,
    R::SESSILE_RESULT_STORE_CONFLICT,
    R::SESSILE_RESULT_STORE_CORRUPT,
    R::SESSILE_RESULT_STORE_CONFIG,
    R::SESSILE_RESULT_SNAPSHOT_KEY,
    R::SESSILE_RESULT_SNAPSHOT_UNRECOGNIZED,
    R::SESSILE_RESULT_SNAPSHOT_VERSION,
    R::SESSILE_RESULT_SNAPSHOT_TRUNCATED,
    R::SESSILE_RESULT_SNAPSHOT_WRONG_KEY,
    R::SESSILE_RESULT_SNAPSHOT_TAMPERED,
    R::SESSILE_RESULT_SNAPSHOT_FUTURE,
    R::SESSILE_RESULT_SNAPSHOT_STALE,
    R::SESSILE_RESULT_SNAPSHOT_DOES_NOT_FIT,
    R::SESSILE_RESULT_SNAPSHOT_CORRUPT,
    R::SESSILE_RESULT_SNAPSHOT_NOT_EMPTY,
    R::SESSILE_RESULT_SNAPSHOT_SHARED_STORE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use sessile_core::{ConfigError as CE, CookieConfigError as CC};

    /// Every core error maps to a code whose text is the core's own code.
    #[test]
    fn codes_follow_the_core() {
        let invalid = [
            Invalid::Malformed,
            Invalid::Unknown,
            Invalid::Expired(Expiry::Idle),
            Invalid::Expired(Expiry::Absolute),
            Invalid::LoggedOut,
            Invalid::RotatedOut,
            Invalid::Revoked,
            Invalid::Evicted,
            Invalid::ClientMismatch,
        ];
        for i in invalid {
            assert_eq!(R::from(i).code().to_str().unwrap(), i.code());
        }
        for c in [CookieError::HeaderTooLong, CookieError::Duplicate] {
            assert_eq!(R::from(c).code().to_str().unwrap(), c.code());
        }
        let cookie = [
            CC::EmptyName,
            CC::NameTooLong,
            CC::InvalidName,
            CC::HostPrefixNeedsSecure,
            CC::HostPrefixForbidsDomain,
            CC::HostPrefixNeedsRootPath,
            CC::SecurePrefixNeedsSecure,
            CC::SameSiteNoneNeedsSecure,
            CC::PartitionedNeedsSecure,
            CC::InvalidDomain,
            CC::InvalidPath,
        ];
        let config = [
            CE::Capacity,
            CE::TokenBytes,
            CE::ZeroTimeout {
                key: "idle_timeout_ms",
            },
            CE::IdleAboveAbsolute,
            CE::TimeoutAboveMax {
                key: "idle_timeout_ms",
            },
            CE::PayloadAbovePool,
            CE::MaxAddresses,
            CE::Events,
            CE::Tombstones,
            CE::UnknownKey,
            CE::BadValue { key: "capacity" },
        ];
        for c in cookie.map(CE::Cookie).into_iter().chain(config) {
            assert_eq!(R::from(c).code().to_str().unwrap(), c.code());
        }
        let plain = [
            Error::CapacityExhausted,
            Error::PoolExhausted,
            Error::PayloadTooLarge,
            Error::InvalidPrincipal,
            Error::PrincipalLimit,
            Error::InvalidTimeout,
            Error::StaleHandle,
            Error::BufferTooSmall,
            Error::StorageSize,
            Error::Entropy,
            Error::OutOfMemory,
        ];
        for e in plain {
            assert_eq!(R::from(e).code().to_str().unwrap(), e.code());
        }
        let store = [
            StoreError::Unavailable,
            StoreError::Timeout,
            StoreError::Refused,
            StoreError::Conflict,
            StoreError::Corrupt,
            StoreError::Config,
        ];
        for s in store {
            assert_eq!(R::from(Error::Store(s)).code().to_str().unwrap(), s.code());
        }
        assert_eq!(store.len(), StoreError::CODES.len());
        // Config, Session, Cookie, Snapshot and Store carry their reasons' codes.
        assert_eq!(plain.len() + 5, Error::CODES.len());
        let snapshot = [
            SnapshotError::Key,
            SnapshotError::NotASnapshot,
            SnapshotError::UnknownVersion,
            SnapshotError::Truncated,
            SnapshotError::WrongKey,
            SnapshotError::Tampered,
            SnapshotError::Future,
            SnapshotError::Stale,
            SnapshotError::DoesNotFit { key: "capacity" },
            SnapshotError::Corrupt,
            SnapshotError::NotEmpty,
            SnapshotError::SharedStore,
        ];
        for e in snapshot {
            let code = R::from(Error::Snapshot(e)).code().to_str().unwrap();
            assert_eq!(code, e.code());
        }
        assert_eq!(snapshot.len(), SnapshotError::CODES.len());
    }

    #[test]
    fn values_are_distinct_and_all_known() {
        let mut values: std::vec::Vec<u32> = KNOWN.iter().map(|r| *r as u32).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), KNOWN.len());
        for r in KNOWN {
            assert_eq!(from_u32(r as u32), Some(r));
        }
        assert_eq!(from_u32(9), None);
        assert_eq!(from_u32(u32::MAX), None);
    }
}
