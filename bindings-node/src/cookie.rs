//! Cookie helpers without an engine: format `Set-Cookie` values and find a cookie in a
//! `Cookie` header with the core's rules (the same code the engine uses).

use napi::Result;
use napi::bindgen_prelude::Env;
use napi_derive::napi;
use sessile::{ConfigError, Error as CoreError};

use crate::error::{arg_error, throw};
use crate::options::{CookieOptions, cookie_config};
use crate::{Bytes, bytes_of};

fn checked(env: &Env, cookie: Option<CookieOptions>) -> Result<sessile::CookieConfig> {
    let c = match cookie {
        Some(o) => cookie_config(env, o)?,
        None => sessile::CookieConfig::default(),
    };
    if let Err(e) = c.validate() {
        return Err(throw(env, CoreError::Config(ConfigError::Cookie(e)))?);
    }
    Ok(c)
}

/// The `Set-Cookie` value for `value` with these attributes (`maxAgeS` in seconds, `null`
/// for none), or `null` when the value is not a valid cookie value. Throws
/// `SESSILE_CONFIG` when the attributes are a combination browsers reject.
#[napi]
pub fn format_set_cookie(
    env: Env,
    cookie: Option<CookieOptions>,
    value: String,
    max_age_s: Option<f64>,
) -> Result<Option<String>> {
    let c = checked(&env, cookie)?;
    let max_age = match max_age_s {
        None => None,
        Some(x)
            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 9.007_199_254_740_991e15 =>
        {
            Some(x as u64)
        }
        Some(_) => {
            return Err(arg_error(
                &env,
                "maxAgeS",
                "must be a whole number of seconds",
            )?);
        }
    };
    Ok(c.set_cookie(&value, max_age).map(|h| h.as_str().to_owned()))
}

/// The `Set-Cookie` value that deletes the cookie (`Max-Age=0`).
#[napi]
pub fn format_clear_cookie(env: Env, cookie: Option<CookieOptions>) -> Result<String> {
    let c = checked(&env, cookie)?;
    Ok(c.clear_cookie()
        .map(|h| h.as_str().to_owned())
        .unwrap_or_default())
}

/// The value of cookie `name` in a `Cookie` header (`null` when absent). Throws
/// `SESSILE_COOKIE` with reason `header_too_long` or `duplicate` (the cookie twice with
/// different values: treat the request as having none).
#[napi]
pub fn parse_cookie(env: Env, header: Bytes, name: String) -> Result<Option<String>> {
    match sessile::cookie::parse_cookie(bytes_of(&header), &name) {
        Ok(v) => Ok(v.map(|b| String::from_utf8_lossy(b).into_owned())),
        Err(e) => Err(throw(&env, CoreError::Cookie(e))?),
    }
}
