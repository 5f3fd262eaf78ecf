//! The request lifecycle every framework glue drives ([`sessile::Request`]): what a user
//! of a Flask, Starlette or Express app would notice in cookies and sessions.

use sessile::{Client, Config, Engine, HeapStorage, Invalid, Request, Store};

const NONE: &Client<'static> = &Client::NONE;

fn engine() -> Engine<HeapStorage> {
    let c = Config {
        capacity: 16,
        pool_bytes: 4096,
        max_payload: 256,
        ..Config::default()
    };
    Engine::new(c, [9; 32]).unwrap()
}

fn header(token: &str) -> String {
    format!("__Host-sid={token}")
}

/// Run one request: begin with `cookie`, let `app` act, finish with `data`.
fn request(
    e: &mut Engine<HeapStorage>,
    cookie: Option<&str>,
    now: u64,
    app: impl FnOnce(&mut Request, &mut Engine<HeapStorage>),
    data: Option<&[u8]>,
) -> (Request, Option<String>) {
    let h = cookie.map(header);
    let mut r = Request::begin(e, h.as_deref().map(str::as_bytes), now, NONE);
    app(&mut r, e);
    let set = r.finish(e, data, None, now, NONE).unwrap();
    (r, set.map(|s| s.as_str().to_owned()))
}

fn payload(e: &mut Engine<HeapStorage>, r: &Request, now: u64) -> Vec<u8> {
    r.payload(e, now)
        .map_or_else(Vec::new, |p| p.flatten().copied().collect())
}

#[test]
fn a_visit_that_stores_nothing_starts_no_session_and_sends_no_cookie() {
    let mut e = engine();
    let (r, set) = request(&mut e, None, 0, |_, _| {}, Some(b""));
    assert_eq!((r.token(), set), (None, None));
    let (_, set) = request(&mut e, Some("garbage"), 1, |_, _| {}, None);
    assert_eq!(set, None);
    assert_eq!(e.stats().live, 0);
}

#[test]
fn data_starts_a_session_and_only_a_new_token_is_sent() {
    let mut e = engine();
    let (r, set) = request(&mut e, None, 0, |_, _| {}, Some(b"{\"a\":1}"));
    let token = r.token().unwrap().to_owned();
    assert!(set.unwrap().starts_with(&header(&token)));
    let (r, set) = request(&mut e, Some(&token), 1, |_, _| {}, Some(b"{\"a\":2}"));
    assert_eq!(set, None, "an unchanged token is not re-sent");
    assert_eq!(payload(&mut e, &r, 2), b"{\"a\":2}");
}

#[test]
fn emptying_a_session_logs_out_and_clears_the_cookie() {
    let mut e = engine();
    let (r, _) = request(&mut e, None, 0, |_, _| {}, Some(b"{\"u\":1}"));
    let token = r.token().unwrap().to_owned();
    let (_, set) = request(&mut e, Some(&token), 1, |_, _| {}, Some(b""));
    assert!(set.unwrap().contains("Max-Age=0"));
    assert_eq!(
        e.validate(token.as_bytes(), 2, NONE),
        Err(Invalid::LoggedOut),
        "the session ended server-side, not just in the browser"
    );
}

#[test]
fn clear_then_new_data_starts_a_fresh_session() {
    let mut e = engine();
    let (r, _) = request(&mut e, None, 0, |_, _| {}, Some(b"{\"u\":1}"));
    let old = r.token().unwrap().to_owned();
    let (r, set) = request(&mut e, Some(&old), 1, |r, _| r.clear(), Some(b"{\"v\":2}"));
    let new = r.token().unwrap();
    assert_ne!(new, old);
    assert!(set.unwrap().starts_with(&header(new)));
    assert_eq!(e.validate(old.as_bytes(), 2, NONE), Err(Invalid::LoggedOut));
}

#[test]
fn login_rotates_and_after_clear_starts_afresh() {
    let mut e = engine();
    let (r, _) = request(&mut e, None, 0, |_, _| {}, Some(b"{\"cart\":1}"));
    let anon = r.token().unwrap().to_owned();
    let (r, set) = request(
        &mut e,
        Some(&anon),
        1,
        |r, e| r.login(e, b"alice", 1, NONE).unwrap(),
        None,
    );
    let alice = r.token().unwrap().to_owned();
    assert_ne!(alice, anon, "no session fixation");
    assert!(set.unwrap().starts_with(&header(&alice)));
    assert_eq!(
        payload(&mut e, &r, 2),
        b"{\"cart\":1}",
        "data is kept at login"
    );
    assert_eq!(
        e.validate(anon.as_bytes(), 2, NONE),
        Err(Invalid::RotatedOut)
    );
    // clear() then login as someone else: nothing of alice's session carries over.
    let (r, _) = request(
        &mut e,
        Some(&alice),
        3,
        |r, e| {
            r.clear();
            r.login(e, b"bob", 3, NONE).unwrap();
        },
        None,
    );
    assert_eq!(payload(&mut e, &r, 4), b"");
    assert_eq!(r.principal().unwrap().as_str(), Some("bob"));
    assert_eq!(
        e.validate(alice.as_bytes(), 4, NONE),
        Err(Invalid::LoggedOut)
    );
}

#[test]
fn a_slow_request_never_overwrites_a_login_or_revives_a_logout() {
    let mut e = engine();
    let (r, _) = request(&mut e, None, 0, |_, _| {}, Some(b"{\"n\":0}"));
    let anon = r.token().unwrap().to_owned();
    // A slow request begins...
    let h = header(&anon);
    let mut slow = Request::begin(&mut e, Some(h.as_bytes()), 1, NONE);
    // ...meanwhile another logs in and stores the user's data.
    let (fast, _) = request(
        &mut e,
        Some(&anon),
        2,
        |r, e| r.login(e, b"alice", 2, NONE).unwrap(),
        Some(b"{\"user\":\"alice\"}"),
    );
    let set = slow
        .finish(&mut e, Some(b"{\"n\":1}"), None, 3, NONE)
        .unwrap();
    assert_eq!(set, None);
    assert_eq!(payload(&mut e, &fast, 4), b"{\"user\":\"alice\"}");
    // Logout meanwhile: the slow request's data does not bring the session back.
    let alice = fast.token().unwrap().to_owned();
    let h = header(&alice);
    let mut slow = Request::begin(&mut e, Some(h.as_bytes()), 5, NONE);
    request(&mut e, Some(&alice), 6, |r, e| r.end(e, 6), None);
    assert_eq!(
        slow.finish(&mut e, Some(b"{\"x\":1}"), None, 7, NONE)
            .unwrap(),
        None
    );
    assert_eq!(e.stats().live, 0);
}

#[test]
fn a_browser_session_cookie_has_no_max_age() {
    let mut e = engine();
    let mut r = Request::begin(&mut e, None, 0, NONE);
    let set = r
        .finish(&mut e, Some(b"{}x"), Some(false), 0, NONE)
        .unwrap()
        .unwrap();
    assert!(!set.contains("Max-Age"), "{set}");
    let mut r = Request::begin(&mut e, None, 0, NONE);
    let set = r
        .finish(&mut e, Some(b"{}x"), None, 0, NONE)
        .unwrap()
        .unwrap();
    assert!(set.contains("Max-Age=28800"), "{set}");
}

#[test]
fn a_request_that_saves_twice_keeps_its_second_save() {
    // Django saves at login (cycle_key) and again at the end of the request: the first
    // save moved the session's epoch, and the second must not be taken for another
    // request's stale save.
    let mut e = engine();
    let (r, _) = request(&mut e, None, 0, |_, _| {}, Some(b"{\"cart\":[1]}"));
    let token = r.token().unwrap().to_owned();
    let h = header(&token);
    let mut r = Request::begin(&mut e, Some(h.as_bytes()), 1, NONE);
    r.login(&mut e, b"alice", 1, NONE).unwrap();
    r.finish(&mut e, Some(b"{\"cart\":[1],\"u\":1}"), None, 1, NONE)
        .unwrap();
    r.finish(&mut e, Some(b"{\"cart\":[1,2],\"u\":1}"), None, 2, NONE)
        .unwrap();
    assert_eq!(payload(&mut e, &r, 3), b"{\"cart\":[1,2],\"u\":1}");
}
