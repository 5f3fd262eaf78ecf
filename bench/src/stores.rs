//! One interface over both stores, so every workload runs the same code against each.

use std::hint::black_box;

use sessile::{Client, Config, Engine, HeapStorage, Store as _};

use crate::naive::{ID_CHARS, NaiveStore};

/// Characters of a token in both stores (32 random bytes, base64url, no padding).
pub const TOKEN_CHARS: usize = ID_CHARS;

/// Idle timeout of ordinary sessions in every run (sessile's default: 30 minutes).
pub const IDLE_MS: u32 = 30 * 60_000;
/// Absolute timeout (sessile's default: 8 hours).
pub const ABSOLUTE_MS: u32 = 8 * 60 * 60_000;

/// The operations the benchmark times. Tokens come in as `&str` and new ones are written
/// to `out` (exactly [`TOKEN_CHARS`] bytes), so both stores see identical inputs.
pub trait Store {
    /// Name in tables and charts.
    const NAME: &'static str;
    /// New session with the default timeouts.
    fn create(&mut self, now: u64, out: &mut [u8]);
    /// New session that dies `idle_ms` after `now` (set-up for sweeps, not timed).
    fn create_expiring(&mut self, now: u64, idle_ms: u32, out: &mut [u8]);
    /// Validate (and touch); true if the session is live.
    fn validate(&mut self, token: &str, now: u64) -> bool;
    /// Give the session a new token; false if the token named no live session.
    fn rotate(&mut self, token: &str, now: u64, out: &mut [u8]) -> bool;
    /// End the session; false if the token named no live session.
    fn logout(&mut self, token: &str, now: u64) -> bool;
    /// Reclaim expired sessions; returns how many.
    fn sweep(&mut self, now: u64) -> usize;
    /// Live sessions held.
    fn live(&self) -> usize;
}

/// A default-config engine with room for `capacity` sessions.
pub fn sessile_config(capacity: u32) -> Config {
    Config {
        capacity,
        idle_timeout_ms: IDLE_MS,
        absolute_timeout_ms: ABSOLUTE_MS,
        ..Config::default()
    }
}

/// sessile's heap engine behind [`Store`].
pub struct SessileStore {
    /// The engine under test.
    pub engine: Engine<HeapStorage>,
}

impl SessileStore {
    /// `Engine::new` with the default config and `capacity` slots (all memory taken here).
    pub fn new(capacity: usize) -> SessileStore {
        let capacity = u32::try_from(capacity).expect("capacity fits u32");
        let engine = Engine::new(sessile_config(capacity), [0x5e; 32]).expect("valid bench config");
        SessileStore { engine }
    }
}

impl Store for SessileStore {
    const NAME: &'static str = "sessile";

    fn create(&mut self, now: u64, out: &mut [u8]) {
        let (token, session) = self
            .engine
            .create(now, &Client::NONE)
            .expect("the engine is sized for the run");
        black_box(&session);
        out.copy_from_slice(token.as_bytes());
    }

    fn create_expiring(&mut self, now: u64, idle_ms: u32, out: &mut [u8]) {
        let (token, session) = self
            .engine
            .create(now, &Client::NONE)
            .expect("the engine is sized for the run");
        self.engine
            .set_timeouts(session.handle, Some(idle_ms), None, now)
            .expect("a short idle timeout is allowed");
        out.copy_from_slice(token.as_bytes());
    }

    fn validate(&mut self, token: &str, now: u64) -> bool {
        let r = self.engine.validate(token.as_bytes(), now, &Client::NONE);
        black_box(&r);
        r.is_ok()
    }

    fn rotate(&mut self, token: &str, now: u64, out: &mut [u8]) -> bool {
        match self.engine.rotate(token.as_bytes(), now) {
            Ok((t, session)) => {
                black_box(&session);
                out.copy_from_slice(t.as_bytes());
                true
            }
            Err(_) => false,
        }
    }

    fn logout(&mut self, token: &str, now: u64) -> bool {
        self.engine.logout(token.as_bytes(), now).is_ok()
    }

    fn sweep(&mut self, now: u64) -> usize {
        self.engine.sweep(now)
    }

    fn live(&self) -> usize {
        self.engine.stats().live as usize
    }
}

impl Store for NaiveStore {
    const NAME: &'static str = "naive";

    fn create(&mut self, now: u64, out: &mut [u8]) {
        out.copy_from_slice(NaiveStore::create(self, now).as_bytes());
    }

    fn create_expiring(&mut self, now: u64, idle_ms: u32, out: &mut [u8]) {
        out.copy_from_slice(self.create_with_idle(now, idle_ms).as_bytes());
    }

    fn validate(&mut self, token: &str, now: u64) -> bool {
        let r = NaiveStore::validate(self, token, now);
        black_box(&r);
        r.is_some()
    }

    fn rotate(&mut self, token: &str, now: u64, out: &mut [u8]) -> bool {
        match NaiveStore::rotate(self, token, now) {
            Some(id) => {
                out.copy_from_slice(id.as_bytes());
                true
            }
            None => false,
        }
    }

    fn logout(&mut self, token: &str, _now: u64) -> bool {
        NaiveStore::logout(self, token)
    }

    fn sweep(&mut self, now: u64) -> usize {
        NaiveStore::sweep(self, now)
    }

    fn live(&self) -> usize {
        self.len()
    }
}
