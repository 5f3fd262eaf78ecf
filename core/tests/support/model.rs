//! Model-based test, over any store: random operation sequences run against a store and
//! against a plain reference model (vectors and linear scans, written from the documented
//! policy, not from the engine's code), comparing every outcome, every session snapshot,
//! every event, and the stats after every operation. `core/tests/model.rs` runs it on the
//! in-process engine; every other store's tests include this file (`#[path]`) and run it
//! on theirs.
//!
//! The model keeps the tombstone set larger than any run can fill and the event ring
//! larger than any one operation can fill (their bounds are pinned by the conformance
//! vectors), and compares each operation's events as a multiset, since the order in
//! which one sweep reclaims several sessions is the timing wheel's business.

#![allow(dead_code)]

use std::collections::HashMap;

use proptest::prelude::*;
use sessile::{
    Client, ClientPolicy, Config, Error, EventKind, Expiry, Invalid, PrincipalLimitPolicy,
    RotatedReusePolicy, Session, SessionRef, Store,
};

const BLOCK: usize = 64;
const PRINCIPALS: [&[u8]; 3] = [
    b"alice",
    b"bob",
    b"a-principal-name-long-enough-to-need-two-blocks-of-the-payload-pool",
];
const IPS: [&[u8]; 4] = [b"192.0.2.1", b"192.0.2.2", b"198.51.100.3", b"2001:db8::4"];
const UAS: [&[u8]; 2] = [b"Mozilla/5.0", b"curl/8.0"];
const MALFORMED: [&[u8]; 4] = [b"", b"not a token", b"AAAA=", &[0xff; 43]];

fn blocks(len: usize) -> usize {
    len.div_ceil(BLOCK)
}

// ------------------------------------------------------------------ the model

#[derive(Clone, Copy, Debug, PartialEq)]
enum Death {
    LoggedOut,
    RotatedOut,
    Expired(Expiry),
    Evicted,
    Revoked,
}

impl Death {
    fn invalid(self) -> Invalid {
        match self {
            Death::LoggedOut => Invalid::LoggedOut,
            Death::RotatedOut => Invalid::RotatedOut,
            Death::Expired(x) => Invalid::Expired(x),
            Death::Evicted => Invalid::Evicted,
            Death::Revoked => Invalid::Revoked,
        }
    }
}

struct MSession {
    alive: bool,
    handle: SessionRef,
    created: u64,
    last_seen: u64,
    idle: u32,
    absolute: u32,
    principal: Option<Vec<u8>>,
    payload: Vec<u8>,
    ip: Option<&'static [u8]>,
    ua: Option<&'static [u8]>,
    addrs: Vec<&'static [u8]>,
    addr_count: u32,
    alerted: bool,
    /// Used since the eviction hand last passed it (CLOCK's second chance).
    referenced: bool,
}

impl MSession {
    fn idle_deadline(&self) -> u64 {
        self.last_seen + u64::from(self.idle)
    }
    fn absolute_deadline(&self) -> u64 {
        self.created + u64::from(self.absolute)
    }
    fn deadline(&self) -> u64 {
        self.idle_deadline().min(self.absolute_deadline())
    }
    fn expiry(&self) -> Expiry {
        if self.absolute_deadline() <= self.idle_deadline() {
            Expiry::Absolute
        } else {
            Expiry::Idle
        }
    }
}

struct MToken {
    text: Vec<u8>,
    session: usize,
    dead: Option<Death>,
}

/// Which anonymous session a full store evicts: every store evicts only anonymous
/// sessions (the capacity policy), and picks the one CLOCK picks (`rules::clock_takes`):
/// a validation marks the session referenced, the hand passes referenced ones (clearing
/// the mark, to the tail) and takes the first one not used since it last passed.
pub struct Model {
    cfg: Config,
    clock: u64,
    sessions: Vec<MSession>,
    tokens: Vec<MToken>,
    /// Anonymous sessions, the first at the CLOCK hand: created or passed by it longest
    /// ago first.
    anon: Vec<usize>,
    /// Each principal's sessions, in the order they joined.
    by_principal: Vec<(Vec<u8>, Vec<usize>)>,
    /// Creates that met a full table since the last pressure event.
    pressure: u32,
    events: Vec<(EventKind, Option<usize>)>,
    created: u64,
    evictions: u64,
    expirations: u64,
    revocations: u64,
    tombstones: u64,
}

impl Model {
    pub fn new(cfg: Config) -> Model {
        Model {
            cfg,
            clock: 0,
            sessions: Vec::new(),
            tokens: Vec::new(),
            anon: Vec::new(),
            by_principal: Vec::new(),
            pressure: 0,
            events: Vec::new(),
            created: 0,
            evictions: 0,
            expirations: 0,
            revocations: 0,
            tombstones: 0,
        }
    }

    fn tick(&mut self, now: u64) -> u64 {
        self.clock = self.clock.max(now);
        self.clock
    }

    fn live(&self) -> usize {
        self.sessions.iter().filter(|s| s.alive).count()
    }

    fn used_blocks(&self) -> usize {
        self.sessions
            .iter()
            .filter(|s| s.alive)
            .map(|s| blocks(s.payload.len()) + s.principal.as_ref().map_or(0, |p| blocks(p.len())))
            .sum()
    }

    fn total_blocks(&self) -> usize {
        blocks(self.cfg.pool_bytes as usize)
    }

    fn list_of(&mut self, principal: &[u8]) -> &mut Vec<usize> {
        if let Some(i) = self.by_principal.iter().position(|(p, _)| p == principal) {
            return &mut self.by_principal[i].1;
        }
        self.by_principal.push((principal.to_vec(), Vec::new()));
        &mut self.by_principal.last_mut().unwrap().1
    }

    fn members(&self, principal: &[u8]) -> Vec<usize> {
        self.by_principal
            .iter()
            .find(|(p, _)| p == principal)
            .map_or(Vec::new(), |(_, l)| l.clone())
    }

    fn detach(&mut self, sid: usize) {
        match self.sessions[sid].principal.clone() {
            None => self.anon.retain(|&x| x != sid),
            Some(p) => self.list_of(&p).retain(|&x| x != sid),
        }
    }

    fn attach(&mut self, sid: usize) {
        match self.sessions[sid].principal.clone() {
            None => self.anon.push(sid),
            Some(p) => self.list_of(&p).push(sid),
        }
    }

    fn current_token(&self, sid: usize) -> usize {
        self.tokens
            .iter()
            .rposition(|t| t.session == sid)
            .expect("a session has a token")
    }

    fn destroy(&mut self, sid: usize, death: Death) {
        self.detach(sid);
        self.sessions[sid].alive = false;
        let t = self.current_token(sid);
        self.tokens[t].dead = Some(death);
        self.tombstones += 1;
        let kind = match death {
            Death::LoggedOut => EventKind::LoggedOut,
            Death::Expired(Expiry::Idle) => EventKind::ExpiredIdle,
            Death::Expired(Expiry::Absolute) => EventKind::ExpiredAbsolute,
            Death::Evicted => EventKind::Evicted,
            Death::Revoked | Death::RotatedOut => EventKind::Revoked,
        };
        self.events.push((kind, Some(sid)));
        match death {
            Death::Expired(_) => self.expirations += 1,
            Death::Evicted => self.evictions += 1,
            Death::Revoked => self.revocations += 1,
            _ => {}
        }
    }

    fn sweep(&mut self) -> usize {
        let now = self.clock;
        let due: Vec<usize> = (0..self.sessions.len())
            .filter(|&i| self.sessions[i].alive && self.sessions[i].deadline() <= now)
            .collect();
        for &i in &due {
            let x = self.sessions[i].expiry();
            self.destroy(i, Death::Expired(x));
        }
        due.len()
    }

    /// CLOCK: the hand passes `except` and referenced sessions (clearing the bit, to the
    /// back), at most 64 of the latter, and evicts the first other one.
    fn evict_anonymous(&mut self, except: usize) -> bool {
        let mut passed = 0;
        loop {
            let Some(&x) = self.anon.first() else {
                return false;
            };
            if x == except {
                if self.anon.len() == 1 {
                    return false;
                }
            } else if !self.sessions[x].referenced || passed == 64 {
                self.destroy(x, Death::Evicted);
                return true;
            } else {
                self.sessions[x].referenced = false;
                passed += 1;
            }
            self.anon.rotate_left(1);
        }
    }

    /// Room for `need` blocks where `have` are already held: sweep once, then evict the
    /// anonymous sessions other than `sid` CLOCK picks.
    fn make_room(&mut self, sid: usize, have: usize, need: usize) -> Result<(), Error> {
        let mut swept = false;
        loop {
            if need <= have + self.total_blocks() - self.used_blocks() {
                return Ok(());
            }
            if !swept {
                swept = true;
                self.sweep();
                if !self.sessions[sid].alive {
                    return Err(Error::StaleHandle);
                }
                continue;
            }
            if !self.evict_anonymous(sid) {
                return Err(Error::PoolExhausted);
            }
        }
    }

    fn resolve(&mut self, token: &Presented) -> Result<usize, Invalid> {
        let t = match token {
            Presented::Malformed => return Err(Invalid::Malformed),
            Presented::Unknown => return Err(Invalid::Unknown),
            Presented::Issued(t) => *t,
        };
        let sid = self.tokens[t].session;
        match self.tokens[t].dead {
            None => {
                if self.clock >= self.sessions[sid].deadline() {
                    let x = self.sessions[sid].expiry();
                    self.destroy(sid, Death::Expired(x));
                    return Err(Invalid::Expired(x));
                }
                Ok(sid)
            }
            Some(death) => {
                match death {
                    Death::LoggedOut => self.events.push((EventKind::ReuseAfterLogout, Some(sid))),
                    Death::RotatedOut => {
                        self.events.push((EventKind::ReuseAfterRotation, Some(sid)));
                        if self.cfg.rotated_reuse == RotatedReusePolicy::RevokeSession
                            && self.sessions[sid].alive
                        {
                            self.destroy(sid, Death::Revoked);
                        }
                    }
                    _ => {}
                }
                Err(death.invalid())
            }
        }
    }

    fn new_token(&mut self, sid: usize, text: &[u8]) {
        // The old token (if any) is rotated out.
        if let Some(old) = self.tokens.iter().rposition(|t| t.session == sid) {
            self.tokens[old].dead = Some(Death::RotatedOut);
            self.tombstones += 1;
        }
        self.tokens.push(MToken {
            text: text.to_vec(),
            session: sid,
            dead: None,
        });
    }

    fn tracks_ip(&self) -> bool {
        self.cfg.ip_policy != ClientPolicy::Off || self.cfg.max_addresses > 0
    }

    fn create(&mut self, now: u64, client: &MClient) -> Result<usize, Error> {
        self.tick(now);
        if self.live() == self.cfg.capacity as usize {
            // Reported when the table first fills, then once per table's worth of
            // creates that meet a full table.
            if self.pressure == 0 {
                self.events.push((EventKind::CapacityPressure, None));
            }
            self.pressure = (self.pressure + 1) % self.cfg.capacity;
            self.sweep();
            if self.live() == self.cfg.capacity as usize && !self.evict_anonymous(usize::MAX) {
                return Err(Error::CapacityExhausted);
            }
        } else {
            self.pressure = 0;
        }
        let ip = client.ip.filter(|_| self.tracks_ip());
        let ua = client
            .ua
            .filter(|_| self.cfg.user_agent_policy != ClientPolicy::Off);
        let sid = self.sessions.len();
        self.sessions.push(MSession {
            alive: true,
            handle: SessionRef::from_u64(u64::MAX),
            created: self.clock,
            last_seen: self.clock,
            idle: self.cfg.idle_timeout_ms,
            absolute: self.cfg.absolute_timeout_ms,
            principal: None,
            payload: Vec::new(),
            ip,
            ua,
            addrs: ip.into_iter().collect(),
            addr_count: u32::from(ip.is_some()),
            alerted: false,
            referenced: false,
        });
        self.anon.push(sid);
        self.created += 1;
        self.events.push((EventKind::Created, Some(sid)));
        Ok(sid)
    }

    fn validate(
        &mut self,
        token: &Presented,
        now: u64,
        client: &MClient,
    ) -> Result<usize, Invalid> {
        self.tick(now);
        let sid = self.resolve(token)?;
        let ip = client.ip.filter(|_| self.tracks_ip());
        let ua = client
            .ua
            .filter(|_| self.cfg.user_agent_policy != ClientPolicy::Off);
        let s = &self.sessions[sid];
        let ip_moved =
            self.cfg.ip_policy != ClientPolicy::Off && ip.is_some() && s.ip.is_some() && s.ip != ip;
        let ua_moved = ua.is_some() && s.ua.is_some() && s.ua != ua;
        if ip_moved {
            self.events.push((EventKind::AddressChanged, Some(sid)));
        }
        if ua_moved {
            self.events.push((EventKind::UserAgentChanged, Some(sid)));
        }
        if (ip_moved && self.cfg.ip_policy == ClientPolicy::Enforce)
            || (ua_moved && self.cfg.user_agent_policy == ClientPolicy::Enforce)
        {
            return Err(Invalid::ClientMismatch);
        }
        let max = u32::from(self.cfg.max_addresses);
        let s = &mut self.sessions[sid];
        if let Some(ip) = ip {
            s.ip = Some(ip);
            if !s.addrs.contains(&ip) {
                if s.addrs.len() < 4 {
                    s.addrs.push(ip);
                }
                s.addr_count += 1;
            }
            if max > 0 && s.addr_count > max && !s.alerted {
                s.alerted = true;
                self.events.push((EventKind::TooManyAddresses, Some(sid)));
            }
        }
        let s = &mut self.sessions[sid];
        if ua.is_some() {
            s.ua = ua;
        }
        s.last_seen = self.clock;
        if s.principal.is_none() {
            self.sessions[sid].referenced = true;
        }
        Ok(sid)
    }

    /// Login up to (not including) the new token, which the caller adds.
    fn login(&mut self, token: &Presented, principal: &[u8], now: u64) -> Result<usize, Error> {
        self.tick(now);
        if principal.is_empty() || principal.len() > 128 {
            return Err(Error::InvalidPrincipal);
        }
        let sid = self.resolve(token)?;
        let same = self.sessions[sid].principal.as_deref() == Some(principal);
        if !same {
            let cap = self.cfg.max_sessions_per_principal as usize;
            if cap > 0 {
                // Lapsed sessions (past their deadline, not yet swept) neither count nor
                // get evicted: they end as expired first.
                for m in self.members(principal) {
                    if self.sessions[m].deadline() <= self.clock {
                        let x = self.sessions[m].expiry();
                        self.destroy(m, Death::Expired(x));
                    }
                }
            }
            if cap > 0
                && self.cfg.principal_limit_policy == PrincipalLimitPolicy::Refuse
                && self.members(principal).len() >= cap
            {
                return Err(Error::PrincipalLimit);
            }
            self.detach(sid);
            let have = self.sessions[sid]
                .principal
                .as_ref()
                .map_or(0, |p| blocks(p.len()));
            if let Err(e) = self.make_room(sid, have, blocks(principal.len())) {
                self.attach(sid);
                return Err(e);
            }
            if cap > 0 {
                while self.members(principal).len() >= cap {
                    let list = self.members(principal);
                    // Least recently used; the earlier joiner on a tie.
                    let oldest = list
                        .iter()
                        .copied()
                        .min_by_key(|&x| self.sessions[x].last_seen)
                        .unwrap();
                    self.destroy(oldest, Death::Evicted);
                }
            }
            self.sessions[sid].principal = Some(principal.to_vec());
            self.attach(sid);
        }
        let s = &mut self.sessions[sid];
        s.created = self.clock;
        s.last_seen = self.clock;
        self.events.push((EventKind::LoggedIn, Some(sid)));
        Ok(sid)
    }

    fn session_live(&self, sid: usize) -> Result<usize, Error> {
        if self.sessions[sid].alive {
            Ok(sid)
        } else {
            Err(Error::StaleHandle)
        }
    }

    /// By handle: a session past its deadline at the clock (not yet swept) ends as expired.
    fn live_at_clock(&mut self, sid: usize) -> Result<usize, Error> {
        self.session_live(sid)?;
        if self.sessions[sid].deadline() <= self.clock {
            let x = self.sessions[sid].expiry();
            self.destroy(sid, Death::Expired(x));
            return Err(Error::Session(Invalid::Expired(x)));
        }
        Ok(sid)
    }

    fn write(&mut self, sid: usize, data: &[u8], now: u64) -> Result<(), Error> {
        self.tick(now);
        self.live_at_clock(sid)?;
        if data.len() > self.cfg.max_payload as usize {
            return Err(Error::PayloadTooLarge);
        }
        let have = blocks(self.sessions[sid].payload.len());
        self.make_room(sid, have, blocks(data.len()))?;
        self.sessions[sid].payload = data.to_vec();
        Ok(())
    }

    fn set_timeouts(
        &mut self,
        sid: usize,
        idle: Option<u32>,
        absolute: Option<u32>,
        now: u64,
    ) -> Result<usize, Error> {
        self.tick(now);
        self.live_at_clock(sid)?;
        let ok = |v: Option<u32>, max: u32| v.is_none_or(|v| v > 0 && v <= max);
        if !ok(idle, self.cfg.max_idle_timeout_ms)
            || !ok(absolute, self.cfg.max_absolute_timeout_ms)
        {
            return Err(Error::InvalidTimeout);
        }
        let s = &mut self.sessions[sid];
        if let Some(v) = idle {
            s.idle = v;
        }
        if let Some(v) = absolute {
            s.absolute = v;
        }
        if s.deadline() <= self.clock {
            let x = s.expiry();
            self.destroy(sid, Death::Expired(x));
            return Err(Error::Session(Invalid::Expired(x)));
        }
        Ok(sid)
    }

    fn revoke_all(&mut self, now: u64) -> usize {
        self.tick(now);
        let live: Vec<usize> = (0..self.sessions.len())
            .filter(|&i| self.sessions[i].alive)
            .collect();
        live.into_iter().filter(|&sid| self.end_live(sid)).count()
    }

    fn revoke_principal(&mut self, principal: &[u8], now: u64) -> usize {
        self.tick(now);
        let list = self.members(principal);
        list.into_iter().filter(|&sid| self.end_live(sid)).count()
    }

    /// Revoke a session, or end it as expired when it is past its deadline (not live any
    /// more, whether swept or not); true when it was revoked.
    fn end_live(&mut self, sid: usize) -> bool {
        let s = &self.sessions[sid];
        if s.deadline() <= self.clock {
            let x = s.expiry();
            self.destroy(sid, Death::Expired(x));
            false
        } else {
            self.destroy(sid, Death::Revoked);
            true
        }
    }
}

// ------------------------------------------------------------------ operations

#[derive(Clone, Copy, Debug)]
pub struct MClient {
    ip: Option<&'static [u8]>,
    ua: Option<&'static [u8]>,
}

/// A token as the test presents it.
enum Presented {
    Issued(usize),
    Unknown,
    Malformed,
}

#[derive(Clone, Debug)]
pub enum Op {
    Create(MClient),
    Validate(usize, MClient),
    Login(usize, usize),
    Rotate(usize),
    Logout(usize),
    RevokePrincipal(usize),
    RevokeAll,
    SessionsOf(usize),
    Write(usize, usize),
    Read(usize),
    Sweep,
    SetTimeouts(usize, Option<u32>, Option<u32>),
    Garbage(usize),
}

fn client() -> impl Strategy<Value = MClient> {
    (
        prop::option::of(prop::sample::select(IPS.to_vec())),
        prop::option::of(prop::sample::select(UAS.to_vec())),
    )
        .prop_map(|(ip, ua)| MClient { ip, ua })
}

pub fn op() -> impl Strategy<Value = Op> {
    let idx = any::<usize>();
    let timeout = prop::option::of(prop_oneof![Just(0u32), 1u32..4_000, Just(100_001u32)]);
    prop_oneof![
        5 => client().prop_map(Op::Create),
        8 => (idx, client()).prop_map(|(i, c)| Op::Validate(i, c)),
        3 => (idx, 0..PRINCIPALS.len() + 2).prop_map(|(i, p)| Op::Login(i, p)),
        2 => idx.prop_map(Op::Rotate),
        2 => idx.prop_map(Op::Logout),
        1 => (0..PRINCIPALS.len()).prop_map(Op::RevokePrincipal),
        1 => Just(Op::RevokeAll),
        1 => (0..PRINCIPALS.len()).prop_map(Op::SessionsOf),
        3 => (idx, 0usize..300).prop_map(|(i, n)| Op::Write(i, n)),
        1 => idx.prop_map(Op::Read),
        1 => Just(Op::Sweep),
        1 => (idx, timeout.clone(), timeout).prop_map(|(i, a, b)| Op::SetTimeouts(i, a, b)),
        1 => (0..MALFORMED.len() + 1).prop_map(Op::Garbage),
    ]
}

/// How the clock moves before an operation.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Mostly forward in small steps, sometimes jumps, sometimes goes back.
    By(i64),
    /// To one millisecond before, at, or after a deadline of some session, so that the
    /// exact boundaries are hit often.
    ToDeadline(usize, bool, i64),
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0i64..200).prop_map(Step::By),
        2 => (200i64..3_000).prop_map(Step::By),
        1 => (-2_000i64..0).prop_map(Step::By),
        4 => (any::<usize>(), any::<bool>(), -1i64..=1).prop_map(|(i, a, d)| Step::ToDeadline(i, a, d)),
    ]
}

pub fn config() -> impl Strategy<Value = Config> {
    (
        (
            1u32..7,
            2usize..14,
            50u32..2_000,
            0u32..4_000,
            any::<bool>(),
        ),
        (
            0u32..4,
            any::<bool>(),
            any::<bool>(),
            0u8..3,
            0u8..4,
            0u8..3,
            0u8..4,
        ),
    )
        .prop_map(
            |((cap, pool, idle, extra, short), (per, refuse, revoke, ipp, uap, ipa, maxa))| {
                let policy = |n: u8| match n {
                    0 => ClientPolicy::Off,
                    1 => ClientPolicy::Observe,
                    _ => ClientPolicy::Enforce,
                };
                let _ = ipa;
                Config {
                    capacity: cap,
                    pool_bytes: (pool * BLOCK) as u32,
                    max_payload: (pool * BLOCK).min(256) as u32,
                    token_bytes: if short { 16 } else { 32 },
                    idle_timeout_ms: idle,
                    absolute_timeout_ms: idle + extra,
                    max_idle_timeout_ms: 100_000,
                    max_absolute_timeout_ms: 100_000,
                    // Larger than any run can fill: see the module comment.
                    tombstones: 4_096,
                    events: 4 * cap + 8,
                    max_sessions_per_principal: per,
                    principal_limit_policy: if refuse {
                        PrincipalLimitPolicy::Refuse
                    } else {
                        PrincipalLimitPolicy::EvictLeastRecentlyUsed
                    },
                    rotated_reuse: if revoke {
                        RotatedReusePolicy::RevokeSession
                    } else {
                        RotatedReusePolicy::Report
                    },
                    ip_policy: policy(ipp),
                    user_agent_policy: policy(uap),
                    max_addresses: maxa.min(3),
                    ..Config::default()
                }
            },
        )
}

fn code(e: &Error) -> &'static str {
    match e {
        Error::Session(i) => i.code(),
        other => other.code(),
    }
}

// ------------------------------------------------------------------ the comparison

/// One run of operations against any store: the model checks the store seam.
pub struct Run<S: Store> {
    engine: S,
    /// The store's clock (the latest `now` it was given).
    clock: fn(&S) -> u64,
    model: Model,
    tags: HashMap<u64, usize>,
    now: u64,
}

impl<S: Store> Run<S> {
    /// A run of `store`, freshly built from `cfg`, whose clock `clock` reads.
    pub fn new(store: S, clock: fn(&S) -> u64, cfg: Config) -> Run<S> {
        Run {
            engine: store,
            clock,
            model: Model::new(cfg),
            tags: HashMap::new(),
            now: 0,
        }
    }

    /// Run `ops` one after another, comparing after each.
    pub fn run(&mut self, ops: &[(Op, Step)]) {
        for (op, step) in ops {
            self.apply(op, *step);
        }
    }

    fn check_session(&self, sid: usize, s: &Session) {
        let m = &self.model.sessions[sid];
        assert_eq!(s.handle, m.handle, "handle of {sid}");
        assert_eq!(s.created_ms, m.created, "created of {sid}");
        assert_eq!(s.last_seen_ms, m.last_seen, "last_seen of {sid}");
        assert_eq!(
            s.idle_deadline_ms,
            m.idle_deadline(),
            "idle deadline of {sid}"
        );
        assert_eq!(
            s.absolute_deadline_ms,
            m.absolute_deadline(),
            "absolute deadline of {sid}"
        );
        assert_eq!(s.idle_timeout_ms, m.idle);
        assert_eq!(s.absolute_timeout_ms, m.absolute);
        assert_eq!(s.principal.map(|p| p.as_bytes().to_vec()), m.principal);
        assert_eq!(s.payload_len as usize, m.payload.len());
    }

    fn issued(&mut self, sid: usize, text: &[u8]) {
        let n = usize::from(self.model.cfg.token_bytes);
        assert_eq!(text.len(), (n * 4).div_ceil(3));
        assert!(
            self.model.tokens.iter().all(|t| t.text != text),
            "a token was issued twice"
        );
        self.model.new_token(sid, text);
    }

    fn presented(&self, i: usize) -> (Presented, Vec<u8>) {
        if self.model.tokens.is_empty() {
            return (Presented::Malformed, Vec::new());
        }
        let t = i % self.model.tokens.len();
        (Presented::Issued(t), self.model.tokens[t].text.clone())
    }

    fn sid(&self, i: usize) -> Option<usize> {
        (!self.model.sessions.is_empty()).then(|| i % self.model.sessions.len())
    }

    fn apply(&mut self, op: &Op, step: Step) {
        self.now = match (step, self.sid(0)) {
            (Step::ToDeadline(i, absolute, d), Some(_)) => {
                let m = &self.model.sessions[self.sid(i).unwrap()];
                let at = if absolute {
                    m.absolute_deadline()
                } else {
                    m.idle_deadline()
                };
                at.saturating_add_signed(d)
            }
            (Step::By(dt), _) | (Step::ToDeadline(_, _, dt), None) => {
                self.now.saturating_add_signed(dt)
            }
        };
        let now = self.now;
        match op {
            Op::Create(c) => {
                let client = Client {
                    ip: c.ip,
                    user_agent: c.ua,
                };
                let got = self.engine.create(now, &client);
                let want = self.model.create(now, c);
                match (got, want) {
                    (Ok((t, s)), Ok(sid)) => {
                        self.model.sessions[sid].handle = s.handle;
                        self.tags.insert(s.tag, sid);
                        self.issued(sid, t.as_bytes());
                        self.check_session(sid, &s);
                    }
                    (Err(g), Err(w)) => assert_eq!(g, w),
                    (g, w) => panic!("create: engine {:?} model {w:?}", g.map(|x| x.1)),
                }
            }
            Op::Validate(i, c) => {
                let (p, text) = self.presented(*i);
                let client = Client {
                    ip: c.ip,
                    user_agent: c.ua,
                };
                let got = self.engine.validate(&text, now, &client);
                let want = self.model.validate(&p, now, c);
                match (got, want) {
                    (Ok(s), Ok(sid)) => self.check_session(sid, &s),
                    (Err(g), Err(w)) => assert_eq!(g, Error::Session(w)),
                    (g, w) => panic!("validate: engine {g:?} model {w:?}"),
                }
            }
            Op::Login(i, pi) => {
                let (p, text) = self.presented(*i);
                let long = [b'p'; 129];
                let principal: &[u8] = match *pi {
                    n if n < PRINCIPALS.len() => PRINCIPALS[n],
                    n if n == PRINCIPALS.len() => b"",
                    _ => &long,
                };
                let got = self.engine.login(&text, principal, now);
                let want = self.model.login(&p, principal, now);
                match (got, want) {
                    (Ok((t, s)), Ok(sid)) => {
                        self.issued(sid, t.as_bytes());
                        self.check_session(sid, &s);
                    }
                    (Err(g), Err(w)) => assert_eq!(code(&g), code(&w)),
                    (g, w) => panic!("login: engine {:?} model {w:?}", g.map(|x| x.1)),
                }
            }
            Op::Rotate(i) => {
                let (p, text) = self.presented(*i);
                let got = self.engine.rotate(&text, now);
                self.model.tick(now);
                let want = self.model.resolve(&p);
                match (got, want) {
                    (Ok((t, s)), Ok(sid)) => {
                        self.model.events.push((EventKind::Rotated, Some(sid)));
                        self.issued(sid, t.as_bytes());
                        self.check_session(sid, &s);
                    }
                    (Err(g), Err(w)) => assert_eq!(g, Error::Session(w)),
                    (g, w) => panic!("rotate: engine {:?} model {w:?}", g.map(|x| x.1)),
                }
            }
            Op::Logout(i) => {
                let (p, text) = self.presented(*i);
                let got = self.engine.logout(&text, now);
                self.model.tick(now);
                let want = self
                    .model
                    .resolve(&p)
                    .map(|sid| self.model.destroy(sid, Death::LoggedOut));
                assert_eq!(got, want.map_err(Error::Session));
            }
            Op::RevokePrincipal(pi) => {
                let got = self.engine.revoke_principal(PRINCIPALS[*pi], now).unwrap();
                assert_eq!(got, self.model.revoke_principal(PRINCIPALS[*pi], now));
            }
            Op::RevokeAll => {
                let got = self.engine.revoke_all(now).unwrap();
                assert_eq!(got, self.model.revoke_all(now));
            }
            Op::SessionsOf(pi) => {
                let got: Vec<SessionRef> = self
                    .engine
                    .sessions_of(PRINCIPALS[*pi], now)
                    .unwrap()
                    .map(|s| s.handle)
                    .collect();
                // Past their deadline at the clock (the latest time given): left out,
                // swept or not.
                self.model.tick(now);
                let want: Vec<SessionRef> = self
                    .model
                    .members(PRINCIPALS[*pi])
                    .iter()
                    .filter(|&&sid| self.model.sessions[sid].deadline() > self.model.clock)
                    .map(|&sid| self.model.sessions[sid].handle)
                    .collect();
                assert_eq!(got, want, "sessions_of");
            }
            Op::Write(i, n) => {
                let Some(sid) = self.sid(*i) else { return };
                let data: Vec<u8> = (0..*n).map(|k| (k as u8) ^ (sid as u8)).collect();
                let got = self
                    .engine
                    .write(self.model.sessions[sid].handle, &data, now);
                assert_eq!(got, self.model.write(sid, &data, now), "write {n} bytes");
            }
            Op::Read(i) => {
                let Some(sid) = self.sid(*i) else { return };
                let mut out = [0u8; 512];
                let got = self
                    .engine
                    .read(self.model.sessions[sid].handle, &mut out, now);
                self.model.tick(now);
                match self.model.live_at_clock(sid) {
                    Ok(_) => {
                        assert_eq!(&out[..got.unwrap()], &self.model.sessions[sid].payload[..])
                    }
                    Err(w) => assert_eq!(got, Err(w)),
                }
            }
            Op::Sweep => {
                let got = self.engine.sweep(now).unwrap();
                self.model.tick(now);
                assert_eq!(got, self.model.sweep(), "sweep");
            }
            Op::SetTimeouts(i, idle, abs) => {
                let Some(sid) = self.sid(*i) else { return };
                let got =
                    self.engine
                        .set_timeouts(self.model.sessions[sid].handle, *idle, *abs, now);
                let want = self.model.set_timeouts(sid, *idle, *abs, now);
                match (got, want) {
                    (Ok(s), Ok(sid)) => self.check_session(sid, &s),
                    (Err(g), Err(w)) => assert_eq!(g, w),
                    (g, w) => panic!("set_timeouts: engine {g:?} model {w:?}"),
                }
            }
            Op::Garbage(k) => {
                let (p, text) = match MALFORMED.get(*k) {
                    Some(m) => (Presented::Malformed, m.to_vec()),
                    // Well formed for this engine's token length, never issued.
                    None => {
                        let n = usize::from(self.model.cfg.token_bytes);
                        (Presented::Unknown, vec![b'A'; (n * 4).div_ceil(3)])
                    }
                };
                let got = self.engine.validate(&text, now, &Client::NONE);
                self.model.tick(now);
                assert_eq!(got.err(), self.model.resolve(&p).err().map(Error::Session));
            }
        }
        self.compare_after();
    }

    fn compare_after(&mut self) {
        let m = &mut self.model;
        assert_eq!((self.clock)(&self.engine), m.clock, "engine clock");
        // Events of this operation, as a multiset, all at the engine's clock.
        let mut got: Vec<(&str, Option<usize>)> = self
            .engine
            .drain_events()
            .map(|ev| {
                assert_eq!(ev.at_ms, m.clock, "event time of {}", ev.kind.as_str());
                let who =
                    (ev.session != 0).then(|| *self.tags.get(&ev.session).expect("known tag"));
                (ev.kind.as_str(), who)
            })
            .collect();
        let mut want: Vec<(&str, Option<usize>)> =
            m.events.drain(..).map(|(k, s)| (k.as_str(), s)).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "events");
        let s = self.engine.stats();
        let live = m.live();
        let anon = m
            .sessions
            .iter()
            .filter(|x| x.alive && x.principal.is_none())
            .count();
        assert_eq!(s.live as usize, live, "live");
        assert!(s.live <= s.capacity, "over capacity");
        assert_eq!(s.anonymous as usize, anon, "anonymous");
        assert_eq!(s.authenticated as usize, live - anon, "authenticated");
        assert_eq!(s.anonymous as usize, m.anon.len());
        assert_eq!(
            s.pool_used_bytes as usize,
            m.used_blocks() * BLOCK,
            "pool used"
        );
        assert!(s.pool_used_bytes <= s.pool_total_bytes);
        assert_eq!(s.pool_total_bytes as usize, m.total_blocks() * BLOCK);
        assert_eq!(s.created, m.created, "created");
        assert_eq!(s.evictions, m.evictions, "evictions");
        assert_eq!(s.expirations, m.expirations, "expirations");
        assert_eq!(s.revocations, m.revocations, "revocations");
        assert_eq!(u64::from(s.tombstones), m.tombstones, "tombstones");
        assert_eq!(s.events_pending, 0);
        assert_eq!(s.events_dropped, 0);
    }
}
