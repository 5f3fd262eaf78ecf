//! An engine's configuration in Python's words, read off the core's vocabulary
//! ([`sessile::vocabulary::KEYS`]): the keyword arguments of `Engine(...)`, the dict of
//! `Engine.config` and `config_keys()` are made by iterating it, so a key added to the core
//! reaches Python without an edit here.
//!
//! The one Python spelling: a duration key `x_ms` is the keyword `x`, in seconds (a float);
//! every other keyword is the core's key. Values are converted, never judged: ranges,
//! spellings and the rules between keys are the core's ([`Config::from_entries`]).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString, PyTuple};

use sessile::vocabulary::{KEYS, Key, Kind, Value};
use sessile::{Config, ConfigError};
use sessile_backend::{STORE_KEYS, StoreOptions};
use zeroize::Zeroize;

use crate::clock::{seconds_to_ms, secs};
use crate::errors::{config_error, config_error_saying};

/// The Python keyword of a core key: the key, except that a duration `x_ms` is `x`.
pub(crate) fn py_name(k: &Key) -> &'static str {
    match k.kind {
        Kind::Millis { .. } => k.name.strip_suffix("_ms").unwrap_or(k.name),
        _ => k.name,
    }
}

/// Every key `Engine(...)` takes: the core's, then the store's.
fn all_keys() -> impl Iterator<Item = &'static Key> {
    KEYS.iter().chain(STORE_KEYS)
}

/// The key a Python keyword names.
fn key_named(name: &str) -> Option<&'static Key> {
    all_keys().find(|k| py_name(k) == name)
}

/// The key of a core or store name (`idle_timeout_ms`, `store_connect_timeout_ms`).
fn key_of_name(name: &str) -> Option<&'static Key> {
    all_keys().find(|k| k.name == name)
}

/// A core error's text in Python's words: keys under their Python names, durations in
/// seconds.
pub(crate) fn python_message(e: &ConfigError) -> String {
    if let ConfigError::BadValue { key } = e
        && let Some(k) = key_of_name(key)
        && let Kind::Millis { min, max } = k.kind
    {
        return format!(
            "{}: expected seconds from {} to {}",
            py_name(k),
            secs(min),
            secs(max)
        );
    }
    // A store key's refusal says what the key takes, in its own words (`STORE_KEYS`).
    if let ConfigError::BadValue { key } = e
        && let Some(k) = STORE_KEYS.iter().find(|k| k.name == *key)
    {
        return format!("{}: bad value. {}", py_name(k), k.doc);
    }
    // `x_ms` -> `x` for every duration key; one key's name inside another's
    // (`idle_timeout_ms` in `max_idle_timeout_ms`) comes out right either way.
    all_keys()
        .filter(|k| matches!(k.kind, Kind::Millis { .. }))
        .fold(e.to_string(), |m, k| m.replace(k.name, py_name(k)))
}

/// The Python name of the key a core error names.
pub(crate) fn python_key(e: &ConfigError) -> Option<&'static str> {
    e.key().and_then(key_of_name).map(py_name)
}

/// One keyword's value, converted for [`Config::set`].
enum Given {
    Int(u64),
    Flag(bool),
    Text(String),
}

impl Given {
    fn value(&self) -> Value<'_> {
        match self {
            Given::Int(n) => Value::Int(*n),
            Given::Flag(b) => Value::Flag(*b),
            Given::Text(t) => Value::Text(t),
        }
    }

    /// `obj` as the kind of value `k` takes: a Python type that cannot be one is a
    /// `TypeError`; a number no key could take (negative, not finite, past 64 bits) is
    /// the core's `bad_value` for `k`.
    fn of(py: Python<'_>, k: &'static Key, obj: &Bound<'_, PyAny>) -> PyResult<Given> {
        let bad = || config_error(py, ConfigError::BadValue { key: k.name });
        let wrong = |want: &str| -> PyResult<Given> {
            Err(PyTypeError::new_err(format!(
                "Engine() argument '{}' must be {want}, not {}",
                py_name(k),
                obj.get_type().name()?
            )))
        };
        // `True` is an int to Python, never a count or a duration to a reader.
        let number = !obj.is_instance_of::<PyBool>();
        match k.kind {
            Kind::Count { .. } if number && obj.is_instance_of::<PyInt>() => {
                obj.extract::<u64>().map(Given::Int).map_err(|_| bad())
            }
            Kind::Count { .. } => wrong("int"),
            Kind::Millis { .. }
                if number && (obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>()) =>
            {
                let s: f64 = obj.extract().map_err(|_| bad())?;
                seconds_to_ms(s).map(Given::Int).ok_or_else(bad)
            }
            Kind::Millis { .. } => wrong("a number of seconds"),
            Kind::Flag => match obj.cast::<PyBool>() {
                Ok(b) => Ok(Given::Flag(b.is_true())),
                Err(_) => wrong("bool"),
            },
            // The store's key as its 32 bytes: the text `StoreOptions::set` checks.
            Kind::Text { .. } if k.name == "store_key" && obj.is_instance_of::<PyBytes>() => {
                let b = obj.cast::<PyBytes>()?.as_bytes();
                if b.len() != 32 {
                    return Err(bad());
                }
                Ok(Given::Text(b.iter().map(|x| format!("{x:02x}")).collect()))
            }
            Kind::Choice(_) | Kind::Text { .. } => match obj.cast::<PyString>() {
                Ok(s) => s
                    .to_cow()
                    .map(|s| Given::Text(s.into_owned()))
                    .map_err(|_| bad()),
                Err(_) => wrong("str"),
            },
        }
    }
}

/// The core config and the store options that `Engine(**kwargs)` asks for (`seed` and
/// `clock` taken out). A keyword given as `None` keeps the default; an unknown keyword is
/// a `TypeError` naming it, as Python gives for any function; a value the core (or the
/// store's options) refuses is its `ConfigError`, naming the keyword.
pub(crate) fn from_kwargs(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Config, StoreOptions)> {
    let mut given: Vec<(&'static str, Given)> = Vec::new();
    let mut store: Vec<(&'static str, Given)> = Vec::new();
    for (name, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let name = name.cast_into::<PyString>()?;
        let name = name.to_cow()?;
        let k = key_named(&name).ok_or_else(|| {
            PyTypeError::new_err(format!(
                "Engine() got an unexpected keyword argument '{name}'"
            ))
        })?;
        if !value.is_none() {
            let to = if STORE_KEYS.iter().any(|s| s.name == k.name) {
                &mut store
            } else {
                &mut given
            };
            to.push((k.name, Given::of(py, k, &value)?));
        }
    }
    let options = StoreOptions::from_entries(store.iter().map(|(k, g)| (*k, g.value())));
    // The key's hex text is no longer needed once parsed.
    for (_, g) in &mut store {
        if let Given::Text(t) = g {
            t.zeroize();
        }
    }
    let config = Config::from_entries(given.iter().map(|(k, g)| (*k, g.value())))
        .map_err(|e| config_error(py, e))?;
    let options = options.map_err(|e| config_error(py, e))?;
    // Keys that only a shared store takes, without a URL, and a URL without a key: the
    // store's rule, checked here so the error names the keyword before anything is built.
    if let Err(e) = options.redis_config() {
        let name = python_key(&e).unwrap_or("store");
        let why = if options.is_shared() {
            format!("{name}: required with store= a URL (64 hex digits, or the 32 bytes)")
        } else {
            format!("{name}: only a shared store takes it (store= a redis:// or unix:// URL)")
        };
        return Err(config_error_saying(py, e, why));
    }
    Ok((config, options))
}

/// `Engine.config`: every key's value in `c` and `store` under its Python name
/// (durations in seconds; a key the core does not store, such as `profile`, and an unset
/// attribute read `None`). `store` is `"memory"` or the URL without its password; the
/// other store keys read `None` for the in-process table (so the dict builds the same
/// engine again), and for a shared store their values in effect, `store_key` only
/// whether one is set (`True`), never the key.
pub(crate) fn to_dict<'py>(
    py: Python<'py>,
    c: &Config,
    store: &StoreOptions,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for k in all_keys() {
        let v = match c.get(k.name) {
            Some(v) => v,
            None if k.name != "store" && !store.is_shared() => Value::Unset,
            None => store.get(k.name).unwrap_or(Value::Unset),
        };
        let name = py_name(k);
        match (k.kind, v) {
            (Kind::Millis { .. }, Value::Int(ms)) => d.set_item(name, secs(ms))?,
            (_, Value::Int(n)) => d.set_item(name, n)?,
            (_, Value::Flag(b)) => d.set_item(name, b)?,
            (_, Value::Text(t)) => d.set_item(name, t)?,
            (_, Value::Unset) => d.set_item(name, py.None())?,
        }
    }
    Ok(d)
}

/// One keyword of `Engine(...)`, as the core's vocabulary describes it.
#[pyclass(module = "sessile._native", frozen)]
pub struct ConfigKey {
    key: &'static Key,
}

#[pymethods]
impl ConfigKey {
    /// The keyword of `Engine(...)` and key of `Engine.config`.
    #[getter]
    fn name(&self) -> &'static str {
        py_name(self.key)
    }

    /// The core's name of the key (`idle_timeout_ms` for `idle_timeout`).
    #[getter]
    fn core_name(&self) -> &'static str {
        self.key.name
    }

    /// What it takes in Python: `"int"`, `"seconds"` (a float), `"bool"`, `"choice"`
    /// (one of `choices`) or `"str"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.key.kind {
            Kind::Count { .. } => "int",
            Kind::Millis { .. } => "seconds",
            Kind::Flag => "bool",
            Kind::Choice(_) => "choice",
            Kind::Text { .. } => "str",
        }
    }

    /// Smallest value (`int`, or seconds), `None` for other kinds.
    #[getter]
    fn minimum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match self.key.kind {
            Kind::Count { min, .. } => Some(min.into_pyobject(py)?.into_any()),
            Kind::Millis { min, .. } => Some(secs(min).into_pyobject(py)?.into_any()),
            _ => None,
        })
    }

    /// Largest value (`int`, or seconds; for `str`, the most bytes), `None` otherwise.
    #[getter]
    fn maximum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match self.key.kind {
            Kind::Count { max, .. } => Some(max.into_pyobject(py)?.into_any()),
            Kind::Millis { max, .. } => Some(secs(max).into_pyobject(py)?.into_any()),
            Kind::Text { max, .. } => Some(max.into_pyobject(py)?.into_any()),
            _ => None,
        })
    }

    /// The spellings a `"choice"` takes (empty for other kinds).
    #[getter]
    fn choices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        match self.key.kind {
            Kind::Choice(options) => PyTuple::new(py, options),
            _ => Ok(PyTuple::empty(py)),
        }
    }

    /// One line on what it does.
    #[getter]
    fn doc(&self) -> &'static str {
        self.key.doc
    }

    fn __repr__(&self) -> String {
        format!("ConfigKey({:?}, kind={:?})", self.name(), self.kind())
    }
}

/// Every keyword of `Engine(...)` that configures the engine, in the core's order, then
/// the store's (`seed` and `clock` are not config).
#[pyfunction]
pub(crate) fn config_keys(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    let keys = all_keys()
        .map(|key| Bound::new(py, ConfigKey { key }))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, keys)
}
