//! Time at the Python edge: seconds in Python, milliseconds in the core, and the clock a
//! test may inject (`Engine(clock=...)`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::raise;

/// Milliseconds to seconds at the Python edge.
pub(crate) fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// Seconds from Python to the core's milliseconds, rounded to the nearest; `None` unless
/// finite and >= 0 (and within 64 bits). Ranges are the core's to check.
pub(crate) fn seconds_to_ms(s: f64) -> Option<u64> {
    let ms = (s * 1000.0).round();
    // 2^64 as f64; `as` saturates, so the bound is checked first.
    (s.is_finite() && (0.0..18_446_744_073_709_551_616.0).contains(&ms)).then_some(ms as u64)
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
