//! `Session`: a snapshot of one live session.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use sessile::Session as CoreSession;

use crate::clock::secs;

/// A snapshot of one live session. Times are seconds on the engine's clock; the token is
/// never part of it.
#[pyclass(module = "sessile._native", frozen)]
pub struct Session {
    /// Handle for `read`, `write`, `revoke`, `set_timeouts`, `session`.
    #[pyo3(get)]
    pub(crate) handle: u64,
    /// Keyed digest naming the session in events (stable across rotation).
    #[pyo3(get)]
    tag: u64,
    #[pyo3(get)]
    created: f64,
    #[pyo3(get)]
    last_seen: f64,
    #[pyo3(get)]
    idle_deadline: f64,
    #[pyo3(get)]
    absolute_deadline: f64,
    #[pyo3(get)]
    idle_timeout: f64,
    #[pyo3(get)]
    absolute_timeout: f64,
    #[pyo3(get)]
    payload_len: u32,
    /// What `Engine.save` checks: the session's state when this snapshot was taken (a
    /// login, rotation or end moves it; so does every payload write in a shared store).
    #[pyo3(get)]
    pub(crate) epoch: u32,
    principal: Option<Vec<u8>>,
}

impl Session {
    pub(crate) fn from_core(s: &CoreSession) -> Session {
        Session {
            handle: s.handle.to_u64(),
            tag: s.tag,
            created: secs(s.created_ms),
            last_seen: secs(s.last_seen_ms),
            idle_deadline: secs(s.idle_deadline_ms),
            absolute_deadline: secs(s.absolute_deadline_ms),
            idle_timeout: secs(u64::from(s.idle_timeout_ms)),
            absolute_timeout: secs(u64::from(s.absolute_timeout_ms)),
            payload_len: s.payload_len,
            epoch: s.epoch,
            principal: s.principal.map(|p| p.as_bytes().to_vec()),
        }
    }
}

#[pymethods]
impl Session {
    /// The bound principal as text (`None` for an anonymous session; invalid UTF-8 is
    /// replaced, see `principal_bytes`).
    #[getter]
    fn principal(&self) -> Option<String> {
        self.principal
            .as_ref()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The bound principal's exact bytes.
    #[getter]
    fn principal_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.principal.as_ref().map(|p| PyBytes::new(py, p))
    }

    /// True once the session is bound to a principal (after `login`).
    #[getter]
    fn authenticated(&self) -> bool {
        self.principal.is_some()
    }

    /// The earlier of the two deadlines (seconds, engine clock).
    #[getter]
    fn expires(&self) -> f64 {
        self.idle_deadline.min(self.absolute_deadline)
    }

    fn __repr__(&self) -> String {
        format!(
            "Session(handle={:#x}, tag={:016x}, principal={:?}, payload_len={}, expires={})",
            self.handle,
            self.tag,
            self.principal(),
            self.payload_len,
            self.expires()
        )
    }
}
