//! A store over plain TCP (`redis://`), on the store's own socket (`link.rs`): a server
//! with a password and a database number gets `AUTH` and `SELECT` first, sessions work
//! there and only there, and a wrong password is a typed refusal, never a session.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sessile::{Client, Config, Error, Store, StoreError};
use sessile_redis::{RedisConfig, RedisStore};

const NONE: &Client<'static> = &Client::NONE;
const NOW: u64 = 1_000_000;

/// A `redis-server` on a free 127.0.0.1 port with `requirepass`, killed on drop.
struct TcpServer {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tcp_server(password: &str) -> TcpServer {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("sessile-tcp-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = std::env::var("SESSILE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let child = Command::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--requirepass", password, "--dir", dir.to_str().unwrap()])
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (make tools-redis)");
    let server = TcpServer { child, port, dir };
    let started = Instant::now();
    let url = format!("redis://:{password}@127.0.0.1:{port}/0");
    while redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server
}

fn keys_in(server: &TcpServer, db: u8) -> u64 {
    let url = format!("redis://:secret@127.0.0.1:{}/{db}", server.port);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    redis::cmd("DBSIZE").query(&mut c).unwrap()
}

#[test]
fn over_tcp_with_a_password_and_a_database_sessions_live_in_that_database() {
    let server = tcp_server("secret");
    let url = format!("redis://default:secret@127.0.0.1:{}/3", server.port);
    let mut s = RedisStore::with_seed(
        Config::default(),
        &RedisConfig::new(&url, support::KEY),
        [3; 32],
    )
    .unwrap();
    let (token, session) = s.create(NOW, NONE).unwrap();
    s.write(session.handle, b"{\"cart\":[1,2]}", NOW).unwrap();
    let loaded = s.load(token.as_bytes(), NOW + 1, NONE).unwrap();
    assert_eq!(loaded.session.handle, session.handle);
    let mut out = [0u8; 64];
    let n = s.read(session.handle, &mut out, NOW + 1).unwrap();
    assert_eq!(&out[..n], b"{\"cart\":[1,2]}");
    // SELECT was sent: the keys are in database 3, none in 0.
    assert!(keys_in(&server, 3) > 0);
    assert_eq!(keys_in(&server, 0), 0);

    // The wrong password: refused, never a session.
    let wrong = format!("redis://default:nope@127.0.0.1:{}/3", server.port);
    let mut w = RedisStore::with_seed(
        Config::default(),
        &RedisConfig::new(&wrong, support::KEY),
        [3; 32],
    )
    .unwrap();
    assert_eq!(
        w.validate(token.as_bytes(), NOW + 2, NONE),
        Err(Error::Store(StoreError::Refused))
    );
}
