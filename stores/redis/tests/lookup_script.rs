//! `lookup.lua` restates one rule so that a request that only reads costs one round trip:
//! it marks a session used only while it is live (`sessile::rules::liveness`) and its
//! client is the one it knows. Marking a dead session used would revive it, so the
//! script's answer is compared here with the core's rule on a grid of times around every
//! deadline, including the edges of what doubles hold exactly.

mod support;

use sessile::rules::{Times, liveness};

const LOOKUP: &str = include_str!("../src/lua/lookup.lua");
const EXACT: u64 = 1 << 52;

/// A record's `h` (`record.rs`, `Record::head`): the absolute deadline (created +
/// absolute, exact), idle, absolute, the quiet address, the user agent and the state, at
/// the places the script reads them.
fn header(c: u64, i: u32, a: u32, quiet: u32, ua: u32, state: char) -> String {
    let d = u128::from(c) + u128::from(a);
    let h = format!("{d:020}{i:010}{a:010}{quiet:010}{ua:010}{state}");
    assert_eq!(h.len(), 61);
    h
}

/// The record's other fields, which the script returns and does not read.
fn rest() -> [(&'static str, String); 3] {
    [
        ("x", "0".repeat(63) + "1"),
        ("t", "0123456789abcdef0123456789abcdef".to_string()),
        ("d", String::new()),
    ]
}

/// A client digest as the store passes it to the script (ten digits), or `""`.
fn digest(d: Option<u32>) -> String {
    d.map_or_else(String::new, |d| format!("{d:010}"))
}

/// What the script promises: touch exactly when the core's rule says live, the times it
/// adds are where Lua's numbers are exact (else Rust decides), and the client is known.
fn promised(t: &Times, now: u64, client_known: bool) -> bool {
    liveness(t, now).is_ok() && now < EXACT && t.last_seen_ms < EXACT && client_known
}

/// A time as the store writes it (`record::last_seen_text`): twenty digits.
fn text(ms: u64) -> String {
    format!("{ms:020}")
}

#[test]
fn the_script_touches_exactly_what_the_rules_call_live() {
    let (url, _server) = support::server();
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let root = format!("{{{}}}:", support::fresh_prefix("lookup"));
    let (token, record) = (format!("{root}t:tok"), format!("{root}s:0000000000000001"));
    let script = redis::Script::new(LOOKUP);
    let _: () = redis::cmd("SET")
        .arg(&token)
        .arg("0000000000000001")
        .query(&mut con)
        .unwrap();

    let starts = [0, 1_000, EXACT - 50, EXACT, (1 << 53) + 7, u64::MAX - 20];
    let seen_after = [0u64, 5, 100];
    let idles = [1u32, 10, 100, u32::MAX];
    let absolutes = [1u32, 10, 200, u32::MAX];
    // (request's address digest, the session's quiet address, known?)
    let clients: [(Option<u32>, u32, bool); 4] = [
        (None, 0, true),
        (Some(77), 77, true),
        (Some(77), 78, false),
        (Some(77), 0, false),
    ];
    let mut checked = 0;
    let mut touched_live = 0;
    for &c in &starts {
        for &after in &seen_after {
            let ls = c.saturating_add(after);
            for &i in &idles {
                for &a in &absolutes {
                    let t = Times {
                        created_ms: c,
                        last_seen_ms: ls,
                        idle_ms: i,
                        absolute_ms: a,
                    };
                    let mut nows = vec![ls.saturating_sub(1), ls];
                    for d in [t.idle_deadline(), t.absolute_deadline()] {
                        nows.extend([d.saturating_sub(1), d, d.saturating_add(1)]);
                    }
                    for &now in &nows {
                        for (ip, quiet, known) in clients {
                            let mut pipe = redis::pipe();
                            pipe.cmd("DEL").arg(&record).ignore();
                            pipe.cmd("HSET")
                                .arg(&record)
                                .arg(&[("h", header(c, i, a, quiet, 5, 'a')), ("ls", text(ls))])
                                .arg(&rest())
                                .ignore();
                            pipe.query::<()>(&mut con).unwrap();
                            let reply: Vec<redis::Value> = script
                                .key(&token)
                                .arg(format!("{root}s:"))
                                .arg(text(now))
                                .arg(digest(ip))
                                .arg(digest(Some(5)))
                                .invoke(&mut con)
                                .unwrap();
                            let touched = reply[0] == redis::Value::Int(3);
                            let want = promised(&t, now, known);
                            assert_eq!(
                                touched, want,
                                "created {c}, last seen {ls}, idle {i}, absolute {a}, now {now}, \
                                 address {ip:?} vs {quiet:?}"
                            );
                            let ls_now: u64 = redis::cmd("HGET")
                                .arg(&record)
                                .arg("ls")
                                .query(&mut con)
                                .unwrap();
                            let referenced: Option<String> = redis::cmd("HGET")
                                .arg(&record)
                                .arg("r")
                                .query(&mut con)
                                .unwrap();
                            // The record as returned is the record as stored (Rust
                            // decides from it): after the touch, with its last-seen time.
                            // The reply: 2 (3 when touched), sid, then h, x, ls, d.
                            assert_eq!(
                                reply[4],
                                redis::Value::BulkString(text(ls_now).into_bytes())
                            );
                            if touched {
                                // Last seen never moves back; an anonymous session is
                                // marked used for the eviction's CLOCK hand.
                                assert_eq!(ls_now, ls.max(now));
                                assert_eq!(referenced.as_deref(), Some("1"));
                                touched_live += 1;
                            } else {
                                assert_eq!(ls_now, ls, "a session not touched is not written");
                                assert!(referenced.is_none());
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(
        checked > 5_000 && touched_live > 500,
        "{checked} cases, {touched_live} touched"
    );
}

#[test]
fn peeking_never_touches() {
    let (url, _server) = support::server();
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let root = format!("{{{}}}:", support::fresh_prefix("peek"));
    let record = format!("{root}s:0000000000000002");
    let _: () = redis::cmd("SET")
        .arg(format!("{root}t:tok"))
        .arg("0000000000000002")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&record)
        .arg(&[
            ("h", header(0, 100, 100, 0, 0, 'a')),
            ("ls", "0".to_string()),
        ])
        .arg(&rest())
        .query(&mut con)
        .unwrap();
    let reply: Vec<redis::Value> = redis::Script::new(LOOKUP)
        .key(format!("{root}t:tok"))
        .arg(format!("{root}s:"))
        .arg("")
        .arg("")
        .arg("")
        .invoke(&mut con)
        .unwrap();
    assert_eq!(reply[0], redis::Value::Int(2));
    let ls: u64 = redis::cmd("HGET")
        .arg(&record)
        .arg("ls")
        .query(&mut con)
        .unwrap();
    assert_eq!(ls, 0);
}
