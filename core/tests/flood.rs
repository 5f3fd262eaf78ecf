//! Flooding: anonymous sessions created as fast as possible, at ten times capacity, never
//! cost an authenticated user their session, and logins keep working.

use sessile::{Client, Config, Engine, Error, EventKind, Store};

#[test]
fn anonymous_flood_never_evicts_authenticated_sessions() {
    let capacity = 1_000u32;
    let config = Config {
        capacity,
        ..Config::default()
    };
    let mut e = Engine::new(config, [9; 32]).unwrap();
    let mut users = Vec::new();
    for u in 0..100u32 {
        let (anon, _) = e.create(0, &Client::NONE).unwrap();
        let (t, s) = e
            .login(anon.as_bytes(), format!("user{u}").as_bytes(), 0)
            .unwrap();
        e.write(s.handle, format!("data of {u}").as_bytes(), 0)
            .unwrap();
        users.push(t);
    }
    for n in 0..10 * capacity as u64 {
        e.create(1 + n / 100, &Client::NONE).unwrap();
    }
    assert_eq!(e.stats().live, capacity);
    assert!(e.stats().evictions >= 9 * capacity as u64);
    assert!(
        e.drain_events()
            .any(|ev| ev.kind == EventKind::CapacityPressure)
    );
    for (u, t) in users.iter().enumerate() {
        let s = e
            .validate(t.as_bytes(), 200, &Client::NONE)
            .expect("authenticated session survives");
        assert_eq!(
            s.principal.unwrap().as_bytes(),
            format!("user{u}").as_bytes()
        );
        let mut out = [0u8; 32];
        let n = e.read(s.handle, &mut out, 200).unwrap();
        assert_eq!(&out[..n], format!("data of {u}").as_bytes());
    }
    // A newcomer can still get a session and log in during the flood.
    let (anon, _) = e.create(201, &Client::NONE).unwrap();
    let (t, _) = e.login(anon.as_bytes(), b"latecomer", 201).unwrap();
    assert!(e.validate(t.as_bytes(), 202, &Client::NONE).is_ok());
}

#[test]
fn table_full_of_authenticated_sessions_is_a_typed_error() {
    let mut e = Engine::new(
        Config {
            capacity: 10,
            ..Config::default()
        },
        [3; 32],
    )
    .unwrap();
    for u in 0..10u8 {
        let (anon, _) = e.create(0, &Client::NONE).unwrap();
        e.login(anon.as_bytes(), &[b'u', u], 0).unwrap();
    }
    assert_eq!(
        e.create(1, &Client::NONE).unwrap_err(),
        Error::CapacityExhausted
    );
    assert_eq!(e.stats().authenticated, 10);
}

#[test]
fn expired_sessions_are_reclaimed_before_anyone_is_evicted() {
    let config = Config {
        capacity: 10,
        idle_timeout_ms: 1_000,
        absolute_timeout_ms: 10_000,
        ..Config::default()
    };
    let mut e = Engine::new(config, [4; 32]).unwrap();
    for _ in 0..5 {
        e.create(0, &Client::NONE).unwrap();
    }
    let mut fresh = Vec::new();
    for _ in 0..5 {
        fresh.push(e.create(900, &Client::NONE).unwrap().0);
    }
    // At 1_500 the first five are idle-expired: creating five more reclaims exactly those.
    for _ in 0..5 {
        e.create(1_500, &Client::NONE).unwrap();
    }
    assert_eq!(e.stats().evictions, 0);
    assert_eq!(e.stats().expirations, 5);
    for t in &fresh {
        assert!(e.validate(t.as_bytes(), 1_600, &Client::NONE).is_ok());
    }
}

#[test]
fn revoke_all_ends_every_session_and_reports_revoked() {
    let mut e = Engine::new(
        Config {
            capacity: 16,
            ..Config::default()
        },
        [6; 32],
    )
    .unwrap();
    let mut tokens = Vec::new();
    for u in 0..6u8 {
        let (t, _) = e.create(0, &Client::NONE).unwrap();
        tokens.push(if u % 2 == 0 {
            e.login(t.as_bytes(), &[b'u', u], 0).unwrap().0
        } else {
            t
        });
    }
    assert_eq!(e.revoke_all(1), 6);
    assert_eq!(e.stats().live, 0);
    for t in &tokens {
        assert_eq!(
            e.validate(t.as_bytes(), 2, &Client::NONE),
            Err(sessile::Invalid::Revoked)
        );
    }
}

#[test]
fn log_out_everywhere_counts_live_sessions_only_and_ends_lapsed_ones_as_expired() {
    let mut e = Engine::new(
        Config {
            capacity: 16,
            idle_timeout_ms: 1_000,
            absolute_timeout_ms: 10_000,
            ..Config::default()
        },
        [7; 32],
    )
    .unwrap();
    // Two sessions of one user: one used recently, one idle past its deadline (not swept).
    let (a, _) = e.create(0, &Client::NONE).unwrap();
    let (a, _) = e.login(a.as_bytes(), b"u", 0).unwrap();
    let (b, _) = e.create(500, &Client::NONE).unwrap();
    let (b, _) = e.login(b.as_bytes(), b"u", 500).unwrap();
    e.validate(b.as_bytes(), 1_200, &Client::NONE).unwrap();
    e.drain_events().for_each(drop);
    assert_eq!(
        e.revoke_principal(b"u", 1_300),
        1,
        "only the live session is counted"
    );
    let mut kinds: Vec<EventKind> = e.drain_events().map(|ev| ev.kind).collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(kinds, [EventKind::ExpiredIdle, EventKind::Revoked]);
    assert_eq!(
        e.validate(a.as_bytes(), 1_400, &Client::NONE),
        Err(sessile::Invalid::Expired(sessile::Expiry::Idle))
    );
    assert_eq!(
        e.validate(b.as_bytes(), 1_400, &Client::NONE),
        Err(sessile::Invalid::Revoked)
    );

    // The same for everyone's sessions.
    let (c, _) = e.create(2_000, &Client::NONE).unwrap();
    let (d, _) = e.create(2_900, &Client::NONE).unwrap();
    assert_eq!(e.revoke_all(3_100), 1);
    assert_eq!(
        e.validate(c.as_bytes(), 3_200, &Client::NONE),
        Err(sessile::Invalid::Expired(sessile::Expiry::Idle))
    );
    assert_eq!(
        e.validate(d.as_bytes(), 3_200, &Client::NONE),
        Err(sessile::Invalid::Revoked)
    );
}

#[test]
fn eviction_gives_used_sessions_a_second_chance_within_a_bounded_walk() {
    // A full table of anonymous sessions. The first 10 are never used again; the rest
    // are: a create evicts the first unused one (CLOCK's second chance).
    let capacity = 100u32;
    let config = Config {
        capacity,
        ..Config::default()
    };
    let mut e = Engine::new(config, [3; 32]).unwrap();
    let tokens: Vec<_> = (0..capacity)
        .map(|_| e.create(0, &Client::NONE).unwrap().0)
        .collect();
    for t in &tokens[..10] {
        e.validate(t.as_bytes(), 1, &Client::NONE).unwrap();
    }
    e.create(2, &Client::NONE).unwrap();
    assert_eq!(
        e.validate(tokens[10].as_bytes(), 3, &Client::NONE)
            .unwrap_err(),
        sessile::Invalid::Evicted,
        "the first session not used since it was created goes"
    );
    for t in tokens[..10].iter().chain(&tokens[11..]) {
        e.validate(t.as_bytes(), 3, &Client::NONE).unwrap();
    }
    // Now every session is used (bits set; the hand stands at tokens[11]). The walk that
    // makes room passes 64 of them, clearing their bits, and takes the 65th: a create on
    // a full table never walks the whole list.
    e.create(4, &Client::NONE).unwrap();
    assert_eq!(
        e.validate(tokens[11 + 64].as_bytes(), 5, &Client::NONE)
            .unwrap_err(),
        sessile::Invalid::Evicted
    );
    assert_eq!(e.stats().evictions, 2);
    assert_eq!(e.stats().live, capacity);
}
