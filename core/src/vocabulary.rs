//! The config vocabulary: every key a binding may set, by name, with its kind, limits,
//! spellings and default, so bindings iterate over [`KEYS`] instead of copying them.
//!
//! A binding maps its own words onto these (Python's `idle_timeout` in seconds is
//! `idle_timeout_ms`; Node's `cookieSameSite` is `cookie_same_site`) and hands each
//! value to [`Config::set`]; a key added here reaches every binding without an edit.
//!
//! ```
//! use sessile::vocabulary::Value;
//! use sessile::Config;
//! let config = Config::from_entries([
//!     ("capacity", Value::Int(500)),
//!     ("cookie_same_site", Value::Text("strict")),
//!     ("profile", Value::Text("aal2")),
//! ])
//! .unwrap();
//! assert_eq!(config.capacity, 500);
//! assert_eq!(config.idle_timeout_ms, 3_600_000);
//! let err = Config::from_entries([("cookie_same_site", Value::Text("sometimes"))]).unwrap_err();
//! assert_eq!(err.key(), Some("cookie_same_site"));
//! ```

use crate::config::{
    ClientPolicy, Config, ConfigError, MAX_CAPACITY, MAX_PAYLOAD, MAX_POOL_BYTES, MAX_TOKEN_BYTES,
    MAX_TRACKED_ADDRESSES, MIN_TOKEN_BYTES, PrincipalLimitPolicy, Profile, RotatedReusePolicy,
};
use crate::cookie::{CookieStyle, Priority, SameSite};

/// What values a key takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Count {
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A duration in milliseconds, in `min..=max` (a binding may present it in its
    /// ecosystem's unit: Python takes seconds).
    Millis {
        /// Shortest allowed.
        min: u64,
        /// Longest allowed.
        max: u64,
    },
    /// `true` or `false`.
    Flag,
    /// One of these spellings (lower case, snake_case).
    Choice(&'static [&'static str]),
    /// Text of at most `max` bytes; `optional` keys also take [`Value::Unset`].
    Text {
        /// Longest allowed, in bytes.
        max: usize,
        /// Whether the key may be unset (an absent attribute).
        optional: bool,
    },
}

/// One config key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// Its name, snake_case.
    pub name: &'static str,
    /// What it takes.
    pub kind: Kind,
    /// One line for a binding's documentation.
    pub doc: &'static str,
}

/// A value for [`Config::set`], as a binding converted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A whole number (counts, sizes, milliseconds).
    Int(u64),
    /// A flag.
    Flag(bool),
    /// Text: a name, a path, or one of a choice's spellings.
    Text(&'a str),
    /// No value: an optional attribute left out.
    Unset,
}

const U32: u64 = u32::MAX as u64;
const POLICY: &[&str] = &["off", "observe", "enforce"];

/// Every key, in the order a binding documents them. `profile` comes first: it sets the
/// two timeouts, which later keys may override ([`Config::from_entries`] applies it
/// first whatever the order it is given in).
pub const KEYS: &[Key] = &[
    Key {
        name: "profile",
        kind: Kind::Choice(&["aal1", "aal2", "aal3"]),
        doc: "NIST SP 800-63B-4 preset for the idle and absolute timeouts",
    },
    Key {
        name: "capacity",
        kind: Kind::Count {
            min: 1,
            max: MAX_CAPACITY as u64,
        },
        doc: "most live sessions",
    },
    Key {
        name: "pool_bytes",
        kind: Kind::Count {
            min: 0,
            max: MAX_POOL_BYTES as u64,
        },
        doc: "bytes in the shared payload pool",
    },
    Key {
        name: "max_payload",
        kind: Kind::Count {
            min: 0,
            max: MAX_PAYLOAD as u64,
        },
        doc: "most payload bytes one session may hold",
    },
    Key {
        name: "token_bytes",
        kind: Kind::Count {
            min: MIN_TOKEN_BYTES as u64,
            max: MAX_TOKEN_BYTES as u64,
        },
        doc: "random bytes per token (128 to 256 bits)",
    },
    Key {
        name: "idle_timeout_ms",
        kind: Kind::Millis { min: 1, max: U32 },
        doc: "a session not used for this long is dead",
    },
    Key {
        name: "absolute_timeout_ms",
        kind: Kind::Millis { min: 1, max: U32 },
        doc: "a session older than this is dead, however busy",
    },
    Key {
        name: "max_idle_timeout_ms",
        kind: Kind::Millis { min: 1, max: U32 },
        doc: "largest idle timeout a session may be given (default: 30 days, or the idle timeout if longer)",
    },
    Key {
        name: "max_absolute_timeout_ms",
        kind: Kind::Millis { min: 1, max: U32 },
        doc: "largest absolute timeout a session may be given (default: 30 days, or the absolute timeout if longer)",
    },
    Key {
        name: "tombstones",
        kind: Kind::Count {
            min: 0,
            max: MAX_CAPACITY as u64,
        },
        doc: "dead tokens remembered to report reuse; 0 = capacity / 8, at least 16",
    },
    Key {
        name: "events",
        kind: Kind::Count {
            min: 1,
            max: MAX_CAPACITY as u64,
        },
        doc: "capacity of the security event ring",
    },
    Key {
        name: "max_sessions_per_principal",
        kind: Kind::Count { min: 0, max: U32 },
        doc: "most concurrent sessions per user; 0 = unlimited",
    },
    Key {
        name: "principal_limit_policy",
        kind: Kind::Choice(&["evict_least_recently_used", "refuse"]),
        doc: "what a login over the per-user cap does",
    },
    Key {
        name: "rotated_reuse",
        kind: Kind::Choice(&["report", "revoke_session"]),
        doc: "what reuse of a rotated-out token does",
    },
    Key {
        name: "ip_policy",
        kind: Kind::Choice(POLICY),
        doc: "what a changed client address does",
    },
    Key {
        name: "user_agent_policy",
        kind: Kind::Choice(POLICY),
        doc: "what a changed user agent does",
    },
    Key {
        name: "max_addresses",
        kind: Kind::Count {
            min: 0,
            max: MAX_TRACKED_ADDRESSES as u64 - 1,
        },
        doc: "alarm when a session is seen from more distinct addresses than this; 0 = off",
    },
    Key {
        name: "cookie_name",
        kind: Kind::Text {
            max: crate::cookie::MAX_NAME,
            optional: false,
        },
        doc: "session cookie name",
    },
    Key {
        name: "cookie_domain",
        kind: Kind::Text {
            max: crate::cookie::MAX_DOMAIN,
            optional: true,
        },
        doc: "Domain attribute; unset makes a host-only cookie",
    },
    Key {
        name: "cookie_path",
        kind: Kind::Text {
            max: crate::cookie::MAX_PATH,
            optional: false,
        },
        doc: "Path attribute",
    },
    Key {
        name: "cookie_secure",
        kind: Kind::Flag,
        doc: "Secure attribute",
    },
    Key {
        name: "cookie_http_only",
        kind: Kind::Flag,
        doc: "HttpOnly attribute",
    },
    Key {
        name: "cookie_same_site",
        kind: Kind::Choice(&["strict", "lax", "none", "omit"]),
        doc: "SameSite attribute; omit writes none",
    },
    Key {
        name: "cookie_partitioned",
        kind: Kind::Flag,
        doc: "Partitioned attribute (CHIPS)",
    },
    Key {
        name: "cookie_priority",
        kind: Kind::Choice(&["low", "medium", "high", "omit"]),
        doc: "Priority attribute; omit writes none",
    },
    Key {
        name: "cookie_persistent",
        kind: Kind::Flag,
        doc: "write Max-Age (else a browser-session cookie)",
    },
    Key {
        name: "cookie_style",
        kind: Kind::Choice(&["sessile", "starlette"]),
        doc: "how Set-Cookie is spelled: sessile (RFC 6265bis names) or starlette (as Starlette's SessionMiddleware writes it)",
    },
];

/// The key named `name`.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// Which of a choice's spellings `v` is (its index), or the error naming the key.
fn choice(k: &'static Key, v: Value<'_>) -> Result<usize, ConfigError> {
    let (Kind::Choice(options), Value::Text(t)) = (k.kind, v) else {
        return Err(ConfigError::BadValue { key: k.name });
    };
    options
        .iter()
        .position(|o| *o == t)
        .ok_or(ConfigError::BadValue { key: k.name })
}

impl Config {
    /// Set one key from a binding's value. A timeout longer than its maximum lifts the
    /// maximum if that is still the default. The value is checked against the key's kind
    /// here (a number that fits its field, a flag, one of the spellings, text a cookie
    /// may carry); ranges and rules between keys are checked by [`Config::validate`].
    pub fn set(&mut self, name: &str, value: Value<'_>) -> Result<(), ConfigError> {
        let k = key(name).ok_or(ConfigError::UnknownKey)?;
        let bad = ConfigError::BadValue { key: k.name };
        // A number is taken when it fits its field; whether it is in range is a rule of
        // `Config::validate`, whose error then names the rule (`capacity`,
        // `zero_timeout`, ...) as it does for a config built field by field.
        let int = || match (k.kind, value) {
            (Kind::Count { .. } | Kind::Millis { .. }, Value::Int(n)) => {
                u32::try_from(n).map_err(|_| bad)
            }
            _ => Err(bad),
        };
        let small = || int().and_then(|n| u8::try_from(n).map_err(|_| bad));
        let flag = || match value {
            Value::Flag(b) => Ok(b),
            _ => Err(bad),
        };
        let policy = |v| match choice(k, v)? {
            0 => Ok(ClientPolicy::Off),
            1 => Ok(ClientPolicy::Observe),
            _ => Ok(ClientPolicy::Enforce),
        };
        let cookie = &mut self.cookie;
        let cookie_err = ConfigError::Cookie;
        match k.name {
            "profile" => {
                let (idle, absolute) =
                    [Profile::Aal1, Profile::Aal2, Profile::Aal3][choice(k, value)?].timeouts();
                self.idle_timeout_ms = idle;
                self.absolute_timeout_ms = absolute;
            }
            "capacity" => self.capacity = int()?,
            "pool_bytes" => self.pool_bytes = int()?,
            "max_payload" => self.max_payload = int()?,
            "token_bytes" => self.token_bytes = small()?,
            // A maximum still at its default follows a longer timeout: asking for 40-day
            // sessions needs no second key. One set explicitly is kept (and checked).
            "idle_timeout_ms" => {
                self.idle_timeout_ms = int()?;
                let default = Config::default().max_idle_timeout_ms;
                if self.max_idle_timeout_ms == default {
                    self.max_idle_timeout_ms = default.max(self.idle_timeout_ms);
                }
            }
            "absolute_timeout_ms" => {
                self.absolute_timeout_ms = int()?;
                let default = Config::default().max_absolute_timeout_ms;
                if self.max_absolute_timeout_ms == default {
                    self.max_absolute_timeout_ms = default.max(self.absolute_timeout_ms);
                }
            }
            "max_idle_timeout_ms" => self.max_idle_timeout_ms = int()?,
            "max_absolute_timeout_ms" => self.max_absolute_timeout_ms = int()?,
            "tombstones" => self.tombstones = int()?,
            "events" => self.events = int()?,
            "max_sessions_per_principal" => self.max_sessions_per_principal = int()?,
            "principal_limit_policy" => {
                self.principal_limit_policy = match choice(k, value)? {
                    0 => PrincipalLimitPolicy::EvictLeastRecentlyUsed,
                    _ => PrincipalLimitPolicy::Refuse,
                }
            }
            "rotated_reuse" => {
                self.rotated_reuse = match choice(k, value)? {
                    0 => RotatedReusePolicy::Report,
                    _ => RotatedReusePolicy::RevokeSession,
                }
            }
            "ip_policy" => self.ip_policy = policy(value)?,
            "user_agent_policy" => self.user_agent_policy = policy(value)?,
            "max_addresses" => self.max_addresses = small()?,
            "cookie_name" => match value {
                Value::Text(t) => *cookie = cookie.clone().with_name(t).map_err(cookie_err)?,
                _ => return Err(bad),
            },
            "cookie_domain" => match value {
                Value::Text(t) => {
                    *cookie = cookie.clone().with_domain(Some(t)).map_err(cookie_err)?
                }
                Value::Unset => cookie.domain = None,
                _ => return Err(bad),
            },
            "cookie_path" => match value {
                Value::Text(t) => *cookie = cookie.clone().with_path(t).map_err(cookie_err)?,
                _ => return Err(bad),
            },
            "cookie_secure" => cookie.secure = flag()?,
            "cookie_http_only" => cookie.http_only = flag()?,
            "cookie_same_site" => {
                cookie.same_site = [
                    Some(SameSite::Strict),
                    Some(SameSite::Lax),
                    Some(SameSite::None),
                    None,
                ][choice(k, value)?]
            }
            "cookie_partitioned" => cookie.partitioned = flag()?,
            "cookie_priority" => {
                cookie.priority = [
                    Some(Priority::Low),
                    Some(Priority::Medium),
                    Some(Priority::High),
                    None,
                ][choice(k, value)?]
            }
            "cookie_persistent" => cookie.persistent = flag()?,
            "cookie_style" => {
                cookie.style = [CookieStyle::Sessile, CookieStyle::Starlette][choice(k, value)?]
            }
            _ => return Err(ConfigError::UnknownKey),
        }
        Ok(())
    }

    /// The value of one key (`None` for an unknown key; `profile` is not stored and
    /// reads as [`Value::Unset`]).
    pub fn get(&self, name: &str) -> Option<Value<'_>> {
        let c = &self.cookie;
        let choice = |name: &str, i: usize| match key(name)?.kind {
            Kind::Choice(o) => Some(Value::Text(o[i])),
            _ => None,
        };
        let policy = |p: ClientPolicy| match p {
            ClientPolicy::Off => 0,
            ClientPolicy::Observe => 1,
            ClientPolicy::Enforce => 2,
        };
        Some(match name {
            "profile" => Value::Unset,
            "capacity" => Value::Int(self.capacity.into()),
            "pool_bytes" => Value::Int(self.pool_bytes.into()),
            "max_payload" => Value::Int(self.max_payload.into()),
            "token_bytes" => Value::Int(self.token_bytes.into()),
            "idle_timeout_ms" => Value::Int(self.idle_timeout_ms.into()),
            "absolute_timeout_ms" => Value::Int(self.absolute_timeout_ms.into()),
            "max_idle_timeout_ms" => Value::Int(self.max_idle_timeout_ms.into()),
            "max_absolute_timeout_ms" => Value::Int(self.max_absolute_timeout_ms.into()),
            "tombstones" => Value::Int(self.tombstones.into()),
            "events" => Value::Int(self.events.into()),
            "max_sessions_per_principal" => Value::Int(self.max_sessions_per_principal.into()),
            "principal_limit_policy" => choice(
                name,
                usize::from(self.principal_limit_policy == PrincipalLimitPolicy::Refuse),
            )?,
            "rotated_reuse" => choice(
                name,
                usize::from(self.rotated_reuse == RotatedReusePolicy::RevokeSession),
            )?,
            "ip_policy" => choice(name, policy(self.ip_policy))?,
            "user_agent_policy" => choice(name, policy(self.user_agent_policy))?,
            "max_addresses" => Value::Int(self.max_addresses.into()),
            "cookie_name" => Value::Text(c.name.as_str()),
            "cookie_domain" => c.domain.as_ref().map_or(Value::Unset, |d| Value::Text(d)),
            "cookie_path" => Value::Text(c.path.as_str()),
            "cookie_secure" => Value::Flag(c.secure),
            "cookie_http_only" => Value::Flag(c.http_only),
            "cookie_same_site" => choice(
                name,
                match c.same_site {
                    Some(SameSite::Strict) => 0,
                    Some(SameSite::Lax) => 1,
                    Some(SameSite::None) => 2,
                    None => 3,
                },
            )?,
            "cookie_partitioned" => Value::Flag(c.partitioned),
            "cookie_priority" => choice(
                name,
                match c.priority {
                    Some(Priority::Low) => 0,
                    Some(Priority::Medium) => 1,
                    Some(Priority::High) => 2,
                    None => 3,
                },
            )?,
            "cookie_persistent" => Value::Flag(c.persistent),
            "cookie_style" => choice(name, usize::from(c.style == CookieStyle::Starlette))?,
            _ => return None,
        })
    }

    /// A validated config from a binding's `(key, value)` pairs over the defaults:
    /// `profile` first, whatever its place, then the others in order. Errors name the
    /// key ([`ConfigError::key`]).
    pub fn from_entries<'a, I>(entries: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (&'a str, Value<'a>)>,
        I::IntoIter: Clone,
    {
        let entries = entries.into_iter();
        let mut c = Config::default();
        for (k, v) in entries.clone().filter(|(k, _)| *k == "profile") {
            c.set(k, v)?;
        }
        for (k, v) in entries.filter(|(k, _)| *k != "profile") {
            c.set(k, v)?;
        }
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_what_was_set() {
        let d = Config::default();
        for k in KEYS.iter().filter(|k| k.name != "profile") {
            let mut c = Config::default();
            let v = d.get(k.name).unwrap();
            c.set(k.name, v)
                .unwrap_or_else(|e| panic!("{}: {e}", k.name));
            assert_eq!(c, d, "{}", k.name);
        }
    }

    #[test]
    fn every_choice_spelling_round_trips() {
        for k in KEYS.iter().filter(|k| k.name != "profile") {
            if let Kind::Choice(options) = k.kind {
                for o in options {
                    let mut c = Config::default();
                    c.set(k.name, Value::Text(o)).unwrap();
                    assert_eq!(c.get(k.name), Some(Value::Text(o)), "{}", k.name);
                }
            }
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut c = Config::default();
        for (k, v) in [
            ("capacity", Value::Int(1 << 40)),
            ("capacity", Value::Text("10")),
            ("token_bytes", Value::Int(256)),
            ("idle_timeout_ms", Value::Int(1 << 40)),
            ("ip_policy", Value::Text("Enforce")),
            ("cookie_secure", Value::Int(1)),
            ("cookie_name", Value::Unset),
        ] {
            let e = c.set(k, v).unwrap_err();
            assert_eq!(e.key(), Some(k), "{k}");
            assert!(e.to_string().starts_with(k), "{e}");
        }
        assert_eq!(
            c.set("capacty", Value::Int(1)),
            Err(ConfigError::UnknownKey)
        );
        assert_eq!(c, Config::default(), "a refused value changes nothing");
    }

    #[test]
    fn a_long_timeout_lifts_its_maximum_unless_one_is_given() {
        let forty_days = 40 * 24 * 3_600_000;
        let c = Config::from_entries([
            ("idle_timeout_ms", Value::Int(forty_days)),
            ("absolute_timeout_ms", Value::Int(forty_days)),
        ])
        .unwrap();
        assert_eq!(c.max_idle_timeout_ms as u64, forty_days);
        assert_eq!(c.max_absolute_timeout_ms as u64, forty_days);
        let e = Config::from_entries([
            ("absolute_timeout_ms", Value::Int(forty_days)),
            ("max_absolute_timeout_ms", Value::Int(1_000)),
        ])
        .unwrap_err();
        assert_eq!(e.key(), Some("absolute_timeout_ms"));
    }

    #[test]
    fn profile_applies_first_whatever_its_place() {
        let c = Config::from_entries([
            ("idle_timeout_ms", Value::Int(60_000)),
            ("profile", Value::Text("aal3")),
        ])
        .unwrap();
        assert_eq!(c.idle_timeout_ms, 60_000);
        assert_eq!(c.absolute_timeout_ms, Profile::Aal3.timeouts().1);
    }
}
