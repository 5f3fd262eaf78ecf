//! Cookie parsing and formatting on arbitrary input.
//!
//! - `parse_cookie` on any bytes and any name: no panic, the answer matches the
//!   reference parser written from its documentation, and a found value is a slice of the
//!   header made of cookie-octets.
//! - `Engine::token_from_cookie_header` gives exactly what `parse_cookie` gives for the
//!   engine's cookie name.
//! - `CookieConfig` built from arbitrary strings: the builders accept exactly the
//!   documented names, domains and paths; `set_cookie` / `clear_cookie` succeed exactly
//!   when the configuration validates (and the value and length allow), the header
//!   carries the configured attributes, and the browser's view of it parses back to the
//!   same value.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sessile::cookie::{
    CookieConfig, CookieError, MAX_SET_COOKIE, Priority, SameSite, parse_cookie,
};
use sessile::{Client, Config, ConfigError, Engine, Store};
use sessile_fuzz::{Parsed, is_cookie_name, is_cookie_octet, parse_cookie_ref};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    header: &'a [u8],
    name: &'a str,
    domain: Option<&'a str>,
    path: &'a str,
    value: &'a str,
    max_age: Option<u64>,
    secure: bool,
    http_only: bool,
    partitioned: bool,
    persistent: bool,
    same_site: u8,
    priority: u8,
    /// Build a header around `name=value` instead of using `header` as is.
    wrap: bool,
}

fuzz_target!(|input: Input<'_>| check(input));

fn check(input: Input<'_>) {
    let header: Vec<u8> = if input.wrap {
        let mut h = input.header.to_vec();
        h.extend_from_slice(b"; ");
        h.extend_from_slice(input.name.as_bytes());
        h.push(b'=');
        h.extend_from_slice(input.value.as_bytes());
        h
    } else {
        input.header.to_vec()
    };
    check_parse(&header, input.name);
    check_config(&input, &header);
}

fn check_parse(header: &[u8], name: &str) {
    let got = parse_cookie(header, name);
    let want = parse_cookie_ref(header, name.as_bytes());
    match (&got, &want) {
        (Err(CookieError::HeaderTooLong), Parsed::TooLong)
        | (Err(CookieError::Duplicate), Parsed::Duplicate)
        | (Ok(None), Parsed::Absent) => {}
        (Ok(Some(v)), Parsed::Found(w)) if v == w => {
            // Borrowed from the header, never copied or rewritten.
            let range = header.as_ptr_range();
            assert!(
                v.is_empty() || (range.start <= v.as_ptr() && v.as_ptr_range().end <= range.end)
            );
            assert!(v.iter().all(|&b| is_cookie_octet(b)));
        }
        _ => panic!("parse_cookie({header:?}, {name:?}) = {got:?}, reference says {want:?}"),
    }
}

fn check_config(input: &Input<'_>, header: &[u8]) {
    let name_ok = is_cookie_name(input.name.as_bytes());
    let Ok(cfg) = CookieConfig::default().with_name(input.name) else {
        assert!(!name_ok, "with_name refused valid name {:?}", input.name);
        return;
    };
    assert!(name_ok, "with_name accepted invalid name {:?}", input.name);
    let attr_ok = |s: &str| s.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b';');
    let domain_ok = input
        .domain
        .is_none_or(|d| !d.is_empty() && d.len() <= sessile::cookie::MAX_DOMAIN && attr_ok(d));
    let cfg = match cfg.with_domain(input.domain) {
        Ok(c) => {
            assert!(domain_ok, "with_domain accepted {:?}", input.domain);
            c
        }
        Err(_) => {
            assert!(!domain_ok, "with_domain refused {:?}", input.domain);
            return;
        }
    };
    let path_ok = input.path.starts_with('/')
        && input.path.len() <= sessile::cookie::MAX_PATH
        && attr_ok(input.path);
    let mut cfg = match cfg.with_path(input.path) {
        Ok(c) => {
            assert!(path_ok, "with_path accepted {:?}", input.path);
            c
        }
        Err(_) => {
            assert!(!path_ok, "with_path refused {:?}", input.path);
            return;
        }
    };
    cfg.secure = input.secure;
    cfg.http_only = input.http_only;
    cfg.partitioned = input.partitioned;
    cfg.persistent = input.persistent;
    cfg.same_site = match input.same_site % 4 {
        0 => None,
        1 => Some(SameSite::Strict),
        2 => Some(SameSite::Lax),
        _ => Some(SameSite::None),
    };
    cfg.priority = match input.priority % 4 {
        0 => None,
        1 => Some(Priority::Low),
        2 => Some(Priority::Medium),
        _ => Some(Priority::High),
    };

    let valid = cfg.validate();
    let prefixed = |p: &str| {
        input.name.len() >= p.len()
            && input.name.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    };
    let must_be_secure = prefixed("__Host-")
        || prefixed("__Secure-")
        || cfg.same_site == Some(SameSite::None)
        || cfg.partitioned;
    let host_rules = !prefixed("__Host-") || (cfg.domain.is_none() && cfg.path.as_str() == "/");
    assert_eq!(
        valid.is_ok(),
        (cfg.secure || !must_be_secure) && host_rules,
        "validate() = {valid:?} for {cfg:?}"
    );

    // Formatting: into an unbounded String, and into the fixed-size header.
    let mut unbounded = String::new();
    let wrote = cfg.write_set_cookie(&mut unbounded, input.value, input.max_age);
    let value_ok =
        input.value.bytes().all(is_cookie_octet) && input.name.len() + input.value.len() <= 4096;
    assert_eq!(
        wrote.is_ok(),
        valid.is_ok() && value_ok,
        "write_set_cookie for {cfg:?}, {:?}",
        input.value
    );
    if wrote.is_err() {
        assert!(
            unbounded.is_empty(),
            "failed write_set_cookie wrote {unbounded:?}"
        );
    }
    let fixed = cfg.set_cookie(input.value, input.max_age);
    match &fixed {
        Some(s) => assert_eq!(s.as_str(), unbounded),
        None => assert!(wrote.is_err() || unbounded.len() > MAX_SET_COOKIE),
    }
    if wrote.is_ok() {
        let s = unbounded.as_str();
        let prefix = format!("{}={}", input.name, input.value);
        assert!(
            s.starts_with(&prefix),
            "{s:?} does not start with {prefix:?}"
        );
        let attrs: Vec<&str> = s[prefix.len()..].split("; ").skip(1).collect();
        assert_eq!(attrs.contains(&"HttpOnly"), cfg.http_only, "{s:?}");
        assert_eq!(attrs.contains(&"Secure"), cfg.secure, "{s:?}");
        assert_eq!(attrs.contains(&"Partitioned"), cfg.partitioned, "{s:?}");
        assert!(
            attrs.contains(&format!("Path={}", cfg.path).as_str()),
            "{s:?}"
        );
        let max_age = attrs.iter().find(|a| a.starts_with("Max-Age="));
        match (cfg.persistent, input.max_age) {
            (true, Some(m)) => assert_eq!(max_age, Some(&format!("Max-Age={m}").as_str()), "{s:?}"),
            _ => assert_eq!(max_age, None, "{s:?}"),
        }
        // What the browser sends back parses to the same value.
        let other = if input.name == "a" { "b" } else { "a" };
        let sent = format!("{other}=1; {}={}", input.name, input.value);
        assert_eq!(
            parse_cookie(sent.as_bytes(), input.name),
            Ok(Some(input.value.as_bytes()))
        );
    }
    let cleared = cfg.clear_cookie();
    assert_eq!(cleared.is_some(), valid.is_ok());
    if let Some(c) = cleared {
        assert!(
            c.starts_with(&format!("{}=; ", input.name)) && c.contains("; Max-Age=0"),
            "{c:?}"
        );
    }

    // The engine with this cookie config: built exactly when it validates, reads the
    // same cookie as parse_cookie, and writes what the config writes.
    let config = Config {
        capacity: 2,
        pool_bytes: 256,
        max_payload: 64,
        cookie: cfg.clone(),
        ..Config::default()
    };
    match Engine::new(config, [7; 32]) {
        Err(e) => {
            assert_eq!(
                Err(e),
                valid.map_err(|c| sessile::Error::Config(ConfigError::Cookie(c)))
            );
        }
        Ok(mut engine) => {
            assert!(valid.is_ok());
            assert_eq!(
                engine.token_from_cookie_header(header),
                parse_cookie(header, input.name)
            );
            let (token, session) = engine.create(1_000, &Client::NONE).expect("empty table");
            let left = session.absolute_deadline_ms - 1_000;
            assert_eq!(
                engine
                    .set_cookie(token.as_str(), session.handle, 1_000)
                    .ok()
                    .map(|s| s.as_str().to_owned()),
                cfg.set_cookie(token.as_str(), Some(left.div_ceil(1000)))
                    .map(|s| s.as_str().to_owned())
            );
            let sent = format!("{}={}", input.name, token.as_str());
            assert_eq!(
                engine.token_from_cookie_header(sent.as_bytes()),
                Ok(Some(token.as_bytes()))
            );
        }
    }
}
