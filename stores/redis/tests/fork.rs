//! Forked workers (gunicorn `--preload` forks after the app, and its store, were made):
//! a child never uses its parent's connection (it makes its own; the parent's keeps
//! working), never repeats its parent's tokens, and parent and children together lose
//! no update. One test in this binary, so the fork happens with no other test running.
#![cfg(unix)]

mod support;

use sessile::{Client, Config, Error, Saved, Store, StoreError};
use sessile_redis::RedisStore;

const NONE: &Client<'static> = &Client::NONE;
const NOW: u64 = 1_000_000;
const INCREMENTS: usize = 20;

/// Fork; the child runs `f` and exits with its code (0 = success), writing `out` (at
/// most 64 bytes) to a pipe first. Returns the child's pid and what it wrote.
fn fork_child(f: impl FnOnce() -> (i32, Vec<u8>)) -> (i32, i32) {
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe { libc::close(fds[0]) };
        let (code, out) = f();
        let n = unsafe { libc::write(fds[1], out.as_ptr().cast(), out.len()) };
        let code = if n == out.len() as isize { code } else { 90 };
        unsafe { libc::_exit(code) };
    }
    unsafe { libc::close(fds[1]) };
    (pid, fds[0])
}

/// Wait for a child; its exit code and what it wrote.
fn join(pid: i32, fd: i32) -> (i32, Vec<u8>) {
    let mut buf = vec![0u8; 64];
    let mut got = 0;
    loop {
        let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    unsafe { libc::close(fd) };
    buf.truncate(got);
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died");
    (libc::WEXITSTATUS(status), buf)
}

fn increment(s: &mut RedisStore, token: &[u8]) -> Result<(), String> {
    for _ in 0..10_000 {
        let l = match s.load(token, NOW, NONE) {
            Ok(l) => l,
            Err(Error::Store(StoreError::Conflict)) => continue,
            Err(e) => return Err(format!("load: {e}")),
        };
        let data: Vec<u8> = l.payload.flatten().copied().collect();
        let n: u64 = std::str::from_utf8(&data).unwrap().parse().unwrap_or(0);
        let (h, e) = (l.session.handle, l.session.epoch);
        match s.save(h, e, (n + 1).to_string().as_bytes(), NOW) {
            Ok(Saved::Written) => return Ok(()),
            Ok(Saved::Dropped) | Err(Error::Store(StoreError::Conflict)) => {}
            other => return Err(format!("save: {other:?}")),
        }
    }
    Err("no save landed".into())
}

#[test]
fn a_parent_and_its_forked_children_share_the_store_safely() {
    let (url, _server) = support::server();
    let r = support::redis_config(&url, "fork");
    let config = Config::default();
    // A fixed seed: a child that kept the parent's generator would issue exactly the
    // token the parent issues next.
    let mut parent = RedisStore::with_seed(config, &r, [0x42; 32]).unwrap();
    let (t, s) = parent.create(NOW, NONE).unwrap();
    parent.write(s.handle, b"0", NOW).unwrap();
    // The parent's connection is open now: the child inherits it.
    assert!(parent.validate(t.as_bytes(), NOW, NONE).is_ok());

    let (pid, fd) = fork_child(|| {
        if parent.validate(t.as_bytes(), NOW, NONE).is_err() {
            return (1, Vec::new());
        }
        match parent.create(NOW, NONE) {
            Ok((mine, _)) => (0, mine.as_bytes().to_vec()),
            Err(_) => (2, Vec::new()),
        }
    });
    let (code, child_token) = join(pid, fd);
    assert_eq!(code, 0, "the child could not use the store");
    // The parent's connection was left alone: it still works, and the parent goes on
    // with its own token stream, which the child never repeated.
    assert!(parent.validate(t.as_bytes(), NOW, NONE).is_ok());
    let (next, _) = parent.create(NOW, NONE).unwrap();
    assert_ne!(
        child_token,
        next.as_bytes().to_vec(),
        "the child repeated the parent's stream"
    );
    assert!(
        parent.validate(&child_token, NOW, NONE).is_ok(),
        "the child's session is shared"
    );

    // Parent and three children increment one counter, each INCREMENTS times.
    let children: Vec<(i32, i32)> = (0..3)
        .map(|_| {
            fork_child(|| {
                match (0..INCREMENTS).try_for_each(|_| increment(&mut parent, t.as_bytes())) {
                    Ok(()) => (0, Vec::new()),
                    Err(e) => (3, e.into_bytes()),
                }
            })
        })
        .collect();
    for _ in 0..INCREMENTS {
        increment(&mut parent, t.as_bytes()).unwrap();
    }
    for (pid, fd) in children {
        let (code, msg) = join(pid, fd);
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&msg));
    }
    let l = parent.load(t.as_bytes(), NOW, NONE).unwrap();
    let data: Vec<u8> = l.payload.flatten().copied().collect();
    assert_eq!(data, (4 * INCREMENTS).to_string().into_bytes());
}
