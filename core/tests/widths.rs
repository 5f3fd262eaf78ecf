//! The numbers the core stores per session (slot links, chain heads, wheel links, index
//! cells) are `u32`, or `u16` in a build with the feature `narrow` (`sessile::Ix`). These
//! tests run in both builds (`make test-core` runs the core's tests in each) and reach the
//! numbers at the top of the narrow range: the last pool block, the highest slots (and so
//! the highest wheel nodes). Every answer must be what the default build gives.

use sessile::{Client, Config, Engine, Store};

/// A payload chain may start at the pool's very last block: in a narrow build block
/// 65,535, the stored "no block" value, told apart by the payload's length.
#[test]
fn the_last_pool_block_heads_a_payload() {
    // 4 MiB: 65,536 blocks, a narrow build's most (`MAX_POOL_BYTES`).
    let pool_bytes = 4 * 1024 * 1024;
    let block = sessile::POOL_BLOCK;
    let blocks = pool_bytes as usize / block;
    let big = 64 * block; // 64 blocks
    let sessions = blocks / 64;
    let config = Config {
        capacity: sessions as u32 + 1,
        pool_bytes,
        max_payload: big as u32,
        tombstones: 16,
        ..Config::default()
    };
    let mut e = Engine::new(config, [3; 32]).expect("config");
    let mut handles = Vec::new();
    // Every block but the last: the blocks are handed out in order.
    for k in 0..sessions {
        let (t, s) = e.create(1, &Client::NONE).expect("room");
        let len = if k + 1 == sessions { big - block } else { big };
        let data = vec![k as u8; len];
        e.write(s.handle, &data, 1).expect("pool room");
        handles.push((t, s.handle, data));
    }
    // The last block, as the head of a one-block payload.
    let (t, s) = e.create(1, &Client::NONE).expect("room");
    e.write(s.handle, b"last", 1).expect("the last block");
    let mut out = vec![0; big];
    let n = e.read(s.handle, &mut out, 2).expect("live");
    assert_eq!(&out[..n], b"last");
    for (_, h, data) in &handles {
        let n = e.read(*h, &mut out, 2).expect("live");
        assert_eq!(&out[..n], &data[..]);
    }
    // Ending it frees that block: a session emptied of its 64 blocks and refilled with 65
    // fits only with it back.
    e.logout(t.as_bytes(), 3).expect("live");
    let (_, h, _) = &handles[0];
    e.write(*h, b"", 3).expect("live");
    let again = e.create(3, &Client::NONE).expect("room").1.handle;
    e.write(again, &vec![9; big], 3)
        .expect("room: 64 + the last block");
    e.write(*h, &[1], 3).expect("room: one block");
}

/// An engine at the largest capacity: the highest slots are created, found, logged in and
/// out, listed and swept like the first.
#[test]
fn the_highest_slots_live_and_die_like_the_first() {
    // A narrow build's most (`MAX_CAPACITY`).
    let capacity = 65_149;
    let config = Config {
        capacity,
        idle_timeout_ms: 1_000,
        absolute_timeout_ms: 10_000,
        ..Config::default()
    };
    let mut e = Engine::new(config, [4; 32]).expect("config");
    let mut tokens = Vec::with_capacity(capacity as usize);
    for _ in 0..capacity {
        tokens.push(e.create(1, &Client::NONE).expect("room").0);
    }
    assert_eq!(e.stats().live, capacity);
    // Log in the last hundred created (the highest slots), two per user.
    let mut logged = Vec::new();
    for (k, t) in tokens.iter().skip(capacity as usize - 100).enumerate() {
        let user = format!("u{}", k / 2);
        let (t2, _) = e.login(t.as_bytes(), user.as_bytes(), 2).expect("live");
        assert!(
            e.validate(t.as_bytes(), 2, &Client::NONE).is_err(),
            "rotated out"
        );
        logged.push((user, t2));
    }
    for (user, t) in &logged {
        assert_eq!(e.sessions_of(user.as_bytes(), 3).count(), 2);
        assert!(e.validate(t.as_bytes(), 500, &Client::NONE).is_ok());
    }
    let (user, t) = &logged[99];
    e.logout(t.as_bytes(), 500).expect("live");
    assert_eq!(e.sessions_of(user.as_bytes(), 500).count(), 1);
    // The logout freed one slot; then full: the second new anonymous session evicts an
    // anonymous one, never a logged-in one.
    e.create(600, &Client::NONE).expect("room");
    e.create(600, &Client::NONE).expect("room");
    // The logged-in sessions (validated at 500) and the two new ones outlive the idle
    // timeout of the anonymous ones made at 1 (one of which was evicted).
    assert_eq!(e.sweep(1_200), capacity as usize - 101);
    assert_eq!(e.stats().live, 99 + 2);
    for (_, t) in &logged[..99] {
        assert!(e.validate(t.as_bytes(), 1_200, &Client::NONE).is_ok());
    }
    assert_eq!(e.sweep(5_000), 101);
    assert_eq!(e.stats().live, 0);
}
