//! Time at the Python edge: seconds in Python, milliseconds in the core, and the clock a
//! test may inject (`Engine(clock=...)`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::raise;

/// Milliseconds to seconds at the Python edge.
pub(crate) fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// Seconds from Python to the core's milliseconds; `None` unless finite, >= 0 and within
/// `u32` ms (about 49.7 days).
pub(crate) fn seconds_to_ms(s: f64) -> Option<u32> {
    let ms = (s * 1000.0).round();
    (s.is_finite() && ms >= 0.0 && ms <= f64::from(u32::MAX)).then_some(ms as u32)
}

/// Refuse an injected clock that cannot be called.
pub(crate) fn check(py: Python<'_>, clock: &Py<PyAny>) -> PyResult<()> {
    if clock.bind(py).is_callable() {
        Ok(())
    } else {
        Err(PyTypeError::new_err(
            "clock must be a callable returning seconds",
        ))
    }
}

/// The time of an injected clock (seconds) in whole ms; `ClockError` unless it gives
/// finite seconds >= 0.
pub(crate) fn read_ms(py: Python<'_>, clock: &Py<PyAny>) -> PyResult<u64> {
    let v = clock.bind(py).call0()?;
    let s: f64 = v.extract().map_err(|_| {
        raise(
            py,
            "ClockError",
            "clock() must return a number of seconds".into(),
            None,
        )
    })?;
    // Whole microseconds first, so that e.g. 1.001 s (1000.9999… ms in binary) is 1001 ms.
    let us = (s * 1e6).round();
    if !(s.is_finite() && (0.0..9_007_199_254_740_992.0).contains(&us)) {
        return Err(raise(
            py,
            "ClockError",
            format!("clock() returned {s}; it must be finite seconds >= 0"),
            None,
        ));
    }
    Ok(us as u64 / 1000)
}
