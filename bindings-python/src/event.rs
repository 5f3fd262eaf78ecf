//! `Event`: one security event.

use pyo3::prelude::*;

use sessile::Event as CoreEvent;

use crate::clock::secs;

/// One security event. `session` is a keyed digest of the session, never its token.
#[pyclass(module = "sessile._native", frozen)]
pub struct Event {
    /// Stable snake_case name (`created`, `logged_in`, `reuse_after_logout`, ...).
    #[pyo3(get)]
    kind: &'static str,
    /// Keyed digest naming the session; 0 for engine-wide events.
    #[pyo3(get)]
    session: u64,
    /// Engine time of the event, seconds.
    #[pyo3(get)]
    at: f64,
    /// True for the kinds an operator should be alerted to.
    #[pyo3(get)]
    alert: bool,
}

#[pymethods]
impl Event {
    /// `session` as 16 hex digits, as in the demo servers' log lines.
    #[getter]
    fn session_hex(&self) -> String {
        format!("{:016x}", self.session)
    }

    fn __repr__(&self) -> String {
        format!(
            "Event(kind={:?}, session={:016x}, at={})",
            self.kind, self.session, self.at
        )
    }
}

impl Event {
    pub(crate) fn from_core(e: &CoreEvent) -> Event {
        Event {
            kind: e.kind.as_str(),
            session: e.session,
            at: secs(e.at_ms),
            alert: e.kind.is_security_alert(),
        }
    }
}
