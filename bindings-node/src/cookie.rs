//! Cookie helpers without an engine: format `Set-Cookie` values and find a cookie in a
//! `Cookie` header with the core's rules (the same code the engine uses).
//!
//! `CookieConfig` wraps the core's `CookieConfig`: built once from the cookie options of
//! an engine (`cookieName`, `cookieSameSite`, ...: the same vocabulary path as
//! `new Engine`, so a combination browsers reject is an error then, by the core's rule),
//! then asked for `Set-Cookie` and clearing text as often as needed. `sessile/express`
//! keeps one per cookie it writes.

use napi::Result;
use napi::bindgen_prelude::{Env, Unknown};
use napi_derive::napi;
use sessile::Error as CoreError;

use crate::error::{arg_error, throw};
use crate::options::{Takes, build};
use crate::{Bytes, bytes_of};

/// The cookie of the config that `options` (engine options) give, checked by the core.
fn checked(env: &Env, options: Option<Unknown<'_>>) -> Result<sessile::CookieConfig> {
    Ok(build(env, options, Takes::ConfigOnly)?.config.cookie)
}

fn whole_seconds(env: &Env, max_age_s: Option<f64>) -> Result<Option<u64>> {
    match max_age_s {
        None => Ok(None),
        Some(x)
            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 9.007_199_254_740_991e15 =>
        {
            Ok(Some(x as u64))
        }
        Some(_) => Err(arg_error(
            env,
            "maxAgeS",
            "must be a whole number of seconds",
        )?),
    }
}

/// A session cookie's name and attributes, from the `cookie*` options of an engine
/// (`cookieName`, `cookieSameSite`, ...; any other option of an engine is checked and
/// has no effect here), checked by the core's rules when built: a combination browsers
/// reject (`SameSite=None` or `Partitioned` without `Secure`, a `__Host-` name with a
/// `Domain`, ...) throws `SESSILE_CONFIG` with the rule as `reason`. Absent options take
/// the core's defaults (`__Host-sid`, `Path=/`, `Secure`, `HttpOnly`, `SameSite=Lax`).
#[napi(js_name = "CookieConfig")]
pub struct NativeCookieConfig {
    inner: sessile::CookieConfig,
}

#[napi]
impl NativeCookieConfig {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "ConfigOptions")] options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        Ok(NativeCookieConfig {
            inner: checked(&env, options)?,
        })
    }

    /// The cookie's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name.as_str().to_owned()
    }

    /// The `Set-Cookie` value for `value`. `maxAgeMs`: how long the cookie lives, in
    /// milliseconds (`Max-Age` in whole seconds, rounded up, as the engine rounds a
    /// session's deadline; 0 or less deletes it); `null` for a browser-session cookie, as
    /// is any cookie of a config with `persistent: false`. `null` when `value` is not a
    /// valid cookie value or does not fit a header (`SESSILE_INVALID_ARGUMENT` for a
    /// `maxAgeMs` that is not a number of milliseconds).
    #[napi]
    pub fn set_cookie(
        &self,
        env: Env,
        value: String,
        max_age_ms: Option<f64>,
    ) -> Result<Option<String>> {
        let max_age = match max_age_ms {
            None => None,
            Some(ms) if !ms.is_nan() && ms <= 0.0 => Some(0),
            // Whole milliseconds (`as` saturates), then the core's rounding to seconds.
            Some(ms) if ms.is_finite() => Some(sessile::rules::seconds_up(ms.ceil() as u64)),
            Some(_) => {
                return Err(arg_error(
                    &env,
                    "maxAgeMs",
                    "must be a finite number of milliseconds",
                )?);
            }
        };
        Ok(self
            .inner
            .set_cookie(&value, max_age)
            .map(|h| h.as_str().to_owned()))
    }

    /// The `Set-Cookie` value that deletes the cookie (`Max-Age=0`).
    #[napi]
    pub fn clear_cookie(&self) -> String {
        self.inner
            .clear_cookie()
            .map(|h| h.as_str().to_owned())
            .unwrap_or_default()
    }
}

/// The `Set-Cookie` value for `value` with the attributes of these options (those of
/// `CookieConfig`; `maxAgeS` in seconds, `null` for none), or `null` when the value is
/// not a valid cookie value. Throws `SESSILE_CONFIG` when the attributes are a
/// combination browsers reject.
#[napi]
pub fn format_set_cookie(
    env: Env,
    #[napi(ts_arg_type = "ConfigOptions | undefined | null")] cookie: Option<Unknown<'_>>,
    value: String,
    max_age_s: Option<f64>,
) -> Result<Option<String>> {
    let c = checked(&env, cookie)?;
    let max_age = whole_seconds(&env, max_age_s)?;
    Ok(c.set_cookie(&value, max_age).map(|h| h.as_str().to_owned()))
}

/// The `Set-Cookie` value that deletes the cookie (`Max-Age=0`).
#[napi]
pub fn format_clear_cookie(
    env: Env,
    #[napi(ts_arg_type = "ConfigOptions | undefined | null")] cookie: Option<Unknown<'_>>,
) -> Result<String> {
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
