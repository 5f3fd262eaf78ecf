//! The key layout and the keyed digests. Every key of a deployment is under `{prefix}:`
//! (one Redis Cluster hash slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{p}:m` | hash | counters (`live`, `anon`, `auth`, `blocks`, `created`, `evictions`, `expirations`, `revocations`, `pressure`) and `seq`, the order of the anonymous list and of logins |
//! | `{p}:s:<sid>` | hash | one session in few fields (`record.rs`): `ls` last seen (twenty digits), `d` payload, `pr` principal (logged in only), `t` token digest, `h` absolute deadline, idle and absolute timeouts, quiet address, user-agent digest and `a`nonymous or `u`ser at fixed places (what `lookup.lua` compares), `x` epoch, address and remembered addresses, their count, flags and the version (what every write's guard compares), `r` (an anonymous session used since the CLOCK hand passed it) |
//! | `{p}:t:<digest>` | string | a token: its session's `<sid>`; a dead one also how it died (one digit after the id), and a TTL |
//! | `{p}:p:<digest>` | hash | a principal's sessions: `<sid>` → order of login, `v` version |
//! | `{p}:a` | zset | anonymous sessions, the CLOCK hand first: in order of creation or of the hand's last pass |
//! | `{p}:x` | zset | every live session by a lower bound of its deadline (what a sweep visits) |
//! | `{p}:k` | zset | kept tombstones (a logged-in user's logged-out, rotated-out, revoked tokens) by when they expire |
//! | `{p}:c` | zset | churn tombstones (every other death), oldest first, at most the churn share |
//! | `{p}:e` | stream | with [`crate::RedisConfig::event_stream`]: every process's security events (`kind`, `session` tag, `at` ms, `instance`), trimmed to about that many |
//!
//! `<sid>` is a session's 64-bit id in hex (stable across rotation: the `SessionRef`),
//! `<digest>` 128 bits of HMAC-SHA-256 under the deployment key, in hex. No key or value
//! holds a token.

use hmac::{KeyInit, Mac};
use zeroize::Zeroize;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Domain bytes: a digest made for one use never stands for another.
const TOKEN: u8 = 1;
const SESSION_ID: u8 = 2;
const TAG: u8 = 3;
const PRINCIPAL: u8 = 4;
const ADDRESS: u8 = 5;
const USER_AGENT: u8 = 6;

pub(crate) struct Keys {
    /// `{prefix}:`
    root: String,
    key: [u8; 32],
}

impl Drop for Keys {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

impl Keys {
    pub(crate) fn new(prefix: &str, key: [u8; 32]) -> Keys {
        Keys {
            root: format!("{{{prefix}}}:"),
            key,
        }
    }

    fn mac(&self, domain: u8, data: &[u8]) -> [u8; 32] {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.key).expect("any key length");
        m.update(&[domain]);
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// The digest naming a token (of its random bytes), in hex.
    pub(crate) fn token_digest(&self, raw: &[u8]) -> String {
        let mut d = self.mac(TOKEN, raw);
        let h = hex(&d[..16]);
        d.zeroize();
        h
    }

    /// The id of the session a token starts (kept across rotation).
    pub(crate) fn session_id(&self, raw: &[u8]) -> u64 {
        let d = self.mac(SESSION_ID, raw);
        u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
    }

    /// The tag naming a session in events: stable across rotation and processes,
    /// never 0 (an engine-wide event).
    pub(crate) fn tag(&self, sid: u64) -> u64 {
        let d = self.mac(TAG, &sid.to_le_bytes());
        u64::from_le_bytes(d[..8].try_into().expect("8 bytes")).max(1)
    }

    pub(crate) fn principal_digest(&self, principal: &[u8]) -> String {
        hex(&self.mac(PRINCIPAL, principal)[..16])
    }

    /// A client address's digest, never 0 ("not known yet").
    pub(crate) fn address(&self, bytes: &[u8]) -> u32 {
        let d = self.mac(ADDRESS, bytes);
        u32::from_le_bytes(d[..4].try_into().expect("4 bytes")).max(1)
    }

    /// A user agent's digest, never 0.
    pub(crate) fn user_agent(&self, bytes: &[u8]) -> u32 {
        let d = self.mac(USER_AGENT, bytes);
        u32::from_le_bytes(d[..4].try_into().expect("4 bytes")).max(1)
    }

    pub(crate) fn meta(&self) -> String {
        format!("{}m", self.root)
    }
    pub(crate) fn events(&self) -> String {
        format!("{}e", self.root)
    }
    pub(crate) fn anon(&self) -> String {
        format!("{}a", self.root)
    }
    pub(crate) fn deadlines(&self) -> String {
        format!("{}x", self.root)
    }
    pub(crate) fn kept(&self) -> String {
        format!("{}k", self.root)
    }
    pub(crate) fn churn(&self) -> String {
        format!("{}c", self.root)
    }
    /// The prefix of record keys (`{p}:s:`), followed by a session id.
    pub(crate) fn record_prefix(&self) -> String {
        format!("{}s:", self.root)
    }
    pub(crate) fn record(&self, sid: u64) -> String {
        format!("{}s:{}", self.root, sid_hex(sid))
    }
    /// The prefix of token keys (`{p}:t:`), followed by a digest.
    pub(crate) fn token_prefix(&self) -> String {
        format!("{}t:", self.root)
    }
    pub(crate) fn token(&self, digest: &str) -> String {
        format!("{}t:{digest}", self.root)
    }
    pub(crate) fn principal(&self, digest: &str) -> String {
        format!("{}p:{digest}", self.root)
    }
    /// Every key of this deployment matches this pattern (for tests and operators).
    pub(crate) fn pattern(&self) -> String {
        let mut p = String::with_capacity(self.root.len() * 2 + 1);
        for ch in self.root.chars() {
            if matches!(ch, '\\' | '*' | '?' | '[' | ']' | '{' | '}' | '^' | '-') {
                p.push('\\');
            }
            p.push(ch);
        }
        p.push('*');
        p
    }
}

pub(crate) fn sid_hex(sid: u64) -> String {
    format!("{sid:016x}")
}

pub(crate) fn parse_sid(text: &[u8]) -> Option<u64> {
    if text.len() != 16 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}
