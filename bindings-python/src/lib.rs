//! `sessile._native`: the Python binding of the sessile engine (pyo3, abi3).
//!
//! Thin by design: type conversion (seconds at the Python edge, milliseconds in the core),
//! error mapping (one Python class per core error, see `python/sessile/errors.py`) and the
//! injectable clock. Session policy lives in the core; framework glue (Flask, ASGI) and the
//! JSON helpers live in the pure-Python package `sessile`.
//!
//! One file per concern: `engine.rs` (the `Engine` class), `config.rs` (its keyword
//! arguments to a core `Config` and back, read off the core's vocabulary), `request.rs`
//! (one request's session lifecycle, the core's), `session.rs`, `event.rs`, `stats.rs` (the
//! snapshot classes), `errors.rs` (core error -> Python class), `convert.rs` and
//! `client.rs` (arguments), `clock.rs` (seconds <-> ms, the injected clock), `fork.rs`
//! (engine registry, GIL-released calls and the at-fork reseed), `cookie.rs`
//! (`parse_cookie`), `json.rs` (a session dict of plain values as its JSON bytes).

mod asgi;
mod client;
mod clock;
mod config;
mod convert;
mod cookie;
mod engine;
mod errors;
mod event;
mod fork;
mod json;
mod request;
mod session;
mod stats;
mod tracked;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use sessile::Error;
use sessile::config::{MAX_CAPACITY, MAX_PRINCIPAL};

use crate::config::{ConfigKey, config_keys};
use crate::cookie::parse_cookie;
use crate::engine::Engine;
use crate::event::Event;
use crate::fork::reseed_after_fork;
use crate::json::{plain_json, plain_loads};
use crate::request::Request;
use crate::session::Session;
use crate::stats::Stats;

/// The native module. Import `sessile` instead.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<Session>()?;
    m.add_class::<Event>()?;
    m.add_class::<Stats>()?;
    m.add_class::<Request>()?;
    m.add_class::<asgi::AsgiSend>()?;
    m.add("_TrackedDict", tracked::make_type(m.py())?)?;
    m.add_class::<ConfigKey>()?;
    m.add_function(wrap_pyfunction!(config_keys, m)?)?;
    m.add_function(wrap_pyfunction!(parse_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(reseed_after_fork, m)?)?;
    m.add_function(wrap_pyfunction!(plain_json, m)?)?;
    m.add_function(wrap_pyfunction!(plain_loads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_CAPACITY", MAX_CAPACITY)?;
    m.add("MAX_PRINCIPAL", MAX_PRINCIPAL)?;
    m.add("ERROR_CODES", PyTuple::new(m.py(), Error::CODES)?)?;
    m.add(
        "EVENT_KINDS",
        PyTuple::new(m.py(), sessile::EventKind::ALL.map(|k| k.as_str()))?,
    )?;
    Ok(())
}
