//! Snapshot and restore of the in-process table, as a user would notice it across a
//! restart: every session, payload, principal, listing and dead token answers as before,
//! deadlines keep counting in wall-clock time while the process is down, and a file that
//! is not exactly what was written under this key is refused with a typed error,
//! leaving an empty engine that works.

use proptest::prelude::*;
use sessile::snapshot::{Clocks, DEFAULT_MAX_AGE_MS, Restored};
use sessile::{
    Client, ClientPolicy, Config, Engine, Error, EventKind, Expiry, HeapStorage, Invalid,
    RotatedReusePolicy, Session, SessionRef, SnapshotError, Store,
};

const NONE: &Client<'static> = &Client::NONE;
const KEY: [u8; 32] = [0x5a; 32];
/// A wall-clock time (Unix ms) for the snapshot.
const WALL: u64 = 1_796_000_000_000;
const HOUR: u64 = 3_600_000;

fn config() -> Config {
    Config {
        capacity: 16,
        pool_bytes: 4096,
        max_payload: 512,
        idle_timeout_ms: 60_000,
        absolute_timeout_ms: 600_000,
        ..Config::default()
    }
}

fn engine_with(c: Config, seed: u8) -> Engine<HeapStorage> {
    Engine::new(c, [seed; 32]).unwrap()
}

fn at(now_ms: u64, wall_ms: u64) -> Clocks {
    Clocks { now_ms, wall_ms }
}

fn payload(e: &mut Engine<HeapStorage>, h: SessionRef, now: u64) -> Vec<u8> {
    let mut out = vec![0; 1024];
    let n = e.read(h, &mut out, now).unwrap();
    out.truncate(n);
    out
}

fn snap_err(r: Result<Restored, Error>) -> SnapshotError {
    match r {
        Err(Error::Snapshot(e)) => e,
        other => panic!("expected a snapshot error, got {other:?}"),
    }
}

/// An engine holding nothing, that works.
fn assert_empty_and_working(e: &mut Engine<HeapStorage>, now: u64) {
    let s = e.stats();
    assert_eq!((s.live, s.tombstones, s.pool_used_bytes), (0, 0, 0));
    let (t, _) = e.create(now, NONE).unwrap();
    assert!(e.validate(t.as_bytes(), now, NONE).is_ok());
    e.logout(t.as_bytes(), now).unwrap();
}

/// A table with something of everything: anonymous sessions with payloads, two users
/// with several sessions, a rotated-out and a logged-out token.
struct Scene {
    anon: Vec<(String, Session)>,
    alice: Vec<(String, Session)>,
    bob: (String, Session),
    pre_login: String,
    rotated_out: String,
    logged_out: String,
}

fn scene(e: &mut Engine<HeapStorage>) -> Scene {
    let mut anon = Vec::new();
    for n in 0..3u64 {
        let (t, s) = e.create(1_000 + n, NONE).unwrap();
        e.write(
            s.handle,
            format!("{{\"cart\":[{n}]}}").as_bytes(),
            1_000 + n,
        )
        .unwrap();
        anon.push((t.as_str().to_owned(), s));
    }
    let mut alice = Vec::new();
    let mut pre_login = String::new();
    for n in 0..3u64 {
        let (t, _) = e.create(2_000 + n, NONE).unwrap();
        if n == 0 {
            pre_login = t.as_str().to_owned();
        }
        let (t, s) = e.login(t.as_bytes(), b"alice", 2_100 + n).unwrap();
        e.write(s.handle, &[n as u8; 100], 2_100 + n).unwrap();
        alice.push((t.as_str().to_owned(), s));
    }
    let (t, _) = e.create(3_000, NONE).unwrap();
    let (t, _) = e.login(t.as_bytes(), b"bob", 3_001).unwrap();
    let rotated_out = t.as_str().to_owned();
    let (t, s) = e.rotate(t.as_bytes(), 3_002).unwrap();
    let bob = (t.as_str().to_owned(), s);
    let (t, _) = e.create(4_000, NONE).unwrap();
    let (t, _) = e.login(t.as_bytes(), b"carol", 4_001).unwrap();
    e.logout(t.as_bytes(), 4_002).unwrap();
    let logged_out = t.as_str().to_owned();
    // Fresh answers, so the sessions' last use is known.
    for (t, s) in anon.iter_mut().chain(alice.iter_mut()) {
        *s = e.validate(t.as_bytes(), 5_000, NONE).unwrap();
    }
    Scene {
        anon,
        alice,
        bob,
        pre_login,
        rotated_out,
        logged_out,
    }
}

#[test]
fn a_restored_engine_answers_every_token_as_before() {
    let mut old = engine_with(config(), 1);
    let sc = scene(&mut old);
    let snap_now = 6_000;
    let file = old.snapshot(&KEY, at(snap_now, WALL)).unwrap();
    let listed: Vec<u64> = old.sessions_of(b"alice", snap_now).map(|s| s.tag).collect();
    drop(old);

    // The next process: another seed, its clock near 0, ten seconds later.
    let gap = 10_000;
    let mut new = engine_with(config(), 2);
    let done = new
        .restore(&file, &KEY, at(50, WALL + gap), DEFAULT_MAX_AGE_MS)
        .unwrap();
    assert_eq!(
        done,
        Restored {
            sessions: 7,
            expired: 0,
            // Five pre-login tokens, one rotated out, one logged out.
            tombstones: 7
        }
    );

    for (token, before) in sc.anon.iter().chain(&sc.alice).chain([&sc.bob]) {
        let s = new.peek(token.as_bytes(), 50).unwrap();
        assert_eq!(
            (s.handle, s.tag, s.epoch, s.principal, s.payload_len),
            (
                before.handle,
                before.tag,
                before.epoch,
                before.principal,
                before.payload_len
            ),
        );
        // The time left is the time left at the snapshot less the gap.
        for (b, a) in [
            (before.idle_deadline_ms, s.idle_deadline_ms),
            (before.absolute_deadline_ms, s.absolute_deadline_ms),
        ] {
            assert_eq!(a - 50, b - snap_now - gap, "{token}");
        }
        assert_eq!(
            (s.idle_timeout_ms, s.absolute_timeout_ms),
            (before.idle_timeout_ms, before.absolute_timeout_ms)
        );
    }
    let (t, s) = &sc.anon[1];
    assert_eq!(payload(&mut new, s.handle, 60), br#"{"cart":[1]}"#);
    assert!(new.validate(t.as_bytes(), 60, NONE).is_ok());
    let (_, s) = &sc.alice[2];
    assert_eq!(payload(&mut new, s.handle, 60), [2; 100]);

    // Listing, in login order.
    let relisted: Vec<u64> = new.sessions_of(b"alice", 70).map(|s| s.tag).collect();
    assert_eq!(relisted, listed);
    assert_eq!(new.sessions_of(b"bob", 70).count(), 1);
    assert_eq!(new.sessions_of(b"carol", 70).count(), 0);

    // Dead tokens stay dead, and their reuse is still reported.
    let dead = [
        (&sc.pre_login, Invalid::RotatedOut),
        (&sc.rotated_out, Invalid::RotatedOut),
        (&sc.logged_out, Invalid::LoggedOut),
    ];
    for (token, why) in dead {
        assert_eq!(new.validate(token.as_bytes(), 80, NONE), Err(why));
    }
    let events: Vec<EventKind> = new.drain_events().map(|e| e.kind).collect();
    assert!(events.contains(&EventKind::ReuseAfterLogout), "{events:?}");
    assert!(
        events.contains(&EventKind::ReuseAfterRotation),
        "{events:?}"
    );

    // "Log out everywhere" reaches every restored session of the user.
    assert_eq!(new.revoke_principal(b"alice", 90), 3);
    assert_eq!(
        new.validate(sc.alice[0].0.as_bytes(), 91, NONE),
        Err(Invalid::Revoked)
    );
    // New sessions never take a restored one's slot or token.
    let s = new.stats();
    assert_eq!((s.live, s.authenticated), (4, 1));
    let (t, fresh) = new.create(100, NONE).unwrap();
    assert!(sc.anon.iter().all(|(_, s)| s.handle != fresh.handle));
    assert!(new.validate(t.as_bytes(), 101, NONE).is_ok());
}

#[test]
fn deadlines_keep_counting_while_the_process_is_down() {
    // Idle 60 s, absolute 600 s; the snapshot is taken at 590 s. `idle` was last used at
    // 540 s (idle deadline 600 s), `busy` at 590 s but began at 0 (absolute deadline
    // 600 s): both have 10 s left. `fresh` has 60 s.
    let mut old = engine_with(config(), 1);
    let (busy, _) = old.create(0, NONE).unwrap();
    let (idle, _) = old.create(30_000, NONE).unwrap();
    for now in (30_000..=540_000).step_by(30_000) {
        old.validate(busy.as_bytes(), now, NONE).unwrap();
        old.validate(idle.as_bytes(), now, NONE).unwrap();
    }
    let (fresh, _) = old.create(580_000, NONE).unwrap();
    for t in [&busy, &fresh] {
        old.validate(t.as_bytes(), 590_000, NONE).unwrap();
    }
    let file = old.snapshot(&KEY, at(590_000, WALL)).unwrap();

    let restore = |gap: u64| {
        let mut e = engine_with(config(), 3);
        let done = e.restore(&file, &KEY, at(7, WALL + gap), HOUR).unwrap();
        (e, done)
    };
    // 9 999 ms later: one millisecond left for both.
    let (mut e, done) = restore(9_999);
    assert_eq!(done.expired, 0);
    assert!(e.validate(idle.as_bytes(), 7, NONE).is_ok());
    assert!(e.validate(busy.as_bytes(), 7, NONE).is_ok());
    assert_eq!(
        e.validate(busy.as_bytes(), 8, NONE),
        Err(Invalid::Expired(Expiry::Absolute))
    );

    // 10 s later or more: both died during the gap, each of its own deadline; `fresh`
    // lives on.
    for gap in [10_000, 20_000, 59_999] {
        let (mut e, done) = restore(gap);
        assert_eq!(
            done,
            Restored {
                sessions: 1,
                expired: 2,
                tombstones: 2
            },
            "gap {gap}"
        );
        assert_eq!(
            e.validate(idle.as_bytes(), 7, NONE),
            Err(Invalid::Expired(Expiry::Idle))
        );
        assert_eq!(
            e.validate(busy.as_bytes(), 7, NONE),
            Err(Invalid::Expired(Expiry::Absolute))
        );
        assert!(e.validate(fresh.as_bytes(), 7, NONE).is_ok());
        // In the eviction list's order, which the snapshot keeps: CLOCK's, from its hand
        // (both were passed by no hand yet: the order they were created in, `busy` first).
        let ended: Vec<EventKind> = e.drain_events().map(|ev| ev.kind).collect();
        assert_eq!(
            ended,
            [EventKind::ExpiredAbsolute, EventKind::ExpiredIdle],
            "gap {gap}"
        );
        assert_eq!(e.stats().expirations, 2);
    }
    let (mut e, done) = restore(60_000);
    assert_eq!((done.sessions, done.expired), (0, 3));
    assert_eq!(
        e.validate(fresh.as_bytes(), 7, NONE),
        Err(Invalid::Expired(Expiry::Idle))
    );
}

#[test]
fn a_clock_that_starts_at_zero_still_reports_exact_deadlines_and_cookies() {
    // The session began 300 s before the snapshot; the new process's clock reads 0.
    let mut old = engine_with(config(), 1);
    let (t, _) = old.create(1_000_000, NONE).unwrap();
    for now in (1_050_000..=1_250_000).step_by(50_000).chain([1_290_000]) {
        old.validate(t.as_bytes(), now, NONE).unwrap();
    }
    let file = old.snapshot(&KEY, at(1_300_000, WALL)).unwrap();
    let mut e = engine_with(config(), 2);
    e.restore(&file, &KEY, at(0, WALL + 1_000), HOUR).unwrap();
    let s = e.peek(t.as_bytes(), 0).unwrap();
    // Before the clock's zero: reads 0.
    assert_eq!((s.created_ms, s.last_seen_ms), (0, 0));
    assert_eq!(s.absolute_deadline_ms, 600_000 - 301_000);
    assert_eq!(s.idle_deadline_ms, 60_000 - 11_000);
    let cookie = e.set_cookie(t.as_str(), s.handle, 0).unwrap();
    assert!(cookie.contains("Max-Age=299;"), "{cookie}");
    assert_eq!(e.now(), 0);
    assert!(e.validate(t.as_bytes(), 48_999, NONE).is_ok());
    assert_eq!(e.now(), 48_999);
    let ev = e.drain_events().count();
    assert_eq!(ev, 0);
    // Events carry the caller's time.
    let (t2, _) = e.create(50_000, NONE).unwrap();
    e.logout(t2.as_bytes(), 50_001).unwrap();
    let times: Vec<u64> = e.drain_events().map(|ev| ev.at_ms).collect();
    assert_eq!(times, [50_000, 50_001]);

    // A snapshot of the restored engine restores again.
    let file = e.snapshot(&KEY, at(50_002, WALL + 60_000)).unwrap();
    let mut again = engine_with(config(), 3);
    again
        .restore(&file, &KEY, at(0, WALL + 61_000), HOUR)
        .unwrap();
    assert!(again.validate(t.as_bytes(), 0, NONE).is_ok());
    assert_eq!(
        again.validate(t2.as_bytes(), 0, NONE),
        Err(Invalid::LoggedOut)
    );
}

fn sample_file() -> (Vec<u8>, String) {
    let mut old = engine_with(config(), 1);
    let (t, _) = old.create(0, NONE).unwrap();
    let (t, s) = old.login(t.as_bytes(), b"alice", 1).unwrap();
    old.write(s.handle, b"secret payload", 2).unwrap();
    (
        old.snapshot(&KEY, at(3, WALL)).unwrap(),
        t.as_str().to_owned(),
    )
}

#[test]
fn nothing_readable_is_left_in_the_file() {
    let (file, token) = sample_file();
    for needle in [&b"secret payload"[..], b"alice", token.as_bytes()] {
        assert!(!file.windows(needle.len()).any(|w| w == needle));
    }
}

#[test]
fn every_changed_byte_is_refused_and_the_engine_stays_empty() {
    let (file, token) = sample_file();
    let mut e = engine_with(config(), 9);
    for i in 0..file.len() {
        for flip in [0x01u8, 0x80] {
            let mut f = file.clone();
            f[i] ^= flip;
            let got = snap_err(e.restore(&f, &KEY, at(10, WALL + 1), HOUR));
            let want = match i {
                0..8 => SnapshotError::NotASnapshot,
                // The format version and the keyed digests' field.
                8..12 => SnapshotError::UnknownVersion,
                12..20 if f[i] > file[i] => SnapshotError::Truncated,
                20..36 => SnapshotError::WrongKey,
                _ => SnapshotError::Tampered,
            };
            assert_eq!(got, want, "byte {i} ^ {flip:#x}");
            assert_eq!(e.stats().live, 0);
        }
    }
    assert_eq!(
        e.validate(token.as_bytes(), 10, NONE),
        Err(Invalid::Unknown)
    );
    assert_empty_and_working(&mut e, 10);
}

#[test]
fn truncated_extended_foreign_and_wrong_key_files_are_refused() {
    let (file, _) = sample_file();
    let mut e = engine_with(config(), 9);
    for cut in 0..file.len() {
        assert_eq!(
            snap_err(e.restore(&file[..cut], &KEY, at(10, WALL + 1), HOUR)),
            SnapshotError::Truncated,
            "cut at {cut}"
        );
    }
    let mut longer = file.clone();
    longer.push(0);
    let wrong_key = [0x5b; 32];
    let cases: [(&[u8], &[u8], SnapshotError); 6] = [
        (&longer, &KEY, SnapshotError::Tampered),
        (b"{\"sessions\":[]}", &KEY, SnapshotError::NotASnapshot),
        (&file, &wrong_key, SnapshotError::WrongKey),
        (&file, &KEY[..31], SnapshotError::Key),
        (&file, &[0; 32], SnapshotError::Key),
        (&file, &[], SnapshotError::Key),
    ];
    for (f, key, want) in cases {
        assert_eq!(snap_err(e.restore(f, key, at(10, WALL + 1), HOUR)), want);
    }
    // Version 1 (HChaCha20 token digests, which no token matches any more) and a future
    // version are both refused before anything is read.
    assert_eq!(file[8..10], sessile::snapshot::VERSION.to_le_bytes());
    for version in [1u16, 3] {
        let mut other = file.clone();
        other[8..10].copy_from_slice(&version.to_le_bytes());
        assert_eq!(
            snap_err(e.restore(&other, &KEY, at(10, WALL + 1), HOUR)),
            SnapshotError::UnknownVersion,
            "version {version}"
        );
    }
    assert_empty_and_working(&mut e, 10);
}

/// The header names the keyed digests the body's client digests, tags and principal
/// hashes were made with (SipHash-1-3 on 64-bit builds, an HChaCha8 cascade on 32-bit
/// ones); a file of the other width's is refused as `snapshot_version` before its key is
/// checked or anything is read, and the engine stays empty and working.
#[test]
fn a_snapshot_of_the_other_widths_digests_is_refused() {
    let (file, _) = sample_file();
    let ours = sessile::snapshot::DIGESTS;
    assert_eq!(
        ours,
        if cfg!(target_pointer_width = "64") {
            0
        } else {
            1
        }
    );
    assert_eq!(file[10..12], ours.to_le_bytes());
    let mut e = engine_with(config(), 9);
    for other in [1 - ours, 2, 0x100] {
        let mut f = file.clone();
        f[10..12].copy_from_slice(&other.to_le_bytes());
        for key in [&KEY[..], &[0x5b; 32]] {
            assert_eq!(
                snap_err(e.restore(&f, key, at(10, WALL + 1), HOUR)),
                SnapshotError::UnknownVersion,
                "digests {other}"
            );
        }
    }
    // The build's own file restores (into the same engine: still empty).
    assert_eq!(
        e.restore(&file, &KEY, at(10, WALL + 1), HOUR)
            .unwrap()
            .sessions,
        1
    );
}

#[test]
fn a_snapshot_from_the_future_or_older_than_its_maximum_age_is_refused() {
    let (file, _) = sample_file();
    let mut e = engine_with(config(), 9);
    assert_eq!(
        snap_err(e.restore(&file, &KEY, at(10, WALL - 1), HOUR)),
        SnapshotError::Future
    );
    assert_eq!(
        snap_err(e.restore(&file, &KEY, at(10, WALL + HOUR + 1), HOUR)),
        SnapshotError::Stale
    );
    assert_empty_and_working(&mut e, 10);
    // At exactly its maximum age it is still accepted (the session lives 10 min idle:
    // use a long one).
    let mut c = config();
    c.idle_timeout_ms = 2 * HOUR as u32;
    c.absolute_timeout_ms = 2 * HOUR as u32;
    let mut old = engine_with(c.clone(), 1);
    let (t, _) = old.create(0, NONE).unwrap();
    let file = old.snapshot(&KEY, at(0, WALL)).unwrap();
    let mut e = engine_with(c, 2);
    e.restore(&file, &KEY, at(0, WALL + HOUR), HOUR).unwrap();
    assert!(e.validate(t.as_bytes(), 0, NONE).is_ok());
}

#[test]
fn a_smaller_config_is_refused_and_a_larger_one_takes_everything() {
    let (file, token) = sample_file();
    type Shrink = (fn(&mut Config), &'static str);
    let smaller: [Shrink; 5] = [
        (|c| c.capacity = 15, "capacity"),
        (|c| c.token_bytes = 16, "token_bytes"),
        (|c| c.pool_bytes = 4096 - 64, "pool_bytes"),
        (|c| c.max_payload = 511, "max_payload"),
        (|c| c.token_bytes = 31, "token_bytes"),
    ];
    for (change, key) in smaller {
        let mut c = config();
        change(&mut c);
        let mut e = engine_with(c, 9);
        assert_eq!(
            snap_err(e.restore(&file, &KEY, at(10, WALL + 1), HOUR)),
            SnapshotError::DoesNotFit { key }
        );
        assert_empty_and_working(&mut e, 10);
    }
    let larger = Config {
        capacity: 1_000,
        pool_bytes: 1 << 20,
        // (At most 65,535: a `narrow` build's most.)
        max_payload: 60_000,
        // Other settings may differ.
        ip_policy: ClientPolicy::Enforce,
        rotated_reuse: RotatedReusePolicy::RevokeSession,
        tombstones: 4,
        ..config()
    };
    let mut e = engine_with(larger, 9);
    e.restore(&file, &KEY, at(10, WALL + 1), HOUR).unwrap();
    let s = e.validate(token.as_bytes(), 10, NONE).unwrap();
    assert_eq!(payload(&mut e, s.handle, 10), b"secret payload");
}

#[test]
fn timeouts_are_cut_to_the_new_maxima() {
    let mut c = config();
    c.max_idle_timeout_ms = 3_600_000;
    let mut old = engine_with(c.clone(), 1);
    let (t, s) = old.create(0, NONE).unwrap();
    old.set_timeouts(s.handle, Some(3_000_000), None, 0)
        .unwrap();
    let file = old.snapshot(&KEY, at(0, WALL)).unwrap();
    c.max_idle_timeout_ms = 100_000;
    c.idle_timeout_ms = 50_000;
    let mut e = engine_with(c, 2);
    e.restore(&file, &KEY, at(0, WALL), HOUR).unwrap();
    let s = e.peek(t.as_bytes(), 0).unwrap();
    assert_eq!(s.idle_timeout_ms, 100_000);
    assert_eq!(
        e.validate(t.as_bytes(), 100_000, NONE),
        Err(Invalid::Expired(Expiry::Idle))
    );
}

#[test]
fn a_smaller_tombstone_ring_keeps_the_newest() {
    let mut old = engine_with(
        Config {
            tombstones: 64,
            ..config()
        },
        1,
    );
    let mut dead = Vec::new();
    for n in 0..20 {
        let (t, _) = old.create(n, NONE).unwrap();
        let (t, _) = old.login(t.as_bytes(), b"u", n).unwrap();
        old.logout(t.as_bytes(), n).unwrap();
        dead.push(t);
    }
    let file = old.snapshot(&KEY, at(100, WALL)).unwrap();
    let mut e = engine_with(
        Config {
            tombstones: 16,
            ..config()
        },
        2,
    );
    let done = e.restore(&file, &KEY, at(0, WALL), HOUR).unwrap();
    // The kept ring of 16 entries is 12 long.
    assert_eq!(done.tombstones, 12);
    for (n, t) in dead.iter().enumerate() {
        // Each login and logout left two: the newest 12 are the last six users'.
        let want = if n >= 14 {
            Err(Invalid::LoggedOut)
        } else {
            Err(Invalid::Unknown)
        };
        assert_eq!(e.peek(t.as_bytes(), 0).map(|_| ()), want, "token {n}");
    }
}

#[test]
fn restore_is_only_into_an_engine_that_holds_nothing() {
    let (file, _) = sample_file();
    let mut e = engine_with(config(), 9);
    let (t, _) = e.create(0, NONE).unwrap();
    assert_eq!(
        snap_err(e.restore(&file, &KEY, at(10, WALL + 1), HOUR)),
        SnapshotError::NotEmpty
    );
    // Untouched.
    assert!(e.validate(t.as_bytes(), 10, NONE).is_ok());
}

#[test]
fn snapshot_into_a_short_buffer_is_refused_and_the_size_query_is_exact() {
    let mut e = engine_with(config(), 1);
    let (t, s) = e.create(0, NONE).unwrap();
    e.write(s.handle, &[9; 300], 0).unwrap();
    let len = e.snapshot_len();
    let mut buf = vec![0u8; len + 10];
    assert_eq!(
        e.snapshot_into(&KEY, at(1, WALL), &mut buf[..len - 1]),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        e.snapshot_into(&[1; 16], at(1, WALL), &mut buf),
        Err(Error::Snapshot(SnapshotError::Key))
    );
    assert_eq!(e.snapshot_into(&KEY, at(1, WALL), &mut buf), Ok(len));
    let mut r = engine_with(config(), 2);
    r.restore_from(&mut buf[..len], &KEY, at(1, WALL), HOUR)
        .unwrap();
    assert!(r.validate(t.as_bytes(), 1, NONE).is_ok());
    // The buffer was decrypted in place and wiped: no payload byte is left in it.
    assert!(!buf[..len].windows(300).any(|w| w == [9; 300]));
    // Two snapshots of the same table differ (a fresh nonce each).
    let a = e.snapshot(&KEY, at(2, WALL)).unwrap();
    let b = e.snapshot(&KEY, at(2, WALL)).unwrap();
    assert_eq!(a.len(), b.len());
    assert_ne!(a, b);
}

// ------------------------------------------------------------------ property

#[derive(Clone, Debug)]
enum Op {
    Create(u8),
    Validate(usize, u8),
    Login(usize, usize),
    Rotate(usize),
    Logout(usize),
    Write(usize, usize),
    Revoke(usize),
    Wait(u64),
}

const USERS: [&[u8]; 3] = [b"alice", b"bob", b"carol"];
const IPS: [&[u8]; 3] = [b"192.0.2.1", b"192.0.2.2", b"2001:db8::1"];

fn client(n: u8) -> Client<'static> {
    match n % 4 {
        3 => Client::NONE,
        k => Client {
            ip: Some(IPS[k as usize]),
            user_agent: Some(b"Mozilla/5.0"),
        },
    }
}

fn op() -> impl Strategy<Value = Op> {
    let i = any::<usize>();
    prop_oneof![
        4 => any::<u8>().prop_map(Op::Create),
        4 => (i, any::<u8>()).prop_map(|(i, c)| Op::Validate(i, c)),
        3 => (i, 0..USERS.len()).prop_map(|(i, u)| Op::Login(i, u)),
        2 => i.prop_map(Op::Rotate),
        2 => i.prop_map(Op::Logout),
        2 => (i, 0usize..200).prop_map(|(i, n)| Op::Write(i, n)),
        1 => i.prop_map(Op::Revoke),
        3 => (0u64..4_000).prop_map(Op::Wait),
    ]
}

fn prop_config(cap: u32, idle: u32, ip: u8) -> Config {
    Config {
        capacity: cap,
        pool_bytes: 1024,
        max_payload: 256,
        idle_timeout_ms: idle,
        absolute_timeout_ms: idle * 3,
        // Larger than a run can fill, so a restore's expired sessions push out nothing
        // the original engine still remembers (a smaller ring is its own test above).
        tombstones: 4_096,
        events: 64,
        max_sessions_per_principal: 2,
        ip_policy: [
            ClientPolicy::Off,
            ClientPolicy::Observe,
            ClientPolicy::Enforce,
        ][usize::from(ip % 3)],
        rotated_reuse: RotatedReusePolicy::RevokeSession,
        ..Config::default()
    }
}

/// What a user sees of a session, with its deadlines as time left.
fn seen(s: &Session, now: u64, e: &mut Engine<HeapStorage>) -> impl PartialEq + std::fmt::Debug {
    let mut out = vec![0; 256];
    let n = e.read(s.handle, &mut out, now).unwrap();
    out.truncate(n);
    (
        (s.handle, s.tag, s.epoch, s.principal, out),
        (s.idle_deadline_ms - now, s.absolute_deadline_ms - now),
        (s.idle_timeout_ms, s.absolute_timeout_ms),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Snapshot, a gap, restore: every token ever issued (and a few never issued) gets
    /// the same answer from the restored engine as from the original one, asked in the
    /// same order; so does every listing.
    #[test]
    fn restore_preserves_every_answer(
        (cap, idle, ip) in (2u32..10, 500u32..5_000, any::<u8>()),
        ops in prop::collection::vec(op(), 1..60),
        gap in prop_oneof![Just(0u64), 0u64..3_000, 0u64..20_000],
        restart_clock in prop_oneof![Just(0u64), 0u64..1_000_000],
        probes in prop::collection::vec((any::<usize>(), any::<u8>(), 0u64..2_000), 1..40),
    ) {
        let c = prop_config(cap, idle, ip);
        let mut old = engine_with(c.clone(), 1);
        let mut tokens: Vec<String> = Vec::new();
        let mut now = 10_000u64;
        let pick = |t: &Vec<String>, i: usize| t.get(i % t.len().max(1)).cloned();
        for op in ops {
            match op {
                Op::Create(k) => {
                    if let Ok((t, _)) = old.create(now, &client(k)) {
                        tokens.push(t.as_str().to_owned());
                    }
                }
                Op::Validate(i, k) => {
                    if let Some(t) = pick(&tokens, i) {
                        let _ = old.validate(t.as_bytes(), now, &client(k));
                    }
                }
                Op::Login(i, u) => {
                    if let Some(t) = pick(&tokens, i)
                        && let Ok((t, _)) = old.login(t.as_bytes(), USERS[u], now)
                    {
                        tokens.push(t.as_str().to_owned());
                    }
                }
                Op::Rotate(i) => {
                    if let Some(t) = pick(&tokens, i)
                        && let Ok((t, _)) = old.rotate(t.as_bytes(), now)
                    {
                        tokens.push(t.as_str().to_owned());
                    }
                }
                Op::Logout(i) => {
                    if let Some(t) = pick(&tokens, i) {
                        let _ = old.logout(t.as_bytes(), now);
                    }
                }
                Op::Write(i, n) => {
                    if let Some(t) = pick(&tokens, i)
                        && let Ok(s) = old.peek(t.as_bytes(), now)
                    {
                        let _ = old.write(s.handle, &vec![n as u8; n], now);
                    }
                }
                Op::Revoke(u) => {
                    old.revoke_principal(USERS[u % USERS.len()], now);
                }
                Op::Wait(ms) => now += ms,
            }
        }
        let file = old.snapshot(&KEY, at(now, WALL)).unwrap();
        let mut new = engine_with(c, 2);
        // The original, `gap` later on its own clock, with what passed its deadline in
        // the gap reclaimed, as a restore does: a session past its deadline but not yet
        // swept is otherwise still in its table (a reuse of its predecessor's token under
        // RevokeSession then ends it as revoked, where the restored engine has it
        // expired already).
        new.restore(&file, &KEY, at(restart_clock, WALL + gap), HOUR).unwrap();
        old.sweep(now + gap);
        let (mut t_old, mut t_new) = (now + gap, restart_clock);
        tokens.push("A".repeat(43));
        tokens.push("not a token".to_owned());
        for (i, k, wait) in probes {
            let t = pick(&tokens, i).unwrap();
            let a = old.validate(t.as_bytes(), t_old, &client(k));
            let b = new.validate(t.as_bytes(), t_new, &client(k));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    let (a, b) = (seen(&a, t_old, &mut old), seen(&b, t_new, &mut new));
                    prop_assert_eq!(a, b, "token {}", t);
                }
                (a, b) => prop_assert_eq!(a.err(), b.err(), "token {}", t),
            }
            for user in USERS {
                let a: Vec<Session> = old.sessions_of(user, t_old).collect();
                let b: Vec<Session> = new.sessions_of(user, t_new).collect();
                prop_assert_eq!(a.len(), b.len());
                for (a, b) in a.iter().zip(&b) {
                    let (a, b) = (seen(a, t_old, &mut old), seen(b, t_new, &mut new));
                    prop_assert_eq!(a, b);
                }
            }
            t_old += wait;
            t_new += wait;
        }
    }
}

// ------------------------------------------------------------------ files (std)

#[test]
fn shared_engines_write_files_whole_and_private() {
    use sessile::shared::{FileError, SharedEngine};
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sessile-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sessions.snap");
    let old = SharedEngine::new(config()).unwrap();
    let (t, _) = old.with(|e| e.create(0, NONE)).unwrap();
    std::fs::write(&path, b"an older file").unwrap();
    let n = old.snapshot_to(&path, &KEY, at(1, WALL)).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), n as u64);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(names, ["sessions.snap"], "no temporary file is left");

    let new = SharedEngine::new(config()).unwrap();
    new.restore_from(&path, &KEY, at(0, WALL + 1), HOUR)
        .unwrap();
    assert!(new.with(|e| e.validate(t.as_bytes(), 0, NONE)).is_ok());
    match new.restore_from(&path, &KEY, at(0, WALL + 1), HOUR) {
        Err(FileError::Engine(Error::Snapshot(SnapshotError::NotEmpty))) => {}
        other => panic!("{other:?}"),
    }
    match SharedEngine::new(config()).unwrap().restore_from(
        &dir.join("missing"),
        &KEY,
        at(0, WALL),
        HOUR,
    ) {
        Err(FileError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        old.snapshot_to(&dir.join("no-dir").join("s"), &KEY, at(1, WALL)),
        Err(FileError::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
