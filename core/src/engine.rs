//! The engine: session policy over the table, the timing wheel, the payload pool, the
//! tombstones and the event ring. Time is always given (`now`, monotonic ms), never read.

use zeroize::Zeroize;

use crate::config::{ClientPolicy, Config, MAX_PRINCIPAL};
use crate::cookie::{self, CookieError};
use crate::error::{Error, Expiry, Invalid};
use crate::event::{Event, EventKind, Ring};
use crate::idgen::IdGen;
use crate::index;
use crate::pool::{self, Chunks, NoRoom, Pool};
use crate::rules::{self, LoginRoom};
use crate::slot::{self, NIL, STATE_ANON, STATE_AUTH, STATE_FREE, Slot};
use crate::storage::{Layout, Parts, Storage};
use crate::store::Store;
use crate::token::{self, Digest, Token};
use crate::tombstone::{Death, Keep, Tombstones};
use crate::wheel::Wheel;

/// Slot flag: the too-many-addresses alarm has been raised for this session.
const ALERTED: u8 = 2;

/// Names one session without its token. Carries a generation, so a handle to an ended
/// session never reaches the session that reuses its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionRef {
    slot: u32,
    generation: u32,
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
    bytes: [u8; MAX_PRINCIPAL],
    len: u8,
}

impl Principal {
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
    /// Changes whenever the session's token does (login, rotation). [`Store::save`]
    /// takes the epoch a request loaded, so a save never lands on a session whose token
    /// changed since.
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

/// Which chain of a slot to write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    Payload,
    Principal,
}

/// How an engine notices that it now runs in a forked child, checked before every
/// operation that issues a token (and only then: lookups pay nothing for it). The `std`
/// layer installs one keyed on the process id ([`crate::shared::fork_guard`]).
///
/// It sees a fork, not a clone: a process restored from a VM snapshot or a CRIU image
/// keeps its pid and repeats its generator's stream. Call [`Engine::reseed`] after such
/// a restore.
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
    key: (u64, u64),
    wheel: Wheel,
    pool: Pool,
    ring: Ring,
    tombs: Tombstones,
    lru_head: u32,
    free_head: u32,
    clock: u64,
    /// Creates that met a full table since the last pressure event (0 = none pending).
    pressure: u32,
    stats: Stats,
}

/// The session engine.
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
        let layout = Layout::of(&config);
        let p = storage.parts();
        if !p.matches(&layout) {
            return Err(Error::StorageSize);
        }
        for (i, s) in p.slots.iter_mut().enumerate() {
            *s = Slot::EMPTY;
            s.next = if i + 1 < layout.slots {
                i as u32 + 1
            } else {
                NIL
            };
        }
        p.index.fill(index::EMPTY);
        p.principals.fill(index::EMPTY);
        p.tombstone_index.fill(index::EMPTY);
        p.pool.fill(0);
        let wheel = Wheel::new(p.links, config.capacity, 0).ok_or(Error::StorageSize)?;
        let pool = Pool::new(p.pool_next);
        let mut rng = IdGen::from_seed(seed);
        let mut k = [0u8; 16];
        rng.fill(&mut k);
        let key = (
            u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]]),
            u64::from_le_bytes([k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]]),
        );
        k.zeroize();
        let stats = Stats {
            capacity: config.capacity,
            pool_total_bytes: (layout.pool_blocks * pool::BLOCK) as u64,
            ..Stats::default()
        };
        Ok(Engine {
            st: State {
                config,
                rng,
                guard: None,
                key,
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
        self.st.clock
    }

    /// Replace the generator's key with `seed` (fresh entropy): after a process was
    /// cloned (VM snapshot, CRIU restore), which the fork guard cannot see, or after its
    /// memory may have been read. Tokens issued afterwards do not follow from anything
    /// in memory before the call.
    pub fn reseed(&mut self, seed: [u8; 32]) {
        self.st.rng = IdGen::from_seed(seed);
        if let Some((g, _)) = self.st.guard {
            self.st.guard = Some((g, (g.epoch)()));
        }
    }

    /// Reseed automatically in a forked child: before each draw of randomness the engine
    /// asks `guard.epoch()`, and when it differs from the epoch at the last (re)seed it
    /// replaces the generator with `guard.seed(..)` first, so parent and child never issue
    /// the same IDs. Only operations that issue tokens draw randomness, so only they pay.
    pub fn set_fork_guard(&mut self, guard: ForkGuard) {
        self.st.guard = Some((guard, (guard.epoch)()));
    }
}

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
        self.st.check_fork()?;
        let mut p = self.storage.parts();
        self.st.create(&mut p, now, client)
    }

    fn validate(
        &mut self,
        token: &[u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Session, Invalid> {
        let mut p = self.storage.parts();
        self.st.validate(&mut p, token, now, client)
    }

    fn peek(&mut self, token: &[u8], now: u64) -> Result<Session, Invalid> {
        let p = self.storage.parts();
        let now = now.max(self.st.clock);
        match self.st.find_live(&p, token, now) {
            Ok(i) => Ok(self.st.info(&p, i)),
            Err(Some(i)) => Err(expiry_of(&p.slots[i as usize]).invalid()),
            Err(None) => Err(self.st.find_dead(&p, token)),
        }
    }

    fn login(
        &mut self,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        self.st.check_fork()?;
        let mut p = self.storage.parts();
        self.st.login(&mut p, token, principal, now)
    }

    fn rotate(&mut self, token: &[u8], now: u64) -> Result<(Token, Session), Error> {
        self.st.check_fork()?;
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let i = self.st.resolve(&mut p, token, now)?;
        let t = self.st.rekey(&mut p, i);
        self.st
            .emit(&p.slots[i as usize], i, EventKind::Rotated, now, p.events);
        Ok((t, self.st.info(&p, i)))
    }

    fn logout(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let i = self.st.resolve(&mut p, token, now)?;
        self.st.destroy(&mut p, i, Death::LoggedOut, now);
        Ok(())
    }

    fn revoke(&mut self, handle: SessionRef, now: u64) -> Result<(), Error> {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let i = self.st.live_at(&mut p, handle, now)?;
        self.st.destroy(&mut p, i, Death::Revoked, now);
        Ok(())
    }

    fn revoke_principal(&mut self, principal: &[u8], now: u64) -> usize {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let mut n = 0;
        while let Some((_, head)) = self.st.principal_cell(&p, principal) {
            n += usize::from(self.st.end_live(&mut p, head, now));
        }
        n
    }

    fn revoke_all(&mut self, now: u64) -> usize {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let mut n = 0;
        for i in 0..p.slots.len() as u32 {
            if p.slots[i as usize].is_live() {
                n += usize::from(self.st.end_live(&mut p, i, now));
            }
        }
        n
    }

    fn sessions_of<'a>(&'a mut self, principal: &[u8], now: u64) -> SessionsOf<'a> {
        let now = self.st.tick(now);
        let p = self.storage.parts();
        let head = self
            .st
            .principal_cell(&p, principal)
            .map_or(NIL, |(_, h)| h);
        SessionsOf {
            now,
            st: &self.st,
            slots: p.slots,
            pool: p.pool,
            pool_next: p.pool_next,
            head,
            cur: head,
        }
    }

    fn session(&mut self, handle: SessionRef, now: u64) -> Result<Session, Error> {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let i = self.st.live_at(&mut p, handle, now)?;
        Ok(self.st.info(&p, i))
    }

    fn set_timeouts(
        &mut self,
        handle: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        let mut p = self.storage.parts();
        self.st
            .set_timeouts(&mut p, handle, idle_ms, absolute_ms, now)
    }

    fn write(&mut self, handle: SessionRef, data: &[u8], now: u64) -> Result<(), Error> {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let i = self.st.live_at(&mut p, handle, now)?;
        if data.len() > self.st.config.max_payload as usize {
            return Err(Error::PayloadTooLarge);
        }
        self.st.write_chain(&mut p, i, Chain::Payload, data, now)
    }

    fn payload(&mut self, handle: SessionRef, now: u64) -> Result<Chunks<'_>, Error> {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let i = self.st.live_at(&mut p, handle, now)?;
        let s = &p.slots[i as usize];
        Ok(Chunks {
            bytes: p.pool,
            next: p.pool_next,
            block: s.payload_head,
            left: s.payload_len as usize,
        })
    }

    fn save(
        &mut self,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        let current = match self.st.live_at(&mut p, handle, now) {
            Ok(i) => {
                let s = &p.slots[i as usize];
                let same = s.payload_len as usize == data.len()
                    && Chunks {
                        bytes: p.pool,
                        next: p.pool_next,
                        block: s.payload_head,
                        left: data.len(),
                    }
                    .eq_bytes(data);
                Some((i, s.epoch, same))
            }
            Err(Error::StaleHandle | Error::Session(_)) => None,
            Err(e) => return Err(e),
        };
        match rules::save(epoch, current.map(|(_, e, same)| (e, same))) {
            rules::SaveVerdict::Drop => Ok(Saved::Dropped),
            rules::SaveVerdict::Unchanged => Ok(Saved::Unchanged),
            rules::SaveVerdict::Write => {
                let Some((i, _, _)) = current else {
                    return Ok(Saved::Dropped);
                };
                if data.len() > self.st.config.max_payload as usize {
                    return Err(Error::PayloadTooLarge);
                }
                self.st.write_chain(&mut p, i, Chain::Payload, data, now)?;
                Ok(Saved::Written)
            }
        }
    }

    fn sweep(&mut self, now: u64) -> usize {
        let mut p = self.storage.parts();
        let now = self.st.tick(now);
        self.st.sweep(&mut p, now)
    }

    fn pop_event(&mut self) -> Option<Event> {
        let p = self.storage.parts();
        self.st.ring.pop(p.events)
    }

    fn stats(&self) -> Stats {
        let mut s = self.st.stats;
        s.pool_used_bytes = (self.st.pool.used_blocks() * pool::BLOCK) as u64;
        s.tombstones = self.st.tombs.len() as u32;
        s.events_pending = self.st.ring.len() as u32;
        s.events_dropped = self.st.ring.dropped;
        s
    }

    fn end_duplicate(&mut self, token: &[u8], now: u64) {
        let now = self.st.tick(now);
        let mut p = self.storage.parts();
        if let Ok(i) = self.st.find_live(&p, token, now) {
            let s = p.slots[i as usize];
            self.st
                .emit(&s, i, EventKind::DuplicateCookie, now, p.events);
            self.st.destroy(&mut p, i, Death::Revoked, now);
        }
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
        for t in p.tombstones.iter_mut() {
            t.wipe();
        }
        p.pool.zeroize();
    }
}

/// Iterator over a principal's sessions, from [`Store::sessions_of`].
pub struct SessionsOf<'a> {
    now: u64,
    st: &'a State,
    slots: &'a [Slot],
    pool: &'a [u8],
    pool_next: &'a [u32],
    head: u32,
    cur: u32,
}

impl Iterator for SessionsOf<'_> {
    type Item = Session;
    fn next(&mut self) -> Option<Session> {
        loop {
            if self.cur == NIL {
                return None;
            }
            let i = self.cur;
            let n = self.slots[i as usize].next;
            self.cur = if n == self.head { NIL } else { n };
            if self.slots[i as usize].deadline() > self.now {
                return Some(self.st.info_from(self.slots, self.pool, self.pool_next, i));
            }
        }
    }
}

#[allow(deprecated)]
fn siphash(key: (u64, u64), domain: u8, parts: &[&[u8]]) -> u64 {
    use core::hash::Hasher;
    let mut h = core::hash::SipHasher::new_with_keys(key.0, key.1);
    h.write_u8(domain);
    for part in parts {
        h.write_usize(part.len());
        h.write(part);
    }
    h.finish()
}

/// Which deadline ended a session whose deadline has passed.
fn expiry_of(s: &Slot) -> Death {
    match rules::expiry(&s.times()) {
        Expiry::Absolute => Death::ExpiredAbsolute,
        Expiry::Idle => Death::ExpiredIdle,
    }
}

/// The principal bound to an authenticated slot, copied out of the pool.
fn read_principal(pool: &[u8], pool_next: &[u32], s: &Slot) -> Principal {
    let mut pr = Principal {
        bytes: [0; MAX_PRINCIPAL],
        len: s.principal_len,
    };
    Chunks {
        bytes: pool,
        next: pool_next,
        block: s.principal_head,
        left: s.principal_len.into(),
    }
    .copy_into(&mut pr.bytes);
    pr
}

fn principal_matches(pool: &[u8], pool_next: &[u32], s: &Slot, principal: &[u8]) -> bool {
    usize::from(s.principal_len) == principal.len()
        && Chunks {
            bytes: pool,
            next: pool_next,
            block: s.principal_head,
            left: principal.len(),
        }
        .eq_bytes(principal)
}

impl State {
    /// The engine's clock: the latest `now` seen. A clock that goes backwards therefore
    /// never extends a session.
    fn tick(&mut self, now: u64) -> u64 {
        self.clock = self.clock.max(now);
        self.clock
    }

    fn live(p: &Parts<'_>, h: SessionRef) -> Result<u32, Error> {
        match p.slots.get(h.slot as usize) {
            Some(s) if s.is_live() && s.generation == h.generation => Ok(h.slot),
            _ => Err(Error::StaleHandle),
        }
    }

    /// End slot `i` as revoked, or as expired when it is past its deadline but not yet
    /// swept (it was not live any more); true when it was revoked.
    fn end_live(&mut self, p: &mut Parts<'_>, i: u32, now: u64) -> bool {
        let s = &p.slots[i as usize];
        if s.deadline() <= now {
            let death = expiry_of(s);
            self.destroy(p, i, death, now);
            false
        } else {
            self.destroy(p, i, Death::Revoked, now);
            true
        }
    }

    /// The slot behind `h` if its session is live at `now`. One past its deadline but not
    /// yet swept is ended here as expired (as a validation would find it), with that error.
    fn live_at(&mut self, p: &mut Parts<'_>, h: SessionRef, now: u64) -> Result<u32, Error> {
        let i = State::live(p, h)?;
        let s = &p.slots[i as usize];
        if s.deadline() <= now {
            let death = expiry_of(s);
            self.destroy(p, i, death, now);
            return Err(Error::Session(death.invalid()));
        }
        Ok(i)
    }

    fn tag(&self, slot: u32, generation: u32) -> u64 {
        siphash(
            self.key,
            0,
            &[&slot.to_le_bytes(), &generation.to_le_bytes()],
        )
        .max(1)
    }

    fn client_hash(&self, domain: u8, bytes: &[u8]) -> u32 {
        (siphash(self.key, domain, &[bytes]) as u32).max(1)
    }

    fn principal_hash(&self, principal: &[u8]) -> u32 {
        siphash(self.key, 3, &[principal]) as u32
    }

    fn emit(&mut self, s: &Slot, i: u32, kind: EventKind, now: u64, events: &mut [Event]) {
        let session = self.tag(i, s.generation);
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

    fn info(&self, p: &Parts<'_>, i: u32) -> Session {
        self.info_from(p.slots, p.pool, p.pool_next, i)
    }

    fn info_from(&self, slots: &[Slot], pool: &[u8], pool_next: &[u32], i: u32) -> Session {
        let s = &slots[i as usize];
        let principal = (s.state == STATE_AUTH).then(|| read_principal(pool, pool_next, s));
        Session {
            handle: SessionRef {
                slot: i,
                generation: s.generation,
            },
            tag: self.tag(i, s.generation),
            created_ms: s.created,
            last_seen_ms: s.last_seen(),
            idle_deadline_ms: s.times().idle_deadline(),
            absolute_deadline_ms: s.times().absolute_deadline(),
            idle_timeout_ms: s.idle_ms,
            absolute_timeout_ms: s.absolute_ms,
            principal,
            payload_len: s.payload_len,
            epoch: s.epoch,
        }
    }

    /// The principal's index cell and list head.
    fn principal_cell(&self, p: &Parts<'_>, principal: &[u8]) -> Option<(u32, u32)> {
        let h = self.principal_hash(principal);
        let head = index::find(p.principals, h, |v| {
            let s = &p.slots[v as usize];
            s.principal_hash == h && principal_matches(p.pool, p.pool_next, s, principal)
        })?;
        Some((h, head))
    }

    /// In a forked child, reseed before the first token (see [`ForkGuard`]); with no
    /// entropy to be had, refuse rather than repeat the parent's stream.
    fn check_fork(&mut self) -> Result<(), Error> {
        if let Some((g, seeded)) = self.guard {
            let epoch = (g.epoch)();
            if epoch != seeded {
                let mut seed = (g.seed)().ok_or(Error::Entropy)?;
                self.rng = IdGen::from_seed(seed);
                seed.zeroize();
                self.guard = Some((g, epoch));
            }
        }
        Ok(())
    }

    /// A fresh token whose digest no live session and no tombstone has.
    fn new_token(&mut self, p: &Parts<'_>) -> (Token, Digest) {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        loop {
            self.rng.fill(&mut raw[..n]);
            let d = Digest::of(&raw[..n]);
            let taken = index::find(p.index, d.hash(), |v| p.slots[v as usize].digest.ct_eq(&d))
                .is_some()
                || Tombstones::find(p.tombstones, p.tombstone_index, &d).is_some();
            if !taken {
                let t = Token::encode(&raw[..n]);
                raw.zeroize();
                return (t, d);
            }
        }
    }

    fn create(
        &mut self,
        p: &mut Parts<'_>,
        now: u64,
        client: &Client<'_>,
    ) -> Result<(Token, Session), Error> {
        let now = self.tick(now);
        if self.free_head == NIL {
            // Raised when the table first fills, and again each time a whole table's worth
            // of creates has met a full table, so a long flood keeps leaving fresh events.
            if self.pressure == 0 {
                self.emit_global(EventKind::CapacityPressure, now, p.events);
            }
            self.pressure = (self.pressure + 1) % self.config.capacity;
            self.sweep(p, now);
            if self.free_head == NIL && !self.evict_anonymous(p, now, NIL) {
                return Err(Error::CapacityExhausted);
            }
        } else {
            self.pressure = 0;
        }
        let (token, digest) = self.new_token(p);
        let i = self.free_head;
        let ip = client
            .ip
            .filter(|_| self.tracks_ip())
            .map_or(0, |b| self.client_hash(1, b));
        let ua = client
            .user_agent
            .filter(|_| self.config.user_agent_policy != ClientPolicy::Off)
            .map_or(0, |b| self.client_hash(2, b));
        let s = &mut p.slots[i as usize];
        self.free_head = s.next;
        *s = Slot {
            digest,
            created: now,
            idle_ms: self.config.idle_timeout_ms,
            absolute_ms: self.config.absolute_timeout_ms,
            generation: s.generation,
            state: STATE_ANON,
            ip,
            ua,
            addrs: [ip as u16, 0, 0, 0],
            addr_count: u8::from(ip != 0),
            ..Slot::EMPTY
        };
        let deadline = s.deadline();
        index::insert(p.index, digest.hash(), i);
        slot::push_back(p.slots, &mut self.lru_head, i);
        // deadline > now >= wheel time, so this cannot be AlreadyDue.
        let _ = self.wheel.insert(p.links, i, deadline);
        self.stats.live += 1;
        self.stats.anonymous += 1;
        self.stats.created += 1;
        self.emit(&p.slots[i as usize], i, EventKind::Created, now, p.events);
        Ok((token, self.info(p, i)))
    }

    fn tracks_ip(&self) -> bool {
        self.config.ip_policy != ClientPolicy::Off || self.config.max_addresses > 0
    }

    /// The slot of the live session `token` names at `now`; `Err(Some(i))` when slot `i`
    /// holds it but it is past its deadline (not yet swept), `Err(None)` when no slot does.
    /// Reads only.
    fn find_live(&self, p: &Parts<'_>, token: &[u8], now: u64) -> Result<u32, Option<u32>> {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        if !token::decode(token, n, &mut raw) {
            return Err(None);
        }
        let digest = Digest::of(&raw[..n]);
        raw.zeroize();
        let i = index::find(p.index, digest.hash(), |v| {
            p.slots[v as usize].digest.ct_eq(&digest)
        })
        .ok_or(None)?;
        if now >= p.slots[i as usize].deadline() {
            return Err(Some(i));
        }
        Ok(i)
    }

    /// What the tombstones say of a token that names no session (reads only).
    fn find_dead(&self, p: &Parts<'_>, token: &[u8]) -> Invalid {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        if !token::decode(token, n, &mut raw) {
            return Invalid::Malformed;
        }
        let digest = Digest::of(&raw[..n]);
        raw.zeroize();
        Tombstones::find(p.tombstones, p.tombstone_index, &digest)
            .map_or(Invalid::Unknown, |f| f.death.invalid())
    }

    /// Find the live session a token names. Expired sessions found here die now; dead
    /// tokens are answered from the tombstones, raising reuse events.
    fn resolve(&mut self, p: &mut Parts<'_>, token: &[u8], now: u64) -> Result<u32, Invalid> {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        if !token::decode(token, n, &mut raw) {
            return Err(Invalid::Malformed);
        }
        let digest = Digest::of(&raw[..n]);
        raw.zeroize();
        let slots = &*p.slots;
        if let Some(i) = index::find(p.index, digest.hash(), |v| {
            slots[v as usize].digest.ct_eq(&digest)
        }) {
            let s = &p.slots[i as usize];
            if now >= s.deadline() {
                let death = expiry_of(s);
                self.destroy(p, i, death, now);
                return Err(death.invalid());
            }
            return Ok(i);
        }
        let Some(found) = Tombstones::find(p.tombstones, p.tombstone_index, &digest) else {
            return Err(Invalid::Unknown);
        };
        let tag = self.tag(found.target_slot, found.target_generation);
        let reuse = rules::reuse(found.death.invalid(), self.config.rotated_reuse);
        if let Some(kind) = reuse.event {
            self.ring.push(
                p.events,
                Event {
                    kind,
                    session: tag,
                    at_ms: now,
                },
            );
        }
        if reuse.revoke_successor {
            let h = SessionRef {
                slot: found.target_slot,
                generation: found.target_generation,
            };
            if let Ok(i) = State::live(p, h) {
                self.destroy(p, i, Death::Revoked, now);
            }
        }
        Err(found.death.invalid())
    }

    fn validate(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Session, Invalid> {
        let now = self.tick(now);
        let i = self.resolve(p, token, now)?;
        self.check_client(p, i, client, now)?;
        let s = &mut p.slots[i as usize];
        // now < deadline <= created + absolute_ms, so the offset fits in u32.
        s.seen_offset = (now - s.created) as u32;
        // Exact LRU: a used anonymous session moves to the tail of the eviction list.
        if s.state == STATE_ANON {
            slot::unlink(p.slots, &mut self.lru_head, i);
            slot::push_back(p.slots, &mut self.lru_head, i);
        }
        Ok(self.info(p, i))
    }

    fn check_client(
        &mut self,
        p: &mut Parts<'_>,
        i: u32,
        client: &Client<'_>,
        now: u64,
    ) -> Result<(), Invalid> {
        let ip = client
            .ip
            .filter(|_| self.tracks_ip())
            .map(|b| self.client_hash(1, b));
        let ua = client
            .user_agent
            .filter(|_| self.config.user_agent_policy != ClientPolicy::Off)
            .map(|b| self.client_hash(2, b));
        let s = p.slots[i as usize];
        let check = rules::client_check(&self.config, (s.ip, s.ua), (ip, ua));
        if check.ip_moved {
            self.emit(&s, i, EventKind::AddressChanged, now, p.events);
        }
        if check.ua_moved {
            self.emit(&s, i, EventKind::UserAgentChanged, now, p.events);
        }
        if check.reject {
            return Err(Invalid::ClientMismatch);
        }
        let max = self.config.max_addresses;
        let s = &mut p.slots[i as usize];
        if let Some(d) = ip {
            s.ip = d;
            let short = d as u16;
            let known = usize::from(s.addr_count).min(s.addrs.len());
            if !s.addrs[..known].contains(&short) {
                if known < s.addrs.len() {
                    s.addrs[known] = short;
                }
                s.addr_count = s.addr_count.saturating_add(1);
            }
            if rules::too_many_addresses(max, s.addr_count) && s.flags & ALERTED == 0 {
                s.flags |= ALERTED;
                let s = *s;
                self.emit(&s, i, EventKind::TooManyAddresses, now, p.events);
            }
        }
        if let Some(d) = ua {
            p.slots[i as usize].ua = d;
        }
        Ok(())
    }

    /// Swap the session's token for a fresh one; the old digest becomes a tombstone.
    fn rekey(&mut self, p: &mut Parts<'_>, i: u32) -> Token {
        let (token, digest) = self.new_token(p);
        let old = p.slots[i as usize].digest;
        let slots = &*p.slots;
        index::remove(p.index, old.hash(), i, |v| slots[v as usize].digest.hash());
        let s = &p.slots[i as usize];
        // At login the slot is already authenticated: the pre-login token is kept.
        let keep = if s.state == STATE_AUTH {
            Keep::Kept
        } else {
            Keep::Churn
        };
        let generation = s.generation;
        self.tombs.insert(
            p.tombstones,
            p.tombstone_index,
            old,
            Death::RotatedOut,
            (i, generation),
            keep,
        );
        let s = &mut p.slots[i as usize];
        s.digest = digest;
        s.epoch = s.epoch.wrapping_add(1);
        index::insert(p.index, digest.hash(), i);
        token
    }

    fn login(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        let now = self.tick(now);
        if principal.is_empty() || principal.len() > MAX_PRINCIPAL {
            return Err(Error::InvalidPrincipal);
        }
        let i = self.resolve(p, token, now)?;
        let ph = self.principal_hash(principal);
        let s = p.slots[i as usize];
        let same = s.state == STATE_AUTH
            && s.principal_hash == ph
            && principal_matches(p.pool, p.pool_next, &s, principal);
        if !same {
            let capped = self.config.max_sessions_per_principal > 0;
            if capped {
                // Sessions past their deadline (not yet swept) are dead: they neither
                // count against the cap nor get evicted for it; they end as expired.
                self.end_lapsed_of(p, principal, now);
                let live = self.count_of(p, principal);
                if rules::login_room(&self.config, live) == LoginRoom::Refuse {
                    return Err(Error::PrincipalLimit);
                }
            }
            // Leave the old list (anonymous LRU, or the previous principal's) while the
            // slot still holds the old principal, so the lookup finds the right list.
            let was_anon = s.state == STATE_ANON;
            self.detach(p, i);
            if let Err(e) = self.write_chain(p, i, Chain::Principal, principal, now) {
                // A failed write keeps the old principal: put the slot back where it was.
                if was_anon {
                    slot::push_back(p.slots, &mut self.lru_head, i);
                } else {
                    self.attach_principal(p, i);
                }
                return Err(e);
            }
            if capped {
                while rules::login_room(&self.config, self.count_of(p, principal))
                    == LoginRoom::EvictLeastRecentlyUsed
                {
                    let Some(oldest) = self.oldest_of(p, principal) else {
                        break;
                    };
                    self.destroy(p, oldest, Death::Evicted, now);
                }
            }
            let s = &mut p.slots[i as usize];
            s.state = STATE_AUTH;
            s.principal_hash = ph;
            s.principal_len = principal.len() as u8;
            self.attach_principal(p, i);
            if was_anon {
                self.stats.anonymous -= 1;
                self.stats.authenticated += 1;
            }
        }
        let s = &mut p.slots[i as usize];
        s.created = now;
        s.seen_offset = 0;
        let deadline = s.deadline();
        let _ = self.wheel.insert(p.links, i, deadline);
        let t = self.rekey(p, i);
        self.emit(&p.slots[i as usize], i, EventKind::LoggedIn, now, p.events);
        Ok((t, self.info(p, i)))
    }

    fn count_of(&self, p: &Parts<'_>, principal: &[u8]) -> usize {
        let Some((_, head)) = self.principal_cell(p, principal) else {
            return 0;
        };
        let mut n = 1;
        let mut i = p.slots[head as usize].next;
        while i != head {
            n += 1;
            i = p.slots[i as usize].next;
        }
        n
    }

    /// End every session of `principal` that is past its deadline but not yet swept.
    fn end_lapsed_of(&mut self, p: &mut Parts<'_>, principal: &[u8], now: u64) {
        while let Some((_, head)) = self.principal_cell(p, principal) {
            let mut i = head;
            let lapsed = loop {
                if p.slots[i as usize].deadline() <= now {
                    break Some(i);
                }
                i = p.slots[i as usize].next;
                if i == head {
                    break None;
                }
            };
            let Some(i) = lapsed else { return };
            let death = expiry_of(&p.slots[i as usize]);
            self.destroy(p, i, death, now);
        }
    }

    fn oldest_of(&self, p: &Parts<'_>, principal: &[u8]) -> Option<u32> {
        let (_, head) = self.principal_cell(p, principal)?;
        let mut best = head;
        let mut i = p.slots[head as usize].next;
        while i != head {
            if p.slots[i as usize].last_seen() < p.slots[best as usize].last_seen() {
                best = i;
            }
            i = p.slots[i as usize].next;
        }
        Some(best)
    }

    /// Put an authenticated slot (principal already written) into its principal's list.
    fn attach_principal(&mut self, p: &mut Parts<'_>, i: u32) {
        let s = p.slots[i as usize];
        let principal = self.principal_bytes(p, &s);
        match self.principal_cell(p, principal.as_bytes()) {
            Some((_, head)) => {
                let mut h = head;
                slot::push_back(p.slots, &mut h, i);
            }
            None => {
                let mut h = NIL;
                slot::push_back(p.slots, &mut h, i);
                index::insert(p.principals, s.principal_hash, i);
            }
        }
    }

    fn principal_bytes(&self, p: &Parts<'_>, s: &Slot) -> Principal {
        read_principal(p.pool, p.pool_next, s)
    }

    /// Take a slot out of whichever list holds it (anonymous LRU or its principal's).
    fn detach(&mut self, p: &mut Parts<'_>, i: u32) {
        let s = p.slots[i as usize];
        match s.state {
            STATE_ANON => slot::unlink(p.slots, &mut self.lru_head, i),
            STATE_AUTH => {
                let principal = self.principal_bytes(p, &s);
                let Some((h, head)) = self.principal_cell(p, principal.as_bytes()) else {
                    return;
                };
                let mut new_head = head;
                slot::unlink(p.slots, &mut new_head, i);
                if new_head != head {
                    let slots = &*p.slots;
                    index::remove(p.principals, h, head, |v| slots[v as usize].principal_hash);
                    if new_head != NIL {
                        index::insert(p.principals, h, new_head);
                    }
                }
            }
            _ => {}
        }
    }

    /// End a session: every structure forgets it, its memory is wiped, its token becomes a
    /// tombstone, and the matching event is raised.
    fn destroy(&mut self, p: &mut Parts<'_>, i: u32, death: Death, now: u64) {
        let s = p.slots[i as usize];
        if !s.is_live() {
            return;
        }
        self.detach(p, i);
        let slots = &*p.slots;
        index::remove(p.index, s.digest.hash(), i, |v| {
            slots[v as usize].digest.hash()
        });
        self.wheel.remove(p.links, i);
        self.pool.release(p.pool, p.pool_next, s.payload_head);
        self.pool.release(p.pool, p.pool_next, s.principal_head);
        let keep = match death {
            Death::LoggedOut | Death::RotatedOut | Death::Revoked if s.state == STATE_AUTH => {
                Keep::Kept
            }
            _ => Keep::Churn,
        };
        self.tombs.insert(
            p.tombstones,
            p.tombstone_index,
            s.digest,
            death,
            (i, s.generation),
            keep,
        );
        let kind = match death {
            Death::LoggedOut => EventKind::LoggedOut,
            Death::ExpiredIdle => EventKind::ExpiredIdle,
            Death::ExpiredAbsolute => EventKind::ExpiredAbsolute,
            Death::Evicted => EventKind::Evicted,
            Death::Revoked | Death::RotatedOut => EventKind::Revoked,
        };
        self.emit(&s, i, kind, now, p.events);
        match death {
            Death::ExpiredIdle | Death::ExpiredAbsolute => self.stats.expirations += 1,
            Death::Evicted => self.stats.evictions += 1,
            Death::Revoked => self.stats.revocations += 1,
            _ => {}
        }
        self.stats.live -= 1;
        if s.state == STATE_AUTH {
            self.stats.authenticated -= 1;
        } else {
            self.stats.anonymous -= 1;
        }
        let slot = &mut p.slots[i as usize];
        *slot = Slot {
            generation: s.generation.wrapping_add(1),
            next: self.free_head,
            ..Slot::EMPTY
        };
        self.free_head = i;
    }

    fn sweep(&mut self, p: &mut Parts<'_>, now: u64) -> usize {
        let mut n = 0;
        loop {
            let slots = &*p.slots;
            let Some(i) = self
                .wheel
                .next_expired(p.links, now, |e| slots[e as usize].deadline())
            else {
                return n;
            };
            let s = &p.slots[i as usize];
            if s.state == STATE_FREE {
                continue;
            }
            let death = expiry_of(s);
            self.destroy(p, i, death, now);
            n += 1;
        }
    }

    /// Evict the least recently used anonymous session other than `except` (the head of
    /// the LRU list, which `validate` keeps in order of use). False if none.
    fn evict_anonymous(&mut self, p: &mut Parts<'_>, now: u64, except: u32) -> bool {
        let mut i = self.lru_head;
        if i == NIL {
            return false;
        }
        if i == except {
            i = p.slots[i as usize].next;
            if i == except {
                // `except` alone in the list.
                return false;
            }
        }
        self.destroy(p, i, Death::Evicted, now);
        true
    }

    fn write_chain(
        &mut self,
        p: &mut Parts<'_>,
        i: u32,
        which: Chain,
        data: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        let mut swept = false;
        loop {
            let s = &p.slots[i as usize];
            let (head, len) = match which {
                Chain::Payload => (s.payload_head, s.payload_len as usize),
                Chain::Principal => (s.principal_head, usize::from(s.principal_len)),
            };
            match self.pool.write(p.pool, p.pool_next, head, len, data) {
                Ok(new_head) => {
                    let s = &mut p.slots[i as usize];
                    match which {
                        Chain::Payload => {
                            s.payload_head = new_head;
                            s.payload_len = data.len() as u32;
                        }
                        Chain::Principal => {
                            s.principal_head = new_head;
                            s.principal_len = data.len() as u8;
                        }
                    }
                    return Ok(());
                }
                Err(NoRoom) => {
                    if !swept {
                        swept = true;
                        self.sweep(p, now);
                        if !p.slots[i as usize].is_live() {
                            return Err(Error::StaleHandle);
                        }
                        continue;
                    }
                    if !self.evict_anonymous(p, now, i) {
                        return Err(Error::PoolExhausted);
                    }
                }
            }
        }
    }

    fn set_timeouts(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        let now = self.tick(now);
        // A session already past its deadline (not yet swept) is dead: never extend it.
        let i = self.live_at(p, h, now)?;
        let ok = |v: Option<u32>, max: u32| v.is_none_or(|v| rules::timeout_allowed(v, max));
        if !ok(idle_ms, self.config.max_idle_timeout_ms)
            || !ok(absolute_ms, self.config.max_absolute_timeout_ms)
        {
            return Err(Error::InvalidTimeout);
        }
        let s = &mut p.slots[i as usize];
        if let Some(v) = idle_ms {
            s.idle_ms = v;
        }
        if let Some(v) = absolute_ms {
            s.absolute_ms = v;
        }
        let deadline = s.deadline();
        if deadline <= now || self.wheel.insert(p.links, i, deadline).is_err() {
            let death = expiry_of(s);
            self.destroy(p, i, death, now);
            return Err(Error::Session(death.invalid()));
        }
        Ok(self.info(p, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Expiry;

    const NONE: &Client<'static> = &Client::NONE;

    fn engine(f: impl FnOnce(&mut Config)) -> Engine<crate::storage::HeapStorage> {
        let mut c = Config {
            capacity: 8,
            pool_bytes: 1024,
            max_payload: 512,
            ..Config::default()
        };
        c.idle_timeout_ms = 1_000;
        c.absolute_timeout_ms = 10_000;
        f(&mut c);
        Engine::new(c, [1; 32]).unwrap()
    }

    #[test]
    fn idle_and_absolute_deadlines_are_exact() {
        let mut e = engine(|_| {});
        let (t, _) = e.create(0, NONE).unwrap();
        assert!(e.validate(t.as_bytes(), 999, NONE).is_ok());
        assert!(e.validate(t.as_bytes(), 1998, NONE).is_ok());
        assert_eq!(
            e.validate(t.as_bytes(), 2998, NONE),
            Err(Invalid::Expired(Expiry::Idle))
        );
        // Strict: stays dead.
        assert_eq!(
            e.validate(t.as_bytes(), 2999, NONE),
            Err(Invalid::Expired(Expiry::Idle))
        );

        let (t, _) = e.create(3000, NONE).unwrap();
        let mut now = 3000;
        while now + 900 < 13_000 {
            now += 900;
            assert!(e.validate(t.as_bytes(), now, NONE).is_ok(), "at {now}");
        }
        assert_eq!(
            e.validate(t.as_bytes(), 13_000, NONE),
            Err(Invalid::Expired(Expiry::Absolute))
        );
    }

    #[test]
    fn clock_going_back_never_extends() {
        let mut e = engine(|_| {});
        let (t, _) = e.create(5_000, NONE).unwrap();
        // A clock that jumps back to 0 must not make 5_999 look like "999 ms idle" later.
        assert!(e.validate(t.as_bytes(), 0, NONE).is_ok());
        assert_eq!(
            e.validate(t.as_bytes(), 6_000, NONE),
            Err(Invalid::Expired(Expiry::Idle))
        );
    }

    #[test]
    fn write_that_does_not_fit_keeps_old_payload() {
        let mut e = engine(|c| {
            c.pool_bytes = 256;
            c.max_payload = 256;
        });
        let (_, s) = e.create(0, NONE).unwrap();
        e.write(s.handle, b"keep me", 0).unwrap();
        assert_eq!(e.write(s.handle, &[0; 300], 0), Err(Error::PayloadTooLarge));
        let (_, s2) = e.create(0, NONE).unwrap();
        e.login(e_token_hack(), b"x", 0).ok();
        let _ = s2;
        let mut out = [0u8; 64];
        let n = e.read(s.handle, &mut out, 0).unwrap();
        assert_eq!(&out[..n], b"keep me");
    }

    fn e_token_hack() -> &'static [u8] {
        b"not-a-token"
    }

    #[test]
    fn stale_handle_never_reaches_new_session() {
        let mut e = engine(|c| c.capacity = 1);
        let (t, s) = e.create(0, NONE).unwrap();
        e.write(s.handle, b"old", 0).unwrap();
        e.logout(t.as_bytes(), 1).unwrap();
        let (_, s2) = e.create(2, NONE).unwrap();
        assert_eq!(s2.handle.slot, s.handle.slot);
        assert_eq!(e.write(s.handle, b"x", 3), Err(Error::StaleHandle));
        assert_eq!(e.session(s.handle, 3), Err(Error::StaleHandle));
    }

    /// Calls by handle see deadlines as validation does: a session past its deadline is
    /// dead though not yet swept (no reading, writing, revoking or listing it), and ends as
    /// expired, so its token reads as expired afterwards. A `now` earlier than a time the
    /// engine was already given does not revive it (the engine's clock never goes back).
    #[test]
    fn by_handle_a_session_past_its_deadline_is_expired() {
        let idle = Error::Session(Invalid::Expired(Expiry::Idle));
        let mut e = engine(|_| {}); // idle 1 s, absolute 10 s
        let (a, sa) = e.create(0, NONE).unwrap();
        let (b, sb) = e.create(0, NONE).unwrap();
        let (c, sc) = e.create(0, NONE).unwrap();
        let (_, sd) = e.login(c.as_bytes(), b"alice", 0).unwrap();
        e.write(sa.handle, b"x", 999).unwrap();
        assert_eq!(e.sessions_of(b"alice", 999).count(), 1);
        // Another call moves the engine's clock past all four idle deadlines; no sweep.
        e.create(1_000, NONE).unwrap();
        assert_eq!(e.stats().live, 4); // c and d are one session (login rotated it)
        assert_eq!(
            e.sessions_of(b"alice", 500).count(),
            0,
            "listed past its deadline"
        );
        assert_eq!(e.session(sa.handle, 0), Err(idle));
        assert_eq!(e.read(sa.handle, &mut [0; 8], 0), Err(Error::StaleHandle));
        assert_eq!(e.write(sb.handle, b"y", 1_000), Err(idle));
        assert_eq!(e.revoke(sd.handle, 1_000), Err(idle));
        assert_eq!(e.stats().live, 1);
        assert_eq!(e.payload(sc.handle, 1_000).err(), Some(Error::StaleHandle));
        for t in [&a, &b] {
            assert_eq!(
                e.validate(t.as_bytes(), 1_001, NONE),
                Err(Invalid::Expired(Expiry::Idle))
            );
        }
    }
}
