//! `_AsgiSend`: the `send` the ASGI glue (`sessile/starlette.py`) hands the app, as a
//! native callable. At the response's start it ends the request's session
//! (`Request._finish_asgi`: store, `Vary`, `Set-Cookie`) and returns the awaitable of the
//! server's own `send(message)`, so a message costs no coroutine of the glue's (the
//! profile's largest share of the middleware once the session work was native). What it
//! cannot do natively it hands to the glue's Python: a session of values that are not
//! plain JSON or a response that has a `Vary` (`finish_slow`), and the 503 of a store
//! that cannot answer (`unavailable`).

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::request::Request;

#[pyclass(module = "sessile._native")]
pub struct AsgiSend {
    request: Py<Request>,
    scope: Py<PyAny>,
    send: Py<PyAny>,
    /// `(StoreUnavailable, unavailable, finish_slow)` of the glue.
    hooks: Py<PyTuple>,
    started: bool,
    failed: bool,
}

impl AsgiSend {
    pub(crate) fn new(
        request: Py<Request>,
        scope: Py<PyAny>,
        send: Py<PyAny>,
        hooks: Py<PyTuple>,
    ) -> AsgiSend {
        AsgiSend {
            request,
            scope,
            send,
            hooks,
            started: false,
            failed: false,
        }
    }

    /// End the session at the response's start `message` (natively, or through the
    /// glue's `finish_slow(request, session, message, done)`).
    fn finish<'py>(&self, py: Python<'py>, message: &Bound<'py, PyAny>) -> PyResult<()> {
        let session = self.scope.bind(py).get_item(intern!(py, "session"))?;
        let request = self.request.bind(py);
        let done = request.borrow_mut()._finish_asgi(py, &session, message)?;
        if !done.is_none() {
            let slow = self.hooks.bind(py).get_item(2)?;
            slow.call1((request, session, message, done))?;
        }
        Ok(())
    }
}

#[pymethods]
impl AsgiSend {
    /// Send `message` on: returns the awaitable of the server's `send(message)` (or of
    /// the glue's 503 when the store could not store the session).
    #[pyo3(signature = (message, /))]
    fn __call__<'py>(
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let send = self.send.bind(py);
        if self.failed {
            // The app's body of a response replaced by the 503: dropped.
            let hooks = self.hooks.bind(py);
            return hooks.get_item(3)?.call0();
        }
        let kind = message.get_item(intern!(py, "type"))?;
        // Servers and Starlette send literals, interned as these are: the pointer first.
        let start = intern!(py, "http.response.start");
        if kind.is(start) || kind.eq(start)? {
            if let Err(e) = self.finish(py, message) {
                let hooks = self.hooks.bind(py);
                if !e.is_instance(py, &hooks.get_item(0)?) {
                    return Err(e);
                }
                // What the app did to the session was not stored: say so instead.
                self.failed = true;
                let unavailable = hooks.get_item(1)?;
                return unavailable.call1((self.scope.bind(py), send, e.value(py)));
            }
            self.started = true;
        } else if kind.eq(intern!(py, "websocket.accept"))? {
            self.started = true;
        }
        send.call1((message,))
    }

    /// A response is under way (started, or replaced by the 503): an error after this
    /// cannot be answered with another.
    #[getter]
    fn started(&self) -> bool {
        self.started || self.failed
    }
}
