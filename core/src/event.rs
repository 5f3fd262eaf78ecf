//! Security events, kept in a bounded ring. When the ring is full the oldest event is
//! overwritten and counted as dropped, so a flood cannot hide what happened last.

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A new anonymous session.
    Created,
    /// A session was bound to a principal (and its token rotated).
    LoggedIn,
    /// A session's token was replaced.
    Rotated,
    /// A session was ended by logout.
    LoggedOut,
    /// A session hit its idle timeout.
    ExpiredIdle,
    /// A session hit its absolute timeout.
    ExpiredAbsolute,
    /// A session was ended to make room (capacity, pool, or per-principal cap).
    Evicted,
    /// A session was ended by revocation ("log out everywhere", theft policy).
    Revoked,
    /// A logged-out token was presented again.
    ReuseAfterLogout,
    /// A rotated-out token was presented again.
    ReuseAfterRotation,
    /// A session was used from another client address.
    AddressChanged,
    /// A session was used with another user agent.
    UserAgentChanged,
    /// A session has been seen from more distinct addresses than allowed.
    TooManyAddresses,
    /// The table was full when a session was created.
    CapacityPressure,
    /// A request carried the session cookie more than once and more than one copy named
    /// a live session (cookie tossing from a sibling domain, or a stale cookie of another
    /// path or domain): each such session was ended.
    DuplicateCookie,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 15] = [
        EventKind::Created,
        EventKind::LoggedIn,
        EventKind::Rotated,
        EventKind::LoggedOut,
        EventKind::ExpiredIdle,
        EventKind::ExpiredAbsolute,
        EventKind::Evicted,
        EventKind::Revoked,
        EventKind::ReuseAfterLogout,
        EventKind::ReuseAfterRotation,
        EventKind::AddressChanged,
        EventKind::UserAgentChanged,
        EventKind::TooManyAddresses,
        EventKind::CapacityPressure,
        EventKind::DuplicateCookie,
    ];

    /// Stable snake_case name, the same in every binding and in logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::LoggedIn => "logged_in",
            EventKind::Rotated => "rotated",
            EventKind::LoggedOut => "logged_out",
            EventKind::ExpiredIdle => "expired_idle",
            EventKind::ExpiredAbsolute => "expired_absolute",
            EventKind::Evicted => "evicted",
            EventKind::Revoked => "revoked",
            EventKind::ReuseAfterLogout => "reuse_after_logout",
            EventKind::ReuseAfterRotation => "reuse_after_rotation",
            EventKind::AddressChanged => "address_changed",
            EventKind::UserAgentChanged => "user_agent_changed",
            EventKind::TooManyAddresses => "too_many_addresses",
            EventKind::CapacityPressure => "capacity_pressure",
            EventKind::DuplicateCookie => "duplicate_cookie",
        }
    }

    /// True for the kinds an operator should be alerted to.
    pub const fn is_security_alert(self) -> bool {
        matches!(
            self,
            EventKind::ReuseAfterLogout
                | EventKind::ReuseAfterRotation
                | EventKind::AddressChanged
                | EventKind::UserAgentChanged
                | EventKind::TooManyAddresses
                | EventKind::CapacityPressure
                | EventKind::DuplicateCookie
        )
    }
}

/// One event. `session` is a keyed digest of the session (stable across rotation,
/// never the token), so logs can correlate without holding anything replayable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Keyed digest naming the session; 0 for engine-wide events.
    pub session: u64,
    /// Engine time of the event (ms).
    pub at_ms: u64,
}

impl Event {
    /// Filler for storage; never handed out.
    pub const EMPTY: Event = Event {
        kind: EventKind::Created,
        session: 0,
        at_ms: 0,
    };
}

/// `(a + b) % cap` for a ring position `a < cap` and a step `b <= cap` (so the sum is
/// below `2 * cap`): one comparison, not a division, which a Cortex-M0 has no
/// instruction for (the firmware would link a software divider for it).
#[inline]
pub(crate) fn ring_add(a: u32, b: u32, cap: u32) -> u32 {
    let s = a + b;
    if s >= cap { s - cap } else { s }
}

/// Ring bookkeeping; the events live in the engine's storage.
#[derive(Debug)]
pub(crate) struct Ring {
    head: u32,
    len: u32,
    pub(crate) dropped: u64,
}

impl Ring {
    pub(crate) const fn new() -> Ring {
        Ring {
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Append `e`; when the ring is full the oldest event gives way (counted in
    /// `dropped`), and with no ring at all every event is dropped. One store of the event
    /// for both cases (on a Cortex-M about 40 bytes less code than a store in each).
    pub(crate) fn push(&mut self, buf: &mut [Event], e: Event) {
        let cap = buf.len() as u32;
        let at = if self.len < cap {
            self.len += 1;
            ring_add(self.head, self.len - 1, cap)
        } else {
            self.dropped += 1;
            if cap == 0 {
                return;
            }
            let oldest = self.head;
            self.head = ring_add(oldest, 1, cap);
            oldest
        };
        buf[at as usize] = e;
    }

    pub(crate) fn pop(&mut self, buf: &[Event]) -> Option<Event> {
        if self.len == 0 {
            return None;
        }
        let e = buf[self.head as usize];
        self.head = ring_add(self.head, 1, buf.len() as u32);
        self.len -= 1;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u64) -> Event {
        Event {
            kind: EventKind::Created,
            session: n,
            at_ms: n,
        }
    }

    #[test]
    fn overflow_keeps_newest_and_counts_drops() {
        let mut buf = [Event::EMPTY; 3];
        let mut r = Ring::new();
        for i in 1..=5 {
            r.push(&mut buf, ev(i));
        }
        assert_eq!(r.dropped, 2);
        assert_eq!(r.len(), 3);
        assert_eq!(r.pop(&buf), Some(ev(3)));
        assert_eq!(r.pop(&buf), Some(ev(4)));
        r.push(&mut buf, ev(6));
        assert_eq!(r.pop(&buf), Some(ev(5)));
        assert_eq!(r.pop(&buf), Some(ev(6)));
        assert_eq!(r.pop(&buf), None);
    }

    /// Push and pop against a plain queue that keeps the newest `cap` events: the same
    /// events in the same places (the buffer holds each kept event where the ring's head
    /// and length say), the same pops and drop count, for rings of 0 to 4 events filled
    /// past full and popped between.
    #[test]
    fn push_keeps_the_newest_in_place() {
        extern crate std;
        use std::collections::VecDeque;
        for cap in 0..5usize {
            let mut buf = [Event::EMPTY; 4];
            let mut r = Ring::new();
            let (mut model, mut dropped) = (VecDeque::new(), 0u64);
            for i in 1..=12u64 {
                r.push(&mut buf[..cap], ev(i));
                model.push_back(ev(i));
                if model.len() > cap {
                    model.pop_front();
                    dropped += 1;
                }
                if i % 5 == 0 {
                    assert_eq!(r.pop(&buf[..cap]), model.pop_front(), "cap {cap} event {i}");
                }
                assert_eq!(
                    (r.len(), r.dropped),
                    (model.len(), dropped),
                    "cap {cap} event {i}"
                );
                for (k, e) in model.iter().enumerate() {
                    let at = (r.head as usize + k) % cap;
                    assert_eq!(&buf[at], e, "cap {cap} event {i} kept {k}");
                }
            }
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in EventKind::ALL.iter().enumerate() {
            for b in &EventKind::ALL[i + 1..] {
                assert_ne!(a.as_str(), b.as_str());
            }
        }
    }
}
