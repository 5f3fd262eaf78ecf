//! `sessile_config`: every core option as a plain C struct, filled by
//! `sessile_config_default()` and converted (and fully validated) when an engine is built.

use core::ffi::{CStr, c_char};

use sessile_core::cookie::Priority;
use sessile_core::vocabulary::{self, Kind, Value};
use sessile_core::{
    ClientPolicy, Config, ConfigError, CookieConfig, CookieConfigError, CookieStyle,
    PrincipalLimitPolicy, Profile, RotatedReusePolicy, SameSite,
};

use crate::boundary::run;
use crate::result::sessile_result;

/// Values of `sessile_config.ip_policy` and `.user_agent_policy`.
#[repr(u32)]
pub enum sessile_client_policy {
    /// Ignore a change.
    SESSILE_CLIENT_POLICY_OFF = 0,
    /// Keep the session valid, raise an event.
    SESSILE_CLIENT_POLICY_OBSERVE = 1,
    /// Reject the request (`SESSILE_RESULT_CLIENT_MISMATCH`) and raise an event.
    SESSILE_CLIENT_POLICY_ENFORCE = 2,
}

/// Values of `sessile_config.principal_limit_policy`.
#[repr(u32)]
pub enum sessile_principal_limit_policy {
    /// End the principal's least recently used session.
    SESSILE_PRINCIPAL_LIMIT_POLICY_EVICT_LEAST_RECENTLY_USED = 0,
    /// Refuse the login (`SESSILE_RESULT_PRINCIPAL_LIMIT`).
    SESSILE_PRINCIPAL_LIMIT_POLICY_REFUSE = 1,
}

/// Values of `sessile_config.rotated_reuse`.
#[repr(u32)]
pub enum sessile_rotated_reuse_policy {
    /// Reject the token and raise `reuse_after_rotation`.
    SESSILE_ROTATED_REUSE_POLICY_REPORT = 0,
    /// Also end the session it was rotated into.
    SESSILE_ROTATED_REUSE_POLICY_REVOKE_SESSION = 1,
}

/// Values of `sessile_config.cookie_same_site`.
#[repr(u32)]
pub enum sessile_same_site {
    /// No SameSite attribute.
    SESSILE_SAME_SITE_UNSET = 0,
    /// SameSite=Strict.
    SESSILE_SAME_SITE_STRICT = 1,
    /// SameSite=Lax (the default).
    SESSILE_SAME_SITE_LAX = 2,
    /// SameSite=None (needs Secure).
    SESSILE_SAME_SITE_NONE = 3,
}

/// Values of `sessile_config.cookie_priority`.
#[repr(u32)]
pub enum sessile_cookie_priority {
    /// No Priority attribute (the default).
    SESSILE_COOKIE_PRIORITY_UNSET = 0,
    /// Priority=Low.
    SESSILE_COOKIE_PRIORITY_LOW = 1,
    /// Priority=Medium.
    SESSILE_COOKIE_PRIORITY_MEDIUM = 2,
    /// Priority=High.
    SESSILE_COOKIE_PRIORITY_HIGH = 3,
}

/// Values of `sessile_config.cookie_style`: how `Set-Cookie` is spelled.
#[repr(u32)]
pub enum sessile_cookie_style {
    /// RFC 6265bis names (`Path`, `Max-Age`, `HttpOnly`, ...; the default).
    SESSILE_COOKIE_STYLE_SESSILE = 0,
    /// As Starlette's SessionMiddleware writes it (`path`, `Max-Age`, `httponly`, ...).
    SESSILE_COOKIE_STYLE_STARLETTE = 1,
}

/// Arguments of `sessile_config_profile()`: NIST SP 800-63B reauthentication presets.
#[repr(u32)]
pub enum sessile_profile {
    /// 30 days idle and absolute.
    SESSILE_PROFILE_AAL1 = 1,
    /// 1 hour idle, 24 hours absolute.
    SESSILE_PROFILE_AAL2 = 2,
    /// 15 minutes idle, 12 hours absolute.
    SESSILE_PROFILE_AAL3 = 3,
}

/// Every option of an engine. Fill it with `sessile_config_default()` first, then change
/// fields. Enum-like fields hold the values of the matching `sessile_*` enum.
///
/// The cookie strings are read (and copied) only while `sessile_engine_new` /
/// `sessile_engine_init` / `sessile_config_validate` / `sessile_engine_size` run; the
/// engine keeps no pointer to them. `sessile_config_default()` points them at static
/// strings.
///
/// ABI: `size` comes first and says how many bytes of the struct the program has (its
/// `sizeof(sessile_config)`, written by `sessile_config_default()` and
/// `sessile_config_profile()`, which are macros passing it). Fields are only ever added
/// at the end; a library newer than the program reads the program's bytes and gives the
/// fields it does not have their defaults. A program newer than the library (its struct
/// larger than the library's) is refused with `SESSILE_RESULT_INVALID_ARGUMENT` rather
/// than have options ignored. docs/C-API.md, "ABI".
#[repr(C)]
pub struct sessile_config {
    /// `sizeof(sessile_config)` in the program that filled the struct. Set by
    /// `sessile_config_default()` / `sessile_config_profile()`; never set it by hand.
    pub size: usize,
    /// Most live sessions (default 10000).
    pub capacity: u32,
    /// Bytes in the shared payload pool (default 4 MiB).
    pub pool_bytes: u32,
    /// Most payload bytes per session (default 16 KiB).
    pub max_payload: u32,
    /// Random bytes per token, 16..=32 (default 32).
    pub token_bytes: u8,
    /// Default idle timeout, ms (default 30 min).
    pub idle_timeout_ms: u32,
    /// Default absolute timeout, ms (default 8 h).
    pub absolute_timeout_ms: u32,
    /// Largest idle timeout a per-session override may ask for (default 30 days).
    pub max_idle_timeout_ms: u32,
    /// Largest absolute timeout a per-session override may ask for (default 30 days).
    pub max_absolute_timeout_ms: u32,
    /// Remembered dead tokens; 0 = capacity / 8 (at least 16).
    pub tombstones: u32,
    /// Capacity of the event ring (default 256).
    pub events: u32,
    /// Most concurrent sessions per principal; 0 = unlimited.
    pub max_sessions_per_principal: u32,
    /// A `sessile_principal_limit_policy`.
    pub principal_limit_policy: u32,
    /// A `sessile_rotated_reuse_policy`.
    pub rotated_reuse: u32,
    /// A `sessile_client_policy` for a changed client address.
    pub ip_policy: u32,
    /// A `sessile_client_policy` for a changed User-Agent.
    pub user_agent_policy: u32,
    /// Raise `too_many_addresses` past this many distinct addresses (0..=3; 0 = off).
    pub max_addresses: u8,
    /// Cookie name, NUL-terminated (default "__Host-sid"). Required.
    pub cookie_name: *const c_char,
    /// Cookie Domain, NUL-terminated; NULL (the default) for a host-only cookie.
    pub cookie_domain: *const c_char,
    /// Cookie Path, NUL-terminated (default "/"). Required.
    pub cookie_path: *const c_char,
    /// Secure attribute (default true).
    pub cookie_secure: bool,
    /// HttpOnly attribute (default true).
    pub cookie_http_only: bool,
    /// A `sessile_same_site` (default LAX).
    pub cookie_same_site: u32,
    /// Partitioned attribute (default false).
    pub cookie_partitioned: bool,
    /// A `sessile_cookie_priority` (default UNSET).
    pub cookie_priority: u32,
    /// Write Max-Age (persistent cookie); false = browser-session cookie (default true).
    pub cookie_persistent: bool,
    /// A `sessile_cookie_style` (default SESSILE).
    pub cookie_style: u32,
}

impl sessile_config {
    fn from_core(c: &Config) -> sessile_config {
        sessile_config {
            size: size_of::<sessile_config>(),
            capacity: c.capacity,
            pool_bytes: c.pool_bytes,
            max_payload: c.max_payload,
            token_bytes: c.token_bytes,
            idle_timeout_ms: c.idle_timeout_ms,
            absolute_timeout_ms: c.absolute_timeout_ms,
            max_idle_timeout_ms: c.max_idle_timeout_ms,
            max_absolute_timeout_ms: c.max_absolute_timeout_ms,
            tombstones: c.tombstones,
            events: c.events,
            max_sessions_per_principal: c.max_sessions_per_principal,
            principal_limit_policy: match c.principal_limit_policy {
                PrincipalLimitPolicy::EvictLeastRecentlyUsed => 0,
                PrincipalLimitPolicy::Refuse => 1,
            },
            rotated_reuse: match c.rotated_reuse {
                RotatedReusePolicy::Report => 0,
                RotatedReusePolicy::RevokeSession => 1,
            },
            ip_policy: client_policy_to_c(c.ip_policy),
            user_agent_policy: client_policy_to_c(c.user_agent_policy),
            max_addresses: c.max_addresses,
            // The core's defaults, as static C strings (checked equal in the tests).
            cookie_name: c"__Host-sid".as_ptr(),
            cookie_domain: core::ptr::null(),
            cookie_path: c"/".as_ptr(),
            cookie_secure: c.cookie.secure,
            cookie_http_only: c.cookie.http_only,
            cookie_same_site: match c.cookie.same_site {
                None => 0,
                Some(SameSite::Strict) => 1,
                Some(SameSite::Lax) => 2,
                Some(SameSite::None) => 3,
            },
            cookie_partitioned: c.cookie.partitioned,
            cookie_priority: match c.cookie.priority {
                None => 0,
                Some(Priority::Low) => 1,
                Some(Priority::Medium) => 2,
                Some(Priority::High) => 3,
            },
            cookie_persistent: c.cookie.persistent,
            cookie_style: match c.cookie.style {
                CookieStyle::Sessile => 0,
                CookieStyle::Starlette => 1,
            },
        }
    }
}

fn client_policy_to_c(p: ClientPolicy) -> u32 {
    match p {
        ClientPolicy::Off => 0,
        ClientPolicy::Observe => 1,
        ClientPolicy::Enforce => 2,
    }
}

fn client_policy(v: u32) -> Result<ClientPolicy, sessile_result> {
    match v {
        0 => Ok(ClientPolicy::Off),
        1 => Ok(ClientPolicy::Observe),
        2 => Ok(ClientPolicy::Enforce),
        _ => Err(sessile_result::SESSILE_RESULT_INVALID_ARGUMENT),
    }
}

/// Read an optional C string as UTF-8; a non-UTF-8 string is rejected with `bad`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn text<'a>(
    p: *const c_char,
    bad: CookieConfigError,
) -> Result<Option<&'a str>, sessile_result> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|_| bad.into())
}

/// The size of `sessile_config` in ABI 0, the smallest a program can hold. Fields added
/// later go at the end and leave this as it is (pinned by `layout_of_abi_0` below). Until
/// the first release (0.1.0) ABI 0 is still open: a field added before it updates the
/// test's numbers; after it, this becomes the released size as a literal.
const SIZE_ABI_0: usize = size_of::<sessile_config>();

/// Whether `size` is one a program's `sessile_config` can have with this library.
fn size_ok(size: usize) -> Result<(), sessile_result> {
    if (SIZE_ABI_0..=size_of::<sessile_config>()).contains(&size) {
        Ok(())
    } else {
        Err(sessile_result::SESSILE_RESULT_INVALID_ARGUMENT)
    }
}

/// The program's config as this library's struct: its `size` bytes over the defaults.
///
/// # Safety
/// `c` is NULL or points to a `sessile_config` of the program's `size` bytes.
unsafe fn read_sized(c: *const sessile_config) -> Result<sessile_config, sessile_result> {
    if c.is_null() {
        return Err(sessile_result::SESSILE_RESULT_NULL_ARGUMENT);
    }
    // SAFETY: `size` is the first field, present in every version of the struct.
    let size = unsafe { core::ptr::addr_of!((*c).size).read_unaligned() };
    size_ok(size)?;
    let mut out = sessile_config::from_core(&Config::default());
    // SAFETY: the program's struct has `size` readable bytes (its contract), ours at least
    // as many (size_ok); byte copies, so padding and alignment do not matter.
    unsafe {
        core::ptr::copy_nonoverlapping(c.cast::<u8>(), (&raw mut out).cast::<u8>(), size);
    }
    out.size = size;
    Ok(out)
}

/// Write `src` into the program's struct at `dst`, `size` bytes of it, with that size.
/// Field by field over the program's own bytes, so its padding keeps whatever it held (a
/// byte copy of a Rust value would leave it undefined, and a program comparing two
/// configs with memcmp would read it).
///
/// # Safety
/// `dst` is readable and writable for `size` bytes, and `size_ok(size)`.
unsafe fn write_sized(dst: *mut sessile_config, src: sessile_config, size: usize) {
    let mut merged = core::mem::MaybeUninit::<sessile_config>::zeroed();
    let m = merged.as_mut_ptr();
    // SAFETY: the program's struct is readable for `size` bytes (forwarded contract), and
    // `merged` is at least that large (size_ok).
    unsafe { core::ptr::copy_nonoverlapping(dst.cast::<u8>(), m.cast::<u8>(), size) };
    // Every field, by name, listed once: the destructuring fails to build when a field
    // added to the struct is missing here.
    macro_rules! put {
        ($($field:ident),*) => {
            let sessile_config { size: _, $($field),* } = src;
            // SAFETY: `m` points to a whole `sessile_config`; each write is one field.
            unsafe { (&raw mut (*m).size).write(size) };
            $(unsafe { (&raw mut (*m).$field).write($field) };)*
        };
    }
    put!(
        capacity,
        pool_bytes,
        max_payload,
        token_bytes,
        idle_timeout_ms,
        absolute_timeout_ms,
        max_idle_timeout_ms,
        max_absolute_timeout_ms,
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
        cookie_style
    );
    // SAFETY: forwarded contract; byte copies.
    unsafe { core::ptr::copy_nonoverlapping(m.cast::<u8>(), dst.cast::<u8>(), size) };
}

/// Convert and validate a C config (every rule of the core's `Config::validate`).
///
/// # Safety
/// `c` is NULL or points to a `sessile_config` whose string fields are NULL or
/// NUL-terminated.
pub(crate) unsafe fn to_core(c: *const sessile_config) -> Result<Config, sessile_result> {
    // SAFETY: forwarded contract.
    let config = unsafe { convert(c) }?;
    config.validate()?;
    Ok(config)
}

/// Convert a C config, checking each field but not the rules between fields.
///
/// # Safety
/// As [`to_core`].
unsafe fn convert(c: *const sessile_config) -> Result<Config, sessile_result> {
    // SAFETY: NULL or a valid config, by the caller's contract.
    let c = &unsafe { read_sized(c) }?;
    let bad = sessile_result::SESSILE_RESULT_INVALID_ARGUMENT;
    // SAFETY: the string fields are NULL or NUL-terminated (the struct's contract).
    let (name, domain, path) = unsafe {
        (
            text(c.cookie_name, CookieConfigError::InvalidName)?,
            text(c.cookie_domain, CookieConfigError::InvalidDomain)?,
            text(c.cookie_path, CookieConfigError::InvalidPath)?,
        )
    };
    let name = name.ok_or(sessile_result::SESSILE_RESULT_NULL_ARGUMENT)?;
    let path = path.ok_or(sessile_result::SESSILE_RESULT_NULL_ARGUMENT)?;
    let mut cookie = CookieConfig::default()
        .with_name(name)?
        .with_domain(domain)?
        .with_path(path)?;
    cookie.secure = c.cookie_secure;
    cookie.http_only = c.cookie_http_only;
    cookie.partitioned = c.cookie_partitioned;
    cookie.persistent = c.cookie_persistent;
    cookie.same_site = match c.cookie_same_site {
        0 => None,
        1 => Some(SameSite::Strict),
        2 => Some(SameSite::Lax),
        3 => Some(SameSite::None),
        _ => return Err(bad),
    };
    cookie.priority = match c.cookie_priority {
        0 => None,
        1 => Some(Priority::Low),
        2 => Some(Priority::Medium),
        3 => Some(Priority::High),
        _ => return Err(bad),
    };
    cookie.style = match c.cookie_style {
        0 => CookieStyle::Sessile,
        1 => CookieStyle::Starlette,
        _ => return Err(bad),
    };
    let config = Config {
        capacity: c.capacity,
        pool_bytes: c.pool_bytes,
        max_payload: c.max_payload,
        token_bytes: c.token_bytes,
        idle_timeout_ms: c.idle_timeout_ms,
        absolute_timeout_ms: c.absolute_timeout_ms,
        max_idle_timeout_ms: c.max_idle_timeout_ms,
        max_absolute_timeout_ms: c.max_absolute_timeout_ms,
        tombstones: c.tombstones,
        events: c.events,
        max_sessions_per_principal: c.max_sessions_per_principal,
        principal_limit_policy: match c.principal_limit_policy {
            0 => PrincipalLimitPolicy::EvictLeastRecentlyUsed,
            1 => PrincipalLimitPolicy::Refuse,
            _ => return Err(bad),
        },
        rotated_reuse: match c.rotated_reuse {
            0 => RotatedReusePolicy::Report,
            1 => RotatedReusePolicy::RevokeSession,
            _ => return Err(bad),
        },
        ip_policy: client_policy(c.ip_policy)?,
        user_agent_policy: client_policy(c.user_agent_policy)?,
        max_addresses: c.max_addresses,
        cookie,
    };
    Ok(config)
}

/// Fill `*config` with the defaults (the core's `Config::default()`). Called through the
/// header's `sessile_config_default(config)` macro, which passes
/// `sizeof(sessile_config)` as `size`; a size this library cannot serve (see
/// `sessile_config.size`) is `SESSILE_RESULT_INVALID_ARGUMENT` and writes nothing.
///
/// # Safety
/// `config` is NULL or points to `size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_config_init(
    config: *mut sessile_config,
    size: usize,
) -> sessile_result {
    run(|| {
        if config.is_null() {
            return Err(sessile_result::SESSILE_RESULT_NULL_ARGUMENT);
        }
        size_ok(size)?;
        // SAFETY: writable for `size` bytes, by the caller's contract; size checked.
        unsafe { write_sized(config, sessile_config::from_core(&Config::default()), size) };
        Ok(())
    })
}

/// Fill `*config` with the defaults and the timeouts of a NIST profile
/// (`SESSILE_PROFILE_AAL1..3`). An unknown profile is `SESSILE_RESULT_INVALID_ARGUMENT`.
/// Called through the header's `sessile_config_profile(config, profile)` macro, which
/// passes `sizeof(sessile_config)` as `size` (as `sessile_config_init`).
///
/// # Safety
/// `config` is NULL or points to `size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_config_init_profile(
    config: *mut sessile_config,
    profile: u32,
    size: usize,
) -> sessile_result {
    run(|| {
        let profile = match profile {
            1 => Profile::Aal1,
            2 => Profile::Aal2,
            3 => Profile::Aal3,
            _ => return Err(sessile_result::SESSILE_RESULT_INVALID_ARGUMENT),
        };
        if config.is_null() {
            return Err(sessile_result::SESSILE_RESULT_NULL_ARGUMENT);
        }
        size_ok(size)?;
        let out = sessile_config::from_core(&Config::profile(profile));
        // SAFETY: writable for `size` bytes, by the caller's contract; size checked.
        unsafe { write_sized(config, out, size) };
        Ok(())
    })
}

/// Set one option by its name in the core's config vocabulary (`capacity`,
/// `idle_timeout_ms`, `profile`, `cookie_same_site`, ...: `docs/CONFIG.md`) from text: a
/// decimal number, `true` or `false`, one of the key's spellings (`"lax"`,
/// `"evict_least_recently_used"`), a cookie name, domain or path, or NULL to unset an
/// optional one. For config files and environment variables: the names, spellings and
/// limits are the core's, the same in every language. The value is checked against its
/// key (`SESSILE_RESULT_CONFIG_BAD_VALUE`, `_UNKNOWN_KEY`, or the cookie rule it breaks);
/// rules between keys are checked when the engine is built or by
/// `sessile_config_validate`. On error `*config` is unchanged. A cookie text is not
/// copied: `*config` then points at `value`, which must outlive its use, as when the
/// field is set directly.
///
/// # Safety
/// `config` is NULL or a `sessile_config` whose strings are NULL or NUL-terminated; `key`
/// is NULL or NUL-terminated; `value` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_config_set(
    config: *mut sessile_config,
    key: *const c_char,
    value: *const c_char,
) -> sessile_result {
    run(|| {
        let null = sessile_result::SESSILE_RESULT_NULL_ARGUMENT;
        // SAFETY: NULL or a valid config, by the caller's contract.
        let c = &unsafe { read_sized(config) }?;
        if key.is_null() {
            return Err(null);
        }
        // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
        let name = unsafe { CStr::from_ptr(key) }.to_str();
        let k = name
            .ok()
            .and_then(vocabulary::key)
            .ok_or(ConfigError::UnknownKey)?;
        let bad = ConfigError::BadValue { key: k.name };
        let text = if value.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
            Some(unsafe { CStr::from_ptr(value) }.to_str().map_err(|_| bad)?)
        };
        let value = match (k.kind, text) {
            (_, None) => Value::Unset,
            (Kind::Count { .. } | Kind::Millis { .. }, Some(t)) => {
                Value::Int(t.parse().map_err(|_| bad)?)
            }
            (Kind::Flag, Some("true")) => Value::Flag(true),
            (Kind::Flag, Some("false")) => Value::Flag(false),
            (Kind::Flag, Some(_)) => return Err(bad.into()),
            (Kind::Choice(_) | Kind::Text { .. }, Some(t)) => Value::Text(t),
        };
        // SAFETY: a config of this library's size (read_sized).
        let mut core = unsafe { convert(c) }?;
        core.set(k.name, value)?;
        let mut out = sessile_config::from_core(&core);
        (out.cookie_name, out.cookie_domain, out.cookie_path) =
            (c.cookie_name, c.cookie_domain, c.cookie_path);
        match k.name {
            "cookie_name" => out.cookie_name = value_ptr(value)?,
            "cookie_domain" => out.cookie_domain = value_ptr(value)?,
            "cookie_path" => out.cookie_path = value_ptr(value)?,
            _ => {}
        }
        // SAFETY: the program's struct, of the size read_sized checked.
        unsafe { write_sized(config, out, c.size) };
        Ok(())
    })
}

/// The caller's text behind a checked value, to keep in the struct (NULL for unset).
fn value_ptr(v: Value<'_>) -> Result<*const c_char, sessile_result> {
    match v {
        Value::Text(t) => Ok(t.as_ptr().cast()),
        _ => Ok(core::ptr::null()),
    }
}

/// Check every rule without building an engine; the result names the first broken rule
/// (e.g. `SESSILE_RESULT_CONFIG_IDLE_ABOVE_ABSOLUTE`, `SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE`).
///
/// # Safety
/// `config` is NULL or points to a `sessile_config` whose strings are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_config_validate(config: *const sessile_config) -> sessile_result {
    // SAFETY: forwarded contract.
    run(|| unsafe { to_core(config) }.map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips() {
        let c = sessile_config::from_core(&Config::default());
        // SAFETY: a valid config with static strings.
        let back = unsafe { to_core(&c) }.unwrap();
        assert_eq!(back, Config::default());
    }

    /// ABI 0's layout, on 64-bit targets. Fields are only added at the end: once 0.1.0 is
    /// released, one added keeps this test passing only if SIZE_ABI_0 is frozen at the
    /// released size (not size_of); before that, the numbers here follow the struct.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn layout_of_abi_0() {
        use core::mem::offset_of;
        assert_eq!(SIZE_ABI_0, 120);
        assert_eq!(offset_of!(sessile_config, size), 0);
        assert_eq!(offset_of!(sessile_config, capacity), 8);
        assert_eq!(offset_of!(sessile_config, max_addresses), 68);
        assert_eq!(offset_of!(sessile_config, cookie_name), 72);
        assert_eq!(offset_of!(sessile_config, cookie_persistent), 112);
    }

    /// A program's struct of `size` bytes followed by guard bytes the library must not touch.
    #[repr(C, align(8))]
    struct Guarded([u8; 256]);

    #[test]
    fn init_writes_exactly_the_programs_size() {
        let mut buf = Guarded([0xA5; 256]);
        let p = buf.0.as_mut_ptr().cast::<sessile_config>();
        let size = size_of::<sessile_config>();
        // SAFETY: 256 writable, aligned bytes.
        let r = unsafe { sessile_config_init(p, size) };
        assert_eq!(r, sessile_result::SESSILE_RESULT_OK);
        assert!(buf.0[size..].iter().all(|&b| b == 0xA5));
        // SAFETY: just filled.
        assert_eq!(unsafe { (*p).size }, size);
        // SAFETY: a config of `size` bytes.
        assert_eq!(unsafe { to_core(p) }, Ok(Config::default()));
    }

    #[test]
    fn a_size_the_library_cannot_serve_is_refused_and_nothing_written() {
        let invalid = sessile_result::SESSILE_RESULT_INVALID_ARGUMENT;
        for size in [0, 8, SIZE_ABI_0 - 1, size_of::<sessile_config>() + 8] {
            let mut buf = Guarded([0xA5; 256]);
            let p = buf.0.as_mut_ptr().cast::<sessile_config>();
            // SAFETY: 256 writable, aligned bytes.
            assert_eq!(
                unsafe { sessile_config_init(p, size) },
                invalid,
                "size {size}"
            );
            // SAFETY: as above.
            assert_eq!(unsafe { sessile_config_init_profile(p, 2, size) }, invalid);
            assert!(
                buf.0.iter().all(|&b| b == 0xA5),
                "size {size}: bytes written"
            );
        }
    }

    /// A struct never filled by sessile_config_default (stack garbage, or zeroed): its
    /// size is refused before any other field is read, and sessile_config_set leaves it.
    #[test]
    fn a_config_without_a_valid_size_is_refused_everywhere() {
        for size in [0, usize::MAX, size_of::<sessile_config>() + 1] {
            let mut c = sessile_config::from_core(&Config::default());
            c.size = size;
            let before = c.capacity;
            // SAFETY: a struct of this library's size with static strings.
            let r = unsafe { to_core(&c) };
            assert_eq!(r, Err(sessile_result::SESSILE_RESULT_INVALID_ARGUMENT));
            // SAFETY: as above; key and value NUL-terminated.
            let r = unsafe { sessile_config_set(&mut c, c"capacity".as_ptr(), c"5".as_ptr()) };
            assert_eq!(r, sessile_result::SESSILE_RESULT_INVALID_ARGUMENT);
            assert_eq!((c.capacity, c.size), (before, size));
        }
    }

    #[test]
    fn set_keeps_the_programs_size() {
        let mut c = sessile_config::from_core(&Config::default());
        // SAFETY: a valid config; key and value NUL-terminated.
        let r = unsafe { sessile_config_set(&mut c, c"capacity".as_ptr(), c"5".as_ptr()) };
        assert_eq!(r, sessile_result::SESSILE_RESULT_OK);
        assert_eq!((c.capacity, c.size), (5, size_of::<sessile_config>()));
    }

    #[test]
    fn bad_enum_values_are_rejected() {
        let mut c = sessile_config::from_core(&Config::default());
        c.ip_policy = 3;
        // SAFETY: a valid config with static strings.
        let r = unsafe { to_core(&c) };
        assert_eq!(r, Err(sessile_result::SESSILE_RESULT_INVALID_ARGUMENT));
    }
}
