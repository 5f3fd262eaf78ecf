//! The operations a binding carries to Redis itself (`RedisStore::wire`): the bytes the
//! store builds, sent on a socket of the test's own, and the replies handed back give
//! the answers of the synchronous operations; several in flight on one connection each
//! get their own; threads incrementing one counter through them lose nothing (a failed
//! guard is decided anew).

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Barrier};

use sessile::{Client, Config, Error, Invalid, Saved, Store, StoreError};
use sessile_redis::{RedisConfig, RedisStore, SaveStep, WireAddr};

const NONE: &Client<'static> = &Client::NONE;
const NOW: u64 = 1_000_000;

fn config() -> Config {
    Config {
        capacity: 1_000,
        max_sessions_per_principal: 0,
        ..Config::default()
    }
}

/// Where the reply starting at `at` ends, or `None` while incomplete (RESP2).
fn reply_end(buf: &[u8], at: usize) -> Option<usize> {
    let eol = at + buf.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
    let line = eol + 2;
    let n = || -> i64 {
        std::str::from_utf8(&buf[at + 1..eol])
            .unwrap()
            .parse()
            .unwrap()
    };
    match buf[at] {
        b'+' | b'-' | b':' => Some(line),
        b'$' if n() < 0 => Some(line),
        b'$' => Some(line + n() as usize + 2).filter(|&e| e <= buf.len()),
        b'*' => (0..n().max(0)).try_fold(line, |p, _| reply_end(buf, p)),
        other => panic!("not RESP: {other}"),
    }
}

/// A connection as a binding carries it: the hello sent first, replies read in order.
struct Conn {
    sock: UnixStream,
    input: Vec<u8>,
}

impl Conn {
    fn open(s: &RedisStore) -> Conn {
        let wire = s.wire().expect("a unix socket is carried");
        let WireAddr::Unix(path) = &wire.addr else {
            panic!("the test server listens on a unix socket")
        };
        let mut c = Conn {
            sock: UnixStream::connect(path).unwrap(),
            input: Vec::new(),
        };
        c.sock.write_all(&wire.hello).unwrap();
        for _ in 0..wire.hello_replies {
            assert_ne!(c.reply()[0], b'-', "hello refused");
        }
        c
    }

    fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).unwrap();
    }

    fn reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(end) = reply_end(&self.input, 0) {
                return self.input.drain(..end).collect();
            }
            let mut chunk = [0u8; 4096];
            let n = self.sock.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.input.extend_from_slice(&chunk[..n]);
        }
    }
}

fn payload(s: &mut RedisStore, h: sessile::SessionRef) -> Vec<u8> {
    s.payload(h, NOW).unwrap().flatten().copied().collect()
}

/// One request over the wire: load, add one, save; until the save lands.
fn increment(s: &mut RedisStore, c: &mut Conn, token: &[u8]) -> usize {
    for attempt in 1..10_000 {
        let cmd = s.validate_command(token, NOW, NONE).unwrap();
        c.send(&cmd);
        let reply = c.reply();
        let session = match s.validate_reply(token, NOW, NONE, &reply) {
            Ok(session) => session,
            Err(Error::Store(StoreError::Conflict)) => continue,
            Err(e) => panic!("load: {e}"),
        };
        let n = support::counter(&payload(s, session.handle));
        let next = (n + 1).to_string();
        let (h, epoch) = (session.handle, session.epoch);
        let saved = match s.save_command(h, epoch, next.as_bytes(), NOW) {
            Ok(SaveStep::Done(saved)) => Ok(saved),
            Ok(SaveStep::Commit(pending)) => {
                c.send(pending.command());
                let reply = c.reply();
                s.save_reply(pending, &reply, h, epoch, next.as_bytes(), NOW)
            }
            Err(e) => Err(e),
        };
        match saved {
            Ok(Saved::Written) => return attempt,
            Ok(Saved::Dropped) | Err(Error::Store(StoreError::Conflict)) => {}
            other => panic!("save: {other:?}"),
        }
    }
    panic!("no save landed in 10 000 attempts");
}

fn session(url: &str) -> (RedisConfig, sessile::Token) {
    support::counter_session(url, "wire", config(), NOW)
}

#[test]
fn the_carried_lookup_and_save_answer_as_the_synchronous_ones() {
    let (url, _server) = support::server();
    let (r, token) = session(&url);
    let mut s = support::peer(&r, config()).unwrap();
    let mut c = Conn::open(&s);
    let t = token.as_bytes();

    let cmd = s.validate_command(t, NOW + 5, NONE).unwrap();
    c.send(&cmd);
    let reply = c.reply();
    let carried = s.validate_reply(t, NOW + 5, NONE, &reply).unwrap();
    assert_eq!(payload(&mut s, carried.handle), b"0");
    // The touch landed: a synchronous peek sees the last-seen time the lookup wrote.
    let peeked = s.peek(t, NOW + 5).unwrap();
    assert_eq!(peeked.last_seen_ms, NOW + 5);
    assert_eq!(
        (peeked.handle, peeked.epoch),
        (carried.handle, carried.epoch)
    );

    let (h, epoch) = (carried.handle, carried.epoch);
    let SaveStep::Commit(pending) = s.save_command(h, epoch, b"1", NOW + 5).unwrap() else {
        panic!("a changed payload is written")
    };
    c.send(pending.command());
    let reply = c.reply();
    assert_eq!(
        s.save_reply(pending, &reply, h, epoch, b"1", NOW + 5)
            .unwrap(),
        Saved::Written
    );
    // The same bytes again: unchanged, nothing sent.
    let loaded = s.load(t, NOW + 6, NONE).unwrap();
    let (h, epoch) = (loaded.session.handle, loaded.session.epoch);
    assert!(matches!(
        s.save_command(h, epoch, b"1", NOW + 6).unwrap(),
        SaveStep::Done(Saved::Unchanged)
    ));
    // A stale epoch (another request wrote since): dropped, nothing sent.
    assert!(matches!(
        s.save_command(h, epoch.wrapping_sub(1), b"2", NOW + 6)
            .unwrap(),
        SaveStep::Done(Saved::Dropped)
    ));

    // Malformed and unknown tokens: no command for the first, `unknown` for the second.
    assert!(s.validate_command(b"not a token", NOW, NONE).is_none());
    let unknown = "A".repeat(43);
    let cmd = s.validate_command(unknown.as_bytes(), NOW, NONE).unwrap();
    c.send(&cmd);
    let reply = c.reply();
    assert_eq!(
        s.validate_reply(unknown.as_bytes(), NOW, NONE, &reply),
        Err(Error::Session(Invalid::Unknown))
    );

    // Logged out elsewhere: the carried lookup answers as the synchronous one.
    let mut other = support::peer(&r, config()).unwrap();
    other.logout(t, NOW + 7).unwrap();
    let cmd = s.validate_command(t, NOW + 8, NONE).unwrap();
    c.send(&cmd);
    let reply = c.reply();
    assert_eq!(
        s.validate_reply(t, NOW + 8, NONE, &reply),
        Err(Error::Session(Invalid::LoggedOut))
    );
}

#[test]
fn commands_in_flight_together_on_one_connection_each_get_their_own_reply() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "wire-many");
    let mut s = support::peer(&r, config()).unwrap();
    let tokens: Vec<_> = (0..20u32)
        .map(|i| {
            let (t, h) = s.create(NOW, NONE).unwrap();
            s.write(h.handle, i.to_string().as_bytes(), NOW).unwrap();
            t
        })
        .collect();
    let mut c = Conn::open(&s);
    // Every lookup written at once, then every reply read.
    let mut all = Vec::new();
    for t in &tokens {
        all.extend(s.validate_command(t.as_bytes(), NOW + 1, NONE).unwrap());
    }
    c.send(&all);
    let replies: Vec<Vec<u8>> = tokens.iter().map(|_| c.reply()).collect();
    let mut pendings = Vec::new();
    let mut commits = Vec::new();
    for (i, (t, reply)) in tokens.iter().zip(&replies).enumerate() {
        let got = s
            .validate_reply(t.as_bytes(), NOW + 1, NONE, reply)
            .unwrap();
        assert_eq!(payload(&mut s, got.handle), i.to_string().as_bytes());
        let next = (i + 100).to_string();
        let SaveStep::Commit(p) = s
            .save_command(got.handle, got.epoch, next.as_bytes(), NOW + 1)
            .unwrap()
        else {
            panic!("a changed payload is written")
        };
        commits.extend_from_slice(p.command());
        pendings.push((p, got.handle, got.epoch, next));
    }
    c.send(&commits);
    for (p, h, epoch, next) in pendings {
        let reply = c.reply();
        assert_eq!(
            s.save_reply(p, &reply, h, epoch, next.as_bytes(), NOW + 1)
                .unwrap(),
            Saved::Written
        );
    }
    for (i, t) in tokens.iter().enumerate() {
        let l = s.load(t.as_bytes(), NOW + 2, NONE).unwrap();
        let data: Vec<u8> = l.payload.flatten().copied().collect();
        assert_eq!(data, (i + 100).to_string().as_bytes());
    }
}

#[test]
fn threads_incrementing_one_counter_over_the_wire_lose_nothing() {
    const THREADS: usize = 4;
    const EACH: usize = 30;
    let (url, _server) = support::server();
    let (r, token) = session(&url);
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (r, token, start) = (r.clone(), token.clone(), start.clone());
            std::thread::spawn(move || {
                let mut s = support::peer(&r, config()).unwrap();
                let mut c = Conn::open(&s);
                start.wait();
                (0..EACH)
                    .map(|_| increment(&mut s, &mut c, token.as_bytes()) - 1)
                    .sum::<usize>()
            })
        })
        .collect();
    let retried: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let mut s = support::peer(&r, config()).unwrap();
    let l = s.load(token.as_bytes(), NOW, NONE).unwrap();
    let n = support::counter(&l.payload.flatten().copied().collect::<Vec<u8>>());
    assert_eq!(n, (THREADS * EACH) as u64);
    eprintln!("{retried} saves were dropped and redone");
}

#[test]
fn a_commit_whose_guard_failed_is_decided_anew_from_a_fresh_read() {
    let (url, _server) = support::server();
    let (r, token) = session(&url);
    let t = token.as_bytes();
    let mut s = support::peer(&r, config()).unwrap();
    let mut c = Conn::open(&s);
    let loaded = s.load(t, NOW, NONE).unwrap();
    let _ = loaded.payload.count();
    let (h, epoch) = (loaded.session.handle, loaded.session.epoch);
    let SaveStep::Commit(pending) = s.save_command(h, epoch, b"mine", NOW).unwrap() else {
        panic!("a changed payload is written")
    };
    // Another process writes before this commit reaches Redis.
    let mut other = support::peer(&r, config()).unwrap();
    let theirs = other.load(t, NOW, NONE).unwrap();
    let (oh, oe) = (theirs.session.handle, theirs.session.epoch);
    assert_eq!(other.save(oh, oe, b"theirs", NOW).unwrap(), Saved::Written);
    c.send(pending.command());
    let reply = c.reply();
    // The guard failed (nothing written); decided anew, the save is stale: dropped.
    assert_eq!(
        s.save_reply(pending, &reply, h, epoch, b"mine", NOW)
            .unwrap(),
        Saved::Dropped
    );
    let l = s.load(t, NOW, NONE).unwrap();
    assert_eq!(l.payload.flatten().copied().collect::<Vec<u8>>(), b"theirs");
}
