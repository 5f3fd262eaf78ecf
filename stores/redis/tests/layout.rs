//! What sits in Redis: digests, never tokens; every key under the deployment's hash tag;
//! dead tokens as keys with a TTL; nothing a writer without the deployment key can use.

mod support;

use sessile::{Client, Config, Error, Invalid, Store, StoreError};
use sessile_redis::{RedisConfig, RedisStore};

const NONE: &Client<'static> = &Client::NONE;
const NOW: u64 = 1_000_000;

fn all_keys(server_url: &str, prefix: &str) -> Vec<String> {
    let mut c = redis::Client::open(server_url)
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("KEYS")
        .arg(format!("\\{{{prefix}\\}}:*"))
        .query(&mut c)
        .unwrap()
}

fn conn(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

#[test]
fn keys_and_values_hold_digests_never_tokens() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "layout");
    let mut s = RedisStore::with_seed(Config::default(), &r, [9; 32]).unwrap();
    let (a, h) = s.create(NOW, NONE).unwrap();
    s.write(h.handle, b"{\"cart\":[1]}", NOW).unwrap();
    let (b, _) = s.login(a.as_bytes(), b"alice", NOW + 1).unwrap();
    let (c, _) = s.rotate(b.as_bytes(), NOW + 2).unwrap();
    let (d, _) = s.create(NOW + 3, NONE).unwrap();
    s.logout(d.as_bytes(), NOW + 4).unwrap();
    let tokens = [a, b, c, d];

    let keys = all_keys(&url, &r.prefix);
    assert!(keys.len() >= 8, "{keys:?}");
    let mut con = conn(&url);
    let mut dead = 0;
    for k in &keys {
        // One hash tag: every key of every operation is in one cluster slot.
        assert!(k.starts_with(&format!("{{{}}}:", r.prefix)), "{k}");
        let kind: String = redis::cmd("TYPE").arg(k).query(&mut con).unwrap();
        let dump: Vec<Vec<u8>> = match kind.as_str() {
            "hash" => redis::cmd("HGETALL").arg(k).query(&mut con).unwrap(),
            "string" => vec![redis::cmd("GET").arg(k).query(&mut con).unwrap()],
            "zset" => redis::cmd("ZRANGE")
                .arg(k)
                .arg(0)
                .arg(-1)
                .query(&mut con)
                .unwrap(),
            other => panic!("{k}: unexpected type {other}"),
        };
        for t in &tokens {
            let t = t.as_bytes();
            assert!(
                !k.as_bytes().windows(t.len()).any(|w| w == t),
                "token in key {k}"
            );
            for v in &dump {
                assert!(
                    !v.windows(t.len()).any(|w| w == t),
                    "token in a value of {k}"
                );
            }
        }
        let ttl: i64 = redis::cmd("PTTL").arg(k).query(&mut con).unwrap();
        // A token's key holds its session's id (16 hex digits), and a dead one's also
        // how it died.
        assert_eq!(kind == "string", k.contains("}:t:"), "{k}: {kind}");
        let tombstone = kind == "string" && dump[0].len() > 16;
        if tombstone {
            // A dead token is remembered for a time, then forgotten by Redis itself.
            assert!(ttl > 0 && ttl <= 86_400_000, "{k}: {ttl}");
            dead += 1;
        } else {
            // Everything else is bounded by capacity and ended by sessile, never by
            // Redis behind its back (which would leave a list or a counter wrong).
            assert_eq!(ttl, -1, "{k}");
        }
    }
    // a (login), b (rotation) and d (logout) are dead.
    assert_eq!(dead, 3);
}

#[test]
fn a_session_planted_without_the_deployment_key_is_never_valid() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "planted");
    let mut s = RedisStore::with_seed(Config::default(), &r, [9; 32]).unwrap();
    let (real, _) = s.create(NOW, NONE).unwrap();
    // Someone who can write to Redis, and sees the layout, plants the same record
    // under a second store of another key: a token of their own choosing.
    let mut other_key = r.clone();
    other_key.key = [0x66; 32];
    let mut attacker = RedisStore::with_seed(Config::default(), &other_key, [1; 32]).unwrap();
    let (chosen, _) = attacker.create(NOW, NONE).unwrap();
    // Their token names nothing for the deployment's processes...
    assert_eq!(
        s.validate(chosen.as_bytes(), NOW + 1, NONE),
        Err(Error::Session(Invalid::Unknown))
    );
    // ...and the deployment's own tokens name nothing for theirs.
    assert_eq!(
        attacker.validate(real.as_bytes(), NOW + 1, NONE),
        Err(Error::Session(Invalid::Unknown))
    );
    assert!(s.validate(real.as_bytes(), NOW + 1, NONE).is_ok());
}

#[test]
fn a_dead_token_is_forgotten_after_its_time_and_never_valid() {
    let (url, _server) = support::server();
    let mut r = support::redis_config(&url, "forget");
    r.tombstone_ttl_ms = Some(1);
    let mut s = RedisStore::with_seed(Config::default(), &r, [9; 32]).unwrap();
    let (t, _) = s.create(NOW, NONE).unwrap();
    let (t2, _) = s.login(t.as_bytes(), b"alice", NOW).unwrap();
    s.logout(t2.as_bytes(), NOW + 1).unwrap();
    assert_eq!(s.stats().tombstones, 2);
    // Both TTLs (1 ms, on the server's clock) are long past after this.
    std::thread::sleep(std::time::Duration::from_millis(50));
    for dead in [&t, &t2] {
        assert_eq!(
            s.validate(dead.as_bytes(), NOW + 2, NONE),
            Err(Error::Session(Invalid::Unknown)),
            "forgotten, and still never valid"
        );
    }
    s.sweep(NOW + 2).unwrap();
    assert_eq!(s.stats().tombstones, 0, "a sweep prunes what Redis forgot");
}

#[test]
fn unusable_store_configurations_are_refused_before_any_connection() {
    let ok = RedisConfig::new("unix:///tmp/x.sock", [1; 32]);
    assert!(ok.validate().is_ok());
    let bad = |f: &dyn Fn(&mut RedisConfig)| {
        let mut c = ok.clone();
        f(&mut c);
        let got = RedisStore::new(Config::default(), &c).map(|_| ());
        assert_eq!(got, Err(Error::Store(StoreError::Config)), "{c:?}");
    };
    bad(&|c| c.prefix = String::new());
    bad(&|c| c.prefix = "a{b}".into());
    bad(&|c| c.prefix = "with space".into());
    bad(&|c| c.prefix = "p".repeat(65));
    bad(&|c| c.key = [0; 32]);
    bad(&|c| c.connect_timeout = std::time::Duration::ZERO);
    bad(&|c| c.response_timeout = std::time::Duration::ZERO);
    bad(&|c| c.tombstone_ttl_ms = Some(0));
    bad(&|c| c.url = "http://localhost:6379".into());
    bad(&|c| c.url = "redis://[::1".into());
    if !cfg!(feature = "tls") {
        bad(&|c| c.url = "rediss://localhost:6380".into());
    }
    // The core's own configuration is checked as for the in-process engine.
    let zero = Config {
        capacity: 0,
        ..Config::default()
    };
    assert_eq!(
        RedisStore::new(zero, &ok).map(|_| ()).unwrap_err().code(),
        "config"
    );
    // Debug output never shows the key or a password.
    let mut c = ok.clone();
    c.url = "redis://user:hunter2@localhost/0".into();
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("[1, 1"),
        "{shown}"
    );
}

#[test]
fn deleting_a_deployment_deletes_its_keys_and_no_other() {
    let (url, _server) = support::server();
    let mut r = support::redis_config(&url, "delete");
    // Glob characters in a prefix match themselves only.
    r.prefix = format!("{}*?[x]", r.prefix);
    let mut near = r.clone();
    near.prefix = format!("{}*?[y]", support::fresh_prefix("delete"));
    let mut s = RedisStore::with_seed(Config::default(), &r, [9; 32]).unwrap();
    let mut other = RedisStore::with_seed(Config::default(), &near, [8; 32]).unwrap();
    let (t, _) = s.create(NOW, NONE).unwrap();
    s.login(t.as_bytes(), b"alice", NOW).unwrap();
    let (kept, _) = other.create(NOW, NONE).unwrap();
    let n = s.delete_everything().unwrap();
    assert!(n >= 5, "{n}");
    assert!(all_keys(&url, &r.prefix).is_empty());
    assert_eq!(s.stats().live, 0);
    assert!(other.validate(kept.as_bytes(), NOW, NONE).is_ok());
}

#[test]
fn events_of_every_process_reach_the_stream_when_it_is_on() {
    let (url, _server) = support::server();
    let mut r = support::redis_config(&url, "stream");
    r.event_stream = Some(1000);
    let mut a = RedisStore::with_seed(Config::default(), &r, [1; 32]).unwrap();
    let mut b = RedisStore::with_seed(Config::default(), &r, [2; 32]).unwrap();
    let (t, _) = a.create(NOW, NONE).unwrap();
    a.logout(t.as_bytes(), NOW + 1).unwrap();
    // The reuse is seen by another process: its event reaches that process's ring and
    // the shared stream.
    assert_eq!(
        b.validate(t.as_bytes(), NOW + 2, NONE),
        Err(Error::Session(Invalid::LoggedOut))
    );
    let local: Vec<_> = std::iter::from_fn(|| b.pop_event())
        .map(|e| e.kind.as_str())
        .collect();
    assert!(local.contains(&"reuse_after_logout"), "{local:?}");

    let mut con = conn(&url);
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{{{}}}:e", r.prefix))
        .arg("-")
        .arg("+")
        .query(&mut con)
        .unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .filter_map(|(_, f)| f.iter().find(|(k, _)| k == "kind").map(|(_, v)| v.as_str()))
        .collect();
    assert!(kinds.contains(&"created"), "{kinds:?}");
    assert!(kinds.contains(&"logged_out"), "{kinds:?}");
    assert!(kinds.contains(&"reuse_after_logout"), "{kinds:?}");
    let instances: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|(_, f)| {
            f.iter()
                .find(|(k, _)| k == "instance")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    assert_eq!(instances.len(), 2, "both processes wrote: {instances:?}");
    // No token in the stream either.
    for (_, fields) in &entries {
        for (_, v) in fields {
            assert!(!v.contains(t.as_str()));
        }
    }
}

#[test]
fn without_the_stream_option_no_stream_is_written() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "nostream");
    let mut a = RedisStore::with_seed(Config::default(), &r, [1; 32]).unwrap();
    let (t, _) = a.create(NOW, NONE).unwrap();
    a.logout(t.as_bytes(), NOW + 1).unwrap();
    let mut con = conn(&url);
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("{{{}}}:e", r.prefix))
        .query(&mut con)
        .unwrap();
    assert_eq!(exists, 0);
}

/// Read events the server has processed: one per request a client sent and waited on.
fn round_trips(c: &mut redis::Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_reads_processed:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_request_that_reads_costs_one_round_trip_and_one_that_saves_two() {
    // Its own server: no other test's traffic in the counts.
    let server = support::Server::start();
    let url = server.url.clone();
    let r = support::redis_config(&url, "trips");
    let mut s = RedisStore::with_seed(Config::default(), &r, [3; 32]).unwrap();
    let (t, h) = s.create(NOW, NONE).unwrap();
    s.write(h.handle, b"{\"n\":1}", NOW).unwrap();
    let header = format!("__Host-sid={}", t.as_str());
    // Warm: scripts loaded, connection made.
    s.load_cookie(header.as_bytes(), NOW + 1, NONE)
        .unwrap()
        .unwrap();

    // The counter is read on a connection of its own: one read event per reading.
    let mut m = conn(&url);
    let before = round_trips(&mut m);
    let loaded = s
        .load_cookie(header.as_bytes(), NOW + 2, NONE)
        .unwrap()
        .unwrap();
    let (handle, epoch) = (loaded.session.handle, loaded.session.epoch);
    assert_eq!(
        loaded.payload.flatten().copied().collect::<Vec<u8>>(),
        b"{\"n\":1}"
    );
    assert_eq!(round_trips(&mut m) - before - 1, 1, "a read-only request");

    let before = round_trips(&mut m);
    let loaded = s
        .load_cookie(header.as_bytes(), NOW + 3, NONE)
        .unwrap()
        .unwrap();
    let (handle2, epoch2) = (loaded.session.handle, loaded.session.epoch);
    assert_eq!((handle2, epoch2), (handle, epoch));
    assert_eq!(
        s.save(handle, epoch, b"{\"n\":2}", NOW + 3),
        Ok(sessile::Saved::Written)
    );
    assert_eq!(
        round_trips(&mut m) - before - 1,
        2,
        "a request that loads and saves"
    );
    drop(server);
}
