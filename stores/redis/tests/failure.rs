//! Redis stopped, hung or killed mid-run: every call gives a typed `Error::Store` (never a
//! valid session, never a hang past the configured timeouts), and the same store works
//! again when the server is back, without a restart. And a server that restarts from its
//! append-only file still knows who logged out.

mod support;

use std::time::{Duration, Instant};

use sessile::{Client, Config, Error, Invalid, Request, Store, StoreError};
use sessile_redis::{RedisConfig, RedisStore};
use support::Server;

const NONE: &Client<'static> = &Client::NONE;
const NOW: u64 = 1_000_000;

/// A store with the default timeouts (100 ms), the ones these tests are about.
fn store(server: &Server) -> RedisStore {
    let mut r = support::redis_config(&server.url, "failure");
    let defaults = RedisConfig::new(&server.url, support::KEY);
    (r.connect_timeout, r.response_timeout) = (defaults.connect_timeout, defaults.response_timeout);
    RedisStore::with_seed(Config::default(), &r, [3; 32]).unwrap()
}

/// Run `f` and give its result; a call that does not come back is a hang, which the
/// timeouts exist to prevent (a guard against hanging forever, not a speed test: the
/// timeouts are 100 ms).
fn bounded<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < Duration::from_secs(20), "the call hung");
    out
}

fn is_down(e: &Error) -> bool {
    matches!(
        e,
        Error::Store(StoreError::Unavailable | StoreError::Timeout)
    )
}

#[test]
fn a_killed_server_gives_typed_errors_and_the_store_recovers_when_it_is_back() {
    let mut server = Server::start();
    let mut s = store(&server);
    let (t, h) = s.create(NOW, NONE).unwrap();
    s.write(h.handle, b"data", NOW).unwrap();
    server.kill();

    // Every kind of call fails closed, with the store's error.
    let got = bounded(|| s.validate(t.as_bytes(), NOW + 1, NONE));
    assert!(is_down(&got.unwrap_err()));
    assert!(is_down(
        &bounded(|| s.peek(t.as_bytes(), NOW + 1)).unwrap_err()
    ));
    assert!(is_down(&bounded(|| s.create(NOW + 1, NONE)).unwrap_err()));
    assert!(is_down(
        &bounded(|| s.logout(t.as_bytes(), NOW + 1)).unwrap_err()
    ));
    assert!(is_down(
        &bounded(|| s.revoke_principal(b"alice", NOW + 1)).unwrap_err()
    ));
    assert!(is_down(&bounded(|| s.sweep(NOW + 1)).unwrap_err()));
    assert!(is_down(
        &bounded(|| s.save(h.handle, h.epoch, b"x", NOW + 1)).unwrap_err()
    ));
    assert!(is_down(&s.try_stats().unwrap_err()));
    // Through the request seam: no session, and the reason, for a 503.
    let header = format!("__Host-sid={}", t.as_str());
    let mut r = bounded(|| Request::begin(&mut s, Some(header.as_bytes()), NOW + 1, NONE));
    assert!(r.session().is_none());
    assert!(is_down(&r.store_error().unwrap()));
    assert!(is_down(
        &r.finish(&mut s, Some(b"{}"), None, NOW + 1, NONE)
            .unwrap_err()
    ));

    // Back, empty (no persistence here): the same store works again.
    server.resume();
    assert_eq!(
        s.validate(t.as_bytes(), NOW + 2, NONE),
        Err(Error::Session(Invalid::Unknown))
    );
    let (t2, _) = s.create(NOW + 2, NONE).unwrap();
    assert!(s.validate(t2.as_bytes(), NOW + 3, NONE).is_ok());
}

#[test]
fn a_hung_server_times_out_and_the_store_recovers_when_it_answers_again() {
    let server = Server::start();
    let mut s = store(&server);
    let (t, _) = s.create(NOW, NONE).unwrap();
    let pid = server.pid();
    // SIGSTOP: the socket accepts, nothing answers (a server stuck in a slow command).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let got = bounded(|| s.validate(t.as_bytes(), NOW + 1, NONE));
    assert_eq!(got, Err(Error::Store(StoreError::Timeout)));
    let got = bounded(|| s.create(NOW + 1, NONE)).map(|_| ());
    assert!(is_down(&got.unwrap_err()));
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    // The late replies to the timed-out calls never reach a later call: the store
    // dropped that connection and makes a new one.
    let again = s.validate(t.as_bytes(), NOW + 2, NONE).unwrap();
    assert_eq!(again.last_seen_ms, NOW + 2);
    assert_eq!(s.stats().live, 1);
    drop(server);
}

#[test]
fn a_logout_survives_kill_9_when_the_server_restarts_from_its_append_only_file() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut s = store(&server);
    let (t, _) = s.create(NOW, NONE).unwrap();
    let (t, _) = s.login(t.as_bytes(), b"alice", NOW + 1).unwrap();
    let (other, _) = s.create(NOW + 1, NONE).unwrap();
    s.logout(t.as_bytes(), NOW + 2).unwrap();
    server.kill();
    server.resume();
    assert_eq!(
        s.validate(t.as_bytes(), NOW + 3, NONE),
        Err(Error::Session(Invalid::LoggedOut)),
        "the logged-out session came back"
    );
    assert!(s.validate(other.as_bytes(), NOW + 3, NONE).is_ok());
}

#[test]
fn an_unreachable_url_is_a_typed_error_from_the_first_call() {
    let r = support::redis_config("unix:///nonexistent/sessile/redis.sock", "nowhere");
    let mut s = RedisStore::with_seed(Config::default(), &r, [1; 32]).unwrap();
    let got = bounded(|| s.create(NOW, NONE)).map(|_| ());
    assert_eq!(got, Err(Error::Store(StoreError::Unavailable)));
}
