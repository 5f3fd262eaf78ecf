//! An engine's configuration in JS words, read off the core's vocabulary
//! ([`sessile::vocabulary::KEYS`]): the options of `new Engine({...})`, the object of
//! `engine.config` and the list of `configKeys()` are made by iterating it, so a key added
//! to the core reaches Node without an edit here (and `options.d.ts`, its types, is
//! generated from `configKeys()`).
//!
//! The one Node spelling: an option is the camelCase of the core's key (`idle_timeout_ms`
//! is `idleTimeoutMs`). Values are handed over by their JS type, never judged here: a whole
//! non-negative number is a number, a boolean a flag, a string text or a spelling, `null`
//! unset, `undefined` not given; whether the key takes it, its range, and the rules
//! between keys are the core's ([`Config::from_entries`]), whose errors name the key (in
//! camelCase once thrown: `error.rs`).
//!
//! Beside the core's keys, the store's ([`sessile_backend::STORE_KEYS`]: `store`,
//! `storeKey`, `storePrefix`, `storeConnectTimeoutMs`, ...), spelled the same way and
//! checked by [`StoreOptions::set`]; `storeKey` also takes its 32 bytes as a Buffer.

use napi::Result;
use napi::bindgen_prelude::{Either4, Env, Function, JsValue, Null, Object};
use napi::bindgen_prelude::{Unknown, ValueType};
use napi_derive::napi;
use sessile::vocabulary::{KEYS, Key, Kind, Value};
use sessile::{Config, ConfigError};
use sessile_backend::{STORE_KEYS, StoreOptions};

use crate::error::{arg_error, config_error};

/// The JS name of a core key: its camelCase (`idle_timeout_ms` -> `idleTimeoutMs`).
pub(crate) fn js_name(core: &str) -> String {
    let mut name = String::with_capacity(core.len());
    let mut upper = false;
    for c in core.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            name.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            name.push(c);
        }
    }
    name
}

/// Every key `new Engine` takes: the core's, then the store's.
fn all_keys() -> impl Iterator<Item = &'static Key> {
    KEYS.iter().chain(STORE_KEYS.iter())
}

/// Whether `k` is one of the store's keys (checked by [`StoreOptions::set`]).
fn is_store_key(k: &Key) -> bool {
    sessile_backend::store_key(k.name).is_some()
}

/// The key a JS option names.
fn key_named(name: &str) -> Option<&'static Key> {
    all_keys().find(|k| js_name(k.name) == name)
}

/// Whether the key takes `null` (an attribute that may be absent).
fn nullable(k: &Key) -> bool {
    matches!(k.kind, Kind::Text { optional: true, .. })
}

/// Whether a config keeps the key's value, so `engine.config` shows it: every key but one
/// that reads unset though it cannot be unset (`profile`, a preset whose effect is the
/// two timeouts). Leaving it out lets `new Engine(engine.config)` build the same engine.
fn kept(k: &Key) -> bool {
    nullable(k) || Config::default().get(k.name) != Some(Value::Unset)
}

/// A core error's text in JS words: every key it names in camelCase. Whole words only,
/// so `idle_timeout_ms` inside `max_idle_timeout_ms` is left to that key. A store key's
/// bad value (the core's text does not know its kind) says what the key takes.
pub(crate) fn js_message(e: &ConfigError) -> String {
    if let ConfigError::BadValue { key } = e
        && let Some(k) = sessile_backend::store_key(key)
    {
        return format!("{}: not accepted. {}", js_name(k.name), k.doc);
    }
    let text = e.to_string();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find(is_word) {
        out.push_str(&rest[..start]);
        let word = &rest[start..];
        let len = word.find(|c| !is_word(c)).unwrap_or(word.len());
        match sessile::vocabulary::key(&word[..len]).or(sessile_backend::store_key(&word[..len])) {
            Some(k) => out.push_str(&js_name(k.name)),
            None => out.push_str(&word[..len]),
        }
        rest = &word[len..];
    }
    out.push_str(rest);
    out
}

/// The message for an option `name` no key has. A key spelled as the core spells it
/// (`idle_timeout_ms`), or a group of the flat keys given as one object (`cookie: {...}`),
/// is told what Node calls it.
pub(crate) fn unknown_message(name: &str, e: &ConfigError) -> String {
    let names: Vec<String> = all_keys().map(|k| js_name(k.name)).collect();
    let squashed = name.replace('_', "");
    if let Some(js) = names.iter().find(|js| js.eq_ignore_ascii_case(&squashed)) {
        return format!("{name}: {e} (did you mean {js}?)");
    }
    let group: Vec<&str> = names
        .iter()
        .filter(|js| {
            js.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        })
        .map(String::as_str)
        .collect();
    if group.is_empty() {
        format!("{name}: {e}")
    } else {
        format!("{name}: {e} (the options are flat: {})", group.join(", "))
    }
}

/// One option's value as its JS type gave it, owned until `Config::from_entries` reads it.
enum Given {
    Int(u64),
    Flag(bool),
    Text(String),
    Unset,
}

impl Given {
    /// Overwrite a text's bytes (the store key passes through here).
    fn wipe(&mut self) {
        if let Given::Text(t) = self {
            // SAFETY: zeros are valid UTF-8.
            unsafe { t.as_bytes_mut() }.fill(0);
        }
    }

    fn value(&self) -> Value<'_> {
        match self {
            Given::Int(n) => Value::Int(*n),
            Given::Flag(b) => Value::Flag(*b),
            Given::Text(t) => Value::Text(t),
            Given::Unset => Value::Unset,
        }
    }

    /// `v` for key `k`; `None` for `undefined` (not given). A value no key could take
    /// (a negative or fractional number, NaN, an object) is the core's `bad_value` for `k`.
    fn of(env: &Env, k: &'static Key, v: Unknown<'_>) -> Result<Option<Given>> {
        let bad = || config_error(env, ConfigError::BadValue { key: k.name }, None);
        // SAFETY: each cast is to the type `get_type` just reported.
        Ok(Some(match v.get_type()? {
            ValueType::Undefined => return Ok(None),
            ValueType::Null => Given::Unset,
            ValueType::Boolean => Given::Flag(unsafe { v.cast::<bool>() }?),
            ValueType::String => Given::Text(unsafe { v.cast::<String>() }?),
            ValueType::Number => {
                let x = unsafe { v.cast::<f64>() }?;
                if !(x.is_finite() && x >= 0.0 && x.fract() == 0.0) {
                    return Err(bad()?);
                }
                // Past 2^64 saturates: out of every key's range, which the core says.
                Given::Int(x as u64)
            }
            _ => return Err(bad()?),
        }))
    }
}

/// What `new Engine(options)` resolves to: the config, where sessions live, the test
/// seed and the test clock.
pub struct Built<'e> {
    pub config: Config,
    pub store: StoreOptions,
    pub seed: Option<[u8; 32]>,
    pub clock: Option<Function<'e, (), f64>>,
}

/// Options besides the vocabulary's that an engine (not a cookie) takes: `seed` and
/// `clock`, inputs for tests rather than settings.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    Engine,
    ConfigOnly,
}

/// Read `options` (an object, or null / undefined for the defaults) into a config. An
/// option no key has is `SESSILE_CONFIG` (`unknown_key`) naming it.
pub fn build<'e>(env: &Env, options: Option<Unknown<'e>>, takes: Takes) -> Result<Built<'e>> {
    let mut built = Built {
        config: Config::default(),
        store: StoreOptions::default(),
        seed: None,
        clock: None,
    };
    let Some(options) = options else {
        return Ok(built);
    };
    if options.get_type()? != ValueType::Object {
        return Err(arg_error(env, "options", "must be an object")?);
    }
    // SAFETY: the value is an object, as just checked.
    let obj = unsafe { options.cast::<Object>() }?;
    let mut given: Vec<(&'static str, Given)> = Vec::new();
    let mut store: Vec<(&'static str, Given)> = Vec::new();
    for name in Object::keys(&obj)? {
        let Some(v) = obj.get::<Unknown>(&name)? else {
            continue;
        };
        match (name.as_str(), takes) {
            ("seed", Takes::Engine) => built.seed = Some(seed(env, v)?),
            ("clock", Takes::Engine) => built.clock = Some(clock(env, v)?),
            _ => {
                let Some(k) =
                    key_named(&name).filter(|k| takes == Takes::Engine || !is_store_key(k))
                else {
                    return Err(config_error(env, ConfigError::UnknownKey, Some(&name))?);
                };
                let g = if k.name == "store_key" && v.is_buffer()? {
                    Some(Given::Text(key_hex(env, v)?))
                } else {
                    Given::of(env, k, v)?
                };
                match g {
                    Some(g) if is_store_key(k) => store.push((k.name, g)),
                    Some(g) => given.push((k.name, g)),
                    None => {}
                }
            }
        }
    }
    built.config = match Config::from_entries(given.iter().map(|(k, g)| (*k, g.value()))) {
        Ok(c) => c,
        Err(e) => return Err(config_error(env, e, None)?),
    };
    let checked = StoreOptions::from_entries(store.iter().map(|(k, g)| (*k, g.value())))
        .and_then(|o| o.redis_config().map(|_| o));
    for (_, g) in &mut store {
        g.wipe();
    }
    built.store = match checked {
        Ok(o) => o,
        Err(e) => return Err(config_error(env, e, None)?),
    };
    Ok(built)
}

/// `storeKey` given as its 32 bytes: their hex, as the text form takes it.
fn key_hex(env: &Env, v: Unknown<'_>) -> Result<String> {
    // SAFETY: a Buffer, as the caller checked.
    let b = unsafe { v.cast::<napi::bindgen_prelude::BufferSlice>() }?;
    if b.len() != 32 {
        return Err(config_error(
            env,
            ConfigError::BadValue { key: "store_key" },
            None,
        )?);
    }
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn seed(env: &Env, v: Unknown<'_>) -> Result<[u8; 32]> {
    if v.is_buffer()? {
        // SAFETY: a Buffer, as just checked.
        let b = unsafe { v.cast::<napi::bindgen_prelude::BufferSlice>() }?;
        if let Ok(s) = <[u8; 32]>::try_from(&b[..]) {
            return Ok(s);
        }
    }
    Err(arg_error(
        env,
        "seed",
        "must be a Buffer of exactly 32 bytes",
    )?)
}

fn clock<'e>(env: &Env, v: Unknown<'e>) -> Result<Function<'e, (), f64>> {
    if v.get_type()? != ValueType::Function {
        return Err(arg_error(
            env,
            "clock",
            "must be a function returning milliseconds",
        )?);
    }
    // SAFETY: a function, as just checked.
    unsafe { v.cast::<Function<'e, (), f64>>() }
}

/// Every kept key's value in `c`, under its JS name (`engine.config`).
pub fn config_object<'e>(env: &'e Env, c: &Config) -> Result<Object<'e>> {
    let mut obj = Object::new(env)?;
    for k in KEYS.iter().filter(|k| kept(k)) {
        let name = js_name(k.name);
        match c.get(k.name).unwrap_or(Value::Unset) {
            Value::Int(n) => obj.set(name, n as f64)?,
            Value::Flag(b) => obj.set(name, b)?,
            Value::Text(t) => obj.set(name, t)?,
            Value::Unset => obj.set(name, Null)?,
        }
    }
    Ok(obj)
}

/// The config `new Engine(options)` would use, every default filled in, as
/// `engine.config` shows it; throws what the constructor throws.
#[napi(ts_return_type = "EngineConfig")]
pub fn resolve_options<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "EngineOptions")] options: Option<Unknown<'e>>,
) -> Result<Object<'e>> {
    let built = build(env, options, Takes::Engine)?;
    config_object(env, &built.config)
}

/// One option of `new Engine({...})`, as the core's vocabulary describes it.
#[napi(object)]
pub struct ConfigKey {
    /// The option's name in `new Engine({...})` and `engine.config`: the camelCase of
    /// `coreName`.
    pub name: String,
    /// The core's name of the key (`idle_timeout_ms`), as in docs/CONFIG.md.
    pub core_name: String,
    /// What it takes: a whole number (`count`), milliseconds (`millis`), a boolean
    /// (`flag`), one of `choices` (`choice`) or a string (`text`).
    #[napi(ts_type = "'count' | 'millis' | 'flag' | 'choice' | 'text'")]
    pub kind: String,
    /// Smallest value of a count or a duration.
    pub min: Option<f64>,
    /// Largest value of a count or a duration; the most bytes of a text.
    pub max: Option<f64>,
    /// The spellings a choice takes.
    pub choices: Option<Vec<String>>,
    /// Whether it takes `null` (an attribute left out).
    pub nullable: bool,
    /// Whether `engine.config` shows it (all but `profile`, a preset the config does not
    /// keep: its effect is the two timeouts).
    pub kept: bool,
    /// Its value in a default engine (`null`: unset).
    #[napi(ts_type = "number | boolean | string | null")]
    pub default: Either4<f64, bool, String, Null>,
    /// Whether it is a key of the session store (where sessions live: this process or a
    /// shared Redis/Valkey server) rather than of the core's engine.
    pub store: bool,
    /// Bytes of a Buffer it also takes in place of its hex text (`storeKey`: 32).
    pub buffer_bytes: Option<u32>,
    /// The core's line on what it does.
    pub doc: String,
}

/// Every option of `new Engine({...})`: the core's keys in the core's order, then the
/// store's (`seed` and `clock` are not config).
#[napi]
pub fn config_keys() -> Vec<ConfigKey> {
    let defaults = Config::default();
    let store_defaults = StoreOptions::default();
    all_keys()
        .map(|k| {
            let store = is_store_key(k);
            let default = if store {
                match store_defaults.get(k.name) {
                    // The key itself has no default (only whether one is set).
                    Some(Value::Flag(_)) | None => Value::Unset,
                    Some(v) => v,
                }
            } else {
                defaults.get(k.name).unwrap_or(Value::Unset)
            };
            let (kind, min, max, choices) = match k.kind {
                Kind::Count { min, max } => ("count", Some(min as f64), Some(max as f64), None),
                Kind::Millis { min, max } => ("millis", Some(min as f64), Some(max as f64), None),
                Kind::Flag => ("flag", None, None, None),
                Kind::Choice(o) => (
                    "choice",
                    None,
                    None,
                    Some(o.iter().map(|s| (*s).to_owned()).collect()),
                ),
                Kind::Text { max, .. } => ("text", None, Some(max as f64), None),
            };
            ConfigKey {
                name: js_name(k.name),
                core_name: k.name.to_owned(),
                kind: kind.to_owned(),
                min,
                max,
                choices,
                nullable: nullable(k),
                kept: !store && kept(k),
                default: match default {
                    Value::Int(n) => Either4::A(n as f64),
                    Value::Flag(b) => Either4::B(b),
                    Value::Text(t) => Either4::C(t.to_owned()),
                    Value::Unset => Either4::D(Null),
                },
                doc: k.doc.to_owned(),
                store,
                buffer_bytes: (k.name == "store_key").then_some(32),
            }
        })
        .collect()
}
