//! Invariant 2: a forked child never continues its parent's ID stream. `SharedEngine`
//! notices the pid change and reseeds from the OS before the child's first ID. The engine
//! here has a fixed seed, so without the reseed parent and child would issue identical
//! tokens; the test compares what each really issued, passed back through a pipe.
#![cfg(unix)]

use sessile::shared::SharedEngine;
use sessile::{Client, Config, MAX_TOKEN_CHARS, Store};

const PER_PROCESS: usize = 4;
const RECORD: usize = PER_PROCESS * MAX_TOKEN_CHARS;

fn engine() -> SharedEngine {
    let config = Config {
        capacity: 64,
        pool_bytes: 1024,
        max_payload: 64,
        ..Config::default()
    };
    SharedEngine::with_seed(config, [0x42; 32]).unwrap()
}

/// The next `PER_PROCESS` tokens, concatenated (all are `MAX_TOKEN_CHARS` long).
fn issue(engine: &SharedEngine) -> [u8; RECORD] {
    let mut out = [0u8; RECORD];
    for i in 0..PER_PROCESS {
        let (t, _) = engine.with(|e| e.create(0, &Client::NONE)).unwrap();
        out[i * MAX_TOKEN_CHARS..(i + 1) * MAX_TOKEN_CHARS].copy_from_slice(t.as_bytes());
    }
    out
}

/// Fork a child that issues its tokens and writes them to a pipe; returns what it wrote.
/// The child only locks, draws OS entropy and writes: no allocation after fork.
fn child_tokens(engine: &SharedEngine) -> [u8; RECORD] {
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let out = issue(engine);
        let ok = unsafe { libc::write(fds[1], out.as_ptr().cast(), out.len()) } == RECORD as isize;
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    unsafe { libc::close(fds[1]) };
    let mut buf = [0u8; RECORD];
    let mut got = 0;
    while got < RECORD {
        let n = unsafe { libc::read(fds[0], buf[got..].as_mut_ptr().cast(), RECORD - got) };
        assert!(n > 0, "child wrote {got} bytes");
        got += n as usize;
    }
    unsafe { libc::close(fds[0]) };
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    buf
}

fn tokens(record: &[u8; RECORD]) -> Vec<&[u8]> {
    record.chunks(MAX_TOKEN_CHARS).collect()
}

#[test]
fn forked_children_never_repeat_the_parents_ids() {
    let reference = engine();
    let parent = engine();
    // Same seed: the two engines agree until one of them is forked.
    let before = issue(&parent);
    assert_eq!(before, issue(&reference));

    let child_a = child_tokens(&parent);
    let child_b = child_tokens(&parent);
    let after = issue(&parent);
    // The parent itself goes on with its own stream, unaffected by its children.
    assert_eq!(after, issue(&reference));

    let mut all: Vec<&[u8]> = Vec::new();
    for r in [&before, &child_a, &child_b, &after] {
        all.extend(tokens(r));
    }
    for t in &all {
        assert_eq!(t.len(), MAX_TOKEN_CHARS);
        assert!(
            t.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        );
    }
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        all.len(),
        "a token was issued twice across parent and children"
    );
}

/// The guard is asked before every draw, whichever operation draws: a login or a rotation
/// that is the child's first draw must not continue the parent's stream either, and a
/// validation (which draws nothing) before it must not use the check up.
#[test]
fn the_fork_guard_reseeds_before_any_draw_not_just_create() {
    use sessile::{Engine, ForkGuard, HeapStorage};
    use std::sync::atomic::{AtomicU32, Ordering};
    static EPOCH: AtomicU32 = AtomicU32::new(1);
    let guard = ForkGuard {
        epoch: || EPOCH.load(Ordering::SeqCst),
        seed: || Some([EPOCH.load(Ordering::SeqCst) as u8; 32]),
    };
    let make = |guarded: bool| {
        let config = Config {
            capacity: 64,
            pool_bytes: 1024,
            max_payload: 64,
            ..Config::default()
        };
        let mut e = Engine::new(config, [7; 32]).unwrap();
        if guarded {
            e.set_fork_guard(guard);
        }
        e
    };
    let first_draw = |e: &mut Engine<HeapStorage>, op: &str, t: &[u8]| match op {
        "login" => e.login(t, b"alice", 3).unwrap().0,
        "rotate" => e.rotate(t, 3).unwrap().0,
        _ => e.create(3, &Client::NONE).unwrap().0,
    };
    for op in ["login", "rotate", "create"] {
        let (mut child, mut parent, mut twin) = (make(true), make(false), make(false));
        let t = child.create(0, &Client::NONE).unwrap().0;
        assert_eq!(
            t.as_bytes(),
            parent.create(0, &Client::NONE).unwrap().0.as_bytes()
        );
        assert_eq!(
            t.as_bytes(),
            twin.create(0, &Client::NONE).unwrap().0.as_bytes()
        );

        EPOCH.fetch_add(1, Ordering::SeqCst); // the "fork"
        child.validate(t.as_bytes(), 1, &Client::NONE).unwrap();
        let from_parent = first_draw(&mut parent, op, t.as_bytes());
        // Without a guard the stream simply continues (so the check below can fail) ...
        assert_eq!(
            from_parent.as_bytes(),
            first_draw(&mut twin, op, t.as_bytes()).as_bytes()
        );
        // ... with one, the child's first draw comes from a fresh seed.
        let from_child = first_draw(&mut child, op, t.as_bytes());
        assert_ne!(
            from_child.as_bytes(),
            from_parent.as_bytes(),
            "{op}: parent's stream continued"
        );
    }
}

/// With no entropy to be had in the child, an operation that would issue a token fails
/// closed with `Entropy` (never a seed guessable from the pid and the time) and changes
/// nothing: the session it was given is still there, unrotated.
#[test]
fn a_child_without_entropy_issues_no_token() {
    use sessile::{Engine, Error, ForkGuard};
    use std::sync::atomic::{AtomicU32, Ordering};
    static EPOCH: AtomicU32 = AtomicU32::new(1);
    let mut e = Engine::new(Config::default(), [9; 32]).unwrap();
    e.set_fork_guard(ForkGuard {
        epoch: || EPOCH.load(Ordering::SeqCst),
        seed: || None,
    });
    let (t, _) = e.create(0, &Client::NONE).unwrap();
    EPOCH.store(2, Ordering::SeqCst); // the "fork"
    assert_eq!(e.create(1, &Client::NONE).unwrap_err(), Error::Entropy);
    assert_eq!(
        e.login(t.as_bytes(), b"alice", 1).unwrap_err(),
        Error::Entropy
    );
    assert_eq!(e.rotate(t.as_bytes(), 1).unwrap_err(), Error::Entropy);
    let s = e.validate(t.as_bytes(), 2, &Client::NONE).unwrap();
    assert_eq!(s.principal, None);
    assert_eq!(e.stats().live, 1);
    // Once a seed is given, the child works again.
    e.reseed([10; 32]);
    assert!(e.create(3, &Client::NONE).is_ok());
}

/// A cloned process (VM snapshot, CRIU restore) keeps its pid, so the fork guard cannot
/// see it: `reseed()` takes the engine off the stream the clone shares.
#[test]
fn reseed_leaves_the_shared_stream() {
    let reference = engine();
    let clone = engine();
    assert_eq!(issue(&clone), issue(&reference));
    clone.reseed().unwrap();
    assert_ne!(issue(&clone), issue(&reference));
}
