//! `new Engine(options)`: camelCase options, durations in milliseconds, checked here for
//! range and spelling, then by the core's `Config::validate`.

use napi::Result;
use napi::bindgen_prelude::{Buffer, Env, Function};
use napi_derive::napi;
use sessile::cookie::{CookieConfig, Priority, SameSite};
use sessile::{
    ClientPolicy, Config, ConfigError, PrincipalLimitPolicy, Profile, RotatedReusePolicy,
};

use crate::error::{arg_error, throw};

/// Session cookie attributes (the defaults are the most locked-down choice).
#[napi(object)]
pub struct CookieOptions {
    /// Cookie name. Default `__Host-sid`.
    pub name: Option<String>,
    /// `Domain` attribute; absent (default) makes a host-only cookie.
    pub domain: Option<String>,
    /// `Path` attribute. Default `/`.
    pub path: Option<String>,
    /// `Secure`. Default true.
    pub secure: Option<bool>,
    /// `HttpOnly`. Default true.
    pub http_only: Option<bool>,
    /// `SameSite`; `'omit'` writes no attribute. Default `'lax'`.
    #[napi(ts_type = "'strict' | 'lax' | 'none' | 'omit'")]
    pub same_site: Option<String>,
    /// `Partitioned` (CHIPS). Default false.
    pub partitioned: Option<bool>,
    /// `Priority` attribute. Default absent.
    #[napi(ts_type = "'low' | 'medium' | 'high'")]
    pub priority: Option<String>,
    /// Write `Max-Age` (a persistent cookie). Default true.
    pub persistent: Option<bool>,
}

/// Every size and policy of an engine. Absent fields take the core's defaults.
#[napi(object)]
pub struct EngineOptions<'a> {
    /// Start from a NIST SP 800-63B-4 preset for the two timeouts.
    #[napi(ts_type = "'aal1' | 'aal2' | 'aal3'")]
    pub profile: Option<String>,
    /// Most live sessions. Default 10000.
    pub capacity: Option<f64>,
    /// Bytes in the shared payload pool. Default 4 MiB.
    pub pool_bytes: Option<f64>,
    /// Most payload bytes one session may hold. Default 16 KiB.
    pub max_payload: Option<f64>,
    /// Random bytes per token, 16..=32. Default 32.
    pub token_bytes: Option<f64>,
    /// Idle timeout (ms). Default 30 minutes.
    pub idle_timeout_ms: Option<f64>,
    /// Absolute timeout (ms). Default 8 hours.
    pub absolute_timeout_ms: Option<f64>,
    /// Largest per-session idle override (ms). Default 30 days.
    pub max_idle_timeout_ms: Option<f64>,
    /// Largest per-session absolute override (ms). Default 30 days.
    pub max_absolute_timeout_ms: Option<f64>,
    /// Remembered dead tokens, to report reuse. Default 0: an eighth of `capacity`, at
    /// least 16.
    pub tombstones: Option<f64>,
    /// Capacity of the event ring. Default 256.
    pub events: Option<f64>,
    /// Most concurrent sessions per user (the least recently used goes, or the login is
    /// refused, per `principalLimitPolicy`); 0 = unlimited. Default 10.
    pub max_sessions_per_principal: Option<f64>,
    /// What a login over the per-user cap does. Default `'evict_oldest'`.
    #[napi(ts_type = "'evict_oldest' | 'refuse'")]
    pub principal_limit_policy: Option<String>,
    /// What reuse of a rotated-out token does. Default `'report'`.
    #[napi(ts_type = "'report' | 'revoke_session'")]
    pub rotated_reuse: Option<String>,
    /// Policy for a changed client address. Default `'observe'`.
    #[napi(ts_type = "'off' | 'observe' | 'enforce'")]
    pub ip_policy: Option<String>,
    /// Policy for a changed user agent. Default `'observe'`.
    #[napi(ts_type = "'off' | 'observe' | 'enforce'")]
    pub user_agent_policy: Option<String>,
    /// Alarm when a session is seen from more distinct addresses than this (1..=3); 0 = off.
    pub max_addresses: Option<f64>,
    /// Session cookie attributes.
    pub cookie: Option<CookieOptions>,
    /// 32 bytes: reproducible IDs, for tests and conformance vectors only.
    pub seed: Option<Buffer>,
    /// Replaces the monotonic clock (ms); for tests.
    #[napi(ts_type = "() => number")]
    pub clock: Option<Function<'a, (), f64>>,
}

fn uint(env: &Env, name: &str, v: Option<f64>, max: f64) -> Result<Option<f64>> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x.fract() == 0.0 && x >= 0.0 && x <= max => Ok(Some(x)),
        Some(_) => Err(arg_error(
            env,
            name,
            "must be a non-negative whole number in range",
        )?),
    }
}

fn set_u32(env: &Env, name: &str, v: Option<f64>, slot: &mut u32) -> Result<()> {
    if let Some(x) = uint(env, name, v, f64::from(u32::MAX))? {
        *slot = x as u32;
    }
    Ok(())
}

fn set_u8(env: &Env, name: &str, v: Option<f64>, slot: &mut u8) -> Result<()> {
    if let Some(x) = uint(env, name, v, f64::from(u8::MAX))? {
        *slot = x as u8;
    }
    Ok(())
}

fn client_policy(env: &Env, name: &str, v: &str) -> Result<ClientPolicy> {
    match v {
        "off" => Ok(ClientPolicy::Off),
        "observe" => Ok(ClientPolicy::Observe),
        "enforce" => Ok(ClientPolicy::Enforce),
        _ => Err(arg_error(
            env,
            name,
            "must be 'off', 'observe' or 'enforce'",
        )?),
    }
}

pub(crate) fn cookie_config(env: &Env, o: CookieOptions) -> Result<CookieConfig> {
    let cfg_err = |e| throw(env, sessile::Error::Config(ConfigError::Cookie(e)));
    let mut c = CookieConfig::default();
    if let Some(name) = &o.name {
        c = match c.with_name(name) {
            Ok(c) => c,
            Err(e) => return Err(cfg_err(e)?),
        };
    }
    if let Some(domain) = &o.domain {
        c = match c.with_domain(Some(domain)) {
            Ok(c) => c,
            Err(e) => return Err(cfg_err(e)?),
        };
    }
    if let Some(path) = &o.path {
        c = match c.with_path(path) {
            Ok(c) => c,
            Err(e) => return Err(cfg_err(e)?),
        };
    }
    if let Some(v) = o.secure {
        c.secure = v;
    }
    if let Some(v) = o.http_only {
        c.http_only = v;
    }
    if let Some(v) = o.partitioned {
        c.partitioned = v;
    }
    if let Some(v) = o.persistent {
        c.persistent = v;
    }
    if let Some(s) = &o.same_site {
        c.same_site = match s.as_str() {
            "strict" => Some(SameSite::Strict),
            "lax" => Some(SameSite::Lax),
            "none" => Some(SameSite::None),
            "omit" => None,
            _ => {
                return Err(arg_error(
                    env,
                    "cookie.sameSite",
                    "must be 'strict', 'lax', 'none' or 'omit'",
                )?);
            }
        };
    }
    if let Some(p) = &o.priority {
        c.priority = Some(match p.as_str() {
            "low" => Priority::Low,
            "medium" => Priority::Medium,
            "high" => Priority::High,
            _ => {
                return Err(arg_error(
                    env,
                    "cookie.priority",
                    "must be 'low', 'medium' or 'high'",
                )?);
            }
        });
    }
    Ok(c)
}

/// The config, seed and clock an `EngineOptions` asks for. Rule violations the core
/// checks throw `SESSILE_CONFIG` with the rule as `reason`.
/// What an `EngineOptions` resolves to: the config, the test seed and the test clock.
pub type Built<'a> = (Config, Option<[u8; 32]>, Option<Function<'a, (), f64>>);

pub fn build<'a>(env: &Env, options: Option<EngineOptions<'a>>) -> Result<Built<'a>> {
    let Some(o) = options else {
        return Ok((Config::default(), None, None));
    };
    let mut c = match o.profile.as_deref() {
        None => Config::default(),
        Some("aal1") => Config::profile(Profile::Aal1),
        Some("aal2") => Config::profile(Profile::Aal2),
        Some("aal3") => Config::profile(Profile::Aal3),
        Some(_) => {
            return Err(arg_error(
                env,
                "profile",
                "must be 'aal1', 'aal2' or 'aal3'",
            )?);
        }
    };
    set_u32(env, "capacity", o.capacity, &mut c.capacity)?;
    set_u32(env, "poolBytes", o.pool_bytes, &mut c.pool_bytes)?;
    set_u32(env, "maxPayload", o.max_payload, &mut c.max_payload)?;
    set_u8(env, "tokenBytes", o.token_bytes, &mut c.token_bytes)?;
    set_u32(
        env,
        "idleTimeoutMs",
        o.idle_timeout_ms,
        &mut c.idle_timeout_ms,
    )?;
    set_u32(
        env,
        "absoluteTimeoutMs",
        o.absolute_timeout_ms,
        &mut c.absolute_timeout_ms,
    )?;
    set_u32(
        env,
        "maxIdleTimeoutMs",
        o.max_idle_timeout_ms,
        &mut c.max_idle_timeout_ms,
    )?;
    set_u32(
        env,
        "maxAbsoluteTimeoutMs",
        o.max_absolute_timeout_ms,
        &mut c.max_absolute_timeout_ms,
    )?;
    set_u32(env, "tombstones", o.tombstones, &mut c.tombstones)?;
    set_u32(env, "events", o.events, &mut c.events)?;
    set_u32(
        env,
        "maxSessionsPerPrincipal",
        o.max_sessions_per_principal,
        &mut c.max_sessions_per_principal,
    )?;
    set_u8(env, "maxAddresses", o.max_addresses, &mut c.max_addresses)?;
    if let Some(p) = &o.principal_limit_policy {
        c.principal_limit_policy = match p.as_str() {
            "evict_oldest" => PrincipalLimitPolicy::EvictOldest,
            "refuse" => PrincipalLimitPolicy::Refuse,
            _ => {
                return Err(arg_error(
                    env,
                    "principalLimitPolicy",
                    "must be 'evict_oldest' or 'refuse'",
                )?);
            }
        };
    }
    if let Some(p) = &o.rotated_reuse {
        c.rotated_reuse = match p.as_str() {
            "report" => RotatedReusePolicy::Report,
            "revoke_session" => RotatedReusePolicy::RevokeSession,
            _ => {
                return Err(arg_error(
                    env,
                    "rotatedReuse",
                    "must be 'report' or 'revoke_session'",
                )?);
            }
        };
    }
    if let Some(p) = &o.ip_policy {
        c.ip_policy = client_policy(env, "ipPolicy", p)?;
    }
    if let Some(p) = &o.user_agent_policy {
        c.user_agent_policy = client_policy(env, "userAgentPolicy", p)?;
    }
    if let Some(ck) = o.cookie {
        c.cookie = cookie_config(env, ck)?;
    }
    if let Err(e) = c.validate() {
        return Err(throw(env, sessile::Error::Config(e))?);
    }
    let seed = match o.seed {
        None => None,
        Some(b) => {
            let Ok(s) = <[u8; 32]>::try_from(&b[..]) else {
                return Err(arg_error(env, "seed", "must be exactly 32 bytes")?);
            };
            Some(s)
        }
    };
    Ok((c, seed, o.clock))
}

/// The cookie attributes an engine uses, every field resolved.
#[napi(object)]
pub struct ResolvedCookie {
    pub name: String,
    pub domain: Option<String>,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    #[napi(ts_type = "'strict' | 'lax' | 'none' | 'omit'")]
    pub same_site: String,
    pub partitioned: bool,
    #[napi(ts_type = "'low' | 'medium' | 'high' | null")]
    pub priority: Option<String>,
    pub persistent: bool,
}

/// Every option an engine built from the same `EngineOptions` would use.
#[napi(object)]
pub struct ResolvedOptions {
    pub capacity: u32,
    pub pool_bytes: u32,
    pub max_payload: u32,
    pub token_bytes: u32,
    pub idle_timeout_ms: u32,
    pub absolute_timeout_ms: u32,
    pub max_idle_timeout_ms: u32,
    pub max_absolute_timeout_ms: u32,
    pub tombstones: u32,
    pub events: u32,
    pub max_sessions_per_principal: u32,
    #[napi(ts_type = "'evict_oldest' | 'refuse'")]
    pub principal_limit_policy: String,
    #[napi(ts_type = "'report' | 'revoke_session'")]
    pub rotated_reuse: String,
    #[napi(ts_type = "'off' | 'observe' | 'enforce'")]
    pub ip_policy: String,
    #[napi(ts_type = "'off' | 'observe' | 'enforce'")]
    pub user_agent_policy: String,
    pub max_addresses: u32,
    pub cookie: ResolvedCookie,
}

fn policy_name(p: ClientPolicy) -> String {
    match p {
        ClientPolicy::Off => "off",
        ClientPolicy::Observe => "observe",
        ClientPolicy::Enforce => "enforce",
    }
    .to_owned()
}

/// The defaults filled in and every rule checked, as `new Engine(options)` would, without
/// building an engine. Throws the same errors.
#[napi]
pub fn resolve_options(
    env: Env,
    #[napi(ts_arg_type = "EngineOptions")] options: Option<EngineOptions<'_>>,
) -> Result<ResolvedOptions> {
    let (c, _, _) = build(&env, options)?;
    let k = &c.cookie;
    Ok(ResolvedOptions {
        capacity: c.capacity,
        pool_bytes: c.pool_bytes,
        max_payload: c.max_payload,
        token_bytes: u32::from(c.token_bytes),
        idle_timeout_ms: c.idle_timeout_ms,
        absolute_timeout_ms: c.absolute_timeout_ms,
        max_idle_timeout_ms: c.max_idle_timeout_ms,
        max_absolute_timeout_ms: c.max_absolute_timeout_ms,
        tombstones: c.tombstones,
        events: c.events,
        max_sessions_per_principal: c.max_sessions_per_principal,
        principal_limit_policy: match c.principal_limit_policy {
            PrincipalLimitPolicy::EvictOldest => "evict_oldest",
            PrincipalLimitPolicy::Refuse => "refuse",
        }
        .to_owned(),
        rotated_reuse: match c.rotated_reuse {
            RotatedReusePolicy::Report => "report",
            RotatedReusePolicy::RevokeSession => "revoke_session",
        }
        .to_owned(),
        ip_policy: policy_name(c.ip_policy),
        user_agent_policy: policy_name(c.user_agent_policy),
        max_addresses: u32::from(c.max_addresses),
        cookie: ResolvedCookie {
            name: k.name.as_str().to_owned(),
            domain: k.domain.as_ref().map(|d| d.as_str().to_owned()),
            path: k.path.as_str().to_owned(),
            secure: k.secure,
            http_only: k.http_only,
            same_site: match k.same_site {
                Some(SameSite::Strict) => "strict",
                Some(SameSite::Lax) => "lax",
                Some(SameSite::None) => "none",
                None => "omit",
            }
            .to_owned(),
            partitioned: k.partitioned,
            priority: k.priority.map(|p| {
                match p {
                    Priority::Low => "low",
                    Priority::Medium => "medium",
                    Priority::High => "high",
                }
                .to_owned()
            }),
            persistent: k.persistent,
        },
    })
}
