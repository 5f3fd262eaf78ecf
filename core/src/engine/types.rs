//! The engine's public values: handles, client facts, session snapshots, what a load
//! and a save found, counters. Plain data shared by every file of the engine and by
//! the [`crate::Store`] seam, so they sit apart from the code that fills them.

use crate::config::MAX_PRINCIPAL;
#[cfg(doc)]
use crate::store::Store;

/// Names one session without its token. Carries a generation, so a handle to an ended
/// session never reaches the session that reuses its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionRef {
    pub(super) slot: u32,
    pub(super) generation: u32,
}

impl SessionRef {
    /// Pack into a `u64` (for bindings).
    pub const fn to_u64(self) -> u64 {
        ((self.slot as u64) << 32) | self.generation as u64
    }

    /// Unpack from [`SessionRef::to_u64`]. Any value is accepted; a wrong one is just stale.
    pub const fn from_u64(v: u64) -> SessionRef {
        SessionRef {
            slot: (v >> 32) as u32,
            generation: v as u32,
        }
    }
}

/// What the client looks like on this request. Anything absent is not compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Client<'a> {
    /// The client's address, in any stable spelling (e.g. "203.0.113.9").
    pub ip: Option<&'a [u8]>,
    /// The User-Agent header.
    pub user_agent: Option<&'a [u8]>,
}

impl Client<'static> {
    /// No client information.
    pub const NONE: Client<'static> = Client {
        ip: None,
        user_agent: None,
    };
}

/// A principal (user ID), as bound at login.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub(super) bytes: [u8; MAX_PRINCIPAL],
    pub(super) len: u8,
}

impl Principal {
    /// A principal as a login binds it: 1 to [`crate::config::MAX_PRINCIPAL`] bytes
    /// (`None` otherwise, which a login refuses with `InvalidPrincipal`). For a store
    /// that keeps principals itself.
    pub fn new(bytes: &[u8]) -> Option<Principal> {
        if bytes.is_empty() || bytes.len() > MAX_PRINCIPAL {
            return None;
        }
        let mut p = Principal {
            bytes: [0; MAX_PRINCIPAL],
            len: bytes.len() as u8,
        };
        p.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(p)
    }

    /// The principal's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The principal as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
}

impl core::fmt::Debug for Principal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "Principal({s:?})"),
            None => write!(f, "Principal({:?})", self.as_bytes()),
        }
    }
}

/// A snapshot of one live session (never its token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// Handle for payload reads and writes, revocation and overrides.
    pub handle: SessionRef,
    /// Keyed digest naming the session in events; stable across rotation.
    pub tag: u64,
    /// When the session (or its login) began.
    pub created_ms: u64,
    /// Last validation.
    pub last_seen_ms: u64,
    /// When it dies of inactivity unless used again.
    pub idle_deadline_ms: u64,
    /// When it dies however busy.
    pub absolute_deadline_ms: u64,
    /// Its idle timeout.
    pub idle_timeout_ms: u32,
    /// Its absolute timeout.
    pub absolute_timeout_ms: u32,
    /// The bound principal, for an authenticated session.
    pub principal: Option<Principal>,
    /// Payload size in bytes.
    pub payload_len: u32,
    /// Changes whenever the session's token does (login, rotation) and whenever its
    /// payload is written. [`Store::save`] takes the epoch a request loaded, so a save
    /// never lands on a session whose token changed since, nor over another request's
    /// write (no lost update).
    pub epoch: u32,
}

impl Session {
    /// The earlier of the two deadlines.
    pub fn expires_ms(&self) -> u64 {
        self.idle_deadline_ms.min(self.absolute_deadline_ms)
    }
}

/// What [`Store::load_cookie`] and [`Store::load`] found: the token the request
/// holds, its session (handle and epoch, for [`Store::save`]) and its payload.
#[derive(Debug)]
pub struct Loaded<'t, P> {
    /// The token that named the session (one of the cookie header's copies).
    pub token: &'t [u8],
    /// The session, as validated.
    pub session: Session,
    /// Its payload, chunk by chunk, without copying.
    pub payload: P,
}

/// What [`Store::save`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// The new payload is stored.
    Written,
    /// The payload was already these bytes; nothing was written.
    Unchanged,
    /// The session ended, or its token changed, since the request loaded it: nothing
    /// was written (a logged-out session is never resurrected, a login never
    /// overwritten by a request that began before it). The request's response must not
    /// send the cookie it loaded.
    Dropped,
}

/// Counters, all cheap to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Most live sessions.
    pub capacity: u32,
    /// Live sessions.
    pub live: u32,
    /// Live anonymous sessions.
    pub anonymous: u32,
    /// Live authenticated sessions.
    pub authenticated: u32,
    /// Pool bytes in use (whole blocks).
    pub pool_used_bytes: u64,
    /// Pool size.
    pub pool_total_bytes: u64,
    /// Sessions ever created.
    pub created: u64,
    /// Sessions ended to make room.
    pub evictions: u64,
    /// Sessions ended by timeout.
    pub expirations: u64,
    /// Sessions ended by revocation.
    pub revocations: u64,
    /// Tombstones held.
    pub tombstones: u32,
    /// Events waiting to be drained.
    pub events_pending: u32,
    /// Events overwritten before they were drained.
    pub events_dropped: u64,
}
