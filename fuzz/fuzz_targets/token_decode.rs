//! Arbitrary token bytes against a populated engine.
//!
//! The engine issues a few tokens (creates, a login, a rotation, a logout). Then each
//! arbitrary candidate (raw bytes, or an issued token with a few bytes changed) goes to
//! `validate`, `login`, `rotate` and `logout`. Checks: no panic; a candidate that was never
//! issued is never accepted and is answered `Malformed` exactly when it is not the one
//! canonical spelling of `token_bytes` bytes, `Unknown` otherwise; no attempt changes the
//! table (the issued live tokens still validate, the dead ones stay dead, the counters do
//! not move).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sessile::{Client, Config, Engine, Error, Invalid, Store};
use sessile_fuzz::is_canonical_token;

#[derive(Arbitrary, Debug)]
enum Candidate<'a> {
    Raw(&'a [u8]),
    /// An issued token with edits: (position, new byte) pairs, then an optional cut.
    Mutated {
        which: u8,
        edits: Vec<(u8, u8)>,
        cut: Option<u8>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    token_bytes: u8,
    seed: [u8; 32],
    candidates: Vec<Candidate<'a>>,
    principal: &'a [u8],
}

fuzz_target!(|input: Input<'_>| check(input));

const NONE: &Client<'static> = &Client::NONE;

fn check(input: Input<'_>) {
    let n = 16 + input.token_bytes % 17;
    let config = Config {
        capacity: 8,
        pool_bytes: 1024,
        max_payload: 256,
        token_bytes: n,
        ..Config::default()
    };
    let mut e = Engine::new(config, input.seed).expect("valid config");
    let mut now = 1_000;
    let (a, _) = e.create(now, NONE).unwrap();
    let (b, _) = e.create(now, NONE).unwrap();
    let (c, _) = e.create(now, NONE).unwrap();
    let (a2, _) = e.login(a.as_bytes(), b"alice", now).unwrap();
    let (b2, _) = e.rotate(b.as_bytes(), now).unwrap();
    e.logout(c.as_bytes(), now).unwrap();
    let live = [a2.as_str().to_owned(), b2.as_str().to_owned()];
    let dead = [
        (a.as_str().to_owned(), Invalid::RotatedOut),
        (b.as_str().to_owned(), Invalid::RotatedOut),
        (c.as_str().to_owned(), Invalid::LoggedOut),
    ];
    let issued: Vec<&str> = live
        .iter()
        .map(String::as_str)
        .chain(dead.iter().map(|d| d.0.as_str()))
        .collect();
    for t in &issued {
        assert!(
            is_canonical_token(t.as_bytes(), n.into()),
            "issued {t:?} is not canonical"
        );
    }
    e.drain_events().for_each(drop);
    let stats = e.stats();

    for cand in input.candidates.iter().take(64) {
        let bytes: Vec<u8> = match cand {
            Candidate::Raw(b) => b.to_vec(),
            Candidate::Mutated { which, edits, cut } => {
                let mut t = issued[usize::from(*which) % issued.len()]
                    .as_bytes()
                    .to_vec();
                for &(at, v) in edits.iter().take(4) {
                    let at = usize::from(at) % t.len();
                    t[at] = v;
                }
                if let Some(cut) = cut {
                    t.truncate(usize::from(*cut) % (t.len() + 1));
                }
                t
            }
        };
        now += 1;
        if issued.iter().any(|t| t.as_bytes() == bytes.as_slice()) {
            // An edit that changed nothing: the token keeps its own fate, checked below.
            continue;
        }
        let want = if is_canonical_token(&bytes, n.into()) {
            Invalid::Unknown
        } else {
            Invalid::Malformed
        };
        assert_eq!(
            e.validate(&bytes, now, NONE).map(|_| ()),
            Err(want),
            "validate({bytes:?})"
        );
        assert_eq!(
            e.rotate(&bytes, now).map(|_| ()),
            Err(Error::Session(want)),
            "rotate({bytes:?})"
        );
        assert_eq!(
            e.logout(&bytes, now),
            Err(Error::Session(want)),
            "logout({bytes:?})"
        );
        let principal_ok = !input.principal.is_empty() && input.principal.len() <= 128;
        let want_login = if principal_ok {
            Error::Session(want)
        } else {
            Error::InvalidPrincipal
        };
        assert_eq!(
            e.login(&bytes, input.principal, now).map(|_| ()),
            Err(want_login),
            "login({bytes:?})"
        );
        // Only unknown/malformed tokens were shown: no reuse event, no state change.
        assert!(
            e.drain_events().next().is_none(),
            "an unissued token raised an event"
        );
        assert_eq!(e.stats(), stats);
    }

    for t in &live {
        let s = e
            .validate(t.as_bytes(), now, NONE)
            .expect("live token still valid");
        assert!(s.idle_deadline_ms > now);
    }
    for (t, why) in &dead {
        assert_eq!(e.validate(t.as_bytes(), now, NONE).map(|_| ()), Err(*why));
    }
}
