//! `lookup.lua` restates one rule so that a request that only reads costs one round trip:
//! it marks a session used only while it is live (`sessile::rules::liveness`) and its
//! client is the one it knows. Marking a dead session used would revive it, so the
//! script's answer is compared here with the core's rule on a grid of times around every
//! deadline, including the edges of what doubles hold exactly.

mod support;

use sessile::rules::{Times, liveness};

const LOOKUP: &str = include_str!("../src/lua/lookup.lua");
const EXACT: u64 = 1 << 52;

/// What the script promises: touch exactly when the core's rule says live, the times
/// are where Lua's numbers are exact (else Rust decides), and the client is known.
fn promised(t: &Times, now: u64, client_known: bool) -> bool {
    liveness(t, now).is_ok()
        && now < EXACT
        && t.created_ms < EXACT
        && t.last_seen_ms < EXACT
        && client_known
}

#[test]
fn the_script_touches_exactly_what_the_rules_call_live() {
    let (url, _server) = support::server();
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let root = format!("{{{}}}:", support::fresh_prefix("lookup"));
    let (token, meta, anon, record) = (
        format!("{root}t:tok"),
        format!("{root}m"),
        format!("{root}a"),
        format!("{root}s:0000000000000001"),
    );
    let script = redis::Script::new(LOOKUP);
    let _: () = redis::cmd("HSET")
        .arg(&token)
        .arg("s")
        .arg("0000000000000001")
        .query(&mut con)
        .unwrap();

    let starts = [0, 1_000, EXACT - 50, EXACT, (1 << 53) + 7, u64::MAX - 20];
    let seen_after = [0u64, 5, 100];
    let idles = [1u32, 10, 100, u32::MAX];
    let absolutes = [1u32, 10, 200, u32::MAX];
    // (request's address digest, the session's quiet address, known?)
    let clients: [(&str, &str, bool); 4] = [
        ("", "0", true),
        ("77", "77", true),
        ("77", "78", false),
        ("77", "0", false),
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
                                .arg(&[
                                    ("c", c.to_string()),
                                    ("ls", ls.to_string()),
                                    ("i", i.to_string()),
                                    ("a", a.to_string()),
                                    ("q", quiet.to_string()),
                                    ("ua", "5".to_string()),
                                    ("st", "a".to_string()),
                                ])
                                .ignore();
                            pipe.cmd("DEL").arg(&anon).ignore();
                            pipe.query::<()>(&mut con).unwrap();
                            let reply: Vec<redis::Value> = script
                                .key(&token)
                                .key(&meta)
                                .key(&anon)
                                .arg(format!("{root}s:"))
                                .arg("touch")
                                .arg(now)
                                .arg(ip)
                                .arg("5")
                                .invoke(&mut con)
                                .unwrap();
                            let touched = reply[1] == redis::Value::Int(1);
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
                            let lru: Option<f64> = redis::cmd("ZSCORE")
                                .arg(&anon)
                                .arg("0000000000000001")
                                .query(&mut con)
                                .unwrap();
                            // The record as returned is the record as stored (Rust
                            // decides from it): after the touch, with its last-seen time.
                            let fields: Vec<(String, String)> =
                                redis::from_redis_value_ref(&reply[3]).unwrap();
                            let returned = fields.iter().find(|(k, _)| k == "ls").unwrap();
                            assert_eq!(returned.1, ls_now.to_string());
                            if touched {
                                // Last seen never moves back; an anonymous session goes to
                                // the tail of the eviction order.
                                assert_eq!(ls_now, ls.max(now));
                                assert!(lru.is_some());
                                touched_live += 1;
                            } else {
                                assert_eq!(ls_now, ls, "a session not touched is not written");
                                assert!(lru.is_none());
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
    let _: () = redis::cmd("HSET")
        .arg(format!("{root}t:tok"))
        .arg("s")
        .arg("0000000000000002")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&record)
        .arg(&[
            ("c", "0"),
            ("ls", "0"),
            ("i", "100"),
            ("a", "100"),
            ("st", "a"),
        ])
        .query(&mut con)
        .unwrap();
    let reply: Vec<redis::Value> = redis::Script::new(LOOKUP)
        .key(format!("{root}t:tok"))
        .key(format!("{root}m"))
        .key(format!("{root}a"))
        .arg(format!("{root}s:"))
        .arg("peek")
        .arg(50)
        .arg("")
        .arg("")
        .invoke(&mut con)
        .unwrap();
    assert_eq!(reply[1], redis::Value::Int(0));
    let ls: u64 = redis::cmd("HGET")
        .arg(&record)
        .arg("ls")
        .query(&mut con)
        .unwrap();
    assert_eq!(ls, 0);
}
