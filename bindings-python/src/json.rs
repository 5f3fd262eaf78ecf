//! `_plain_json`: a session dict of plain values as the compact JSON text Python's `json`
//! writes for it, in one native pass (type conversion: the payload's bytes). The glue's
//! JSON (`sessile/_payload.py`) calls it first and takes Python's own encoder for anything
//! it declines, so the bytes never differ from `json.dumps(obj, separators=(",", ":"),
//! sort_keys=..., ensure_ascii=...)`: the profile put that encoder, with the walk that
//! checks a Flask session holds plain values only, at a fifth of the glue's cost.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};

/// Deeper than this, Python's encoder decides (and raises what it raises).
const MAX_DEPTH: u32 = 32;

/// The compact JSON text of `obj` as UTF-8 bytes, exactly as `json.dumps(obj,
/// separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=ensure_ascii).encode()`
/// writes it, when `obj` holds only exact `dict` (str keys), `list`, `str`, `int`,
/// `float`, `bool` and `None`, and no one-key dict whose key is in `tags` (Flask's
/// tagged JSON escapes those). `None` for anything else: the caller's encoder decides.
#[pyfunction]
#[pyo3(name = "_plain_json", signature = (obj, sort_keys=false, ensure_ascii=false, tags=None))]
pub(crate) fn plain_json<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    sort_keys: bool,
    ensure_ascii: bool,
    tags: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let mut w = Writer {
        out: Vec::with_capacity(64),
        sort_keys,
        ensure_ascii,
        tags,
    };
    Ok(w.value(obj, 0)?.then(|| PyBytes::new(py, &w.out)))
}

struct Writer<'a, 'py> {
    out: Vec<u8>,
    sort_keys: bool,
    ensure_ascii: bool,
    tags: Option<&'a Bound<'py, PyAny>>,
}

impl Writer<'_, '_> {
    /// Append `v`; false when it is not plain (the output is then unspecified).
    fn value(&mut self, v: &Bound<'_, PyAny>, depth: u32) -> PyResult<bool> {
        if v.is_none() {
            self.out.extend_from_slice(b"null");
        } else if let Ok(s) = v.cast_exact::<PyString>() {
            return self.string(s);
        } else if let Ok(b) = v.cast_exact::<PyBool>() {
            let text: &[u8] = if b.is_true() { b"true" } else { b"false" };
            self.out.extend_from_slice(text);
        } else if let Ok(i) = v.cast_exact::<PyInt>() {
            match i.extract::<i64>() {
                Ok(n) => self.int(n),
                // int.__repr__, as json writes every int.
                Err(_) => self.out.extend_from_slice(i.repr()?.to_cow()?.as_bytes()),
            }
        } else if let Ok(f) = v.cast_exact::<PyFloat>() {
            let x = f.value();
            if x.is_nan() {
                self.out.extend_from_slice(b"NaN");
            } else if x.is_infinite() {
                let text: &[u8] = if x > 0.0 { b"Infinity" } else { b"-Infinity" };
                self.out.extend_from_slice(text);
            } else {
                // float.__repr__, as json writes every finite float.
                self.out.extend_from_slice(f.repr()?.to_cow()?.as_bytes());
            }
        } else if depth >= MAX_DEPTH {
            return Ok(false);
        } else if let Ok(d) = v.cast_exact::<PyDict>() {
            return self.dict(d, depth);
        } else if let Ok(l) = v.cast_exact::<PyList>() {
            self.out.push(b'[');
            for (n, item) in l.iter().enumerate() {
                if n > 0 {
                    self.out.push(b',');
                }
                if !self.value(&item, depth + 1)? {
                    return Ok(false);
                }
            }
            self.out.push(b']');
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn dict(&mut self, d: &Bound<'_, PyDict>, depth: u32) -> PyResult<bool> {
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(k) = k.cast_into_exact::<PyString>() else {
                return Ok(false);
            };
            items.push((k, v));
        }
        if items.len() == 1
            && let Some(tags) = self.tags
            && tags.contains(&items[0].0)?
        {
            return Ok(false);
        }
        if self.sort_keys && items.len() > 1 {
            // Python orders str by code point, as UTF-8 bytes order; a key that is no
            // UTF-8 (a lone surrogate) declines below anyway.
            let mut keyed = Vec::with_capacity(items.len());
            for (k, v) in items {
                let Ok(text) = k.to_cow() else {
                    return Ok(false);
                };
                keyed.push((text.into_owned(), k, v));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            items = keyed.into_iter().map(|(_, k, v)| (k, v)).collect();
        }
        self.out.push(b'{');
        for (n, (k, v)) in items.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            if !self.string(k)? {
                return Ok(false);
            }
            self.out.push(b':');
            if !self.value(v, depth + 1)? {
                return Ok(false);
            }
        }
        self.out.push(b'}');
        Ok(true)
    }

    /// A JSON string as Python's `json` escapes it (`encode_basestring`, or
    /// `encode_basestring_ascii` with `ensure_ascii`); false for a str that is no UTF-8
    /// (lone surrogates: Python's encoder decides).
    fn string(&mut self, s: &Bound<'_, PyString>) -> PyResult<bool> {
        let Ok(text) = s.to_cow() else {
            return Ok(false);
        };
        self.out.push(b'"');
        for c in text.chars() {
            match c {
                '"' => self.out.extend_from_slice(b"\\\""),
                '\\' => self.out.extend_from_slice(b"\\\\"),
                '\n' => self.out.extend_from_slice(b"\\n"),
                '\r' => self.out.extend_from_slice(b"\\r"),
                '\t' => self.out.extend_from_slice(b"\\t"),
                '\u{8}' => self.out.extend_from_slice(b"\\b"),
                '\u{c}' => self.out.extend_from_slice(b"\\f"),
                c if (c as u32) < 0x20 => self.escape(c as u16),
                c if self.ensure_ascii && !(' '..='~').contains(&c) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        self.escape(*unit);
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        self.out.push(b'"');
        Ok(true)
    }

    /// An int's decimal digits, as `int.__repr__` writes them (without `to_string`'s
    /// allocation on every call).
    fn int(&mut self, n: i64) {
        if n < 0 {
            self.out.push(b'-');
        }
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut m = n.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&digits[at..]);
    }

    /// `\uXXXX`, lowercase hex as Python writes it.
    fn escape(&mut self, unit: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            self.out.push(HEX[usize::from((unit >> shift) & 0xf)]);
        }
    }
}

/// The dict that `data`, a compact JSON object of plain values, is to `json.loads(data)`,
/// in one native pass (a session payload is the glue's dict): values are objects (str keys), arrays, strings without escapes, ints and
/// `true` / `false` / `null`. `None` for anything else (an escape, a float, whitespace,
/// invalid UTF-8, deeper than `MAX_DEPTH`, trailing bytes, no object, or, with `no_space_keys`, a
/// key starting with a space, as every key of Flask's tagged JSON does): the caller's
/// decoder then reads it, so the values never differ from Python's.
#[pyfunction]
#[pyo3(name = "_plain_loads", signature = (data, no_space_keys=false))]
pub(crate) fn plain_loads<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
    no_space_keys: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let mut r = Reader {
        py,
        text: data.as_bytes(),
        at: 0,
        no_space_keys,
    };
    if r.peek() != Some(b'{') {
        return Ok(None);
    }
    match r.value(0)? {
        Some(v) if r.at == r.text.len() => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// `data`, a compact JSON object of plain values (as [`plain_loads`] reads it), into
/// `dict`, an empty dict or dict subclass: false, with `dict` emptied again, when it is
/// not plain (the caller's decoder then reads it).
pub(crate) fn plain_loads_into<'py>(
    py: Python<'py>,
    data: &[u8],
    dict: &Bound<'py, PyDict>,
) -> PyResult<bool> {
    let mut r = Reader {
        py,
        text: data,
        at: 0,
        no_space_keys: false,
    };
    if r.peek() == Some(b'{') && r.object_into(dict, 0)? && r.at == data.len() {
        return Ok(true);
    }
    dict.clear();
    Ok(false)
}

/// The items of the dict `d` as [`plain_json`] writes `dict(d)` with the default
/// arguments (`sessile.dumps`'s bytes), or `None` when they are not plain. `d` itself may
/// be of a subclass (the ASGI glue's `Session`): the caller has checked that `dict(d)`
/// reads the same items (see `tracked::reads_as_dict`); what it holds must be plain.
pub(crate) fn plain_json_dict_bytes(d: &Bound<'_, PyDict>) -> PyResult<Option<Vec<u8>>> {
    let mut w = Writer {
        out: Vec::with_capacity(64),
        sort_keys: false,
        ensure_ascii: false,
        tags: None,
    };
    Ok(w.dict(d, 0)?.then_some(w.out))
}

struct Reader<'a, 'py> {
    py: Python<'py>,
    text: &'a [u8],
    at: usize,
    no_space_keys: bool,
}

impl<'py> Reader<'_, 'py> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.text[self.at..].starts_with(word);
        if found {
            self.at += word.len();
        }
        found
    }

    /// The value at `at`; `Ok(None)` when it is not plain JSON as this reader takes it.
    fn value(&mut self, depth: u32) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = self.py;
        Ok(match self.peek() {
            Some(b'"') => self.string()?.map(Bound::into_any),
            Some(b'{') if depth < MAX_DEPTH => self.object(depth)?,
            Some(b'[') if depth < MAX_DEPTH => self.array(depth)?,
            Some(b't') if self.literal(b"true") => {
                Some(PyBool::new(py, true).to_owned().into_any())
            }
            Some(b'f') if self.literal(b"false") => {
                Some(PyBool::new(py, false).to_owned().into_any())
            }
            Some(b'n') if self.literal(b"null") => Some(py.None().into_bound(py)),
            Some(b'-' | b'0'..=b'9') => self.int()?,
            _ => None,
        })
    }

    /// `-?(0|[1-9][0-9]*)` that fits an i64, not followed by a fraction or exponent.
    fn int(&mut self) -> PyResult<Option<Bound<'py, PyAny>>> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let digits = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        let len = self.at - digits;
        if len == 0 || len > 18 || (len > 1 && self.text[digits] == b'0') {
            return Ok(None);
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Ok(None); // a float: Python's float() decides its value
        }
        let mut n: i64 = 0;
        for &d in &self.text[digits..self.at] {
            n = n * 10 + i64::from(d - b'0');
        }
        if self.text[start] == b'-' {
            n = -n;
        }
        Ok(Some(n.into_pyobject(self.py)?.into_any()))
    }

    /// A string without escapes or control characters, valid UTF-8.
    fn string(&mut self) -> PyResult<Option<Bound<'py, PyString>>> {
        let start = self.at + 1;
        let Some(len) = self.text[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        else {
            return Ok(None);
        };
        let end = start + len;
        if self.text[end] != b'"' {
            return Ok(None);
        }
        let Ok(s) = std::str::from_utf8(&self.text[start..end]) else {
            return Ok(None);
        };
        self.at = end + 1;
        Ok(Some(PyString::new(self.py, s)))
    }

    fn object(&mut self, depth: u32) -> PyResult<Option<Bound<'py, PyAny>>> {
        let dict = PyDict::new(self.py);
        Ok(self.object_into(&dict, depth)?.then(|| dict.into_any()))
    }

    /// The object at `at` into `dict` (through the dict's own storage, never a
    /// subclass's `__setitem__`); false when it is not plain (`dict` then holds part).
    fn object_into(&mut self, dict: &Bound<'py, PyDict>, depth: u32) -> PyResult<bool> {
        self.at += 1;
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(true);
        }
        loop {
            if self.peek() != Some(b'"') {
                return Ok(false);
            }
            if self.no_space_keys && self.text.get(self.at + 1) == Some(&b' ') {
                return Ok(false);
            }
            let Some(key) = self.string()? else {
                return Ok(false);
            };
            if self.peek() != Some(b':') {
                return Ok(false);
            }
            self.at += 1;
            let Some(value) = self.value(depth + 1)? else {
                return Ok(false);
            };
            dict.set_item(key, value)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(true);
                }
                _ => return Ok(false),
            }
        }
    }

    fn array(&mut self, depth: u32) -> PyResult<Option<Bound<'py, PyAny>>> {
        let list = PyList::empty(self.py);
        self.at += 1;
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Some(list.into_any()));
        }
        loop {
            let Some(value) = self.value(depth + 1)? else {
                return Ok(None);
            };
            list.append(value)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Some(list.into_any()));
                }
                _ => return Ok(None),
            }
        }
    }
}
