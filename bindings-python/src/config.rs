//! An engine's configuration in Python's words: built from the keyword arguments of
//! `Engine(...)`, read back as the dict of `Engine.config`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use sessile::cookie::{Priority, SameSite};
use sessile::{ClientPolicy, Config, Error, PrincipalLimitPolicy, Profile, RotatedReusePolicy};

use crate::clock::{seconds_to_ms, secs};
use crate::errors::{bad_config, to_py};

fn u32_field(py: Python<'_>, name: &str, v: Option<i64>, default: u32) -> PyResult<u32> {
    match v {
        None => Ok(default),
        Some(v) => u32::try_from(v)
            .map_err(|_| bad_config(py, format!("{name} must be between 0 and {}", u32::MAX))),
    }
}

fn ms_field(py: Python<'_>, name: &str, v: Option<f64>, default: u32) -> PyResult<u32> {
    match v {
        None => Ok(default),
        Some(s) => seconds_to_ms(s).ok_or_else(|| {
            bad_config(
                py,
                format!("{name} must be a finite number of seconds between 0 and 4294967.295"),
            )
        }),
    }
}

fn choice<T: Copy>(
    py: Python<'_>,
    name: &str,
    v: Option<&str>,
    default: T,
    options: &[(&str, T)],
) -> PyResult<T> {
    let Some(v) = v else { return Ok(default) };
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(v))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
            bad_config(py, format!("{name} must be one of {names:?}, not {v:?}"))
        })
}

const CLIENT_POLICIES: [(&str, ClientPolicy); 3] = [
    ("off", ClientPolicy::Off),
    ("observe", ClientPolicy::Observe),
    ("enforce", ClientPolicy::Enforce),
];

fn policy_name(p: ClientPolicy) -> &'static str {
    match p {
        ClientPolicy::Off => "off",
        ClientPolicy::Observe => "observe",
        ClientPolicy::Enforce => "enforce",
    }
}

/// The keyword arguments of `Engine(...)` that configure the core (all but `seed` and
/// `clock`); `None` keeps the core's default, or the profile's.
pub(crate) struct ConfigArgs<'a> {
    pub(crate) profile: Option<&'a str>,
    pub(crate) capacity: Option<i64>,
    pub(crate) pool_bytes: Option<i64>,
    pub(crate) max_payload: Option<i64>,
    pub(crate) token_bytes: Option<i64>,
    pub(crate) idle_timeout: Option<f64>,
    pub(crate) absolute_timeout: Option<f64>,
    pub(crate) max_idle_timeout: Option<f64>,
    pub(crate) max_absolute_timeout: Option<f64>,
    pub(crate) tombstones: Option<i64>,
    pub(crate) events: Option<i64>,
    pub(crate) max_sessions_per_principal: Option<i64>,
    pub(crate) principal_limit_policy: Option<&'a str>,
    pub(crate) rotated_reuse: Option<&'a str>,
    pub(crate) ip_policy: Option<&'a str>,
    pub(crate) user_agent_policy: Option<&'a str>,
    pub(crate) max_addresses: Option<i64>,
    pub(crate) cookie_name: Option<&'a str>,
    pub(crate) cookie_domain: Option<&'a str>,
    pub(crate) cookie_path: Option<&'a str>,
    pub(crate) cookie_secure: Option<bool>,
    pub(crate) cookie_http_only: Option<bool>,
    pub(crate) cookie_same_site: Option<&'a str>,
    pub(crate) cookie_partitioned: Option<bool>,
    pub(crate) cookie_priority: Option<&'a str>,
    pub(crate) cookie_persistent: Option<bool>,
}

impl ConfigArgs<'_> {
    /// The core config these arguments ask for; `ConfigError` for the first value that
    /// cannot be one (the core checks the whole when the engine is built).
    pub(crate) fn build(self, py: Python<'_>) -> PyResult<Config> {
        let ConfigArgs {
            profile,
            capacity,
            pool_bytes,
            max_payload,
            token_bytes,
            idle_timeout,
            absolute_timeout,
            max_idle_timeout,
            max_absolute_timeout,
            tombstones,
            events,
            max_sessions_per_principal,
            principal_limit_policy,
            rotated_reuse,
            ip_policy,
            user_agent_policy,
            max_addresses,
            cookie_name,
            cookie_domain,
            cookie_path,
            cookie_secure,
            cookie_http_only,
            cookie_same_site,
            cookie_partitioned,
            cookie_priority,
            cookie_persistent,
        } = self;
        let profile = choice(
            py,
            "profile",
            profile,
            None,
            &[
                ("aal1", Some(Profile::Aal1)),
                ("aal2", Some(Profile::Aal2)),
                ("aal3", Some(Profile::Aal3)),
            ],
        )?;
        let mut c = profile.map_or_else(Config::default, Config::profile);
        c.capacity = u32_field(py, "capacity", capacity, c.capacity)?;
        c.pool_bytes = u32_field(py, "pool_bytes", pool_bytes, c.pool_bytes)?;
        c.max_payload = u32_field(py, "max_payload", max_payload, c.max_payload)?;
        c.token_bytes = match token_bytes {
            None => c.token_bytes,
            Some(v) => u8::try_from(v)
                .map_err(|_| to_py(py, Error::Config(sessile::ConfigError::TokenBytes)))?,
        };
        c.idle_timeout_ms = ms_field(py, "idle_timeout", idle_timeout, c.idle_timeout_ms)?;
        c.absolute_timeout_ms = ms_field(
            py,
            "absolute_timeout",
            absolute_timeout,
            c.absolute_timeout_ms,
        )?;
        c.max_idle_timeout_ms = ms_field(
            py,
            "max_idle_timeout",
            max_idle_timeout,
            c.max_idle_timeout_ms,
        )?;
        c.max_absolute_timeout_ms = ms_field(
            py,
            "max_absolute_timeout",
            max_absolute_timeout,
            c.max_absolute_timeout_ms,
        )?;
        c.tombstones = u32_field(py, "tombstones", tombstones, c.tombstones)?;
        c.events = u32_field(py, "events", events, c.events)?;
        c.max_sessions_per_principal = u32_field(
            py,
            "max_sessions_per_principal",
            max_sessions_per_principal,
            c.max_sessions_per_principal,
        )?;
        c.principal_limit_policy = choice(
            py,
            "principal_limit_policy",
            principal_limit_policy,
            c.principal_limit_policy,
            &[
                ("evict_oldest", PrincipalLimitPolicy::EvictOldest),
                ("refuse", PrincipalLimitPolicy::Refuse),
            ],
        )?;
        c.rotated_reuse = choice(
            py,
            "rotated_reuse",
            rotated_reuse,
            c.rotated_reuse,
            &[
                ("report", RotatedReusePolicy::Report),
                ("revoke_session", RotatedReusePolicy::RevokeSession),
            ],
        )?;
        c.ip_policy = choice(py, "ip_policy", ip_policy, c.ip_policy, &CLIENT_POLICIES)?;
        c.user_agent_policy = choice(
            py,
            "user_agent_policy",
            user_agent_policy,
            c.user_agent_policy,
            &CLIENT_POLICIES,
        )?;
        c.max_addresses = match max_addresses {
            None => c.max_addresses,
            Some(v) => u8::try_from(v)
                .map_err(|_| to_py(py, Error::Config(sessile::ConfigError::MaxAddresses)))?,
        };
        let cfg_err = |e| to_py(py, Error::Config(sessile::ConfigError::Cookie(e)));
        let mut cookie = c.cookie.clone();
        if let Some(n) = cookie_name {
            cookie = cookie.with_name(n).map_err(cfg_err)?;
        }
        if cookie_domain.is_some() {
            cookie = cookie.with_domain(cookie_domain).map_err(cfg_err)?;
        }
        if let Some(p) = cookie_path {
            cookie = cookie.with_path(p).map_err(cfg_err)?;
        }
        cookie.secure = cookie_secure.unwrap_or(cookie.secure);
        cookie.http_only = cookie_http_only.unwrap_or(cookie.http_only);
        cookie.partitioned = cookie_partitioned.unwrap_or(cookie.partitioned);
        cookie.persistent = cookie_persistent.unwrap_or(cookie.persistent);
        cookie.same_site = choice(
            py,
            "cookie_same_site",
            cookie_same_site,
            cookie.same_site,
            &[
                ("lax", Some(SameSite::Lax)),
                ("strict", Some(SameSite::Strict)),
                ("none", Some(SameSite::None)),
                ("omit", None),
            ],
        )?;
        cookie.priority = choice(
            py,
            "cookie_priority",
            cookie_priority,
            cookie.priority,
            &[
                ("low", Some(Priority::Low)),
                ("medium", Some(Priority::Medium)),
                ("high", Some(Priority::High)),
            ],
        )?;
        c.cookie = cookie;
        Ok(c)
    }
}

/// `Engine.config`: every value of `c` under its keyword name (durations in seconds).
pub(crate) fn to_dict<'py>(py: Python<'py>, c: &Config) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("capacity", c.capacity)?;
    d.set_item("pool_bytes", c.pool_bytes)?;
    d.set_item("max_payload", c.max_payload)?;
    d.set_item("token_bytes", c.token_bytes)?;
    d.set_item("idle_timeout", secs(c.idle_timeout_ms.into()))?;
    d.set_item("absolute_timeout", secs(c.absolute_timeout_ms.into()))?;
    d.set_item("max_idle_timeout", secs(c.max_idle_timeout_ms.into()))?;
    d.set_item(
        "max_absolute_timeout",
        secs(c.max_absolute_timeout_ms.into()),
    )?;
    d.set_item("tombstones", c.tombstones)?;
    d.set_item("events", c.events)?;
    d.set_item("max_sessions_per_principal", c.max_sessions_per_principal)?;
    d.set_item(
        "principal_limit_policy",
        match c.principal_limit_policy {
            PrincipalLimitPolicy::EvictOldest => "evict_oldest",
            PrincipalLimitPolicy::Refuse => "refuse",
        },
    )?;
    d.set_item(
        "rotated_reuse",
        match c.rotated_reuse {
            RotatedReusePolicy::Report => "report",
            RotatedReusePolicy::RevokeSession => "revoke_session",
        },
    )?;
    d.set_item("ip_policy", policy_name(c.ip_policy))?;
    d.set_item("user_agent_policy", policy_name(c.user_agent_policy))?;
    d.set_item("max_addresses", c.max_addresses)?;
    let k = &c.cookie;
    d.set_item("cookie_name", k.name.as_str())?;
    d.set_item("cookie_domain", k.domain.as_ref().map(|s| s.as_str()))?;
    d.set_item("cookie_path", k.path.as_str())?;
    d.set_item("cookie_secure", k.secure)?;
    d.set_item("cookie_http_only", k.http_only)?;
    d.set_item(
        "cookie_same_site",
        k.same_site.map(|s| match s {
            SameSite::Lax => "lax",
            SameSite::Strict => "strict",
            SameSite::None => "none",
        }),
    )?;
    d.set_item("cookie_partitioned", k.partitioned)?;
    d.set_item(
        "cookie_priority",
        k.priority.map(|p| match p {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }),
    )?;
    d.set_item("cookie_persistent", k.persistent)?;
    Ok(d)
}
