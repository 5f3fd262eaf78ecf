//! Arbitrary operation sequences against a reference model.
//!
//! The model below is written from the documented behaviour (ARCHITECTURE.md and the
//! `Engine` docs), not from the engine's code. It knows every session's times, principal,
//! payload and fate, and which token names which session. Security events tell it which
//! session the engine chose to evict (the CLOCK order is the engine's business); every
//! other outcome must match exactly:
//!
//! - validate / login / rotate / logout: Ok exactly for a live session's current token,
//!   otherwise the exact reason (malformed, unknown, expired idle/absolute, logged out,
//!   rotated out, revoked, evicted); a dead token never validates again;
//! - expiry is exact to the millisecond, a clock that goes back changes nothing, and
//!   `sweep(now)` reclaims every session whose deadline has passed and nothing else;
//! - a full table reclaims expired sessions first, then evicts one anonymous session,
//!   never an authenticated one, else `CapacityExhausted`; a full pool likewise;
//! - payloads read back as written; a failed write keeps the old payload;
//! - calls by handle (write, read, session, revoke) find a session past its deadline (not
//!   yet swept) dead, as validate does, and end it as expired;
//! - revoke_principal and revoke_all end lapsed sessions (past their deadline, not yet
//!   swept) as expired and count only the live ones they revoke; a login with a
//!   per-principal cap ends that principal's lapsed sessions first, so they neither count
//!   against the cap nor are evicted for it;
//! - peek answers what validate would without changing anything (no event, no counter,
//!   no idle restart, the engine's clock stays);
//! - validate_any and validate_cookie apply the duplicate rule: of the distinct copies the
//!   single live one is validated, with none live the first one answers, with several live
//!   each of those sessions ends (duplicate_cookie, then revoked) and the answer is
//!   `CookieError::Duplicate`; validate_cookie reads only the engine's cookie;
//! - `stats.live <= capacity`, counters match the model, pool usage is exactly the
//!   blocks the model's payloads and principals need and never above the pool size, no
//!   event is dropped, and a principal never holds more sessions than its cap;
//! - the tombstones hold exactly one entry per dead session and per rotated-out token: a
//!   run (at most 256 operations, so at most 512 entries) never fills either of the two
//!   rings (a quarter of 4096 entries for churn, the rest kept), so every dead token keeps
//!   its exact reason.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sessile::cookie::{CookieError, MAX_COOKIE_HEADER};
use sessile::{
    Client, Config, Engine, Error, EventKind, Expiry, HeapStorage, Invalid, POOL_BLOCK,
    PrincipalLimitPolicy, RotatedReusePolicy, Session, SessionRef, Store,
};
use sessile_fuzz::{is_canonical_token, is_cookie_octet};

#[derive(Arbitrary, Debug)]
struct Setup {
    capacity: u8,
    pool_blocks: u8,
    max_payload: u16,
    idle: u16,
    absolute_extra: u16,
    per_principal: u8,
    refuse: bool,
    revoke_on_reuse: bool,
    token_bytes: u8,
    seed: [u8; 32],
}

#[derive(Arbitrary, Debug)]
enum Tok {
    Issued(u8),
    Garbage(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Create,
    Validate(Tok),
    Login(Tok, u8),
    Rotate(Tok),
    Logout(Tok),
    Write(u8, u16, u8),
    Read(u8),
    Revoke(u8),
    RevokePrincipal(u8),
    SetTimeouts(u8, Option<u16>, Option<u16>),
    Sweep,
    RevokeAll,
    Peek(Tok),
    /// The candidates, as a binding that unwraps cookie values passes them.
    ValidateAny(Vec<Tok>),
    /// One copy of the engine's cookie per candidate (bytes that are not cookie-octets
    /// left out); `true` puts another cookie, whose name begins with the engine's, first.
    ValidateCookie(Vec<Tok>, bool),
    /// `Store::is_live`: peek's answer as a yes or no, changing nothing.
    IsLive(Tok),
}

#[derive(Arbitrary, Debug)]
struct Step {
    dt: u16,
    back: bool,
    op: Op,
}

#[derive(Arbitrary, Debug)]
struct Input {
    setup: Setup,
    steps: Vec<Step>,
}

fuzz_target!(|input: Input| run(input));

const NONE: &Client<'static> = &Client::NONE;
const MAX_STEPS: usize = 256;
/// Most candidate tokens one request presents.
const MAX_COPIES: usize = 6;
/// The churn ring's share of the 4096 tombstones (the smaller ring).
const CHURN_TOMBSTONES: u32 = 1_024;

fn principal(id: u8) -> Vec<u8> {
    match id % 6 {
        0 => b"alice".to_vec(),
        1 => b"bob".to_vec(),
        2 => b"carol".to_vec(),
        3 => vec![b'x'; 100], // two pool blocks
        4 => Vec::new(),      // invalid: empty
        _ => vec![b'y'; 129], // invalid: too long
    }
}

fn blocks(len: usize) -> usize {
    len.div_ceil(POOL_BLOCK)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Expired(Expiry),
    LoggedOut,
    Evicted,
    Revoked,
}

impl Fate {
    fn invalid(self) -> Invalid {
        match self {
            Fate::Expired(x) => Invalid::Expired(x),
            Fate::LoggedOut => Invalid::LoggedOut,
            Fate::Evicted => Invalid::Evicted,
            Fate::Revoked => Invalid::Revoked,
        }
    }
}

#[derive(Debug)]
struct MSession {
    tag: u64,
    handle: SessionRef,
    principal: Option<Vec<u8>>,
    created: u64,
    last_seen: u64,
    idle: u32,
    absolute: u32,
    payload: Vec<u8>,
    /// `None` while the engine holds the session (even if logically expired).
    fate: Option<Fate>,
}

impl MSession {
    fn deadline(&self) -> u64 {
        (self.last_seen + u64::from(self.idle)).min(self.created + u64::from(self.absolute))
    }
    fn expiry(&self) -> Expiry {
        if self.created + u64::from(self.absolute) <= self.last_seen + u64::from(self.idle) {
            Expiry::Absolute
        } else {
            Expiry::Idle
        }
    }
    fn held(&self) -> bool {
        self.fate.is_none()
    }
    fn blocks(&self) -> usize {
        blocks(self.payload.len()) + self.principal.as_ref().map_or(0, |p| blocks(p.len()))
    }
}

/// What the duplicate rule must answer.
enum Any {
    /// No candidate at all.
    Empty,
    /// This candidate is validated, with this outcome.
    One(Vec<u8>, Result<usize, Invalid>),
    /// Several candidates name live sessions.
    Duplicate,
}

/// Which token a candidate is.
enum Look {
    Never(Invalid),
    RotatedOut(usize),
    Current(usize),
}

/// What the events of one operation may contain.
#[derive(Default)]
struct Allowed {
    /// Any session past its deadline may be reclaimed (the operation sweeps).
    sweep: bool,
    /// These sessions must end as expired (they were found past their deadline).
    expire: Vec<usize>,
    /// Anonymous sessions other than this one may be evicted.
    evict_anonymous: bool,
    except: Option<usize>,
    /// Sessions of this principal may be evicted (per-principal cap).
    evict_principal: Option<Vec<u8>>,
    /// Exactly these sessions must be revoked.
    revoke: Vec<usize>,
    /// Exactly these sessions must be reported as named by duplicate cookies, each before
    /// its revocation.
    duplicate: Vec<usize>,
    logged_out: Option<usize>,
    reuse: Option<EventKind>,
    created: bool,
    pressure: bool,
}

#[derive(Default, Debug)]
struct Seen {
    expired: usize,
    evicted: Vec<usize>,
    created: usize,
}

struct Model {
    sessions: Vec<MSession>,
    /// (token text, session, still current)
    tokens: Vec<(String, usize, bool)>,
    clock: u64,
    config: Config,
    total_blocks: usize,
}

impl Model {
    fn look(&self, token: &[u8]) -> Look {
        match self.tokens.iter().find(|t| t.0.as_bytes() == token) {
            Some(&(_, s, true)) => Look::Current(s),
            Some(&(_, s, false)) => Look::RotatedOut(s),
            None if is_canonical_token(token, self.config.token_bytes.into()) => {
                Look::Never(Invalid::Unknown)
            }
            None => Look::Never(Invalid::Malformed),
        }
    }

    fn held(&self) -> impl Iterator<Item = (usize, &MSession)> {
        self.sessions.iter().enumerate().filter(|(_, s)| s.held())
    }

    fn used_blocks(&self) -> usize {
        self.held().map(|(_, s)| s.blocks()).sum()
    }

    fn count_of(&self, p: &[u8]) -> usize {
        self.held()
            .filter(|(_, s)| s.principal.as_deref() == Some(p))
            .count()
    }

    fn expired_held(&self) -> Vec<usize> {
        self.held()
            .filter(|(_, s)| self.clock >= s.deadline())
            .map(|(i, _)| i)
            .collect()
    }

    /// What resolving `token` must give, and the events it may raise.
    fn expect_resolve(&self, token: &[u8], allowed: &mut Allowed) -> Result<usize, Invalid> {
        match self.look(token) {
            Look::Never(why) => Err(why),
            Look::RotatedOut(s) => {
                allowed.reuse = Some(EventKind::ReuseAfterRotation);
                if self.config.rotated_reuse == RotatedReusePolicy::RevokeSession
                    && self.sessions[s].held()
                {
                    allowed.revoke.push(s);
                }
                Err(Invalid::RotatedOut)
            }
            Look::Current(s) => {
                let m = &self.sessions[s];
                match m.fate {
                    Some(f) => {
                        if f == Fate::LoggedOut {
                            allowed.reuse = Some(EventKind::ReuseAfterLogout);
                        }
                        Err(f.invalid())
                    }
                    None if self.clock >= m.deadline() => {
                        allowed.expire.push(s);
                        Err(Invalid::Expired(m.expiry()))
                    }
                    None => Ok(s),
                }
            }
        }
    }

    /// What `peek(token)` must give: what validation would, with nothing changed.
    fn expect_peek(&self, token: &[u8]) -> Result<usize, Invalid> {
        match self.look(token) {
            Look::Never(why) => Err(why),
            Look::RotatedOut(_) => Err(Invalid::RotatedOut),
            Look::Current(s) => {
                let m = &self.sessions[s];
                match m.fate {
                    Some(f) => Err(f.invalid()),
                    None if self.clock >= m.deadline() => Err(Invalid::Expired(m.expiry())),
                    None => Ok(s),
                }
            }
        }
    }

    /// What `validate_any(tokens)` must give, and the events it may raise (the duplicate
    /// rule, from its documentation).
    fn expect_any(&self, tokens: &[Vec<u8>]) -> (Any, Allowed) {
        let mut distinct: Vec<&[u8]> = Vec::new();
        for t in tokens {
            if !distinct.contains(&t.as_slice()) {
                distinct.push(t);
            }
        }
        let live: Vec<(&[u8], usize)> = distinct
            .iter()
            .filter_map(|&t| self.expect_peek(t).ok().map(|s| (t, s)))
            .collect();
        let mut allowed = Allowed::default();
        let want = match (live.as_slice(), distinct.first()) {
            (&[(t, s)], _) => Any::One(t.to_vec(), Ok(s)),
            ([], None) => Any::Empty,
            ([], Some(&t)) => Any::One(t.to_vec(), self.expect_resolve(t, &mut allowed)),
            (several, _) => {
                allowed.duplicate = several.iter().map(|&(_, s)| s).collect();
                allowed.revoke = allowed.duplicate.clone();
                Any::Duplicate
            }
        };
        (want, allowed)
    }

    fn by_tag(&self, tag: u64) -> usize {
        let mut it = self.held().filter(|(_, s)| s.tag == tag).map(|(i, _)| i);
        let i = it
            .next()
            .unwrap_or_else(|| panic!("event names no held session (tag {tag:x})"));
        assert!(it.next().is_none(), "two held sessions share tag {tag:x}");
        i
    }

    fn events(&mut self, e: &mut Engine<HeapStorage>, mut allowed: Allowed) -> Seen {
        let mut seen = Seen::default();
        let events: Vec<_> = e.drain_events().collect();
        for ev in events {
            match ev.kind {
                EventKind::Created => {
                    assert!(allowed.created, "unexpected Created");
                    seen.created += 1;
                }
                EventKind::LoggedIn | EventKind::Rotated => {}
                EventKind::CapacityPressure => {
                    assert!(allowed.pressure, "unexpected CapacityPressure")
                }
                EventKind::ReuseAfterLogout | EventKind::ReuseAfterRotation => {
                    assert_eq!(
                        allowed.reuse.take(),
                        Some(ev.kind),
                        "unexpected {:?}",
                        ev.kind
                    );
                }
                EventKind::ExpiredIdle | EventKind::ExpiredAbsolute => {
                    let s = self.by_tag(ev.session);
                    assert!(
                        allowed.sweep || allowed.expire.contains(&s),
                        "unexpected expiry of {s}"
                    );
                    let m = &self.sessions[s];
                    assert!(
                        self.clock >= m.deadline(),
                        "session {s} reclaimed before its deadline: {m:?} at {}",
                        self.clock
                    );
                    let kind = if ev.kind == EventKind::ExpiredIdle {
                        Expiry::Idle
                    } else {
                        Expiry::Absolute
                    };
                    assert_eq!(kind, m.expiry(), "wrong expiry kind for {m:?}");
                    self.sessions[s].fate = Some(Fate::Expired(kind));
                    seen.expired += 1;
                }
                EventKind::Evicted => {
                    let s = self.by_tag(ev.session);
                    let m = &self.sessions[s];
                    match &m.principal {
                        None => assert!(
                            allowed.evict_anonymous && allowed.except != Some(s),
                            "unexpected eviction of anonymous session {s}"
                        ),
                        Some(p) => assert_eq!(
                            allowed.evict_principal.as_ref(),
                            Some(p),
                            "authenticated session {s} evicted"
                        ),
                    }
                    self.sessions[s].fate = Some(Fate::Evicted);
                    seen.evicted.push(s);
                }
                EventKind::DuplicateCookie => {
                    let s = self.by_tag(ev.session);
                    let at = allowed.duplicate.iter().position(|&r| r == s);
                    let at = at.unwrap_or_else(|| panic!("unexpected duplicate_cookie of {s}"));
                    allowed.duplicate.swap_remove(at);
                }
                EventKind::Revoked => {
                    let s = self.by_tag(ev.session);
                    assert!(
                        !allowed.duplicate.contains(&s),
                        "{s} revoked before its duplicate_cookie event"
                    );
                    let at = allowed.revoke.iter().position(|&r| r == s);
                    let at = at.unwrap_or_else(|| panic!("unexpected revocation of {s}"));
                    allowed.revoke.swap_remove(at);
                    self.sessions[s].fate = Some(Fate::Revoked);
                }
                EventKind::LoggedOut => {
                    let s = self.by_tag(ev.session);
                    assert_eq!(allowed.logged_out.take(), Some(s), "unexpected logout");
                    self.sessions[s].fate = Some(Fate::LoggedOut);
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert!(
            allowed.revoke.is_empty(),
            "sessions not revoked: {:?}",
            allowed.revoke
        );
        assert!(
            allowed.duplicate.is_empty(),
            "duplicate_cookie not reported for {:?}",
            allowed.duplicate
        );
        assert_eq!(allowed.logged_out, None, "logout raised no event");
        assert_eq!(allowed.reuse, None, "reuse raised no event");
        for s in allowed.expire {
            assert!(
                matches!(self.sessions[s].fate, Some(Fate::Expired(_))),
                "expired session {s} not reclaimed as expired: {:?}",
                self.sessions[s].fate
            );
        }
        seen
    }

    fn check_session(&self, got: &Session, s: usize) {
        let m = &self.sessions[s];
        let want = (
            m.handle,
            m.tag,
            m.created,
            m.last_seen,
            m.last_seen + u64::from(m.idle),
            m.created + u64::from(m.absolute),
            m.idle,
            m.absolute,
            m.principal.as_deref(),
            m.payload.len() as u32,
        );
        let have = (
            got.handle,
            got.tag,
            got.created_ms,
            got.last_seen_ms,
            got.idle_deadline_ms,
            got.absolute_deadline_ms,
            got.idle_timeout_ms,
            got.absolute_timeout_ms,
            got.principal.as_ref().map(|p| p.as_bytes()),
            got.payload_len,
        );
        assert_eq!(have, want, "session {s} differs from the model");
    }

    fn rotate_token(&mut self, s: usize, new: &str) {
        for t in &mut self.tokens {
            if t.1 == s {
                t.2 = false;
            }
        }
        self.tokens.push((new.to_owned(), s, true));
    }

    fn invariants(&self, e: &Engine<HeapStorage>) {
        let st = e.stats();
        let held = self.held().count() as u32;
        let auth = self.held().filter(|(_, s)| s.principal.is_some()).count() as u32;
        assert!(st.live <= st.capacity, "{st:?}");
        assert_eq!(
            (st.live, st.authenticated, st.anonymous),
            (held, auth, held - auth),
            "{st:?}"
        );
        assert_eq!(
            st.pool_used_bytes,
            (self.used_blocks() * POOL_BLOCK) as u64,
            "{st:?}"
        );
        assert!(st.pool_used_bytes <= st.pool_total_bytes, "{st:?}");
        assert_eq!(st.pool_total_bytes, (self.total_blocks * POOL_BLOCK) as u64);
        assert_eq!(st.events_dropped, 0);
        let dead = self.sessions.iter().filter(|s| !s.held()).count();
        let rotated_out = self.tokens.iter().filter(|t| !t.2).count();
        assert_eq!(st.tombstones as usize, dead + rotated_out, "{st:?}");
        assert!(
            st.tombstones < CHURN_TOMBSTONES,
            "a tombstone ring may be full"
        );
        let cap = self.config.max_sessions_per_principal as usize;
        if cap > 0 {
            for id in 0..4 {
                assert!(
                    self.count_of(&principal(id)) <= cap,
                    "principal over its cap"
                );
            }
        }
    }
}

fn run(input: Input) {
    let s = &input.setup;
    let total_blocks = 1 + usize::from(s.pool_blocks % 16);
    let pool_bytes = (total_blocks * POOL_BLOCK) as u32;
    let idle = 1 + u32::from(s.idle % 5_000);
    let config = Config {
        capacity: 1 + u32::from(s.capacity % 8),
        pool_bytes,
        max_payload: u32::from(s.max_payload) % (pool_bytes + 1),
        token_bytes: 16 + s.token_bytes % 17,
        idle_timeout_ms: idle,
        absolute_timeout_ms: idle + u32::from(s.absolute_extra % 10_000),
        tombstones: 4_096,
        events: 4_096,
        max_sessions_per_principal: u32::from(s.per_principal % 4),
        principal_limit_policy: if s.refuse {
            PrincipalLimitPolicy::Refuse
        } else {
            PrincipalLimitPolicy::EvictLeastRecentlyUsed
        },
        rotated_reuse: if s.revoke_on_reuse {
            RotatedReusePolicy::RevokeSession
        } else {
            RotatedReusePolicy::Report
        },
        ..Config::default()
    };
    let mut e = Engine::new(config.clone(), s.seed).expect("valid config");
    let mut m = Model {
        sessions: Vec::new(),
        tokens: Vec::new(),
        clock: 0,
        config,
        total_blocks,
    };

    for step in input.steps.iter().take(MAX_STEPS) {
        let now = if step.back {
            m.clock.saturating_sub(u64::from(step.dt))
        } else {
            m.clock + u64::from(step.dt % 2_048)
        };
        let before = m.clock;
        m.clock = m.clock.max(now);
        if !apply(&mut e, &mut m, &step.op, now) {
            // The engine was not given `now` (no session to name): its clock stays where
            // it was.
            m.clock = before;
        }
        m.invariants(&e);
    }
}

fn token_of(m: &Model, t: &Tok) -> Vec<u8> {
    match t {
        Tok::Issued(i) if !m.tokens.is_empty() => m.tokens[usize::from(*i) % m.tokens.len()]
            .0
            .as_bytes()
            .to_vec(),
        Tok::Issued(_) => Vec::new(),
        Tok::Garbage(b) => b.clone(),
    }
}

/// Runs one operation; false if the engine was not given `now`.
fn apply(e: &mut Engine<HeapStorage>, m: &mut Model, op: &Op, now: u64) -> bool {
    let pick =
        |m: &Model, i: u8| (!m.sessions.is_empty()).then(|| usize::from(i) % m.sessions.len());
    match op {
        Op::Create => {
            let full = m.held().count() == m.config.capacity as usize;
            let expired = m.expired_held();
            let anonymous = m.held().filter(|(_, s)| s.principal.is_none()).count();
            let r = e.create(now, NONE);
            let seen = m.events(
                e,
                Allowed {
                    created: true,
                    pressure: full,
                    sweep: full,
                    evict_anonymous: full && expired.is_empty(),
                    ..Allowed::default()
                },
            );
            if full {
                assert_eq!(
                    seen.expired,
                    expired.len(),
                    "sweep on a full table missed expired sessions"
                );
                let want_evictions = usize::from(expired.is_empty() && anonymous > 0);
                assert_eq!(seen.evicted.len(), want_evictions);
                if expired.is_empty() && anonymous == 0 {
                    assert_eq!(r.map(|_| ()), Err(Error::CapacityExhausted));
                    assert_eq!(seen.created, 0);
                    return true;
                }
            }
            let (token, got) = r.expect("create with room");
            assert_eq!(seen.created, 1);
            assert!(is_canonical_token(
                token.as_bytes(),
                m.config.token_bytes.into()
            ));
            assert!(
                m.tokens.iter().all(|t| t.0 != token.as_str()),
                "token issued twice"
            );
            m.sessions.push(MSession {
                tag: got.tag,
                handle: got.handle,
                principal: None,
                created: m.clock,
                last_seen: m.clock,
                idle: m.config.idle_timeout_ms,
                absolute: m.config.absolute_timeout_ms,
                payload: Vec::new(),
                fate: None,
            });
            let s = m.sessions.len() - 1;
            m.check_session(&got, s);
            m.tokens.push((token.as_str().to_owned(), s, true));
        }
        Op::Validate(t) => {
            let token = token_of(m, t);
            let mut allowed = Allowed::default();
            let want = m.expect_resolve(&token, &mut allowed);
            let r = e.validate(&token, now, NONE);
            m.events(e, allowed);
            match (want, r) {
                (Ok(s), Ok(got)) => {
                    m.sessions[s].last_seen = m.clock;
                    m.check_session(&got, s);
                }
                (want, r) => assert_eq!(r.map(|_| ()), want.map(|_| ()), "validate"),
            }
        }
        Op::Rotate(t) => {
            let token = token_of(m, t);
            let mut allowed = Allowed::default();
            let want = m.expect_resolve(&token, &mut allowed);
            let r = e.rotate(&token, now);
            m.events(e, allowed);
            match (want, r) {
                (Ok(s), Ok((new, got))) => {
                    assert!(
                        m.tokens.iter().all(|t| t.0 != new.as_str()),
                        "token issued twice"
                    );
                    m.rotate_token(s, new.as_str());
                    m.check_session(&got, s);
                }
                (want, r) => assert_eq!(
                    r.map(|_| ()),
                    want.map(|_| ()).map_err(Error::Session),
                    "rotate"
                ),
            }
        }
        Op::Logout(t) => {
            let token = token_of(m, t);
            let mut allowed = Allowed::default();
            let want = m.expect_resolve(&token, &mut allowed);
            if let Ok(s) = want {
                allowed.logged_out = Some(s);
            }
            let r = e.logout(&token, now);
            m.events(e, allowed);
            assert_eq!(r, want.map(|_| ()).map_err(Error::Session), "logout");
        }
        Op::Login(t, id) => login(e, m, &token_of(m, t), &principal(*id), now),
        Op::Write(i, len, fill) => {
            let Some(s) = pick(m, *i) else { return false };
            let data =
                vec![*fill; usize::from(*len) % (m.config.max_payload as usize + POOL_BLOCK + 1)];
            let held = m.sessions[s].held();
            let need = blocks(data.len());
            let have = blocks(m.sessions[s].payload.len());
            let fits = held && need <= have + m.total_blocks - m.used_blocks();
            let short = held && data.len() <= m.config.max_payload as usize && !fits;
            let expired = m.expired_held();
            let r = e.write(m.sessions[s].handle, &data, now);
            if lapsed(e, m, s, &r) {
                return true;
            }
            let seen = m.events(
                e,
                Allowed {
                    sweep: short,
                    evict_anonymous: short,
                    except: Some(s),
                    ..Allowed::default()
                },
            );
            if !held {
                assert_eq!(r, Err(Error::StaleHandle));
            } else if data.len() > m.config.max_payload as usize {
                assert_eq!(r, Err(Error::PayloadTooLarge));
            } else if fits {
                assert_eq!(r, Ok(()));
                m.sessions[s].payload = data;
            } else {
                assert_eq!(
                    seen.expired,
                    expired.len(),
                    "pool pressure: sweep missed expired sessions"
                );
                let fits_now = need <= have + m.total_blocks - m.used_blocks();
                match r {
                    Err(Error::StaleHandle) => assert!(expired.contains(&s)),
                    Err(Error::PoolExhausted) => {
                        assert!(!fits_now);
                        assert!(
                            m.held().all(|(j, x)| j == s || x.principal.is_some()),
                            "PoolExhausted while anonymous sessions could be evicted"
                        );
                    }
                    Ok(()) => {
                        assert!(fits_now);
                        m.sessions[s].payload = data;
                    }
                    Err(other) => panic!("write: unexpected {other:?}"),
                }
            }
        }
        Op::Read(i) => {
            let Some(s) = pick(m, *i) else { return false };
            let h = m.sessions[s].handle;
            let mut out = vec![0u8; m.config.max_payload as usize];
            let r = e.read(h, &mut out, now);
            let info = e.session(h, now);
            if lapsed(e, m, s, &r) {
                assert_eq!(info, Err(Error::StaleHandle));
                return true;
            }
            if m.sessions[s].held() {
                let n = r.expect("read of a held session");
                assert_eq!(
                    &out[..n],
                    m.sessions[s].payload.as_slice(),
                    "payload differs"
                );
                m.check_session(&info.expect("session of a held handle"), s);
            } else {
                assert_eq!(r, Err(Error::StaleHandle));
                assert_eq!(info, Err(Error::StaleHandle));
            }
            m.events(e, Allowed::default());
            return true;
        }
        Op::Revoke(i) => {
            let Some(s) = pick(m, *i) else { return false };
            let held = m.sessions[s].held();
            let r = e.revoke(m.sessions[s].handle, now);
            if lapsed(e, m, s, &r) {
                return true;
            }
            let revoke = if held { vec![s] } else { Vec::new() };
            m.events(
                e,
                Allowed {
                    revoke,
                    ..Allowed::default()
                },
            );
            assert_eq!(
                r,
                if held {
                    Ok(())
                } else {
                    Err(Error::StaleHandle)
                }
            );
        }
        Op::RevokePrincipal(id) => {
            let p = principal(*id);
            // Its sessions past their deadline (not yet swept) are not live any more: they
            // end as expired and are not counted; the live ones are revoked.
            let (expire, revoke): (Vec<usize>, Vec<usize>) = m
                .held()
                .filter(|(_, s)| s.principal.as_deref() == Some(p.as_slice()))
                .map(|(i, _)| i)
                .partition(|&i| m.clock >= m.sessions[i].deadline());
            let want = revoke.len();
            let n = e.revoke_principal(&p, now);
            m.events(
                e,
                Allowed {
                    expire,
                    revoke,
                    ..Allowed::default()
                },
            );
            assert_eq!(n, want, "revoke_principal count");
        }
        Op::RevokeAll => {
            let (expire, revoke): (Vec<usize>, Vec<usize>) = m
                .held()
                .map(|(i, _)| i)
                .partition(|&i| m.clock >= m.sessions[i].deadline());
            let want = revoke.len();
            let n = e.revoke_all(now);
            m.events(
                e,
                Allowed {
                    expire,
                    revoke,
                    ..Allowed::default()
                },
            );
            assert_eq!(n, want, "revoke_all count");
        }
        Op::Peek(t) => {
            let token = token_of(m, t);
            let want = m.expect_peek(&token);
            let (stats, clock) = (e.stats(), e.now());
            let r = e.peek(&token, now);
            assert_eq!(e.stats(), stats, "peek changed the stats");
            assert_eq!(e.now(), clock, "peek moved the engine's clock");
            m.events(e, Allowed::default());
            match (want, r) {
                (Ok(s), Ok(got)) => m.check_session(&got, s),
                (want, r) => assert_eq!(r.map(|_| ()), want.map(|_| ()), "peek"),
            }
            return false;
        }
        Op::IsLive(t) => {
            let token = token_of(m, t);
            let want = m.expect_peek(&token).is_ok();
            let (stats, clock) = (e.stats(), e.now());
            let r = Store::is_live(e, &token, now);
            assert_eq!(e.stats(), stats, "is_live changed the stats");
            assert_eq!(e.now(), clock, "is_live moved the engine's clock");
            m.events(e, Allowed::default());
            assert_eq!(r, Ok(want), "is_live");
            return false;
        }
        Op::ValidateAny(ts) => {
            let tokens: Vec<Vec<u8>> = ts.iter().take(MAX_COPIES).map(|t| token_of(m, t)).collect();
            let (want, allowed) = m.expect_any(&tokens);
            let r = e.validate_any(tokens.iter().map(Vec::as_slice), now, NONE);
            return any_outcome(e, m, want, allowed, r.map(Some));
        }
        Op::ValidateCookie(ts, foreign) => {
            let name = m.config.cookie.name.as_str().as_bytes().to_vec();
            let tokens: Vec<Vec<u8>> = ts
                .iter()
                .take(MAX_COPIES)
                .map(|t| {
                    let mut v = token_of(m, t);
                    v.retain(|&b| is_cookie_octet(b));
                    v
                })
                .collect();
            let mut pairs: Vec<Vec<u8>> = Vec::new();
            if *foreign {
                let other = tokens.first().cloned().unwrap_or_default();
                pairs.push([&name[..], b"x=", &other].concat());
            }
            pairs.extend(tokens.iter().map(|v| [&name[..], b"=", v].concat()));
            let header = pairs.join(&b"; "[..]);
            let r = e.validate_cookie(&header, now, NONE);
            if header.len() > MAX_COOKIE_HEADER {
                m.events(e, Allowed::default());
                assert_eq!(
                    r.map(|_| ()),
                    Err(Error::Cookie(CookieError::HeaderTooLong))
                );
                return false;
            }
            let (want, allowed) = m.expect_any(&tokens);
            if matches!(want, Any::Empty) {
                m.events(e, Allowed::default());
                assert_eq!(r.map(|x| x.is_none()), Ok(true), "no session cookie");
                return false;
            }
            return any_outcome(e, m, want, allowed, r);
        }
        Op::SetTimeouts(i, idle, absolute) => {
            let Some(s) = pick(m, *i) else { return false };
            let idle = idle.map(u32::from);
            let absolute = absolute.map(u32::from);
            let r = e.set_timeouts(m.sessions[s].handle, idle, absolute, now);
            let x = &m.sessions[s];
            if !x.held() {
                m.events(e, Allowed::default());
                assert_eq!(r.map(|_| ()), Err(Error::StaleHandle));
            } else if m.clock >= x.deadline() {
                let kind = x.expiry();
                m.events(
                    e,
                    Allowed {
                        expire: vec![s],
                        ..Allowed::default()
                    },
                );
                assert_eq!(r.map(|_| ()), Err(Error::Session(Invalid::Expired(kind))));
            } else if idle == Some(0) || absolute == Some(0) {
                m.events(e, Allowed::default());
                assert_eq!(r.map(|_| ()), Err(Error::InvalidTimeout));
            } else {
                let x = &mut m.sessions[s];
                x.idle = idle.unwrap_or(x.idle);
                x.absolute = absolute.unwrap_or(x.absolute);
                if m.clock >= x.deadline() {
                    let kind = x.expiry();
                    m.events(
                        e,
                        Allowed {
                            expire: vec![s],
                            ..Allowed::default()
                        },
                    );
                    assert_eq!(r.map(|_| ()), Err(Error::Session(Invalid::Expired(kind))));
                } else {
                    m.events(e, Allowed::default());
                    m.check_session(&r.expect("set_timeouts"), s);
                }
            }
        }
        Op::Sweep => {
            let expired = m.expired_held();
            let n = e.sweep(now);
            let seen = m.events(
                e,
                Allowed {
                    sweep: true,
                    ..Allowed::default()
                },
            );
            assert_eq!(n, seen.expired);
            assert_eq!(n, expired.len(), "sweep({now}) missed expired sessions");
        }
    }
    true
}

/// Checks what validate_any or validate_cookie answered against the duplicate rule
/// (`None`: the header carried no session cookie); false if the engine was not given
/// `now` (no candidate: nothing was validated).
fn any_outcome(
    e: &mut Engine<HeapStorage>,
    m: &mut Model,
    want: Any,
    allowed: Allowed,
    r: Result<Option<(&[u8], Session)>, Error>,
) -> bool {
    let r = r.map(|x| x.map(|(t, s)| (t.to_vec(), s)));
    m.events(e, allowed);
    match (want, r) {
        (Any::Empty, r) => {
            assert_eq!(
                r.map(|_| ()),
                Err(Error::Session(Invalid::Unknown)),
                "no candidate"
            );
            return false;
        }
        (Any::One(t, Ok(s)), Ok(Some((used, got)))) => {
            assert_eq!(used, t, "the copy used");
            m.sessions[s].last_seen = m.clock;
            m.check_session(&got, s);
        }
        // `Ok(false)`: no session cookie found.
        (Any::One(_, want), r) => assert_eq!(
            r.map(|x| x.is_some()),
            want.map(|_| true).map_err(Error::Session),
            "validate_any"
        ),
        (Any::Duplicate, r) => assert_eq!(
            r.map(|_| ()),
            Err(Error::Cookie(CookieError::Duplicate)),
            "several live copies"
        ),
    }
    true
}

/// A call by handle on a held session past its deadline (not yet swept, at the model's
/// clock) must have ended it as expired and returned that error: checks both and says
/// whether that was the case.
fn lapsed<T: core::fmt::Debug>(
    e: &mut Engine<HeapStorage>,
    m: &mut Model,
    s: usize,
    r: &Result<T, Error>,
) -> bool {
    if !(m.sessions[s].held() && m.clock >= m.sessions[s].deadline()) {
        return false;
    }
    let kind = m.sessions[s].expiry();
    m.events(
        e,
        Allowed {
            expire: vec![s],
            ..Allowed::default()
        },
    );
    assert_eq!(
        r.as_ref().map(|_| ()),
        Err(&Error::Session(Invalid::Expired(kind))),
        "a call by handle on a session past its deadline"
    );
    true
}

fn login(e: &mut Engine<HeapStorage>, m: &mut Model, token: &[u8], p: &[u8], now: u64) {
    if p.is_empty() || p.len() > 128 {
        let r = e.login(token, p, now);
        m.events(e, Allowed::default());
        assert_eq!(r.map(|_| ()), Err(Error::InvalidPrincipal));
        return;
    }
    let mut allowed = Allowed::default();
    let want = m.expect_resolve(token, &mut allowed);
    let Ok(s) = want else {
        let r = e.login(token, p, now);
        m.events(e, allowed);
        assert_eq!(
            r.map(|_| ()),
            want.map(|_| ()).map_err(Error::Session),
            "login"
        );
        return;
    };
    let same = m.sessions[s].principal.as_deref() == Some(p);
    let cap = m.config.max_sessions_per_principal as usize;
    let refuse = m.config.principal_limit_policy == PrincipalLimitPolicy::Refuse;
    // With a cap, the principal's lapsed sessions (past their deadline, not yet swept) end
    // as expired first: they neither count against the cap nor are evicted for it.
    let lapsed: Vec<usize> = if !same && cap > 0 {
        m.held()
            .filter(|(_, x)| x.principal.as_deref() == Some(p) && m.clock >= x.deadline())
            .map(|(i, _)| i)
            .collect()
    } else {
        Vec::new()
    };
    if !same && cap > 0 && refuse && m.count_of(p) - lapsed.len() >= cap {
        let r = e.login(token, p, now);
        m.events(
            e,
            Allowed {
                expire: lapsed,
                ..Allowed::default()
            },
        );
        assert_eq!(r.map(|_| ()), Err(Error::PrincipalLimit));
        return;
    }
    let need = if same { 0 } else { blocks(p.len()) };
    let have = m.sessions[s]
        .principal
        .as_ref()
        .map_or(0, |q| blocks(q.len()));
    let freed: usize = lapsed.iter().map(|&i| m.sessions[i].blocks()).sum();
    let short = !same && need > have + m.total_blocks - (m.used_blocks() - freed);
    let expired = m.expired_held();
    let evict_principal = (!same && cap > 0 && !refuse).then(|| p.to_vec());
    let r = e.login(token, p, now);
    let seen = m.events(
        e,
        Allowed {
            expire: lapsed,
            sweep: short,
            evict_anonymous: short,
            except: Some(s),
            evict_principal: evict_principal.clone(),
            ..Allowed::default()
        },
    );
    if short {
        assert_eq!(
            seen.expired,
            expired.len(),
            "pool pressure at login: sweep missed expired sessions"
        );
    }
    let fits_now = need <= have + m.total_blocks - m.used_blocks();
    match r {
        Err(Error::PoolExhausted) => {
            assert!(short && !fits_now);
            assert!(
                m.held().all(|(j, x)| j == s || x.principal.is_some()),
                "PoolExhausted at login while anonymous sessions could be evicted"
            );
            assert!(m.sessions[s].held(), "a failed login killed its session");
        }
        Ok((new, got)) => {
            // Sessions evicted for the cap: the principal's least recently used.
            let by_cap: Vec<usize> = seen
                .evicted
                .iter()
                .copied()
                .filter(|&v| m.sessions[v].principal.as_deref() == Some(p))
                .collect();
            if !by_cap.is_empty() {
                assert_eq!(m.count_of(p), cap - 1, "evicted more than the cap requires");
                let oldest_kept = m
                    .held()
                    .filter(|(j, x)| *j != s && x.principal.as_deref() == Some(p))
                    .map(|(_, x)| x.last_seen)
                    .min();
                for v in by_cap {
                    assert!(
                        oldest_kept.is_none_or(|k| m.sessions[v].last_seen <= k),
                        "evicted a newer session"
                    );
                }
            }
            assert!(
                m.tokens.iter().all(|t| t.0 != new.as_str()),
                "token issued twice"
            );
            let x = &mut m.sessions[s];
            x.principal = Some(p.to_vec());
            x.created = m.clock;
            x.last_seen = m.clock;
            m.rotate_token(s, new.as_str());
            m.check_session(&got, s);
        }
        Err(other) => panic!("login: unexpected {other:?} (model: live session {s})"),
    }
}
