//! An engine's configuration from the keyword arguments of `Engine(...)`.

use pyo3::prelude::*;

use sessile::ClientPolicy;

use crate::clock::seconds_to_ms;
use crate::errors::bad_config;

pub(crate) fn u32_field(py: Python<'_>, name: &str, v: Option<i64>, default: u32) -> PyResult<u32> {
    match v {
        None => Ok(default),
        Some(v) => u32::try_from(v)
            .map_err(|_| bad_config(py, format!("{name} must be between 0 and {}", u32::MAX))),
    }
}

pub(crate) fn ms_field(py: Python<'_>, name: &str, v: Option<f64>, default: u32) -> PyResult<u32> {
    match v {
        None => Ok(default),
        Some(s) => seconds_to_ms(s).ok_or_else(|| {
            bad_config(
                py,
                format!("{name} must be a finite number of seconds between 0 and 4294967.295"),
            )
        }),
    }
}

pub(crate) fn choice<T: Copy>(
    py: Python<'_>,
    name: &str,
    v: Option<&str>,
    default: T,
    options: &[(&str, T)],
) -> PyResult<T> {
    let Some(v) = v else { return Ok(default) };
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(v))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
            bad_config(py, format!("{name} must be one of {names:?}, not {v:?}"))
        })
}

pub(crate) const CLIENT_POLICIES: [(&str, ClientPolicy); 3] = [
    ("off", ClientPolicy::Off),
    ("observe", ClientPolicy::Observe),
    ("enforce", ClientPolicy::Enforce),
];

pub(crate) fn policy_name(p: ClientPolicy) -> &'static str {
    match p {
        ClientPolicy::Off => "off",
        ClientPolicy::Observe => "observe",
        ClientPolicy::Enforce => "enforce",
    }
}
