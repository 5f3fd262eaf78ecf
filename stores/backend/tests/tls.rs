//! `rediss://`: a store reached over TLS, its server's certificate checked against the
//! configured authority. The test makes a throwaway authority and server certificate
//! with `openssl` and starts its own `redis-server` with TLS on a free 127.0.0.1 port (no
//! plain port), stopped at the end.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sessile::vocabulary::Value;
use sessile::{Client, Config, ConfigError, Error, Store};
use sessile_backend::{Backend, StoreOptions};

const NONE: &Client<'static> = &Client::NONE;

struct Server {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (make tools-redis installs it)")
        .success();
    assert!(ok, "openssl {args:?}");
}

fn tls_server() -> Server {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sessile-tls-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = ["-newkey", "rsa:2048", "-nodes"];
    openssl(
        &dir,
        &[
            &["req", "-x509"][..],
            &key,
            &["-keyout", "ca.key", "-out", "ca.crt", "-days", "2"],
            &["-subj", "/CN=sessile test authority"],
        ]
        .concat(),
    );
    openssl(
        &dir,
        &[
            &["req"][..],
            &key,
            &[
                "-keyout",
                "srv.key",
                "-out",
                "srv.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.crt",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child =
        Command::new(std::env::var("SESSILE_REDIS_SERVER").unwrap_or("redis-server".into()))
            .args(["--port", "0", "--bind", "127.0.0.1", "--tls-port"])
            .arg(port.to_string())
            .args([
                "--tls-cert-file",
                "srv.crt",
                "--tls-key-file",
                "srv.key",
                "--tls-ca-cert-file",
                "ca.crt",
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (make tools-redis installs it)");
    let server = Server { child, dir, port };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server with TLS did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn options(url: &str, ca: Option<&Path>) -> StoreOptions {
    let mut o = StoreOptions::default();
    o.set("store", Value::Text(url)).unwrap();
    o.set("store_key", Value::Text(&"7a".repeat(32))).unwrap();
    o.set("store_connect_timeout_ms", Value::Int(2000)).unwrap();
    o.set("store_response_timeout_ms", Value::Int(2000))
        .unwrap();
    if let Some(ca) = ca {
        o.set("store_tls_ca", Value::Text(ca.to_str().unwrap()))
            .unwrap();
    }
    o
}

#[test]
fn sessions_over_tls_with_the_servers_authority_and_never_without_it() {
    let server = tls_server();
    let url = format!("rediss://localhost:{}/0", server.port);
    let ca = server.dir.join("ca.crt");

    // With the authority that signed the server's certificate: the store works.
    let b = Backend::open(Config::default(), &options(&url, Some(&ca)), None).unwrap();
    let now = b.now_ms();
    let (token, _) = b.with(|s| s.create(now, NONE)).unwrap();
    let header = format!("__Host-sid={}", token.as_str());
    let found = b.with(|s| {
        s.load_cookie(header.as_bytes(), now + 1, NONE)
            .map(|l| l.is_some())
    });
    assert_eq!(found, Ok(true));

    // Without it (the platform's trust store does not know this authority): no
    // connection, a typed error, never a session.
    let b = Backend::open(Config::default(), &options(&url, None), None).unwrap();
    let r = b.with(|s| {
        s.load_cookie(header.as_bytes(), now + 2, NONE)
            .map(|l| l.is_some())
    });
    assert!(matches!(r, Err(Error::Store(_))), "{r:?}");

    // The same server without TLS: refused by the server, a typed error too.
    let plain = format!("redis://localhost:{}/0", server.port);
    let b = Backend::open(Config::default(), &options(&plain, None), None).unwrap();
    let r = b.with(|s| {
        s.load_cookie(header.as_bytes(), now + 3, NONE)
            .map(|l| l.is_some())
    });
    assert!(matches!(r, Err(Error::Store(_))), "{r:?}");
}

#[test]
fn an_authority_file_that_cannot_serve_is_a_config_error_naming_its_key() {
    let bad = Err(Error::Config(ConfigError::BadValue {
        key: "store_tls_ca",
    }));
    let missing = Path::new("/nonexistent/ca.pem");
    let open = |o: &StoreOptions| Backend::open(Config::default(), o, None).map(|_| ());
    assert_eq!(open(&options("rediss://localhost:1/0", Some(missing))), bad);
    // Not a certificate.
    let not_pem = std::env::temp_dir().join(format!("sessile-not-pem-{}", std::process::id()));
    std::fs::write(&not_pem, "hello").unwrap();
    assert_eq!(
        open(&options("rediss://localhost:1/0", Some(&not_pem))),
        bad
    );
    let _ = std::fs::remove_file(&not_pem);
    // An authority for a connection that is not TLS.
    let server = tls_server();
    let ca = server.dir.join("ca.crt");
    assert_eq!(open(&options("redis://localhost:1/0", Some(&ca))), bad);
}
