//! `Engine`: the session engine's Python class.

use std::sync::Arc;

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use sessile::cookie::CookieConfig;
use sessile::shared::{SharedEngine, wall_ms};
use sessile::snapshot::{Clocks, DEFAULT_MAX_AGE_MS};
use sessile::{Config, Error, Saved, Session as CoreSession, SessionRef, Store};
use sessile_backend::{Backend, StoreMut, StoreOptions};

use crate::asgi::AsgiSend;
use crate::client::ClientArgs;
use crate::clock::{self, seconds_to_ms, secs};
use crate::config;
use crate::convert::{bytes_of, opt_bytes};
use crate::errors::{bad_seed, file_error, key_of, to_py};
use crate::event::Event;
use crate::fork::Registered;
use crate::request::Request;
use crate::session::Session;
use crate::stats::Stats;

/// The session engine, over this process's table (all memory allocated here) or a
/// shared Redis/Valkey store (`store=`). Thread-safe (one lock), fork-safe (a forked child
/// reseeds its ID generator from the OS, and makes its own connection to a shared store).
#[pyclass(module = "sessile._native", subclass)]
pub struct Engine {
    pub(crate) inner: Arc<Registered>,
    clock: Option<Py<PyAny>>,
    cookie: CookieConfig,
    config: Config,
    store: StoreOptions,
}

impl Engine {
    /// Engine time in ms: the injected clock (seconds), or the store's clock (the shared
    /// monotonic clock for this process's table, Unix ms for a shared store).
    pub(crate) fn now_ms(&self, py: Python<'_>) -> PyResult<u64> {
        match &self.clock {
            Some(clock) => clock::read_ms(py, clock),
            None => Ok(self.inner.backend.now_ms()),
        }
    }

    /// This process's table, for the calls only it has (snapshot, restore); a shared
    /// store persists itself, which says so as a `SnapshotError`.
    fn memory(&self, py: Python<'_>) -> PyResult<&SharedEngine> {
        self.inner.backend.table().map_err(|e| to_py(py, e))
    }

    /// The engine's clock and the wall clock (`wall_time` seconds, or the system's).
    fn clocks(&self, py: Python<'_>, wall_time: Option<f64>) -> PyResult<Clocks> {
        let wall_ms = match wall_time {
            None => wall_ms(),
            Some(s) => seconds_to_ms(s)
                .ok_or_else(|| PyValueError::new_err("wall_time must be finite seconds >= 0"))?,
        };
        Ok(Clocks {
            now_ms: self.now_ms(py)?,
            wall_ms,
        })
    }

    fn token_pair<'py>(
        py: Python<'py>,
        token: &sessile::Token,
        s: &CoreSession,
    ) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            [
                PyString::new(py, token.as_str()).into_any(),
                Bound::new(py, Session::from_core(s))?.into_any(),
            ],
        )
    }

    /// Copy a payload out under the lock. No Python code may run while the engine lock is
    /// held (it could switch threads or re-enter the engine), so Python objects are made
    /// only after it is released.
    fn payload_of(e: &mut StoreMut<'_>, handle: SessionRef, now: u64) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        for c in e.payload(handle, now)? {
            out.extend_from_slice(c);
        }
        Ok(out)
    }
}

#[pymethods]
impl Engine {
    /// Build an engine. Every argument is keyword-only: one per key of the core's config
    /// vocabulary and of the store's (`config_keys()`; durations in seconds), `None`
    /// meaning the default (see `Engine.config`), plus `seed` and `clock`. `store` (a
    /// `redis://`, `rediss://` or `unix://` URL) keeps sessions in Redis or Valkey,
    /// shared by every process with the same URL, `store_prefix` and `store_key`.
    #[new]
    #[pyo3(signature = (*, seed=None, clock=None, **config))]
    fn new(
        py: Python<'_>,
        seed: Option<&Bound<'_, PyAny>>,
        clock: Option<Py<PyAny>>,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let (c, store) = config::from_kwargs(py, config)?;
        let cookie = c.cookie.clone();
        if let Some(clock) = &clock {
            clock::check(py, clock)?;
        }
        let seed = match seed {
            None => None,
            Some(s) if s.is_none() => None,
            Some(s) => {
                let b = s
                    .cast::<PyBytes>()
                    .map_err(|_| PyTypeError::new_err("seed must be bytes"))?;
                let arr: [u8; 32] = b
                    .as_bytes()
                    .try_into()
                    .map_err(|_| bad_seed(py, "seed must be exactly 32 bytes".into()))?;
                Some(arr)
            }
        };
        let config = c.clone();
        // Construction allocates every byte the engine will use: let other threads run. (A
        // shared store connects when first used.)
        let options = &store;
        let backend = py
            .detach(move || Backend::open(c, options, seed))
            .map_err(|e| to_py(py, e))?;
        Ok(Engine {
            inner: Registered::new(backend),
            clock,
            cookie,
            config,
            store,
        })
    }

    /// Every configuration value in effect (durations in seconds; `store_key` is whether
    /// one is set, `store` the URL without a password).
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        config::to_dict(py, &self.config, &self.store)
    }

    /// Whether sessions live in a shared store (`store=` a URL), not this process's
    /// table.
    #[getter]
    fn shared(&self) -> bool {
        self.inner.backend.is_shared()
    }

    /// The session cookie's name.
    #[getter]
    fn cookie_name(&self) -> &str {
        self.cookie.name.as_str()
    }

    /// Events waiting in this process's ring (cheap for this process's table; a shared
    /// store reads its counters too, a round trip: drain instead).
    #[getter]
    fn events_pending(&self, py: Python<'_>) -> PyResult<u32> {
        self.inner.with(py, |e| e.stats().events_pending)
    }

    /// The engine's current time in seconds (injected clock; else monotonic since
    /// creation, or Unix time for a shared store).
    #[pyo3(name = "now")]
    fn py_now(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(secs(self.now_ms(py)?))
    }

    /// Start a new anonymous session: `(token, Session)`.
    #[pyo3(signature = (*, ip=None, user_agent=None))]
    fn create<'py>(
        &self,
        py: Python<'py>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let client = ClientArgs::new(ip, user_agent)?;
        let client = client.core();
        let now = self.now_ms(py)?;
        let (t, s) = self
            .inner
            .with(py, |e| e.create(now, &client))?
            .map_err(|e| to_py(py, e))?;
        Self::token_pair(py, &t, &s)
    }

    /// The live session a token names (its idle timer restarts), or `SessionInvalid`
    /// with `.reason` saying why not.
    #[pyo3(signature = (token, *, ip=None, user_agent=None))]
    fn validate(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Session> {
        let token = bytes_of(token, "token")?;
        let client = ClientArgs::new(ip, user_agent)?;
        let client = client.core();
        let now = self.now_ms(py)?;
        let s = self
            .inner
            .with(py, |e| e.validate(&token, now, &client))?
            .map_err(|e| to_py(py, e))?;
        Ok(Session::from_core(&s))
    }

    /// The live session a token names, without touching it: no idle-timer restart, no
    /// event, no client check, nothing ended (for listings and administration pages, which
    /// must not keep abandoned sessions alive). `SessionInvalid` with the reason
    /// validation would give (`expired_idle`, `logged_out`, ...) otherwise.
    fn peek(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<Session> {
        let token = bytes_of(token, "token")?;
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| e.peek(&token, now))?
            .map(|s| Session::from_core(&s))
            .map_err(|e| to_py(py, e))
    }

    /// Validate the session cookie of a request's `Cookie` header: `(token, Session)`, or
    /// `None` when the header does not carry the cookie. A cookie that comes several times
    /// (one of another path, or planted from a sibling domain) follows the core's rule:
    /// the one copy naming a live session is used; if none does, the first gives its
    /// reason (`SessionInvalid`); if several do, each of those sessions is ended (event
    /// `duplicate_cookie`) and `CookieError` is raised with `reason="duplicate"`.
    /// `CookieError` (`header_too_long`) too for a header over 16 KiB.
    #[pyo3(signature = (cookie_header, *, ip=None, user_agent=None))]
    fn validate_cookie<'py>(
        &self,
        py: Python<'py>,
        cookie_header: &Bound<'_, PyAny>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let header = bytes_of(cookie_header, "cookie_header")?;
        let client = ClientArgs::new(ip, user_agent)?;
        let client = client.core();
        let now = self.now_ms(py)?;
        let found = self
            .inner
            .with(py, |e| {
                e.validate_cookie(&header, now, &client)
                    .map(|f| f.map(|(t, s)| (t.to_vec(), s)))
            })?
            .map_err(|e| to_py(py, e))?;
        let Some((token, s)) = found else {
            return Ok(None);
        };
        // The token named a live session, so it is ASCII base64url.
        let token = PyString::new(py, &String::from_utf8_lossy(&token));
        Ok(Some(PyTuple::new(
            py,
            [
                token.into_any(),
                Bound::new(py, Session::from_core(&s))?.into_any(),
            ],
        )?))
    }

    /// Request fast path: `validate_cookie` and the session's payload in one call (one
    /// lock). Returns `(token, Session, payload)`, or `None` when the header has no usable
    /// session (absent, malformed, oversized, unknown, expired, several live copies, ...).
    /// Never raises for anything the client sent; a shared store that cannot answer
    /// raises `StoreUnavailable` (never a session it could not check).
    #[pyo3(signature = (cookie_header, *, ip=None, user_agent=None))]
    fn load_cookie<'py>(
        &self,
        py: Python<'py>,
        cookie_header: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(header) = opt_bytes(cookie_header, "cookie_header")? else {
            return Ok(None);
        };
        let client = ClientArgs::new(ip, user_agent)?;
        let client = client.core();
        let now = self.now_ms(py)?;
        // Only a store failure is an error: anything the client sent gives `None`.
        fn usable<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
            match r {
                Err(e) if e.is_store() => Err(e),
                r => Ok(r.ok()),
            }
        }
        let found = self
            .inner
            .with(py, |e| {
                let Some(Some((token, s))) = usable(e.validate_cookie(&header, now, &client))?
                else {
                    return Ok(None);
                };
                let token = token.to_vec();
                Ok(usable(Self::payload_of(e, s.handle, now))?.map(|p| (token, s, p)))
            })?
            .map_err(|e| to_py(py, e))?;
        let Some((token, s, payload)) = found else {
            return Ok(None);
        };
        let payload = PyBytes::new(py, &payload);
        // The token matched a live session, so it is ASCII base64url.
        let token = PyString::new(py, &String::from_utf8_lossy(&token));
        Ok(Some(PyTuple::new(
            py,
            [
                token.into_any(),
                Bound::new(py, Session::from_core(&s))?.into_any(),
                payload.into_any(),
            ],
        )?))
    }

    /// Begin serving a request: the session its `Cookie` header names (the duplicate-cookie
    /// rule, deadlines and client checks apply) and that session's payload, in one call
    /// under one lock. Returns `(Request, payload)`; `payload` is `b""` without a session.
    /// Never raises for anything the client sent: an unusable cookie gives a request
    /// without a session. A shared store that cannot answer raises `StoreUnavailable`
    /// (answer 503: the user may have a session that could not be checked).
    /// `Request.finish` ends it.
    #[pyo3(signature = (cookie_header, *, ip=None, user_agent=None))]
    fn begin_request<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        cookie_header: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Request, Bound<'py, PyBytes>)> {
        let (request, payload) = Request::begin(py, slf, cookie_header, ip, user_agent)?;
        Ok((request, PyBytes::new(py, &payload)))
    }

    /// `begin_request` with positional arguments, for the glue's request path: under
    /// the stable ABI below Python 3.10, pyo3 reads every keyword's name into a new
    /// bytes object, a measurable share of a request's native time.
    #[pyo3(name = "_begin_request", signature = (cookie_header, ip, user_agent, /))]
    fn begin_request_positional<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        cookie_header: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Request, Bound<'py, PyBytes>)> {
        Self::begin_request(slf, py, cookie_header, ip, user_agent)
    }

    /// The ASGI glue's start of a request, in one call: the `Cookie` header(s) and
    /// `User-Agent` found in `headers` (an ASGI scope's list of `(name, value)` byte
    /// pairs; a `Cookie` sent twice is joined with `"; "`, as one header) and the address
    /// of `client` (the scope's `(host, port)` or `None`), `begin_request` over them, and
    /// the request's session as a new `session_cls()` (a dict subclass) holding the
    /// payload's JSON object, with `_state` set to the request, which carries
    /// `persistent` (and `discard()`ed when `discard`). The session and the request go
    /// into the scope (`"session"`, `"sessile"`); the send for the app is returned. When
    /// the payload is not a plain JSON object the glue's own decoder makes the session
    /// (`hooks[4](payload, request)`). One call and no tuple back: each Python-level step
    /// on this path was a measurable share of the middleware's cost (callgrind).
    #[pyo3(name = "_begin_asgi", signature = (scope, send, session_cls, persistent, discard, hooks, /))]
    fn begin_asgi<'py>(
        slf: &Bound<'py, Self>,
        scope: &Bound<'py, PyAny>,
        send: &Bound<'py, PyAny>,
        session_cls: &Bound<'py, PyAny>,
        persistent: Option<bool>,
        discard: bool,
        hooks: &Bound<'py, PyTuple>,
    ) -> PyResult<AsgiSend> {
        let py = slf.py();
        let headers = scope.get_item(intern!(py, "headers"))?;
        let client = match scope.cast::<PyDict>() {
            Ok(d) => d.get_item(intern!(py, "client"))?,
            Err(_) => scope
                .call_method1(intern!(py, "get"), (intern!(py, "client"),))
                .ok(),
        };
        let client = client.as_ref();
        let mut cookie: Option<Bound<'py, PyAny>> = None;
        let mut joined: Option<Vec<u8>> = None;
        let mut user_agent: Option<Bound<'py, PyAny>> = None;
        for pair in headers.try_iter()? {
            let pair = pair?;
            let (name, value) = match pair.cast::<PyTuple>() {
                Ok(t) if t.len() == 2 => (t.get_item(0)?, t.get_item(1)?),
                _ => pair.extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>)>()?,
            };
            let Ok(name) = name.cast::<PyBytes>() else {
                continue;
            };
            match name.as_bytes() {
                b"cookie" => match &cookie {
                    None => cookie = Some(value),
                    Some(first) => {
                        let all = match &mut joined {
                            Some(all) => all,
                            None => joined.insert(bytes_of(first, "cookie_header")?.into_owned()),
                        };
                        all.extend_from_slice(b"; ");
                        all.extend_from_slice(&bytes_of(&value, "cookie_header")?);
                    }
                },
                b"user-agent" => user_agent = Some(value),
                _ => {}
            }
        }
        let ip = match client {
            Some(c) if c.is_truthy()? => Some(c.get_item(0)?),
            _ => None,
        };
        let header = match &joined {
            Some(all) => Some(std::borrow::Cow::Borrowed(all.as_slice())),
            None => opt_bytes(cookie.as_ref(), "cookie_header")?,
        };
        let (mut request, payload) =
            Request::begin_bytes(py, slf, header.as_deref(), ip.as_ref(), user_agent.as_ref())?;
        request.set_persistent_value(persistent);
        if discard {
            request.discard();
        }
        let request = Bound::new(py, request)?;
        let mut session = session_cls.call0()?;
        if !payload.is_empty()
            && !crate::json::plain_loads_into(py, &payload, session.cast::<PyDict>()?)?
        {
            let load = hooks.get_item(4)?;
            session = load.call1((PyBytes::new(py, &payload), &request))?;
        } else {
            session.setattr(intern!(py, "_state"), &request)?;
        }
        scope.set_item(intern!(py, "session"), session)?;
        scope.set_item(intern!(py, "sessile"), &request)?;
        Ok(AsgiSend::new(
            request.unbind(),
            scope.clone().unbind(),
            send.clone().unbind(),
            hooks.clone().unbind(),
        ))
    }

    /// Bind the session to `principal` (str or bytes) and rotate its token: returns the new
    /// `(token, Session)`; the old token is dead (anti-fixation). Payload is kept.
    fn login<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'_, PyAny>,
        principal: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let token = bytes_of(token, "token")?;
        let principal = bytes_of(principal, "principal")?;
        let now = self.now_ms(py)?;
        let (t, s) = self
            .inner
            .with(py, |e| e.login(&token, &principal, now))?
            .map_err(|e| to_py(py, e))?;
        Self::token_pair(py, &t, &s)
    }

    /// Give the session a new token; the old one dies. Returns `(token, Session)`.
    fn rotate<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let token = bytes_of(token, "token")?;
        let now = self.now_ms(py)?;
        let (t, s) = self
            .inner
            .with(py, |e| e.rotate(&token, now))?
            .map_err(|e| to_py(py, e))?;
        Self::token_pair(py, &t, &s)
    }

    /// End the session server-side; later reuse of the token is reported.
    fn logout(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<()> {
        let token = bytes_of(token, "token")?;
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| e.logout(&token, now))?
            .map_err(|e| to_py(py, e))
    }

    /// End one session by handle.
    fn revoke(&self, py: Python<'_>, handle: u64) -> PyResult<()> {
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| e.revoke(SessionRef::from_u64(handle), now))?
            .map_err(|e| to_py(py, e))
    }

    /// End every session of `principal` ("log out everywhere"); returns how many were
    /// live (0 for a principal that has none, including one no login would accept). One
    /// past its deadline but not yet swept ends as expired and is not counted.
    fn revoke_principal(&self, py: Python<'_>, principal: &Bound<'_, PyAny>) -> PyResult<usize> {
        let principal = bytes_of(principal, "principal")?;
        let now = self.now_ms(py)?;
        self.inner
            .run_detached(py, |e| e.revoke_principal(&principal, now))?
            .map_err(|e| to_py(py, e))
    }

    /// End every live session (an administrator's "log everyone out"); returns how many.
    /// Costs in proportion to capacity, so other threads run meanwhile.
    fn revoke_all(&self, py: Python<'_>) -> PyResult<usize> {
        let now = self.now_ms(py)?;
        self.inner
            .run_detached(py, |e| e.revoke_all(now))?
            .map_err(|e| to_py(py, e))
    }

    /// The live sessions of `principal`.
    fn sessions_of(&self, py: Python<'_>, principal: &Bound<'_, PyAny>) -> PyResult<Vec<Session>> {
        let principal = bytes_of(principal, "principal")?;
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| {
                e.sessions_of(&principal, now)
                    .map(|all| all.map(|s| Session::from_core(&s)).collect())
            })?
            .map_err(|e| to_py(py, e))
    }

    /// A fresh snapshot of the session behind `handle` (`StaleHandle` once it ended,
    /// `SessionInvalid` with an expired reason when it is past its deadline).
    fn session(&self, py: Python<'_>, handle: u64) -> PyResult<Session> {
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| e.session(SessionRef::from_u64(handle), now))?
            .map(|s| Session::from_core(&s))
            .map_err(|e| to_py(py, e))
    }

    /// Override one session's timeouts (seconds; each within the configured maximum).
    #[pyo3(signature = (handle, *, idle_timeout=None, absolute_timeout=None))]
    fn set_timeouts(
        &self,
        py: Python<'_>,
        handle: u64,
        idle_timeout: Option<f64>,
        absolute_timeout: Option<f64>,
    ) -> PyResult<Session> {
        let conv = |v: Option<f64>| -> PyResult<Option<u32>> {
            v.map(|s| {
                seconds_to_ms(s)
                    .and_then(|ms| u32::try_from(ms).ok())
                    .ok_or_else(|| to_py(py, Error::InvalidTimeout))
            })
            .transpose()
        };
        let idle = conv(idle_timeout)?;
        let absolute = conv(absolute_timeout)?;
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| {
                e.set_timeouts(SessionRef::from_u64(handle), idle, absolute, now)
            })?
            .map(|s| Session::from_core(&s))
            .map_err(|e| to_py(py, e))
    }

    /// Replace the session's payload (bytes). Too large: `PayloadTooLarge`, old payload kept.
    fn write(&self, py: Python<'_>, handle: u64, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = data.cast::<PyBytes>().map_err(|_| {
            PyTypeError::new_err("payload must be bytes (use write_json for objects)")
        })?;
        let bytes = data.as_bytes();
        let now = self.now_ms(py)?;
        self.inner
            .with(py, |e| e.write(SessionRef::from_u64(handle), bytes, now))?
            .map_err(|e| to_py(py, e))
    }

    /// Store `data` (bytes) as the payload of the session a request loaded (`session`:
    /// the `Session` that `load_cookie` or `validate` gave), at the end of that request.
    /// Returns `"written"`, `"unchanged"` (the same bytes were stored) or `"dropped"`:
    /// nothing was written because the session ended, or its token changed, since it was
    /// loaded, or (a shared store) another request wrote it since; reload and redo the
    /// change to keep it. Never lands on a session that ended: a save never brings a
    /// logged-out session back.
    fn save(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<&'static str> {
        let data = data.cast::<PyBytes>().map_err(|_| {
            PyTypeError::new_err("payload must be bytes (use write_json for objects)")
        })?;
        let bytes = data.as_bytes();
        let s = session.get();
        let now = self.now_ms(py)?;
        let saved = self
            .inner
            .with(py, |e| {
                e.save(SessionRef::from_u64(s.handle), s.epoch, bytes, now)
            })?
            .map_err(|e| to_py(py, e))?;
        Ok(match saved {
            Saved::Written => "written",
            Saved::Unchanged => "unchanged",
            Saved::Dropped => "dropped",
        })
    }

    /// The session's payload.
    fn read<'py>(&self, py: Python<'py>, handle: u64) -> PyResult<Bound<'py, PyBytes>> {
        let now = self.now_ms(py)?;
        let data = self
            .inner
            .with(py, |e| {
                Self::payload_of(e, SessionRef::from_u64(handle), now)
            })?
            .map_err(|e| to_py(py, e))?;
        Ok(PyBytes::new(py, &data))
    }

    /// Reclaim every expired session; returns how many.
    fn sweep(&self, py: Python<'_>) -> PyResult<usize> {
        let now = self.now_ms(py)?;
        self.inner
            .run_detached(py, |e| e.sweep(now))?
            .map_err(|e| to_py(py, e))
    }

    /// Every pending security event, oldest first (the Python `Engine` also logs them on
    /// the `sessile.security` logger).
    fn drain_events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let events: Vec<Event> = self.inner.with(py, |e| {
            e.drain_events().map(|ev| Event::from_core(&ev)).collect()
        })?;
        PyList::new(py, events)
    }

    /// Give the token generator a fresh key from the OS (`EntropyError` if it has none):
    /// after the process was cloned with its pid kept (a VM snapshot restored, a CRIU
    /// restore), which the fork guard cannot see, or after its memory may have been read.
    /// Tokens issued afterwards do not follow from anything in memory before. A forked
    /// child needs no call: it is reseeded at the fork.
    fn reseed(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.backend.reseed().map_err(|e| to_py(py, e))
    }

    /// Write a snapshot of every session and dead token to `path`, encrypted and
    /// authenticated under `key` (32 random bytes kept secret; the same key restores it),
    /// atomically: `path` holds the previous snapshot or this one, never a part (a
    /// temporary file beside it, flushed, renamed over it; readable by its owner only).
    /// Deadlines are written in wall-clock time (`wall_time`: seconds since the epoch, by
    /// default the system clock), so they keep counting while the process is down. The
    /// engine keeps serving: call it at shutdown and whenever a copy is wanted.
    #[pyo3(signature = (path, key, *, wall_time=None))]
    fn snapshot(
        &self,
        py: Python<'_>,
        path: PathBuf,
        key: &Bound<'_, PyAny>,
        wall_time: Option<f64>,
    ) -> PyResult<()> {
        let key = key_of(key)?;
        let at = self.clocks(py, wall_time)?;
        let shared = self.memory(py)?;
        py.detach(|| shared.snapshot_to(&path, &key, at))
            .map_err(|e| file_error(py, e))?;
        Ok(())
    }

    /// An engine built from `**engine` (the keywords of `Engine(...)`), holding what the
    /// snapshot at `path` held: every session live at `wall_time` (seconds since the
    /// epoch, by default the system clock) with its token, principal, payload and
    /// deadlines; every logged-out and rotated-out token, which still answers so; a
    /// session whose deadline passed meanwhile answers `expired_*`.
    ///
    /// `SnapshotError` when the file is refused, `.reason` saying why (`snapshot_tampered`,
    /// `snapshot_wrong_key`, `snapshot_truncated`, `snapshot_stale` when older than
    /// `max_age` seconds, `snapshot_future`, `snapshot_does_not_fit` when the config is
    /// smaller than the snapshot's, ...); `OSError` when it cannot be read
    /// (`FileNotFoundError` on a first start). Build a new `Engine(...)` then: it starts
    /// empty. For this process's table only: with `store=` a URL, `snapshot` and `restore`
    /// raise `SnapshotError` (`snapshot_shared_store`).
    #[classmethod]
    #[pyo3(signature = (path, key, *, max_age=None, wall_time=None, **engine))]
    fn restore(
        cls: &Bound<'_, PyType>,
        path: PathBuf,
        key: &Bound<'_, PyAny>,
        max_age: Option<f64>,
        wall_time: Option<f64>,
        engine: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let py = cls.py();
        let key = key_of(key)?;
        let max_age_ms = match max_age {
            None => DEFAULT_MAX_AGE_MS,
            Some(s) => seconds_to_ms(s)
                .ok_or_else(|| PyValueError::new_err("max_age must be finite seconds >= 0"))?,
        };
        let made = cls.call((), engine)?;
        let e = made.cast::<Engine>()?.borrow();
        let at = e.clocks(py, wall_time)?;
        let shared = e.memory(py)?;
        py.detach(|| shared.restore_from(&path, &key, at, max_age_ms))
            .map_err(|err| file_error(py, err))?;
        drop(e);
        Ok(made.unbind())
    }

    /// Counters.
    fn stats(&self, py: Python<'_>) -> PyResult<Stats> {
        Ok(Stats::from_core(&self.inner.with(py, |e| e.stats())?))
    }

    /// The `Set-Cookie` value carrying `token` for `session`, with `Max-Age` until its
    /// absolute deadline; `persistent=False` omits `Max-Age` (a browser-session cookie),
    /// `None` follows `cookie_persistent`.
    #[pyo3(signature = (token, session, *, persistent=None))]
    fn set_cookie(
        &self,
        py: Python<'_>,
        token: &str,
        session: &Bound<'_, Session>,
        persistent: Option<bool>,
    ) -> PyResult<String> {
        let now = self.now_ms(py)?;
        let handle = SessionRef::from_u64(session.get().handle);
        self.inner
            .with(py, |e| match persistent {
                None => e.set_cookie(token, handle, now),
                Some(p) => e.set_cookie_as(token, handle, now, p),
            })?
            .map(|s| s.as_str().to_owned())
            .map_err(|e| to_py(py, e))
    }

    /// The `Set-Cookie` value for any `value` with this engine's cookie attributes and the
    /// given `Max-Age` (seconds; `None` writes none), or `None` when `value` is not a valid
    /// cookie value. For servers that format headers themselves; a session's cookie comes
    /// from `set_cookie`.
    #[pyo3(signature = (value, max_age_s=None))]
    fn format_set_cookie(&self, value: &str, max_age_s: Option<u64>) -> Option<String> {
        self.cookie
            .set_cookie(value, max_age_s)
            .map(|s| s.as_str().to_owned())
    }

    /// The `Set-Cookie` value that deletes the session cookie (`Max-Age=0`).
    fn clear_cookie(&self) -> String {
        self.cookie
            .clear_cookie()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    }

    /// The session token in a `Cookie` header, `None` when absent; `CookieError` when the
    /// header is oversized or names the session cookie twice with different values. (To
    /// serve a request use `validate_cookie` or `load_cookie`, which choose among copies.)
    fn token_from_cookie_header(
        &self,
        py: Python<'_>,
        header: &Bound<'_, PyAny>,
    ) -> PyResult<Option<String>> {
        let header = bytes_of(header, "header")?;
        sessile::cookie::parse_cookie(&header, self.cookie.name.as_str())
            .map(|t| t.map(|t| String::from_utf8_lossy(t).into_owned()))
            .map_err(|e| to_py(py, Error::Cookie(e)))
    }
}
