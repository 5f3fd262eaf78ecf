//! The socket to the server, for a plain (not TLS) connection: the store's own, writing
//! the bytes redis-rs packs and reading replies with the `wire` module's parser.
//! redis-rs's synchronous connection parses replies with a general, resumable parser
//! (combine), which was most of the store's own client work per request (46k of 77k
//! instructions in the Flask bench's read-modify-write); a reply the store waits for is whole
//! once it has arrived, so a plain parser over the bytes read serves. Everything else
//! (commands, pipelines, scripts and their reload on `NOSCRIPT`, typed results) is still
//! redis-rs's, through [`redis::ConnectionLike`]; TLS connections (`rediss://`) stay
//! redis-rs's entirely.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo, ConnectionLike, RedisResult, Value};

use crate::wire::{Malformed, resp};

/// The connection a store talks through.
pub(crate) enum Link {
    /// redis-rs's own (TLS).
    Client(redis::Connection),
    /// A plain socket of the store's own.
    Plain(Plain),
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// Room the reply buffer starts with, and grows by when a reply does not fit.
const READ_CHUNK: usize = 16 * 1024;

pub(crate) struct Plain {
    stream: Stream,
    /// Bytes read and not yet parsed: `buf[start..end]`. The buffer is zeroed once, when
    /// it is allocated or grows, never per read (zeroing 16 KiB before every read was half
    /// of this client's instructions per request, and pushed the rest out of the cache).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    db: i64,
    open: bool,
}

/// The bytes to send first on a new connection (`AUTH` and `SELECT` as the URL asks,
/// then `SCRIPT LOAD` of each script) and how many replies they get.
pub(crate) fn hello(info: &ConnectionInfo, scripts: &[&str]) -> (Vec<u8>, u32) {
    let settings = info.redis_settings();
    let mut bytes = Vec::new();
    let mut replies = 0;
    if let Some(password) = settings.password() {
        let mut auth = redis::cmd("AUTH");
        if let Some(user) = settings.username() {
            auth.arg(user);
        }
        auth.arg(password);
        bytes.extend(auth.get_packed_command());
        replies += 1;
    }
    if settings.db() != 0 {
        bytes.extend(redis::cmd("SELECT").arg(settings.db()).get_packed_command());
        replies += 1;
    }
    for script in scripts {
        bytes.extend(
            redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(*script)
                .get_packed_command(),
        );
        replies += 1;
    }
    (bytes, replies)
}

impl Plain {
    /// A connection to a plain (unix socket or TCP) address, with `hello` sent and its
    /// replies checked; `None` for an address it does not serve (TLS).
    pub(crate) fn connect(
        info: &ConnectionInfo,
        connect: Duration,
        response: Duration,
        scripts: &[&str],
    ) -> Option<RedisResult<Plain>> {
        let stream = match info.addr() {
            ConnectionAddr::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
            ConnectionAddr::Tcp(host, port) => tcp(host, *port, connect).map(Stream::Tcp),
            _ => return None,
        };
        Some(Plain::start(stream, info, response, scripts))
    }

    fn start(
        stream: io::Result<Stream>,
        info: &ConnectionInfo,
        response: Duration,
        scripts: &[&str],
    ) -> RedisResult<Plain> {
        let stream = stream?;
        let t = Some(response);
        match &stream {
            Stream::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)?;
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)?;
            }
        }
        let mut plain = Plain {
            stream,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            db: info.redis_settings().db(),
            open: true,
        };
        let (bytes, replies) = hello(info, scripts);
        if replies > 0 {
            for reply in plain.req_packed_commands(&bytes, 0, replies as usize)? {
                reply.extract_error()?;
            }
        }
        Ok(plain)
    }

    fn send(&mut self, bytes: &[u8]) -> RedisResult<()> {
        let out = match &mut self.stream {
            Stream::Unix(s) => s.write_all(bytes),
            Stream::Tcp(s) => s.write_all(bytes),
        };
        out.map_err(|e| self.broken(e))
    }

    fn broken(&mut self, e: io::Error) -> redis::RedisError {
        self.open = false;
        e.into()
    }

    /// The next whole reply: parsed from what was read, reading more until it is whole
    /// (one that has not all arrived within the response timeout is a timeout error).
    /// Bytes that are not a reply are a parse error at once, and end the connection:
    /// what follows them is out of step.
    fn read_reply(&mut self) -> RedisResult<Value> {
        loop {
            match parse(&self.buf[self.start..self.end]) {
                Ok(Some((value, used))) => {
                    self.start += used;
                    if self.start == self.end {
                        self.start = 0;
                        self.end = 0;
                    }
                    return value;
                }
                Ok(None) => {}
                Err(Malformed) => {
                    self.open = false;
                    self.start = 0;
                    self.end = 0;
                    return Err((redis::ErrorKind::Parse, "not a Redis reply").into());
                }
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                self.buf.resize(self.end + READ_CHUNK, 0);
            }
            let n = match &mut self.stream {
                Stream::Unix(s) => s.read(&mut self.buf[self.end..]),
                Stream::Tcp(s) => s.read(&mut self.buf[self.end..]),
            };
            match n {
                Ok(0) => return Err(self.broken(io::ErrorKind::UnexpectedEof.into())),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.broken(e)),
            }
        }
    }
}

/// One reply at the start of `buf` and how many bytes it took; `Ok(None)` until it is
/// whole. An error reply (`-...`) is read by redis-rs, so that it carries redis-rs's error
/// kinds (`NOSCRIPT` reloads the script).
fn parse(buf: &[u8]) -> Result<Option<(RedisResult<Value>, usize)>, Malformed> {
    if buf.first() == Some(&b'-') {
        let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let end = end + 2;
        return Ok(Some((redis::parse_redis_value(&buf[..end]), end)));
    }
    Ok(resp(buf, 0, 0)?.map(|(v, end)| (Ok(v), end)))
}

fn tcp(host: &str, port: u16, connect: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, connect) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl ConnectionLike for Plain {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        self.send(cmd)?;
        self.read_reply()
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        self.send(cmd)?;
        let mut out = Vec::with_capacity(count);
        let mut first_err = None;
        for i in 0..offset + count {
            // Every reply is read, whatever came before, so the next command's reply is
            // its own.
            match self.read_reply() {
                Ok(v) if i >= offset => out.push(v),
                Ok(_) => {}
                Err(e) if !self.open => return Err(e),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(out), Err)
    }

    fn get_db(&self) -> i64 {
        self.db
    }

    fn check_connection(&mut self) -> bool {
        self.req_packed_command(&redis::cmd("PING").get_packed_command())
            .is_ok()
    }

    fn is_open(&self) -> bool {
        self.open
    }
}

impl ConnectionLike for Link {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        match self {
            Link::Client(c) => c.req_packed_command(cmd),
            Link::Plain(p) => p.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Link::Client(c) => c.req_packed_commands(cmd, offset, count),
            Link::Plain(p) => p.req_packed_commands(cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &redis::Cmd) -> RedisResult<Value> {
        match self {
            Link::Client(c) => c.req_command(cmd),
            Link::Plain(p) => p.req_packed_command(&cmd.get_packed_command()),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Client(c) => c.get_db(),
            Link::Plain(p) => p.get_db(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            Link::Client(c) => c.check_connection(),
            Link::Plain(p) => p.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Link::Client(c) => c.is_open(),
            Link::Plain(p) => p.is_open(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_when_whole_and_errors_keep_their_kind() {
        assert!(parse(b"").unwrap().is_none());
        assert!(parse(b"$5\r\nab").unwrap().is_none());
        assert!(parse(b"*2\r\n:1\r\n").unwrap().is_none());
        assert!(parse(b"-NOSCRIPT No matching").unwrap().is_none());
        let (v, used) = parse(b":7\r\n+OK\r\n").unwrap().unwrap();
        assert_eq!((v.unwrap(), used), (Value::Int(7), 4));
        let (v, used) = parse(b"-NOSCRIPT No matching script.\r\n:1\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(used, 31);
        let err = v.unwrap().extract_error().unwrap_err();
        assert_eq!(err.code(), Some("NOSCRIPT"));
    }

    /// A connection whose server end the test writes (no server needed).
    fn pair() -> (Plain, UnixStream) {
        let (ours, server) = UnixStream::pair().unwrap();
        let info =
            redis::IntoConnectionInfo::into_connection_info("redis+unix:///nowhere").unwrap();
        // A long response timeout: a reply taken for incomplete would wait it out and end
        // as a timeout, which the test tells apart from the parse error it expects.
        let plain =
            Plain::start(Ok(Stream::Unix(ours)), &info, Duration::from_secs(10), &[]).unwrap();
        (plain, server)
    }

    #[test]
    fn a_malformed_reply_is_a_parse_error_at_once_and_the_connection_is_dropped() {
        for bad in [
            &b"?what\r\n"[..],
            b"*1\r\n-ERR an error inside an array\r\n",
            b":1\rX\r\n",
            b":12x\r\n",
            b"$3\r\nabcde\r\n",
            b"*1\r\n%1\r\n",
        ] {
            let (mut plain, mut server) = pair();
            server.write_all(bad).unwrap();
            let err = plain.req_packed_command(b"PING\r\n").unwrap_err();
            assert_eq!(
                err.kind(),
                redis::ErrorKind::Parse,
                "{}: {err}",
                String::from_utf8_lossy(bad)
            );
            assert!(!plain.is_open(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_reply_arriving_in_pieces_is_read_whole() {
        let (mut plain, mut server) = pair();
        let reply = b"*2\r\n$5\r\nhello\r\n:42\r\n";
        let writer = std::thread::spawn(move || {
            for b in reply {
                server.write_all(&[*b]).unwrap();
                std::thread::yield_now();
            }
            server
        });
        let v = plain.req_packed_command(b"PING\r\n").unwrap();
        assert_eq!(
            v,
            Value::Array(vec![Value::BulkString(b"hello".to_vec()), Value::Int(42)])
        );
        assert!(plain.is_open());
        drop(writer.join().unwrap());
    }
}
