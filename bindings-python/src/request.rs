//! `Request`: one request's session, from its `Cookie` header to its response's
//! `Set-Cookie`, driven by the core's lifecycle ([`sessile::Request`]). The Flask and ASGI
//! glue (`sessile/_lifecycle.py`) only map their frameworks' words onto these calls; when a
//! session starts, ends, which cookie is sent, and that a save never lands on a session
//! that ended or changed token meanwhile, are the core's rules.

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use sessile::{Request as CoreRequest, Store};

use crate::client::HeldClient;
use crate::convert::{bytes_of, opt_bytes};
use crate::engine::Engine;
use crate::errors::to_py;
use crate::json::plain_json_dict_bytes;
use crate::session::Session;

/// The session behind one request, and what its response must do. Made by
/// `Engine.begin_request`; one per request, used by one thread.
#[pyclass(module = "sessile._native")]
pub struct Request {
    engine: Py<Engine>,
    /// Boxed: the core's request is a few hundred bytes, which each move on the way
    /// from the store's lock into the Python object copied (callgrind: a memcpy each).
    inner: Box<CoreRequest>,
    /// The request's client, for the checks of a session this request starts.
    client: HeldClient,
    /// Events in this process's ring when `finish` returned (read under its lock, so
    /// the glue does not take the engine's lock a third time to ask); 0 for a shared
    /// store, whose glue always drains.
    events_pending: u32,
    /// Whether the response's cookie carries `Max-Age` (`None`: the engine's
    /// `cookie_persistent`), for the glue's `_finish_session`.
    persistent: Option<bool>,
}

impl Request {
    /// Begin a request (the core's `Request::begin`) and copy its session's payload out,
    /// under one lock: the request fast path. No Python code runs while the lock is held.
    /// A store that could not answer is `StoreUnavailable`: the request may carry a
    /// session that could not be checked, so it is not served as one without.
    pub(crate) fn begin(
        py: Python<'_>,
        engine: &Bound<'_, Engine>,
        cookie_header: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Request, Vec<u8>)> {
        let header = opt_bytes(cookie_header, "cookie_header")?;
        Self::begin_bytes(py, engine, header.as_deref(), ip, user_agent)
    }

    /// [`Request::begin`] with the `Cookie` header read already.
    pub(crate) fn begin_bytes(
        py: Python<'_>,
        engine: &Bound<'_, Engine>,
        header: Option<&[u8]>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Request, Vec<u8>)> {
        let client = HeldClient::new(ip, user_agent)?;
        let e = engine.borrow();
        let now = e.now_ms(py)?;
        let (inner, payload) = e.inner.with(py, |store| {
            let r = Box::new(CoreRequest::begin(store, header, now, &client.core()));
            let mut payload = Vec::new();
            for chunk in r.payload(store, now).into_iter().flatten() {
                payload.extend_from_slice(chunk);
            }
            (r, payload)
        })?;
        if let Some(e) = inner.store_error() {
            return Err(to_py(py, e));
        }
        let request = Request {
            engine: engine.clone().unbind(),
            inner,
            client,
            events_pending: 0,
            persistent: None,
        };
        Ok((request, payload))
    }
}

#[pymethods]
impl Request {
    /// The token of the session this request holds (`None` without one).
    #[getter]
    fn token(&self) -> Option<&str> {
        self.inner.token()
    }

    /// A snapshot of the session this request holds, as last seen by it.
    #[getter]
    fn session(&self) -> Option<Session> {
        self.inner.session().map(Session::from_core)
    }

    /// The logged-in user (`None` when anonymous or without a session; invalid UTF-8 is
    /// replaced).
    #[getter]
    fn principal(&self) -> Option<String> {
        self.inner
            .principal()
            .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned())
    }

    /// The token changed in this request (new session, login, rotation): the response
    /// will carry it.
    #[getter]
    fn token_changed(&self) -> bool {
        self.inner.token_changed()
    }

    /// The app emptied the session (`session.clear()`): at `finish` it ends server-side,
    /// as a logout, whatever the data then holds; a login after it starts afresh.
    fn clear(&mut self) {
        self.inner.clear();
    }

    /// End the session server-side now, as a logout (later reuse of its token is
    /// reported); the response clears the cookie. `StoreUnavailable` when a shared store
    /// could not answer: the session lives on, and `finish` raises it too.
    fn end(&mut self, py: Python<'_>) -> PyResult<()> {
        let engine = self.engine.borrow(py);
        let now = engine.now_ms(py)?;
        engine.inner.with(py, |e| self.inner.end(e, now))?;
        match self.inner.store_error() {
            Some(e) => Err(to_py(py, e)),
            None => Ok(()),
        }
    }

    /// Bind the session to `principal` (str or bytes) and rotate its token
    /// (anti-fixation); its data is kept. Starts a session if the request holds none, or
    /// after `clear()`.
    fn login(&mut self, py: Python<'_>, principal: &Bound<'_, PyAny>) -> PyResult<()> {
        let principal = bytes_of(principal, "principal")?;
        let engine = self.engine.borrow(py);
        let now = engine.now_ms(py)?;
        let Request { inner, client, .. } = self;
        engine
            .inner
            .with(py, |e| inner.login(e, &principal, now, &client.core()))?
            .map_err(|e| to_py(py, e))
    }

    /// Give the session a new token (nothing without a session).
    fn rotate(&mut self, py: Python<'_>) -> PyResult<()> {
        let engine = self.engine.borrow(py);
        let now = engine.now_ms(py)?;
        engine
            .inner
            .with(py, |e| self.inner.rotate(e, now))?
            .map_err(|e| to_py(py, e))
    }

    /// Send the session's cookie with this response although its token did not change
    /// (a framework changed what the cookie says, e.g. Flask's `session.permanent`).
    fn resend_cookie(&mut self) {
        self.inner.resend_cookie();
    }

    /// The session must not outlive this request (Starlette's `max_age` of zero or
    /// less): `finish` stores nothing, ends a session the request holds, and answers a
    /// cookie that expires at once when there was data or a session.
    pub(crate) fn discard(&mut self) {
        self.inner.discard();
    }

    /// End the request: store `data` (bytes; `None` when the app did not modify the
    /// session) and return the `Set-Cookie` value the response must carry, if any.
    /// `persistent` chooses a `Max-Age` for that cookie (`None`: the engine's
    /// `cookie_persistent`). Emptying a session that held data, or `clear()`, logs out;
    /// data never lands on a session that ended, or whose token changed in another
    /// request, since this one began (no cookie is sent then).
    #[pyo3(signature = (data, *, persistent=None))]
    fn finish(
        &mut self,
        py: Python<'_>,
        data: Option<&Bound<'_, PyAny>>,
        persistent: Option<bool>,
    ) -> PyResult<Option<String>> {
        let data = data
            .map(|d| {
                d.cast::<PyBytes>().map_err(|_| {
                    PyTypeError::new_err("session data must be bytes (or None when unchanged)")
                })
            })
            .transpose()?;
        self.finish_bytes(py, data.map(|d| d.as_bytes()), persistent)
    }

    /// `finish` with positional arguments, for the glue's request path (see
    /// `Engine._begin_request`).
    #[pyo3(name = "_finish", signature = (data, persistent, /))]
    fn finish_positional(
        &mut self,
        py: Python<'_>,
        data: Option<&Bound<'_, PyAny>>,
        persistent: Option<bool>,
    ) -> PyResult<Option<String>> {
        self.finish(py, data, persistent)
    }

    /// The glue's end of a request (`SessionState.finish` of `sessile._lifecycle`, in one
    /// call): store the session dict `session` as `sessile.dumps` writes it (an empty one
    /// as no data: the logout rule), with the `persistent` this request carries, log the
    /// engine's pending events (`Engine.drain_events`, as the glue does), and return the
    /// `Set-Cookie` value as bytes, or `None`. `NotImplemented`, with nothing done, when
    /// `session` is not a dict of plain values: the glue's own encoder decides then.
    #[pyo3(signature = (session, /))]
    fn _finish_session<'py>(
        &mut self,
        py: Python<'py>,
        session: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dict = match session.cast::<PyDict>() {
            Ok(d) if crate::tracked::reads_as_dict(d) => d,
            _ => return Ok(py.NotImplemented().into_bound(py)),
        };
        let body = if dict.is_empty() {
            Vec::new()
        } else {
            match plain_json_dict_bytes(dict)? {
                Some(body) => body,
                None => return Ok(py.NotImplemented().into_bound(py)),
            }
        };
        let persistent = self.persistent;
        let done = self.finish_bytes(py, Some(&body), persistent);
        let engine = self.engine.bind(py);
        if self.events_pending != 0 || engine.borrow().inner.backend.is_shared() {
            engine.call_method0("drain_events")?;
        }
        Ok(match done? {
            Some(cookie) => PyBytes::new(py, cookie.as_bytes()).into_any(),
            None => py.None().into_bound(py),
        })
    }

    /// The ASGI glue's end of a request, at the response's start `message`:
    /// `_finish_session(session)`, then, when a cookie is sent or the app read the
    /// session (its `accessed`, true when it has none), `Vary: Cookie` and the
    /// `Set-Cookie` appended to a copy of the message's raw headers. `None` when done;
    /// the cookie (bytes or `None` in a 1-tuple) when the response has a `Vary` already
    /// (the glue merges it); `NotImplemented`, with nothing done, as `_finish_session`.
    #[pyo3(signature = (session, message, /))]
    pub(crate) fn _finish_asgi<'py>(
        &mut self,
        py: Python<'py>,
        session: &Bound<'py, PyAny>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cookie = self._finish_session(py, session)?;
        if cookie.is(py.NotImplemented()) {
            return Ok(cookie);
        }
        let accessed = match crate::tracked::accessed(session) {
            Some(a) => a,
            None => match session.getattr_opt(intern!(py, "accessed"))? {
                Some(a) => a.is_truthy()?,
                None => true,
            },
        };
        if cookie.is_none() && !accessed {
            return Ok(py.None().into_bound(py));
        }
        let Ok(message) = message.cast::<PyDict>() else {
            return Ok(PyTuple::new(py, [cookie])?.into_any());
        };
        let raw = PyList::empty(py);
        if let Some(headers) = message.get_item(intern!(py, "headers"))? {
            for pair in headers.try_iter()? {
                let pair = pair?;
                let name = match pair.cast::<PyTuple>() {
                    Ok(t) if t.len() == 2 => t.get_item(0)?,
                    _ => pair.get_item(0)?,
                };
                let vary = match name.cast::<PyBytes>() {
                    Ok(n) => n.as_bytes().eq_ignore_ascii_case(b"vary"),
                    Err(_) => true, // not bytes: the glue's generic path decides
                };
                if vary {
                    return Ok(PyTuple::new(py, [cookie])?.into_any());
                }
                raw.append(pair)?;
            }
        }
        raw.append(vary_cookie(py)?)?;
        if !cookie.is_none() {
            raw.append((PyBytes::new(py, b"set-cookie"), cookie))?;
        }
        message.set_item(intern!(py, "headers"), raw)?;
        Ok(py.None().into_bound(py))
    }

    /// Whether the response's cookie carries `Max-Age` (`None`: the engine's
    /// `cookie_persistent`), as `_finish_session` sends it.
    #[getter]
    fn get_persistent(&self) -> Option<bool> {
        self.persistent
    }

    #[setter]
    fn set_persistent(&mut self, persistent: Option<bool>) {
        self.persistent = persistent;
    }

    /// The engine this request's session lives in.
    #[getter]
    fn engine(&self, py: Python<'_>) -> Py<Engine> {
        self.engine.clone_ref(py)
    }

    /// Events waiting in this process's table when `finish` returned (0 before it, and
    /// for a shared store).
    #[getter]
    fn events_pending(&self) -> u32 {
        self.events_pending
    }

    fn __repr__(&self) -> String {
        match self.inner.session() {
            Some(s) => format!("Request(session={:#x})", s.handle.to_u64()),
            None => "Request(session=None)".to_owned(),
        }
    }
}

/// The `(b"vary", b"Cookie")` header pair, made once: a tuple of bytes cannot change, so
/// every response may share it.
fn vary_cookie(py: Python<'_>) -> PyResult<&Bound<'_, PyTuple>> {
    static VARY: PyOnceLock<Py<PyTuple>> = PyOnceLock::new();
    VARY.get_or_try_init(py, || {
        PyTuple::new(py, [PyBytes::new(py, b"vary"), PyBytes::new(py, b"Cookie")])
            .map(Bound::unbind)
    })
    .map(|t| t.bind(py))
}

impl Request {
    pub(crate) fn set_persistent_value(&mut self, persistent: Option<bool>) {
        self.persistent = persistent;
    }

    /// `finish` with the data read already.
    fn finish_bytes(
        &mut self,
        py: Python<'_>,
        data: Option<&[u8]>,
        persistent: Option<bool>,
    ) -> PyResult<Option<String>> {
        let engine = self.engine.borrow(py);
        let now = engine.now_ms(py)?;
        let shared = engine.inner.backend.is_shared();
        let Request {
            inner,
            client,
            events_pending,
            ..
        } = self;
        let (done, pending) = engine.inner.with(py, |e| {
            let done = inner.finish(e, data, persistent, now, &client.core());
            (done, if shared { 0 } else { e.stats().events_pending })
        })?;
        *events_pending = pending;
        done.map(|c| c.map(|c| c.as_str().to_owned()))
            .map_err(|e| to_py(py, e))
    }
}
