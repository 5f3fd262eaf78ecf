//! What the Redis store's tests share: a Redis server to talk to, and stores on fresh
//! prefixes of it.
//!
//! The server is `SESSILE_REDIS_URL` when set (`make test-redis` starts one on a unix
//! socket in a temporary folder and stops it afterwards); otherwise each test starts its
//! own `redis-server` (`SESSILE_REDIS_SERVER`, else the one on `PATH`) the same way, and
//! stops it when done. Tests that stop and restart the server always start their own.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sessile::{Config, Error};
use sessile_redis::{RedisConfig, RedisStore};

/// The deployment key every test store uses.
pub const KEY: [u8; 32] = *b"sessile redis store test key 32b";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A prefix no other store of this test run uses.
pub fn fresh_prefix(name: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("test-{name}-{}-{n}", std::process::id())
}

/// A `redis-server` this test started, on a unix socket in a temporary folder, with
/// neither snapshots nor AOF unless asked; stopped (and its folder removed) on drop.
pub struct Server {
    child: Option<Child>,
    dir: PathBuf,
    args: Vec<String>,
    pub url: String,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// With extra `redis-server` arguments (e.g. `--appendonly yes`).
    pub fn start_with(extra: &[&str]) -> Server {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sessile-redis-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let sock = dir.join("redis.sock");
        let mut args: Vec<String> = [
            "--port",
            "0",
            "--unixsocket",
            sock.to_str().unwrap(),
            "--unixsocketperm",
            "700",
            "--dir",
            dir.to_str().unwrap(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut s = Server {
            child: None,
            url: format!("unix://{}", sock.display()),
            dir,
            args,
        };
        s.resume();
        s
    }

    /// Start (again) on the same socket and folder.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let bin = std::env::var("SESSILE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&bin)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin} ({e}): install redis-server (make tools-redis)")
            });
        self.child = Some(child);
        // Ready when it answers PING (bounded: a server that never comes up fails here).
        let started = Instant::now();
        loop {
            let ok = redis::Client::open(self.url.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if ok.is_ok() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kill it (`SIGKILL`: no chance to save anything) and wait for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// A command on a connection of its own.
    pub fn cmd<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> T {
        let mut c = redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        cmd.query(&mut c).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server a test talks to: the shared one, or one of its own (kept alive by the
/// returned guard).
pub fn server() -> (String, Option<Server>) {
    match std::env::var("SESSILE_REDIS_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let s = Server::start();
            (s.url.clone(), Some(s))
        }
    }
}

/// The Redis side of a test store on `url`, on a fresh prefix; dead tokens are
/// remembered for a day, far longer than any test runs, so none expires by time.
/// Timeouts of 2 s, not the 100 ms default: a machine busy with the rest of `make test`
/// can hold a healthy server's reply past 100 ms, and a test of something else must not
/// fail on that (failure.rs, which tests the timeouts, puts the defaults back).
pub fn redis_config(url: &str, name: &str) -> RedisConfig {
    let mut r = RedisConfig::new(url, KEY);
    r.prefix = fresh_prefix(name);
    r.tombstone_ttl_ms = Some(86_400_000);
    r.connect_timeout = Duration::from_secs(2);
    r.response_timeout = Duration::from_secs(2);
    r
}

/// A store on a fresh prefix of `url`.
pub fn store(url: &str, name: &str, config: Config) -> RedisStore {
    RedisStore::with_seed(config, &redis_config(url, name), [7; 32]).unwrap()
}

/// A second store (another process's, say) on the same deployment as `r`.
pub fn peer(r: &RedisConfig, config: Config) -> Result<RedisStore, Error> {
    RedisStore::new(config, r)
}

/// A session for the counter tests (its payload a decimal counter, starting at "0"),
/// made at `now` through a store on a fresh prefix named `name`; with the Redis side, so
/// that each thread or process can open its own store on it.
pub fn counter_session(
    url: &str,
    name: &str,
    config: Config,
    now: u64,
) -> (RedisConfig, sessile::Token) {
    use sessile::Store;
    let r = redis_config(url, name);
    let mut s = peer(&r, config).unwrap();
    let (t, h) = s.create(now, &sessile::Client::NONE).unwrap();
    s.write(h.handle, b"0", now).unwrap();
    (r, t)
}

/// A counter payload's value (0 when it is not a number yet).
pub fn counter(data: &[u8]) -> u64 {
    std::str::from_utf8(data).unwrap().parse().unwrap_or(0)
}
