//! Requests of several threads (each with its store, as each worker process has its
//! own) on one deployment: no lost update, no resurrection, and "log out everywhere"
//! and the per-user cap hold while logins race them. (Processes: tests/fork.rs.)

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use sessile::{Client, Config, Error, Invalid, Saved, Store, StoreError};
use sessile_redis::{RedisConfig, RedisStore};

const NONE: &Client<'static> = &Client::NONE;
const NOW: u64 = 1_000_000;

fn config() -> Config {
    Config {
        capacity: 1_000,
        max_sessions_per_principal: 0,
        ..Config::default()
    }
}

/// One request: load the session, add one to its counter, save; until the save lands.
/// Returns how many attempts it took.
fn increment(s: &mut RedisStore, token: &[u8]) -> usize {
    for attempt in 1..10_000 {
        let loaded = match s.load(token, NOW, NONE) {
            Ok(l) => l,
            // Every process was deciding at once: try again.
            Err(Error::Store(StoreError::Conflict)) => continue,
            Err(e) => panic!("load: {e}"),
        };
        let n = support::counter(&loaded.payload.flatten().copied().collect::<Vec<u8>>());
        let (handle, epoch) = (loaded.session.handle, loaded.session.epoch);
        let next = (n + 1).to_string();
        match s.save(handle, epoch, next.as_bytes(), NOW) {
            Ok(Saved::Written) => return attempt,
            // Another request wrote since this one loaded: load again.
            Ok(Saved::Dropped) | Err(Error::Store(StoreError::Conflict)) => {}
            other => panic!("save: {other:?}"),
        }
    }
    panic!("no save landed in 10 000 attempts");
}

fn session(url: &str) -> (RedisConfig, sessile::Token) {
    support::counter_session(url, "counter", config(), NOW)
}

fn stored_counter(r: &RedisConfig, token: &[u8]) -> u64 {
    let mut s = support::peer(r, config()).unwrap();
    let l = s.load(token, NOW, NONE).unwrap();
    support::counter(&l.payload.flatten().copied().collect::<Vec<u8>>())
}

#[test]
fn threads_incrementing_one_counter_lose_nothing() {
    const THREADS: usize = 4;
    const EACH: usize = 30;
    let (url, _server) = support::server();
    let (r, token) = session(&url);
    let start = Arc::new(Barrier::new(THREADS));
    let retried = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (r, token, start, retried) =
                (r.clone(), token.clone(), start.clone(), retried.clone());
            std::thread::spawn(move || {
                let mut s = support::peer(&r, config()).unwrap();
                start.wait();
                for _ in 0..EACH {
                    let attempts = increment(&mut s, token.as_bytes());
                    retried.fetch_add(attempts - 1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        stored_counter(&r, token.as_bytes()),
        (THREADS * EACH) as u64
    );
    eprintln!(
        "{} saves were dropped and redone",
        retried.load(Ordering::Relaxed)
    );
}

/// Two requests load the same state; both add one and save, the slower last. With
/// versioned writes the slower one's save is dropped (it reloads and adds again): both
/// increments count. Without (the switch only tests may turn), the slower one
/// overwrites the faster one's: one increment is lost, which is what the test above
/// would catch whenever two saves met.
fn two_interleaved_increments(versioned: bool) -> u64 {
    let (url, _server) = support::server();
    let (r, token) = session(&url);
    let mut a = support::peer(&r, config()).unwrap();
    let mut b = support::peer(&r, config()).unwrap();
    a.set_versioning_for_tests(versioned);
    b.set_versioning_for_tests(versioned);
    let t = token.as_bytes();
    let la = a.load(t, NOW, NONE).unwrap().session;
    let lb = b.load(t, NOW, NONE).unwrap().session;
    assert_eq!(a.save(la.handle, la.epoch, b"1", NOW), Ok(Saved::Written));
    match b.save(lb.handle, lb.epoch, b"1", NOW).unwrap() {
        // b is told its increment is stored (written, or already those bytes).
        Saved::Written | Saved::Unchanged => assert!(!versioned, "a stale save landed"),
        Saved::Dropped => {
            assert!(versioned);
            increment(&mut b, t);
        }
    }
    stored_counter(&r, t)
}

#[test]
fn a_save_prepared_before_another_write_is_dropped() {
    assert_eq!(two_interleaved_increments(true), 2);
}

#[test]
fn without_versioning_the_same_interleaving_loses_an_update() {
    assert_eq!(two_interleaved_increments(false), 1);
}

#[test]
fn a_save_after_a_concurrent_logout_or_rotation_resurrects_nothing() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "resurrect");
    let mut a = support::peer(&r, config()).unwrap();
    let mut b = support::peer(&r, config()).unwrap();

    // Logout in another process between this request's load and its save.
    let (t, s) = a.create(NOW, NONE).unwrap();
    a.write(s.handle, b"cart", NOW).unwrap();
    let loaded = a.load(t.as_bytes(), NOW + 1, NONE).unwrap().session;
    b.logout(t.as_bytes(), NOW + 2).unwrap();
    assert_eq!(
        a.save(loaded.handle, loaded.epoch, b"cart+late", NOW + 3),
        Ok(Saved::Dropped)
    );
    assert_eq!(
        a.validate(t.as_bytes(), NOW + 4, NONE),
        Err(Error::Session(Invalid::LoggedOut))
    );
    assert_eq!(a.stats().live, 0);

    // Login (a new token) in another process: the old request's save must not land.
    let (t, _) = a.create(NOW, NONE).unwrap();
    let loaded = a.load(t.as_bytes(), NOW + 1, NONE).unwrap().session;
    let (t2, s2) = b.login(t.as_bytes(), b"alice", NOW + 2).unwrap();
    b.write(s2.handle, b"profile", NOW + 2).unwrap();
    assert_eq!(
        a.save(loaded.handle, loaded.epoch, b"stale", NOW + 3),
        Ok(Saved::Dropped)
    );
    let mut out = [0u8; 16];
    let n = a.read(s2.handle, &mut out, NOW + 4).unwrap();
    assert_eq!(&out[..n], b"profile");
    assert!(a.validate(t2.as_bytes(), NOW + 4, NONE).is_ok());
}

#[test]
fn log_out_everywhere_ends_every_login_made_before_it_while_logins_race_it() {
    const LOGINS: usize = 60;
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "everywhere");
    let done = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
    let logins = {
        let (r, done, tokens) = (r.clone(), done.clone(), tokens.clone());
        std::thread::spawn(move || {
            let mut s = support::peer(&r, config()).unwrap();
            for _ in 0..LOGINS {
                let (t, _) = s.create(NOW, NONE).unwrap();
                let (t, _) = s.login(t.as_bytes(), b"alice", NOW).unwrap();
                tokens.lock().unwrap().push(t);
                done.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let mut s = support::peer(&r, config()).unwrap();
    let mut checked = 0;
    while done.load(Ordering::SeqCst) < LOGINS {
        // Every login that completed before "log out everywhere" began is ended by it.
        let before = done.load(Ordering::SeqCst);
        s.revoke_principal(b"alice", NOW).unwrap();
        let early: Vec<sessile::Token> = tokens.lock().unwrap()[..before].to_vec();
        for t in &early {
            assert!(
                s.validate(t.as_bytes(), NOW, NONE).is_err(),
                "a login survived"
            );
        }
        checked += early.len();
    }
    logins.join().unwrap();
    s.revoke_principal(b"alice", NOW).unwrap();
    for t in tokens.lock().unwrap().iter() {
        assert_eq!(
            s.validate(t.as_bytes(), NOW, NONE),
            Err(Error::Session(Invalid::Revoked))
        );
    }
    // The user's list holds no session that is gone (nothing leaked).
    assert_eq!(s.sessions_of(b"alice", NOW).unwrap().count(), 0);
    let st = s.stats();
    assert_eq!((st.live, st.authenticated), (0, 0));
    assert!(checked > 0);
}

/// "Log out everywhere" is not starved by the user's other logins: a login lands in
/// the window between its reads and its commit on every attempt (the hook makes that
/// interleaving certain, where the test above only makes it likely). It still ends every
/// session that was logged in when it began; the logins that raced it end at the next
/// "log out everywhere", and the user's list loses none of them.
#[test]
fn log_out_everywhere_succeeds_while_a_login_lands_before_each_of_its_commits() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "starve");
    let mut s = support::peer(&r, config()).unwrap();
    let mut before = Vec::new();
    for _ in 0..3 {
        let (t, _) = s.create(NOW, NONE).unwrap();
        before.push(s.login(t.as_bytes(), b"alice", NOW).unwrap().0);
    }
    let raced = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut other = support::peer(&r, config()).unwrap();
    let hook_raced = raced.clone();
    s.set_before_commit_for_tests(Some(Box::new(move || {
        let (t, _) = other.create(NOW, NONE).unwrap();
        let (t, _) = other.login(t.as_bytes(), b"alice", NOW).unwrap();
        hook_raced.lock().unwrap().push(t);
    })));
    assert_eq!(s.revoke_principal(b"alice", NOW), Ok(3));
    s.set_before_commit_for_tests(None);
    for t in &before {
        assert_eq!(
            s.validate(t.as_bytes(), NOW, NONE),
            Err(Error::Session(Invalid::Revoked))
        );
    }
    let raced = raced.lock().unwrap().clone();
    assert!(!raced.is_empty());
    assert_eq!(s.sessions_of(b"alice", NOW).unwrap().count(), raced.len());
    assert_eq!(s.revoke_principal(b"alice", NOW), Ok(raced.len()));
    for t in &raced {
        assert_eq!(
            s.validate(t.as_bytes(), NOW, NONE),
            Err(Error::Session(Invalid::Revoked))
        );
    }
    assert_eq!(s.sessions_of(b"alice", NOW).unwrap().count(), 0);
}

#[test]
fn the_per_user_cap_holds_across_processes_logging_in_at_once() {
    const THREADS: usize = 4;
    const EACH: usize = 15;
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "cap");
    let capped = Config {
        capacity: 1_000,
        max_sessions_per_principal: 3,
        ..Config::default()
    };
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (r, start, capped) = (r.clone(), start.clone(), capped.clone());
            std::thread::spawn(move || {
                let mut s = support::peer(&r, capped).unwrap();
                start.wait();
                let mut mine = Vec::new();
                for _ in 0..EACH {
                    let (t, _) = s.create(NOW, NONE).unwrap();
                    loop {
                        match s.login(t.as_bytes(), b"bob", NOW) {
                            Ok((t, _)) => {
                                mine.push(t);
                                break;
                            }
                            Err(Error::Store(StoreError::Conflict)) => {}
                            Err(e) => panic!("login: {e}"),
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let all: Vec<sessile::Token> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let mut s = support::peer(&r, capped).unwrap();
    let alive = all
        .iter()
        .filter(|t| s.peek(t.as_bytes(), NOW).is_ok())
        .count();
    assert_eq!(alive, 3, "the cap is 3 whatever the interleaving");
    assert_eq!(s.sessions_of(b"bob", NOW).unwrap().count(), 3);
    let st = s.stats();
    assert_eq!((st.live, st.authenticated), (3, 3));
    assert_eq!(st.evictions, (THREADS * EACH - 3) as u64);
}
