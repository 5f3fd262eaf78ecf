//! Engine behaviour a user would notice, beyond the vectors and the model: what events
//! say (and never say), reuse reporting from tombstones, stats bookkeeping, cookies
//! through the engine, and no panic on any input.

use proptest::prelude::*;
use sessile::{
    Client, Config, CookieError, Engine, Error, EventKind, HeapStorage, Invalid, Saved, SessionRef,
    Store,
};

const NONE: &Client<'static> = &Client::NONE;

fn engine(f: impl FnOnce(&mut Config)) -> Engine<HeapStorage> {
    let mut c = Config {
        capacity: 8,
        pool_bytes: 1024,
        max_payload: 512,
        idle_timeout_ms: 1_000,
        absolute_timeout_ms: 10_000,
        ..Config::default()
    };
    f(&mut c);
    Engine::new(c, [7; 32]).unwrap()
}

fn kinds(e: &mut Engine<HeapStorage>) -> Vec<(EventKind, u64)> {
    e.drain_events().map(|ev| (ev.kind, ev.session)).collect()
}

#[test]
fn events_name_sessions_by_a_tag_stable_across_rotation() {
    let mut e = engine(|_| {});
    let (a, sa) = e.create(0, NONE).unwrap();
    let (_, sb) = e.create(0, NONE).unwrap();
    assert_ne!(sa.tag, sb.tag);
    assert_ne!(sa.tag, 0);
    let (a2, sa2) = e.login(a.as_bytes(), b"alice", 1).unwrap();
    let (_, sa3) = e.rotate(a2.as_bytes(), 2).unwrap();
    assert_eq!((sa2.tag, sa3.tag), (sa.tag, sa.tag));
    assert_eq!(
        kinds(&mut e),
        [
            (EventKind::Created, sa.tag),
            (EventKind::Created, sb.tag),
            (EventKind::LoggedIn, sa.tag),
            (EventKind::Rotated, sa.tag),
        ]
    );
    // A tag is no function of the token: the same token text never appears, and the tag
    // of a session that reuses a slot differs from its predecessor's.
    let (t, s) = e.create(3, NONE).unwrap();
    e.logout(t.as_bytes(), 4).unwrap();
    let (_, s2) = e.create(5, NONE).unwrap();
    assert_ne!(s.tag, s2.tag);
}

#[test]
fn reuse_is_reported_for_logout_and_rotation_but_not_for_expiry_or_eviction() {
    let mut e = engine(|c| c.capacity = 2);
    let (out, so) = e.create(0, NONE).unwrap();
    e.logout(out.as_bytes(), 1).unwrap();
    let (old, sr) = e.create(1, NONE).unwrap();
    let (_new, _) = e.rotate(old.as_bytes(), 2).unwrap();
    let _ = kinds(&mut e);

    assert_eq!(e.validate(out.as_bytes(), 3, NONE), Err(Invalid::LoggedOut));
    assert_eq!(
        e.validate(old.as_bytes(), 3, NONE),
        Err(Invalid::RotatedOut)
    );
    let got = kinds(&mut e);
    assert_eq!(
        got,
        [
            (EventKind::ReuseAfterLogout, so.tag),
            (EventKind::ReuseAfterRotation, sr.tag)
        ]
    );
    assert!(got.iter().all(|(k, _)| k.is_security_alert()));

    // Expired and evicted tokens stay dead, quietly.
    let (exp, _) = e.create(3, NONE).unwrap();
    assert_eq!(
        e.validate(exp.as_bytes(), 2_000, NONE),
        Err(Invalid::Expired(sessile::Expiry::Idle))
    );
    let _ = kinds(&mut e);
    assert_eq!(
        e.validate(exp.as_bytes(), 2_001, NONE),
        Err(Invalid::Expired(sessile::Expiry::Idle))
    );
    let (ev, _) = e.create(2_002, NONE).unwrap();
    e.create(2_003, NONE).unwrap();
    e.create(2_004, NONE).unwrap(); // evicts `ev`
    let _ = kinds(&mut e);
    assert_eq!(
        e.validate(ev.as_bytes(), 2_005, NONE),
        Err(Invalid::Evicted)
    );
    assert!(kinds(&mut e).is_empty());
}

#[test]
fn a_dead_token_is_never_adopted() {
    // Strict mode: presenting a dead or unknown token then creating never gives it back.
    let mut e = engine(|_| {});
    let (t, _) = e.create(0, NONE).unwrap();
    e.logout(t.as_bytes(), 1).unwrap();
    for now in 2..50 {
        let (n, _) = e.create(now, NONE).unwrap();
        assert_ne!(n.as_bytes(), t.as_bytes());
        e.logout(n.as_bytes(), now).unwrap();
    }
    assert_eq!(e.validate(t.as_bytes(), 60, NONE), Err(Invalid::Unknown));
}

#[test]
fn stats_count_blocks_tombstones_and_pending_events() {
    let mut e = engine(|c| c.tombstones = 3);
    let s0 = e.stats();
    assert_eq!((s0.capacity, s0.live, s0.pool_total_bytes), (8, 0, 1024));
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"x", 0).unwrap();
    assert_eq!(
        e.stats().pool_used_bytes,
        64,
        "one byte takes a whole block"
    );
    e.write(s.handle, &[1; 65], 0).unwrap();
    assert_eq!(e.stats().pool_used_bytes, 128);
    let (t, _) = e.login(t.as_bytes(), b"alice", 1).unwrap();
    let st = e.stats();
    assert_eq!((st.anonymous, st.authenticated), (0, 1));
    assert_eq!(
        st.pool_used_bytes, 192,
        "the principal is kept in the pool too"
    );
    assert_eq!(st.tombstones, 1);
    assert_eq!(st.events_pending, 2);
    e.logout(t.as_bytes(), 2).unwrap();
    let st = e.stats();
    assert_eq!((st.live, st.pool_used_bytes, st.tombstones), (0, 0, 2));
    for now in 3..10 {
        let (t, _) = e.create(now, NONE).unwrap();
        e.logout(t.as_bytes(), now).unwrap();
    }
    assert_eq!(e.stats().tombstones, 3, "bounded by the config");
    assert_eq!(e.stats().created, 8);
}

#[test]
fn cookies_through_the_engine() {
    let mut e = engine(|c| {
        c.idle_timeout_ms = 600_000;
        c.absolute_timeout_ms = 3_600_000;
    });
    let (t, s) = e.create(0, NONE).unwrap();
    let cookie = e.set_cookie(t.as_str(), s.handle, 0).unwrap();
    assert_eq!(
        cookie.as_str(),
        format!(
            "__Host-sid={}; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax",
            t.as_str()
        )
    );
    // Max-Age counts down with the time given, rounded up to whole seconds; a time
    // earlier than one the engine has seen counts as that one.
    let s = e.validate(t.as_bytes(), 1_500, NONE).unwrap();
    assert!(
        e.set_cookie(t.as_str(), s.handle, 1_500)
            .unwrap()
            .contains("; Max-Age=3599;")
    );
    assert!(
        e.set_cookie(t.as_str(), s.handle, 0)
            .unwrap()
            .contains("; Max-Age=3599;")
    );
    assert!(
        e.set_cookie(t.as_str(), s.handle, 2_001)
            .unwrap()
            .contains("; Max-Age=3598;")
    );
    // Login restarts the absolute timer, and with it Max-Age.
    let (t2, s2) = e.login(t.as_bytes(), b"alice", 1_500).unwrap();
    assert!(
        e.set_cookie(t2.as_str(), s2.handle, 1_500)
            .unwrap()
            .contains("; Max-Age=3600;")
    );
    assert_eq!(
        e.clear_cookie().unwrap().as_str(),
        "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
    );

    let header = format!("theme=dark; __Host-sid={}; lang=en", t2.as_str());
    let found = e
        .token_from_cookie_header(header.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(
        e.validate(found, 2_000, NONE)
            .unwrap()
            .principal
            .unwrap()
            .as_str(),
        Some("alice")
    );
    // A tossed second cookie with another value makes the request sessionless.
    let tossed = format!("__Host-sid={}; __Host-sid={}", t2.as_str(), t.as_str());
    assert_eq!(
        e.token_from_cookie_header(tossed.as_bytes()),
        Err(CookieError::Duplicate)
    );
    // The pre-login token from a cookie is dead.
    let old = format!("__Host-sid={}", t.as_str());
    let found = e.token_from_cookie_header(old.as_bytes()).unwrap().unwrap();
    assert_eq!(e.validate(found, 2_000, NONE), Err(Invalid::RotatedOut));
    assert_eq!(e.token_from_cookie_header(b"other=1"), Ok(None));
}

#[test]
fn a_session_cookie_can_be_browser_session_only() {
    let mut e = engine(|c| c.cookie.persistent = false);
    let (t, s) = e.create(0, NONE).unwrap();
    assert!(
        !e.set_cookie(t.as_str(), s.handle, 0)
            .unwrap()
            .contains("Max-Age")
    );
}

#[test]
fn huge_clock_values_do_not_panic() {
    let mut e = engine(|_| {});
    for now in [u64::MAX, u64::MAX - 1, u64::MAX / 2] {
        if let Ok((t, s)) = e.create(now, NONE) {
            let _ = e.validate(t.as_bytes(), now, NONE);
            let _ = e.write(s.handle, b"x", now);
            let _ = e.set_timeouts(s.handle, Some(5), Some(10), now);
            let _ = e.login(t.as_bytes(), b"p", now);
            let _ = e.set_cookie(t.as_str(), s.handle, now);
        }
        let _ = e.sweep(now);
    }
    assert!(e.stats().live <= 8);
}

#[derive(Debug, Clone)]
enum Input {
    Create(u64),
    Validate(Vec<u8>, u64, Option<Vec<u8>>, Option<Vec<u8>>),
    Login(Vec<u8>, Vec<u8>, u64),
    Rotate(Vec<u8>, u64),
    Logout(Vec<u8>, u64),
    Write(u64, Vec<u8>, u64),
    Read(u64, usize),
    Revoke(u64, u64),
    RevokePrincipal(Vec<u8>, u64),
    SessionsOf(Vec<u8>),
    SetTimeouts(u64, Option<u32>, Option<u32>, u64),
    Header(Vec<u8>),
    Sweep(u64),
    /// Present the i-th issued token (so that real sessions are reached too).
    Issued(usize, u64),
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn now() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..100_000,
        1 => any::<u64>(),
        1 => (0u64..20_000).prop_map(|d| u64::MAX - d),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => now().prop_map(Input::Create),
        2 => (bytes(64), now(), prop::option::of(bytes(64)), prop::option::of(bytes(300)))
            .prop_map(|(t, n, ip, ua)| Input::Validate(t, n, ip, ua)),
        2 => (bytes(64), bytes(200), now()).prop_map(|(t, p, n)| Input::Login(t, p, n)),
        1 => (bytes(64), now()).prop_map(|(t, n)| Input::Rotate(t, n)),
        1 => (bytes(64), now()).prop_map(|(t, n)| Input::Logout(t, n)),
        2 => (any::<u64>(), bytes(700), now()).prop_map(|(h, d, n)| Input::Write(h, d, n)),
        1 => (any::<u64>(), 0usize..700).prop_map(|(h, n)| Input::Read(h, n)),
        1 => (any::<u64>(), now()).prop_map(|(h, n)| Input::Revoke(h, n)),
        1 => (bytes(200), now()).prop_map(|(p, n)| Input::RevokePrincipal(p, n)),
        1 => bytes(200).prop_map(Input::SessionsOf),
        1 => (any::<u64>(), any::<Option<u32>>(), any::<Option<u32>>(), now())
            .prop_map(|(h, a, b, n)| Input::SetTimeouts(h, a, b, n)),
        2 => bytes(20_000).prop_map(Input::Header),
        1 => now().prop_map(Input::Sweep),
        4 => (any::<usize>(), now()).prop_map(|(i, n)| Input::Issued(i, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Invariant 8: any bytes as token, principal, payload, header or client, any handle,
    /// any clock value: a typed result, never a panic (debug builds also trap overflow).
    #[test]
    fn no_input_panics(inputs in prop::collection::vec(input(), 1..60), short in any::<bool>()) {
        let mut e = engine(|c| {
            c.token_bytes = if short { 16 } else { 32 };
            c.max_addresses = 3;
            c.max_sessions_per_principal = 2;
        });
        let mut issued = Vec::new();
        let mut handles = Vec::new();
        let mut out = vec![0u8; 700];
        for input in inputs {
            match input {
                Input::Create(n) => {
                    if let Ok((t, s)) = e.create(n, NONE) {
                        issued.push(t);
                        handles.push(s.handle);
                    }
                }
                Input::Validate(t, n, ip, ua) => {
                    let c = Client { ip: ip.as_deref(), user_agent: ua.as_deref() };
                    let _ = e.validate(&t, n, &c);
                }
                Input::Login(t, p, n) => {
                    let r = e.login(&t, &p, n);
                    if p.is_empty() || p.len() > 128 {
                        prop_assert_eq!(r.err(), Some(Error::InvalidPrincipal));
                    }
                }
                Input::Rotate(t, n) => { let _ = e.rotate(&t, n); }
                Input::Logout(t, n) => { let _ = e.logout(&t, n); }
                Input::Write(h, d, n) => {
                    let h = handles.get(h as usize % (handles.len() + 1)).copied().unwrap_or(SessionRef::from_u64(h));
                    let r = e.write(h, &d, n);
                    if d.len() > 512 {
                        prop_assert!(r.is_err());
                    }
                }
                Input::Read(h, len) => {
                    let now = e.now();
                    let _ = e.read(SessionRef::from_u64(h), &mut out[..len], now);
                    if let Some(h) = handles.get(len % (handles.len() + 1)) {
                        let _ = e.read(*h, &mut out[..len], now);
                    }
                }
                Input::Revoke(h, n) => { let _ = e.revoke(SessionRef::from_u64(h), n); }
                Input::RevokePrincipal(p, n) => { let _ = e.revoke_principal(&p, n); }
                Input::SessionsOf(p) => { let now = e.now(); let _ = e.sessions_of(&p, now).count(); }
                Input::SetTimeouts(h, a, b, n) => {
                    let h = handles.get(h as usize % (handles.len() + 1)).copied().unwrap_or(SessionRef::from_u64(h));
                    let _ = e.set_timeouts(h, a, b, n);
                }
                Input::Header(hd) => {
                    let r = e.token_from_cookie_header(&hd);
                    if hd.len() > 16 * 1024 {
                        prop_assert_eq!(r, Err(CookieError::HeaderTooLong));
                    }
                }
                Input::Sweep(n) => { let _ = e.sweep(n); }
                Input::Issued(i, n) => {
                    if !issued.is_empty() {
                        let t = &issued[i % issued.len()];
                        let _ = e.validate(t.as_bytes(), n, NONE);
                        if let Ok((t2, _)) = e.rotate(t.as_bytes(), n) {
                            issued.push(t2);
                        }
                    }
                }
            }
            let s = e.stats();
            prop_assert!(s.live <= s.capacity);
            prop_assert_eq!(s.live, s.anonymous + s.authenticated);
            prop_assert!(s.pool_used_bytes <= s.pool_total_bytes);
        }
    }

    /// Any config either validates or names the rule it breaks; a valid small one builds.
    #[test]
    fn any_config_is_a_typed_answer(
        capacity in prop_oneof![0u32..64, any::<u32>()],
        pool_blocks in 0u32..64,
        max_payload in any::<u32>(),
        token_bytes in any::<u8>(),
        timeouts in any::<(u32, u32, u32, u32)>(),
        tombstones in prop_oneof![0u32..64, any::<u32>()],
        events in prop_oneof![0u32..64, any::<u32>()],
        max_addresses in any::<u8>(),
    ) {
        let c = Config {
            capacity,
            pool_bytes: pool_blocks * 64,
            max_payload: max_payload % (pool_blocks * 64 + 65),
            token_bytes,
            idle_timeout_ms: timeouts.0,
            absolute_timeout_ms: timeouts.1,
            max_idle_timeout_ms: timeouts.2,
            max_absolute_timeout_ms: timeouts.3,
            tombstones,
            events,
            max_addresses,
            ..Config::default()
        };
        match c.validate() {
            Ok(()) if capacity < 64 && tombstones < 64 && events < 64 => {
                let mut e = Engine::new(c, [1; 32]).unwrap();
                let _ = e.create(0, NONE);
            }
            Ok(()) => {}
            Err(err) => {
                prop_assert!(!err.code().is_empty());
                prop_assert_eq!(Engine::new(c, [1; 32]).err(), Some(Error::Config(err)));
            }
        }
    }
}

/// The payload a request would read back.
fn stored(e: &mut Engine<HeapStorage>, h: SessionRef, now: u64) -> Vec<u8> {
    let mut out = [0u8; 512];
    let n = e.read(h, &mut out, now).unwrap();
    out[..n].to_vec()
}

#[test]
fn a_save_never_lands_on_a_session_logged_in_meanwhile() {
    // Request A loads an anonymous session and is slow; request B logs the user in
    // and stores what a logged-in page needs. A's save must not overwrite it.
    let mut e = engine(|_| {});
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"cart", 0).unwrap();
    let a = e.load(t.as_bytes(), 1, NONE).unwrap().session;
    let (t2, b) = e.login(t.as_bytes(), b"alice", 2).unwrap();
    assert_eq!(
        b.handle, a.handle,
        "a login keeps the session, so a handle alone would land"
    );
    e.write(b.handle, b"cart+profile", 2).unwrap();
    assert_eq!(
        e.save(a.handle, a.epoch, b"cart+stale", 3),
        Ok(Saved::Dropped)
    );
    assert_eq!(stored(&mut e, b.handle, 3), b"cart+profile");
    // B's own save lands.
    let b = e.load(t2.as_bytes(), 4, NONE).unwrap().session;
    assert_eq!(e.save(b.handle, b.epoch, b"x", 4), Ok(Saved::Written));
}

#[test]
fn a_save_after_logout_or_revocation_resurrects_nothing() {
    let mut e = engine(|_| {});
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"data", 0).unwrap();
    let loaded = e.load(t.as_bytes(), 1, NONE).unwrap().session;
    e.logout(t.as_bytes(), 2).unwrap();
    assert_eq!(
        e.save(loaded.handle, loaded.epoch, b"new", 3),
        Ok(Saved::Dropped)
    );
    assert_eq!(e.validate(t.as_bytes(), 4, NONE), Err(Invalid::LoggedOut));
    assert_eq!(e.stats().live, 0);

    let (t, _) = e.create(10, NONE).unwrap();
    let loaded = e.load(t.as_bytes(), 11, NONE).unwrap().session;
    e.revoke(loaded.handle, 12).unwrap();
    // The freed slot is reused by the next session: the save must not land there.
    let (_, other) = e.create(13, NONE).unwrap();
    assert_eq!(
        e.save(loaded.handle, loaded.epoch, b"new", 14),
        Ok(Saved::Dropped)
    );
    assert_eq!(stored(&mut e, other.handle, 14), b"");
}

#[test]
fn of_two_requests_that_loaded_one_state_the_second_save_is_dropped_not_lost() {
    // Two requests load counter 1; each saves its increment. Last-writer-wins would keep
    // 2 and lose one increment silently; the second save must be dropped instead, so its
    // request reloads and saves 3 (as over Redis).
    let mut e = engine(|_| {});
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"1", 0).unwrap();
    let a = e.load(t.as_bytes(), 1, NONE).unwrap().session;
    let b = e.load(t.as_bytes(), 1, NONE).unwrap().session;
    assert_eq!(e.save(a.handle, a.epoch, b"2", 2), Ok(Saved::Written));
    assert_eq!(e.save(b.handle, b.epoch, b"2", 2), Ok(Saved::Dropped));
    let again = e.load(t.as_bytes(), 3, NONE).unwrap().session;
    assert_eq!(stored(&mut e, again.handle, 3), b"2");
    assert_eq!(
        e.save(again.handle, again.epoch, b"3", 3),
        Ok(Saved::Written)
    );
    assert_eq!(stored(&mut e, again.handle, 3), b"3");
}

#[test]
fn a_save_writes_only_changed_bytes_and_keeps_the_old_payload_on_error() {
    let mut e = engine(|c| c.max_payload = 8);
    let (t, s) = e.create(0, NONE).unwrap();
    assert_eq!(e.save(s.handle, s.epoch, b"", 1), Ok(Saved::Unchanged));
    assert_eq!(e.save(s.handle, s.epoch, b"abc", 1), Ok(Saved::Written));
    // The write moved the epoch: a save prepared before it is dropped.
    assert_eq!(e.save(s.handle, s.epoch, b"xyz", 2), Ok(Saved::Dropped));
    let s = e.session(s.handle, 2).unwrap();
    assert_eq!(e.save(s.handle, s.epoch, b"abc", 2), Ok(Saved::Unchanged));
    assert_eq!(
        e.save(s.handle, s.epoch, b"123456789", 3),
        Err(Error::PayloadTooLarge)
    );
    assert_eq!(stored(&mut e, s.handle, 3), b"abc");
    // A save past the idle deadline finds the session ended.
    assert_eq!(
        e.save(s.handle, s.epoch, b"late", 5_000),
        Ok(Saved::Dropped)
    );
    assert_eq!(
        e.validate(t.as_bytes(), 5_001, NONE),
        Err(Invalid::Expired(sessile::Expiry::Idle))
    );
}

#[test]
fn load_cookie_hands_out_the_session_and_its_payload() {
    let mut e = engine(|_| {});
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"{\"n\":1}", 0).unwrap();
    let header = format!("a=b; __Host-sid={}", t.as_str());
    let loaded = e
        .load_cookie(header.as_bytes(), 500, NONE)
        .unwrap()
        .unwrap();
    assert_eq!(loaded.token, t.as_bytes());
    assert_eq!(
        loaded.session.last_seen_ms, 500,
        "a load restarts the idle timer"
    );
    assert_eq!(
        loaded.payload.copy_into(&mut [0; 16]),
        Some(&b"{\"n\":1}"[..])
    );
    assert!(e.load_cookie(b"a=b", 600, NONE).unwrap().is_none());
    assert_eq!(
        e.load_cookie(b"__Host-sid=nope", 600, NONE).unwrap_err(),
        Error::Session(Invalid::Malformed)
    );
}
