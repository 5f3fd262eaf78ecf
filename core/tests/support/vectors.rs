//! The runner of the conformance vector files in `tests/vectors/` (format:
//! tests/vectors/README.md), over any [`Store`]: `core/tests/vectors.rs` runs it on the
//! in-process engine, each other store's tests include this file (`#[path]`) and run it
//! on theirs. The bindings run the same files through their own APIs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;
use sessile::{
    Client, Config, ConfigError, CookieConfig, Error, Event, Session, SessionRef, Stats, Store,
    Token, cookie::parse_cookie, vocabulary,
};

/// Builds a fresh, empty store from a config and a generator seed.
pub type Make<'a, S> = dyn FnMut(Config, [u8; 32]) -> Result<S, Error> + 'a;

/// Where a store's expected answers differ from a vector's, on purpose: for the step
/// `step` of script `script`, replace the value of `key` (in the step object; a dotted
/// path such as `stats.tombstones` reaches inside) with `value`. Each carries its reason,
/// printed when it is applied.
pub struct Divergence {
    pub script: &'static str,
    pub step: usize,
    pub key: &'static str,
    pub value: &'static str,
    pub why: &'static str,
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v
}

/// `tests/vectors` of the workspace the including crate sits in.
fn vectors_dir() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let v = dir.join("tests/vectors");
        if v.join("script.json").is_file() {
            return v;
        }
        assert!(
            dir.pop(),
            "no tests/vectors above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("hex {s:?}")))
        .collect()
}

/// The bytes named `base` in `obj`: `<base>_hex`, or `<base>` (UTF-8 text) repeated
/// `<base>_repeat` times. None when neither is present (or `<base>` is null).
fn bytes(obj: &Value, base: &str) -> Option<Vec<u8>> {
    if let Some(h) = obj.get(format!("{base}_hex")) {
        return Some(hex(h.as_str().expect("hex string")));
    }
    let text = obj.get(base)?.as_str()?;
    let n = obj
        .get(format!("{base}_repeat"))
        .map_or(1, |v| v.as_u64().expect("repeat count") as usize);
    Some(text.repeat(n).into_bytes())
}

fn seed(v: &Value) -> [u8; 32] {
    hex(v.as_str().expect("seed_hex"))
        .try_into()
        .expect("32-byte seed")
}

/// A config object's value as the vocabulary takes it.
fn value(v: &Value) -> vocabulary::Value<'_> {
    match v {
        Value::Null => vocabulary::Value::Unset,
        Value::Bool(b) => vocabulary::Value::Flag(*b),
        Value::String(t) => vocabulary::Value::Text(t),
        Value::Number(n) => vocabulary::Value::Int(n.as_u64().expect("a whole number")),
        _ => panic!("config value {v}"),
    }
}

/// Build a config from config objects (later ones override earlier ones), through the
/// config vocabulary every binding uses.
fn config(layers: &[&Value]) -> Result<Config, ConfigError> {
    let entries = layers
        .iter()
        .flat_map(|l| l.as_object().expect("config object"))
        .map(|(k, v)| (k.as_str(), value(v)));
    Config::from_entries(entries.collect::<Vec<_>>())
}

/// The cookie attributes of a (cookie-only) config object.
fn cookie_config(over: &Value) -> Result<CookieConfig, ConfigError> {
    config(&[over]).map(|c| c.cookie)
}

// ---------------------------------------------------------------- config.json

/// config.json: defaults, profiles and validation; every valid config builds a store.
pub fn config_file<S: Store>(make: &mut Make<'_, S>) {
    let v = load("config.json");
    // Defaults: the JSON lists every field; building from it must give Config::default().
    let defaults = &v["defaults"];
    assert_eq!(config(&[defaults]).unwrap(), Config::default());
    let c = Config::default();
    let d = defaults.as_object().unwrap();
    assert_eq!(d["capacity"], c.capacity);
    assert_eq!(d["idle_timeout_ms"], c.idle_timeout_ms);
    assert_eq!(d["absolute_timeout_ms"], c.absolute_timeout_ms);
    assert_eq!(d["events"], c.events);
    assert_eq!(d["cookie_name"], c.cookie.name.as_str());
    // Every key of the vocabulary is listed, and only those.
    let listed: Vec<&str> = d.keys().map(String::as_str).collect();
    let keys: Vec<&str> = vocabulary::KEYS
        .iter()
        .map(|k| k.name)
        .filter(|k| *k != "profile")
        .collect();
    assert_eq!(sorted(listed), sorted(keys));
    for (name, t) in v["profiles"].as_object().unwrap() {
        let c = config(&[&serde_json::json!({ "profile": name })]).unwrap();
        assert_eq!(t["idle_timeout_ms"], c.idle_timeout_ms, "{name}");
        assert_eq!(t["absolute_timeout_ms"], c.absolute_timeout_ms, "{name}");
    }
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = config(&[&case["config"]]);
        match case["error"].as_str() {
            None => {
                let c = got.unwrap_or_else(|e| panic!("{name}: unexpected {}", e.code()));
                // A valid config builds a store.
                if let Err(e) = make(c, [0; 32]) {
                    panic!("{name}: {e}")
                }
            }
            Some(want) => {
                let e = got.err().unwrap_or_else(|| panic!("{name}: accepted"));
                assert_eq!(e.code(), want, "{name}");
                // And the engine refuses it with Error::Config.
                assert_eq!(Error::Config(e).code(), "config");
            }
        }
    }
}

// ---------------------------------------------------------------- cookies.json

/// cookies.json (no store involved: the cookie text is the core's alone).
pub fn cookie_file() {
    let v = load("cookies.json");
    for case in v["set_cookie"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let cfg = cookie_config(&case["config"]);
        let value = String::from_utf8(bytes(case, "value").unwrap()).unwrap();
        let got = cfg
            .ok()
            .and_then(|c| c.set_cookie(&value, case["max_age_s"].as_u64()));
        assert_eq!(got.as_deref(), case["expect"].as_str(), "{name}");
    }
    for case in v["clear_cookie"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let cfg = cookie_config(&case["config"]);
        let got = cfg.ok().and_then(|c| c.clear_cookie());
        assert_eq!(got.as_deref(), case["expect"].as_str(), "{name}");
    }
    for case in v["parse"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let header = bytes(case, "header").unwrap();
        let got = parse_cookie(&header, case["cookie_name"].as_str().unwrap());
        let want = &case["expect"];
        match (got, want.get("error")) {
            (Err(e), Some(code)) => assert_eq!(e.code(), code, "{name}"),
            (Ok(found), None) => {
                let want = want["value"].as_str().map(str::as_bytes);
                assert_eq!(found, want, "{name}");
            }
            (got, _) => panic!("{name}: got {got:?}, want {want}"),
        }
    }
}

// ---------------------------------------------------------------- tokens.json

/// tokens.json: the tokens a seeded store issues, and which spellings are malformed.
pub fn token_file<S: Store>(make: &mut Make<'_, S>) {
    let v = load("tokens.json");
    for e in v["engines"].as_array().unwrap() {
        let ename = e["name"].as_str().unwrap();
        let mut engine = make(config(&[&e["config"]]).unwrap(), seed(&e["seed_hex"])).unwrap();
        let issued: Vec<&str> = e["issued"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for want in &issued {
            let (t, _) = engine.create(0, &Client::NONE).unwrap();
            assert_eq!(t.as_str(), *want, "{ename}: issued token");
        }
        for case in e["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let token = bytes(case, "token").unwrap();
            let got = engine.validate(&token, 1, &Client::NONE);
            assert_eq!(
                got.err().as_ref().map(code),
                Some(case["expect"].as_str().unwrap()),
                "{ename}: {name}"
            );
        }
        // Every issued token is still valid after all that garbage.
        for t in &issued {
            engine
                .validate(t.as_bytes(), 2, &Client::NONE)
                .unwrap_or_else(|i| panic!("{ename}: {t} {i}"));
        }
    }
}

// ---------------------------------------------------------------- script.json

/// The stable code of an outcome: the `Invalid` code for `Error::Session`, else `Error::code`.
fn code(e: &Error) -> &'static str {
    match e {
        Error::Session(i) => i.code(),
        other => other.code(),
    }
}

struct Named {
    token: Token,
    handle: SessionRef,
    tag: u64,
}

fn check_fields(ctx: &str, s: &Session, want: Option<&Value>) {
    let Some(want) = want else { return };
    for (k, v) in want.as_object().unwrap() {
        let got: Value = match k.as_str() {
            "principal" => match &s.principal {
                None => Value::Null,
                Some(p) => Value::String(p.as_str().expect("UTF-8 principal").to_owned()),
            },
            "created_ms" => s.created_ms.into(),
            "last_seen_ms" => s.last_seen_ms.into(),
            "idle_deadline_ms" => s.idle_deadline_ms.into(),
            "absolute_deadline_ms" => s.absolute_deadline_ms.into(),
            "idle_timeout_ms" => s.idle_timeout_ms.into(),
            "absolute_timeout_ms" => s.absolute_timeout_ms.into(),
            "payload_len" => s.payload_len.into(),
            _ => panic!("{ctx}: unknown field {k}"),
        };
        assert_eq!(&got, v, "{ctx}: field {k}");
    }
}

fn stats_value(s: &Stats, k: &str) -> u64 {
    match k {
        "capacity" => s.capacity.into(),
        "live" => s.live.into(),
        "anonymous" => s.anonymous.into(),
        "authenticated" => s.authenticated.into(),
        "pool_used_bytes" => s.pool_used_bytes,
        "pool_total_bytes" => s.pool_total_bytes,
        "created" => s.created,
        "evictions" => s.evictions,
        "expirations" => s.expirations,
        "revocations" => s.revocations,
        "tombstones" => s.tombstones.into(),
        "events_pending" => s.events_pending.into(),
        "events_dropped" => s.events_dropped,
        _ => panic!("unknown stats field {k}"),
    }
}

fn client_of(step: &Value) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    match step.get("client") {
        None => (None, None),
        Some(c) => (bytes(c, "ip"), bytes(c, "user_agent")),
    }
}

fn run_script<S: Store>(
    make: &mut Make<'_, S>,
    script: &Value,
    base: &Value,
    default_seed: &Value,
) {
    let sname = script["name"].as_str().unwrap();
    let cfg = config(&[base, &script["config"]]).unwrap();
    let seed = seed(script.get("seed_hex").unwrap_or(default_seed));
    let mut e = make(cfg, seed).unwrap();
    run_steps(&mut e, sname, script);
}

/// Apply `divergences` to the scripts of script.json (each must match a step's key).
fn diverge(v: &mut Value, divergences: &[Divergence]) {
    for d in divergences {
        let script = v["scripts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["name"] == d.script)
            .unwrap_or_else(|| panic!("divergence names no script {}", d.script));
        let mut at = &mut script["steps"][d.step];
        let (path, last) = d.key.rsplit_once('.').map_or(("", d.key), |(p, l)| (p, l));
        for k in path.split('.').filter(|k| !k.is_empty()) {
            at = &mut at[k];
        }
        assert!(
            at.get(last).is_some(),
            "{} step {}: no {} to diverge from",
            d.script,
            d.step,
            d.key
        );
        let value: Value = serde_json::from_str(d.value).expect("divergence value is JSON");
        eprintln!(
            "{} step {}: {} {} -> {} ({})",
            d.script, d.step, d.key, at[last], value, d.why
        );
        at[last] = value;
    }
}

/// Run a script's steps against any store: the vectors check the store seam, not one
/// store's internals.
fn run_steps<S: Store>(e: &mut S, sname: &str, script: &Value) {
    let mut names: HashMap<String, Named> = HashMap::new();
    for (n, step) in script["steps"].as_array().unwrap().iter().enumerate() {
        let op = step["op"].as_str().unwrap();
        let ctx = format!("{sname} step {n} ({op})");
        let now = step.get("now").and_then(Value::as_u64).unwrap_or(0);
        let expect = step.get("expect").and_then(Value::as_str).unwrap_or("ok");
        let token: Vec<u8> = match step.get("token").and_then(Value::as_str) {
            Some(name) => names
                .get(name)
                .unwrap_or_else(|| panic!("{ctx}: no {name}"))
                .token
                .as_bytes()
                .to_vec(),
            None => bytes(step, "token_raw").unwrap_or_default(),
        };
        let handle = step.get("session").and_then(Value::as_str).map(|name| {
            names
                .get(name)
                .unwrap_or_else(|| panic!("{ctx}: no {name}"))
                .handle
        });
        let principal = bytes(step, "principal");
        let (ip, ua) = client_of(step);
        let client = Client {
            ip: ip.as_deref(),
            user_agent: ua.as_deref(),
        };
        // (outcome code, session snapshot and new token if any)
        let (outcome, new): (&str, Option<(Option<Token>, Session)>) = match op {
            "create" => match e.create(now, &client) {
                Ok((t, s)) => ("ok", Some((Some(t), s))),
                Err(err) => (code(&err), None),
            },
            "validate" => match e.validate(&token, now, &client) {
                Ok(s) => ("ok", Some((None, s))),
                Err(err) => (code(&err), None),
            },
            "login" => match e.login(&token, principal.as_deref().expect("principal"), now) {
                Ok((t, s)) => ("ok", Some((Some(t), s))),
                Err(err) => (code(&err), None),
            },
            "rotate" => match e.rotate(&token, now) {
                Ok((t, s)) => ("ok", Some((Some(t), s))),
                Err(err) => (code(&err), None),
            },
            "peek" => match e.peek(&token, now) {
                Ok(s) => ("ok", Some((None, s))),
                Err(err) => (code(&err), None),
            },
            "validate_cookie" => {
                // The engine's cookie name, once per copy: `name=<token>; name=<token>`.
                let name = e.config().cookie.name.as_str().to_owned();
                let values: Vec<Vec<u8>> = step["cookies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| match c.as_str() {
                        Some(n) => names[n].token.as_bytes().to_vec(),
                        None => c["raw"].as_str().unwrap().as_bytes().to_vec(),
                    })
                    .collect();
                let header = values
                    .iter()
                    .map(|v| format!("{name}={}", String::from_utf8_lossy(v)))
                    .collect::<Vec<_>>()
                    .join("; ");
                match e.validate_cookie(header.as_bytes(), now, &client) {
                    Ok(None) => ("none", None),
                    Ok(Some((t, s))) => {
                        let want = step["chosen"].as_str().expect("chosen");
                        assert_eq!(t, names[want].token.as_bytes(), "{ctx}: chosen");
                        ("ok", Some((None, s)))
                    }
                    Err(Error::Cookie(c)) => (c.code(), None),
                    Err(err) => (code(&err), None),
                }
            }
            "logout" => (
                e.logout(&token, now).err().as_ref().map_or("ok", code),
                None,
            ),
            "revoke" => (
                e.revoke(handle.unwrap(), now)
                    .err()
                    .as_ref()
                    .map_or("ok", code),
                None,
            ),
            "set_timeouts" => {
                let opt = |k: &str| {
                    step.get(k)
                        .and_then(Value::as_u64)
                        .map(|v| u32::try_from(v).unwrap())
                };
                match e.set_timeouts(handle.unwrap(), opt("idle_ms"), opt("absolute_ms"), now) {
                    Ok(s) => ("ok", Some((None, s))),
                    Err(err) => (code(&err), None),
                }
            }
            "write" => {
                let data = bytes(step, "data").expect("data");
                (
                    e.write(handle.unwrap(), &data, now)
                        .err()
                        .as_ref()
                        .map_or("ok", code),
                    None,
                )
            }
            "read" => {
                let mut out = vec![0u8; 1 << 16];
                match e.read(handle.unwrap(), &mut out, now) {
                    Ok(n) => {
                        let want = bytes(step, "expect_data").expect("expect_data");
                        assert_eq!(&out[..n], &want[..], "{ctx}: data");
                        ("ok", None)
                    }
                    Err(err) => (code(&err), None),
                }
            }
            "revoke_principal" => {
                let got = e
                    .revoke_principal(principal.as_deref().expect("principal"), now)
                    .unwrap_or_else(|err| panic!("{ctx}: {err}"));
                assert_eq!(Some(got as u64), step["count"].as_u64(), "{ctx}: count");
                ("ok", None)
            }
            "revoke_all" => {
                let got = e
                    .revoke_all(now)
                    .unwrap_or_else(|err| panic!("{ctx}: {err}"));
                assert_eq!(Some(got as u64), step["count"].as_u64(), "{ctx}: count");
                ("ok", None)
            }
            "sweep" => {
                let got = e.sweep(now).unwrap_or_else(|err| panic!("{ctx}: {err}"));
                assert_eq!(Some(got as u64), step["count"].as_u64(), "{ctx}: count");
                ("ok", None)
            }
            "sessions_of" => {
                let got: Vec<SessionRef> = e
                    .sessions_of(principal.as_deref().expect("principal"), now)
                    .unwrap_or_else(|err| panic!("{ctx}: {err}"))
                    .map(|s| s.handle)
                    .collect();
                let want: Vec<SessionRef> = step["sessions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| names[n.as_str().unwrap()].handle)
                    .collect();
                assert_eq!(got, want, "{ctx}: sessions");
                ("ok", None)
            }
            "stats" => {
                let s = e.stats();
                for (k, v) in step["stats"].as_object().unwrap() {
                    assert_eq!(Some(stats_value(&s, k)), v.as_u64(), "{ctx}: stats.{k}");
                }
                ("ok", None)
            }
            "events" => {
                let got: Vec<Event> = e.drain_events().collect();
                let want = step["events"].as_array().unwrap();
                let show = |evs: &[Event]| {
                    evs.iter()
                        .map(|ev| format!("{}@{}", ev.kind.as_str(), ev.at_ms))
                        .collect::<Vec<_>>()
                };
                assert_eq!(got.len(), want.len(), "{ctx}: events {:?}", show(&got));
                for (g, w) in got.iter().zip(want) {
                    assert_eq!(
                        g.kind.as_str(),
                        w["kind"].as_str().unwrap(),
                        "{ctx}: {:?}",
                        show(&got)
                    );
                    let tag = match w["session"].as_str() {
                        None => 0,
                        Some(name) => names[name].tag,
                    };
                    assert_eq!(g.session, tag, "{ctx}: session of {}", g.kind.as_str());
                    if let Some(at) = w.get("at_ms") {
                        assert_eq!(
                            Some(g.at_ms),
                            at.as_u64(),
                            "{ctx}: at_ms of {}",
                            g.kind.as_str()
                        );
                    }
                }
                ("ok", None)
            }
            _ => panic!("{ctx}: unknown op"),
        };
        assert_eq!(outcome, expect, "{ctx}");
        if let Some((t, s)) = new {
            check_fields(&ctx, &s, step.get("fields"));
            if let Some(name) = step.get("as").and_then(Value::as_str) {
                let t = t.expect("op issues a token");
                names.insert(
                    name.to_owned(),
                    Named {
                        token: t,
                        handle: s.handle,
                        tag: s.tag,
                    },
                );
            }
        } else {
            assert!(
                step.get("as").is_none() || expect != "ok",
                "{ctx}: 'as' on an op without token"
            );
        }
    }
}

/// script.json, with a store's documented `divergences` applied first.
pub fn script_file<S: Store>(make: &mut Make<'_, S>, divergences: &[Divergence]) {
    let mut v = load("script.json");
    diverge(&mut v, divergences);
    let scripts = v["scripts"].as_array().unwrap();
    assert!(scripts.len() >= 20);
    for s in scripts {
        run_script(make, s, &v["base_config"], &v["seed_hex"]);
    }
}

/// The files above are all there is: a new one must be added to these runners.
pub fn every_file_is_run() {
    let mut files: Vec<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["config.json", "cookies.json", "script.json", "tokens.json"]
    );
}
