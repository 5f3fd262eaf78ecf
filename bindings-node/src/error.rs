//! Every core error becomes a thrown JS `Error` with a stable `code`
//! (`SESSILE_` + the core's snake_case code, uppercased) and, where the core gives one,
//! a `reason` (the nested code: why a session is invalid, which config rule failed).

use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{Env, Status};
use napi::{Error, Result};
use sessile::Error as CoreError;

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
        CoreError::Config(c) => Some(c.code()),
        CoreError::Cookie(c) => Some(c.code()),
        _ => None,
    }
}

fn raise(env: &Env, code: &str, message: String, reason: Option<&str>) -> Result<Error> {
    let mut obj = env.create_error(Error::new(Status::GenericFailure, message))?;
    obj.set_named_property("code", code)?;
    if let Some(r) = reason {
        obj.set_named_property("reason", r)?;
    }
    env.throw(obj)?;
    Ok(Error::new(Status::PendingException, String::new()))
}

/// Throw `e` as a JS error; the returned error tells napi the exception is pending.
pub fn throw(env: &Env, e: CoreError) -> Result<Error> {
    raise(env, &js_code(e.code()), e.to_string(), reason(&e))
}

/// Throw `SESSILE_INVALID_ARGUMENT` naming the argument.
pub fn arg_error(env: &Env, name: &str, what: &str) -> Result<Error> {
    raise(env, INVALID_ARGUMENT, format!("{name}: {what}"), Some(name))
}
