//! Session cookie handling: building `Set-Cookie` header values and finding
//! the session cookie in a `Cookie` request header.
//!
//! Follows RFC 6265 and RFC 6265bis, including the cookie-name prefix rules
//! browsers enforce:
//!
//! * `__Host-` cookies must be `Secure`, have `Path=/` and no `Domain`;
//! * `__Secure-` cookies must be `Secure`;
//! * `SameSite=None` and `Partitioned` cookies must be `Secure`.
//!
//! Prefixes are matched ASCII case-insensitively, as RFC 6265bis requires of
//! user agents, so `__host-sid` gets the same checks as `__Host-sid`.
//!
//! Nothing here allocates; output goes to any [`core::fmt::Write`] or to a
//! fixed-capacity [`heapless::String`].
//!
//! ```
//! use sessile::cookie::{parse_cookie, CookieConfig};
//!
//! let cfg = CookieConfig::default();
//! let header = cfg.set_cookie("dG9rZW4", Some(3600)).unwrap();
//! assert_eq!(
//!     header.as_str(),
//!     "__Host-sid=dG9rZW4; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"
//! );
//!
//! let value = parse_cookie(b"theme=dark; __Host-sid=dG9rZW4", "__Host-sid").unwrap();
//! assert_eq!(value, Some(&b"dG9rZW4"[..]));
//! ```

use core::fmt::{self, Write};

/// Longest cookie name accepted, in bytes.
///
/// ```
/// assert_eq!(sessile::cookie::MAX_NAME, 64);
/// ```
pub const MAX_NAME: usize = 64;

/// Longest `Domain` attribute accepted, in bytes (the longest DNS name).
///
/// ```
/// assert_eq!(sessile::cookie::MAX_DOMAIN, 253);
/// ```
pub const MAX_DOMAIN: usize = 253;

/// Longest `Path` attribute accepted, in bytes.
///
/// ```
/// assert_eq!(sessile::cookie::MAX_PATH, 128);
/// ```
pub const MAX_PATH: usize = 128;

/// Longest Cookie header [`parse_cookie`] accepts (longer -> [`CookieError::HeaderTooLong`]).
///
/// ```
/// use sessile::cookie::{parse_cookie, CookieError, MAX_COOKIE_HEADER};
///
/// let long = [b'a'; MAX_COOKIE_HEADER + 1];
/// assert_eq!(parse_cookie(&long, "sid"), Err(CookieError::HeaderTooLong));
/// ```
pub const MAX_COOKIE_HEADER: usize = 16 * 1024;

/// Capacity of a formatted Set-Cookie value.
///
/// Large enough for every attribute at its maximum length plus a value of a
/// few dozen bytes (a base64url-encoded 256-bit token is 43 bytes).
///
/// ```
/// use sessile::cookie::{CookieConfig, MAX_SET_COOKIE};
///
/// let s = CookieConfig::default().clear_cookie().unwrap();
/// assert!(s.len() <= MAX_SET_COOKIE);
/// ```
pub const MAX_SET_COOKIE: usize = 640;

/// Name used by [`CookieConfig::default`].
const DEFAULT_NAME: &str = "__Host-sid";
/// Path used by [`CookieConfig::default`].
const DEFAULT_PATH: &str = "/";
/// RFC 6265bis §5.6: user agents ignore a cookie whose name plus value
/// exceeds this many bytes, so writing one would silently lose the session.
const MAX_NAME_VALUE: usize = 4096;

const _: () = assert!(DEFAULT_NAME.len() <= MAX_NAME);
const _: () = assert!(DEFAULT_PATH.len() <= MAX_PATH);

/// The `SameSite` attribute of the cookie.
///
/// ```
/// use sessile::cookie::{CookieConfig, SameSite};
///
/// let cfg = CookieConfig { same_site: Some(SameSite::Strict), ..CookieConfig::default() };
/// assert!(cfg.set_cookie("v", None).unwrap().ends_with("SameSite=Strict"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only with same-site requests.
    Strict,
    /// Sent with same-site requests and top-level cross-site navigations.
    Lax,
    /// Sent with all requests; requires `Secure`.
    None,
}

impl SameSite {
    /// The attribute's value, in lower case for [`CookieStyle::Starlette`].
    fn as_str(self, lower: bool) -> &'static str {
        spelled(
            &["Strict", "Lax", "None", "strict", "lax", "none"],
            self as usize,
            lower,
        )
    }
}

/// The (non-standard, Chromium) `Priority` attribute of the cookie.
///
/// ```
/// use sessile::cookie::{CookieConfig, Priority};
///
/// let cfg = CookieConfig { priority: Some(Priority::High), ..CookieConfig::default() };
/// assert!(cfg.set_cookie("v", None).unwrap().ends_with("; Priority=High"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// `Priority=Low`: evicted first.
    Low,
    /// `Priority=Medium`: the browser default.
    Medium,
    /// `Priority=High`: evicted last.
    High,
}

impl Priority {
    /// The attribute's value, in lower case for [`CookieStyle::Starlette`].
    fn as_str(self, lower: bool) -> &'static str {
        spelled(
            &["Low", "Medium", "High", "low", "medium", "high"],
            self as usize,
            lower,
        )
    }
}

/// The name of the `i`th of three values (declaration order), in lower case for
/// [`CookieStyle::Starlette`]: `names` holds the three, then their lower-case spellings.
/// One indexed load in place of a six-armed `match` (about 50 bytes of Cortex-M code
/// each); the tests spell every value out.
#[inline(never)]
fn spelled(names: &'static [&'static str; 6], i: usize, lower: bool) -> &'static str {
    names
        .get(i + if lower { 3 } else { 0 })
        .copied()
        .unwrap_or_default()
}

/// How the `Set-Cookie` text is spelled: the attributes' names and order, and how a
/// cookie is cleared. Browsers read attribute names case-insensitively (RFC 6265 §5.2), so
/// the styles differ only to code that compares the text (a framework's own tests, a proxy
/// rule); the attributes written are the configuration's in every style.
///
/// ```
/// use sessile::cookie::{CookieConfig, CookieStyle};
///
/// let cfg = CookieConfig { style: CookieStyle::Starlette, ..CookieConfig::default() }
///     .with_name("session")
///     .unwrap();
/// assert_eq!(
///     cfg.set_cookie("tok", Some(60)).unwrap().as_str(),
///     "session=tok; path=/; Max-Age=60; httponly; samesite=lax; secure"
/// );
/// assert_eq!(
///     cfg.clear_cookie().unwrap().as_str(),
///     "session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax; secure"
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CookieStyle {
    /// RFC 6265bis spelling: `Domain`, `Path`, `Max-Age`, `HttpOnly`, `Secure`,
    /// `SameSite`, `Partitioned`, `Priority`; cleared with an empty value and `Max-Age=0`.
    #[default]
    Sessile,
    /// Starlette's `SessionMiddleware` (1.x): `path`, `Max-Age`, `httponly`,
    /// `samesite=lax`, `secure`, `domain`, `partitioned` (then `priority=high`, which
    /// Starlette never writes), lower case, in that order; cleared with the value `null`
    /// and `expires=Thu, 01 Jan 1970 00:00:00 GMT`.
    Starlette,
}

/// When the cookie ends, as a `Set-Cookie` says it.
#[derive(Clone, Copy)]
enum Expiry {
    /// No `Max-Age`: a browser-session cookie.
    Session,
    /// `Max-Age=n`.
    MaxAge(u64),
    /// The clearing cookie.
    Clear,
}

/// How the session cookie is named and which attributes it carries.
///
/// The default is the most locked-down choice: `__Host-sid`, `Path=/`,
/// `Secure`, `HttpOnly`, `SameSite=Lax`, persistent (`Max-Age` written).
///
/// Fields are public; use [`CookieConfig::validate`] (or the `with_*`
/// builders) to check a configuration. The writers re-validate and refuse an
/// invalid configuration.
///
/// ```
/// use sessile::cookie::CookieConfig;
///
/// let cfg = CookieConfig::default().with_name("__Secure-sid").unwrap();
/// let cfg = cfg.with_domain(Some("example.com")).unwrap();
/// cfg.validate().unwrap();
/// assert_eq!(
///     cfg.set_cookie("abc", Some(60)).unwrap().as_str(),
///     "__Secure-sid=abc; Domain=example.com; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    /// Cookie name: an RFC 6265 token of 1..=[`MAX_NAME`] bytes. Default `__Host-sid`.
    pub name: heapless::String<MAX_NAME>,
    /// `Domain` attribute; `None` (the default) makes a host-only cookie.
    pub domain: Option<heapless::String<MAX_DOMAIN>>,
    /// `Path` attribute; must start with `/`. Default `/`.
    pub path: heapless::String<MAX_PATH>,
    /// `Secure` attribute. Default `true`.
    pub secure: bool,
    /// `HttpOnly` attribute. Default `true`.
    pub http_only: bool,
    /// `SameSite` attribute. Default `Some(Lax)`; `None` = attribute omitted.
    pub same_site: Option<SameSite>,
    /// `Partitioned` attribute (CHIPS); requires `Secure`. Default `false`.
    pub partitioned: bool,
    /// `Priority` attribute. Default `None` (omitted).
    pub priority: Option<Priority>,
    /// Write Max-Age (a persistent cookie). false = a browser-session cookie (no Max-Age). Default true.
    pub persistent: bool,
    /// How the text is spelled ([`CookieStyle`]). Default [`CookieStyle::Sessile`].
    pub style: CookieStyle,
}

impl Default for CookieConfig {
    /// `__Host-sid; Path=/; HttpOnly; Secure; SameSite=Lax`, persistent.
    ///
    /// ```
    /// use sessile::cookie::CookieConfig;
    ///
    /// let cfg = CookieConfig::default();
    /// assert_eq!(cfg.name.as_str(), "__Host-sid");
    /// assert!(cfg.secure && cfg.http_only && cfg.persistent);
    /// assert_eq!(cfg.validate(), Ok(()));
    /// ```
    fn default() -> Self {
        // Both fit (checked at compile time above), so the fallbacks are never taken.
        CookieConfig {
            name: heapless::String::try_from(DEFAULT_NAME).unwrap_or_default(),
            domain: None,
            path: heapless::String::try_from(DEFAULT_PATH).unwrap_or_default(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
            priority: None,
            persistent: true,
            style: CookieStyle::Sessile,
        }
    }
}

/// Why a cookie configuration is rejected (each a distinct variant; Display gives a one-line human reason).
///
/// ```
/// use sessile::cookie::{CookieConfig, CookieConfigError};
///
/// let err = CookieConfig::default().with_name("bad name").unwrap_err();
/// assert_eq!(err, CookieConfigError::InvalidName);
/// assert!(!err.to_string().is_empty());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieConfigError {
    /// The name is empty.
    EmptyName,
    /// The name is longer than [`MAX_NAME`] bytes.
    NameTooLong,
    /// The name is not an RFC 6265 token (CTL, separator, space or non-ASCII byte).
    InvalidName,
    /// A `__Host-` cookie is not `Secure`.
    HostPrefixNeedsSecure,
    /// A `__Host-` cookie has a `Domain`.
    HostPrefixForbidsDomain,
    /// A `__Host-` cookie has a `Path` other than `/`.
    HostPrefixNeedsRootPath,
    /// A `__Secure-` cookie is not `Secure`.
    SecurePrefixNeedsSecure,
    /// `SameSite=None` without `Secure`.
    SameSiteNoneNeedsSecure,
    /// `Partitioned` without `Secure`.
    PartitionedNeedsSecure,
    /// The domain is empty, too long, or has `;`, a CTL, whitespace or a non-ASCII byte.
    InvalidDomain,
    /// The path is empty, too long, does not start with `/`, or has `;`, a CTL,
    /// whitespace or a non-ASCII byte.
    InvalidPath,
}

impl CookieConfigError {
    /// The config key to change ([`crate::vocabulary::KEYS`]).
    pub const fn key(&self) -> &'static str {
        match self {
            CookieConfigError::EmptyName
            | CookieConfigError::NameTooLong
            | CookieConfigError::InvalidName => "cookie_name",
            CookieConfigError::HostPrefixNeedsSecure
            | CookieConfigError::SecurePrefixNeedsSecure => "cookie_secure",
            CookieConfigError::HostPrefixForbidsDomain | CookieConfigError::InvalidDomain => {
                "cookie_domain"
            }
            CookieConfigError::HostPrefixNeedsRootPath | CookieConfigError::InvalidPath => {
                "cookie_path"
            }
            CookieConfigError::SameSiteNoneNeedsSecure => "cookie_same_site",
            CookieConfigError::PartitionedNeedsSecure => "cookie_partitioned",
        }
    }
}

impl fmt::Display for CookieConfigError {
    /// ```
    /// use sessile::cookie::CookieConfigError;
    ///
    /// assert_eq!(
    ///     CookieConfigError::EmptyName.to_string(),
    ///     "cookie name is empty"
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CookieConfigError::EmptyName => "cookie name is empty",
            CookieConfigError::NameTooLong => "cookie name is longer than 64 bytes",
            CookieConfigError::InvalidName => {
                "cookie name is not an RFC 6265 token (control, separator, space or non-ASCII character)"
            }
            CookieConfigError::HostPrefixNeedsSecure => "a __Host- cookie must be Secure",
            CookieConfigError::HostPrefixForbidsDomain => "a __Host- cookie must not have a Domain",
            CookieConfigError::HostPrefixNeedsRootPath => "a __Host- cookie must have Path=/",
            CookieConfigError::SecurePrefixNeedsSecure => "a __Secure- cookie must be Secure",
            CookieConfigError::SameSiteNoneNeedsSecure => "a SameSite=None cookie must be Secure",
            CookieConfigError::PartitionedNeedsSecure => "a Partitioned cookie must be Secure",
            CookieConfigError::InvalidDomain => {
                "cookie domain is empty, longer than 253 bytes, or contains ';', a control, whitespace or non-ASCII character"
            }
            CookieConfigError::InvalidPath => {
                "cookie path does not start with '/', is longer than 128 bytes, or contains ';', a control, whitespace or non-ASCII character"
            }
        })
    }
}

impl core::error::Error for CookieConfigError {}

/// Why a Cookie header is rejected.
///
/// ```
/// use sessile::cookie::{parse_cookie, CookieError};
///
/// assert_eq!(parse_cookie(b"sid=a; sid=b", "sid"), Err(CookieError::Duplicate));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieError {
    /// The header is longer than [`MAX_COOKIE_HEADER`] bytes.
    HeaderTooLong,
    /// The cookie appears more than once with different values (possible cookie
    /// tossing / session fixation); treat the request as having no session.
    Duplicate,
}

impl CookieConfigError {
    /// Stable snake_case code, the same in every binding.
    pub const fn code(&self) -> &'static str {
        match self {
            CookieConfigError::EmptyName => "cookie_empty_name",
            CookieConfigError::NameTooLong => "cookie_name_too_long",
            CookieConfigError::InvalidName => "cookie_invalid_name",
            CookieConfigError::HostPrefixNeedsSecure => "cookie_host_prefix_needs_secure",
            CookieConfigError::HostPrefixForbidsDomain => "cookie_host_prefix_forbids_domain",
            CookieConfigError::HostPrefixNeedsRootPath => "cookie_host_prefix_needs_root_path",
            CookieConfigError::SecurePrefixNeedsSecure => "cookie_secure_prefix_needs_secure",
            CookieConfigError::SameSiteNoneNeedsSecure => "cookie_same_site_none_needs_secure",
            CookieConfigError::PartitionedNeedsSecure => "cookie_partitioned_needs_secure",
            CookieConfigError::InvalidDomain => "cookie_invalid_domain",
            CookieConfigError::InvalidPath => "cookie_invalid_path",
        }
    }
}

impl CookieError {
    /// Stable snake_case code, the same in every binding.
    pub const fn code(&self) -> &'static str {
        match self {
            CookieError::HeaderTooLong => "header_too_long",
            CookieError::Duplicate => "duplicate",
        }
    }
}

impl fmt::Display for CookieError {
    /// ```
    /// use sessile::cookie::CookieError;
    ///
    /// assert_eq!(
    ///     CookieError::HeaderTooLong.to_string(),
    ///     "Cookie header is longer than 16384 bytes"
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CookieError::HeaderTooLong => "Cookie header is longer than 16384 bytes",
            CookieError::Duplicate => "session cookie appears more than once with different values",
        })
    }
}

impl core::error::Error for CookieError {}

impl CookieConfig {
    /// Sets the cookie name after checking it is a 1..=[`MAX_NAME`]-byte RFC 6265 token.
    ///
    /// Prefix rules (`__Host-`, `__Secure-`) depend on the other fields and are
    /// checked by [`CookieConfig::validate`].
    ///
    /// # Errors
    ///
    /// [`CookieConfigError::EmptyName`], [`CookieConfigError::NameTooLong`] or
    /// [`CookieConfigError::InvalidName`] (checked in that order).
    ///
    /// ```
    /// use sessile::cookie::{CookieConfig, CookieConfigError};
    ///
    /// assert!(CookieConfig::default().with_name("sid").is_ok());
    /// assert_eq!(CookieConfig::default().with_name(""), Err(CookieConfigError::EmptyName));
    /// assert_eq!(CookieConfig::default().with_name("a;b"), Err(CookieConfigError::InvalidName));
    /// ```
    pub fn with_name(mut self, name: &str) -> Result<Self, CookieConfigError> {
        check_name(name)?;
        self.name = heapless::String::try_from(name).map_err(|_| CookieConfigError::NameTooLong)?;
        Ok(self)
    }

    /// Sets (`Some`) or removes (`None`) the `Domain` attribute.
    ///
    /// # Errors
    ///
    /// [`CookieConfigError::InvalidDomain`] unless the domain is
    /// 1..=[`MAX_DOMAIN`] ASCII bytes without `;`, CTLs or whitespace.
    ///
    /// ```
    /// use sessile::cookie::{CookieConfig, CookieConfigError};
    ///
    /// let cfg = CookieConfig::default().with_name("sid").unwrap();
    /// assert!(cfg.clone().with_domain(Some("example.com")).is_ok());
    /// assert_eq!(cfg.with_domain(Some("a b")), Err(CookieConfigError::InvalidDomain));
    /// ```
    pub fn with_domain(mut self, domain: Option<&str>) -> Result<Self, CookieConfigError> {
        self.domain = match domain {
            None => None,
            Some(d) => {
                check_domain(d)?;
                Some(heapless::String::try_from(d).map_err(|_| CookieConfigError::InvalidDomain)?)
            }
        };
        Ok(self)
    }

    /// Sets the `Path` attribute.
    ///
    /// # Errors
    ///
    /// [`CookieConfigError::InvalidPath`] unless the path is 1..=[`MAX_PATH`]
    /// ASCII bytes, starts with `/` and has no `;`, CTLs or whitespace.
    ///
    /// ```
    /// use sessile::cookie::{CookieConfig, CookieConfigError};
    ///
    /// let cfg = CookieConfig::default().with_name("sid").unwrap();
    /// assert!(cfg.clone().with_path("/app").is_ok());
    /// assert_eq!(cfg.with_path("app"), Err(CookieConfigError::InvalidPath));
    /// ```
    pub fn with_path(mut self, path: &str) -> Result<Self, CookieConfigError> {
        check_path(path)?;
        self.path = heapless::String::try_from(path).map_err(|_| CookieConfigError::InvalidPath)?;
        Ok(self)
    }

    /// Full validation of the combination (prefix rules etc.).
    ///
    /// # Errors
    ///
    /// The first failing check, in this order: the name, the domain, the path,
    /// the `__Host-` rules (Secure, no Domain, `Path=/`), the `__Secure-` rule,
    /// `SameSite=None` needs Secure, `Partitioned` needs Secure.
    ///
    /// ```
    /// use sessile::cookie::{CookieConfig, CookieConfigError};
    ///
    /// let cfg = CookieConfig { secure: false, ..CookieConfig::default() };
    /// assert_eq!(cfg.validate(), Err(CookieConfigError::HostPrefixNeedsSecure));
    /// ```
    pub fn validate(&self) -> Result<(), CookieConfigError> {
        check_name(&self.name)?;
        if let Some(d) = &self.domain {
            check_domain(d)?;
        }
        check_path(&self.path)?;
        let name = self.name.as_bytes();
        if has_prefix_ignore_case(name, b"__Host-") {
            if !self.secure {
                return Err(CookieConfigError::HostPrefixNeedsSecure);
            }
            if self.domain.is_some() {
                return Err(CookieConfigError::HostPrefixForbidsDomain);
            }
            if self.path.as_str() != "/" {
                return Err(CookieConfigError::HostPrefixNeedsRootPath);
            }
        }
        if has_prefix_ignore_case(name, b"__Secure-") && !self.secure {
            return Err(CookieConfigError::SecurePrefixNeedsSecure);
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(CookieConfigError::SameSiteNoneNeedsSecure);
        }
        if self.partitioned && !self.secure {
            return Err(CookieConfigError::PartitionedNeedsSecure);
        }
        Ok(())
    }

    /// Writes a `Set-Cookie` header value, e.g.
    /// `__Host-sid=VALUE; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax`.
    ///
    /// Attribute order: `name=value`, `Domain`, `Path`, `Max-Age` (only if
    /// [`persistent`](CookieConfig::persistent) and `max_age_s` is `Some`),
    /// `HttpOnly`, `Secure`, `SameSite`, `Partitioned`, `Priority`.
    /// `value` is written as is (callers pass base64url tokens).
    ///
    /// # Errors
    ///
    /// [`fmt::Error`], with nothing written, if `value` has a byte outside RFC
    /// 6265 `cookie-octet` (so no quotes, spaces, `,`, `;`, `\`, CTLs or
    /// non-ASCII), if name plus value exceed 4096 bytes (browsers drop such
    /// cookies), or if the configuration fails [`CookieConfig::validate`].
    /// Otherwise any error from `w`.
    ///
    /// ```
    /// use sessile::cookie::CookieConfig;
    ///
    /// let mut out = String::new();
    /// CookieConfig::default().write_set_cookie(&mut out, "VALUE", Some(28800)).unwrap();
    /// assert_eq!(out, "__Host-sid=VALUE; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax");
    ///
    /// let mut out = String::new();
    /// assert!(CookieConfig::default().write_set_cookie(&mut out, "a b", None).is_err());
    /// assert!(out.is_empty());
    /// ```
    pub fn write_set_cookie<W: Write>(
        &self,
        w: &mut W,
        value: &str,
        max_age_s: Option<u64>,
    ) -> fmt::Result {
        self.write_set_cookie_as(w, value, max_age_s, self.persistent)
    }

    /// [`CookieConfig::write_set_cookie`] with `persistent` given instead of the
    /// configured one.
    fn write_set_cookie_as<W: Write>(
        &self,
        w: &mut W,
        value: &str,
        max_age_s: Option<u64>,
        persistent: bool,
    ) -> fmt::Result {
        if !all_in(&COOKIE_OCTETS, value.as_bytes())
            || self.name.len().saturating_add(value.len()) > MAX_NAME_VALUE
        {
            return Err(fmt::Error);
        }
        let expiry = match max_age_s {
            Some(secs) if persistent => Expiry::MaxAge(secs),
            _ => Expiry::Session,
        };
        self.write_header(w, value, expiry)
    }

    /// Same attributes, empty value, `Max-Age=0` (always written, even if not
    /// persistent), to delete the cookie at logout. ([`CookieStyle::Starlette`]: the
    /// value `null` and `expires=Thu, 01 Jan 1970 00:00:00 GMT`, as Starlette clears.)
    ///
    /// # Errors
    ///
    /// [`fmt::Error`], with nothing written, if the configuration fails
    /// [`CookieConfig::validate`]; otherwise any error from `w`.
    ///
    /// ```
    /// use sessile::cookie::CookieConfig;
    ///
    /// let mut out = String::new();
    /// CookieConfig::default().write_clear_cookie(&mut out).unwrap();
    /// assert_eq!(out, "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    /// ```
    pub fn write_clear_cookie<W: Write>(&self, w: &mut W) -> fmt::Result {
        let value = match self.style {
            CookieStyle::Sessile => "",
            CookieStyle::Starlette => "null",
        };
        self.write_header(w, value, Expiry::Clear)
    }

    /// A cookie with an empty value that the browser drops at once: `Max-Age=0` (always
    /// written, even if not persistent), spelled as a set cookie. For a framework whose
    /// sessions end with the response (Starlette's `max_age` of zero or less). In
    /// [`CookieStyle::Sessile`] this is the clearing cookie.
    ///
    /// ```
    /// use sessile::cookie::{CookieConfig, CookieStyle};
    ///
    /// let cfg = CookieConfig::default();
    /// assert_eq!(cfg.expire_cookie(), cfg.clear_cookie());
    /// let cfg = CookieConfig { style: CookieStyle::Starlette, ..cfg };
    /// assert_eq!(
    ///     cfg.expire_cookie().unwrap().as_str(),
    ///     "__Host-sid=; path=/; Max-Age=0; httponly; samesite=lax; secure"
    /// );
    /// ```
    #[must_use]
    pub fn expire_cookie(&self) -> Option<heapless::String<MAX_SET_COOKIE>> {
        let mut out = heapless::String::new();
        self.write_header(&mut out, "", Expiry::MaxAge(0)).ok()?;
        Some(out)
    }

    /// Convenience: [`CookieConfig::write_set_cookie`] into a fixed-capacity
    /// string. `None` if it does not fit, the value is invalid or the
    /// configuration is invalid.
    ///
    /// ```
    /// use sessile::cookie::CookieConfig;
    ///
    /// let cfg = CookieConfig { persistent: false, ..CookieConfig::default() };
    /// let s = cfg.set_cookie("tok", Some(60)).unwrap();
    /// assert_eq!(s.as_str(), "__Host-sid=tok; Path=/; HttpOnly; Secure; SameSite=Lax");
    /// assert!(cfg.set_cookie("bad;value", None).is_none());
    /// ```
    #[must_use]
    pub fn set_cookie(
        &self,
        value: &str,
        max_age_s: Option<u64>,
    ) -> Option<heapless::String<MAX_SET_COOKIE>> {
        self.set_cookie_as(value, max_age_s, self.persistent)
    }

    /// [`CookieConfig::set_cookie`] with `persistent` chosen for this cookie alone
    /// (what [`crate::Store::set_cookie_as`] writes).
    pub(crate) fn set_cookie_as(
        &self,
        value: &str,
        max_age_s: Option<u64>,
        persistent: bool,
    ) -> Option<heapless::String<MAX_SET_COOKIE>> {
        let mut out = heapless::String::new();
        self.write_set_cookie_as(&mut out, value, max_age_s, persistent)
            .ok()?;
        Some(out)
    }

    /// Convenience: [`CookieConfig::write_clear_cookie`] into a fixed-capacity
    /// string. None if the configuration is invalid (a valid one always fits).
    ///
    /// ```
    /// use sessile::cookie::CookieConfig;
    ///
    /// let s = CookieConfig::default().clear_cookie().unwrap();
    /// assert_eq!(s.as_str(), "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    /// ```
    #[must_use]
    pub fn clear_cookie(&self) -> Option<heapless::String<MAX_SET_COOKIE>> {
        let mut out = heapless::String::new();
        self.write_clear_cookie(&mut out).ok()?;
        Some(out)
    }

    /// Validates, then writes the header in the configured style; `value` is already
    /// checked. One writer for both styles (they differ in spelling and in where
    /// `Domain` and `Secure` go), each attribute's two spellings side by side.
    fn write_header<W: Write>(&self, w: &mut W, value: &str, expiry: Expiry) -> fmt::Result {
        self.validate().map_err(|_| fmt::Error)?;
        // Starlette 1.x's `SessionMiddleware` text: `; path=P; [Max-Age=N; ]httponly;
        // samesite=S[; secure][; domain=D][; partitioned]`, lower case.
        let star = self.style == CookieStyle::Starlette;
        let pick = |sessile: &'static str, starlette: &'static str| {
            if star { starlette } else { sessile }
        };
        w.write_str(&self.name)?;
        w.write_str("=")?;
        w.write_str(value)?;
        let domain = self.domain.as_deref();
        if let (false, Some(d)) = (star, domain) {
            w.write_str("; Domain=")?;
            w.write_str(d)?;
        }
        w.write_str(pick("; Path=", "; path="))?;
        w.write_str(&self.path)?;
        match expiry {
            Expiry::Session => {}
            Expiry::MaxAge(secs) => {
                w.write_str("; Max-Age=")?;
                write_decimal(w, secs)?;
            }
            Expiry::Clear => w.write_str(pick(
                "; Max-Age=0",
                "; expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ))?,
        }
        if self.http_only {
            w.write_str(pick("; HttpOnly", "; httponly"))?;
        }
        if self.secure && !star {
            w.write_str("; Secure")?;
        }
        if let Some(s) = self.same_site {
            w.write_str(pick("; SameSite=", "; samesite="))?;
            w.write_str(s.as_str(star))?;
        }
        if star {
            if self.secure {
                w.write_str("; secure")?;
            }
            if let Some(d) = domain {
                w.write_str("; domain=")?;
                w.write_str(d)?;
            }
        }
        if self.partitioned {
            w.write_str(pick("; Partitioned", "; partitioned"))?;
        }
        if let Some(p) = self.priority {
            w.write_str(pick("; Priority=", "; priority="))?;
            w.write_str(p.as_str(star))?;
        }
        Ok(())
    }
}

/// Powers of ten below `u64::MAX`, largest first, for [`write_decimal`].
const POWERS_OF_TEN: [u64; 19] = {
    let mut p = [1u64; 19];
    let mut i = 19;
    while i > 0 {
        i -= 1;
        p[i] = if i == 18 { 10 } else { p[i + 1] * 10 };
    }
    p
};

/// The decimal digits, for [`write_decimal`] to write one at a time.
const DIGITS: &str = "0123456789";

/// Writes `n` in decimal, exactly as `write!(w, "{n}")` does, by subtracting powers of
/// ten: no `core::fmt` machinery and no 64-bit division, which on a 32-bit
/// microcontroller is a library call (together about 2 KiB of a firmware's code).
fn write_decimal<W: Write>(w: &mut W, mut n: u64) -> fmt::Result {
    let mut started = false;
    for &p in &POWERS_OF_TEN {
        let mut digit = 0;
        while n >= p {
            n -= p;
            digit += 1;
        }
        if started || digit > 0 {
            w.write_str(&DIGITS[digit..=digit])?;
            started = true;
        }
    }
    // `n` is now the last digit (0 to 9).
    let n = n as usize;
    w.write_str(&DIGITS[n..=n])
}

/// Finds cookie `name` in a `Cookie` request header (raw bytes; may be any bytes at all).
///
/// - Pairs are separated by `;`; spaces and tabs around a pair and around its
///   `=` are ignored. Only `;` separates (a `,` makes the value invalid).
/// - Names compare exactly (case-sensitive). A `name` that is not an RFC 6265
///   token never matches.
/// - A value in DQUOTEs has the quotes removed.
/// - Garbage pairs (no `=`, empty name, bytes outside `cookie-octet` in the
///   value) are skipped, not fatal.
///
/// Returns the value bytes borrowed from the header; `Ok(None)` when absent.
///
/// # Errors
///
/// - [`CookieError::HeaderTooLong`] if the header is longer than [`MAX_COOKIE_HEADER`].
/// - [`CookieError::Duplicate`] if the cookie appears twice with different
///   values (compared after quote removal). That is ambiguous — a cookie
///   tossing / fixation risk — so the caller treats the request as having no
///   session. The same value twice is fine.
///
/// ```
/// use sessile::cookie::{parse_cookie, CookieError};
///
/// let h = b"a=1; __Host-sid=\"tok\";\tb=2";
/// assert_eq!(parse_cookie(h, "__Host-sid"), Ok(Some(&b"tok"[..])));
/// assert_eq!(parse_cookie(h, "missing"), Ok(None));
/// assert_eq!(parse_cookie(b"s=x; s=y", "s"), Err(CookieError::Duplicate));
/// ```
pub fn parse_cookie<'h>(header: &'h [u8], name: &str) -> Result<Option<&'h [u8]>, CookieError> {
    let mut found: Option<&'h [u8]> = None;
    for value in cookie_values(header, name)? {
        match found {
            None => found = Some(value),
            Some(prev) if prev == value => {}
            Some(_) => return Err(CookieError::Duplicate),
        }
    }
    Ok(found)
}

/// Every value of cookie `name` in a `Cookie` request header, in header order, repeats
/// included, by the rules of [`parse_cookie`]. The engine's duplicate rule
/// ([`crate::Store::validate_cookie`]) chooses among them.
///
/// # Errors
///
/// [`CookieError::HeaderTooLong`] if the header is longer than [`MAX_COOKIE_HEADER`].
///
/// ```
/// let h = b"sid=a; x=1; sid=b";
/// let all: Vec<&[u8]> = sessile::cookie::cookie_values(h, "sid").unwrap().collect();
/// assert_eq!(all, [&b"a"[..], &b"b"[..]]);
/// ```
pub fn cookie_values<'h, 'n>(
    header: &'h [u8],
    name: &'n str,
) -> Result<CookieValues<'h, 'n>, CookieError> {
    if header.len() > MAX_COOKIE_HEADER {
        return Err(CookieError::HeaderTooLong);
    }
    let name = name.as_bytes();
    Ok(CookieValues {
        // A name that is not a token never matches: search nothing.
        rest: if is_token(name) { header } else { &[] },
        name,
    })
}

/// The values of one cookie in a `Cookie` header, from [`cookie_values`].
#[derive(Clone)]
pub struct CookieValues<'h, 'n> {
    /// The pairs not yet read, `;`-separated.
    rest: &'h [u8],
    name: &'n [u8],
}

/// `s` up to the first `sep` and what follows it; `None` when `s` has no `sep`.
fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = s.iter().position(|&b| b == sep)?;
    Some((&s[..at], &s[at + 1..]))
}

impl<'h> Iterator for CookieValues<'h, '_> {
    type Item = &'h [u8];

    fn next(&mut self) -> Option<&'h [u8]> {
        // An empty piece (the header's end, or `;;`) has no `=`, so it is skipped like
        // any other pair without one: stopping at the end of `rest` loses nothing.
        while !self.rest.is_empty() {
            let pair;
            (pair, self.rest) = split_once(self.rest, b';').unwrap_or((self.rest, &[]));
            let Some((pair_name, raw_value)) = split_once(pair, b'=') else {
                continue; // no '='
            };
            let pair_name = trim_ows(pair_name);
            if pair_name.is_empty() || pair_name != self.name {
                continue;
            }
            let value = unquote(trim_ows(raw_value));
            if all_in(&COOKIE_OCTETS, value) {
                return Some(value);
            }
        }
        None
    }
}

/// A set of ASCII bytes, one bit each (built at compile time from the rules below): a
/// test is a shift and a mask instead of comparisons and a search.
type ByteSet = [u32; 4];

/// Whether `b` is in `set` (never for a byte above 0x7F).
fn in_set(set: &ByteSet, b: u8) -> bool {
    let b = usize::from(b);
    b < 128 && set[b / 32] >> (b % 32) & 1 == 1
}

/// Whether every byte of `s` is in `set` (one loop for every class and caller).
fn all_in(set: &ByteSet, s: &[u8]) -> bool {
    s.iter().all(|&b| in_set(set, b))
}

/// The bytes `rule` accepts; `rule` 0: cookie-octet, 1: token character, 2: attribute
/// character (see each rule below).
const fn byte_set(rule: u8) -> ByteSet {
    let mut set = [0u32; 4];
    let mut b = 0;
    while b < 128 {
        let yes = match rule {
            0 => cookie_octet_rule(b),
            1 => token_char_rule(b),
            _ => attr_char_rule(b),
        };
        if yes {
            set[b as usize / 32] |= 1 << (b % 32);
        }
        b += 1;
    }
    set
}

const COOKIE_OCTETS: ByteSet = byte_set(0);
const TOKEN_CHARS: ByteSet = byte_set(1);
const ATTR_CHARS: ByteSet = byte_set(2);

/// RFC 6265 cookie-octet: `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`
/// (US-ASCII visible characters except DQUOTE, comma, semicolon, backslash).
const fn cookie_octet_rule(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// One byte of the class, through [`all_in`] as the code tests it (for the tests).
#[cfg(test)]
fn is_cookie_octet(b: u8) -> bool {
    all_in(&COOKIE_OCTETS, &[b])
}

/// RFC 2616 `separators`, which an RFC 6265 cookie-name (a `token`) may not contain.
const SEPARATORS: &[u8] = b"()<>@,;:\\\"/[]?={} \t";

/// RFC 2616 token character: visible US-ASCII except separators.
const fn token_char_rule(b: u8) -> bool {
    if !matches!(b, 0x21..=0x7E) {
        return false;
    }
    let mut i = 0;
    while i < SEPARATORS.len() {
        if SEPARATORS[i] == b {
            return false;
        }
        i += 1;
    }
    true
}

/// One byte of the class, through [`all_in`] as the code tests it (for the tests).
#[cfg(test)]
fn is_token_char(b: u8) -> bool {
    all_in(&TOKEN_CHARS, &[b])
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && all_in(&TOKEN_CHARS, s)
}

/// Allowed in Domain and Path values: visible US-ASCII except `;`.
const fn attr_char_rule(b: u8) -> bool {
    matches!(b, 0x21..=0x7E) && b != b';'
}

/// One byte of the class, through [`all_in`] as the code tests it (for the tests).
#[cfg(test)]
fn is_attr_char(b: u8) -> bool {
    all_in(&ATTR_CHARS, &[b])
}

fn check_name(name: &str) -> Result<(), CookieConfigError> {
    if name.is_empty() {
        Err(CookieConfigError::EmptyName)
    } else if name.len() > MAX_NAME {
        Err(CookieConfigError::NameTooLong)
    } else if !all_in(&TOKEN_CHARS, name.as_bytes()) {
        Err(CookieConfigError::InvalidName)
    } else {
        Ok(())
    }
}

fn check_domain(domain: &str) -> Result<(), CookieConfigError> {
    if domain.is_empty() || domain.len() > MAX_DOMAIN || !all_in(&ATTR_CHARS, domain.as_bytes()) {
        Err(CookieConfigError::InvalidDomain)
    } else {
        Ok(())
    }
}

fn check_path(path: &str) -> Result<(), CookieConfigError> {
    if !path.starts_with('/') || path.len() > MAX_PATH || !all_in(&ATTR_CHARS, path.as_bytes()) {
        Err(CookieConfigError::InvalidPath)
    } else {
        Ok(())
    }
}

fn has_prefix_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Strips spaces and horizontal tabs from both ends.
fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Removes one pair of enclosing DQUOTEs, if present.
fn unquote(s: &[u8]) -> &[u8] {
    match s {
        [b'"', inner @ .., b'"'] => inner,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    fn cfg_named(name: &str) -> CookieConfig {
        CookieConfig::default().with_name(name).unwrap()
    }

    fn set(cfg: &CookieConfig, value: &str, max_age: Option<u64>) -> String {
        let mut s = String::new();
        cfg.write_set_cookie(&mut s, value, max_age).unwrap();
        s
    }

    // ---------- defaults ----------

    /// Starlette 1.10's `SessionMiddleware` text, attribute by attribute (its template:
    /// `{name}={data}; path={path}; {max_age}{security_flags}`).
    #[test]
    fn starlette_style_exact() {
        let base = CookieConfig {
            style: CookieStyle::Starlette,
            secure: false,
            ..CookieConfig::default()
        }
        .with_name("session")
        .unwrap();
        let set = |c: &CookieConfig, max_age| c.set_cookie("v", max_age).unwrap();
        assert_eq!(
            set(&base, Some(1_209_600)).as_str(),
            "session=v; path=/; Max-Age=1209600; httponly; samesite=lax"
        );
        let no_max_age = CookieConfig {
            persistent: false,
            ..base.clone()
        };
        assert_eq!(
            set(&no_max_age, Some(60)).as_str(),
            "session=v; path=/; httponly; samesite=lax"
        );
        let all = CookieConfig {
            secure: true,
            same_site: Some(SameSite::None),
            partitioned: true,
            ..base.clone()
        }
        .with_domain(Some(".example.com"))
        .unwrap()
        .with_path("/second_app")
        .unwrap();
        assert_eq!(
            set(&all, Some(0)).as_str(),
            "session=v; path=/second_app; Max-Age=0; httponly; samesite=none; secure; \
             domain=.example.com; partitioned"
        );
        assert_eq!(
            all.clear_cookie().unwrap().as_str(),
            "session=null; path=/second_app; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; \
             samesite=none; secure; domain=.example.com; partitioned"
        );
        assert_eq!(
            all.expire_cookie().unwrap().as_str(),
            "session=; path=/second_app; Max-Age=0; httponly; samesite=none; secure; \
             domain=.example.com; partitioned"
        );
        let strict = CookieConfig {
            same_site: Some(SameSite::Strict),
            ..base.clone()
        };
        assert!(set(&strict, None).ends_with("; samesite=strict"));
        let bare = CookieConfig {
            http_only: false,
            same_site: None,
            priority: Some(Priority::High),
            ..base
        };
        assert_eq!(
            set(&bare, None).as_str(),
            "session=v; path=/; priority=high"
        );
    }

    /// The style changes spelling only: the browser rules are checked the same way.
    #[test]
    fn starlette_style_keeps_the_rules() {
        let c = CookieConfig {
            style: CookieStyle::Starlette,
            secure: false,
            ..CookieConfig::default()
        };
        assert_eq!(c.validate(), Err(CookieConfigError::HostPrefixNeedsSecure));
        assert!(c.set_cookie("v", None).is_none());
        assert!(c.clear_cookie().is_none());
        assert!(c.expire_cookie().is_none());
    }

    #[test]
    fn default_fields() {
        let c = CookieConfig::default();
        assert_eq!(c.name.as_str(), "__Host-sid");
        assert_eq!(c.domain, None);
        assert_eq!(c.path.as_str(), "/");
        assert!(c.secure);
        assert!(c.http_only);
        assert_eq!(c.same_site, Some(SameSite::Lax));
        assert!(!c.partitioned);
        assert_eq!(c.priority, None);
        assert!(c.persistent);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn default_format_exact() {
        let c = CookieConfig::default();
        assert_eq!(
            set(&c, "VALUE", Some(28800)),
            "__Host-sid=VALUE; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set(&c, "VALUE", None),
            "__Host-sid=VALUE; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            c.set_cookie("VALUE", Some(28800)).unwrap().as_str(),
            "__Host-sid=VALUE; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn max_age_extremes() {
        let c = CookieConfig::default();
        assert_eq!(
            set(&c, "v", Some(0)),
            "__Host-sid=v; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set(&c, "v", Some(u64::MAX)),
            "__Host-sid=v; Path=/; Max-Age=18446744073709551615; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn max_age_text_is_what_write_gave() {
        // The Max-Age number is written without core::fmt (for the firmware); the text
        // must be byte for byte what `write!` gave: every power of ten and its
        // neighbours, every digit count's extremes, and a spread of others.
        let c = CookieConfig::default();
        let mut values = std::vec![0, 1, 9, 28_800, u64::from(u32::MAX), u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        for _ in 0..20 {
            values.extend([
                p - 1,
                p,
                p + 1,
                p.saturating_mul(9),
                p.saturating_mul(9) - 1,
            ]);
            p = p.saturating_mul(10);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.extend([x, x >> (x % 64)]);
        }
        for n in values {
            assert_eq!(
                set(&c, "v", Some(n)),
                format!("__Host-sid=v; Path=/; Max-Age={n}; HttpOnly; Secure; SameSite=Lax"),
                "{n}"
            );
        }
    }

    #[test]
    fn not_persistent_omits_max_age() {
        let c = CookieConfig {
            persistent: false,
            ..CookieConfig::default()
        };
        assert_eq!(
            set(&c, "v", Some(60)),
            "__Host-sid=v; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set(&c, "v", None),
            "__Host-sid=v; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn all_attributes_exact() {
        let c = CookieConfig {
            same_site: Some(SameSite::None),
            partitioned: true,
            priority: Some(Priority::High),
            ..cfg_named("__Secure-s")
        }
        .with_domain(Some("example.com"))
        .unwrap()
        .with_path("/app")
        .unwrap();
        assert_eq!(
            set(&c, "tok", Some(5)),
            "__Secure-s=tok; Domain=example.com; Path=/app; Max-Age=5; HttpOnly; Secure; \
             SameSite=None; Partitioned; Priority=High"
        );
        assert_eq!(
            c.clear_cookie().unwrap().as_str(),
            "__Secure-s=; Domain=example.com; Path=/app; Max-Age=0; HttpOnly; Secure; \
             SameSite=None; Partitioned; Priority=High"
        );
    }

    #[test]
    fn minimal_attributes_exact() {
        let c = CookieConfig {
            secure: false,
            http_only: false,
            same_site: None,
            ..cfg_named("sid")
        };
        assert_eq!(set(&c, "x", None), "sid=x; Path=/");
        assert_eq!(
            c.clear_cookie().unwrap().as_str(),
            "sid=; Path=/; Max-Age=0"
        );
    }

    /// Reference rendering used to check every combination.
    fn expected(c: &CookieConfig, value: &str, max_age: Option<u64>) -> String {
        if c.style == CookieStyle::Starlette {
            return expected_starlette(c, value, max_age.map(|m| format!("Max-Age={m}")));
        }
        let mut parts: Vec<String> = Vec::new();
        parts.push(format!("{}={}", c.name, value));
        if let Some(d) = &c.domain {
            parts.push(format!("Domain={d}"));
        }
        parts.push(format!("Path={}", c.path));
        if let Some(m) = max_age {
            parts.push(format!("Max-Age={m}"));
        }
        if c.http_only {
            parts.push("HttpOnly".into());
        }
        if c.secure {
            parts.push("Secure".into());
        }
        match c.same_site {
            Some(SameSite::Strict) => parts.push("SameSite=Strict".into()),
            Some(SameSite::Lax) => parts.push("SameSite=Lax".into()),
            Some(SameSite::None) => parts.push("SameSite=None".into()),
            None => {}
        }
        if c.partitioned {
            parts.push("Partitioned".into());
        }
        match c.priority {
            Some(Priority::Low) => parts.push("Priority=Low".into()),
            Some(Priority::Medium) => parts.push("Priority=Medium".into()),
            Some(Priority::High) => parts.push("Priority=High".into()),
            None => {}
        }
        parts.join("; ")
    }

    /// Starlette 1.x's order and spelling (`expiry`: the `Max-Age` or `expires` pair).
    fn expected_starlette(c: &CookieConfig, value: &str, expiry: Option<String>) -> String {
        let mut parts: Vec<String> =
            vec![format!("{}={}", c.name, value), format!("path={}", c.path)];
        parts.extend(expiry);
        if c.http_only {
            parts.push("httponly".into());
        }
        match c.same_site {
            Some(SameSite::Strict) => parts.push("samesite=strict".into()),
            Some(SameSite::Lax) => parts.push("samesite=lax".into()),
            Some(SameSite::None) => parts.push("samesite=none".into()),
            None => {}
        }
        if c.secure {
            parts.push("secure".into());
        }
        if let Some(d) = &c.domain {
            parts.push(format!("domain={d}"));
        }
        if c.partitioned {
            parts.push("partitioned".into());
        }
        match c.priority {
            Some(Priority::Low) => parts.push("priority=low".into()),
            Some(Priority::Medium) => parts.push("priority=medium".into()),
            Some(Priority::High) => parts.push("priority=high".into()),
            None => {}
        }
        parts.join("; ")
    }

    #[test]
    fn every_attribute_combination() {
        let same_sites = [
            None,
            Some(SameSite::Strict),
            Some(SameSite::Lax),
            Some(SameSite::None),
        ];
        let priorities = [
            None,
            Some(Priority::Low),
            Some(Priority::Medium),
            Some(Priority::High),
        ];
        let mut ok = 0;
        let mut rejected = 0;
        for (style, name) in [CookieStyle::Sessile, CookieStyle::Starlette]
            .into_iter()
            .flat_map(|style| ["sid", "__Secure-sid", "__Host-sid"].map(|name| (style, name)))
        {
            for domain in [None, Some("example.com")] {
                for path in ["/", "/app"] {
                    for bits in 0u8..16 {
                        for &same_site in &same_sites {
                            for &priority in &priorities {
                                let c = CookieConfig {
                                    secure: bits & 1 != 0,
                                    http_only: bits & 2 != 0,
                                    partitioned: bits & 4 != 0,
                                    persistent: bits & 8 != 0,
                                    same_site,
                                    priority,
                                    style,
                                    ..cfg_named(name)
                                }
                                .with_domain(domain)
                                .unwrap()
                                .with_path(path)
                                .unwrap();
                                let should_fail = (!c.secure
                                    && (name.starts_with("__")
                                        || same_site == Some(SameSite::None)
                                        || c.partitioned))
                                    || (name == "__Host-sid" && (domain.is_some() || path != "/"));
                                let mut s = String::new();
                                let r = c.write_set_cookie(&mut s, "tok-1.2_3", Some(99));
                                assert_eq!(c.validate().is_err(), should_fail, "{c:?}");
                                if should_fail {
                                    rejected += 1;
                                    assert!(r.is_err());
                                    assert!(s.is_empty());
                                    assert!(c.set_cookie("tok", Some(1)).is_none());
                                    assert!(c.clear_cookie().is_none());
                                    continue;
                                }
                                ok += 1;
                                r.unwrap();
                                let ma = if c.persistent { Some(99) } else { None };
                                assert_eq!(s, expected(&c, "tok-1.2_3", ma));
                                assert_eq!(
                                    c.set_cookie("tok-1.2_3", Some(99)).unwrap().as_str(),
                                    s
                                );
                                let mut s2 = String::new();
                                c.write_set_cookie(&mut s2, "t", None).unwrap();
                                assert_eq!(s2, expected(&c, "t", None));
                                let cleared = match style {
                                    CookieStyle::Sessile => expected(&c, "", Some(0)),
                                    CookieStyle::Starlette => expected_starlette(
                                        &c,
                                        "null",
                                        Some("expires=Thu, 01 Jan 1970 00:00:00 GMT".into()),
                                    ),
                                };
                                assert_eq!(c.clear_cookie().unwrap().as_str(), cleared);
                                assert_eq!(
                                    c.expire_cookie().unwrap().as_str(),
                                    expected(&c, "", Some(0))
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(ok > 0 && rejected > 0);
    }

    // ---------- config errors ----------

    #[test]
    fn name_errors() {
        let d = CookieConfig::default();
        assert_eq!(d.clone().with_name(""), Err(CookieConfigError::EmptyName));
        let long = "a".repeat(MAX_NAME + 1);
        assert_eq!(
            d.clone().with_name(&long),
            Err(CookieConfigError::NameTooLong)
        );
        let max = "a".repeat(MAX_NAME);
        assert_eq!(d.clone().with_name(&max).unwrap().name.as_str(), max);
        // Too long wins over invalid characters.
        assert_eq!(
            d.clone().with_name(&" ".repeat(MAX_NAME + 1)),
            Err(CookieConfigError::NameTooLong)
        );
        for bad in [
            "a b", "a\tb", "a;b", "a=b", "a,b", "a\"b", "a(b", "a)b", "a<b", "a>b", "a@b", "a:b",
            "a\\b", "a/b", "a[b", "a]b", "a?b", "a{b", "a}b", "a\x00b", "a\x1fb", "a\x7fb", "é",
            "a\nb", "a\rb",
        ] {
            assert_eq!(
                d.clone().with_name(bad),
                Err(CookieConfigError::InvalidName),
                "{bad:?}"
            );
        }
        for good in ["sid", "SID", "a-b_c.d~e!#$%&'*+^`|", "__Host-x", "0"] {
            assert_eq!(d.clone().with_name(good).unwrap().name.as_str(), good);
        }
        // validate() catches names set directly through the public field.
        let mut c = CookieConfig::default();
        c.name.clear();
        assert_eq!(c.validate(), Err(CookieConfigError::EmptyName));
        c.name = heapless::String::try_from("a b").unwrap();
        assert_eq!(c.validate(), Err(CookieConfigError::InvalidName));
        assert!(c.set_cookie("v", None).is_none());
        assert!(c.clear_cookie().is_none());
    }

    #[test]
    fn host_prefix_errors() {
        let c = CookieConfig {
            secure: false,
            ..CookieConfig::default()
        };
        assert_eq!(c.validate(), Err(CookieConfigError::HostPrefixNeedsSecure));
        let c = CookieConfig::default()
            .with_domain(Some("example.com"))
            .unwrap();
        assert_eq!(
            c.validate(),
            Err(CookieConfigError::HostPrefixForbidsDomain)
        );
        let c = CookieConfig::default().with_path("/app").unwrap();
        assert_eq!(
            c.validate(),
            Err(CookieConfigError::HostPrefixNeedsRootPath)
        );
        // Case-insensitive prefix (RFC 6265bis).
        let c = CookieConfig {
            secure: false,
            ..cfg_named("__host-sid")
        };
        assert_eq!(c.validate(), Err(CookieConfigError::HostPrefixNeedsSecure));
        let c = cfg_named("__HOST-sid").with_path("/x").unwrap();
        assert_eq!(
            c.validate(),
            Err(CookieConfigError::HostPrefixNeedsRootPath)
        );
        // Not a prefix: "__Host" without the dash, or elsewhere in the name.
        let c = CookieConfig {
            secure: false,
            ..cfg_named("__Hostsid")
        }
        .with_domain(Some("example.com"))
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        let c = CookieConfig {
            secure: false,
            ..cfg_named("x__Host-sid")
        };
        assert_eq!(c.validate(), Ok(()));
        // The bare prefix is a valid name and gets the rules.
        let c = CookieConfig {
            secure: false,
            ..cfg_named("__Host-")
        };
        assert_eq!(c.validate(), Err(CookieConfigError::HostPrefixNeedsSecure));
    }

    #[test]
    fn secure_prefix_errors() {
        for name in ["__Secure-sid", "__secure-sid", "__SECURE-sid"] {
            let c = CookieConfig {
                secure: false,
                ..cfg_named(name)
            };
            assert_eq!(
                c.validate(),
                Err(CookieConfigError::SecurePrefixNeedsSecure)
            );
            // Domain and non-root path are fine for __Secure-.
            let c = cfg_named(name)
                .with_domain(Some("example.com"))
                .unwrap()
                .with_path("/app")
                .unwrap();
            assert_eq!(c.validate(), Ok(()));
        }
    }

    #[test]
    fn samesite_none_and_partitioned_need_secure() {
        let c = CookieConfig {
            secure: false,
            same_site: Some(SameSite::None),
            ..cfg_named("sid")
        };
        assert_eq!(
            c.validate(),
            Err(CookieConfigError::SameSiteNoneNeedsSecure)
        );
        let c = CookieConfig {
            secure: false,
            partitioned: true,
            ..cfg_named("sid")
        };
        assert_eq!(c.validate(), Err(CookieConfigError::PartitionedNeedsSecure));
        let c = CookieConfig {
            same_site: Some(SameSite::None),
            partitioned: true,
            ..cfg_named("sid")
        };
        assert_eq!(c.validate(), Ok(()));
        // Non-secure is fine without a prefix, None or Partitioned.
        for ss in [None, Some(SameSite::Lax), Some(SameSite::Strict)] {
            let c = CookieConfig {
                secure: false,
                same_site: ss,
                ..cfg_named("sid")
            };
            assert_eq!(c.validate(), Ok(()));
        }
    }

    #[test]
    fn domain_errors() {
        let c = cfg_named("sid");
        for bad in [
            "",
            "a;b",
            "a b",
            " example.com",
            "example.com ",
            "a\tb",
            "a\nb",
            "a\rb",
            "a\x00b",
            "a\x7fb",
            "bücher.de",
            "a\u{a0}b",
        ] {
            assert_eq!(
                c.clone().with_domain(Some(bad)),
                Err(CookieConfigError::InvalidDomain),
                "{bad:?}"
            );
        }
        let long = "a".repeat(MAX_DOMAIN + 1);
        assert_eq!(
            c.clone().with_domain(Some(&long)),
            Err(CookieConfigError::InvalidDomain)
        );
        let max = "a".repeat(MAX_DOMAIN);
        assert!(c.clone().with_domain(Some(&max)).is_ok());
        for good in [
            "example.com",
            ".example.com",
            "xn--bcher-kva.de",
            "localhost",
        ] {
            let d = c.clone().with_domain(Some(good)).unwrap();
            assert_eq!(d.domain.as_deref(), Some(good));
            assert_eq!(d.validate(), Ok(()));
        }
        let d = c.clone().with_domain(Some("example.com")).unwrap();
        assert_eq!(d.with_domain(None).unwrap().domain, None);
        // Set directly through the public field.
        let mut d = c.clone();
        d.domain = Some(heapless::String::try_from("a;b").unwrap());
        assert_eq!(d.validate(), Err(CookieConfigError::InvalidDomain));
        d.domain = Some(heapless::String::new());
        assert_eq!(d.validate(), Err(CookieConfigError::InvalidDomain));
        assert!(d.set_cookie("v", None).is_none());
    }

    #[test]
    fn path_errors() {
        let c = cfg_named("sid");
        for bad in [
            "", "app", " /", "/a;b", "/a b", "/a\tb", "/a\nb", "/a\x00", "/a\x7f", "/é", "/ ",
        ] {
            assert_eq!(
                c.clone().with_path(bad),
                Err(CookieConfigError::InvalidPath),
                "{bad:?}"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_PATH));
        assert_eq!(
            c.clone().with_path(&long),
            Err(CookieConfigError::InvalidPath)
        );
        let max = format!("/{}", "a".repeat(MAX_PATH - 1));
        assert!(c.clone().with_path(&max).is_ok());
        for good in ["/", "/app", "/a/b/", "/a,b=c"] {
            assert_eq!(c.clone().with_path(good).unwrap().path.as_str(), good);
        }
        let mut d = c.clone();
        d.path.clear();
        assert_eq!(d.validate(), Err(CookieConfigError::InvalidPath));
        d.path = heapless::String::try_from("/a;b").unwrap();
        assert_eq!(d.validate(), Err(CookieConfigError::InvalidPath));
    }

    #[test]
    fn validate_error_order() {
        // Name problems are reported before anything else.
        let mut c = CookieConfig {
            secure: false,
            partitioned: true,
            ..CookieConfig::default()
        };
        c.name = heapless::String::try_from("__Host-a b").unwrap();
        assert_eq!(c.validate(), Err(CookieConfigError::InvalidName));
        // __Host- checks: Secure, then Domain, then Path.
        let mut c = CookieConfig {
            secure: false,
            ..CookieConfig::default()
        }
        .with_domain(Some("e.com"))
        .unwrap()
        .with_path("/x")
        .unwrap();
        assert_eq!(c.validate(), Err(CookieConfigError::HostPrefixNeedsSecure));
        c.secure = true;
        assert_eq!(
            c.validate(),
            Err(CookieConfigError::HostPrefixForbidsDomain)
        );
        c.domain = None;
        assert_eq!(
            c.validate(),
            Err(CookieConfigError::HostPrefixNeedsRootPath)
        );
    }

    #[test]
    fn error_display() {
        use std::string::ToString;
        let all = [
            CookieConfigError::EmptyName,
            CookieConfigError::NameTooLong,
            CookieConfigError::InvalidName,
            CookieConfigError::HostPrefixNeedsSecure,
            CookieConfigError::HostPrefixForbidsDomain,
            CookieConfigError::HostPrefixNeedsRootPath,
            CookieConfigError::SecurePrefixNeedsSecure,
            CookieConfigError::SameSiteNoneNeedsSecure,
            CookieConfigError::PartitionedNeedsSecure,
            CookieConfigError::InvalidDomain,
            CookieConfigError::InvalidPath,
        ];
        let mut msgs: Vec<String> = all.iter().map(|e| e.to_string()).collect();
        msgs.extend([CookieError::HeaderTooLong, CookieError::Duplicate].map(|e| e.to_string()));
        for m in &msgs {
            assert!(!m.is_empty() && !m.contains('\n'), "{m:?}");
        }
        let n = msgs.len();
        msgs.sort();
        msgs.dedup();
        assert_eq!(msgs.len(), n, "messages must be distinct");
        assert!(MAX_COOKIE_HEADER.to_string().len() == 5);
        assert!(
            CookieError::HeaderTooLong
                .to_string()
                .contains(&MAX_COOKIE_HEADER.to_string())
        );
        assert!(
            CookieConfigError::NameTooLong
                .to_string()
                .contains(&MAX_NAME.to_string())
        );
        assert!(
            CookieConfigError::InvalidDomain
                .to_string()
                .contains(&MAX_DOMAIN.to_string())
        );
        assert!(
            CookieConfigError::InvalidPath
                .to_string()
                .contains(&MAX_PATH.to_string())
        );
    }

    // ---------- set-cookie values ----------

    #[test]
    fn value_validation() {
        let c = CookieConfig::default();
        for bad in [
            "a b",
            "a;b",
            "a,b",
            "a\"b",
            "\"ab\"",
            "a\\b",
            "a\x00",
            "a\x7f",
            "é",
            "a\tb",
            "a\r\nX: y",
        ] {
            let mut s = String::new();
            assert!(c.write_set_cookie(&mut s, bad, Some(1)).is_err(), "{bad:?}");
            assert!(s.is_empty(), "nothing written for {bad:?}");
            assert!(c.set_cookie(bad, Some(1)).is_none());
        }
        // Every cookie-octet is accepted.
        let all: String = (0x21u8..=0x7e)
            .filter(|&b| is_cookie_octet(b))
            .map(char::from)
            .collect();
        assert_eq!(all.len(), 94 - 4);
        assert!(c.set_cookie(&all, None).is_some());
        // Empty value is syntactically fine.
        assert_eq!(
            set(&c, "", None),
            "__Host-sid=; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        // base64url token.
        let tok = "Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Njc4OTAtYWJjZGVm_-";
        assert!(set(&c, tok, Some(1)).starts_with("__Host-sid=Zm9vYmFy"));
    }

    #[test]
    fn name_plus_value_limit() {
        let c = cfg_named("sid");
        let ok = "a".repeat(MAX_NAME_VALUE - 3);
        let mut s = String::new();
        c.write_set_cookie(&mut s, &ok, None).unwrap();
        let too_long = "a".repeat(MAX_NAME_VALUE - 2);
        let mut s = String::new();
        assert!(c.write_set_cookie(&mut s, &too_long, None).is_err());
        assert!(s.is_empty());
    }

    #[test]
    fn set_cookie_capacity() {
        // Worst-case attributes.
        let c = CookieConfig {
            same_site: Some(SameSite::Strict),
            partitioned: true,
            priority: Some(Priority::Medium),
            ..cfg_named(&"n".repeat(MAX_NAME))
        }
        .with_domain(Some(&"d".repeat(MAX_DOMAIN)))
        .unwrap()
        .with_path(&format!("/{}", "p".repeat(MAX_PATH - 1)))
        .unwrap();
        // The clear cookie always fits.
        let clear = c.clear_cookie().unwrap();
        assert!(clear.len() <= MAX_SET_COOKIE);
        let mut reference = String::new();
        c.write_clear_cookie(&mut reference).unwrap();
        assert_eq!(clear.as_str(), reference);
        // Find the largest value that fits with Max-Age=u64::MAX; one more does not.
        let mut fits = 0;
        while c
            .set_cookie(&"v".repeat(fits + 1), Some(u64::MAX))
            .is_some()
        {
            fits += 1;
        }
        assert!(fits >= 43, "a 256-bit base64url token must fit, got {fits}");
        let s = c.set_cookie(&"v".repeat(fits), Some(u64::MAX)).unwrap();
        assert_eq!(s.len(), MAX_SET_COOKIE);
        // With the default config much longer values fit.
        assert!(
            CookieConfig::default()
                .set_cookie(&"v".repeat(500), Some(u64::MAX))
                .is_some()
        );
        assert!(
            CookieConfig::default()
                .set_cookie(&"v".repeat(MAX_SET_COOKIE), None)
                .is_none()
        );
    }

    #[test]
    fn write_errors_propagate() {
        struct Failing;
        impl Write for Failing {
            fn write_str(&mut self, _: &str) -> fmt::Result {
                Err(fmt::Error)
            }
        }
        let c = CookieConfig::default();
        assert!(c.write_set_cookie(&mut Failing, "v", Some(1)).is_err());
        assert!(c.write_clear_cookie(&mut Failing).is_err());
    }

    #[test]
    fn clear_cookie_variants() {
        let c = CookieConfig::default();
        assert_eq!(
            c.clear_cookie().unwrap().as_str(),
            "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        );
        // Max-Age=0 even for a browser-session cookie.
        let c = CookieConfig {
            persistent: false,
            ..CookieConfig::default()
        };
        assert_eq!(
            c.clear_cookie().unwrap().as_str(),
            "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        );
        let mut s = String::new();
        c.write_clear_cookie(&mut s).unwrap();
        assert_eq!(
            s,
            "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        );
        // The clear cookie parses back as an empty value.
        let header = c.clear_cookie().unwrap();
        let pair = header.split(';').next().unwrap();
        assert_eq!(
            parse_cookie(pair.as_bytes(), "__Host-sid"),
            Ok(Some(&b""[..]))
        );
    }

    // ---------- parse ----------

    const SID: &str = "__Host-sid";

    fn p(h: &[u8]) -> Result<Option<&[u8]>, CookieError> {
        parse_cookie(h, SID)
    }

    #[test]
    fn parse_absent_and_empty() {
        assert_eq!(p(b""), Ok(None));
        assert_eq!(p(b";"), Ok(None));
        assert_eq!(p(b" ; ;\t;"), Ok(None));
        assert_eq!(p(b"a=1; b=2"), Ok(None));
        assert_eq!(p(b"__Host-sid"), Ok(None));
    }

    #[test]
    fn parse_present() {
        assert_eq!(p(b"__Host-sid=abc"), Ok(Some(&b"abc"[..])));
        assert_eq!(p(b"__Host-sid="), Ok(Some(&b""[..])));
        assert_eq!(p(b"__Host-sid=a=b=c"), Ok(Some(&b"a=b=c"[..])));
        assert_eq!(p(b"__Host-sid=abc;"), Ok(Some(&b"abc"[..])));
    }

    #[test]
    fn parse_quoted() {
        assert_eq!(p(b"__Host-sid=\"abc\""), Ok(Some(&b"abc"[..])));
        assert_eq!(p(b"__Host-sid=\"\""), Ok(Some(&b""[..])));
        assert_eq!(p(b"__Host-sid= \"abc\" "), Ok(Some(&b"abc"[..])));
        // Malformed quoting is garbage.
        assert_eq!(p(b"__Host-sid=\""), Ok(None));
        assert_eq!(p(b"__Host-sid=\"abc"), Ok(None));
        assert_eq!(p(b"__Host-sid=abc\""), Ok(None));
        assert_eq!(p(b"__Host-sid=\"a\"b\""), Ok(None));
        assert_eq!(p(b"__Host-sid=\"\"\"\""), Ok(None));
        assert_eq!(p(b"__Host-sid=\"a b\""), Ok(None));
        // Quoted and unquoted forms are the same value.
        assert_eq!(
            p(b"__Host-sid=abc; __Host-sid=\"abc\""),
            Ok(Some(&b"abc"[..]))
        );
    }

    #[test]
    fn parse_among_many() {
        let h = b"a=1; b=2; c=\"3\"; __Host-sid=tok; d=4; e=5";
        assert_eq!(p(h), Ok(Some(&b"tok"[..])));
        assert_eq!(parse_cookie(h, "a"), Ok(Some(&b"1"[..])));
        assert_eq!(parse_cookie(h, "c"), Ok(Some(&b"3"[..])));
        assert_eq!(parse_cookie(h, "e"), Ok(Some(&b"5"[..])));
        assert_eq!(p(b"__Host-sid=first; x=y"), Ok(Some(&b"first"[..])));
        let mut big = Vec::new();
        for i in 0..500 {
            big.extend_from_slice(format!("c{i}=v{i}; ").as_bytes());
        }
        big.extend_from_slice(b"__Host-sid=last");
        assert_eq!(p(&big), Ok(Some(&b"last"[..])));
        assert_eq!(parse_cookie(&big, "c250"), Ok(Some(&b"v250"[..])));
    }

    #[test]
    fn parse_whitespace() {
        assert_eq!(p(b"  __Host-sid=abc  "), Ok(Some(&b"abc"[..])));
        assert_eq!(p(b"\t__Host-sid=abc\t"), Ok(Some(&b"abc"[..])));
        assert_eq!(p(b"a=1;__Host-sid=abc;b=2"), Ok(Some(&b"abc"[..])));
        assert_eq!(
            p(b"a=1 ;\t \t__Host-sid=abc \t; b=2"),
            Ok(Some(&b"abc"[..]))
        );
        assert_eq!(p(b"__Host-sid = abc"), Ok(Some(&b"abc"[..])));
        assert_eq!(p(b"__Host-sid=\tabc"), Ok(Some(&b"abc"[..])));
        // Whitespace inside the value is garbage; other whitespace is not trimmed.
        assert_eq!(p(b"__Host-sid=a bc"), Ok(None));
        assert_eq!(p(b"__Host-sid=abc\r\n"), Ok(None));
        assert_eq!(p(b"\n__Host-sid=abc"), Ok(None));
        assert_eq!(p(b"__Host-sid=\x0babc"), Ok(None));
    }

    #[test]
    fn parse_duplicates() {
        assert_eq!(p(b"__Host-sid=a; __Host-sid=a"), Ok(Some(&b"a"[..])));
        assert_eq!(
            p(b"__Host-sid=a; x=1; __Host-sid=a; __Host-sid=a"),
            Ok(Some(&b"a"[..]))
        );
        assert_eq!(
            p(b"__Host-sid=a; __Host-sid=b"),
            Err(CookieError::Duplicate)
        );
        assert_eq!(
            p(b"__Host-sid=a; __Host-sid=a; __Host-sid=ab"),
            Err(CookieError::Duplicate)
        );
        assert_eq!(p(b"__Host-sid=; __Host-sid=a"), Err(CookieError::Duplicate));
        assert_eq!(p(b"__Host-sid=a; __Host-sid="), Err(CookieError::Duplicate));
        // Duplicates of other cookies do not matter.
        assert_eq!(p(b"x=1; x=2; __Host-sid=a"), Ok(Some(&b"a"[..])));
        // A garbage duplicate is skipped, not counted.
        assert_eq!(p(b"__Host-sid=a; __Host-sid=b c"), Ok(Some(&b"a"[..])));
        // Differently-cased names are different cookies.
        assert_eq!(p(b"__host-sid=a; __Host-sid=b"), Ok(Some(&b"b"[..])));
    }

    #[test]
    fn parse_garbage_pairs() {
        assert_eq!(p(b"garbage; __Host-sid=a"), Ok(Some(&b"a"[..])));
        assert_eq!(p(b"=x; __Host-sid=a; =; ==="), Ok(Some(&b"a"[..])));
        assert_eq!(p(b" = ; __Host-sid=a"), Ok(Some(&b"a"[..])));
        assert_eq!(p(b"a=b c; __Host-sid=a; d=\\"), Ok(Some(&b"a"[..])));
        assert_eq!(p(b"__Host-sid; __Host-sid=a"), Ok(Some(&b"a"[..])));
        assert_eq!(p(b"x=\xff\xfe; __Host-sid=a"), Ok(Some(&b"a"[..])));
        // A comma does not separate pairs.
        assert_eq!(p(b"a=1, __Host-sid=evil"), Ok(None));
        assert_eq!(p(b"__Host-sid=a,b"), Ok(None));
        for bad in [0u8, 0x1f, b' ', b'"', b',', b';', b'\\', 0x7f, 0x80, 0xff] {
            let mut h = b"__Host-sid=a".to_vec();
            h.push(bad);
            h.push(b'b');
            let want = if bad == b';' { Some(&b"a"[..]) } else { None };
            assert_eq!(p(&h), Ok(want), "{bad:#x}");
        }
    }

    #[test]
    fn parse_non_utf8() {
        assert_eq!(p(b"\xff\xfe\xfd"), Ok(None));
        assert_eq!(
            p(b"\xc3\x28=1; __Host-sid=ok; \x80=\x80"),
            Ok(Some(&b"ok"[..]))
        );
        assert_eq!(p(b"__Host-sid=\xc3\xa9"), Ok(None));
        assert_eq!(p(b"__Host-sid\xff=a"), Ok(None));
    }

    #[test]
    fn parse_length_boundary() {
        let suffix = b"; __Host-sid=tok";
        let mut h = std::vec![b'x'; MAX_COOKIE_HEADER - suffix.len()];
        h[1] = b'=';
        h.extend_from_slice(suffix);
        assert_eq!(h.len(), MAX_COOKIE_HEADER);
        assert_eq!(p(&h), Ok(Some(&b"tok"[..])));
        let mut longer = std::vec![b' '];
        longer.extend_from_slice(&h);
        assert_eq!(longer.len(), MAX_COOKIE_HEADER + 1);
        assert_eq!(p(&longer), Err(CookieError::HeaderTooLong));
        // Too long is reported even if the cookie is absent or duplicated.
        assert_eq!(
            p(&std::vec![b';'; MAX_COOKIE_HEADER + 1]),
            Err(CookieError::HeaderTooLong)
        );
        assert_eq!(p(&std::vec![b';'; MAX_COOKIE_HEADER]), Ok(None));
    }

    #[test]
    fn parse_name_prefixes_and_embedding() {
        assert_eq!(p(b"__Host-sidX=evil"), Ok(None));
        assert_eq!(p(b"__Host-si=evil"), Ok(None));
        assert_eq!(p(b"X__Host-sid=evil"), Ok(None));
        assert_eq!(
            p(b"__Host-sid2=evil; __Host-sid=good"),
            Ok(Some(&b"good"[..]))
        );
        assert_eq!(
            p(b"__Host-sidX=evil; __Host-sid=good; __Host-si=x"),
            Ok(Some(&b"good"[..]))
        );
        // The name inside another cookie's value.
        assert_eq!(p(b"other=__Host-sid=evil"), Ok(None));
        assert_eq!(p(b"other=\"__Host-sid=evil\""), Ok(None));
        assert_eq!(
            p(b"other=__Host-sid=evil; __Host-sid=good"),
            Ok(Some(&b"good"[..]))
        );
        assert_eq!(
            parse_cookie(b"other=__Host-sid=evil", "other"),
            Ok(Some(&b"__Host-sid=evil"[..]))
        );
        // The value containing the name.
        assert_eq!(p(b"__Host-sid=__Host-sid"), Ok(Some(&b"__Host-sid"[..])));
    }

    #[test]
    fn parse_query_name_validity() {
        // A requested name that is not a token never matches.
        assert_eq!(parse_cookie(b"=a", ""), Ok(None));
        assert_eq!(parse_cookie(b"a b=c", "a b"), Ok(None));
        assert_eq!(parse_cookie(b"a=b=c", "a=b"), Ok(None));
        assert_eq!(parse_cookie(b"a;b=c", "a;b"), Ok(None));
        // Length check still wins.
        assert_eq!(
            parse_cookie(&std::vec![b'a'; MAX_COOKIE_HEADER + 1], ""),
            Err(CookieError::HeaderTooLong)
        );
    }

    #[test]
    fn set_then_parse_roundtrip() {
        let c = CookieConfig::default();
        let tok = "Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Njc4OTAtYWJjZGVm_-";
        let sc = c.set_cookie(tok, Some(10)).unwrap();
        let pair = sc.split(';').next().unwrap();
        let header = format!("theme=dark; {pair}; lang=en");
        assert_eq!(
            parse_cookie(header.as_bytes(), &c.name),
            Ok(Some(tok.as_bytes()))
        );
    }

    // ---------- fuzz-ish ----------

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    #[test]
    fn byte_classes_are_the_rfc_ones() {
        // Spelled independently of the rules the tables are built from.
        for b in 0..=255u8 {
            let visible = (0x21..=0x7E).contains(&b);
            assert_eq!(
                is_cookie_octet(b),
                visible && !b"\",;\\".contains(&b),
                "cookie-octet {b:#x}"
            );
            assert_eq!(
                is_token_char(b),
                visible && !b"()<>@,;:\\\"/[]?={}".contains(&b),
                "token char {b:#x}"
            );
            assert_eq!(is_attr_char(b), visible && b != b';', "attr char {b:#x}");
        }
    }

    /// Independent, allocation-happy reference implementation.
    fn reference(header: &[u8], name: &str) -> Result<Option<Vec<u8>>, CookieError> {
        if header.len() > MAX_COOKIE_HEADER {
            return Err(CookieError::HeaderTooLong);
        }
        if !is_token(name.as_bytes()) {
            return Ok(None);
        }
        let ows = |b: &u8| *b == b' ' || *b == b'\t';
        let trim = |s: &[u8]| -> Vec<u8> {
            let start = s.iter().position(|b| !ows(b)).unwrap_or(s.len());
            let end = s.iter().rposition(|b| !ows(b)).map_or(start, |e| e + 1);
            s[start..end.max(start)].to_vec()
        };
        let mut values: Vec<Vec<u8>> = Vec::new();
        for pair in header.split(|&b| b == b';') {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            let n = trim(&pair[..eq]);
            let mut v = trim(&pair[eq + 1..]);
            if n.is_empty() || n != name.as_bytes() {
                continue;
            }
            if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
                v = v[1..v.len() - 1].to_vec();
            }
            if v.iter().any(|&b| !is_cookie_octet(b)) {
                continue;
            }
            values.push(v);
        }
        match values.first() {
            None => Ok(None),
            Some(first) if values.iter().all(|v| v == first) => Ok(Some(first.clone())),
            Some(_) => Err(CookieError::Duplicate),
        }
    }

    fn pick<'a>(rng: &mut XorShift, items: &[&'a [u8]]) -> &'a [u8] {
        items[(rng.next() % items.len() as u64) as usize]
    }

    #[test]
    fn fuzz_parse_never_panics() {
        // Pieces biased towards cookie syntax; any piece may be a random byte.
        const SEPS: &[&[u8]] = &[b";", b"; ", b" ;\t", b";;", b",", b""];
        const NAMES: &[&[u8]] = &[b"s", b"sa", b"a", b"__Host-sid", b"", b" s", b"s\xff"];
        const EQ: &[&[u8]] = &[b"=", b"=", b"=", b" = ", b"", b"=="];
        const VALUES: &[&[u8]] = &[
            b"x", b"y", b"\"x\"", b"", b"\"", b"x y", b"x,y", b"\\", b"\x00", b"\x7f", b"\xff",
            b"\r\n", b"s=x", b"\"\"",
        ];
        let names = ["s", "sa", "a", "__Host-sid", "", "s s"];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut found = 0;
        let mut dups = 0;
        for iter in 0..20_000usize {
            let pairs = rng.next() % 6;
            let mut h: Vec<u8> = Vec::new();
            for _ in 0..pairs {
                for set in [SEPS, NAMES, EQ, VALUES] {
                    let r = rng.next();
                    if r.is_multiple_of(16) {
                        h.push((r >> 8) as u8);
                    } else {
                        h.extend_from_slice(pick(&mut rng, set));
                    }
                }
            }
            if iter.is_multiple_of(1000) {
                h.resize(MAX_COOKIE_HEADER + (iter / 1000) % 2, b's');
            }
            for name in names {
                let got = parse_cookie(&h, name);
                let want = reference(&h, name);
                assert_eq!(got.map(|o| o.map(<[u8]>::to_vec)), want, "{h:?} {name:?}");
                match got {
                    Ok(Some(v)) => {
                        found += 1;
                        let range = h.as_ptr_range();
                        let vr = v.as_ptr_range();
                        assert!(range.start <= vr.start && vr.end <= range.end);
                        assert!(v.iter().all(|&b| is_cookie_octet(b)));
                    }
                    Err(CookieError::Duplicate) => dups += 1,
                    _ => {}
                }
            }
        }
        assert!(found > 1000 && dups > 100, "found={found} dups={dups}");
    }
}
