//! Every core error becomes a thrown JS `Error` with a stable `code`
//! (`SESSILE_` + the core's snake_case code, uppercased) and, where the core gives one,
//! a `reason` (the nested code: why a session is invalid, which config rule failed). A
//! config error also names the option to change as `key`, in JS words (`idleTimeoutMs`),
//! and so does its message.

use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{Env, Status};
use napi::{Error, Result};
use sessile::{ConfigError, Error as CoreError, SnapshotError};

use crate::options::{js_message, js_name, unknown_message};

/// Code of an argument the binding itself rejects (wrong range, not a handle, ...).
pub const INVALID_ARGUMENT: &str = "SESSILE_INVALID_ARGUMENT";

/// The JS code of a core code.
pub fn js_code(core: &str) -> String {
    if core == "session" {
        return "SESSILE_SESSION_INVALID".to_owned();
    }
    format!("SESSILE_{}", core.to_ascii_uppercase())
}

fn reason(e: &CoreError) -> Option<&'static str> {
    match e {
        CoreError::Session(why) => Some(why.code()),
        CoreError::Cookie(c) => Some(c.code()),
        CoreError::Store(s) => Some(s.code()),
        CoreError::Snapshot(s) => Some(s.code()),
        _ => None,
    }
}

fn raise(
    env: &Env,
    code: &str,
    message: String,
    reason: Option<&str>,
    key: Option<&str>,
) -> Result<Error> {
    let mut obj = env.create_error(Error::new(Status::GenericFailure, message))?;
    obj.set_named_property("code", code)?;
    if let Some(r) = reason {
        obj.set_named_property("reason", r)?;
    }
    if let Some(k) = key {
        obj.set_named_property("key", k)?;
    }
    env.throw(obj)?;
    Ok(Error::new(Status::PendingException, String::new()))
}

/// Throw `e` as a JS error; the returned error tells napi the exception is pending.
pub fn throw(env: &Env, e: CoreError) -> Result<Error> {
    if let CoreError::Config(c) = e {
        return config_error(env, c, None);
    }
    let key = match e {
        CoreError::Snapshot(SnapshotError::DoesNotFit { key }) => Some(js_name(key)),
        _ => None,
    };
    let code = js_code(e.code());
    raise(env, &code, e.to_string(), reason(&e), key.as_deref())
}

/// Throw a config error in JS words: `SESSILE_CONFIG`, the rule as `reason`, the option
/// as `key` and in the message. `given`: the option as the caller spelled it, for an
/// unknown one (the core cannot name what it does not know).
pub fn config_error(env: &Env, e: ConfigError, given: Option<&str>) -> Result<Error> {
    let code = js_code(CoreError::Config(e).code());
    let (message, key) = match given {
        Some(name) => (unknown_message(name, &e), Some(name.to_owned())),
        None => (js_message(&e), e.key().map(js_name)),
    };
    raise(env, &code, message, Some(e.code()), key.as_deref())
}

/// Throw `SESSILE_INVALID_ARGUMENT` naming the argument.
pub fn arg_error(env: &Env, name: &str, what: &str) -> Result<Error> {
    raise(
        env,
        INVALID_ARGUMENT,
        format!("{name}: {what}"),
        Some(name),
        None,
    )
}
