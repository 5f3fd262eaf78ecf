//! A reader of the process's memory (a core dump, a heap-disclosure bug, a debugger) gets
//! the engine's bytes. It must not be able to regenerate a token issued before the read.
//! This test is that attacker: it takes the bytes of an `Engine` after tokens were
//! issued, tries every 32-byte window as a ChaCha20 key (the generator's whole secret)
//! and searches the keystream, and the bytes themselves, for any issued token.

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sessile::{Client, Config, Engine, Store};

/// The raw bytes of a token (its base64url text decoded).
fn raw(token: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        _ => 63,
    };
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for &c in token.as_bytes() {
        bits = (bits << 6) | u32::from(val(c));
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// The engine's own bytes (the struct: generator, keys, counters, inline state).
fn bytes_of<T>(v: &T) -> Vec<u8> {
    // SAFETY: reads size_of::<T>() initialised-or-padding bytes of a live value, as a
    // memory reader would; padding is read as whatever it holds (u8 has no invalid values
    // and the copy is never interpreted as T).
    let p = v as *const T as *const u8;
    (0..size_of::<T>())
        .map(|i| unsafe { core::ptr::read_volatile(p.add(i)) })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every token issued so far that the attacker recovers from `memory`.
fn recovered(memory: &[u8], issued: &[Vec<u8>]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut stream = vec![0u8; 4096];
    for start in 0..memory.len().saturating_sub(31) {
        let mut key = [0u8; 32];
        key.copy_from_slice(&memory[start..start + 32]);
        ChaCha20Rng::from_seed(key).fill_bytes(&mut stream);
        for (i, t) in issued.iter().enumerate() {
            // 12 bytes of a token are enough to recognise it (a chance match is 2^-96).
            if contains(&stream, &t[..12]) && !found.contains(&i) {
                found.push(i);
            }
        }
    }
    for (i, t) in issued.iter().enumerate() {
        if contains(memory, &t[..12]) && !found.contains(&i) {
            found.push(i);
        }
    }
    found
}

#[test]
fn tokens_issued_before_a_memory_read_cannot_be_regenerated() {
    let config = Config {
        capacity: 64,
        ..Config::default()
    };
    let mut engine = Engine::new(config, [0x5a; 32]).unwrap();
    let mut issued = Vec::new();
    let (anon, _) = engine.create(0, &Client::NONE).unwrap();
    issued.push(raw(anon.as_str()));
    let (alice, _) = engine.login(anon.as_bytes(), b"alice", 1).unwrap();
    issued.push(raw(alice.as_str()));
    for now in 2..6 {
        let (t, _) = engine.create(now, &Client::NONE).unwrap();
        issued.push(raw(t.as_str()));
    }
    let memory = bytes_of(&engine);
    assert!(memory.len() >= 32);
    let found = recovered(&memory, &issued);
    assert!(
        found.is_empty(),
        "a memory reader regenerated issued tokens {found:?} from the engine's {} bytes",
        memory.len()
    );
    // The session is still there for its rightful holder.
    assert!(engine.validate(alice.as_bytes(), 7, &Client::NONE).is_ok());
}

/// The attack itself works: from a copy of the generator's state taken *before* tokens
/// are issued, the attacker does find them. (Guards the test above against searching in
/// the wrong place and passing vacuously.)
#[test]
fn the_attack_finds_tokens_issued_after_the_read() {
    let mut engine = Engine::new(Config::default(), [0x33; 32]).unwrap();
    let (_, _) = engine.create(0, &Client::NONE).unwrap();
    let memory = bytes_of(&engine);
    let (later, _) = engine.create(1, &Client::NONE).unwrap();
    let found = recovered(&memory, &[raw(later.as_str())]);
    assert_eq!(
        found,
        vec![0],
        "the attacker's search misses a predictable token"
    );
}
