//! One session as the store keeps it (the `{p}:s:<sid>` hash of six fields and a flag, see
//! [`FIELDS`]), read whole and written a few fields at a time under its version. The
//! client-address bookkeeping mirrors the in-process table's
//! (`core/src/engine/client.rs`) so both stores raise the same alarms.

use sessile::rules::{self, Times};
use sessile::{Error, Invalid, POOL_BLOCK, Principal, Session, SessionRef, StoreError};

use crate::keys::Keys;

/// Record fields. The record is a hash of few fields (each field is a value Redis
/// converts for Lua and for the reply: a lookup cost about twice as much with one field
/// per number, and each field costs a script about 2.5k instructions to read): the
/// last-seen time, which a request's touch writes alone; the payload; the principal (a
/// logged-in session only); the token's digest; and the numbers in two fixed-width
/// fields, `h` (what `lookup.lua` compares before a touch) and `x` (the rest, with the
/// version, which every write's guard compares). Each of these is at most 64 bytes, so
/// that Redis keeps the hash compact (`hash-max-listpack-value`).
pub(crate) const HEAD: &str = "h";
pub(crate) const EXTRA: &str = "x";
pub(crate) const TOKEN: &str = "t";
pub(crate) const LAST_SEEN: &str = "ls";
pub(crate) const DATA: &str = "d";
pub(crate) const PRINCIPAL: &str = "pr";
/// Present (`1`) when an anonymous session was used since the eviction's CLOCK hand last
/// passed it (`rules::clock_takes`): set by a request's touch, in the same HSET as its
/// last-seen time, and cleared (HDEL) by the hand. Only the hand reads it.
pub(crate) const REFERENCED: &str = "r";
/// The fields a read asks for (HMGET), in the order `lookup.lua` returns them too, and
/// the referenced bit last (which the lookup does not return).
pub(crate) const FIELDS: [&str; 7] = [HEAD, EXTRA, TOKEN, LAST_SEEN, DATA, PRINCIPAL, REFERENCED];

/// Places in `h` and `x`: decimal numbers with leading zeros, each at a fixed place
/// (first byte, 0-based, and width), so that `lookup.lua` reads what its touch compares
/// (the absolute deadline, idle, absolute, the quiet address, the user agent, the state)
/// by position, 1-based there. The absolute deadline (created + absolute, exact: at most
/// 20 digits) is held rather than the creation time, so that the script compares it with
/// now as text (a number Lua converts costs about 2k instructions); created is the
/// deadline less the absolute timeout.
const H_DEADLINE: (usize, usize) = (0, 20);
const H_IDLE: (usize, usize) = (20, 10);
const H_ABSOLUTE: (usize, usize) = (30, 10);
const H_QUIET_IP: (usize, usize) = (40, 10);
const H_UA: (usize, usize) = (50, 10);
const H_STATE: (usize, usize) = (60, 1);
/// `h`'s length.
pub(crate) const HEAD_LEN: usize = 61;
const X_EPOCH: (usize, usize) = (0, 10);
const X_IP: (usize, usize) = (10, 10);
/// Four addresses of five digits each.
const X_ADDRS: (usize, usize) = (20, 20);
const X_ADDR_COUNT: (usize, usize) = (40, 3);
const X_FLAGS: (usize, usize) = (43, 3);
/// The record's version, which every write of the record moves (every write but a
/// touch's last-seen time and the eviction's bit writes `x`), so a guard on `x` as read
/// is a guard on the version: one field fewer for every script to read.
const X_VERSION: (usize, usize) = (46, 18);
/// `x`'s length.
pub(crate) const EXTRA_LEN: usize = 64;
/// Versions count from 1 and wrap before they outgrow their eighteen digits.
const MAX_VERSION: u64 = 999_999_999_999_999_999;

/// The version a write of a record read at `v` gives it.
pub(crate) fn next_version(v: u64) -> u64 {
    if v >= MAX_VERSION { 1 } else { v + 1 }
}

/// A request's client digest as `lookup.lua` compares it with the header's (the same
/// width and zeros); empty when not given or not watched.
pub(crate) fn client_digest_text(d: Option<u32>) -> Vec<u8> {
    d.map_or_else(Vec::new, |d| format!("{d:010}").into_bytes())
}

/// `st` of an anonymous session and of a logged-in one.
pub(crate) const ANONYMOUS: &str = "a";
pub(crate) const USER: &str = "u";

/// Flag: the too-many-addresses alarm has been raised.
const ALERTED: u8 = 2;
/// Distinct addresses a session remembers (as the table does).
const TRACKED: usize = 4;

/// Largest deadline hint written to the deadline set (doubles are exact below 2^53; a
/// hint must never be above the true deadline).
const MAX_HINT: u64 = 1 << 53;

/// A record's fields as read, before they are checked ([`Record::parse`]).
pub(crate) struct Fields<'a> {
    pub head: &'a [u8],
    pub extra: &'a [u8],
    pub token: &'a [u8],
    pub last_seen: &'a [u8],
    pub data: Vec<u8>,
    pub principal: Option<Vec<u8>>,
    /// Whether `r` is set (false where it was not read: a lookup).
    pub referenced: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub sid: u64,
    pub version: u64,
    pub epoch: u32,
    /// The current token's digest (hex).
    pub token: String,
    pub created: u64,
    pub last_seen: u64,
    pub idle: u32,
    pub absolute: u32,
    pub principal: Option<Vec<u8>>,
    pub data: Vec<u8>,
    pub ip: u32,
    pub ua: u32,
    pub addrs: [u16; TRACKED],
    pub addr_count: u8,
    pub flags: u8,
    /// Used since the CLOCK hand last passed it ([`REFERENCED`]).
    pub referenced: bool,
}

fn corrupt() -> Error {
    Error::Store(StoreError::Corrupt)
}

/// The creation time from `h`'s absolute deadline and absolute timeout.
fn created(deadline: &[u8], absolute: &[u8]) -> Result<u64, Error> {
    let d: u128 = num(deadline)?;
    let a: u128 = num(absolute)?;
    d.checked_sub(a)
        .and_then(|c| u64::try_from(c).ok())
        .ok_or_else(corrupt)
}

/// A last-seen time as stored: twenty digits with leading zeros, as `lookup.lua` writes
/// the request's time, so that times compare as text (there, in `commit.lua`'s HMAX and
/// in a guard on it).
pub(crate) fn last_seen_text(ms: u64) -> Vec<u8> {
    format!("{ms:020}").into_bytes()
}

fn num<T: std::str::FromStr>(v: &[u8]) -> Result<T, Error> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(corrupt)
}

/// Blocks of the payload pool `len` bytes take (the table's accounting).
pub(crate) fn blocks(len: usize) -> u64 {
    len.div_ceil(POOL_BLOCK) as u64
}

impl Record {
    /// A new anonymous session.
    pub(crate) fn new(
        sid: u64,
        token: String,
        now: u64,
        idle: u32,
        absolute: u32,
        ip: u32,
        ua: u32,
    ) -> Record {
        Record {
            sid,
            version: 1,
            epoch: 0,
            token,
            created: now,
            last_seen: now,
            idle,
            absolute,
            principal: None,
            data: Vec::new(),
            ip,
            ua,
            addrs: [ip as u16, 0, 0, 0],
            addr_count: u8::from(ip != 0),
            flags: 0,
            referenced: false,
        }
    }

    /// Parse a record from its fields, as [`FIELDS`] names them.
    pub(crate) fn parse(sid: u64, f: Fields) -> Result<Record, Error> {
        let Fields {
            head,
            extra,
            token,
            last_seen,
            data,
            principal,
            referenced,
        } = f;
        if head.len() != HEAD_LEN || extra.len() != EXTRA_LEN || token.len() != 32 {
            return Err(corrupt());
        }
        let h = |(from, len): (usize, usize)| &head[from..from + len];
        let x = |(from, len): (usize, usize)| &extra[from..from + len];
        let mut addrs = [0u16; TRACKED];
        for (k, slot) in addrs.iter_mut().enumerate() {
            let (from, _) = X_ADDRS;
            *slot = num(&extra[from + 5 * k..from + 5 * (k + 1)])?;
        }
        let authenticated = match h(H_STATE) {
            b"a" => false,
            b"u" => true,
            _ => return Err(corrupt()),
        };
        if !token.iter().all(u8::is_ascii_hexdigit) {
            return Err(corrupt());
        }
        let r = Record {
            sid,
            version: num(x(X_VERSION))?,
            epoch: num(x(X_EPOCH))?,
            token: String::from_utf8(token.to_vec()).map_err(|_| corrupt())?,
            created: created(h(H_DEADLINE), h(H_ABSOLUTE))?,
            last_seen: num(last_seen)?,
            idle: num(h(H_IDLE))?,
            absolute: num(h(H_ABSOLUTE))?,
            principal,
            data,
            ip: num(x(X_IP))?,
            ua: num(h(H_UA))?,
            addrs,
            addr_count: num(x(X_ADDR_COUNT))?,
            flags: num(x(X_FLAGS))?,
            referenced,
        };
        if r.version == 0
            || authenticated != r.principal.is_some()
            || r.principal
                .as_deref()
                .is_some_and(|p| Principal::new(p).is_none())
        {
            return Err(corrupt());
        }
        Ok(r)
    }

    pub(crate) fn authenticated(&self) -> bool {
        self.principal.is_some()
    }

    pub(crate) fn times(&self) -> Times {
        Times {
            created_ms: self.created,
            last_seen_ms: self.last_seen,
            idle_ms: self.idle,
            absolute_ms: self.absolute,
        }
    }

    pub(crate) fn deadline(&self) -> u64 {
        self.times().deadline()
    }

    /// Which deadline ended it, as a token's answer.
    pub(crate) fn expired(&self) -> Invalid {
        Invalid::Expired(rules::expiry(&self.times()))
    }

    /// Its position in the deadline set: never above the true deadline.
    pub(crate) fn hint(&self) -> u64 {
        self.deadline().min(MAX_HINT)
    }

    /// Pool blocks its payload and principal take.
    pub(crate) fn blocks(&self) -> u64 {
        blocks(self.data.len()) + blocks(self.principal.as_ref().map_or(0, Vec::len))
    }

    pub(crate) fn session(&self, keys: &Keys) -> Session {
        let t = self.times();
        Session {
            handle: SessionRef::from_u64(self.sid),
            tag: keys.tag(self.sid),
            created_ms: self.created,
            last_seen_ms: self.last_seen,
            idle_deadline_ms: t.idle_deadline(),
            absolute_deadline_ms: t.absolute_deadline(),
            idle_timeout_ms: self.idle,
            absolute_timeout_ms: self.absolute,
            principal: self.principal.as_deref().and_then(Principal::new),
            payload_len: self.data.len() as u32,
            epoch: self.epoch,
        }
    }

    /// Note a request's address digest (as the table does: `engine/client.rs`); true
    /// when the too-many-addresses alarm fires now.
    pub(crate) fn note_address(&mut self, d: u32, max_addresses: u8) -> bool {
        self.ip = d;
        let short = d as u16;
        let known = usize::from(self.addr_count).min(TRACKED);
        if !self.addrs[..known].contains(&short) {
            if known < TRACKED {
                self.addrs[known] = short;
            }
            self.addr_count = self.addr_count.saturating_add(1);
        }
        if rules::too_many_addresses(max_addresses, self.addr_count) && self.flags & ALERTED == 0 {
            self.flags |= ALERTED;
            return true;
        }
        false
    }

    /// The address a repeat of which changes nothing (so the one-round-trip touch may
    /// skip the client bookkeeping): the last one, while every address seen is among
    /// those remembered; else none (`0`, never a digest).
    pub(crate) fn quiet_ip(&self) -> u32 {
        if self.ip != 0 && usize::from(self.addr_count) <= TRACKED {
            self.ip
        } else {
            0
        }
    }

    /// `h`: what `lookup.lua` compares before a touch (see [`HEAD_LEN`]'s places).
    pub(crate) fn head(&self) -> Vec<u8> {
        let state = if self.authenticated() {
            USER
        } else {
            ANONYMOUS
        };
        let h = format!(
            "{:020}{:010}{:010}{:010}{:010}{state}",
            u128::from(self.created) + u128::from(self.absolute),
            self.idle,
            self.absolute,
            self.quiet_ip(),
            self.ua,
        );
        debug_assert_eq!(h.len(), HEAD_LEN);
        debug_assert_eq!(
            &h.as_bytes()[H_QUIET_IP.0..H_QUIET_IP.0 + H_QUIET_IP.1],
            client_digest_text(Some(self.quiet_ip()))
        );
        h.into_bytes()
    }

    /// `x`: the other numbers, with `epoch` for the epoch (a payload write's next one)
    /// and `version` for the version (a write's next one).
    pub(crate) fn extra(&self, epoch: u32, version: u64) -> Vec<u8> {
        let a = self.addrs;
        let x = format!(
            "{epoch:010}{:010}{:05}{:05}{:05}{:05}{:03}{:03}{version:018}",
            self.ip, a[0], a[1], a[2], a[3], self.addr_count, self.flags,
        );
        debug_assert_eq!(x.len(), EXTRA_LEN);
        x.into_bytes()
    }

    /// `x` as this record holds it (as it was read, for a guard on it).
    pub(crate) fn extra_text(&self) -> Vec<u8> {
        self.extra(self.epoch, self.version)
    }

    /// `h`, `x` and `t` as this record holds them (what a rule that changed its client,
    /// timeouts, state or token writes, under the version).
    pub(crate) fn packed_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        vec![
            (HEAD, self.head()),
            (EXTRA, self.extra_text()),
            (TOKEN, self.token.clone().into_bytes()),
        ]
    }

    /// Every field, as a new record is written.
    pub(crate) fn all_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut f = self.packed_fields();
        f.extend([
            (LAST_SEEN, last_seen_text(self.last_seen)),
            (DATA, self.data.clone()),
        ]);
        if let Some(p) = &self.principal {
            f.push((PRINCIPAL, p.clone()));
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut r = Record::new(
            7,
            "0123456789abcdef0123456789abcdef".into(),
            1_796_663_548_603,
            1_800_000,
            u32::MAX,
            4_000_000_001,
            2_344_216_626,
        );
        r.note_address(17, 3);
        r.version = 12;
        r.epoch = 3;
        r.last_seen = 1_796_663_549_706;
        r.data = b"{\"n\":1}".to_vec();
        r.principal = Some(b"alice".to_vec());
        r
    }

    fn read_back(r: &Record, head: &[u8], principal: Option<Vec<u8>>) -> Result<Record, Error> {
        let last_seen = last_seen_text(r.last_seen);
        Record::parse(
            r.sid,
            Fields {
                head,
                extra: &r.extra_text(),
                token: r.token.as_bytes(),
                last_seen: &last_seen,
                data: r.data.clone(),
                principal,
                referenced: false,
            },
        )
    }

    #[test]
    fn a_record_reads_back_as_written_in_compact_fields() {
        let r = sample();
        for (name, value) in r.all_fields() {
            // Longer values would make Redis keep the hash in its large encoding.
            assert!(
                value.len() <= 64 || name == DATA || name == PRINCIPAL,
                "{name}"
            );
        }
        let back = read_back(&r, &r.head(), r.principal.clone()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{r:?}"));
        // The state follows the principal; a record that disagrees, or a field of the
        // wrong length, is corrupt.
        assert_eq!(read_back(&r, &r.head(), None).unwrap_err(), corrupt());
        assert_eq!(
            read_back(&r, &r.head()[1..], r.principal.clone()).unwrap_err(),
            corrupt()
        );
    }

    #[test]
    fn h_holds_what_lookup_lua_reads_where_it_reads_it() {
        let r = sample();
        let h = r.head();
        // lookup.lua's string.sub(h, from, to), 1-based and inclusive.
        let lua = |from: usize, to: usize| std::str::from_utf8(&h[from - 1..to]).unwrap();
        let deadline = u128::from(r.created) + u128::from(r.absolute);
        assert_eq!(lua(1, 20).parse::<u128>().unwrap(), deadline);
        // The script compares it with the request's time as text (both twenty digits).
        for now in [0, r.created, deadline as u64 - 1, deadline as u64, u64::MAX] {
            let text = last_seen_text(now);
            assert_eq!(
                &text[..] < lua(1, 20).as_bytes(),
                u128::from(now) < deadline
            );
        }
        // The largest times still fit twenty digits, and read back.
        let mut late = r.clone();
        late.created = u64::MAX;
        late.last_seen = u64::MAX;
        assert_eq!(late.head().len(), HEAD_LEN);
        let back = read_back(&late, &late.head(), late.principal.clone()).unwrap();
        assert_eq!(back.created, u64::MAX);
        assert_eq!(lua(21, 30).parse::<u32>().unwrap(), r.idle);
        assert_eq!(lua(31, 40).parse::<u32>().unwrap(), r.absolute);
        assert_eq!(
            lua(41, 50).as_bytes(),
            client_digest_text(Some(r.quiet_ip()))
        );
        assert_eq!(lua(51, 60).as_bytes(), client_digest_text(Some(r.ua)));
        assert_eq!(lua(61, 61), "u");
        assert_eq!((H_QUIET_IP.0 + 1, H_UA.0 + 1, H_STATE.0 + 1), (41, 51, 61));
        let mut anon = r.clone();
        anon.principal = None;
        assert_eq!(anon.head()[60], b'a');
        // A client digest is compared as text: the same width, whatever its value.
        assert_eq!(client_digest_text(Some(1)), b"0000000001");
        assert_eq!(client_digest_text(Some(u32::MAX)), b"4294967295");
        assert!(client_digest_text(None).is_empty());
    }
}
