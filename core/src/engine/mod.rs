//! The in-process session table: the [`Store`] whose records live in this process's
//! memory (slots, the timing wheel, the payload pool, the tombstones and the event
//! ring). Time is always given (`now`, monotonic ms), never read. The rules it applies
//! are [`crate::rules`]'s; this folder holds the bookkeeping, one concern a file:
//!
//! - `mod.rs`: [`Engine`], its construction, reseeding and fork guard, and the [`Store`]
//!   calls, each a short delegation to `State`;
//! - `types.rs`: the public values ([`Session`], [`SessionRef`], [`Stats`], ...);
//! - `sessions.rs`: the session lifecycle (create, validate, rotate, login, end, sweep);
//! - `payload.rs`: a session's payload and principal bytes in the pool, and the save;
//! - `principals.rs`: each principal's sessions, the per-principal cap, listing;
//! - `client.rs`: the client address and user-agent checks;
//! - `capacity.rs`: the free list, and making room when the table is full;
//! - `digests.rs`: the keyed digests (event tags, client and principal hashes);
//! - `snapshot.rs`: snapshot and restore of the whole table (feature `snapshot`).
//!
//! A slot keeps when its session began as a `u32` of ms after the engine's time origin
//! (`State::origin`). About once in 49.7 days of engine time a create or a login finds
//! its start too far from it and moves it (`State::rebase`): it sweeps first (the sessions
//! past their deadline end then, with their events, as in a sweep the caller asks for)
//! and makes one pass over the slots. Every time stays exact to the millisecond.

mod capacity;
mod client;
mod digests;
mod payload;
mod principals;
mod sessions;
#[cfg(feature = "snapshot")]
mod snapshot;
#[cfg(test)]
mod tests;
mod types;

pub use principals::SessionsOf;
pub use types::{Client, Loaded, Principal, Saved, Session, SessionRef, Stats};

use zeroize::Zeroize;

use crate::config::Config;
use crate::cookie::{self, CookieError};
use crate::error::{Error, Invalid};
use crate::event::{Event, EventKind, Ring};
use crate::idgen::IdGen;
use crate::index;
use crate::pool::{self, Chunks, Pool};
use crate::slot::{NIL, Slot};
use crate::storage::{Layout, Storage};
use crate::store::Store;
use crate::token::Token;
use crate::tombstone::Tombstones;
use crate::wheel::Wheel;

/// How an engine notices that it now runs in a forked child, checked before every
/// operation that issues a token (and only then: lookups pay nothing for it). The `std`
/// layer installs one keyed on the process id ([`crate::shared::fork_guard`]).
///
/// It sees a fork, not a clone: a process restored from a VM snapshot or a CRIU image
/// keeps its pid and repeats its generator's stream. Call [`Engine::reseed`] after such
/// a restore.
///
/// Installed with `Engine::set_fork_guard`, which only a build with the `fork-guard`
/// feature has (every build with `std`): a build without an OS to fork it (a firmware)
/// leaves the check out.
#[derive(Clone, Copy, Debug)]
pub struct ForkGuard {
    /// Names the running process; a change since the last draw means a fork happened.
    pub epoch: fn() -> u32,
    /// A fresh seed for the new process, or `None` when no entropy can be had: the
    /// operation then fails with [`Error::Entropy`] rather than issue a guessable token.
    pub seed: fn() -> Option<[u8; 32]>,
}

/// Everything but the storage, so methods can borrow both at once.
struct State {
    config: Config,
    rng: IdGen,
    /// With the epoch the generator was last (re)seeded in.
    guard: Option<(ForkGuard, u32)>,
    /// The keyed digests' key (`digests.rs`).
    key: (u64, u64),
    /// How the token index packs its cells (`sessions.rs`).
    tokens: sessions::Tokens,
    /// How the principal index packs its cells (`principals.rs`).
    principals: index::Tagged,
    /// How far the engine's time runs ahead of the caller's `now` ([`State::at`]): 0,
    /// unless a restored snapshot holds sessions that began before the caller's clock's
    /// zero (a process's monotonic clock starts near 0).
    base: u64,
    /// The engine time the slots' times count from (`Slot::created` is a `u32` offset
    /// from it); moved forward by `State::offset_of` before an offset would overflow.
    origin: u64,
    wheel: Wheel,
    pool: Pool,
    ring: Ring,
    tombs: Tombstones,
    /// The anonymous sessions' list, a CLOCK whose head is the hand: what a full table
    /// evicts (`capacity.rs`).
    lru_head: u32,
    /// The free slots' list (`capacity.rs`).
    free_head: u32,
    /// The latest `now` given ([`State::tick`]).
    clock: u64,
    /// Creates that met a full table since the last pressure event (0 = none pending).
    pressure: u32,
    stats: Stats,
}

/// The session engine.
///
/// Besides [`Store::sweep`], it sweeps by itself when the payload pool has no room for a
/// write, and about once in 49.7 days of engine time, when a create or a login moves the
/// origin its records count time from (then also one pass over the slots).
///
/// ```
/// use sessile::{Client, Config, Engine, Invalid, Store};
/// let mut engine = Engine::from_os(Config::default()).unwrap();
/// let (anon, _) = engine.create(0, &Client::NONE).unwrap();
/// let (token, session) = engine.login(anon.as_bytes(), b"alice", 10).unwrap();
/// assert_eq!(session.principal.unwrap().as_str(), Some("alice"));
/// // The pre-login token is dead: no session fixation.
/// assert_eq!(engine.validate(anon.as_bytes(), 20, &Client::NONE).unwrap_err(), Invalid::RotatedOut);
/// engine.logout(token.as_bytes(), 30).unwrap();
/// assert_eq!(engine.validate(token.as_bytes(), 40, &Client::NONE).unwrap_err(), Invalid::LoggedOut);
/// ```
pub struct Engine<S: Storage> {
    st: State,
    storage: S,
}

#[cfg(feature = "alloc")]
impl Engine<crate::storage::HeapStorage> {
    /// An engine on the heap, sized by `config`, all memory allocated here and only here.
    /// `seed` seeds the ChaCha20 generator: it must be 32 bytes of real entropy, or a
    /// fixed value in tests only. With `std`, [`Engine::from_os`] seeds from the OS and
    /// installs the fork guard.
    pub fn new(config: Config, seed: [u8; 32]) -> Result<Self, Error> {
        config.validate()?;
        let storage = crate::storage::HeapStorage::new(&Layout::of(&config))?;
        Engine::with_storage(config, storage, seed)
    }
}

impl<S: Storage> Engine<S> {
    /// An engine over caller-provided storage, which must match `Layout::of(&config)`.
    pub fn with_storage(config: Config, mut storage: S, seed: [u8; 32]) -> Result<Self, Error> {
        config.validate()?;
        if !storage.parts().matches(&Layout::of(&config)) {
            return Err(Error::StorageSize);
        }
        let mut p = storage.parts();
        let (wheel, pool) = fresh(&config, &mut p)?;
        let mut rng = IdGen::from_seed(seed);
        let key = digests::new_key(&mut rng);
        let stats = fresh_stats(&config);
        let tokens = sessions::Tokens::of(config.capacity);
        let principals = index::Tagged::of(
            config.capacity,
            index::cells_for(config.capacity, index::PRINCIPALS),
        );
        Ok(Engine {
            st: State {
                config,
                rng,
                guard: None,
                key,
                tokens,
                principals,
                base: 0,
                origin: 0,
                wheel,
                pool,
                ring: Ring::new(),
                tombs: Tombstones::new(),
                lru_head: NIL,
                free_head: 0,
                clock: 0,
                pressure: 0,
                stats,
            },
            storage,
        })
    }

    /// The latest time the engine has been given (its clock never runs backwards).
    pub fn now(&self) -> u64 {
        self.st.clock.saturating_sub(self.st.base)
    }

    /// Replace the generator's key with `seed` (fresh entropy): after a process was
    /// cloned (VM snapshot, CRIU restore), which the fork guard cannot see, or after its
    /// memory may have been read. Tokens issued afterwards do not follow from anything
    /// in memory before the call.
    pub fn reseed(&mut self, mut seed: [u8; 32]) {
        self.st.rng.reseed(&mut seed);
        if let Some((g, _)) = self.st.guard {
            self.st.guard = Some((g, (g.epoch)()));
        }
    }

    /// Reseed automatically in a forked child: before each draw of randomness the engine
    /// asks `guard.epoch()`, and when it differs from the epoch at the last (re)seed it
    /// replaces the generator with `guard.seed(..)` first, so parent and child never issue
    /// the same IDs. Only operations that issue tokens draw randomness, so only they pay.
    ///
    /// With the `fork-guard` feature only (every build with `std` has it).
    #[cfg(feature = "fork-guard")]
    pub fn set_fork_guard(&mut self, guard: ForkGuard) {
        self.st.guard = Some((guard, (guard.epoch)()));
    }
}

// Each call turns the caller's `now` into the engine's time first (`State::at`); the
// times it hands back (sessions, events) are turned back (`State::out`).
impl<S: Storage> Store for Engine<S> {
    type Payload<'a>
        = Chunks<'a>
    where
        S: 'a;
    type SessionsOf<'a>
        = SessionsOf<'a>
    where
        S: 'a;

    fn config(&self) -> &Config {
        &self.st.config
    }

    fn create(&mut self, now: u64, client: &Client<'_>) -> Result<(Token, Session), Error> {
        let now = self.st.at(now);
        self.st.check_fork()?;
        let mut p = self.storage.parts();
        self.st.create(&mut p, now, client)
    }

    fn validate(&mut self, token: &[u8], now: u64, client: &Client<'_>) -> Result<Session, Error> {
        Engine::validate(self, token, now, client).map_err(Error::Session)
    }

    fn peek(&mut self, token: &[u8], now: u64) -> Result<Session, Error> {
        Engine::peek(self, token, now).map_err(Error::Session)
    }

    fn is_live(&mut self, token: &[u8], now: u64) -> Result<bool, Error> {
        let now = self.st.at(now);
        let p = self.storage.parts();
        Ok(self.st.is_live(&p, token, now))
    }

    fn login(
        &mut self,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        let now = self.st.at(now);
        self.st.check_fork()?;
        let mut p = self.storage.parts();
        self.st.login(&mut p, token, principal, now)
    }

    fn rotate(&mut self, token: &[u8], now: u64) -> Result<(Token, Session), Error> {
        let now = self.st.at(now);
        self.st.check_fork()?;
        let mut p = self.storage.parts();
        self.st.rotate(&mut p, token, now)
    }

    fn logout(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.logout(&mut p, token, now)
    }

    fn revoke(&mut self, handle: SessionRef, now: u64) -> Result<(), Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.revoke(&mut p, handle, now)
    }

    fn revoke_principal(&mut self, principal: &[u8], now: u64) -> Result<usize, Error> {
        Ok(Engine::revoke_principal(self, principal, now))
    }

    fn revoke_all(&mut self, now: u64) -> Result<usize, Error> {
        Ok(Engine::revoke_all(self, now))
    }

    fn sessions_of<'a>(&'a mut self, principal: &[u8], now: u64) -> Result<SessionsOf<'a>, Error> {
        Ok(Engine::sessions_of(self, principal, now))
    }

    fn session(&mut self, handle: SessionRef, now: u64) -> Result<Session, Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.session(&mut p, handle, now)
    }

    fn set_timeouts(
        &mut self,
        handle: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st
            .set_timeouts(&mut p, handle, idle_ms, absolute_ms, now)
    }

    fn write(&mut self, handle: SessionRef, data: &[u8], now: u64) -> Result<(), Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.write(&mut p, handle, data, now)
    }

    fn payload(&mut self, handle: SessionRef, now: u64) -> Result<Chunks<'_>, Error> {
        let now = self.st.at(now);
        self.st.payload(self.storage.parts(), handle, now)
    }

    fn save(
        &mut self,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.save(&mut p, handle, epoch, data, now)
    }

    fn sweep(&mut self, now: u64) -> Result<usize, Error> {
        Ok(Engine::sweep(self, now))
    }

    fn pop_event(&mut self) -> Option<Event> {
        let p = self.storage.parts();
        let e = self.st.ring.pop(p.events)?;
        Some(Event {
            at_ms: self.st.out(e.at_ms),
            ..e
        })
    }

    fn stats(&self) -> Stats {
        let mut s = self.st.stats;
        s.pool_used_bytes = (self.st.pool.used_blocks() * pool::BLOCK) as u64;
        s.tombstones = self.st.tombs.len() as u32;
        s.events_pending = self.st.ring.len() as u32;
        s.events_dropped = self.st.ring.dropped;
        s
    }

    fn end_duplicate(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.end_duplicate(&mut p, token, now);
        Ok(())
    }
}

/// The [`Store`] calls that only a store outside this process can fail for store
/// reasons, with the types the in-process table gives: callers of an [`Engine`] match
/// on [`Invalid`] and counts directly. Through the trait (code generic over any store)
/// the same calls give [`Error`].
impl<S: Storage> Engine<S> {
    /// [`Store::validate`]: why a token names no live session is an [`Invalid`].
    pub fn validate(
        &mut self,
        token: &[u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Session, Invalid> {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.validate(&mut p, token, now, client)
    }

    /// [`Store::peek`].
    pub fn peek(&mut self, token: &[u8], now: u64) -> Result<Session, Invalid> {
        let now = self.st.at(now);
        let p = self.storage.parts();
        self.st.peek(&p, token, now)
    }

    /// [`Store::revoke_principal`].
    pub fn revoke_principal(&mut self, principal: &[u8], now: u64) -> usize {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.revoke_principal(&mut p, principal, now)
    }

    /// [`Store::revoke_all`].
    pub fn revoke_all(&mut self, now: u64) -> usize {
        let now = self.st.at(now);
        let mut p = self.storage.parts();
        self.st.revoke_all(&mut p, now)
    }

    /// [`Store::sessions_of`].
    pub fn sessions_of<'a>(&'a mut self, principal: &[u8], now: u64) -> SessionsOf<'a> {
        let now = self.st.at(now);
        self.st.sessions_of(self.storage.parts(), principal, now)
    }

    /// [`Store::sweep`].
    pub fn sweep(&mut self, now: u64) -> usize {
        let mut p = self.storage.parts();
        let now = self.st.tick(self.st.at(now));
        self.st.sweep(&mut p, now)
    }
}

impl<S: Storage> Engine<S> {
    /// The session token in a `Cookie` request header, if there is exactly one.
    pub fn token_from_cookie_header<'h>(
        &self,
        header: &'h [u8],
    ) -> Result<Option<&'h [u8]>, CookieError> {
        cookie::parse_cookie(header, self.st.config.cookie.name.as_str())
    }
}

impl<S: Storage> Drop for Engine<S> {
    /// Wipe what the engine knows: the generator's key (by the generator's own drop), the
    /// keys of its digests, every token digest, tombstone and payload byte. Storage the
    /// caller lent (a C caller's buffer, a static array) is left zeroed.
    fn drop(&mut self) {
        self.st.key.0.zeroize();
        self.st.key.1.zeroize();
        let p = self.storage.parts();
        for s in p.slots.iter_mut() {
            *s = Slot::EMPTY;
            s.digest.0.zeroize();
        }
        for a in p.addresses.iter_mut() {
            a.zeroize();
        }
        #[cfg(feature = "narrow")]
        for c in p.clients.iter_mut() {
            c.zeroize();
        }
        for t in p.tombstones.iter_mut() {
            t.wipe();
        }
        p.pool.zeroize();
    }
}

/// Every region of `p` as a new engine finds it (slots free and wiped, indexes empty,
/// pool wiped, tombstones wiped), and the wheel and pool bookkeeping over it.
fn fresh(config: &Config, p: &mut crate::storage::Parts<'_>) -> Result<(Wheel, Pool), Error> {
    capacity::all_free(p.slots);
    p.addresses.fill([0; 4]);
    #[cfg(feature = "narrow")]
    p.clients.fill([0; 2]);
    p.index.fill(index::EMPTY);
    p.principals.fill(index::EMPTY);
    p.tombstone_index.fill(index::EMPTY);
    p.pool.fill(0);
    let wheel = Wheel::new(p.links, config.capacity, 0).ok_or(Error::StorageSize)?;
    Ok((wheel, Pool::new(p.pool_next)))
}

fn fresh_stats(config: &Config) -> Stats {
    Stats {
        capacity: config.capacity,
        pool_total_bytes: (Layout::of(config).pool_blocks * pool::BLOCK) as u64,
        ..Stats::default()
    }
}

impl State {
    /// Forget everything the table holds, as if just built (the generator, the fork
    /// guard and the digests' key stay): the start of a restore, and where a restore
    /// that fails half-way leaves the engine.
    #[cfg(feature = "snapshot")]
    fn clear(&mut self, p: &mut crate::storage::Parts<'_>) -> Result<(), Error> {
        for t in p.tombstones.iter_mut() {
            t.wipe();
        }
        for s in p.slots.iter_mut() {
            s.digest.0.zeroize();
        }
        p.pool.zeroize();
        let (wheel, pool) = fresh(&self.config, p)?;
        self.wheel = wheel;
        self.pool = pool;
        self.ring = Ring::new();
        self.tombs = Tombstones::new();
        self.lru_head = NIL;
        self.free_head = 0;
        self.base = 0;
        self.origin = 0;
        self.clock = 0;
        self.pressure = 0;
        self.stats = fresh_stats(&self.config);
        Ok(())
    }

    /// The caller's `now` in the engine's time (see `base`): a saturating sum, the one
    /// `rules::after_origin` (on 32-bit targets one copy for both, not inlined).
    #[inline]
    fn at(&self, now: u64) -> u64 {
        crate::rules::after_origin(self.base, now)
    }

    /// An engine time in the caller's time; a moment before the caller's zero reads 0.
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    fn out(&self, t: u64) -> u64 {
        t.saturating_sub(self.base)
    }

    /// The engine's clock: the latest `now` seen. A clock that goes backwards therefore
    /// never extends a session.
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    fn tick(&mut self, now: u64) -> u64 {
        self.clock = self.clock.max(now);
        self.clock
    }

    /// In a forked child, reseed before the first token (see [`ForkGuard`]); with no
    /// entropy to be had, refuse rather than repeat the parent's stream.
    fn check_fork(&mut self) -> Result<(), Error> {
        // Without the `fork-guard` feature no guard can be set.
        if !cfg!(feature = "fork-guard") {
            return Ok(());
        }
        if let Some((g, seeded)) = self.guard {
            let epoch = (g.epoch)();
            if epoch != seeded {
                let mut seed = (g.seed)().ok_or(Error::Entropy)?;
                self.rng.reseed(&mut seed);
                self.guard = Some((g, epoch));
            }
        }
        Ok(())
    }

    /// Record `kind` for session `i` of `generation` (its tag) at `now`.
    fn emit(&mut self, i: u32, generation: u32, kind: EventKind, now: u64, events: &mut [Event]) {
        let session = self.tag(i, generation);
        self.ring.push(
            events,
            Event {
                kind,
                session,
                at_ms: now,
            },
        );
    }

    fn emit_global(&mut self, kind: EventKind, now: u64, events: &mut [Event]) {
        self.ring.push(
            events,
            Event {
                kind,
                session: 0,
                at_ms: now,
            },
        );
    }
}
