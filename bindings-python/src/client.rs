//! The client of a request (`ip=`, `user_agent=`) as the core's [`Client`].

use std::borrow::Cow;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBytes, PyString};

use sessile::Client;

use crate::convert::opt_bytes;

/// A request's client (`ip=`, `user_agent=`), read from its Python objects once.
pub(crate) struct ClientArgs<'a> {
    ip: Option<Cow<'a, [u8]>>,
    user_agent: Option<Cow<'a, [u8]>>,
}

impl<'a> ClientArgs<'a> {
    pub(crate) fn new(
        ip: Option<&'a Bound<'_, PyAny>>,
        user_agent: Option<&'a Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(ClientArgs {
            ip: opt_bytes(ip, "ip")?,
            user_agent: opt_bytes(user_agent, "user_agent")?,
        })
    }

    pub(crate) fn core(&self) -> Client<'_> {
        Client {
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// A request's client kept for its later calls (`Request`): references to the Python
/// objects given, not copies of their text (`bytes` is read in place; a `str` as its
/// UTF-8, which pyo3 keeps in the str itself where the ABI allows, else in one bytes
/// object). The per-request copies of the header text were the binding's allocations.
pub(crate) struct HeldClient {
    ip: Option<Held>,
    user_agent: Option<Held>,
}

enum Held {
    Bytes(PyBackedBytes),
    Str(PyBackedStr),
}

impl Held {
    fn of(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Held>> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(None);
        };
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Some(Held::Bytes(PyBackedBytes::from(b.clone()))));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Some(Held::Str(PyBackedStr::try_from(s.clone())?)));
        }
        Err(PyTypeError::new_err(format!(
            "{what} must be str or bytes, not {}",
            obj.get_type().name()?
        )))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Held::Bytes(b) => b,
            Held::Str(s) => s.as_bytes(),
        }
    }
}

impl HeldClient {
    pub(crate) fn new(
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(HeldClient {
            ip: Held::of(ip, "ip")?,
            user_agent: Held::of(user_agent, "user_agent")?,
        })
    }

    pub(crate) fn core(&self) -> Client<'_> {
        Client {
            ip: self.ip.as_ref().map(Held::bytes),
            user_agent: self.user_agent.as_ref().map(Held::bytes),
        }
    }
}
