//! The README's curl flow against the real demo binary over HTTP on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Demo {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(env: &[(&str, &str)]) -> Demo {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("sessile-demo-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The demo's clock runs this file's milliseconds ahead (tests/e2e/README.md): see
    // `advance`.
    std::fs::write(dir.join("clock"), "0").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sessile-demo"));
    cmd.env("PORT", port.to_string())
        .env("SESSILE_CLOCK_OFFSET_FILE", dir.join("clock"))
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("stderr")).unwrap(),
        ));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on 127.0.0.1:"), "{line}");
    Demo { child, port, dir }
}

/// Moves the demo's clock to `ms` milliseconds ahead of real time (only forward): a
/// timeout is tested without sleeping, so a slow machine cannot change the verdict.
fn advance(demo: &Demo, ms: u64) {
    let next = demo.dir.join("clock.new");
    std::fs::write(&next, ms.to_string()).unwrap();
    std::fs::rename(next, demo.dir.join("clock")).unwrap();
}

/// Runs curl; returns (status, body).
fn curl(demo: &Demo, args: &[&str], path: &str) -> (u16, String) {
    let url = format!("http://127.0.0.1:{}{path}", demo.port);
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .current_dir(&demo.dir)
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_owned())
}

fn jar_token(dir: &Path, jar: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(jar)).ok()?;
    text.lines()
        .rfind(|l| l.contains("__Host-sid"))
        .map(|l| l.rsplit('\t').next().unwrap().to_owned())
}

#[test]
fn readme_flow_login_profile_logout() {
    let demo = start(&[]);
    let (code, body) = curl(
        &demo,
        &["-c", "jar", "-d", "username=admin&password=admin"],
        "/login",
    );
    assert_eq!((code, body.trim()), (200, "logged in as admin"));
    let (code, body) = curl(&demo, &["-b", "jar"], "/profile");
    assert_eq!(code, 200);
    assert!(body.contains("admin"));
    let (code, _) = curl(&demo, &["-b", "jar", "-X", "POST"], "/logout");
    assert_eq!(code, 200);
    // The jar still holds the old cookie: the ID must be dead server-side.
    let (code, _) = curl(&demo, &["-b", "jar"], "/profile");
    assert_eq!(code, 401);
    let log = std::fs::read_to_string(demo.dir.join("stderr")).unwrap();
    assert!(
        log.contains("sessile-event reuse_after_logout session="),
        "{log}"
    );
}

#[test]
fn cookie_planted_before_login_dies_at_login() {
    let demo = start(&[]);
    let (code, _) = curl(&demo, &["-c", "planted"], "/");
    assert_eq!(code, 200);
    let planted = jar_token(&demo.dir, "planted").expect("anonymous cookie");
    std::fs::copy(demo.dir.join("planted"), demo.dir.join("victim")).unwrap();
    let (code, _) = curl(
        &demo,
        &[
            "-b",
            "victim",
            "-c",
            "victim",
            "-d",
            "username=alice&password=alice",
        ],
        "/login",
    );
    assert_eq!(code, 200);
    let after = jar_token(&demo.dir, "victim").unwrap();
    assert_ne!(after, planted, "login must issue a new ID");
    assert_eq!(curl(&demo, &["-b", "victim"], "/profile").0, 200);
    // The attacker's copy of the planted ID is worthless.
    assert_eq!(curl(&demo, &["-b", "planted"], "/profile").0, 401);
}

#[test]
fn set_cookie_has_secure_attributes() {
    let demo = start(&[]);
    let out = Command::new("curl")
        .args([
            "-s",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-d",
            "username=bob&password=bob",
        ])
        .arg(format!("http://127.0.0.1:{}/login", demo.port))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout);
    let line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap();
    for attr in [
        "__Host-sid=",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Max-Age=",
    ] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
    assert!(!line.contains("Domain"), "{line}");
}

#[test]
fn idle_timeout_from_environment() {
    let demo = start(&[
        ("SESSILE_IDLE_MS", "60000"),
        ("SESSILE_ABSOLUTE_MS", "3600000"),
    ]);
    curl(
        &demo,
        &["-c", "jar", "-d", "username=admin&password=admin"],
        "/login",
    );
    advance(&demo, 50_000);
    assert_eq!(curl(&demo, &["-b", "jar"], "/profile").0, 200);
    advance(&demo, 120_000);
    assert_eq!(curl(&demo, &["-b", "jar"], "/profile").0, 401);
}

#[test]
fn hostile_cookie_headers_never_5xx() {
    let demo = start(&[]);
    let long = format!("Cookie: __Host-sid={}", "A".repeat(20_000));
    let cases = [
        "Cookie: __Host-sid=",
        "Cookie: __Host-sid=\u{1}\u{2}garbage",
        "Cookie: __Host-sid=aaa; __Host-sid=bbb",
        "Cookie: ;;;===;",
        "Cookie: __Host-sid=\"unterminated",
        long.as_str(),
    ];
    for header in cases {
        let (code, _) = curl(&demo, &["-H", header], "/profile");
        assert!((400..500).contains(&code), "{header:.60} -> {code}");
        let (code, _) = curl(&demo, &["-H", header], "/");
        assert!(code < 500, "{header:.60} -> {code}");
    }
    // Still serving.
    assert_eq!(curl(&demo, &[], "/").0, 200);
}

#[test]
fn logout_everywhere_ends_other_sessions() {
    let demo = start(&[]);
    curl(
        &demo,
        &["-c", "a", "-d", "username=alice&password=alice"],
        "/login",
    );
    curl(
        &demo,
        &["-c", "b", "-d", "username=alice&password=alice"],
        "/login",
    );
    let (code, body) = curl(&demo, &["-b", "a"], "/sessions");
    assert_eq!((code, body.trim()), (200, "{\"count\": 2}"));
    let (code, body) = curl(&demo, &["-b", "a", "-X", "POST"], "/logout-everywhere");
    assert_eq!((code, body.trim()), (200, "ended 2 sessions"));
    assert_eq!(curl(&demo, &["-b", "b"], "/profile").0, 401);
}
