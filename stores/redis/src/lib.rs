//! # sessile-redis
//!
//! sessile's sessions in Redis or Valkey (7.0 or later), for apps that run as several
//! processes or on several hosts: every worker sees every session, a logout on one is a
//! logout on all, and a restart of a worker loses nothing. [`RedisStore`] implements the
//! core's store seam ([`sessile::Store`]), so the request seam, the framework glue, the
//! conformance vectors and the model-based test are the same as for the in-process
//! engine.
//!
//! ```no_run
//! use sessile::{Client, Config, Store};
//! use sessile_redis::{RedisConfig, RedisStore};
//!
//! let key = [0x5e; 32]; // this deployment's secret: 32 random bytes, from your secrets
//! let redis = RedisConfig::new("unix:///run/redis/redis.sock", key);
//! let mut store = RedisStore::new(Config::default(), &redis)?;
//! let now = sessile_redis::unix_ms();
//! let (token, _) = store.create(now, &Client::NONE)?;
//! let header = format!("__Host-sid={}", token.as_str());
//! let loaded = store.load_cookie(header.as_bytes(), now, &Client::NONE)?;
//! assert!(loaded.is_some());
//! # Ok::<(), sessile::Error>(())
//! ```
//!
//! ## The rules stay in the core
//!
//! Every decision is [`sessile::rules`]': whether a session is live and which deadline
//! ended it, what the reuse of a dead token means, whether a client change is tolerated,
//! the per-user cap and who makes room, what a full table evicts (an anonymous session,
//! the one CLOCK takes, as in the in-process table: [`sessile::rules::clock_takes`]),
//! `Max-Age`, whether a
//! save lands. An operation reads what its decision needs, decides in Rust, and writes
//! through one Lua script (`commit.lua`) that applies the writes only if what was read
//! is unchanged (guards on record versions and counters: optimistic concurrency); when
//! another request got there first, the operation is decided anew, at most
//! [`RedisConfig::max_retries`] times, then `StoreError::Conflict`. The script compares
//! and writes; it decides nothing. The commonest plans, one record written under its
//! version (a save's payload: `save.lua`; a rotation's token, a client's move:
//! `write.lua`), go through smaller scripts that do what `commit.lua` would do with
//! that plan without interpreting one (about half the server's work per save).
//!
//! One rule is restated in Lua, so that a request that only reads costs one round trip:
//! `lookup.lua` marks a session used only while `now < min(last seen + idle, created +
//! absolute)` (liveness) and the request's client is the one the session knows. When
//! that does not hold, nothing is written and Rust decides (ends it, raises the client
//! events, ...). A test holds the script's answer equal to [`sessile::rules::liveness`]
//! over a grid of times.
//!
//! ## Clock rule
//!
//! `now` is the caller's wall clock, in Unix milliseconds ([`unix_ms`]): a session's
//! deadlines are absolute instants that every process compares with its own clock, not
//! intervals of one process's monotonic clock. So:
//!
//! - each store instance never lets its own time run backwards (it uses the latest
//!   `now` it was given), so a clock stepped back never extends a session there;
//! - clocks of different hosts that disagree by `d` move every deadline by up to `d`: a
//!   host behind by `d` still accepts a session `d` after its deadline, and its touches
//!   carry a last-seen time `d` early (shortening the idle timeout by `d` for a host
//!   ahead); a host ahead ends sessions up to `d` early. Keep hosts on NTP; skew of a
//!   few milliseconds is invisible next to timeouts of minutes;
//! - Redis's own clock is used for nothing but how long a dead token is remembered (its
//!   key's TTL).
//!
//! ## Keys
//!
//! Every key of a deployment is under `{prefix}:` (layout: the `keys` module's docs). The
//! braces are a Redis Cluster hash tag: all keys of every operation are in one slot, so a
//! cluster never answers CROSSSLOT and a script sees a consistent state, at the cost that
//! one deployment's sessions live on one shard (a cluster gives it failover, not more
//! throughput; run several deployments, with their own prefixes, to spread load). The
//! scripts also touch keys they compute (the record a token names, a churn tombstone
//! pushed out), all under the same tag and so in the slot of the keys they were given,
//! which Redis Cluster and Valkey accept; passing them in instead would cost a read
//! one more round trip. Keys
//! hold digests (HMAC-SHA-256 under [`RedisConfig::key`]), never tokens: a copy of Redis
//! yields nothing a browser could present, and whoever can write to Redis but lacks the
//! key cannot plant a session for a token they chose.
//!
//! ## What is guaranteed (and tested against a real server)
//!
//! - The conformance vectors and the model-based test give the same answers and events
//!   as the in-process engine (one documented difference: kept tombstones, below).
//! - Dead tokens never come back; a logged-out, rotated-out or revoked token of a
//!   logged-in user is remembered for [`RedisConfig::tombstone_ttl_ms`] by time alone
//!   (a key with a TTL: no flood of any kind flushes it, not even a script logging one
//!   account in and out), every other dead token within the churn share of `tombstones`
//!   as the table does. Past that a dead token is merely unknown, still never valid.
//! - A save never lands on a session that ended, or whose token changed, since the
//!   request loaded it; nor over another request's write since then: a session's epoch
//!   (here as in the in-process table) also moves at every payload write, so of two
//!   requests that loaded the same state, the second to save gets `Saved::Dropped` and
//!   reloads (no lost update).
//! - A user's list of sessions (for listing, the cap and "log out everywhere") is
//!   written in the same atomic step as the session itself: it cannot leak, and no
//!   keyspace notification is involved. "Log out everywhere" ends every session of
//!   the user that was logged in when it began; it does not wait for the user's other
//!   logins to stop (a login racing it lands, and the next call ends it).
//! - Capacity, the payload pool and the per-user cap hold across every process.
//! - A store that is down or slow gives `Error::Store(..)` within the configured
//!   timeouts (100 ms by default), never a valid session, and works again when the
//!   server is back, without a restart.
//! - A forked child (gunicorn `--preload`) never uses its parent's connection, and
//!   reseeds its token generator before its first token.
//!
//! ## Events and counters
//!
//! Security events reach the process whose request raised them, in a bounded ring as the
//! engine's ([`sessile::Store::pop_event`]). The counters of [`sessile::Store::stats`]
//! are the deployment's (every process's sessions), read from Redis in one round trip;
//! `events_pending` and `events_dropped` are this process's. `tombstones` counts the
//! kept tombstones not yet pruned (a sweep prunes those past their TTL) and the churn
//! share's entries. When Redis cannot answer, `stats` shows this process's counts only
//! ([`RedisStore::try_stats`] says why).
//!
//! ## Carrying the bytes yourself
//!
//! A binding whose callers must not wait on a round trip (Node's event loop) carries the
//! per-request commands itself: [`RedisStore::wire`] says where the server is and what a
//! new connection sends first; [`RedisStore::validate_command`] and
//! [`RedisStore::validate_reply`], [`RedisStore::save_command`] and
//! [`RedisStore::save_reply`] give each command's bytes and decide from each reply's, with
//! the same code as [`sessile::Store::validate`] and [`sessile::Store::save`] (what is
//! rare, a failed guard included, goes on through the synchronous client). Replies to one
//! connection's commands come back in order, so the commands of several requests can
//! share it.
//!
//! ## Running Redis for sessions
//!
//! Turn AOF on (`appendonly yes`, `appendfsync everysec`: a crash loses about a second,
//! where an RDB snapshot can bring back every session logged out since it was taken), and
//! set `maxmemory-policy noeviction`: an evicted tombstone or list lets a dead session be
//! mistaken for an unknown one, and an evicted record loses a session; with
//! `noeviction` a full server refuses writes (`StoreError::Refused`) instead. Size memory
//! by `capacity` (records) and logins times `tombstone_ttl_ms` (kept tombstones).

mod config;
mod conn;
mod keys;
mod link;
mod plan;
mod record;
mod store;
mod wire;

pub use config::{MAX_PREFIX, RedisConfig};
pub use store::RedisStore;
pub use wire::{PendingSave, SaveStep, Wire, WireAddr};

// A store moves to the thread that serves a request (bindings keep one per process
// behind a lock, or one per thread).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<RedisStore>();
};

/// Milliseconds since the Unix epoch on this host's clock: the `now` every process
/// sharing a store passes (see the clock rule).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
