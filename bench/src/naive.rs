//! The peer every figure is a ratio against: the store a web developer writes in an
//! afternoon. A `HashMap<String, _>` keyed by the session ID itself, IDs of 32 bytes from
//! the OS (`getrandom`, one system call each) in base64url, and a sweep that scans every
//! session for expired ones.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Characters of an ID: 32 random bytes in base64url without padding (as sessile's default).
pub const ID_CHARS: usize = 43;

/// One session: the same timing facts sessile keeps, plus the usual optional fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaiveSession {
    /// Creation time (ms).
    pub created_ms: u64,
    /// Last validation (ms).
    pub last_seen_ms: u64,
    /// Idle timeout (ms).
    pub idle_ms: u32,
    /// Absolute timeout (ms).
    pub absolute_ms: u32,
    /// User ID after login.
    pub principal: Option<String>,
    /// Application data.
    pub payload: Vec<u8>,
}

impl NaiveSession {
    /// The moment the session dies: valid while `now < deadline()`.
    pub fn deadline(&self) -> u64 {
        (self.last_seen_ms + u64::from(self.idle_ms))
            .min(self.created_ms + u64::from(self.absolute_ms))
    }
}

/// What a successful validation hands back (a copy of the timing facts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaiveView {
    /// Creation time (ms).
    pub created_ms: u64,
    /// This validation's time (ms).
    pub last_seen_ms: u64,
    /// When it expires unless used again.
    pub deadline_ms: u64,
}

/// The naive session store.
///
/// ```
/// let mut store = sessile_bench::naive::NaiveStore::new(1_000, 10_000, 0);
/// let id = store.create(0);
/// assert!(store.validate(&id, 500).is_some());
/// assert!(store.logout(&id));
/// assert!(store.validate(&id, 600).is_none());
/// ```
pub struct NaiveStore {
    map: HashMap<String, NaiveSession>,
    idle_ms: u32,
    absolute_ms: u32,
}

/// A fresh ID: 32 bytes from the OS, base64url without padding.
pub fn new_id() -> String {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).expect("the OS random source failed");
    URL_SAFE_NO_PAD.encode(raw)
}

impl NaiveStore {
    /// An empty store with these default timeouts, with room for `capacity` sessions.
    pub fn new(idle_ms: u32, absolute_ms: u32, capacity: usize) -> NaiveStore {
        NaiveStore {
            map: HashMap::with_capacity(capacity),
            idle_ms,
            absolute_ms,
        }
    }

    /// Live (not yet swept) sessions.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there is no session.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Start a session with the default timeouts; returns its ID.
    pub fn create(&mut self, now: u64) -> String {
        self.create_with_idle(now, self.idle_ms)
    }

    /// Start a session with its own idle timeout.
    pub fn create_with_idle(&mut self, now: u64, idle_ms: u32) -> String {
        loop {
            if let Entry::Vacant(v) = self.map.entry(new_id()) {
                let id = v.key().clone();
                v.insert(NaiveSession {
                    created_ms: now,
                    last_seen_ms: now,
                    idle_ms,
                    absolute_ms: self.absolute_ms,
                    principal: None,
                    payload: Vec::new(),
                });
                return id;
            }
        }
    }

    /// Look the ID up; if live, touch it. An expired session is removed on sight.
    pub fn validate(&mut self, id: &str, now: u64) -> Option<NaiveView> {
        let s = self.map.get_mut(id)?;
        if now >= s.deadline() {
            self.map.remove(id);
            return None;
        }
        s.last_seen_ms = s.last_seen_ms.max(now);
        Some(NaiveView {
            created_ms: s.created_ms,
            last_seen_ms: s.last_seen_ms,
            deadline_ms: s.deadline(),
        })
    }

    /// Move the session to a fresh ID; the old one stops working.
    pub fn rotate(&mut self, id: &str, now: u64) -> Option<String> {
        let s = self.map.remove(id)?;
        if now >= s.deadline() {
            return None;
        }
        loop {
            if let Entry::Vacant(v) = self.map.entry(new_id()) {
                let id = v.key().clone();
                v.insert(s);
                return Some(id);
            }
        }
    }

    /// End the session; false if there was none.
    pub fn logout(&mut self, id: &str) -> bool {
        self.map.remove(id).is_some()
    }

    /// Remove every expired session by scanning them all; returns how many.
    pub fn sweep(&mut self, now: u64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, s| now < s.deadline());
        before - self.map.len()
    }
}
