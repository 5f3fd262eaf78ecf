//! [`RedisStore`]: the store seam over Redis. Each operation reads what its decision
//! needs, decides with [`sessile::rules`] in Rust, and writes through `commit.lua` under
//! guards on what it read; when another request changed that meanwhile, it decides
//! anew (at most `max_retries` times).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use redis::Value;
use sessile::rules::{self, LoginRoom, SaveVerdict};
use sessile::{
    Client, ClientPolicy, Config, Error, Event, EventKind, Expiry, IdGen, Invalid, POOL_BLOCK,
    Principal, Saved, Session, SessionRef, Stats, Store, StoreError, Token,
};
use zeroize::Zeroize;

use crate::config::RedisConfig;
use crate::conn::Conn;
use crate::keys::{Keys, parse_sid, sid_hex};
use crate::plan::{Guard, Plan};
use crate::record::{self, Fields, Record, blocks};

const LOOKUP: &str = include_str!("lua/lookup.lua");
const COMMIT: &str = include_str!("lua/commit.lua");
const WRITE: &str = include_str!("lua/write.lua");
const SAVE: &str = include_str!("lua/save.lua");
/// Every script, as each new connection loads them (the store's own and a carried one).
pub(crate) const SCRIPTS: [&str; 4] = [LOOKUP, COMMIT, WRITE, SAVE];

/// Sessions a sweep, a revoke-all or a lookup of candidates reads at once.
const BATCH: usize = 256;

/// How a token died, as its tombstone says (`d` of a token key).
fn death_code(why: Invalid) -> &'static str {
    match why {
        Invalid::LoggedOut => "1",
        Invalid::RotatedOut => "2",
        Invalid::Expired(Expiry::Idle) => "3",
        Invalid::Expired(Expiry::Absolute) => "4",
        Invalid::Evicted => "5",
        _ => "6",
    }
}

fn death_of(code: &[u8]) -> Option<Invalid> {
    Some(match code {
        b"1" => Invalid::LoggedOut,
        b"2" => Invalid::RotatedOut,
        b"3" => Invalid::Expired(Expiry::Idle),
        b"4" => Invalid::Expired(Expiry::Absolute),
        b"5" => Invalid::Evicted,
        b"6" => Invalid::Revoked,
        _ => return None,
    })
}

fn corrupt() -> Error {
    Error::Store(StoreError::Corrupt)
}

/// What a token's digest names.
enum Found {
    Nothing,
    Dead(u64, Invalid),
    Live(Record, bool),
}

/// The shared counters decisions read.
#[derive(Clone, Copy, Default)]
struct Meta {
    live: i64,
    blocks: i64,
    pressure: i64,
}

const META_FIELDS: [&str; 9] = [
    "live",
    "anon",
    "auth",
    "blocks",
    "pressure",
    "created",
    "evictions",
    "expirations",
    "revocations",
];

/// The security events of this process: a bounded ring, the oldest overwritten (and
/// counted) first, as the in-process table's.
struct Ring {
    events: VecDeque<Event>,
    cap: usize,
    dropped: u64,
}

impl Ring {
    fn push(&mut self, e: Event) {
        if self.cap == 0 {
            self.dropped += 1;
            return;
        }
        if self.events.len() == self.cap {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(e);
    }
}

/// Sessions in Redis or Valkey, shared by every process and host that uses the same
/// server, prefix and key. See the crate docs for the layout, the clock rule and what
/// is guaranteed.
pub struct RedisStore {
    config: Config,
    keys: Keys,
    conn: RefCell<Conn>,
    lookup: redis::Script,
    commit: redis::Script,
    /// `write.lua`: a plan that is one versioned HSET.
    write: redis::Script,
    /// `save.lua`: the commonest of those, a save's.
    save: redis::Script,
    rng: IdGen,
    /// The process the generator was seeded in (a forked child reseeds).
    rng_pid: u32,
    /// Drawn first (see [`RedisStore::with_seed`]); names this instance.
    instance: u128,
    /// The latest `now` this instance was given.
    clock: u64,
    ring: Ring,
    /// `{prefix}:e` and its length, when events also go to a stream.
    stream: Option<(String, u32)>,
    tombstone_ttl_ms: u64,
    churn: u32,
    pool_blocks: u64,
    max_retries: u32,
    /// Off only in tests that show what versioning prevents.
    versioned: bool,
    /// The record the last validation found, for the payload read right after it (the
    /// request seam's load: one round trip).
    loaded: Option<Record>,
    /// The record whose payload [`Store::payload`] handed out last, for the save that
    /// ends the same request: its write is planned from it without reading again, under
    /// the record's version (a record changed since fails the guard, and the save is
    /// decided anew from a fresh read): a request that loads and saves costs two round
    /// trips.
    recent: Option<Record>,
    /// The payload handed out by [`Store::payload`].
    payload: Vec<u8>,
    /// Test hook: runs after an operation decided its writes and before it commits them
    /// (see [`RedisStore::set_before_commit_for_tests`]).
    before_commit: Option<Box<dyn FnMut() + Send>>,
    /// A lookup's reply that a binding carried itself (the `wire` module): the token
    /// digest it was asked for and the reply, taken by the next touching lookup of that
    /// digest instead of a round trip.
    pub(crate) prefetched: RefCell<Option<(String, Vec<Value>)>>,
}

impl core::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisStore")
            .field("instance", &format_args!("{:032x}", self.instance))
            .finish_non_exhaustive()
    }
}

/// Write the record at `rkey`, read as `read`, as `new` (its `h`, `x` and `t`, and the
/// `more` fields): only if no other request changed it since. The guard is on `x` as
/// read, which holds the version; the `x` written holds the next one, so the version
/// moves in the same HSET (each call is a good part of a script's time).
fn update(
    plan: &mut Plan,
    rkey: &str,
    read: &Record,
    new: &mut Record,
    more: Vec<(&'static str, Vec<u8>)>,
) {
    plan.guard(rkey, Guard::Eq(record::EXTRA, read.extra_text()));
    new.version = record::next_version(read.version);
    let mut fields = new.packed_fields();
    fields.extend(more);
    plan.hset(rkey, fields);
}

impl RedisStore {
    /// A store with its token generator seeded from the operating system. Connects
    /// when first used; a server that is down now is no error here.
    pub fn new(config: Config, redis: &RedisConfig) -> Result<RedisStore, Error> {
        let mut seed = sessile::shared::os_seed()?;
        let store = RedisStore::with_seed(config, redis, seed);
        seed.zeroize();
        store
    }

    /// A store whose generator is seeded with `seed`: reproducible tokens, for tests and
    /// conformance vectors only. Like the in-process engine it draws 16 bytes before its
    /// first token (the engine's digest key, this store's instance id), so both issue
    /// the same tokens from the same seed. A forked child still reseeds from the OS.
    pub fn with_seed(
        config: Config,
        redis: &RedisConfig,
        seed: [u8; 32],
    ) -> Result<RedisStore, Error> {
        config.validate()?;
        redis.validate()?;
        let conn = Conn::new(
            &redis.url,
            redis.tls_ca.as_deref(),
            redis.connect_timeout,
            redis.response_timeout,
            &SCRIPTS,
        )?;
        let mut rng = IdGen::from_seed(seed);
        let mut id = [0u8; 16];
        rng.fill(&mut id);
        let ttl = redis
            .tombstone_ttl_ms
            .unwrap_or(u64::from(config.max_absolute_timeout_ms));
        let keys = Keys::new(&redis.prefix, redis.key);
        Ok(RedisStore {
            stream: redis.event_stream.map(|n| (keys.events(), n)),
            keys,
            conn: RefCell::new(conn),
            lookup: redis::Script::new(LOOKUP),
            commit: redis::Script::new(COMMIT),
            write: redis::Script::new(WRITE),
            save: redis::Script::new(SAVE),
            rng,
            rng_pid: std::process::id(),
            instance: u128::from_le_bytes(id),
            clock: 0,
            ring: Ring {
                events: VecDeque::with_capacity(config.events as usize),
                cap: config.events as usize,
                dropped: 0,
            },
            tombstone_ttl_ms: ttl,
            churn: rules::tombstone_shares(config.tombstone_count()).1,
            pool_blocks: blocks(config.pool_bytes as usize),
            max_retries: redis.max_retries,
            versioned: true,
            loaded: None,
            recent: None,
            payload: Vec::new(),
            before_commit: None,
            prefetched: RefCell::new(None),
            config,
        })
    }

    /// Give the token generator a fresh seed: after the process was cloned in a way the
    /// fork check cannot see (a VM snapshot, a CRIU restore), as the engine's `reseed`.
    pub fn reseed(&mut self, seed: [u8; 32]) {
        self.rng = IdGen::from_seed(seed);
        self.rng_pid = std::process::id();
    }

    /// The latest time this instance has been given (it never runs backwards). Each
    /// process keeps its own: see the crate docs' clock rule.
    pub fn now(&self) -> u64 {
        self.clock
    }

    /// A random id naming this instance (for logs that gather several processes).
    pub fn instance(&self) -> u128 {
        self.instance
    }

    /// The counters as Redis holds them, or why it could not say. ([`Store::stats`]
    /// cannot fail: on a failure it shows this process's event counts only.)
    pub fn try_stats(&self) -> Result<Stats, Error> {
        let keys = [self.keys.meta(), self.keys.kept(), self.keys.churn()];
        let (meta, kept, churn): (Vec<Option<i64>>, u64, u64) =
            self.conn.borrow_mut().call(|c| {
                redis::pipe()
                    .cmd("HMGET")
                    .arg(&keys[0])
                    .arg(&META_FIELDS[..])
                    .cmd("ZCARD")
                    .arg(&keys[1])
                    .cmd("ZCARD")
                    .arg(&keys[2])
                    .query(c)
            })?;
        let m = |i: usize| meta.get(i).copied().flatten().unwrap_or(0).max(0) as u64;
        Ok(Stats {
            live: m(0) as u32,
            anonymous: m(1) as u32,
            authenticated: m(2) as u32,
            pool_used_bytes: m(3) * POOL_BLOCK as u64,
            created: m(5),
            evictions: m(6),
            expirations: m(7),
            revocations: m(8),
            tombstones: (kept + churn) as u32,
            ..self.local_stats()
        })
    }

    fn local_stats(&self) -> Stats {
        Stats {
            capacity: self.config.capacity,
            pool_total_bytes: self.pool_blocks * POOL_BLOCK as u64,
            events_pending: self.ring.events.len() as u32,
            events_dropped: self.ring.dropped,
            ..Stats::default()
        }
    }

    /// Test switch: with `false`, saves overwrite whatever another request wrote since
    /// this one loaded (no epoch moves at a payload write, no version guard), as the
    /// stores without versioning do. Only for tests that show what versioning prevents.
    #[doc(hidden)]
    pub fn set_versioning_for_tests(&mut self, on: bool) {
        self.versioned = on;
    }

    /// Test hook: `hook` runs in every operation between its reads and its commit (the
    /// window in which another process's write makes the commit's guards fail), so a
    /// test can place a concurrent write there deterministically. Only for tests.
    #[doc(hidden)]
    pub fn set_before_commit_for_tests(&mut self, hook: Option<Box<dyn FnMut() + Send>>) {
        self.before_commit = hook;
    }

    /// Delete every key of this deployment (its prefix), a batch at a time (SCAN, so
    /// the server keeps serving meanwhile): for tests, and for operators retiring a
    /// deployment. Sessions end without events or tombstones; returns how many keys.
    pub fn delete_everything(&mut self) -> Result<usize, Error> {
        let pattern = self.keys.pattern();
        let mut cursor = 0u64;
        let mut n = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self.call(|c| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(BATCH)
                    .query(c)
            })?;
            if !keys.is_empty() {
                self.call(|c| redis::cmd("DEL").arg(&keys).query::<()>(c))?;
                n += keys.len();
            }
            if next == 0 {
                return Ok(n);
            }
            cursor = next;
        }
    }

    // ------------------------------------------------------------------ plumbing

    fn tick(&mut self, now: u64) -> u64 {
        self.clock = self.clock.max(now);
        self.clock
    }

    /// In a forked child, reseed before the first token (the parent's stream must not
    /// repeat); with no entropy, refuse rather than issue a guessable token.
    fn check_fork(&mut self) -> Result<(), Error> {
        let pid = std::process::id();
        if pid != self.rng_pid {
            let mut seed = sessile::shared::os_seed()?;
            self.rng = IdGen::from_seed(seed);
            seed.zeroize();
            self.rng_pid = pid;
        }
        Ok(())
    }

    fn call<T>(
        &self,
        f: impl FnMut(&mut crate::link::Link) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        self.conn.borrow_mut().call(f)
    }

    /// A fresh token, its digest and the id of a session it would start.
    fn draw_token(&mut self) -> (Token, String, u64) {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw[..n]);
        let token = Token::from_random(&raw[..n]).expect("token_bytes is validated");
        let digest = self.keys.token_digest(&raw[..n]);
        let sid = self.keys.session_id(&raw[..n]);
        raw.zeroize();
        (token, digest, sid)
    }

    /// The digest of a presented token, or `None` when it is malformed.
    fn digest_of(&self, token: &[u8]) -> Option<String> {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        let ok = Token::decode_into(token, n, &mut raw);
        let d = ok.then(|| self.keys.token_digest(&raw[..n]));
        raw.zeroize();
        d
    }

    /// A request's client digests, each `None` when not given or not watched.
    fn client_digests(&self, client: &Client<'_>) -> (Option<u32>, Option<u32>) {
        // Addresses are digested when checked or counted for the alarm (as the table).
        let tracks_ip = self.config.ip_policy != ClientPolicy::Off || self.config.max_addresses > 0;
        let ip = client
            .ip
            .filter(|_| tracks_ip)
            .map(|b| self.keys.address(b));
        let ua = client
            .user_agent
            .filter(|_| self.config.user_agent_policy != ClientPolicy::Off)
            .map(|b| self.keys.user_agent(b));
        (ip, ua)
    }

    fn emit(&mut self, events: Vec<Event>) {
        if let Some((key, len)) = &self.stream
            && !events.is_empty()
        {
            let mut pipe = redis::pipe();
            for e in &events {
                pipe.cmd("XADD")
                    .arg(key)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(*len)
                    .arg("*")
                    .arg("kind")
                    .arg(e.kind.as_str())
                    .arg("session")
                    .arg(format!("{:016x}", e.session))
                    .arg("at")
                    .arg(e.at_ms)
                    .arg("instance")
                    .arg(format!("{:032x}", self.instance))
                    .ignore();
            }
            // The operation has landed: a stream that cannot be written loses these
            // entries only (they stay in this process's ring), never the answer.
            let _ = self.call(|c| pipe.query::<()>(c));
        }
        for e in events {
            self.ring.push(e);
        }
    }

    /// Run one operation: `decide` reads and plans; the plan is committed under its
    /// guards (also when the operation's answer is an error such as `Expired`: ending a
    /// session found past its deadline is part of the answer); if a guard failed, it is
    /// decided anew. Events are raised once, for the plan that landed.
    fn run<T>(
        &mut self,
        mut decide: impl FnMut(&mut RedisStore, &mut Plan) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.begin_operation();
        for _ in 0..=self.max_retries {
            match self.decide_once(&mut decide) {
                (out, None) => return out,
                (out, Some(plan)) => {
                    if !self.commit_plan(&plan)? {
                        continue;
                    }
                    self.emit(plan.events);
                    return out;
                }
            }
        }
        Err(Error::Store(StoreError::Conflict))
    }

    /// One decision of an operation: its answer, and the plan still to commit when it has
    /// writes (a plan without writes has raised its events already). `run` commits it
    /// here; the `wire` module hands its bytes to a binding that carries them.
    pub(crate) fn decide_once<T>(
        &mut self,
        decide: &mut impl FnMut(&mut RedisStore, &mut Plan) -> Result<T, Error>,
    ) -> (Result<T, Error>, Option<Plan>) {
        let mut plan = Plan::new(self.keys.meta());
        let out = decide(self, &mut plan);
        if matches!(&out, Err(e) if e.is_store()) {
            return (out, None);
        }
        if !plan.has_writes() {
            self.emit(plan.events);
            return (out, None);
        }
        if let Some(hook) = self.before_commit.as_mut() {
            hook();
        }
        (out, Some(plan))
    }

    /// The script `plan` goes through, its keys and its arguments: `save.lua` for a save,
    /// `write.lua` for another single versioned write, else `commit.lua` (what
    /// `commit_plan` invokes and `commit_command` packs).
    fn commit_call<'a>(
        &'a self,
        plan: &'a Plan,
    ) -> (&'a redis::Script, Vec<&'a str>, Vec<Vec<u8>>) {
        if let Some((key, argv)) = plan.save_write() {
            return (&self.save, vec![key], argv);
        }
        if let Some((key, argv)) = plan.versioned_write() {
            return (&self.write, vec![key], argv);
        }
        let (keys, argv) = plan.encode();
        (
            &self.commit,
            keys.iter().map(String::as_str).collect(),
            argv,
        )
    }

    fn commit_plan(&self, plan: &Plan) -> Result<bool, Error> {
        let (script, keys, argv) = self.commit_call(plan);
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(k);
        }
        for a in argv {
            inv.arg(a);
        }
        let landed: i64 = self
            .conn
            .borrow_mut()
            .call_once(&mut |c: &mut crate::link::Link| inv.invoke(c))?;
        Ok(landed == 1)
    }

    /// The record this request loaded, when it is still live by what was read (its
    /// deadlines only move later): a save's first decision is made from it; the guard on
    /// its version makes a write from a stale copy fail and be decided anew.
    pub(crate) fn cached_for_save(&mut self, handle: SessionRef, now: u64) -> Option<Record> {
        self.recent
            .take()
            .filter(|r| self.versioned && r.sid == handle.to_u64() && now < r.deadline())
    }

    /// A save's decision ([`rules::save`]): from `cached` the first time, else from a
    /// fresh read.
    pub(crate) fn decide_save(
        &mut self,
        plan: &mut Plan,
        cached: &mut Option<Record>,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        let read = match cached.take() {
            Some(rec) => Ok(rec),
            None => self.live_at(plan, handle, now),
        };
        let current = match read {
            Ok(rec) => Some(rec),
            Err(Error::StaleHandle | Error::Session(_)) => None,
            Err(e) => return Err(e),
        };
        let now_is = current.as_ref().map(|r| (r.epoch, r.data == data));
        match rules::save(epoch, now_is) {
            SaveVerdict::Drop => Ok(Saved::Dropped),
            SaveVerdict::Unchanged => Ok(Saved::Unchanged),
            SaveVerdict::Write => {
                let Some(rec) = current else {
                    return Ok(Saved::Dropped);
                };
                self.write_payload(plan, &rec, data, now)?;
                Ok(Saved::Written)
            }
        }
    }

    /// The bytes of `save.lua`'s, `write.lua`'s or `commit.lua`'s EVALSHA for `plan` (what
    /// `commit_plan` sends).
    pub(crate) fn commit_command(&self, plan: &Plan) -> Vec<u8> {
        let (script, keys, argv) = self.commit_call(plan);
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(script.get_hash())
            .arg(keys.len())
            .arg(keys)
            .arg(argv);
        cmd.get_packed_command()
    }

    /// The bytes of `lookup.lua`'s EVALSHA (what `lookup` sends).
    pub(crate) fn lookup_command(
        &self,
        digest: &str,
        touch: Option<(u64, Option<u32>, Option<u32>)>,
    ) -> Vec<u8> {
        let (keys, args) = self.lookup_args(digest, touch);
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.lookup.get_hash())
            .arg(keys.len())
            .arg(&keys[..])
            .arg(&args[..]);
        cmd.get_packed_command()
    }

    /// Emit the events of a plan that landed (the `wire` module's commit).
    pub(crate) fn landed(&mut self, events: Vec<Event>) {
        self.emit(events);
    }

    /// What every operation starts with (as `run` does): the cached records of the last
    /// validation and payload read are not carried into it.
    pub(crate) fn begin_operation(&mut self) {
        self.loaded = None;
        self.recent = None;
    }

    pub(crate) fn tick_now(&mut self, now: u64) -> u64 {
        self.tick(now)
    }

    pub(crate) fn digest_for(&self, token: &[u8]) -> Option<String> {
        self.digest_of(token)
    }

    pub(crate) fn client_digests_for(&self, client: &Client<'_>) -> (Option<u32>, Option<u32>) {
        self.client_digests(client)
    }

    pub(crate) fn conn_info(&self) -> Option<(redis::ConnectionInfo, Duration, Duration)> {
        let c = self.conn.borrow();
        let (connect, response) = c.timeouts();
        c.info().map(|i| (i, connect, response))
    }

    // ------------------------------------------------------------------ reads

    /// The `KEYS` and `ARGV` of `lookup.lua` for a token's digest; with `touch` (now,
    /// the request's client digests), a live session is marked used.
    pub(crate) fn lookup_args(
        &self,
        digest: &str,
        touch: Option<(u64, Option<u32>, Option<u32>)>,
    ) -> ([String; 1], [Vec<u8>; 4]) {
        let opt = record::client_digest_text;
        let keys = [self.keys.token(digest)];
        let prefix = self.keys.record_prefix().into_bytes();
        let args = match touch {
            Some((now, ip, ua)) => [prefix, record::last_seen_text(now), opt(ip), opt(ua)],
            None => [prefix, Vec::new(), Vec::new(), Vec::new()],
        };
        (keys, args)
    }

    fn lookup(
        &self,
        digest: &str,
        touch: Option<(u64, Option<u32>, Option<u32>)>,
    ) -> Result<Found, Error> {
        if touch.is_some() {
            let carried = self.prefetched.borrow_mut().take();
            match carried {
                Some((d, reply)) if d == digest => return self.parse_lookup(&reply, digest),
                _ => {}
            }
        }
        let (keys, args) = self.lookup_args(digest, touch);
        let mut inv = self.lookup.prepare_invoke();
        for k in &keys {
            inv.key(k);
        }
        for a in &args {
            inv.arg(a);
        }
        let reply: Vec<Value> = self.call(|c| inv.invoke(c))?;
        self.parse_lookup(&reply, digest)
    }

    /// What `lookup.lua`'s reply says a token's digest names.
    fn parse_lookup(&self, reply: &[Value], digest: &str) -> Result<Found, Error> {
        match reply {
            [Value::Int(0)] => Ok(Found::Nothing),
            [Value::Int(1), Value::BulkString(sid), Value::BulkString(d)] => {
                let sid = parse_sid(sid).ok_or_else(corrupt)?;
                Ok(Found::Dead(sid, death_of(d).ok_or_else(corrupt)?))
            }
            [
                Value::Int(kind @ (2 | 3)),
                Value::BulkString(sid),
                Value::BulkString(head),
                Value::BulkString(extra),
                Value::BulkString(last_seen),
                Value::BulkString(data),
                principal @ ..,
            ] => {
                // An anonymous session's absent principal: no element or a nil (how
                // Redis ends a Lua array whose last element is nil varies).
                let principal = match principal {
                    [] | [Value::Nil] => None,
                    [Value::BulkString(p)] => Some(p.clone()),
                    _ => return Err(corrupt()),
                };
                let sid = parse_sid(sid).ok_or_else(corrupt)?;
                let rec = Record::parse(
                    sid,
                    Fields {
                        head,
                        extra,
                        // The token key names the session whose token it is (a
                        // rotated-out one is a tombstone): its digest is the one looked up.
                        token: digest.as_bytes(),
                        last_seen,
                        data: data.clone(),
                        principal,
                        referenced: false,
                    },
                )?;
                Ok(Found::Live(rec, *kind == 3))
            }
            _ => Err(corrupt()),
        }
    }

    fn read_records(&self, sids: &[u64]) -> Result<Vec<Option<Record>>, Error> {
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for &sid in sids {
            pipe.cmd("HMGET")
                .arg(self.keys.record(sid))
                .arg(&record::FIELDS[..]);
        }
        let all: Vec<Vec<Option<Vec<u8>>>> = self.call(|c| pipe.query(c))?;
        sids.iter()
            .zip(all)
            .map(|(&sid, mut fields)| {
                if fields.iter().all(Option::is_none) {
                    return Ok(None);
                }
                let referenced = fields.pop().ok_or_else(corrupt)?.is_some();
                let principal = fields.pop().ok_or_else(corrupt)?;
                let [
                    Some(head),
                    Some(extra),
                    Some(token),
                    Some(last_seen),
                    Some(data),
                ] = <[Option<Vec<u8>>; 5]>::try_from(fields).map_err(|_| corrupt())?
                else {
                    return Err(corrupt());
                };
                Record::parse(
                    sid,
                    Fields {
                        head: &head,
                        extra: &extra,
                        token: &token,
                        last_seen: &last_seen,
                        data,
                        principal,
                        referenced,
                    },
                )
                .map(Some)
            })
            .collect()
    }

    fn read_record(&self, sid: u64) -> Result<Option<Record>, Error> {
        Ok(self.read_records(&[sid])?.pop().flatten())
    }

    fn read_meta(&self) -> Result<Meta, Error> {
        let v: Vec<Option<i64>> = self.call(|c| {
            redis::cmd("HMGET")
                .arg(self.keys.meta())
                .arg(&META_FIELDS[..])
                .query(c)
        })?;
        let m = |i: usize| v.get(i).copied().flatten().unwrap_or(0);
        Ok(Meta {
            live: m(0),
            blocks: m(3),
            pressure: m(4),
        })
    }

    /// A principal's list: its version ('' when it has none) and its sessions in order
    /// of login.
    fn read_principal(&self, pkey: &str) -> Result<(Vec<u8>, Vec<u64>), Error> {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            self.call(|c| redis::cmd("HGETALL").arg(pkey).query(c))?;
        let mut version = Vec::new();
        let mut members = Vec::new();
        for (k, v) in pairs {
            if k == b"v" {
                version = v;
            } else {
                let sid = parse_sid(&k).ok_or_else(corrupt)?;
                let seq: u64 = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(corrupt)?;
                members.push((seq, sid));
            }
        }
        members.sort_unstable();
        Ok((version, members.into_iter().map(|(_, s)| s).collect()))
    }

    fn zrange(&self, key: &str, from: usize, count: usize) -> Result<Vec<u64>, Error> {
        let ids: Vec<Vec<u8>> = self.call(|c| {
            redis::cmd("ZRANGE")
                .arg(key)
                .arg(from)
                .arg(from + count - 1)
                .query(c)
        })?;
        ids.iter()
            .map(|s| parse_sid(s).ok_or_else(corrupt))
            .collect()
    }

    /// Sessions whose deadline hint is at most `now`, from the `from`th on.
    fn due(&self, now: u64, from: usize, count: usize) -> Result<Vec<u64>, Error> {
        let ids: Vec<Vec<u8>> = self.call(|c| {
            redis::cmd("ZRANGEBYSCORE")
                .arg(self.keys.deadlines())
                .arg("-inf")
                .arg(now.min(1 << 53))
                .arg("LIMIT")
                .arg(from)
                .arg(count)
                .query(c)
        })?;
        ids.iter()
            .map(|s| parse_sid(s).ok_or_else(corrupt))
            .collect()
    }

    // ------------------------------------------------------------------ plans

    /// End a session: its record goes, its token becomes a tombstone (kept or churn,
    /// [`rules::keep_tombstone`]) with a TTL, every list forgets it, the counters move,
    /// and the event [`rules::end_event`] names is raised.
    fn end(&self, plan: &mut Plan, rec: &Record, why: Invalid, now: u64) {
        if !plan.ended.insert(rec.sid) {
            return;
        }
        let rkey = self.keys.record(rec.sid);
        plan.guard(&rkey, Guard::Eq(record::EXTRA, rec.extra_text()));
        if matches!(why, Invalid::Expired(_)) {
            // A touch moves no version; one after this was read would make it live.
            plan.guard(
                &rkey,
                Guard::Eq(record::LAST_SEEN, record::last_seen_text(rec.last_seen)),
            );
        }
        plan.cmd("DEL", &rkey, vec![]);
        self.bury(plan, rec.sid, &rec.token, why, rec.authenticated());
        let sid = sid_hex(rec.sid).into_bytes();
        let meta = self.keys.meta();
        match &rec.principal {
            None => {
                plan.cmd("ZREM", &self.keys.anon(), vec![sid.clone()]);
                plan.hincr(&meta, "anon", -1);
            }
            Some(p) => {
                let pkey = self.keys.principal(&self.keys.principal_digest(p));
                plan.cmd("HLEAVE", &pkey, vec![sid.clone()]);
                plan.hincr(&meta, "auth", -1);
            }
        }
        plan.cmd("ZREM", &self.keys.deadlines(), vec![sid]);
        plan.hincr(&meta, "live", -1);
        let b = rec.blocks();
        plan.hincr(&meta, "blocks", -(b as i64));
        plan.freed_blocks += b;
        match why {
            Invalid::Expired(_) => plan.hincr(&meta, "expirations", 1),
            Invalid::Evicted => plan.hincr(&meta, "evictions", 1),
            Invalid::Revoked => plan.hincr(&meta, "revocations", 1),
            _ => {}
        }
        if let Some(kind) = rules::end_event(why) {
            plan.event(kind, self.keys.tag(rec.sid), now);
        }
    }

    /// Turn a token key into a tombstone: its session and how it died, remembered for
    /// the TTL (one SET with PX); kept ones by time alone, churn ones also within the
    /// churn share.
    fn bury(&self, plan: &mut Plan, sid: u64, digest: &str, why: Invalid, authenticated: bool) {
        let tkey = self.keys.token(digest);
        let ttl = self.tombstone_ttl_ms.to_string().into_bytes();
        let dead = format!("{}{}", sid_hex(sid), death_code(why)).into_bytes();
        plan.cmd("SET", &tkey, vec![dead, b"PX".to_vec(), ttl.clone()]);
        if rules::keep_tombstone(why, authenticated) {
            plan.cmd("KEPT", &self.keys.kept(), vec![digest.into(), ttl]);
        } else {
            let churn = self.keys.churn();
            plan.cmd("ZSEQ", &churn, vec![digest.into()]);
            plan.cmd(
                "TRIM",
                &churn,
                vec![
                    self.churn.to_string().into_bytes(),
                    self.keys.token_prefix().into_bytes(),
                ],
            );
        }
    }

    /// A session ended on the way to an answer: revoked, or expired when past its
    /// deadline (not live any more, swept or not); true when it was revoked.
    fn end_live(&self, plan: &mut Plan, rec: &Record, now: u64) -> bool {
        if rec.deadline() <= now {
            self.end(plan, rec, rec.expired(), now);
            false
        } else {
            self.end(plan, rec, Invalid::Revoked, now);
            true
        }
    }

    /// Give the session in `rec` a new token; the old one becomes a tombstone. The
    /// record's `t` and `ep` are written by the caller with its other fields.
    fn rekey(&mut self, plan: &mut Plan, rec: &mut Record) -> Token {
        let (token, digest, _) = self.draw_token();
        let tkey = self.keys.token(&digest);
        plan.guard(&tkey, Guard::Absent);
        plan.cmd("SET", &tkey, vec![sid_hex(rec.sid).into_bytes()]);
        self.bury(
            plan,
            rec.sid,
            &rec.token,
            Invalid::RotatedOut,
            rec.authenticated(),
        );
        rec.token = digest;
        rec.epoch = rules::next_epoch(rec.epoch);
        token
    }

    /// Find the live session a token names. One found past its deadline ends now; a
    /// dead token is answered from its tombstone, raising what [`rules::reuse`] says.
    /// With `touch`, a live session is marked used in the same round trip when nothing
    /// else about it changes (`true` then).
    fn resolve(
        &mut self,
        plan: &mut Plan,
        token: &[u8],
        now: u64,
        touch: Option<(Option<u32>, Option<u32>)>,
    ) -> Result<Result<(Record, bool), Invalid>, Error> {
        let Some(digest) = self.digest_of(token) else {
            return Ok(Err(Invalid::Malformed));
        };
        match self.lookup(&digest, touch.map(|(ip, ua)| (now, ip, ua)))? {
            Found::Nothing => Ok(Err(Invalid::Unknown)),
            Found::Dead(sid, why) => {
                let reuse = rules::reuse(why, self.config.rotated_reuse);
                if let Some(kind) = reuse.event {
                    plan.event(kind, self.keys.tag(sid), now);
                }
                if reuse.revoke_successor
                    && let Some(rec) = self.read_record(sid)?
                {
                    self.end(plan, &rec, Invalid::Revoked, now);
                }
                Ok(Err(why))
            }
            Found::Live(rec, touched) => {
                if now >= rec.deadline() {
                    let why = rec.expired();
                    self.end(plan, &rec, why, now);
                    return Ok(Err(why));
                }
                Ok(Ok((rec, touched)))
            }
        }
    }

    /// The session behind a handle if it is live at `now`; one past its deadline ends
    /// now as expired, with that error.
    fn live_at(&self, plan: &mut Plan, handle: SessionRef, now: u64) -> Result<Record, Error> {
        let rec = self
            .read_record(handle.to_u64())?
            .ok_or(Error::StaleHandle)?;
        if rec.deadline() <= now {
            let why = rec.expired();
            self.end(plan, &rec, why, now);
            return Err(Error::Session(why));
        }
        Ok(rec)
    }

    /// End, in `plan`, every session whose deadline has passed among the next `count`
    /// candidates from the deadline set (others get their true deadline back); how
    /// many ended, and whether there may be more.
    fn sweep_into(&self, plan: &mut Plan, now: u64, count: usize) -> Result<(usize, bool), Error> {
        let mut ended = 0;
        let mut from = 0;
        loop {
            let sids = self.due(now, from, BATCH.min(count - from))?;
            let more = sids.len() == BATCH.min(count - from);
            from += sids.len();
            let deadlines = self.keys.deadlines();
            let mut recs: Vec<Record> = Vec::new();
            for (sid, rec) in sids.iter().zip(self.read_records(&sids)?) {
                match rec {
                    // Ended meanwhile: its entry goes too.
                    None => plan.cmd("ZREM", &deadlines, vec![sid_hex(*sid).into_bytes()]),
                    Some(r) => recs.push(r),
                }
            }
            // The earliest deadline first, as the table's wheel reclaims them.
            recs.sort_by_key(|r| (r.deadline(), r.created));
            for r in recs {
                if plan.ended.contains(&r.sid) {
                    continue;
                }
                if r.deadline() <= now {
                    self.end(plan, &r, r.expired(), now);
                    ended += 1;
                } else {
                    let sid = sid_hex(r.sid).into_bytes();
                    let hint = r.hint().to_string().into_bytes();
                    plan.cmd("ZADD", &deadlines, vec![b"XX".to_vec(), hint, sid]);
                }
            }
            if !more || from >= count {
                return Ok((ended, more));
            }
        }
    }

    /// End the anonymous session CLOCK takes (evicted), other than `except`, as the
    /// in-process table's hand does ([`rules::clock_takes`]): from the head of the
    /// anonymous list (in order of creation or of the hand's last pass), a referenced
    /// session loses its bit and goes to the tail, as `except` does with its bit; false
    /// if there is no other. Only this list is searched, so no logged-in session is ever
    /// evicted for an anonymous one (one that logged in since the list was read is left).
    /// The hand's writes need no guard (HDEL and ZADD XX recreate nothing a concurrent end
    /// removed); a touch that lands between its read and its commit may lose its bit,
    /// one second chance fewer (CLOCK stays an approximation, as in the table).
    fn evict_anonymous(
        &self,
        plan: &mut Plan,
        now: u64,
        except: Option<u64>,
    ) -> Result<bool, Error> {
        let anon = self.keys.anon();
        // The stored list less what this plan ended or moved, read a page at a time;
        // after it, the ones this plan moved to the tail (`plan.hand_tail`).
        let mut head: VecDeque<Record> = VecDeque::new();
        let mut from = 0;
        let mut stored_done = false;
        let mut passed = 0;
        loop {
            while head.is_empty() && !stored_done {
                let sids = self.zrange(&anon, from, 8)?;
                stored_done = sids.len() < 8;
                from += sids.len();
                let wanted: Vec<u64> = sids
                    .into_iter()
                    .filter(|s| !plan.ended.contains(s) && !plan.hand_moved.contains(s))
                    .collect();
                head.extend(
                    self.read_records(&wanted)?
                        .into_iter()
                        .flatten()
                        .filter(|r| !r.authenticated()),
                );
            }
            let Some(mut rec) = head.pop_front().or_else(|| plan.hand_tail.pop_front()) else {
                return Ok(false);
            };
            if plan.ended.contains(&rec.sid) {
                continue;
            }
            let sid = sid_hex(rec.sid).into_bytes();
            if Some(rec.sid) == except {
                let alone = head.is_empty()
                    && stored_done
                    && plan.hand_tail.iter().all(|r| plan.ended.contains(&r.sid));
                if alone {
                    if plan.hand_moved.contains(&rec.sid) {
                        plan.hand_tail.push_front(rec);
                    }
                    return Ok(false);
                }
            } else if rules::clock_takes(rec.referenced, passed) {
                self.end(plan, &rec, Invalid::Evicted, now);
                return Ok(true);
            } else {
                passed += 1;
                rec.referenced = false;
                let rkey = self.keys.record(rec.sid);
                plan.cmd("HDEL", &rkey, vec![record::REFERENCED.into()]);
            }
            plan.cmd("ZBACK", &anon, vec![sid]);
            plan.hand_moved.insert(rec.sid);
            plan.hand_tail.push_back(rec);
        }
    }

    /// Room in the payload pool for `need` blocks where `have` are held: when the pool
    /// is full, expired sessions are reclaimed once, then the anonymous sessions other
    /// than `except` that CLOCK takes are evicted until the bytes fit (as the table). The plan's guard keeps the pool within its size whatever lands first.
    fn room(
        &self,
        plan: &mut Plan,
        except: u64,
        have: u64,
        need: u64,
        now: u64,
    ) -> Result<(), Error> {
        if need <= have {
            return Ok(());
        }
        let meta = self.read_meta()?;
        let total = self.pool_blocks as i64;
        let mut made_room = false;
        let mut swept = false;
        loop {
            let used = meta.blocks - plan.freed_blocks as i64;
            if need as i64 <= have as i64 + total - used {
                let mkey = self.keys.meta();
                if made_room {
                    // Sessions were ended for this room: only if the pool is as read.
                    plan.guard(&mkey, Guard::Num("blocks", meta.blocks));
                } else {
                    let most = total + have as i64 + plan.freed_blocks as i64 - need as i64;
                    plan.guard(&mkey, Guard::Le("blocks", most));
                }
                return Ok(());
            }
            made_room = true;
            if !swept {
                swept = true;
                self.sweep_into(plan, now, usize::MAX)?;
                continue;
            }
            if !self.evict_anonymous(plan, now, Some(except))? {
                plan.guard(&self.keys.meta(), Guard::Num("blocks", meta.blocks));
                return Err(Error::PoolExhausted);
            }
        }
    }

    /// Write `data` as `rec`'s new payload: refused over `max_payload`, room made in the
    /// pool first (`room`), and the epoch moves, so a save prepared before this write
    /// never lands over it.
    fn write_payload(
        &self,
        plan: &mut Plan,
        rec: &Record,
        data: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        if data.len() > self.config.max_payload as usize {
            return Err(Error::PayloadTooLarge);
        }
        self.room(
            plan,
            rec.sid,
            blocks(rec.data.len()),
            blocks(data.len()),
            now,
        )?;
        let rkey = self.keys.record(rec.sid);
        if self.versioned {
            // Only the payload and x (the epoch and the version move): a save's write.
            plan.guard(&rkey, Guard::Eq(record::EXTRA, rec.extra_text()));
            let extra = rec.extra(
                rules::next_epoch(rec.epoch),
                record::next_version(rec.version),
            );
            plan.hset(
                &rkey,
                vec![(record::DATA, data.to_vec()), (record::EXTRA, extra)],
            );
        } else {
            plan.hset(&rkey, vec![(record::DATA, data.to_vec())]);
        }
        let delta = blocks(data.len()) as i64 - blocks(rec.data.len()) as i64;
        plan.hincr(&self.keys.meta(), "blocks", delta);
        Ok(())
    }
}

impl Store for RedisStore {
    type Payload<'a> = std::option::IntoIter<&'a [u8]>;
    type SessionsOf<'a> = std::vec::IntoIter<Session>;

    fn config(&self) -> &Config {
        &self.config
    }

    fn create(&mut self, now: u64, client: &Client<'_>) -> Result<(Token, Session), Error> {
        self.check_fork()?;
        let now = self.tick(now);
        let (ip, ua) = self.client_digests(client);
        let cap = i64::from(self.config.capacity);
        self.run(|s, plan| {
            let meta = s.read_meta()?;
            let mkey = s.keys.meta();
            if meta.live >= cap {
                // Raised when the table first fills, and again each time a table's worth
                // of creates has met a full one.
                if meta.pressure == 0 {
                    plan.event(EventKind::CapacityPressure, 0, now);
                }
                plan.guard(&mkey, Guard::Num("pressure", meta.pressure));
                plan.guard(&mkey, Guard::Num("live", meta.live));
                let next = (meta.pressure + 1) % cap;
                plan.hset(&mkey, vec![("pressure", next.to_string().into_bytes())]);
                s.sweep_into(plan, now, usize::MAX)?;
                while meta.live - plan.ended.len() as i64 >= cap {
                    if !s.evict_anonymous(plan, now, None)? {
                        return Err(Error::CapacityExhausted);
                    }
                }
            } else {
                plan.guard(&mkey, Guard::Le("live", cap - 1));
                if meta.pressure != 0 {
                    plan.hset(&mkey, vec![("pressure", b"0".to_vec())]);
                }
            }
            let (token, digest, sid) = s.draw_token();
            let rec = Record::new(
                sid,
                digest,
                now,
                s.config.idle_timeout_ms,
                s.config.absolute_timeout_ms,
                ip.unwrap_or(0),
                ua.unwrap_or(0),
            );
            let rkey = s.keys.record(sid);
            let tkey = s.keys.token(&rec.token);
            plan.guard(&rkey, Guard::Absent);
            plan.guard(&tkey, Guard::Absent);
            plan.hset(&rkey, rec.all_fields());
            plan.cmd("SET", &tkey, vec![sid_hex(sid).into_bytes()]);
            let id = sid_hex(sid).into_bytes();
            plan.cmd("ZSEQ", &s.keys.anon(), vec![id.clone()]);
            plan.cmd(
                "ZADD",
                &s.keys.deadlines(),
                vec![rec.hint().to_string().into_bytes(), id],
            );
            plan.hincr(&mkey, "live", 1);
            plan.hincr(&mkey, "anon", 1);
            plan.hincr(&mkey, "created", 1);
            plan.event(EventKind::Created, s.keys.tag(sid), now);
            Ok((token, rec.session(&s.keys)))
        })
    }

    fn validate(&mut self, token: &[u8], now: u64, client: &Client<'_>) -> Result<Session, Error> {
        let now = self.tick(now);
        let (ip, ua) = self.client_digests(client);
        let max_addresses = self.config.max_addresses;
        let (session, rec) = self.run(|s, plan| {
            let (rec, touched) = match s.resolve(plan, token, now, Some((ip, ua)))? {
                Ok(found) => found,
                Err(why) => return Err(Error::Session(why)),
            };
            if touched {
                return Ok((rec.session(&s.keys), rec));
            }
            // The client moved (or the times are past what the script compares):
            // the core's client rule, then the bookkeeping, under the record's version.
            let tag = s.keys.tag(rec.sid);
            let check = rules::client_check(&s.config, (rec.ip, rec.ua), (ip, ua));
            if check.ip_moved {
                plan.event(EventKind::AddressChanged, tag, now);
            }
            if check.ua_moved {
                plan.event(EventKind::UserAgentChanged, tag, now);
            }
            if check.reject {
                return Err(Error::Session(Invalid::ClientMismatch));
            }
            let mut new = rec.clone();
            if let Some(d) = ip
                && new.note_address(d, max_addresses)
            {
                plan.event(EventKind::TooManyAddresses, tag, now);
            }
            if let Some(d) = ua {
                new.ua = d;
            }
            new.last_seen = rec.last_seen.max(now);
            let rkey = s.keys.record(rec.sid);
            let mut more = Vec::new();
            if !rec.authenticated() {
                // Used: the eviction's hand passes it once more (as the touch marks it).
                more.push((record::REFERENCED, b"1".to_vec()));
                new.referenced = true;
            }
            update(plan, &rkey, &rec, &mut new, more);
            plan.cmd(
                "HMAX",
                &rkey,
                vec![record::LAST_SEEN.into(), record::last_seen_text(now)],
            );
            Ok((new.session(&s.keys), new))
        })?;
        self.loaded = Some(rec);
        Ok(session)
    }

    fn peek(&mut self, token: &[u8], now: u64) -> Result<Session, Error> {
        let now = now.max(self.clock);
        let Some(digest) = self.digest_of(token) else {
            return Err(Error::Session(Invalid::Malformed));
        };
        match self.lookup(&digest, None)? {
            Found::Nothing => Err(Error::Session(Invalid::Unknown)),
            Found::Dead(_, why) => Err(Error::Session(why)),
            Found::Live(rec, _) if now < rec.deadline() => Ok(rec.session(&self.keys)),
            Found::Live(rec, _) => Err(Error::Session(rec.expired())),
        }
    }

    fn end_duplicate(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        let now = self.tick(now);
        let Some(digest) = self.digest_of(token) else {
            return Ok(());
        };
        self.run(|s, plan| {
            if let Found::Live(rec, _) = s.lookup(&digest, None)?
                && now < rec.deadline()
            {
                plan.event(EventKind::DuplicateCookie, s.keys.tag(rec.sid), now);
                s.end(plan, &rec, Invalid::Revoked, now);
            }
            Ok(())
        })
    }

    fn login(
        &mut self,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        self.check_fork()?;
        let now = self.tick(now);
        if Principal::new(principal).is_none() {
            return Err(Error::InvalidPrincipal);
        }
        let pkey = self.keys.principal(&self.keys.principal_digest(principal));
        self.run(|s, plan| {
            let rec = match s.resolve(plan, token, now, None)? {
                Ok((rec, _)) => rec,
                Err(why) => return Err(Error::Session(why)),
            };
            let rkey = s.keys.record(rec.sid);
            let mkey = s.keys.meta();
            let mut new = rec.clone();
            let mut fields = Vec::new();
            if rec.principal.as_deref() != Some(principal) {
                let cap = s.config.max_sessions_per_principal > 0;
                let mut members: Vec<Record> = Vec::new();
                if cap {
                    // Sessions past their deadline (not yet swept) are dead: they neither
                    // count against the cap nor get evicted for it; they end as expired.
                    let (version, sids) = s.read_principal(&pkey)?;
                    plan.guard(&pkey, Guard::Eq("v", version));
                    for m in s.read_records(&sids)?.into_iter().flatten() {
                        if m.deadline() <= now {
                            s.end(plan, &m, m.expired(), now);
                        } else {
                            members.push(m);
                        }
                    }
                    if rules::login_room(&s.config, members.len()) == LoginRoom::Refuse {
                        return Err(Error::PrincipalLimit);
                    }
                }
                let have = blocks(rec.principal.as_ref().map_or(0, Vec::len));
                let need = blocks(principal.len());
                s.room(plan, rec.sid, have, need, now)?;
                if cap {
                    while rules::login_room(&s.config, members.len())
                        == LoginRoom::EvictLeastRecentlyUsed
                    {
                        // The least recently used; the earlier to log in on a tie.
                        let mut lru = 0;
                        for (i, m) in members.iter().enumerate() {
                            if m.last_seen < members[lru].last_seen {
                                lru = i;
                            }
                        }
                        let victim = members.remove(lru);
                        s.end(plan, &victim, Invalid::Evicted, now);
                    }
                }
                let id = sid_hex(rec.sid).into_bytes();
                match &rec.principal {
                    None => {
                        plan.cmd("ZREM", &s.keys.anon(), vec![id.clone()]);
                        plan.hincr(&mkey, "anon", -1);
                        plan.hincr(&mkey, "auth", 1);
                    }
                    Some(old) => {
                        let okey = s.keys.principal(&s.keys.principal_digest(old));
                        plan.cmd("HLEAVE", &okey, vec![id.clone()]);
                    }
                }
                plan.cmd("HJOIN", &pkey, vec![id]);
                plan.hincr(&mkey, "blocks", need as i64 - have as i64);
                new.principal = Some(principal.to_vec());
                fields.push((record::PRINCIPAL, principal.to_vec()));
            }
            // The absolute timer restarts at login.
            new.created = now;
            new.last_seen = now;
            let t = s.rekey(plan, &mut new);
            fields.push((record::LAST_SEEN, record::last_seen_text(now)));
            update(plan, &rkey, &rec, &mut new, fields);
            plan.cmd(
                "ZADD",
                &s.keys.deadlines(),
                vec![
                    new.hint().to_string().into_bytes(),
                    sid_hex(rec.sid).into_bytes(),
                ],
            );
            plan.event(EventKind::LoggedIn, s.keys.tag(rec.sid), now);
            Ok((t, new.session(&s.keys)))
        })
    }

    fn rotate(&mut self, token: &[u8], now: u64) -> Result<(Token, Session), Error> {
        self.check_fork()?;
        let now = self.tick(now);
        self.run(|s, plan| {
            let rec = match s.resolve(plan, token, now, None)? {
                Ok((rec, _)) => rec,
                Err(why) => return Err(Error::Session(why)),
            };
            let mut new = rec.clone();
            let t = s.rekey(plan, &mut new);
            let rkey = s.keys.record(rec.sid);
            update(plan, &rkey, &rec, &mut new, Vec::new());
            plan.event(EventKind::Rotated, s.keys.tag(rec.sid), now);
            Ok((t, new.session(&s.keys)))
        })
    }

    fn logout(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        let now = self.tick(now);
        self.run(|s, plan| match s.resolve(plan, token, now, None)? {
            Ok((rec, _)) => {
                s.end(plan, &rec, Invalid::LoggedOut, now);
                Ok(())
            }
            Err(why) => Err(Error::Session(why)),
        })
    }

    fn revoke(&mut self, handle: SessionRef, now: u64) -> Result<(), Error> {
        let now = self.tick(now);
        self.run(|s, plan| {
            let rec = s.live_at(plan, handle, now)?;
            s.end(plan, &rec, Invalid::Revoked, now);
            Ok(())
        })
    }

    fn revoke_principal(&mut self, principal: &[u8], now: u64) -> Result<usize, Error> {
        let now = self.tick(now);
        if Principal::new(principal).is_none() {
            return Ok(0);
        }
        let pkey = self.keys.principal(&self.keys.principal_digest(principal));
        self.run(|s, plan| {
            // No guard on the user's list: each session read is ended under its record's
            // version, and leaves the list one field at a time (HLEAVE), so a login that
            // lands meanwhile neither fails this commit (a user logging in again and
            // again cannot keep "log out everywhere" from landing) nor drops from the list;
            // it began after the list was read, and the next call ends it.
            let (_, sids) = s.read_principal(&pkey)?;
            let mut n = 0;
            for rec in s.read_records(&sids)?.into_iter().flatten() {
                n += usize::from(s.end_live(plan, &rec, now));
            }
            Ok(n)
        })
    }

    fn revoke_all(&mut self, now: u64) -> Result<usize, Error> {
        let now = self.tick(now);
        let mut n = 0;
        loop {
            let (revoked, more) = self.run(|s, plan| {
                let sids = s.zrange(&s.keys.deadlines(), 0, BATCH)?;
                let mut n = 0;
                for (sid, rec) in sids.iter().zip(s.read_records(&sids)?) {
                    match rec {
                        Some(rec) => n += usize::from(s.end_live(plan, &rec, now)),
                        None => plan.cmd("ZREM", &s.keys.deadlines(), vec![sid_hex(*sid).into()]),
                    }
                }
                Ok((n, sids.len() == BATCH))
            })?;
            n += revoked;
            if !more {
                return Ok(n);
            }
        }
    }

    fn sessions_of(&mut self, principal: &[u8], now: u64) -> Result<Self::SessionsOf<'_>, Error> {
        let now = self.tick(now);
        if Principal::new(principal).is_none() {
            return Ok(Vec::new().into_iter());
        }
        let pkey = self.keys.principal(&self.keys.principal_digest(principal));
        let (_, sids) = self.read_principal(&pkey)?;
        let list: Vec<Session> = self
            .read_records(&sids)?
            .into_iter()
            .flatten()
            .filter(|r| r.deadline() > now)
            .map(|r| r.session(&self.keys))
            .collect();
        Ok(list.into_iter())
    }

    fn session(&mut self, handle: SessionRef, now: u64) -> Result<Session, Error> {
        let now = self.tick(now);
        self.run(|s, plan| Ok(s.live_at(plan, handle, now)?.session(&s.keys)))
    }

    fn set_timeouts(
        &mut self,
        handle: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        let now = self.tick(now);
        let (max_idle, max_abs) = (
            self.config.max_idle_timeout_ms,
            self.config.max_absolute_timeout_ms,
        );
        self.run(|s, plan| {
            // A session already past its deadline (not yet swept) is dead: never extend it.
            let rec = s.live_at(plan, handle, now)?;
            let ok = |v: Option<u32>, max: u32| v.is_none_or(|v| rules::timeout_allowed(v, max));
            if !ok(idle_ms, max_idle) || !ok(absolute_ms, max_abs) {
                return Err(Error::InvalidTimeout);
            }
            let mut new = rec.clone();
            new.idle = idle_ms.unwrap_or(rec.idle);
            new.absolute = absolute_ms.unwrap_or(rec.absolute);
            if new.deadline() <= now {
                let why = new.expired();
                s.end(plan, &new, why, now);
                return Err(Error::Session(why));
            }
            let rkey = s.keys.record(rec.sid);
            update(plan, &rkey, &rec, &mut new, Vec::new());
            plan.cmd(
                "ZADD",
                &s.keys.deadlines(),
                vec![
                    new.hint().to_string().into_bytes(),
                    sid_hex(rec.sid).into_bytes(),
                ],
            );
            Ok(new.session(&s.keys))
        })
    }

    fn write(&mut self, handle: SessionRef, data: &[u8], now: u64) -> Result<(), Error> {
        let now = self.tick(now);
        self.run(|s, plan| {
            let rec = s.live_at(plan, handle, now)?;
            s.write_payload(plan, &rec, data, now)
        })
    }

    fn payload(&mut self, handle: SessionRef, now: u64) -> Result<Self::Payload<'_>, Error> {
        let loaded = self.loaded.take();
        let now = self.tick(now);
        let rec = match loaded {
            // Right after the validation that read it (the request seam's load).
            Some(rec) if rec.sid == handle.to_u64() && now < rec.deadline() => rec,
            _ => self.run(|s, plan| s.live_at(plan, handle, now))?,
        };
        self.payload.clone_from(&rec.data);
        self.recent = Some(rec);
        Ok(Some(&self.payload[..])
            .filter(|p| !p.is_empty())
            .into_iter())
    }

    fn read(&mut self, handle: SessionRef, out: &mut [u8], now: u64) -> Result<usize, Error> {
        let len = self.payload(handle, now)?.map(<[u8]>::len).sum::<usize>();
        if len > out.len() {
            return Err(Error::BufferTooSmall);
        }
        out[..len].copy_from_slice(&self.payload);
        Ok(len)
    }

    fn save(
        &mut self,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        let now = self.tick(now);
        let mut cached = self.cached_for_save(handle, now);
        self.run(|s, plan| s.decide_save(plan, &mut cached, handle, epoch, data, now))
    }

    fn sweep(&mut self, now: u64) -> Result<usize, Error> {
        let now = self.tick(now);
        let mut n = 0;
        loop {
            let (ended, more) = self.run(|s, plan| {
                let out = s.sweep_into(plan, now, BATCH)?;
                plan.cmd("PRUNE", &s.keys.kept(), vec![]);
                Ok(out)
            })?;
            n += ended;
            if !more {
                return Ok(n);
            }
        }
    }

    fn pop_event(&mut self) -> Option<Event> {
        self.ring.events.pop_front()
    }

    /// The shared counters (every process's sessions) and this process's events. When
    /// the store cannot answer, only the latter ([`RedisStore::try_stats`] says why).
    fn stats(&self) -> Stats {
        self.try_stats().unwrap_or_else(|_| self.local_stats())
    }
}
