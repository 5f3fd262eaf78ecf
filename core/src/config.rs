//! Engine configuration: every size and policy is fixed here, before construction.

use crate::cookie::{CookieConfig, CookieConfigError};
use crate::vocabulary::Kind;

/// One minute in milliseconds.
pub const MINUTE_MS: u32 = 60_000;
/// One hour in milliseconds.
pub const HOUR_MS: u32 = 60 * MINUTE_MS;
/// One day in milliseconds.
pub const DAY_MS: u32 = 24 * HOUR_MS;

/// Largest number of sessions one engine can hold (and tombstones, and events). Slot
/// indices are `u32` with `u32::MAX` reserved ([`crate::wheel::NIL`]), and the index
/// tables must stay addressable.
#[cfg(not(feature = "narrow"))]
pub const MAX_CAPACITY: u32 = 1 << 26;
/// Largest number of sessions one engine can hold (and tombstones, and events): the
/// feature `narrow` stores slot and wheel node numbers in 16 bits ([`crate::Ix`]) with
/// `u16::MAX` reserved, and the wheel's nodes are the slots and its 385 list heads (129 on
/// 32-bit targets, whose wheel has 16 slots a level: the limit is the same everywhere).
#[cfg(feature = "narrow")]
pub const MAX_CAPACITY: u32 = u16::MAX as u32 - crate::wheel::MOST_SENTINELS as u32 - 1;
/// Largest `max_payload`: `u32::MAX`, or 65,535 bytes with the feature `narrow` (a slot
/// keeps the payload's length in 16 bits there).
pub const MAX_PAYLOAD: u32 = if cfg!(feature = "narrow") {
    u16::MAX as u32
} else {
    u32::MAX
};
/// Largest payload pool: `u32::MAX` bytes, or with the feature `narrow` 65,536 blocks
/// (4 MiB, the default pool), numbered in 16 bits in the slots ([`crate::Ix`]).
pub const MAX_POOL_BYTES: u32 = if cfg!(feature = "narrow") {
    (u16::MAX as u32 + 1) * crate::pool::BLOCK as u32
} else {
    u32::MAX
};
/// Longest principal (user ID) in bytes.
pub const MAX_PRINCIPAL: usize = 128;
/// Fewest random bytes in a token (128 bits).
pub const MIN_TOKEN_BYTES: u8 = 16;
/// Most random bytes in a token (256 bits, the default).
pub const MAX_TOKEN_BYTES: u8 = 32;
/// Most distinct client addresses a session remembers for the address alarm.
pub const MAX_TRACKED_ADDRESSES: u8 = 4;

/// What to do when a client attribute (address, user agent) changes within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientPolicy {
    /// Ignore it.
    Off,
    /// Keep the session valid, raise an `AddressChanged` or `UserAgentChanged` event.
    Observe,
    /// Reject the request (`Invalid::ClientMismatch`) and raise the event; the session stays alive
    /// for its rightful client.
    Enforce,
}

/// What to do when a principal already has `max_sessions_per_principal` sessions and logs in again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalLimitPolicy {
    /// End the principal's least recently used session (event `Evicted`).
    EvictLeastRecentlyUsed,
    /// Refuse the login with `Error::PrincipalLimit`.
    Refuse,
}

/// What to do when a token that was rotated out is presented again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotatedReusePolicy {
    /// Reject the token and raise `ReuseAfterRotation`.
    Report,
    /// Also end the session it was rotated into: one of the two holders is a thief.
    RevokeSession,
}

/// NIST SP 800-63B-4 reauthentication presets (section 2.x.3 of each AAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// AAL1: reauthenticate at least every 30 days; no inactivity limit required (we use 30 days).
    Aal1,
    /// AAL2: reauthenticate at least every 24 hours, or after 1 hour of inactivity.
    Aal2,
    /// AAL3: reauthenticate at least every 12 hours, or after 15 minutes of inactivity.
    Aal3,
}

impl Profile {
    /// `(idle_ms, absolute_ms)` for this profile.
    pub const fn timeouts(self) -> (u32, u32) {
        match self {
            Profile::Aal1 => (30 * DAY_MS, 30 * DAY_MS),
            Profile::Aal2 => (HOUR_MS, 24 * HOUR_MS),
            Profile::Aal3 => (15 * MINUTE_MS, 12 * HOUR_MS),
        }
    }
}

/// All sizes and policies of an engine.
///
/// ```
/// use sessile::Config;
/// let mut config = Config::default();
/// config.capacity = 1_000;
/// config.idle_timeout_ms = 15 * 60_000;
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Most live sessions.
    pub capacity: u32,
    /// Bytes in the shared payload pool (rounded up to whole blocks).
    pub pool_bytes: u32,
    /// Most payload bytes one session may hold.
    pub max_payload: u32,
    /// Random bytes per token, 16..=32 (128 to 256 bits).
    pub token_bytes: u8,
    /// Default idle timeout: a session not seen for this long is dead.
    pub idle_timeout_ms: u32,
    /// Default absolute timeout: a session older than this is dead, however busy.
    pub absolute_timeout_ms: u32,
    /// Largest idle timeout a per-session override may ask for.
    pub max_idle_timeout_ms: u32,
    /// Largest absolute timeout a per-session override may ask for.
    pub max_absolute_timeout_ms: u32,
    /// Remembered dead tokens, to report reuse; 0 = capacity / 8, at least 16. Three
    /// quarters hold the logged-out, rotated-out and revoked tokens of logged-in sessions,
    /// the rest every other death, so anonymous churn never pushes out the former.
    pub tombstones: u32,
    /// Capacity of the security event ring.
    pub events: u32,
    /// Most concurrent sessions per principal; 0 = unlimited. Default 10: logged-in
    /// sessions are never evicted to admit anonymous ones, so without a cap one account
    /// that logs in `capacity` times (a script, a leaked password) fills the table and
    /// every other user's login fails until those sessions time out. With the default
    /// policy the principal's least recently used session makes room instead, and ten
    /// covers a person's browsers and devices. Size `capacity` for the logged-in users
    /// you expect times the sessions each keeps, plus headroom for anonymous visitors.
    ///
    /// Built without the `principal-cap` feature (only a build without `std` can be),
    /// the engine has no cap, and [`Config::validate`] refuses any value but 0.
    pub max_sessions_per_principal: u32,
    /// What a login over `max_sessions_per_principal` does.
    pub principal_limit_policy: PrincipalLimitPolicy,
    /// What reuse of a rotated-out token does.
    pub rotated_reuse: RotatedReusePolicy,
    /// Policy for a changed client address.
    pub ip_policy: ClientPolicy,
    /// Policy for a changed user agent.
    pub user_agent_policy: ClientPolicy,
    /// Raise `TooManyAddresses` when a session is seen from more than this many distinct
    /// addresses (1..=3); 0 = off.
    pub max_addresses: u8,
    /// Session cookie attributes.
    pub cookie: CookieConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: 10_000,
            pool_bytes: 4 * 1024 * 1024,
            max_payload: 16 * 1024,
            token_bytes: 32,
            idle_timeout_ms: 30 * MINUTE_MS,
            absolute_timeout_ms: 8 * HOUR_MS,
            max_idle_timeout_ms: 30 * DAY_MS,
            max_absolute_timeout_ms: 30 * DAY_MS,
            tombstones: 0,
            events: 256,
            max_sessions_per_principal: 10,
            principal_limit_policy: PrincipalLimitPolicy::EvictLeastRecentlyUsed,
            rotated_reuse: RotatedReusePolicy::Report,
            ip_policy: ClientPolicy::Observe,
            user_agent_policy: ClientPolicy::Observe,
            max_addresses: 0,
            cookie: CookieConfig::default(),
        }
    }
}

/// Why a configuration is rejected. Each variant names one rule; [`ConfigError::key`]
/// names the config key to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `capacity` is 0 or above [`MAX_CAPACITY`].
    Capacity,
    /// `token_bytes` outside 16..=32.
    TokenBytes,
    /// A timeout is 0.
    ZeroTimeout {
        /// The timeout's key.
        key: &'static str,
    },
    /// The idle timeout is longer than the absolute timeout.
    IdleAboveAbsolute,
    /// A default timeout is above its configured maximum.
    TimeoutAboveMax {
        /// The timeout's key.
        key: &'static str,
    },
    /// `max_payload` is larger than the whole pool.
    PayloadAbovePool,
    /// `max_addresses` above 3.
    MaxAddresses,
    /// `events` is 0 or above `MAX_CAPACITY`.
    Events,
    /// `tombstones` above `MAX_CAPACITY`.
    Tombstones,
    /// The cookie attributes are a combination browsers reject.
    Cookie(CookieConfigError),
    /// No config key has this name (see [`crate::vocabulary::KEYS`]).
    UnknownKey,
    /// A value of the wrong type, out of the key's range, or not one of its spellings.
    BadValue {
        /// The key.
        key: &'static str,
    },
}

impl ConfigError {
    /// Stable snake_case code (cookie errors give the cookie rule's code).
    pub const fn code(&self) -> &'static str {
        match self {
            ConfigError::Capacity => "capacity",
            ConfigError::TokenBytes => "token_bytes",
            ConfigError::ZeroTimeout { .. } => "zero_timeout",
            ConfigError::IdleAboveAbsolute => "idle_above_absolute",
            ConfigError::TimeoutAboveMax { .. } => "timeout_above_max",
            ConfigError::PayloadAbovePool => "payload_above_pool",
            ConfigError::MaxAddresses => "max_addresses",
            ConfigError::Events => "events",
            ConfigError::Tombstones => "tombstones",
            ConfigError::Cookie(e) => e.code(),
            ConfigError::UnknownKey => "unknown_key",
            ConfigError::BadValue { .. } => "bad_value",
        }
    }

    /// The config key to change (`None` for an unknown key: the caller knows which
    /// name it passed).
    pub const fn key(&self) -> Option<&'static str> {
        Some(match self {
            ConfigError::Capacity => "capacity",
            ConfigError::TokenBytes => "token_bytes",
            ConfigError::ZeroTimeout { key }
            | ConfigError::TimeoutAboveMax { key }
            | ConfigError::BadValue { key } => key,
            ConfigError::IdleAboveAbsolute => "idle_timeout_ms",
            ConfigError::PayloadAbovePool => "max_payload",
            ConfigError::MaxAddresses => "max_addresses",
            ConfigError::Events => "events",
            ConfigError::Tombstones => "tombstones",
            ConfigError::Cookie(e) => e.key(),
            ConfigError::UnknownKey => return None,
        })
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::Capacity => write!(f, "capacity must be between 1 and {MAX_CAPACITY}"),
            ConfigError::TokenBytes => write!(
                f,
                "token_bytes must be between {MIN_TOKEN_BYTES} and {MAX_TOKEN_BYTES}"
            ),
            ConfigError::ZeroTimeout { key } => write!(f, "{key} must be greater than zero"),
            ConfigError::IdleAboveAbsolute => {
                f.write_str("idle_timeout_ms must not exceed absolute_timeout_ms")
            }
            ConfigError::TimeoutAboveMax { key } => {
                write!(f, "{key} exceeds its maximum (max_{key})")
            }
            ConfigError::PayloadAbovePool => f.write_str("max_payload exceeds pool_bytes"),
            ConfigError::MaxAddresses => f.write_str("max_addresses must be between 0 and 3"),
            ConfigError::Events => write!(f, "events must be between 1 and {MAX_CAPACITY}"),
            ConfigError::Tombstones => write!(f, "tombstones must be at most {MAX_CAPACITY}"),
            ConfigError::Cookie(e) => write!(f, "{}: {e}", e.key()),
            ConfigError::UnknownKey => f.write_str("no config key has this name"),
            ConfigError::BadValue { key } => match crate::vocabulary::key(key).map(|k| k.kind) {
                Some(Kind::Count { min, max }) => {
                    write!(f, "{key}: expected a whole number from {min} to {max}")
                }
                Some(Kind::Millis { min, max }) => {
                    write!(f, "{key}: expected milliseconds from {min} to {max}")
                }
                Some(Kind::Flag) => write!(f, "{key}: expected true or false"),
                Some(Kind::Choice(o)) => {
                    write!(f, "{key}: expected one of")?;
                    for (i, s) in o.iter().enumerate() {
                        write!(f, "{}{s:?}", if i == 0 { " " } else { ", " })?;
                    }
                    Ok(())
                }
                Some(Kind::Text { max, optional }) => write!(
                    f,
                    "{key}: expected text of at most {max} bytes{}",
                    if optional { " or none" } else { "" }
                ),
                None => write!(f, "{key}: bad value"),
            },
        }
    }
}

impl Config {
    /// A default config with the idle and absolute timeouts of a NIST profile.
    pub fn profile(profile: Profile) -> Self {
        let (idle, absolute) = profile.timeouts();
        Config {
            idle_timeout_ms: idle,
            absolute_timeout_ms: absolute,
            ..Config::default()
        }
    }

    /// Check every rule; the engine refuses to build from a config that fails.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.capacity == 0 || self.capacity > MAX_CAPACITY {
            return Err(ConfigError::Capacity);
        }
        if !(MIN_TOKEN_BYTES..=MAX_TOKEN_BYTES).contains(&self.token_bytes) {
            return Err(ConfigError::TokenBytes);
        }
        let zero = if self.idle_timeout_ms == 0 {
            Some("idle_timeout_ms")
        } else if self.absolute_timeout_ms == 0 {
            Some("absolute_timeout_ms")
        } else if self.max_idle_timeout_ms == 0 {
            Some("max_idle_timeout_ms")
        } else if self.max_absolute_timeout_ms == 0 {
            Some("max_absolute_timeout_ms")
        } else {
            None
        };
        if let Some(key) = zero {
            return Err(ConfigError::ZeroTimeout { key });
        }
        if self.idle_timeout_ms > self.absolute_timeout_ms {
            return Err(ConfigError::IdleAboveAbsolute);
        }
        if self.idle_timeout_ms > self.max_idle_timeout_ms {
            return Err(ConfigError::TimeoutAboveMax {
                key: "idle_timeout_ms",
            });
        }
        if self.absolute_timeout_ms > self.max_absolute_timeout_ms {
            return Err(ConfigError::TimeoutAboveMax {
                key: "absolute_timeout_ms",
            });
        }
        #[allow(clippy::absurd_extreme_comparisons)] // u32::MAX in the default build
        if self.pool_bytes > MAX_POOL_BYTES {
            // Only in a `narrow` build: its slots number pool blocks in 16 bits.
            return Err(ConfigError::BadValue { key: "pool_bytes" });
        }
        if self.max_payload > self.pool_bytes {
            return Err(ConfigError::PayloadAbovePool);
        }
        #[allow(clippy::absurd_extreme_comparisons)] // u32::MAX in the default build
        if self.max_payload > MAX_PAYLOAD {
            // Only in a `narrow` build: its slots keep a payload's length in 16 bits.
            return Err(ConfigError::BadValue { key: "max_payload" });
        }
        if self.max_addresses > MAX_TRACKED_ADDRESSES - 1 {
            return Err(ConfigError::MaxAddresses);
        }
        if !cfg!(feature = "principal-cap") && self.max_sessions_per_principal > 0 {
            // Built without the cap: a config asking for one must not run capless.
            return Err(ConfigError::BadValue {
                key: "max_sessions_per_principal",
            });
        }
        if self.events == 0 || self.events > MAX_CAPACITY {
            return Err(ConfigError::Events);
        }
        if self.tombstones > MAX_CAPACITY {
            return Err(ConfigError::Tombstones);
        }
        self.cookie.validate().map_err(ConfigError::Cookie)
    }

    /// Whether the engine remembers a client fact of each session (its address or user
    /// agent digest): a policy watches one, or the address alarm counts addresses. Only
    /// then has it the per-session region of client digests (`clients` in
    /// [`crate::Parts`]).
    pub fn watches_clients(&self) -> bool {
        self.ip_policy != ClientPolicy::Off
            || self.user_agent_policy != ClientPolicy::Off
            || self.max_addresses > 0
    }

    /// Tombstones actually kept: the configured count, or an eighth of capacity (at least 16) when 0.
    pub fn tombstone_count(&self) -> u32 {
        if self.tombstones == 0 {
            (self.capacity / 8).max(16)
        } else {
            self.tombstones
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn each_rule_is_enforced() {
        type Case = (fn(&mut Config), ConfigError);
        let cases: &[Case] = &[
            (|c| c.capacity = 0, ConfigError::Capacity),
            (|c| c.capacity = MAX_CAPACITY + 1, ConfigError::Capacity),
            (|c| c.token_bytes = 15, ConfigError::TokenBytes),
            (|c| c.token_bytes = 33, ConfigError::TokenBytes),
            (
                |c| c.idle_timeout_ms = 0,
                ConfigError::ZeroTimeout {
                    key: "idle_timeout_ms",
                },
            ),
            (
                |c| c.absolute_timeout_ms = 0,
                ConfigError::ZeroTimeout {
                    key: "absolute_timeout_ms",
                },
            ),
            (
                |c| c.max_idle_timeout_ms = 0,
                ConfigError::ZeroTimeout {
                    key: "max_idle_timeout_ms",
                },
            ),
            (
                |c| c.max_absolute_timeout_ms = 0,
                ConfigError::ZeroTimeout {
                    key: "max_absolute_timeout_ms",
                },
            ),
            (
                |c| c.idle_timeout_ms = c.absolute_timeout_ms + 1,
                ConfigError::IdleAboveAbsolute,
            ),
            (
                |c| c.max_absolute_timeout_ms = 1000,
                ConfigError::TimeoutAboveMax {
                    key: "absolute_timeout_ms",
                },
            ),
            (
                |c| c.max_payload = c.pool_bytes + 1,
                ConfigError::PayloadAbovePool,
            ),
            (|c| c.max_addresses = 4, ConfigError::MaxAddresses),
            (|c| c.events = 0, ConfigError::Events),
            (
                |c| c.cookie.secure = false,
                ConfigError::Cookie(CookieConfigError::HostPrefixNeedsSecure),
            ),
        ];
        for (mutate, want) in cases {
            let mut c = Config::default();
            mutate(&mut c);
            assert_eq!(c.validate(), Err(*want));
        }
    }

    #[test]
    fn profiles_follow_nist() {
        let c = Config::profile(Profile::Aal3);
        assert_eq!(
            (c.idle_timeout_ms, c.absolute_timeout_ms),
            (15 * MINUTE_MS, 12 * HOUR_MS)
        );
        assert!(c.validate().is_ok());
        assert!(Config::profile(Profile::Aal1).validate().is_ok());
        assert!(Config::profile(Profile::Aal2).validate().is_ok());
    }

    /// What a `narrow` build (16-bit slot, node, block and cell numbers) can hold is
    /// refused beyond, with a typed error, never wrapped: the largest capacity, tombstone
    /// count, event ring and pool build, one more is refused. In the default build the
    /// same lines check the documented limits.
    #[test]
    #[allow(clippy::unnecessary_min_or_max)] // the two limits are equal in the default build
    fn the_stored_widths_limits_are_refused_not_wrapped() {
        if cfg!(feature = "narrow") {
            assert_eq!(MAX_CAPACITY, 65_149);
            assert_eq!(MAX_POOL_BYTES, 4 * 1024 * 1024);
            assert_eq!(MAX_PAYLOAD, 65_535);
            // The default config is a narrow build's too (4 MiB pool, 10,000 sessions).
            assert_eq!(Config::default().validate(), Ok(()));
        } else {
            assert_eq!(MAX_CAPACITY, 1 << 26);
            assert_eq!(MAX_POOL_BYTES, u32::MAX);
            assert_eq!(MAX_PAYLOAD, u32::MAX);
        }
        let full = Config {
            capacity: MAX_CAPACITY,
            tombstones: MAX_CAPACITY,
            events: MAX_CAPACITY,
            pool_bytes: MAX_POOL_BYTES,
            max_payload: MAX_PAYLOAD.min(MAX_POOL_BYTES),
            ..Config::default()
        };
        assert_eq!(full.validate(), Ok(()));
        type Case = (fn(&mut Config), ConfigError);
        let cases: &[Case] = &[
            (|c| c.capacity = MAX_CAPACITY + 1, ConfigError::Capacity),
            (|c| c.tombstones = MAX_CAPACITY + 1, ConfigError::Tombstones),
            (|c| c.events = MAX_CAPACITY + 1, ConfigError::Events),
        ];
        for (mutate, want) in cases {
            let mut c = full.clone();
            mutate(&mut c);
            assert_eq!(c.validate(), Err(*want));
        }
        if let Some(over) = MAX_PAYLOAD.checked_add(1) {
            let c = Config {
                max_payload: over,
                pool_bytes: over,
                ..full.clone()
            };
            assert_eq!(
                c.validate(),
                Err(ConfigError::BadValue { key: "max_payload" })
            );
        }
        if let Some(over) = MAX_POOL_BYTES.checked_add(1) {
            let c = Config {
                pool_bytes: over,
                ..full.clone()
            };
            assert_eq!(
                c.validate(),
                Err(ConfigError::BadValue { key: "pool_bytes" })
            );
        }
    }
}
