//! Node binding of sessile: one wrapper per core type, no session policy of its own.
//!
//! The JS layer (`index.js`) adds the EventEmitter and the JSON helpers; everything that
//! touches the engine is here. Errors cross the boundary in `error.rs`.
#![deny(clippy::all)]

mod calls;
mod cookie;
mod error;
mod fast;
mod options;
mod signer;
mod snapshot;

pub use cookie::{NativeCookieConfig, format_clear_cookie, format_set_cookie, parse_cookie};
pub use options::{ConfigKey, config_keys, resolve_options};
pub use signer::Signer;
pub use snapshot::{RestoreOptions, Restored, SnapshotOptions};

use napi::Result;
use napi::bindgen_prelude::{BigInt, Buffer, Either, Env, FunctionRef, Object, Unknown};
use napi_derive::napi;
use sessile::{Client as CoreClient, Error as CoreError, SessionRef, Store};
use sessile_backend::Backend;

use error::{arg_error, throw};

/// A token, principal or header given as text or as raw bytes.
pub type Bytes = Either<String, Buffer>;

pub(crate) fn bytes_of(b: &Bytes) -> &[u8] {
    match b {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

/// The client as seen on this request; anything absent is not compared.
#[napi(object)]
pub struct Client {
    /// The client's address, e.g. `req.socket.remoteAddress`.
    pub ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// A snapshot of one live session (never its token).
#[napi(object)]
pub struct SessionInfo {
    /// Opaque handle for payload reads and writes, revocation and overrides.
    pub handle: BigInt,
    /// Keyed digest naming the session in events (16 hex digits); stable across rotation.
    pub tag: String,
    /// Engine time (ms) the session, or its login, began.
    pub created_ms: f64,
    /// Engine time (ms) of the last validation.
    pub last_seen_ms: f64,
    /// Engine time (ms) it dies of inactivity unless used again.
    pub idle_deadline_ms: f64,
    /// Engine time (ms) it dies however busy.
    pub absolute_deadline_ms: f64,
    /// Its idle timeout (ms).
    pub idle_timeout_ms: u32,
    /// Its absolute timeout (ms).
    pub absolute_timeout_ms: u32,
    /// The user bound at login; `null` for an anonymous session.
    pub principal: Option<String>,
    /// Payload size in bytes.
    pub payload_length: u32,
    /// The version a save checks (`engine.save(handle, epoch, data)`): a save made with
    /// the epoch of a load lands only while the session is the one that was loaded.
    pub epoch: u32,
}

/// A session with the token that names it. The token is the only copy: the engine keeps
/// a digest.
#[napi(object)]
pub struct Issued {
    /// The session token (base64url text): put it in the cookie.
    pub token: String,
    /// The session.
    pub session: SessionInfo,
}

/// The copy of the session cookie a request was served with, and its session.
#[napi(object)]
pub struct Presented {
    /// The token that was used: one of the copies the request carried.
    pub token: String,
    /// Its session, validated (the idle timer restarted).
    pub session: SessionInfo,
}

/// One security event, as a plain object.
#[napi(object)]
pub struct EventRecord {
    /// The engine's snake_case event name (`logged_in`, `reuse_after_logout`, ...).
    #[napi(
        ts_type = "'created' | 'logged_in' | 'rotated' | 'logged_out' | 'expired_idle' | 'expired_absolute' | 'evicted' | 'revoked' | 'reuse_after_logout' | 'reuse_after_rotation' | 'address_changed' | 'user_agent_changed' | 'too_many_addresses' | 'capacity_pressure' | 'duplicate_cookie'"
    )]
    pub kind: String,
    /// Keyed digest of the session (16 hex digits), never its token; zeros for engine-wide events.
    pub session: String,
    /// Engine time (ms) of the event.
    pub at_ms: f64,
    /// True for the kinds an operator should be alerted to.
    pub alert: bool,
}

/// Counters.
#[napi(object)]
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
    pub pool_used_bytes: f64,
    /// Pool size in bytes.
    pub pool_total_bytes: f64,
    /// Sessions ever created.
    pub created: f64,
    /// Sessions ended to make room.
    pub evictions: f64,
    /// Sessions ended by timeout.
    pub expirations: f64,
    /// Sessions ended by revocation.
    pub revocations: f64,
    /// Tombstones held.
    pub tombstones: u32,
    /// Events waiting to be drained.
    pub events_pending: u32,
    /// Events overwritten before they were drained.
    pub events_dropped: f64,
}

/// The session engine: bounded table, exact idle and absolute timeouts, rotation at login,
/// server-side logout with reuse detection. All durations are milliseconds. Sessions live
/// in this process (the default) or in a Redis/Valkey server shared by every worker and
/// host (`store`); every call goes through the same store seam over either, and a shared
/// store that cannot answer is `SESSILE_STORE` (never a valid session).
#[napi(js_name = "Engine")]
pub struct NativeEngine {
    inner: std::sync::Arc<Backend>,
    clock: Option<FunctionRef<(), f64>>,
}

fn session_info(s: &sessile::Session) -> SessionInfo {
    SessionInfo {
        handle: BigInt::from(s.handle.to_u64()),
        tag: format!("{:016x}", s.tag),
        created_ms: s.created_ms as f64,
        last_seen_ms: s.last_seen_ms as f64,
        idle_deadline_ms: s.idle_deadline_ms as f64,
        absolute_deadline_ms: s.absolute_deadline_ms as f64,
        idle_timeout_ms: s.idle_timeout_ms,
        absolute_timeout_ms: s.absolute_timeout_ms,
        principal: s
            .principal
            .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned()),
        payload_length: s.payload_len,
        epoch: s.epoch,
    }
}

fn presented(token: &[u8], s: &sessile::Session) -> Presented {
    Presented {
        token: String::from_utf8_lossy(token).into_owned(),
        session: session_info(s),
    }
}

fn handle_of(env: &Env, handle: BigInt) -> Result<SessionRef> {
    let (negative, value, lossless) = handle.get_u64();
    if negative || !lossless {
        return Err(arg_error(env, "handle", "not a session handle")?);
    }
    Ok(SessionRef::from_u64(value))
}

struct ClientBytes {
    ip: Option<String>,
    user_agent: Option<String>,
}

impl ClientBytes {
    fn from(c: Option<Client>) -> ClientBytes {
        match c {
            None => ClientBytes {
                ip: None,
                user_agent: None,
            },
            Some(c) => ClientBytes {
                ip: c.ip,
                user_agent: c.user_agent,
            },
        }
    }

    fn core(&self) -> CoreClient<'_> {
        CoreClient {
            ip: self.ip.as_deref().map(str::as_bytes),
            user_agent: self.user_agent.as_deref().map(str::as_bytes),
        }
    }
}

fn ms_arg(env: &Env, name: &str, v: Option<f64>) -> Result<Option<u32>> {
    match v {
        None => Ok(None),
        Some(x)
            if x.is_finite() && x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x) =>
        {
            Ok(Some(x as u32))
        }
        Some(_) => Err(arg_error(
            env,
            name,
            "must be a whole number of milliseconds",
        )?),
    }
}

#[napi]
impl NativeEngine {
    /// Build an engine. Every option is optional: the core's config keys in camelCase
    /// (`configKeys()`, docs/CONFIG.md), and the store's: `store` (unset or `'memory'`:
    /// this process; a `redis://`, `rediss://` or `unix://` URL: a shared server),
    /// `storeKey` (64 hex digits or a 32-byte Buffer, required with a URL), `storePrefix`,
    /// `storeConnectTimeoutMs`, `storeResponseTimeoutMs`, `storeTombstoneTtlMs`. `seed`
    /// (32 bytes) makes IDs reproducible and is for tests only; `clock` replaces the
    /// clock (it must return milliseconds and never go backwards; Unix milliseconds for a
    /// shared store).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "EngineOptions")] options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        let options::Built {
            config,
            store,
            seed,
            clock,
        } = options::build(&env, options, options::Takes::Engine)?;
        let inner = Backend::open(config, &store, seed).or_else(|e| Err(throw(&env, e)?))?;
        let clock = match clock {
            Some(f) => Some(f.create_ref()?),
            None => None,
        };
        Ok(NativeEngine {
            inner: std::sync::Arc::new(inner),
            clock,
        })
    }

    fn now(&self, env: &Env) -> Result<u64> {
        match &self.clock {
            None => Ok(self.inner.now_ms()),
            Some(f) => {
                let t = f.borrow_back(env)?.call(())?;
                if !t.is_finite() || t < 0.0 {
                    return Err(arg_error(
                        env,
                        "clock",
                        "returned a negative or non-finite time",
                    )?);
                }
                Ok(t as u64)
            }
        }
    }

    /// The current engine time in milliseconds (from `clock` when one was given).
    #[napi]
    pub fn now_ms(&self, env: Env) -> Result<f64> {
        Ok(self.now(&env)? as f64)
    }

    /// Start a new anonymous session.
    #[napi]
    pub fn create(&self, env: Env, client: Option<Client>) -> Result<Issued> {
        let now = self.now(&env)?;
        let c = ClientBytes::from(client);
        match self.inner.with(|e| e.create(now, &c.core())) {
            Ok((t, s)) => Ok(Issued {
                token: t.as_str().to_owned(),
                session: session_info(&s),
            }),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Look a token up; a live session is marked used (idle timer restarts). Throws
    /// `SESSILE_SESSION_INVALID` with `reason` otherwise.
    #[napi]
    pub fn validate(&self, env: Env, token: Bytes, client: Option<Client>) -> Result<SessionInfo> {
        let now = self.now(&env)?;
        let c = ClientBytes::from(client);
        match self
            .inner
            .with(|e| e.validate(bytes_of(&token), now, &c.core()))
        {
            Ok(s) => Ok(session_info(&s)),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Look a token up without touching it: no idle-timer restart, no event, no client
    /// check, nothing ended. For listings and administration (a page of sessions must not
    /// keep abandoned ones alive). Throws `SESSILE_SESSION_INVALID` with the reason a
    /// validation would give (`expired_idle` for a lapsed session, `logged_out`, ...).
    #[napi]
    pub fn peek(&self, env: Env, token: Bytes) -> Result<SessionInfo> {
        let now = self.now(&env)?;
        match self.inner.with(|e| e.peek(bytes_of(&token), now)) {
            Ok(s) => Ok(session_info(&s)),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Find the session cookie (this engine's cookie name) in a `Cookie` request header and
    /// validate it by the duplicate rule of `validateAny` over every copy. `null` when the
    /// header does not carry the cookie. Throws `SESSILE_COOKIE` (reason `duplicate` when
    /// several copies named live sessions, each now ended; `header_too_long`) or
    /// `SESSILE_SESSION_INVALID`.
    #[napi]
    pub fn validate_cookie(
        &self,
        env: Env,
        header: Bytes,
        client: Option<Client>,
    ) -> Result<Option<Presented>> {
        let now = self.now(&env)?;
        let c = ClientBytes::from(client);
        let header = bytes_of(&header);
        match self
            .inner
            .with(|e| e.validate_cookie(header, now, &c.core()))
        {
            Ok(found) => Ok(found.map(|(t, s)| presented(t, &s))),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Validate a request that carried the session cookie several times (`tokens`: each
    /// copy's token, in header order; a browser sends one cookie per domain and path, so a
    /// sibling domain can plant one). The core's rule: the one copy naming a live session
    /// is used, so a planted unknown or dead token cannot lock the user out; when none is
    /// live the first answers (its `SESSILE_SESSION_INVALID`); when several are live, each
    /// of those sessions is ended (event `duplicate_cookie`) and `SESSILE_COOKIE` with
    /// reason `duplicate` is thrown. Returns the token used and its session.
    #[napi]
    pub fn validate_any(
        &self,
        env: Env,
        tokens: Vec<Bytes>,
        client: Option<Client>,
    ) -> Result<Presented> {
        let now = self.now(&env)?;
        let c = ClientBytes::from(client);
        match self
            .inner
            .with(|e| e.validate_any(tokens.iter().map(bytes_of), now, &c.core()))
        {
            Ok((t, s)) => Ok(presented(t, &s)),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Validate and read the payload in one call (what a middleware does per request).
    /// Returns `null` when the token does not name a live session (for any reason;
    /// `validate` tells which). A shared store that cannot answer throws `SESSILE_STORE`. `sessile/express` makes the same call through
    /// `expressLink().load`, after checking the cookie signature.
    #[napi]
    pub fn load(
        &self,
        env: Env,
        token: Bytes,
        client: Option<Client>,
    ) -> Result<Option<LoadedSession>> {
        let now = self.now(&env)?;
        let c = ClientBytes::from(client);
        let mut payload = calls::PayloadCopy::new();
        let loaded = self
            .inner
            .with(|e| calls::load(e, bytes_of(&token), now, &c.core(), &mut payload));
        match loaded {
            Ok(s) => Ok(Some(LoadedSession {
                session: session_info(&s),
                data: String::from_utf8_lossy(payload.bytes()).into_owned(),
            })),
            Err(e) if e.is_store() => Err(throw(&env, e)?),
            Err(_) => Ok(None),
        }
    }

    /// Internal to `sessile/express`: its two per-request calls bound to this engine and
    /// `signer`, as plain functions that skip napi-rs's argument glue (see `fast.rs`).
    /// `load(signed)` checks the signature of the cookie value `signed` (`token.signature`)
    /// and then does what `load` does: `false` when no secret's signature matches, `null`
    /// when the token names no live session, the payload text for an anonymous session,
    /// `[payload, principal]` for a logged-in one; the session's handle (high and low
    /// 32 bits) and epoch are then in `state`. A shared store that cannot answer throws
    /// `SESSILE_STORE`. `save(handleHigh, handleLow, epoch, data)` is `save`: `true` when
    /// stored, `false` when dropped. When the engine has an injected clock, each takes the
    /// time as its last argument. Given an array (every copy of a cookie sent several
    /// times), `load` verifies each and lets the engine choose among those that verify, as
    /// `validateAny` does: `false` when none verifies, `null` when no session is usable,
    /// else `[payload, principal, index]`.
    #[napi(
        ts_return_type = "{ load(signed: string | string[], ip?: string | null, userAgent?: string | null, now?: number): false | null | string | [string, string] | [string, string | null, number]; save(handleHigh: number, handleLow: number, epoch: number, data: string, now?: number): boolean; state: Uint32Array; clock?: () => number }"
    )]
    pub fn express_link<'e>(
        &self,
        env: &'e Env,
        signer: &Signer,
    ) -> Result<napi::bindgen_prelude::Unknown<'e>> {
        let link = fast::Link {
            engine: std::sync::Arc::clone(&self.inner),
            keys: signer.keys(),
            clock: self.clock.is_some(),
            verified: std::cell::RefCell::new(fast::Verified::new()),
            state: fast::State::unset(),
            scratch: std::cell::RefCell::new(Vec::new()),
            pending: std::cell::RefCell::new(std::collections::HashMap::new()),
            next_pending: std::cell::Cell::new(0),
        };
        let obj = fast::link_object(env, link)?;
        // SAFETY: a value just created in this env, returned to JS as is.
        Ok(unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env.raw(), obj) })
    }

    /// Store `data` as the payload of the session a request loaded (`handle` and `epoch`
    /// of the `SessionInfo` its load gave), writing only when the bytes differ. Returns
    /// `'written'`, `'unchanged'`, or `'dropped'` when nothing was written because the
    /// session ended or its token changed since that load, or (in a shared store) another
    /// request wrote it meanwhile: a logged-out session is never recreated and a
    /// concurrent update never silently overwritten (reload, and redo the change).
    #[napi(ts_return_type = "'written' | 'unchanged' | 'dropped'")]
    pub fn save(&self, env: Env, handle: BigInt, epoch: u32, data: String) -> Result<String> {
        let now = self.now(&env)?;
        let h = handle_of(&env, handle)?;
        match self.inner.with(|e| e.save(h, epoch, data.as_bytes(), now)) {
            Ok(saved) => Ok(calls::saved_word(saved).to_owned()),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Validate the token (no client comparison) and replace its payload with `data`:
    /// whatever was written since the token was loaded is overwritten (`save` keeps the
    /// load's epoch instead). Throws `SESSILE_SESSION_INVALID` when it names no live
    /// session.
    #[napi]
    pub fn save_payload(&self, env: Env, token: Bytes, data: String) -> Result<()> {
        let now = self.now(&env)?;
        self.inner
            .with(|e| calls::save(e, bytes_of(&token), data.as_bytes(), now))
            .or_else(|e| Err(throw(&env, e)?))
    }

    /// Bind the session to `principal` and rotate its token (the old one dies). Data is kept.
    #[napi]
    pub fn login(&self, env: Env, token: Bytes, principal: Bytes) -> Result<Issued> {
        let now = self.now(&env)?;
        let p = bytes_of(&principal);
        match self.inner.with(|e| e.login(bytes_of(&token), p, now)) {
            Ok((t, s)) => Ok(Issued {
                token: t.as_str().to_owned(),
                session: session_info(&s),
            }),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Give the session a new token; the old one dies and its reuse is reported.
    #[napi]
    pub fn rotate(&self, env: Env, token: Bytes) -> Result<Issued> {
        let now = self.now(&env)?;
        match self.inner.with(|e| e.rotate(bytes_of(&token), now)) {
            Ok((t, s)) => Ok(Issued {
                token: t.as_str().to_owned(),
                session: session_info(&s),
            }),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// End the session server-side; later reuse of the token is reported.
    #[napi]
    pub fn logout(&self, env: Env, token: Bytes) -> Result<()> {
        let now = self.now(&env)?;
        self.inner
            .with(|e| e.logout(bytes_of(&token), now))
            .or_else(|e| Err(throw(&env, e)?))
    }

    /// End one session by handle (e.g. from a "your sessions" page).
    #[napi]
    pub fn revoke(&self, env: Env, handle: BigInt) -> Result<()> {
        let now = self.now(&env)?;
        let h = handle_of(&env, handle)?;
        self.inner
            .with(|e| e.revoke(h, now))
            .or_else(|e| Err(throw(&env, e)?))
    }

    /// End every session of `principal` ("log out everywhere"); returns how many were
    /// live (one past its deadline but not yet swept ends as expired and is not counted).
    /// A principal no login accepts (empty, over 128 bytes) has no sessions: 0.
    #[napi]
    pub fn revoke_principal(&self, env: Env, principal: Bytes) -> Result<u32> {
        let now = self.now(&env)?;
        let p = bytes_of(&principal);
        match self.inner.with(|e| e.revoke_principal(p, now)) {
            Ok(n) => Ok(n as u32),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// End every live session (an administrator's "log everyone out"); returns how many.
    #[napi]
    pub fn revoke_all(&self, env: Env) -> Result<u32> {
        let now = self.now(&env)?;
        match self.inner.with(|e| e.revoke_all(now)) {
            Ok(n) => Ok(n as u32),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Give the ID generator a fresh key from the operating system. A forked child
    /// reseeds by itself (the engine notices the new process id), and each Node process,
    /// cluster workers included, builds its own engine anyway; call this after the process
    /// was cloned with its pid kept (a VM snapshot restored, a CRIU restore), which nothing
    /// inside it can see, or when its memory may have been read. Throws `SESSILE_ENTROPY`
    /// when the OS gives none (the old key stays).
    #[napi]
    pub fn reseed(&self, env: Env) -> Result<()> {
        self.inner.reseed().or_else(|e| Err(throw(&env, e)?))
    }

    /// The live sessions of `principal` (none for one no login accepts: empty, over 128
    /// bytes).
    #[napi]
    pub fn sessions_of(&self, env: Env, principal: Bytes) -> Result<Vec<SessionInfo>> {
        let p = bytes_of(&principal);
        let now = self.now(&env)?;
        let r = self.inner.with(|e| {
            e.sessions_of(p, now)
                .map(|i| i.map(|s| session_info(&s)).collect())
        });
        r.or_else(|e| Err(throw(&env, e)?))
    }

    /// A snapshot of the session behind `handle` (throws `SESSILE_STALE_HANDLE` once it ended,
    /// `SESSILE_SESSION_INVALID` with reason `expired_*` when it is past its deadline).
    #[napi]
    pub fn session(&self, env: Env, handle: BigInt) -> Result<SessionInfo> {
        let h = handle_of(&env, handle)?;
        let now = self.now(&env)?;
        match self.inner.with(|e| e.session(h, now)) {
            Ok(s) => Ok(session_info(&s)),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Override one session's timeouts (ms, each within the configured maximum); `null`
    /// keeps the current one.
    #[napi]
    pub fn set_timeouts(
        &self,
        env: Env,
        handle: BigInt,
        idle_ms: Option<f64>,
        absolute_ms: Option<f64>,
    ) -> Result<SessionInfo> {
        let now = self.now(&env)?;
        let h = handle_of(&env, handle)?;
        let idle = ms_arg(&env, "idleMs", idle_ms)?;
        let absolute = ms_arg(&env, "absoluteMs", absolute_ms)?;
        match self.inner.with(|e| e.set_timeouts(h, idle, absolute, now)) {
            Ok(s) => Ok(session_info(&s)),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Replace the session's payload (bounded by `maxPayload`; on error the old one stays).
    #[napi]
    pub fn write(&self, env: Env, handle: BigInt, data: Buffer) -> Result<()> {
        let now = self.now(&env)?;
        let h = handle_of(&env, handle)?;
        self.inner
            .with(|e| e.write(h, &data, now))
            .or_else(|e| Err(throw(&env, e)?))
    }

    /// Replace the session's payload with UTF-8 text.
    #[napi]
    pub fn write_string(&self, env: Env, handle: BigInt, data: String) -> Result<()> {
        let now = self.now(&env)?;
        let h = handle_of(&env, handle)?;
        self.inner
            .with(|e| e.write(h, data.as_bytes(), now))
            .or_else(|e| Err(throw(&env, e)?))
    }

    /// The session's payload.
    #[napi]
    pub fn read(&self, env: Env, handle: BigInt) -> Result<Buffer> {
        let h = handle_of(&env, handle)?;
        let now = self.now(&env)?;
        match self.inner.with(|e| read_payload(e, h, now)) {
            Ok(v) => Ok(v.into()),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// The session's payload as UTF-8 text (invalid bytes replaced).
    #[napi]
    pub fn read_string(&self, env: Env, handle: BigInt) -> Result<String> {
        let h = handle_of(&env, handle)?;
        let now = self.now(&env)?;
        match self.inner.with(|e| read_payload(e, h, now)) {
            Ok(v) => Ok(String::from_utf8_lossy(&v).into_owned()),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Reclaim every session whose deadline has passed; returns how many.
    #[napi]
    pub fn sweep(&self, env: Env) -> Result<u32> {
        let now = self.now(&env)?;
        match self.inner.with(|e| e.sweep(now)) {
            Ok(n) => Ok(n as u32),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// Take every pending security event, oldest first, as plain objects.
    #[napi]
    pub fn drain_events(&self) -> Vec<EventRecord> {
        self.inner.with(|e| {
            e.drain_events()
                .map(|ev| EventRecord {
                    kind: ev.kind.as_str().to_owned(),
                    session: format!("{:016x}", ev.session),
                    at_ms: ev.at_ms as f64,
                    alert: ev.kind.is_security_alert(),
                })
                .collect()
        })
    }

    /// Write a snapshot of every session and dead token to `path`, encrypted and
    /// authenticated under `key` (32 random bytes kept secret; the same key restores it),
    /// atomically: `path` holds the previous snapshot or this one, never a part (a
    /// temporary file beside it, flushed, renamed over it; readable by its owner only).
    /// Deadlines are written in wall-clock time, so they keep counting while the process
    /// is down. The engine keeps serving. Synchronous: call it at shutdown, or now and
    /// then (it blocks the event loop for the time it takes to write the file). Returns
    /// the file's size. Throws `SESSILE_SNAPSHOT` (`reason` `snapshot_key`: not 32 bytes)
    /// or a file system error (`code` `ENOENT`, `EACCES`, ...).
    #[napi]
    pub fn snapshot(
        &self,
        env: Env,
        path: String,
        key: Buffer,
        options: Option<SnapshotOptions>,
    ) -> Result<f64> {
        snapshot::snapshot(self, &env, &path, &key, options)
    }

    /// Restore the snapshot at `path` into this engine, which must hold nothing yet (use
    /// `Engine.restore(path, key, options)`, which builds one): every session live now
    /// comes back with its token, principal, payload and deadlines; every logged-out and
    /// rotated-out token still answers so; a session whose deadline passed meanwhile
    /// answers `expired_*`. Throws `SESSILE_SNAPSHOT` with `reason` (`snapshot_tampered`,
    /// `snapshot_wrong_key`, `snapshot_truncated`, `snapshot_stale`, `snapshot_future`,
    /// `snapshot_does_not_fit` with the option as `key`, ...) and the engine then holds
    /// nothing, and works; or a file system error (`ENOENT` on a first start).
    #[napi]
    pub fn restore_from(
        &self,
        env: Env,
        path: String,
        key: Buffer,
        options: Option<RestoreOptions>,
    ) -> Result<Restored> {
        snapshot::restore_from(self, &env, &path, &key, options)
    }

    /// Counters.
    #[napi]
    pub fn stats(&self) -> Stats {
        let s = self.inner.with(|e| e.stats());
        Stats {
            capacity: s.capacity,
            live: s.live,
            anonymous: s.anonymous,
            authenticated: s.authenticated,
            pool_used_bytes: s.pool_used_bytes as f64,
            pool_total_bytes: s.pool_total_bytes as f64,
            created: s.created as f64,
            evictions: s.evictions as f64,
            expirations: s.expirations as f64,
            revocations: s.revocations as f64,
            tombstones: s.tombstones,
            events_pending: s.events_pending,
            events_dropped: s.events_dropped as f64,
        }
    }

    /// The `Set-Cookie` header value carrying `token` with the configured attributes,
    /// living until the session's absolute deadline (the core's `Max-Age`). Throws as
    /// `session` does once the session has ended, and `SESSILE_SESSION_INVALID`
    /// (`malformed`) for a token that is not cookie-safe text.
    #[napi]
    pub fn set_cookie(&self, env: Env, token: String, session: SessionInfo) -> Result<String> {
        let h = handle_of(&env, session.handle)?;
        let now = self.now(&env)?;
        match self.inner.with(|e| e.set_cookie(&token, h, now)) {
            Ok(header) => Ok(header.as_str().to_owned()),
            Err(e) => Err(throw(&env, e)?),
        }
    }

    /// The `Set-Cookie` header value that deletes the session cookie (`Max-Age=0`).
    #[napi]
    pub fn clear_cookie(&self) -> String {
        self.inner
            .with(|e| e.clear_cookie())
            .map(|h| h.as_str().to_owned())
            .unwrap_or_default()
    }

    /// Every config key's value in this engine (camelCase, as `new Engine` takes them):
    /// `new Engine(engine.config)` builds one configured alike.
    #[napi(getter, ts_return_type = "EngineConfig")]
    pub fn config<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        let c = self.inner.with(|e| e.config().clone());
        options::config_object(env, &c)
    }

    /// Whether sessions live in a shared store (a `store` URL), rather than in this
    /// process.
    #[napi(getter)]
    pub fn shared(&self) -> bool {
        self.inner.is_shared()
    }

    /// The name of the session cookie.
    #[napi(getter)]
    pub fn cookie_name(&self) -> String {
        self.inner
            .with(|e| e.config().cookie.name.as_str().to_owned())
    }

    /// The session token in a `Cookie` request header, `null` when absent. Throws
    /// `SESSILE_COOKIE` (reason `header_too_long`, or `duplicate` for copies with different
    /// values: `validateCookie` chooses among them instead).
    #[napi]
    pub fn token_from_cookie_header(&self, env: Env, header: Bytes) -> Result<Option<String>> {
        let name = self.inner.with(|e| e.config().cookie.name.clone());
        let r = sessile::cookie::parse_cookie(bytes_of(&header), name.as_str())
            .map(|t| t.map(|b| String::from_utf8_lossy(b).into_owned()));
        r.or_else(|e| Err(throw(&env, CoreError::Cookie(e))?))
    }
}

/// What `load` returns: the session and its payload as text.
#[napi(object)]
pub struct LoadedSession {
    /// The session.
    pub session: SessionInfo,
    /// The payload as UTF-8 text ("" when empty).
    pub data: String,
}

fn read_payload(
    e: &mut sessile_backend::StoreMut<'_>,
    h: SessionRef,
    now: u64,
) -> std::result::Result<Vec<u8>, CoreError> {
    let mut v = Vec::new();
    for chunk in e.payload(h, now)? {
        v.extend_from_slice(chunk);
    }
    Ok(v)
}

/// Every event kind's name, in the core's order: what `EventRecord.kind` can be.
#[napi(ts_return_type = "Array<EventRecord['kind']>")]
pub fn event_kinds() -> Vec<String> {
    sessile::EventKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect()
}

/// Every error code this binding throws, for tests and documentation.
#[napi(ts_return_type = "Array<SessileErrorCode>")]
pub fn error_codes() -> Vec<String> {
    let mut codes: Vec<String> = CoreError::CODES.iter().map(|c| error::js_code(c)).collect();
    codes.push(error::INVALID_ARGUMENT.to_owned());
    codes
}
