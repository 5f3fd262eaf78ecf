//! Cookie parsing that needs no engine.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use sessile::Error;

use crate::convert::bytes_of;
use crate::errors::to_py;

/// The value of cookie `name` in a `Cookie` header (`str` or `bytes`), as bytes; `None`
/// when absent. `CookieError` when the header is over 16 KiB or has the cookie twice with
/// different values (treat the request as having no session).
#[pyfunction]
pub(crate) fn parse_cookie<'py>(
    py: Python<'py>,
    header: &Bound<'_, PyAny>,
    name: &str,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let header = bytes_of(header, "header")?;
    sessile::cookie::parse_cookie(&header, name)
        .map(|v| v.map(|v| PyBytes::new(py, v)))
        .map_err(|e| to_py(py, Error::Cookie(e)))
}
