//! One session as the store keeps it (the `{p}:s:<sid>` hash), read and written field by
//! field. The client-address bookkeeping mirrors the in-process table's
//! (`core/src/engine/client.rs`) so both stores raise the same alarms.

use sessile::rules::{self, Times};
use sessile::{Error, Invalid, POOL_BLOCK, Principal, Session, SessionRef, StoreError};

use crate::keys::Keys;

/// Record fields.
pub(crate) const VERSION: &str = "v";
pub(crate) const EPOCH: &str = "ep";
pub(crate) const TOKEN: &str = "t";
pub(crate) const CREATED: &str = "c";
pub(crate) const LAST_SEEN: &str = "ls";
pub(crate) const IDLE: &str = "i";
pub(crate) const ABSOLUTE: &str = "a";
pub(crate) const STATE: &str = "st";
pub(crate) const PRINCIPAL: &str = "pr";
pub(crate) const DATA: &str = "d";
pub(crate) const IP: &str = "ip";
pub(crate) const UA: &str = "ua";
pub(crate) const ADDRS: &str = "ad";
pub(crate) const ADDR_COUNT: &str = "an";
pub(crate) const FLAGS: &str = "fl";
pub(crate) const QUIET_IP: &str = "q";

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
}

fn corrupt() -> Error {
    Error::Store(StoreError::Corrupt)
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
        }
    }

    /// Parse HGETALL's field/value pairs.
    pub(crate) fn parse(sid: u64, pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Record, Error> {
        let mut r = Record::new(sid, String::new(), 0, 0, 0, 0, 0);
        r.version = 0;
        r.addrs = [0; TRACKED];
        r.addr_count = 0;
        let mut state = None;
        for (k, v) in pairs {
            match std::str::from_utf8(&k).map_err(|_| corrupt())? {
                VERSION => r.version = num(&v)?,
                EPOCH => r.epoch = num(&v)?,
                TOKEN => r.token = String::from_utf8(v).map_err(|_| corrupt())?,
                CREATED => r.created = num(&v)?,
                LAST_SEEN => r.last_seen = num(&v)?,
                IDLE => r.idle = num(&v)?,
                ABSOLUTE => r.absolute = num(&v)?,
                STATE => state = Some(v),
                PRINCIPAL => r.principal = Some(v),
                DATA => r.data = v,
                IP => r.ip = num(&v)?,
                UA => r.ua = num(&v)?,
                ADDRS => {
                    let text = std::str::from_utf8(&v).map_err(|_| corrupt())?;
                    for (slot, part) in r.addrs.iter_mut().zip(text.split(',')) {
                        *slot = num(part.as_bytes())?;
                    }
                }
                ADDR_COUNT => r.addr_count = num(&v)?,
                FLAGS => r.flags = num(&v)?,
                QUIET_IP => {}
                _ => return Err(corrupt()),
            }
        }
        let authenticated = match state.as_deref() {
            Some(b"a") => false,
            Some(b"u") => true,
            _ => return Err(corrupt()),
        };
        if r.version == 0
            || r.token.len() != 32
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

    pub(crate) fn addrs_text(&self) -> String {
        let a = self.addrs;
        format!("{},{},{},{}", a[0], a[1], a[2], a[3])
    }

    /// The client fields, as written.
    pub(crate) fn client_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        vec![
            (IP, self.ip.to_string().into_bytes()),
            (UA, self.ua.to_string().into_bytes()),
            (ADDRS, self.addrs_text().into_bytes()),
            (ADDR_COUNT, self.addr_count.to_string().into_bytes()),
            (FLAGS, self.flags.to_string().into_bytes()),
            (QUIET_IP, self.quiet_ip().to_string().into_bytes()),
        ]
    }

    /// Every field, as a new record is written.
    pub(crate) fn all_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut f = vec![
            (VERSION, self.version.to_string().into_bytes()),
            (EPOCH, self.epoch.to_string().into_bytes()),
            (TOKEN, self.token.clone().into_bytes()),
            (CREATED, self.created.to_string().into_bytes()),
            (LAST_SEEN, self.last_seen.to_string().into_bytes()),
            (IDLE, self.idle.to_string().into_bytes()),
            (ABSOLUTE, self.absolute.to_string().into_bytes()),
        ];
        match &self.principal {
            None => f.push((STATE, ANONYMOUS.into())),
            Some(p) => {
                f.push((STATE, USER.into()));
                f.push((PRINCIPAL, p.clone()));
            }
        }
        f.push((DATA, self.data.clone()));
        f.extend(self.client_fields());
        f
    }
}
