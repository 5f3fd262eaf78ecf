//! The demo login server over the core engine (std only, no web framework), following
//! the contract in tests/e2e/README.md: `GET /`, `POST /login`, `GET /profile`,
//! `POST /logout`, `POST /logout-everywhere`, `GET /sessions`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use sessile::shared::SharedEngine;
use sessile::{Client, Config, Session, Store};

/// Largest request head and body we read; more is a 4xx, never a crash.
const MAX_HEAD: usize = 32 * 1024;
const MAX_BODY: usize = 8 * 1024;
const USERS: &[(&str, &str)] = &[("admin", "admin"), ("alice", "alice"), ("bob", "bob")];

struct Request {
    method: String,
    path: String,
    cookie: Option<Vec<u8>>,
    user_agent: Option<Vec<u8>>,
    body: Vec<u8>,
    ip: String,
}

struct Response {
    status: u16,
    set_cookie: Option<String>,
    body: String,
}

impl Response {
    fn new(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            set_cookie: None,
            body: body.into(),
        }
    }
}

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Tests only (tests/e2e/README.md): milliseconds added to the engine's clock, read from
/// the file `SESSILE_CLOCK_OFFSET_FILE` names at each request, so a test moves time on
/// without waiting.
fn clock_offset_ms() -> u64 {
    std::env::var_os("SESSILE_CLOCK_OFFSET_FILE")
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|ms| ms.trim().parse().ok())
        .unwrap_or(0)
}

fn config() -> Result<Config, sessile::ConfigError> {
    let defaults = Config::default();
    let config = Config {
        capacity: env_u32("SESSILE_CAPACITY", defaults.capacity),
        idle_timeout_ms: env_u32("SESSILE_IDLE_MS", defaults.idle_timeout_ms),
        absolute_timeout_ms: env_u32("SESSILE_ABSOLUTE_MS", defaults.absolute_timeout_ms),
        ..defaults
    };
    config.validate().map(|()| config)
}

fn main() {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let config = match config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bad configuration: {e}");
            std::process::exit(2);
        }
    };
    let engine = match SharedEngine::new(config) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("cannot start engine: {e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(format!("127.0.0.1:{port}")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on 127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || serve(&engine, stream));
    }
}

fn serve(engine: &SharedEngine, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let response = match read_request(&stream) {
        Ok(req) => handle(engine, &req),
        Err(status) => Response::new(status, "bad request\n"),
    };
    // Log after the response is computed, outside the engine lock.
    for e in engine.with(|e| e.drain_events().collect::<Vec<_>>()) {
        eprintln!(
            "sessile-event {} session={:016x}",
            e.kind.as_str(),
            e.session
        );
    }
    let _ = write_response(&mut stream, &response);
}

fn read_request(stream: &TcpStream) -> Result<Request, u16> {
    let mut reader = BufReader::new(stream.take((MAX_HEAD + MAX_BODY) as u64));
    let mut head_len = 0;
    let mut line = Vec::new();
    let mut read_line = |reader: &mut BufReader<_>, line: &mut Vec<u8>| -> Result<(), u16> {
        line.clear();
        let n = reader.read_until(b'\n', line).map_err(|_| 400u16)?;
        head_len += n;
        if n == 0 || head_len > MAX_HEAD {
            return Err(431);
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        Ok(())
    };
    read_line(&mut reader, &mut line)?;
    let start = String::from_utf8_lossy(&line).into_owned();
    let mut parts = start.split(' ');
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) if !m.is_empty() => (m.to_owned(), p.to_owned()),
        _ => return Err(400),
    };
    let mut cookie: Option<Vec<u8>> = None;
    let mut user_agent = None;
    let mut content_length = 0usize;
    loop {
        read_line(&mut reader, &mut line)?;
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(400);
        };
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        let value = line[colon + 1..].trim_ascii().to_vec();
        match name.as_str() {
            // Several Cookie headers are joined as a browser would send one.
            "cookie" => match &mut cookie {
                Some(c) => {
                    c.extend_from_slice(b"; ");
                    c.extend_from_slice(&value);
                }
                None => cookie = Some(value),
            },
            "user-agent" => user_agent = Some(value),
            "content-length" => {
                content_length = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .ok_or(400u16)?
            }
            _ => {}
        }
    }
    if content_length > MAX_BODY {
        return Err(413);
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).map_err(|_| 400u16)?;
    let ip = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    Ok(Request {
        method,
        path,
        cookie,
        user_agent,
        body,
        ip,
    })
}

fn write_response(stream: &mut TcpStream, r: &Response) -> std::io::Result<()> {
    let reason = match r.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nVary: Cookie\r\nConnection: close\r\n",
        r.status,
        r.body.len()
    );
    if let Some(c) = &r.set_cookie {
        head.push_str(&format!("Set-Cookie: {c}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(r.body.as_bytes())
}

/// The session the request carries, if its cookie names a live one. A malformed or
/// oversized Cookie header is no session; duplicated cookies follow the engine's rule
/// (`Engine::validate_cookie`).
fn current(engine: &SharedEngine, req: &Request, now: u64) -> Option<(Vec<u8>, Session)> {
    let header = req.cookie.as_deref()?;
    let client = Client {
        ip: Some(req.ip.as_bytes()),
        user_agent: req.user_agent.as_deref(),
    };
    engine.with(|e| {
        let (token, session) = e.validate_cookie(header, now, &client).ok()??;
        Some((token.to_vec(), session))
    })
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| url_decode(v))?
    })
}

fn url_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn handle(engine: &SharedEngine, req: &Request) -> Response {
    let now = engine.now_ms().saturating_add(clock_offset_ms());
    let session = current(engine, req, now);
    let user = session
        .as_ref()
        .and_then(|(_, s)| s.principal.and_then(|p| p.as_str().map(str::to_owned)));
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => {
            if session.is_some() {
                return Response::new(200, "sessile demo\n");
            }
            let client = Client {
                ip: Some(req.ip.as_bytes()),
                user_agent: req.user_agent.as_deref(),
            };
            match engine.with(|e| {
                let (t, s) = e.create(now, &client)?;
                e.set_cookie(t.as_str(), s.handle, now)
            }) {
                Ok(cookie) => Response {
                    status: 200,
                    set_cookie: Some(cookie.to_string()),
                    body: "sessile demo\n".into(),
                },
                Err(e) => Response::new(503, format!("{e}\n")),
            }
        }
        ("POST", "/login") => {
            let Ok(body) = std::str::from_utf8(&req.body) else {
                return Response::new(400, "bad form\n");
            };
            let (Some(name), Some(password)) =
                (form_field(body, "username"), form_field(body, "password"))
            else {
                return Response::new(400, "username and password required\n");
            };
            if !USERS.iter().any(|(u, p)| *u == name && *p == password) {
                return Response::new(401, "bad credentials\n");
            }
            let client = Client {
                ip: Some(req.ip.as_bytes()),
                user_agent: req.user_agent.as_deref(),
            };
            let result = engine.with(|e| {
                // Log the current session in (its ID rotates: fixation-proof), or start one.
                let token = match &session {
                    Some((token, _)) => token.clone(),
                    None => e.create(now, &client)?.0.as_bytes().to_vec(),
                };
                let (t, s) = e.login(&token, name.as_bytes(), now)?;
                e.set_cookie(t.as_str(), s.handle, now)
            });
            match result {
                Ok(cookie) => Response {
                    status: 200,
                    set_cookie: Some(cookie.to_string()),
                    body: format!("logged in as {name}\n"),
                },
                Err(e) => Response::new(503, format!("{e}\n")),
            }
        }
        ("GET", "/profile") => match user {
            Some(u) => Response::new(200, format!("profile of {u}\n")),
            None => Response::new(401, "not logged in\n"),
        },
        ("POST", "/logout") => {
            // A dead token was already looked up above, which reports its reuse as an event.
            if let Some((token, _)) = &session {
                let _ = engine.with(|e| e.logout(token, now));
            }
            let cookie = engine.with(|e| e.clear_cookie()).map(|c| c.to_string());
            Response {
                status: 200,
                set_cookie: cookie,
                body: "logged out\n".into(),
            }
        }
        ("POST", "/logout-everywhere") => match user {
            Some(u) => {
                let n = engine.with(|e| e.revoke_principal(u.as_bytes(), now));
                let cookie = engine.with(|e| e.clear_cookie()).map(|c| c.to_string());
                Response {
                    status: 200,
                    set_cookie: cookie,
                    body: format!("ended {n} sessions\n"),
                }
            }
            None => Response::new(401, "not logged in\n"),
        },
        ("GET", "/sessions") => match user {
            Some(u) => {
                let n = engine.with(|e| e.sessions_of(u.as_bytes(), now).count());
                Response::new(200, format!("{{\"count\": {n}}}\n"))
            }
            None => Response::new(401, "not logged in\n"),
        },
        (_, "/" | "/login" | "/profile" | "/logout" | "/logout-everywhere" | "/sessions") => {
            Response::new(405, "method not allowed\n")
        }
        _ => Response::new(404, "not found\n"),
    }
}
