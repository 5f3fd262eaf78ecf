//! Cookie text without an engine: the core's `CookieConfig::set_cookie` / `clear_cookie`
//! and `parse_cookie`, for servers that format or parse headers themselves.

use core::ffi::{CStr, c_char};

use crate::boundary::run;
use crate::config::{sessile_config, to_core};
use crate::engine::write_text;
use crate::result::sessile_result;
use crate::types::bytes;

use sessile_result as R;

/// The Set-Cookie value for `value` under the cookie attributes of `config` (the rest of
/// the config must be valid too), NUL-terminated into `out`. `max_age_s < 0` writes no
/// Max-Age (a browser-session cookie); so does a non-persistent config. A value with
/// bytes outside RFC 6265 cookie-octet, or a name plus value over 4096 bytes, is
/// `INVALID_ARGUMENT`.
///
/// # Safety
/// `config` valid; `value` readable for `value_len`; `out` writable for `cap`; `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_cookie_set(
    config: *const sessile_config,
    value: *const u8,
    value_len: usize,
    max_age_s: i64,
    out: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let (config, value) = unsafe { (to_core(config)?, bytes(value, value_len)?) };
        let value = core::str::from_utf8(value).map_err(|_| R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        let max_age = u64::try_from(max_age_s).ok();
        let v = config
            .cookie
            .set_cookie(value, max_age)
            .ok_or(R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        // SAFETY: forwarded contract.
        unsafe { write_text(v.as_bytes(), out, cap, len) }
    })
}

/// The Set-Cookie value that deletes the cookie of `config` (`Max-Age=0`), NUL-terminated.
///
/// # Safety
/// `config` valid; `out` writable for `cap`; `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_cookie_clear(
    config: *const sessile_config,
    out: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let config = unsafe { to_core(config) }?;
        let v = config
            .cookie
            .clear_cookie()
            .ok_or(R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        // SAFETY: forwarded contract.
        unsafe { write_text(v.as_bytes(), out, cap, len) }
    })
}

/// Find the cookie `name` (NUL-terminated) in a Cookie request header, as
/// `sessile_engine_token_from_cookie_header` does for the engine's own cookie name: on OK
/// `*value` points into `header` (or is NULL when absent) and `*value_len` is its length.
///
/// # Safety
/// `header` readable for `header_len`; `name` NUL-terminated; `value`, `value_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_cookie_parse(
    header: *const u8,
    header_len: usize,
    name: *const c_char,
    value: *mut *const u8,
    value_len: *mut usize,
) -> sessile_result {
    run(|| {
        if name.is_null() || value.is_null() || value_len.is_null() {
            return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        let header = unsafe { bytes(header, header_len) }?;
        // SAFETY: non-NULL and NUL-terminated by contract.
        let name = unsafe { CStr::from_ptr(name) }
            .to_str()
            .map_err(|_| R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        let found = sessile_core::cookie::parse_cookie(header, name)?;
        let (p, n) = found.map_or((core::ptr::null(), 0), |t| (t.as_ptr(), t.len()));
        // SAFETY: both checked non-NULL.
        unsafe {
            value.write(p);
            value_len.write(n);
        }
        Ok(())
    })
}
