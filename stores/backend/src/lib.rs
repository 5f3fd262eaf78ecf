//! # sessile-backend
//!
//! The store a binding serves from, chosen by config: this process's table (the
//! default, [`SharedEngine`]) or a Redis/Valkey server shared by every worker and host
//! ([`sessile_redis::RedisStore`]). Python, Node and C build a [`Backend`] from the same
//! keys ([`STORE_KEYS`], beside the core's [`sessile::vocabulary::KEYS`]) and call it
//! through the one [`Store`] seam, so the framework glue is the same over both.
//!
//! ```no_run
//! use sessile::{Client, Config, Store};
//! use sessile::vocabulary::Value;
//! use sessile_backend::{Backend, StoreOptions};
//!
//! let mut options = StoreOptions::default();
//! options.set("store", Value::Text("unix:///run/redis/redis.sock"))?;
//! options.set("store_key", Value::Text(&"5e".repeat(32)))?;
//! let backend = Backend::open(Config::default(), &options, None)?;
//! let now = backend.now_ms();
//! let (token, _) = backend.with(|s| s.create(now, &Client::NONE))?;
//! # Ok::<(), sessile::Error>(())
//! ```
//!
//! Time: the in-process table runs on this process's monotonic clock; a shared store on
//! the wall clock in Unix milliseconds, which every process and host compares (the clock
//! rule in `sessile_redis`'s docs). [`Backend::now_ms`] gives the right one.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use sessile::shared::{HeapEngine, SharedEngine, os_seed};
use sessile::vocabulary::{Key, Kind, Value};
use sessile::{
    Chunks, Client, Config, ConfigError, Error, Event, Saved, Session, SessionRef,
    SessionsOf as EngineSessionsOf, Stats, Store, Token,
};
use sessile_redis::RedisConfig;
use zeroize::Zeroize;

pub use sessile_redis::{PendingSave, RedisStore, SaveStep, Wire, WireAddr, unix_ms};

/// The store keys, in the order a binding documents them, after the core's. A binding
/// takes them beside the core's keys, with the same kinds and units (`_ms` keys in the
/// binding's unit of time).
pub const STORE_KEYS: &[Key] = &[
    Key {
        name: "store",
        kind: Kind::Text {
            max: 1024,
            optional: true,
        },
        doc: "Where sessions live: unset or `memory` for this process's table; a Redis or \
              Valkey URL (`redis://[user[:password]@]host[:port][/db]`, `rediss://...`, \
              `unix:///path/redis.sock[?db=N]`) for one store shared by every worker and host.",
    },
    Key {
        name: "store_key",
        kind: Kind::Text {
            max: 64,
            optional: true,
        },
        doc: "A shared store's deployment secret: 64 hex digits (32 random bytes), the same \
              in every process. Keys in the store are digests under it. Required with a URL.",
    },
    Key {
        name: "store_prefix",
        kind: Kind::Text {
            max: sessile_redis::MAX_PREFIX,
            optional: true,
        },
        doc: "Prefix of every key in a shared store (default `sessile`); deployments sharing \
              a server use distinct prefixes.",
    },
    Key {
        name: "store_connect_timeout_ms",
        kind: Kind::Millis {
            min: 1,
            max: 60_000,
        },
        doc: "Longest wait for a connection to a shared store (default 100 ms).",
    },
    Key {
        name: "store_response_timeout_ms",
        kind: Kind::Millis {
            min: 1,
            max: 60_000,
        },
        doc: "Longest wait for a shared store's answer (default 100 ms); slower is a \
              `store_timeout` error, never a valid session.",
    },
    Key {
        name: "store_tombstone_ttl_ms",
        kind: Kind::Millis {
            min: 1,
            max: u32::MAX as u64,
        },
        doc: "How long a shared store remembers a dead token, so its reuse is reported \
              (default: `max_absolute_timeout_ms`).",
    },
    Key {
        name: "store_tls_ca",
        kind: Kind::Text {
            max: 4096,
            optional: true,
        },
        doc: "For a `rediss://` store: the path of the PEM certificate of the authority that \
              signed the server's (default: the platform's trust store).",
    },
    Key {
        name: "store_event_stream",
        kind: Kind::Count {
            min: 1,
            max: 100_000_000,
        },
        doc: "Also append every security event to the shared store's stream `{prefix}:e`, \
              trimmed to about this many entries, for one collector across processes and \
              hosts (default: off; events reach the process that raised them in any case).",
    },
];

/// The store key named `name`.
pub fn store_key(name: &str) -> Option<&'static Key> {
    STORE_KEYS.iter().find(|k| k.name == name)
}

/// Where sessions live, as set by [`STORE_KEYS`].
#[derive(Clone, Default)]
pub struct StoreOptions {
    url: Option<String>,
    /// The URL as [`StoreOptions::get`] shows it: without its password.
    shown: Option<String>,
    key: Option<[u8; 32]>,
    prefix: Option<String>,
    connect_timeout_ms: Option<u64>,
    response_timeout_ms: Option<u64>,
    tombstone_ttl_ms: Option<u64>,
    event_stream: Option<u32>,
    tls_ca: Option<String>,
}

impl core::fmt::Debug for StoreOptions {
    /// Never prints the key, nor the URL (it may hold a password).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("shared", &self.url.is_some())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for StoreOptions {
    fn drop(&mut self) {
        if let Some(k) = &mut self.key {
            k.zeroize();
        }
    }
}

impl StoreOptions {
    /// Set one store key (`UnknownKey` for a name not in [`STORE_KEYS`], `BadValue`
    /// naming the key for a value it does not take). `Value::Unset` puts the default back.
    pub fn set(&mut self, name: &str, value: Value<'_>) -> Result<(), ConfigError> {
        let k = store_key(name).ok_or(ConfigError::UnknownKey)?;
        let bad = ConfigError::BadValue { key: k.name };
        let text = |v: Value<'_>| -> Result<Option<String>, ConfigError> {
            match (k.kind, v) {
                (_, Value::Unset) => Ok(None),
                (Kind::Text { max, .. }, Value::Text(t)) if !t.is_empty() && t.len() <= max => {
                    Ok(Some(t.to_owned()))
                }
                _ => Err(bad),
            }
        };
        let millis = |v: Value<'_>| -> Result<Option<u64>, ConfigError> {
            match (k.kind, v) {
                (_, Value::Unset) => Ok(None),
                (Kind::Millis { min, max }, Value::Int(n)) if (min..=max).contains(&n) => {
                    Ok(Some(n))
                }
                _ => Err(bad),
            }
        };
        match k.name {
            "store" => {
                self.shown = None;
                self.url = match text(value)? {
                    Some(u) if u == "memory" => None,
                    Some(u) => {
                        let scheme = u.split("://").next().unwrap_or("");
                        if !u.contains("://")
                            || !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix")
                        {
                            return Err(bad);
                        }
                        Some(u)
                    }
                    None => None,
                };
                self.shown = self.url.as_deref().map(redact);
            }
            "store_key" => {
                if let Some(k) = &mut self.key {
                    k.zeroize();
                }
                self.key = match text(value)? {
                    None => None,
                    Some(mut hex) => {
                        let key = parse_hex32(&hex).ok_or(bad);
                        hex.zeroize();
                        Some(key?)
                    }
                }
            }
            "store_prefix" => {
                let p = text(value)?;
                if let Some(p) = &p
                    && p.bytes().any(|b| {
                        b == b'{' || b == b'}' || b.is_ascii_whitespace() || b.is_ascii_control()
                    })
                {
                    return Err(bad);
                }
                self.prefix = p;
            }
            "store_event_stream" => {
                self.event_stream = match (k.kind, value) {
                    (_, Value::Unset) => None,
                    (Kind::Count { min, max }, Value::Int(n)) if (min..=max).contains(&n) => {
                        Some(n as u32)
                    }
                    _ => return Err(bad),
                }
            }
            "store_tls_ca" => self.tls_ca = text(value)?,
            "store_connect_timeout_ms" => self.connect_timeout_ms = millis(value)?,
            "store_response_timeout_ms" => self.response_timeout_ms = millis(value)?,
            _ => self.tombstone_ttl_ms = millis(value)?,
        }
        Ok(())
    }

    /// Set each `(name, value)` in order; the first error stops.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (&'a str, Value<'a>)>,
    ) -> Result<StoreOptions, ConfigError> {
        let mut o = StoreOptions::default();
        for (name, value) in entries {
            o.set(name, value)?;
        }
        Ok(o)
    }

    /// Whether sessions live in a shared store (a URL is set).
    pub fn is_shared(&self) -> bool {
        self.url.is_some()
    }

    /// A key's value as it is in effect, for a binding's `config` view (`Unset` for an
    /// unset text; the key never, only whether one is set: `Flag`).
    pub fn get(&self, name: &str) -> Option<Value<'_>> {
        let ms = |m: Option<u64>, default: u64| Value::Int(m.unwrap_or(default));
        Some(match store_key(name)?.name {
            "store" => Value::Text(self.shown.as_deref().unwrap_or("memory")),
            "store_key" => Value::Flag(self.key.is_some()),
            "store_prefix" => Value::Text(self.prefix.as_deref().unwrap_or(DEFAULT_PREFIX)),
            "store_connect_timeout_ms" => ms(self.connect_timeout_ms, DEFAULT_TIMEOUT_MS),
            "store_response_timeout_ms" => ms(self.response_timeout_ms, DEFAULT_TIMEOUT_MS),
            "store_event_stream" => self
                .event_stream
                .map_or(Value::Unset, |n| Value::Int(n.into())),
            _ => self.tombstone_ttl_ms.map_or(Value::Unset, Value::Int),
        })
    }

    /// The Redis side of the config, or `None` for the in-process table. Keys that only
    /// a shared store takes, set without a URL, are an error naming the key (never
    /// silently ignored), as is a URL without `store_key`.
    pub fn redis_config(&self) -> Result<Option<RedisConfig>, ConfigError> {
        let Some(url) = &self.url else {
            let stray = [
                ("store_key", self.key.is_some()),
                ("store_prefix", self.prefix.is_some()),
                (
                    "store_connect_timeout_ms",
                    self.connect_timeout_ms.is_some(),
                ),
                (
                    "store_response_timeout_ms",
                    self.response_timeout_ms.is_some(),
                ),
                ("store_tombstone_ttl_ms", self.tombstone_ttl_ms.is_some()),
                ("store_event_stream", self.event_stream.is_some()),
                ("store_tls_ca", self.tls_ca.is_some()),
            ];
            return match stray.iter().find(|(_, set)| *set) {
                Some(&(key, _)) => Err(ConfigError::BadValue { key }),
                None => Ok(None),
            };
        };
        let key = self.key.ok_or(ConfigError::BadValue { key: "store_key" })?;
        let mut c = RedisConfig::new(url, key);
        if let Some(p) = &self.prefix {
            c.prefix = p.clone();
        }
        if let Some(ms) = self.connect_timeout_ms {
            c.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = self.response_timeout_ms {
            c.response_timeout = Duration::from_millis(ms);
        }
        c.tombstone_ttl_ms = self.tombstone_ttl_ms;
        c.event_stream = self.event_stream;
        if let Some(path) = &self.tls_ca {
            let bad = ConfigError::BadValue {
                key: "store_tls_ca",
            };
            // Only for a TLS URL, and the file must hold a PEM certificate.
            if !url.starts_with("rediss://") {
                return Err(bad);
            }
            let pem = std::fs::read(path).map_err(|_| bad)?;
            if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                return Err(bad);
            }
            c.tls_ca = Some(pem);
        }
        Ok(Some(c))
    }
}

const DEFAULT_PREFIX: &str = "sessile";
const DEFAULT_TIMEOUT_MS: u64 = 100;

/// A URL as it may be shown: the password of `user:password@` (or `:password@`) and a
/// `pass=` / `password=` query parameter replaced by `***`; the rest (scheme, user, host,
/// port, database, socket path) kept, so a config view still says which server.
fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(s) = url.find("://") {
        let rest = &url[s + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            out = format!("{}{}:***{}", &url[..s + 3], &rest[..colon], &rest[at..]);
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k == "pass" || k == "password" => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    let b = hex.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Sessions in this process's table, or in a shared Redis/Valkey store; thread-safe (one
/// lock), fork-safe (a forked child reseeds, and a shared store's child connects anew).
// One per engine, built once and never moved by value on a hot path: its size is no cost.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    /// This process's table.
    Memory(SharedEngine),
    /// A store shared by every process and host that has the same URL, prefix and key.
    Redis(Mutex<RedisStore>),
}

impl Backend {
    /// The store `options` name, for sessions configured by `config`; `seed` fixes the
    /// token stream (tests and conformance vectors only). A shared store connects when
    /// first used: a server that is down now is no error here.
    pub fn open(
        config: Config,
        options: &StoreOptions,
        seed: Option<[u8; 32]>,
    ) -> Result<Backend, Error> {
        match options.redis_config().map_err(Error::Config)? {
            None => Ok(Backend::Memory(match seed {
                Some(seed) => SharedEngine::with_seed(config, seed)?,
                None => SharedEngine::new(config)?,
            })),
            Some(redis) => {
                let store = match seed {
                    Some(seed) => RedisStore::with_seed(config, &redis, seed)?,
                    None => RedisStore::new(config, &redis)?,
                };
                Ok(Backend::Redis(Mutex::new(store)))
            }
        }
    }

    /// The in-process table (engine-only calls: snapshot, restore), `None` for a shared
    /// store.
    pub fn memory(&self) -> Option<&SharedEngine> {
        match self {
            Backend::Memory(e) => Some(e),
            Backend::Redis(_) => None,
        }
    }

    /// The in-process table for a snapshot or restore: over a shared store, which keeps
    /// its sessions itself, the one error every binding reports for that
    /// (`SnapshotError::SharedStore`).
    pub fn table(&self) -> Result<&SharedEngine, Error> {
        self.memory()
            .ok_or(Error::Snapshot(sessile::SnapshotError::SharedStore))
    }

    /// Whether sessions live in a shared store.
    pub fn is_shared(&self) -> bool {
        matches!(self, Backend::Redis(_))
    }

    /// The `now` this backend's calls take: the engine's monotonic ms, or the wall
    /// clock's Unix ms for a shared store.
    pub fn now_ms(&self) -> u64 {
        match self {
            Backend::Memory(e) => e.now_ms(),
            Backend::Redis(_) => unix_ms(),
        }
    }

    /// Run `f` with the store locked.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut StoreMut<'_>) -> R) -> R {
        match self {
            Backend::Memory(e) => e.with(|e| f(&mut StoreMut::Memory(e))),
            Backend::Redis(m) => f(&mut StoreMut::Redis(&mut lock(m))),
        }
    }

    /// Run `f` on the Redis store (locked), `None` for the in-process table: for a
    /// binding that carries the store's bytes itself ([`sessile_redis::Wire`]).
    pub fn redis<R>(&self, f: impl FnOnce(&mut RedisStore) -> R) -> Option<R> {
        match self {
            Backend::Memory(_) => None,
            Backend::Redis(m) => Some(f(&mut lock(m))),
        }
    }

    /// Give the token generator a fresh seed from the OS (see [`SharedEngine::reseed`]).
    pub fn reseed(&self) -> Result<(), Error> {
        match self {
            Backend::Memory(e) => e.reseed(),
            Backend::Redis(m) => {
                let mut seed = os_seed()?;
                lock(m).reseed(seed);
                seed.zeroize();
                Ok(())
            }
        }
    }
}

fn lock(m: &Mutex<RedisStore>) -> MutexGuard<'_, RedisStore> {
    // A store keeps its invariants between operations (its writes are atomic scripts),
    // so a panic in a caller's closure leaves it usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One locked store, of either kind: what [`Backend::with`] hands out.
pub enum StoreMut<'a> {
    /// This process's table.
    Memory(&'a mut HeapEngine),
    /// A shared store.
    Redis(&'a mut RedisStore),
}

/// An iterator from either store.
pub enum Either<A, B> {
    /// The in-process table's.
    Memory(A),
    /// The shared store's.
    Redis(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Memory(a) => a.next(),
            Either::Redis(b) => b.next(),
        }
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            StoreMut::Memory($s) => $e,
            StoreMut::Redis($s) => $e,
        }
    };
}

impl Store for StoreMut<'_> {
    type Payload<'a>
        = Either<Chunks<'a>, <RedisStore as Store>::Payload<'a>>
    where
        Self: 'a;
    type SessionsOf<'a>
        = Either<EngineSessionsOf<'a>, <RedisStore as Store>::SessionsOf<'a>>
    where
        Self: 'a;

    fn config(&self) -> &Config {
        both!(self, s => Store::config(&**s))
    }
    fn create(&mut self, now: u64, client: &Client<'_>) -> Result<(Token, Session), Error> {
        both!(self, s => Store::create(*s, now, client))
    }
    fn validate(&mut self, token: &[u8], now: u64, client: &Client<'_>) -> Result<Session, Error> {
        both!(self, s => Store::validate(*s, token, now, client))
    }
    fn peek(&mut self, token: &[u8], now: u64) -> Result<Session, Error> {
        both!(self, s => Store::peek(*s, token, now))
    }
    fn is_live(&mut self, token: &[u8], now: u64) -> Result<bool, Error> {
        both!(self, s => Store::is_live(*s, token, now))
    }
    fn end_duplicate(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        both!(self, s => Store::end_duplicate(*s, token, now))
    }
    fn login(
        &mut self,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        both!(self, s => Store::login(*s, token, principal, now))
    }
    fn rotate(&mut self, token: &[u8], now: u64) -> Result<(Token, Session), Error> {
        both!(self, s => Store::rotate(*s, token, now))
    }
    fn logout(&mut self, token: &[u8], now: u64) -> Result<(), Error> {
        both!(self, s => Store::logout(*s, token, now))
    }
    fn revoke(&mut self, handle: SessionRef, now: u64) -> Result<(), Error> {
        both!(self, s => Store::revoke(*s, handle, now))
    }
    fn revoke_principal(&mut self, principal: &[u8], now: u64) -> Result<usize, Error> {
        both!(self, s => Store::revoke_principal(*s, principal, now))
    }
    fn revoke_all(&mut self, now: u64) -> Result<usize, Error> {
        both!(self, s => Store::revoke_all(*s, now))
    }
    fn sessions_of(&mut self, principal: &[u8], now: u64) -> Result<Self::SessionsOf<'_>, Error> {
        match self {
            StoreMut::Memory(s) => Store::sessions_of(*s, principal, now).map(Either::Memory),
            StoreMut::Redis(s) => Store::sessions_of(*s, principal, now).map(Either::Redis),
        }
    }
    fn session(&mut self, handle: SessionRef, now: u64) -> Result<Session, Error> {
        both!(self, s => Store::session(*s, handle, now))
    }
    fn set_timeouts(
        &mut self,
        handle: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        both!(self, s => Store::set_timeouts(*s, handle, idle_ms, absolute_ms, now))
    }
    fn write(&mut self, handle: SessionRef, data: &[u8], now: u64) -> Result<(), Error> {
        both!(self, s => Store::write(*s, handle, data, now))
    }
    fn payload(&mut self, handle: SessionRef, now: u64) -> Result<Self::Payload<'_>, Error> {
        match self {
            StoreMut::Memory(s) => Store::payload(*s, handle, now).map(Either::Memory),
            StoreMut::Redis(s) => Store::payload(*s, handle, now).map(Either::Redis),
        }
    }
    fn read(&mut self, handle: SessionRef, out: &mut [u8], now: u64) -> Result<usize, Error> {
        both!(self, s => Store::read(*s, handle, out, now))
    }
    fn save(
        &mut self,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        both!(self, s => Store::save(*s, handle, epoch, data, now))
    }
    fn sweep(&mut self, now: u64) -> Result<usize, Error> {
        both!(self, s => Store::sweep(*s, now))
    }
    fn pop_event(&mut self) -> Option<Event> {
        both!(self, s => Store::pop_event(*s))
    }
    fn stats(&self) -> Stats {
        both!(self, s => Store::stats(&**s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_the_default_and_serves_through_the_seam() {
        let b = Backend::open(Config::default(), &StoreOptions::default(), Some([1; 32])).unwrap();
        assert!(!b.is_shared());
        assert!(b.table().is_ok());
        let now = b.now_ms();
        let (token, _) = b.with(|s| s.create(now, &Client::NONE)).unwrap();
        let header = format!("__Host-sid={}", token.as_str());
        let loaded = b.with(|s| {
            s.load_cookie(header.as_bytes(), now, &Client::NONE)
                .map(|l| l.is_some())
        });
        assert_eq!(loaded, Ok(true));
    }

    #[test]
    fn options_refuse_what_they_cannot_use_naming_the_key() {
        let bad = |key| Err(ConfigError::BadValue { key });
        let mut o = StoreOptions::default();
        assert_eq!(o.set("store", Value::Text("localhost:6379")), bad("store"));
        assert_eq!(o.set("store", Value::Text("http://x")), bad("store"));
        assert_eq!(o.set("store", Value::Int(3)), bad("store"));
        assert_eq!(o.set("store_key", Value::Text("abc")), bad("store_key"));
        assert_eq!(
            o.set("store_key", Value::Text(&"zz".repeat(32))),
            bad("store_key")
        );
        assert_eq!(
            o.set("store_prefix", Value::Text("a{b}")),
            bad("store_prefix")
        );
        assert_eq!(
            o.set("store_response_timeout_ms", Value::Int(0)),
            bad("store_response_timeout_ms")
        );
        assert_eq!(
            o.set("store_event_stream", Value::Int(0)),
            bad("store_event_stream")
        );
        assert_eq!(o.set("stor", Value::Unset), Err(ConfigError::UnknownKey));
        // A store key without a URL is a mistake, not something to ignore.
        o.set("store_key", Value::Text(&"ab".repeat(32))).unwrap();
        assert_eq!(
            o.redis_config().map(|c| c.is_some()),
            Err(ConfigError::BadValue { key: "store_key" })
        );
        // A URL without a key: the key is required.
        let mut o = StoreOptions::default();
        o.set("store", Value::Text("redis://127.0.0.1:1/0"))
            .unwrap();
        assert_eq!(
            o.redis_config().map(|c| c.is_some()),
            Err(ConfigError::BadValue { key: "store_key" })
        );
        o.set("store_key", Value::Text(&"AB".repeat(32))).unwrap();
        let c = o.redis_config().unwrap().unwrap();
        assert_eq!(c.key, [0xab; 32]);
        assert_eq!(c.prefix, "sessile");
        assert_eq!(c.event_stream, None);
        o.set("store_event_stream", Value::Int(5000)).unwrap();
        assert_eq!(o.redis_config().unwrap().unwrap().event_stream, Some(5000));
        // `memory` is the in-process table.
        let mut o = StoreOptions::default();
        o.set("store", Value::Text("memory")).unwrap();
        assert!(!o.is_shared());
    }

    #[test]
    fn the_view_hides_passwords_and_keys() {
        let mut o = StoreOptions::default();
        o.set("store", Value::Text("redis://u:secret@h:1/0"))
            .unwrap();
        o.set("store_key", Value::Text(&"ab".repeat(32))).unwrap();
        assert_eq!(o.get("store"), Some(Value::Text("redis://u:***@h:1/0")));
        let mut p = StoreOptions::default();
        p.set("store", Value::Text("redis://:secret@h:1/0"))
            .unwrap();
        assert_eq!(p.get("store"), Some(Value::Text("redis://:***@h:1/0")));
        p.set("store", Value::Text("unix:///r.sock?db=2&pass=secret"))
            .unwrap();
        assert_eq!(
            p.get("store"),
            Some(Value::Text("unix:///r.sock?db=2&pass=***"))
        );
        p.set("store", Value::Text("redis://alice@h:1/0")).unwrap();
        assert_eq!(p.get("store"), Some(Value::Text("redis://alice@h:1/0")));
        assert_eq!(o.get("store_key"), Some(Value::Flag(true)));
        assert!(!format!("{o:?}").contains("secret"));
        let mut o = StoreOptions::default();
        o.set("store", Value::Text("unix:///tmp/r.sock")).unwrap();
        assert_eq!(o.get("store"), Some(Value::Text("unix:///tmp/r.sock")));
    }

    #[test]
    fn a_shared_store_that_is_down_fails_closed_with_a_typed_error() {
        let mut o = StoreOptions::default();
        o.set("store", Value::Text("redis://127.0.0.1:1/0"))
            .unwrap();
        o.set("store_key", Value::Text(&"ab".repeat(32))).unwrap();
        let b = Backend::open(Config::default(), &o, None).unwrap();
        assert!(b.is_shared());
        let now = b.now_ms();
        let r = b.with(|s| {
            s.validate(
                b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                now,
                &Client::NONE,
            )
        });
        assert!(matches!(r, Err(Error::Store(_))), "{r:?}");
        let r = b.with(|s| s.create(now, &Client::NONE));
        assert!(matches!(r, Err(Error::Store(_))), "{r:?}");
        // No table here to snapshot: the one typed refusal every binding reports.
        assert_eq!(
            b.table().err(),
            Some(Error::Snapshot(sessile::SnapshotError::SharedStore))
        );
    }
}
