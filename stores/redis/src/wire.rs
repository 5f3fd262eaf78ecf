//! The per-request operations without the I/O, for a binding that carries the bytes to
//! Redis itself: Node's, whose event loop must not wait on a round trip (the
//! synchronous client would block every other request meanwhile), and which writes the
//! commands of concurrent requests together on one connection and reads their replies in
//! order.
//!
//! The store builds each command's bytes (RESP) and decides from the reply's bytes, with
//! the same code as its synchronous operations: [`RedisStore::validate_reply`] hands
//! the lookup's reply to [`Store::validate`] in place of its round trip, and
//! [`RedisStore::save_command`] is [`Store::save`]'s first decision with its commit
//! handed out instead of sent. Whatever is rare goes through the synchronous path, with
//! its round trips, from the same rules: a lookup that does not simply touch (a moved
//! client, a deadline passed, a dead token's reuse), a save whose guard failed (decided
//! anew from a fresh read, as `Store::save` retries), a script the server no longer holds
//! (`NOSCRIPT`: the synchronous client loads it). Nothing here decides a rule.

use std::path::PathBuf;
use std::time::Duration;

use redis::{ConnectionAddr, Value};
use sessile::{Client, Error, Event, Saved, Session, SessionRef, Store, StoreError};

use crate::plan::Plan;
use crate::store::RedisStore;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireAddr {
    /// A unix socket's path.
    Unix(PathBuf),
    /// A host and port (plain TCP).
    Tcp(String, u16),
}

/// How a binding reaches the server: its address, the bytes to send first on every new
/// connection (`AUTH` and `SELECT` as the URL asks, then `SCRIPT LOAD` of every script),
/// how many replies they get (each must not be an error), and the timeouts. Holds the
/// password (in `hello`): never printed.
pub struct Wire {
    /// Where to connect.
    pub addr: WireAddr,
    /// The first bytes of every connection.
    pub hello: Vec<u8>,
    /// How many replies `hello` gets.
    pub hello_replies: u32,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for an answer.
    pub response_timeout: Duration,
}

impl core::fmt::Debug for Wire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Wire")
            .field("addr", &self.addr)
            .field("hello_replies", &self.hello_replies)
            .finish_non_exhaustive()
    }
}

/// What a save needs next.
pub enum SaveStep {
    /// Decided with nothing to write (unchanged, or dropped).
    Done(Saved),
    /// A commit to send: its bytes are [`PendingSave::command`]; its reply goes to
    /// [`RedisStore::save_reply`].
    Commit(PendingSave),
}

/// A save's commit on its way: the command, the events it raises when it lands, and the
/// answer then.
pub struct PendingSave {
    command: Vec<u8>,
    events: Vec<Event>,
    answer: Result<Saved, Error>,
}

impl PendingSave {
    /// The bytes to send (`EVALSHA` of `commit.lua`).
    pub fn command(&self) -> &[u8] {
        &self.command
    }
}

fn refused() -> Error {
    Error::Store(StoreError::Refused)
}

fn corrupt() -> Error {
    Error::Store(StoreError::Corrupt)
}

/// One whole reply; `None` for `NOSCRIPT` (the script was not run: nothing happened).
fn reply_value(reply: &[u8]) -> Result<Option<Value>, Error> {
    if let Some(error) = reply.strip_prefix(b"-") {
        return if error.starts_with(b"NOSCRIPT") {
            Ok(None)
        } else {
            Err(refused())
        };
    }
    match resp(reply, 0, 0) {
        Ok(Some((v, end))) if end == reply.len() => Ok(Some(v)),
        _ => Err(corrupt()),
    }
}

/// Deepest nesting of arrays a reply of the scripts has (a lookup's record is at 2).
const MAX_DEPTH: usize = 4;

/// Longest bulk string Redis sends (its `proto-max-bulk-len` default, 512 MiB): a longer
/// length is not a reply, whatever follows.
const MAX_BULK: usize = 512 << 20;

/// Bytes that are not a reply of the shapes the store reads (RESP2 integers, simple and
/// bulk strings, nil and arrays; an error only at the top, where its reader takes it).
/// Whatever comes after them on that connection is out of step.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The RESP2 value at `at` and where it ends, `Ok(None)` while it has not all arrived
/// (a binding hands whole replies, of the shapes the scripts return: integers, bulk
/// strings, nil, arrays). redis-rs's parser, general and resumable, took half of the
/// store's time per request here.
pub(crate) fn resp(
    buf: &[u8],
    at: usize,
    depth: usize,
) -> Result<Option<(Value, usize)>, Malformed> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    if !matches!(kind, b':' | b'+' | b'$' | b'*') {
        return Err(Malformed);
    }
    let Some(cr) = buf[at + 1..].iter().position(|&b| b == b'\r') else {
        return Ok(None);
    };
    let eol = at + 1 + cr;
    match buf.get(eol + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(Malformed),
    }
    let line = &buf[at + 1..eol];
    let next = eol + 2;
    let int = || -> Result<i64, Malformed> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Malformed)
    };
    match kind {
        b':' => Ok(Some((Value::Int(int()?), next))),
        b'+' if line == b"OK" => Ok(Some((Value::Okay, next))),
        b'+' => {
            let text = String::from_utf8(line.to_vec()).map_err(|_| Malformed)?;
            Ok(Some((Value::SimpleString(text), next)))
        }
        b'$' => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Value::Nil, next)));
            }
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n <= MAX_BULK)
                .ok_or(Malformed)?;
            let end = next.checked_add(n).ok_or(Malformed)?;
            let Some(tail) = end.checked_add(2).and_then(|e| buf.get(end..e)) else {
                return Ok(None);
            };
            if tail != b"\r\n" {
                return Err(Malformed);
            }
            Ok(Some((Value::BulkString(buf[next..end].to_vec()), end + 2)))
        }
        _ => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Value::Nil, next)));
            }
            if depth >= MAX_DEPTH {
                return Err(Malformed);
            }
            let n = usize::try_from(n).map_err(|_| Malformed)?;
            // Each element takes at least 3 bytes: a count past what has arrived is not
            // whole yet (and no vector is sized by an unchecked count).
            if n > (buf.len() - next) / 3 {
                return Ok(None);
            }
            let mut items = Vec::with_capacity(n);
            let mut p = next;
            for _ in 0..n {
                let Some((v, end)) = resp(buf, p, depth + 1)? else {
                    return Ok(None);
                };
                items.push(v);
                p = end;
            }
            Ok(Some((Value::Array(items), p)))
        }
    }
}

impl RedisStore {
    /// How a binding reaches this store's server itself; `None` for a TLS server
    /// (`rediss://`), which the synchronous client serves.
    pub fn wire(&self) -> Option<Wire> {
        let (info, connect_timeout, response_timeout) = self.conn_info()?;
        let addr = match info.addr() {
            ConnectionAddr::Tcp(host, port) => WireAddr::Tcp(host.clone(), *port),
            ConnectionAddr::Unix(path) => WireAddr::Unix(path.clone()),
            _ => return None,
        };
        let (hello, hello_replies) = crate::link::hello(&info, &crate::store::SCRIPTS);
        Some(Wire {
            addr,
            hello,
            hello_replies,
            connect_timeout,
            response_timeout,
        })
    }

    /// The command a request's validation of `token` sends (the lookup that also marks
    /// the session used); `None` for a malformed token, which [`Store::validate`]
    /// answers without a round trip.
    pub fn validate_command(
        &mut self,
        token: &[u8],
        now: u64,
        client: &Client<'_>,
    ) -> Option<Vec<u8>> {
        let digest = self.digest_for(token)?;
        let (ip, ua) = self.client_digests_for(client);
        let now = self.tick_now(now);
        Some(self.lookup_command(&digest, Some((now, ip, ua))))
    }

    /// [`Store::validate`] of `token` with `reply`, the reply to
    /// [`RedisStore::validate_command`]'s bytes, in place of its round trip (the same
    /// arguments: the same command). The payload is then read without one
    /// ([`Store::payload`]), as after a validation.
    pub fn validate_reply(
        &mut self,
        token: &[u8],
        now: u64,
        client: &Client<'_>,
        reply: &[u8],
    ) -> Result<Session, Error> {
        match reply_value(reply)? {
            Some(Value::Array(items)) => {
                if let Some(digest) = self.digest_for(token) {
                    *self.prefetched.borrow_mut() = Some((digest, items));
                }
            }
            Some(_) => return Err(corrupt()),
            None => {}
        }
        let out = Store::validate(self, token, now, client);
        self.prefetched.borrow_mut().take();
        out
    }

    /// [`Store::save`]'s first decision: done, or a commit to send.
    pub fn save_command(
        &mut self,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<SaveStep, Error> {
        let now = self.tick_now(now);
        let mut cached = self.cached_for_save(handle, now);
        self.begin_operation();
        let mut decide = |s: &mut RedisStore, plan: &mut Plan| {
            s.decide_save(plan, &mut cached, handle, epoch, data, now)
        };
        match self.decide_once(&mut decide) {
            (out, None) => out.map(SaveStep::Done),
            (answer, Some(plan)) => Ok(SaveStep::Commit(PendingSave {
                command: self.commit_command(&plan),
                events: plan.events,
                answer,
            })),
        }
    }

    /// The save of [`RedisStore::save_command`] (the same arguments) after `reply`, its
    /// commit's reply: landed, or decided anew by [`Store::save`] when a guard failed
    /// (another request wrote meanwhile) or the server had lost the script.
    pub fn save_reply(
        &mut self,
        pending: PendingSave,
        reply: &[u8],
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        match reply_value(reply)? {
            Some(Value::Int(1)) => {
                self.landed(pending.events);
                pending.answer
            }
            Some(Value::Int(0)) | None => Store::save(self, handle, epoch, data, now),
            Some(_) => Err(corrupt()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode_as_redis_rs_decodes_them() {
        let cases: [&[u8]; 7] = [
            b":1\r\n",
            b":-42\r\n",
            b"$-1\r\n",
            b"$3\r\na\r\n\r\n",
            b"+OK\r\n",
            b"*4\r\n:2\r\n:1\r\n$16\r\n00000000000000ff\r\n*4\r\n$1\r\nv\r\n$1\r\n3\r\n$1\r\nd\r\n$0\r\n\r\n",
            b"*0\r\n",
        ];
        for c in cases {
            assert_eq!(
                reply_value(c).unwrap(),
                Some(redis::parse_redis_value(c).unwrap()),
                "{}",
                String::from_utf8_lossy(c)
            );
        }
    }

    #[test]
    fn errors_and_bad_bytes_are_typed() {
        assert_eq!(
            reply_value(b"-NOSCRIPT No matching script\r\n").unwrap(),
            None
        );
        assert_eq!(reply_value(b"-OOM command not allowed\r\n"), Err(refused()));
        for bad in [
            &b""[..],
            b":1\r",
            b":x\r\n",
            b"$5\r\nabc\r\n",
            b"*2\r\n:1\r\n",
            b"*99999999999\r\n",
            b":1\r\n:2\r\n",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
            b"?\r\n",
            b"*1\r\n-ERR inside an array\r\n",
            b"$18446744073709551615\r\n",
            b"$536870913\r\n",
        ] {
            assert_eq!(
                reply_value(bad),
                Err(corrupt()),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// A value of the shapes the store reads, and its bytes.
    fn encoded() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            any::<i64>().prop_map(|n| format!(":{n}\r\n").into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| {
                let mut v = format!("${}\r\n", b.len()).into_bytes();
                v.extend(b);
                v.extend(b"\r\n");
                v
            }),
            Just(b"$-1\r\n".to_vec()),
            Just(b"+OK\r\n".to_vec()),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            proptest::collection::vec(inner, 0..6).prop_map(|items| {
                let mut v = format!("*{}\r\n", items.len()).into_bytes();
                for i in items {
                    v.extend(i);
                }
                v
            })
        })
    }

    proptest::proptest! {
        /// Any bytes: an answer, never a panic; a value's bytes: every strict prefix is
        /// "not whole yet" (never a parse error: a reply split across reads), the whole
        /// parses as redis-rs parses it and ends where it ends.
        #[test]
        fn any_bytes_get_an_answer_and_prefixes_of_a_reply_wait(
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            reply in encoded(),
        ) {
            let _ = resp(&junk, 0, 0);
            for cut in 0..reply.len() {
                proptest::prop_assert_eq!(resp(&reply[..cut], 0, 0), Ok(None), "cut {}", cut);
            }
            let (v, end) = resp(&reply, 0, 0).unwrap().unwrap();
            proptest::prop_assert_eq!(end, reply.len());
            proptest::prop_assert_eq!(v, redis::parse_redis_value(&reply).unwrap());
        }
    }
}
