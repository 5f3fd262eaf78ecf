//! The engine's own tests: deadlines, the clock, handles (the behaviour tests through
//! the public API are in `core/tests/`).

use super::*;
use crate::config::RotatedReusePolicy;
use crate::error::Expiry;

const NONE: &Client<'static> = &Client::NONE;

fn engine(f: impl FnOnce(&mut Config)) -> Engine<crate::storage::HeapStorage> {
    let mut c = Config {
        capacity: 8,
        pool_bytes: 1024,
        max_payload: 512,
        ..Config::default()
    };
    c.idle_timeout_ms = 1_000;
    c.absolute_timeout_ms = 10_000;
    f(&mut c);
    Engine::new(c, [1; 32]).unwrap()
}

#[test]
fn idle_and_absolute_deadlines_are_exact() {
    let mut e = engine(|_| {});
    let (t, _) = e.create(0, NONE).unwrap();
    assert!(e.validate(t.as_bytes(), 999, NONE).is_ok());
    assert!(e.validate(t.as_bytes(), 1998, NONE).is_ok());
    assert_eq!(
        e.validate(t.as_bytes(), 2998, NONE),
        Err(Invalid::Expired(Expiry::Idle))
    );
    // Strict: stays dead.
    assert_eq!(
        e.validate(t.as_bytes(), 2999, NONE),
        Err(Invalid::Expired(Expiry::Idle))
    );

    let (t, _) = e.create(3000, NONE).unwrap();
    let mut now = 3000;
    while now + 900 < 13_000 {
        now += 900;
        assert!(e.validate(t.as_bytes(), now, NONE).is_ok(), "at {now}");
    }
    assert_eq!(
        e.validate(t.as_bytes(), 13_000, NONE),
        Err(Invalid::Expired(Expiry::Absolute))
    );
}

#[test]
fn clock_going_back_never_extends() {
    let mut e = engine(|_| {});
    let (t, _) = e.create(5_000, NONE).unwrap();
    // A clock that jumps back to 0 must not make 5_999 look like "999 ms idle" later.
    assert!(e.validate(t.as_bytes(), 0, NONE).is_ok());
    assert_eq!(
        e.validate(t.as_bytes(), 6_000, NONE),
        Err(Invalid::Expired(Expiry::Idle))
    );
}

#[test]
fn write_that_does_not_fit_keeps_old_payload() {
    let mut e = engine(|c| {
        c.pool_bytes = 256;
        c.max_payload = 256;
    });
    let (_, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"keep me", 0).unwrap();
    assert_eq!(e.write(s.handle, &[0; 300], 0), Err(Error::PayloadTooLarge));
    let (_, s2) = e.create(0, NONE).unwrap();
    e.login(e_token_hack(), b"x", 0).ok();
    let _ = s2;
    let mut out = [0u8; 64];
    let n = e.read(s.handle, &mut out, 0).unwrap();
    assert_eq!(&out[..n], b"keep me");
}

fn e_token_hack() -> &'static [u8] {
    b"not-a-token"
}

#[test]
fn stale_handle_never_reaches_new_session() {
    let mut e = engine(|c| c.capacity = 1);
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, b"old", 0).unwrap();
    e.logout(t.as_bytes(), 1).unwrap();
    let (_, s2) = e.create(2, NONE).unwrap();
    assert_eq!(s2.handle.slot, s.handle.slot);
    assert_eq!(e.write(s.handle, b"x", 3), Err(Error::StaleHandle));
    assert_eq!(e.session(s.handle, 3), Err(Error::StaleHandle));
}

/// Calls by handle see deadlines as validation does: a session past its deadline is
/// dead though not yet swept (no reading, writing, revoking or listing it), and ends as
/// expired, so its token reads as expired afterwards. A `now` earlier than a time the
/// engine was already given does not revive it (the engine's clock never goes back).
#[test]
fn by_handle_a_session_past_its_deadline_is_expired() {
    let idle = Error::Session(Invalid::Expired(Expiry::Idle));
    let mut e = engine(|_| {}); // idle 1 s, absolute 10 s
    let (a, sa) = e.create(0, NONE).unwrap();
    let (b, sb) = e.create(0, NONE).unwrap();
    let (c, sc) = e.create(0, NONE).unwrap();
    let (_, sd) = e.login(c.as_bytes(), b"alice", 0).unwrap();
    e.write(sa.handle, b"x", 999).unwrap();
    assert_eq!(e.sessions_of(b"alice", 999).count(), 1);
    // Another call moves the engine's clock past all four idle deadlines; no sweep.
    e.create(1_000, NONE).unwrap();
    assert_eq!(e.stats().live, 4); // c and d are one session (login rotated it)
    assert_eq!(
        e.sessions_of(b"alice", 500).count(),
        0,
        "listed past its deadline"
    );
    assert_eq!(e.session(sa.handle, 0), Err(idle));
    assert_eq!(e.read(sa.handle, &mut [0; 8], 0), Err(Error::StaleHandle));
    assert_eq!(e.write(sb.handle, b"y", 1_000), Err(idle));
    assert_eq!(e.revoke(sd.handle, 1_000), Err(idle));
    assert_eq!(e.stats().live, 1);
    assert_eq!(e.payload(sc.handle, 1_000).err(), Some(Error::StaleHandle));
    for t in [&a, &b] {
        assert_eq!(
            e.validate(t.as_bytes(), 1_001, NONE),
            Err(Invalid::Expired(Expiry::Idle))
        );
    }
}

/// A slot keeps when its session began as a `u32` of ms after the engine's time origin,
/// which the engine moves (`State::rebase`) before an offset would pass `u32::MAX` (49.7
/// days). Across that move every time stays exact to the millisecond, and a session that
/// died before it, never swept, stays dead: were the move to make old records younger,
/// the first assertions on `dead` would fail.
#[test]
fn times_stay_exact_when_the_origin_moves() {
    const DAY: u64 = 86_400_000;
    let mut e = engine(|c| {
        c.idle_timeout_ms = 30 * crate::config::DAY_MS;
        c.absolute_timeout_ms = 30 * crate::config::DAY_MS;
    });
    // Dies at 30 days (idle and absolute at once: absolute), and is never swept.
    let (dead, _) = e.create(0, NONE).unwrap();
    let t1 = 25 * DAY + 123;
    let (live, _) = e.create(t1, NONE).unwrap();
    // 2^32 + 5 ms after the origin (0): this start does not fit; the origin moves.
    let t2 = (1u64 << 32) + 5;
    let (_, newer) = e.create(t2, NONE).unwrap();
    assert_eq!(e.st.origin, t1, "the earliest live start");
    assert_eq!(newer.created_ms, t2);
    assert_eq!(
        e.validate(dead.as_bytes(), t2, NONE),
        Err(Invalid::Expired(Expiry::Absolute))
    );
    let s = e.validate(live.as_bytes(), t2 + 1, NONE).unwrap();
    assert_eq!(
        (s.created_ms, s.last_seen_ms, s.absolute_deadline_ms),
        (t1, t2 + 1, t1 + 30 * DAY)
    );
    assert!(e.validate(live.as_bytes(), t1 + 30 * DAY - 1, NONE).is_ok());
    assert_eq!(
        e.validate(live.as_bytes(), t1 + 30 * DAY, NONE),
        Err(Invalid::Expired(Expiry::Absolute))
    );

    // Years of engine time, a session begun every 20 days: each start and each deadline
    // to the millisecond, through the origin moving every 49.7 days or so.
    let mut now = t2;
    for _ in 0..60 {
        now += 20 * DAY + 7;
        let (t, s) = e.create(now, NONE).unwrap();
        assert_eq!(s.created_ms, now);
        assert!(e.st.origin <= now && now - e.st.origin <= u64::from(u32::MAX));
        assert!(e.validate(t.as_bytes(), now + 30 * DAY - 1, NONE).is_ok());
        let (t, _) = e.create(now + 30 * DAY - 1, NONE).unwrap();
        assert_eq!(
            e.validate(t.as_bytes(), now + 60 * DAY - 1, NONE),
            Err(Invalid::Expired(Expiry::Absolute))
        );
        now += 60 * DAY;
    }
}

/// The principal index at its fullest: every session logged in as someone else, 8,000 in
/// 10,048 cells (load 0.8). Clusters then run past the 64 cells whose homes a cell's bits
/// tell apart, so a removal there recomputes other principals' keys from their bytes in
/// the pool; through logouts in a scrambled order every principal left stays findable,
/// and none that left is. (Too slow interpreted; test-core runs it.)
#[test]
#[cfg_attr(miri, ignore)]
fn a_full_principal_index_keeps_every_principal_findable() {
    extern crate std;
    use std::format;
    use std::vec::Vec;
    let n = 8_000u32;
    let mut e = engine(|c| {
        c.capacity = n;
        c.pool_bytes = n * 64 + 1024;
        c.max_sessions_per_principal = 0;
        c.tombstones = 16;
    });
    let name = |i: u32| format!("user-{i}");
    let mut tokens = Vec::new();
    for i in 0..n {
        let (anon, _) = e.create(1, NONE).unwrap();
        let (t, _) = e.login(anon.as_bytes(), name(i).as_bytes(), 2).unwrap();
        tokens.push(Some(t));
    }
    let longest = {
        let p = e.storage.parts();
        let (mut run, mut longest) = (0usize, 0usize);
        // Twice round, so a run across the table's end counts whole.
        for k in 0..2 * p.principals.len() {
            if p.principals[k % p.principals.len()] == index::EMPTY {
                run = 0;
            } else {
                run += 1;
                longest = longest.max(run);
            }
        }
        longest
    };
    assert!(
        longest > 64,
        "longest cluster {longest}: the test needs one past 64"
    );
    let mut x = 0x2545_f491u32;
    for round in 0..n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let mut i = x % n;
        while tokens[i as usize].is_none() {
            i = (i + 1) % n;
        }
        let t = tokens[i as usize].take().unwrap();
        e.logout(t.as_bytes(), 3).unwrap();
        assert_eq!(e.sessions_of(name(i).as_bytes(), 3).count(), 0);
        if round % 400 == 0 || round + 1 == n {
            for (j, t) in tokens.iter().enumerate() {
                let found = e.sessions_of(name(j as u32).as_bytes(), 3).count();
                assert_eq!(found, usize::from(t.is_some()), "{}", name(j as u32));
            }
        }
    }
}

/// The sweep one session at a time (32-bit targets) ends what the batched sweep ends, in
/// the same order, with the same events and counts.
#[test]
fn sweeping_one_at_a_time_is_sweeping_in_batches() {
    let run = |each: bool| {
        let mut e = engine(|c| c.capacity = 200);
        let mut tokens = std::vec::Vec::new();
        for k in 0..150u64 {
            let (t, _) = e.create(k * 37, NONE).unwrap();
            tokens.push(t);
        }
        // Some used later (their idle deadlines move), some logged out before.
        for (k, t) in tokens.iter().enumerate().step_by(3) {
            let _ = e.validate(t.as_bytes(), 5_000 + k as u64, NONE);
        }
        for t in tokens.iter().skip(1).step_by(7) {
            let _ = e.logout(t.as_bytes(), 5_600);
        }
        while e.pop_event().is_some() {}
        let mut swept = std::vec::Vec::new();
        for now in [3_000u64, 5_900, 6_200, 20_000] {
            let n = if each {
                let now = e.st.tick(e.st.at(now));
                let mut p = e.storage.parts();
                e.st.sweep_each(&mut p, now)
            } else {
                e.sweep(now)
            };
            swept.push(n);
            while let Some(ev) = e.pop_event() {
                swept.push(ev.session as usize ^ ev.kind as usize);
            }
        }
        (swept, e.stats())
    };
    let (each, batched) = (run(true), run(false));
    assert!(each.0[0] > 0 && batched.1.live == 0);
    assert_eq!(each, batched);
}

/// `is_live` answers what `peek` finds, live or not, and touches nothing.
#[test]
fn is_live_is_what_peek_finds() {
    let mut e = engine(|_| {});
    let (live, _) = e.create(0, NONE).unwrap();
    let (idle, _) = e.create(0, NONE).unwrap();
    let (out, _) = e.create(0, NONE).unwrap();
    e.logout(out.as_bytes(), 10).unwrap();
    e.validate(live.as_bytes(), 900, NONE).unwrap();
    // At 1,500 `idle` is past its idle deadline (1,000), not yet swept.
    for (token, want) in [
        (live.as_bytes(), true),
        (idle.as_bytes(), false),
        (out.as_bytes(), false),
        (&b"not a token"[..], false),
        (&[b'A'; 43][..], false),
    ] {
        assert_eq!(Store::is_live(&mut e, token, 1_500), Ok(want));
        assert_eq!(Store::peek(&mut e, token, 1_500).is_ok(), want);
    }
    // Asking restarted no idle timer: `live` was last used at 900.
    assert_eq!(
        e.validate(live.as_bytes(), 1_900, NONE),
        Err(Invalid::Expired(Expiry::Idle))
    );
}

/// `resolve` through `lookup` (32-bit targets) answers what `resolve`'s own spelling
/// (64-bit targets) answers for every kind of token, and leaves the same table and
/// events: live, past its idle deadline and not yet swept, rotated out at login (with
/// either reuse policy: reported, or the successor revoked too), logged out, unknown,
/// and not a token at all.
#[test]
fn resolving_through_the_lookup_is_resolving() {
    for policy in [
        RotatedReusePolicy::Report,
        RotatedReusePolicy::RevokeSession,
    ] {
        let run = |by_lookup: bool| {
            let mut e = engine(|c| c.rotated_reuse = policy);
            let (live, _) = e.create(0, NONE).unwrap();
            let (idle, _) = e.create(0, NONE).unwrap();
            let (anon, _) = e.create(0, NONE).unwrap();
            let (out, _) = e.create(0, NONE).unwrap();
            let (user, _) = e.login(anon.as_bytes(), b"alice", 100).unwrap();
            e.logout(out.as_bytes(), 200).unwrap();
            e.validate(live.as_bytes(), 900, NONE).unwrap();
            while e.pop_event().is_some() {}
            let mut seen = std::vec::Vec::new();
            // At 1,500 `idle` is past its idle deadline (1,000), not yet swept; `user`
            // logged in at 100 and is live until 1,100: asked again at 1,050.
            for (token, now) in [
                (live.as_bytes(), 1_500),
                (idle.as_bytes(), 1_500),
                (idle.as_bytes(), 1_500),
                (anon.as_bytes(), 1_050),
                (user.as_bytes(), 1_050),
                (out.as_bytes(), 1_500),
                (&[b'A'; 43][..], 1_500),
                (&b"not a token"[..], 1_500),
            ] {
                let now = e.st.tick(e.st.at(now));
                let mut p = e.storage.parts();
                let got = if by_lookup {
                    e.st.resolve_by_lookup(&mut p, token, now)
                } else {
                    e.st.resolve(&mut p, token, now)
                };
                seen.push(std::format!("{got:?}"));
                while let Some(ev) = e.pop_event() {
                    seen.push(std::format!("{:?} {} {}", ev.kind, ev.session, ev.at_ms));
                }
            }
            (seen, e.stats())
        };
        let (by_lookup, own) = (run(true), run(false));
        // Each kind of answer is there: a live slot, an idle expiry, a rotated-out reuse,
        // a logout, an unknown token and a malformed one.
        let answers = own.0.join(" ");
        for want in [
            "Ok(",
            "Idle",
            "RotatedOut",
            "LoggedOut",
            "Unknown",
            "Malformed",
        ] {
            assert!(answers.contains(want), "{want} missing from {answers}");
        }
        assert_eq!(by_lookup, own, "{policy:?}");
    }
}
