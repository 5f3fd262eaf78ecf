//! The plain structs that cross the boundary: sessions, clients, events, stats.

use core::ffi::{CStr, c_char};

use sessile_core::{Client, Event, EventKind, Session, Stats};

use crate::result::sessile_result;

/// Longest principal (user ID), in bytes.
pub const SESSILE_MAX_PRINCIPAL: usize = 128;
/// Bytes of `sessile_session.principal`: the longest principal and a NUL.
pub const SESSILE_PRINCIPAL_BUFFER: usize = 129;
/// Bytes a token buffer needs for any configuration: 43 characters and a NUL.
pub const SESSILE_TOKEN_BUFFER: usize = 44;
/// Bytes a Set-Cookie buffer needs for any valid cookie configuration, NUL included.
pub const SESSILE_SET_COOKIE_BUFFER: usize = 641;

/// A snapshot of one live session (never its token).
#[repr(C)]
pub struct sessile_session {
    /// Names the session for payload, revoke and timeout calls. Carries a generation: a
    /// handle to an ended session never reaches the session that reuses its slot.
    pub handle: u64,
    /// Keyed digest naming the session in events; stable across rotation.
    pub tag: u64,
    /// When the session (or its login) began, ms.
    pub created_ms: u64,
    /// Last validation, ms.
    pub last_seen_ms: u64,
    /// Dies of inactivity at this time unless used again, ms.
    pub idle_deadline_ms: u64,
    /// Dies at this time however busy, ms.
    pub absolute_deadline_ms: u64,
    /// Its idle timeout, ms.
    pub idle_timeout_ms: u32,
    /// Its absolute timeout, ms.
    pub absolute_timeout_ms: u32,
    /// Payload size in bytes.
    pub payload_len: u32,
    /// True when a principal is bound (after login).
    pub authenticated: bool,
    /// Bytes of `principal` in use (0 when anonymous).
    pub principal_len: u32,
    /// The principal's bytes, followed by a NUL (so it can be printed when it is text);
    /// the bytes after the NUL are not written.
    pub principal: [u8; SESSILE_PRINCIPAL_BUFFER],
    /// Changes whenever the session's token does (login, rotation): pass it back to
    /// `sessile_engine_save`, so a save never lands on a session whose token changed
    /// since the request loaded it.
    pub epoch: u32,
}

/// Write a snapshot of `s` into `*out` field by field, in place (no temporary copy of
/// the whole struct: this runs on every validation). `principal` gets the principal's
/// bytes and a NUL; the bytes after the NUL are left as they were.
///
/// # Safety
/// `out` is non-NULL and writable for one `sessile_session`.
pub(crate) unsafe fn write_session(out: *mut sessile_session, s: &Session) {
    let p = s.principal.as_ref().map_or(&[][..], |p| p.as_bytes());
    // SAFETY: `out` is writable (contract); every write stays inside `*out`, and a
    // principal is at most SESSILE_MAX_PRINCIPAL bytes, so it and its NUL fit.
    unsafe {
        (&raw mut (*out).handle).write(s.handle.to_u64());
        (&raw mut (*out).tag).write(s.tag);
        (&raw mut (*out).created_ms).write(s.created_ms);
        (&raw mut (*out).last_seen_ms).write(s.last_seen_ms);
        (&raw mut (*out).idle_deadline_ms).write(s.idle_deadline_ms);
        (&raw mut (*out).absolute_deadline_ms).write(s.absolute_deadline_ms);
        (&raw mut (*out).idle_timeout_ms).write(s.idle_timeout_ms);
        (&raw mut (*out).absolute_timeout_ms).write(s.absolute_timeout_ms);
        (&raw mut (*out).payload_len).write(s.payload_len);
        (&raw mut (*out).authenticated).write(s.principal.is_some());
        (&raw mut (*out).principal_len).write(p.len() as u32);
        (&raw mut (*out).epoch).write(s.epoch);
        let dst = (&raw mut (*out).principal).cast::<u8>();
        let n = p.len().min(SESSILE_MAX_PRINCIPAL);
        if n > 0 {
            core::ptr::copy_nonoverlapping(p.as_ptr(), dst, n);
        }
        dst.add(n).write(0);
    }
}

/// What the client looks like on this request. A NULL pointer means "not known" and is
/// not compared. Pass NULL for the whole struct when nothing is known.
#[repr(C)]
pub struct sessile_client {
    /// The client's address in any stable spelling (e.g. "203.0.113.9"), or NULL.
    pub ip: *const u8,
    /// Bytes at `ip`.
    pub ip_len: usize,
    /// The User-Agent header, or NULL.
    pub user_agent: *const u8,
    /// Bytes at `user_agent`.
    pub user_agent_len: usize,
}

/// Borrow a client description.
///
/// # Safety
/// `c` is NULL or points to a `sessile_client` whose non-NULL pointers are readable for
/// their lengths.
pub(crate) unsafe fn client<'a>(c: *const sessile_client) -> Client<'a> {
    // SAFETY: NULL or valid, by the caller's contract.
    let Some(c) = (unsafe { c.as_ref() }) else {
        return Client::NONE;
    };
    // SAFETY: each pointer is NULL or readable for its length.
    unsafe {
        Client {
            ip: bytes_opt(c.ip, c.ip_len),
            user_agent: bytes_opt(c.user_agent, c.user_agent_len),
        }
    }
}

/// # Safety
/// `p` is NULL or readable for `len` bytes.
unsafe fn bytes_opt<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    // SAFETY: non-NULL and readable for `len` bytes by the caller's contract.
    (!p.is_null()).then(|| unsafe { core::slice::from_raw_parts(p, len) })
}

/// A required byte string: NULL is `SESSILE_RESULT_NULL_ARGUMENT` (even when `len` is 0).
///
/// # Safety
/// `p` is NULL or readable for `len` bytes.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], sessile_result> {
    // SAFETY: forwarded contract.
    unsafe { bytes_opt(p, len) }.ok_or(sessile_result::SESSILE_RESULT_NULL_ARGUMENT)
}

/// What happened, in `sessile_event.kind`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum sessile_event_kind {
    /// A new anonymous session.
    SESSILE_EVENT_CREATED = 0,
    /// A session was bound to a principal (its token rotated).
    SESSILE_EVENT_LOGGED_IN = 1,
    /// A session's token was replaced.
    SESSILE_EVENT_ROTATED = 2,
    /// A session was ended by logout.
    SESSILE_EVENT_LOGGED_OUT = 3,
    /// A session hit its idle timeout.
    SESSILE_EVENT_EXPIRED_IDLE = 4,
    /// A session hit its absolute timeout.
    SESSILE_EVENT_EXPIRED_ABSOLUTE = 5,
    /// A session was ended to make room.
    SESSILE_EVENT_EVICTED = 6,
    /// A session was revoked.
    SESSILE_EVENT_REVOKED = 7,
    /// A logged-out token was presented again.
    SESSILE_EVENT_REUSE_AFTER_LOGOUT = 8,
    /// A rotated-out token was presented again.
    SESSILE_EVENT_REUSE_AFTER_ROTATION = 9,
    /// A session was used from another address.
    SESSILE_EVENT_ADDRESS_CHANGED = 10,
    /// A session was used with another User-Agent.
    SESSILE_EVENT_USER_AGENT_CHANGED = 11,
    /// A session was seen from more addresses than allowed.
    SESSILE_EVENT_TOO_MANY_ADDRESSES = 12,
    /// The table was full when a session was created.
    SESSILE_EVENT_CAPACITY_PRESSURE = 13,
    /// The session cookie came several times naming several live sessions; each was ended.
    SESSILE_EVENT_DUPLICATE_COOKIE = 14,
}

const KINDS: [(EventKind, sessile_event_kind, &CStr); 15] = {
    use sessile_event_kind as K;
    [
        (EventKind::Created, K::SESSILE_EVENT_CREATED, c"created"),
        (
            EventKind::LoggedIn,
            K::SESSILE_EVENT_LOGGED_IN,
            c"logged_in",
        ),
        (EventKind::Rotated, K::SESSILE_EVENT_ROTATED, c"rotated"),
        (
            EventKind::LoggedOut,
            K::SESSILE_EVENT_LOGGED_OUT,
            c"logged_out",
        ),
        (
            EventKind::ExpiredIdle,
            K::SESSILE_EVENT_EXPIRED_IDLE,
            c"expired_idle",
        ),
        (
            EventKind::ExpiredAbsolute,
            K::SESSILE_EVENT_EXPIRED_ABSOLUTE,
            c"expired_absolute",
        ),
        (EventKind::Evicted, K::SESSILE_EVENT_EVICTED, c"evicted"),
        (EventKind::Revoked, K::SESSILE_EVENT_REVOKED, c"revoked"),
        (
            EventKind::ReuseAfterLogout,
            K::SESSILE_EVENT_REUSE_AFTER_LOGOUT,
            c"reuse_after_logout",
        ),
        (
            EventKind::ReuseAfterRotation,
            K::SESSILE_EVENT_REUSE_AFTER_ROTATION,
            c"reuse_after_rotation",
        ),
        (
            EventKind::AddressChanged,
            K::SESSILE_EVENT_ADDRESS_CHANGED,
            c"address_changed",
        ),
        (
            EventKind::UserAgentChanged,
            K::SESSILE_EVENT_USER_AGENT_CHANGED,
            c"user_agent_changed",
        ),
        (
            EventKind::TooManyAddresses,
            K::SESSILE_EVENT_TOO_MANY_ADDRESSES,
            c"too_many_addresses",
        ),
        (
            EventKind::CapacityPressure,
            K::SESSILE_EVENT_CAPACITY_PRESSURE,
            c"capacity_pressure",
        ),
        (
            EventKind::DuplicateCookie,
            K::SESSILE_EVENT_DUPLICATE_COOKIE,
            c"duplicate_cookie",
        ),
    ]
};

/// One security event. `session` is a keyed digest (stable across rotation), never a token.
#[repr(C)]
pub struct sessile_event {
    /// What happened.
    pub kind: sessile_event_kind,
    /// True for the kinds an operator should be alerted to (reuse, client change, pressure).
    pub security_alert: bool,
    /// Keyed digest naming the session; 0 for engine-wide events.
    pub session: u64,
    /// Engine time of the event, ms.
    pub at_ms: u64,
}

impl From<&Event> for sessile_event {
    fn from(e: &Event) -> Self {
        let kind = KINDS
            .iter()
            .find(|(k, _, _)| *k == e.kind)
            .map_or(sessile_event_kind::SESSILE_EVENT_CREATED, |(_, c, _)| *c);
        sessile_event {
            kind,
            security_alert: e.kind.is_security_alert(),
            session: e.session,
            at_ms: e.at_ms,
        }
    }
}

/// The stable snake_case name of an event kind ("reuse_after_logout", ...), static and
/// NUL-terminated; "unknown_event" for a value the header does not define. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn sessile_event_kind_str(kind: u32) -> *const c_char {
    crate::boundary::run_or(c"panic".as_ptr(), || {
        KINDS
            .iter()
            .find(|(_, c, _)| *c as u32 == kind)
            .map_or(c"unknown_event", |(_, _, s)| *s)
            .as_ptr()
    })
}

/// Engine counters.
#[repr(C)]
pub struct sessile_stats {
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

impl From<Stats> for sessile_stats {
    fn from(s: Stats) -> Self {
        sessile_stats {
            capacity: s.capacity,
            live: s.live,
            anonymous: s.anonymous,
            authenticated: s.authenticated,
            pool_used_bytes: s.pool_used_bytes,
            pool_total_bytes: s.pool_total_bytes,
            created: s.created,
            evictions: s.evictions,
            expirations: s.expirations,
            revocations: s.revocations,
            tombstones: s.tombstones,
            events_pending: s.events_pending,
            events_dropped: s.events_dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_follow_the_core() {
        assert_eq!(KINDS.len(), EventKind::ALL.len());
        for (i, k) in EventKind::ALL.iter().enumerate() {
            let (core, c, s) = KINDS[i];
            assert_eq!(core, *k);
            assert_eq!(c as usize, i);
            assert_eq!(s.to_str().unwrap(), k.as_str());
        }
    }

    #[test]
    fn buffer_sizes_fit_the_core() {
        assert_eq!(SESSILE_TOKEN_BUFFER, sessile_core::MAX_TOKEN_CHARS + 1);
        assert_eq!(
            SESSILE_SET_COOKIE_BUFFER,
            sessile_core::cookie::MAX_SET_COOKIE + 1
        );
        assert_eq!(SESSILE_MAX_PRINCIPAL, sessile_core::config::MAX_PRINCIPAL);
        assert_eq!(SESSILE_PRINCIPAL_BUFFER, SESSILE_MAX_PRINCIPAL + 1);
    }
}
