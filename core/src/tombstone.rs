//! Remembered dead tokens, so that a token presented after logout or rotation is reported
//! as such (a security event) rather than as merely unknown. A bounded ring: the oldest
//! tombstone is forgotten first.

use crate::error::{Expiry, Invalid};
use crate::index;
use crate::token::Digest;

/// How a token died.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Death {
    LoggedOut = 1,
    RotatedOut = 2,
    ExpiredIdle = 3,
    ExpiredAbsolute = 4,
    Evicted = 5,
    Revoked = 6,
}

impl Death {
    fn from_u8(v: u8) -> Option<Death> {
        Some(match v {
            1 => Death::LoggedOut,
            2 => Death::RotatedOut,
            3 => Death::ExpiredIdle,
            4 => Death::ExpiredAbsolute,
            5 => Death::Evicted,
            6 => Death::Revoked,
            _ => return None,
        })
    }

    pub(crate) fn invalid(self) -> Invalid {
        match self {
            Death::LoggedOut => Invalid::LoggedOut,
            Death::RotatedOut => Invalid::RotatedOut,
            Death::ExpiredIdle => Invalid::Expired(Expiry::Idle),
            Death::ExpiredAbsolute => Invalid::Expired(Expiry::Absolute),
            Death::Evicted => Invalid::Evicted,
            Death::Revoked => Invalid::Revoked,
        }
    }
}

/// One remembered token. Plain data; all-zero is an empty entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tombstone {
    digest: Digest,
    /// For `RotatedOut`: the session the token was rotated into.
    target_slot: u32,
    target_generation: u32,
    death: u8,
}

impl Tombstone {
    /// An empty entry.
    pub const EMPTY: Tombstone = Tombstone {
        digest: Digest([0; 16]),
        target_slot: 0,
        target_generation: 0,
        death: 0,
    };
}

/// What a tombstone says about a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) death: Death,
    pub(crate) target_slot: u32,
    pub(crate) target_generation: u32,
}

/// Ring bookkeeping; entries and their index live in the engine's storage.
#[derive(Debug)]
pub(crate) struct Tombstones {
    head: u32,
    len: u32,
}

impl Tombstones {
    pub(crate) const fn new() -> Tombstones {
        Tombstones { head: 0, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    pub(crate) fn insert(
        &mut self,
        ring: &mut [Tombstone],
        table: &mut [u32],
        digest: Digest,
        death: Death,
        target: (u32, u32),
    ) {
        let cap = ring.len() as u32;
        if cap == 0 {
            return;
        }
        let pos = if self.len == cap {
            let pos = self.head;
            let old = ring[pos as usize].digest;
            index::remove(table, old.hash(), pos, |p| ring[p as usize].digest.hash());
            self.head = (self.head + 1) % cap;
            pos
        } else {
            self.len += 1;
            (self.head + self.len - 1) % cap
        };
        ring[pos as usize] = Tombstone {
            digest,
            target_slot: target.0,
            target_generation: target.1,
            death: death as u8,
        };
        index::insert(table, digest.hash(), pos);
    }

    pub(crate) fn find(ring: &[Tombstone], table: &[u32], digest: &Digest) -> Option<Found> {
        let pos = index::find(table, digest.hash(), |p| {
            ring[p as usize].digest.ct_eq(digest)
        })?;
        let t = &ring[pos as usize];
        Some(Found {
            death: Death::from_u8(t.death)?,
            target_slot: t.target_slot,
            target_generation: t.target_generation,
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn oldest_is_forgotten_first() {
        let mut ring = vec![Tombstone::EMPTY; 3];
        let mut table = vec![index::EMPTY; index::cells_for(3)];
        let mut t = Tombstones::new();
        let d = |n: u8| Digest::of(&[n; 32]);
        for n in 0..5u8 {
            t.insert(&mut ring, &mut table, d(n), Death::LoggedOut, (0, 0));
        }
        assert_eq!(t.len(), 3);
        assert!(Tombstones::find(&ring, &table, &d(0)).is_none());
        assert!(Tombstones::find(&ring, &table, &d(1)).is_none());
        for n in 2..5u8 {
            assert_eq!(
                Tombstones::find(&ring, &table, &d(n)).unwrap().death,
                Death::LoggedOut
            );
        }
    }

    #[test]
    fn exactly_the_newest_are_found_after_many_wraps() {
        let cap = 1250;
        let mut ring = vec![Tombstone::EMPTY; cap];
        let mut table = vec![index::EMPTY; index::cells_for(cap as u32)];
        let mut t = Tombstones::new();
        let d = |n: u32| {
            Digest::of(&[n.to_le_bytes(), n.wrapping_mul(0x9e37_79b9).to_le_bytes()].concat())
        };
        for n in 0..10_000u32 {
            t.insert(&mut ring, &mut table, d(n), Death::RotatedOut, (n, 0));
            let oldest = (n + 1).saturating_sub(cap as u32);
            for m in [oldest, n, (oldest + n) / 2] {
                let f = Tombstones::find(&ring, &table, &d(m));
                assert_eq!(
                    f.map(|f| f.target_slot),
                    Some(m),
                    "after inserting {n}, {m} is lost"
                );
            }
            if n >= cap as u32 {
                assert!(Tombstones::find(&ring, &table, &d(oldest - 1)).is_none());
            }
        }
    }
}
