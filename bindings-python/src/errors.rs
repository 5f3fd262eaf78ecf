//! Core errors as the Python classes of `sessile.errors`: one class per core error, each
//! carrying the core's stable `code` (and `reason` where the core gives one).

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;

use sessile::shared::FileError;
use sessile::{ConfigError, Error, SnapshotError};

use crate::config::{py_name, python_key, python_message};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Build an instance of `sessile.errors.<class>(message, reason)` as a `PyErr`.
pub(crate) fn raise(py: Python<'_>, class: &str, message: String, reason: Option<&str>) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let module =
            ERRORS.get_or_try_init(py, || py.import("sessile.errors").map(Bound::unbind))?;
        let cls = module.bind(py).getattr(class)?;
        let value = cls.call1((message.clone(), reason))?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|e| PyRuntimeError::new_err(format!("{message} ({e})")))
}

/// The Python class of each core error; the class carries the core's stable `code`.
fn error_class(e: &Error) -> (&'static str, Option<&'static str>) {
    match e {
        Error::CapacityExhausted => ("CapacityExhausted", None),
        Error::PoolExhausted => ("PoolExhausted", None),
        Error::PayloadTooLarge => ("PayloadTooLarge", None),
        Error::InvalidPrincipal => ("InvalidPrincipal", None),
        Error::PrincipalLimit => ("PrincipalLimit", None),
        Error::InvalidTimeout => ("InvalidTimeout", None),
        Error::Config(c) => ("ConfigError", Some(c.code())),
        Error::Session(why) => ("SessionInvalid", Some(why.code())),
        Error::StaleHandle => ("StaleHandle", None),
        Error::Cookie(c) => ("CookieError", Some(c.code())),
        Error::BufferTooSmall => ("BufferTooSmall", None),
        Error::StorageSize => ("StorageSize", None),
        Error::Entropy => ("EntropyError", None),
        Error::OutOfMemory => ("OutOfMemory", None),
        Error::Store(why) => ("StoreUnavailable", Some(why.code())),
        Error::Snapshot(s) => ("SnapshotError", Some(s.code())),
    }
}

pub(crate) fn to_py(py: Python<'_>, e: Error) -> PyErr {
    if let Error::Config(c) = e {
        return config_error(py, c);
    }
    let (class, reason) = error_class(&e);
    let err = raise(py, class, e.to_string(), reason);
    if let Error::Snapshot(SnapshotError::DoesNotFit { key }) = e {
        let key = sessile::vocabulary::key(key).map_or(key, py_name);
        // Only fails if `raise` fell back to a RuntimeError, which it already explains.
        let _ = err.value(py).setattr("key", key);
    }
    err
}

/// A core config error as `sessile.ConfigError`, in Python's words: its message and its
/// `.key` name the keyword of `Engine(...)` (`idle_timeout`, not `idle_timeout_ms`).
pub(crate) fn config_error(py: Python<'_>, e: ConfigError) -> PyErr {
    config_error_saying(py, e, python_message(&e))
}

/// [`config_error`] with a message of the binding's (a rule between the store's keys,
/// said in Python's words).
pub(crate) fn config_error_saying(py: Python<'_>, e: ConfigError, message: String) -> PyErr {
    let err = raise(py, "ConfigError", message, Some(e.code()));
    // Only fails if `raise` fell back to a RuntimeError, which it already explains.
    let _ = err.value(py).setattr("key", python_key(&e));
    err
}

/// A `seed` the binding cannot use (it is no config key of the core).
pub(crate) fn bad_seed(py: Python<'_>, message: String) -> PyErr {
    raise(py, "ConfigError", message, Some("invalid_value"))
}

/// A snapshot file that could not be written or read (`OSError`, the right subclass for
/// its errno), or that the engine refused (`SnapshotError`).
pub(crate) fn file_error(py: Python<'_>, e: FileError) -> PyErr {
    match e {
        FileError::Io(io) => io.into(),
        FileError::Engine(e) => to_py(py, e),
    }
}

/// A snapshot key: `bytes` only (a `str` would be a password, not 32 random bytes); its
/// length is the core's to check.
pub(crate) fn key_of(key: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let b = key
        .cast::<PyBytes>()
        .map_err(|_| PyTypeError::new_err("key must be bytes (32 random bytes)"))?;
    Ok(b.as_bytes().to_vec())
}
