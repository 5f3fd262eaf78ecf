//! Remembered dead tokens, so that a token presented after logout or rotation is reported
//! as such (a security event) rather than as merely unknown.
//!
//! Two bounded rings share the storage, each forgetting its oldest entry first:
//!
//! - the *kept* ring (three quarters) holds the tokens of logged-in sessions that were
//!   logged out, rotated out (at login too) or revoked: the ones whose reuse means theft;
//! - the *churn* ring (the rest) holds everything else: anonymous sessions' deaths,
//!   evictions and expiries.
//!
//! Anyone can make anonymous sessions die (a flood of cookie-less requests evicts them),
//! but only a logged-in user can add to the kept ring, one login or logout at a time, so
//! no anonymous flood erases the memory of a logged-out or rotated-out token.

use crate::config::MAX_CAPACITY;
use crate::error::{Expiry, Invalid};
use crate::event::ring_add;
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
    pub(crate) fn from_u8(v: u8) -> Option<Death> {
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
    pub(crate) digest: Digest,
    /// For `RotatedOut`: the slot of the session the token was rotated into (below
    /// [`MAX_CAPACITY`], 26 bits), and above it the [`Death`] (`death << SLOT_BITS`): one
    /// word, so an entry is 24 bytes, not 28.
    pub(crate) target: u32,
    pub(crate) target_generation: u32,
}

/// Bits of [`Tombstone::target`] that hold the slot: 26 in every build (a `narrow` one's
/// [`MAX_CAPACITY`] is lower; the encoding stays the same).
const SLOT_BITS: u32 = 26;
const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
const _: () = assert!(MAX_CAPACITY <= 1 << SLOT_BITS);

impl Tombstone {
    /// Overwrite the entry with zeros the compiler cannot leave out.
    pub(crate) fn wipe(&mut self) {
        *self = Tombstone::EMPTY;
        zeroize::Zeroize::zeroize(&mut self.digest.0);
    }

    /// An empty entry.
    pub const EMPTY: Tombstone = Tombstone {
        digest: Digest([0; 16]),
        target: 0,
        target_generation: 0,
    };

    /// For `RotatedOut`: the slot of the session the token was rotated into.
    pub(crate) fn target_slot(&self) -> u32 {
        self.target & SLOT_MASK
    }

    /// How the token's session ended, as stored (`Death as u8`).
    pub(crate) fn death(&self) -> u8 {
        (self.target >> SLOT_BITS) as u8
    }
}

/// What a tombstone says about a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) death: Death,
    pub(crate) target_slot: u32,
    pub(crate) target_generation: u32,
}

/// Which ring a tombstone goes to (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// A logged-in session's token, logged out, rotated out or revoked.
    Kept = 0,
    /// Any other death.
    Churn = 1,
}

impl Keep {
    /// The ring a token that died for `death` goes to ([`crate::rules::keep_tombstone`]).
    pub(crate) fn of(death: Death, authenticated: bool) -> Keep {
        if crate::rules::keep_tombstone(death.invalid(), authenticated) {
            Keep::Kept
        } else {
            Keep::Churn
        }
    }
}

/// Ring bookkeeping; entries and their index live in the engine's storage.
#[derive(Debug)]
pub(crate) struct Tombstones {
    head: [u32; 2],
    len: [u32; 2],
}

/// The kept ring's share of `cap` entries ([`crate::rules::tombstone_shares`]).
fn kept_len(cap: u32) -> u32 {
    crate::rules::tombstone_shares(cap).0
}

/// Where `keep`'s share of a ring of `total` entries starts, and how many entries it has.
fn share(total: u32, keep: Keep) -> (u32, u32) {
    let kept = kept_len(total);
    match keep {
        Keep::Kept => (0, kept),
        Keep::Churn => (kept, total - kept),
    }
}

impl Tombstones {
    pub(crate) const fn new() -> Tombstones {
        Tombstones {
            head: [0; 2],
            len: [0; 2],
        }
    }

    pub(crate) fn len(&self) -> usize {
        (self.len[0] + self.len[1]) as usize
    }

    #[inline]
    pub(crate) fn insert(
        &mut self,
        ring: &mut [Tombstone],
        table: &mut [index::Cell],
        digest: Digest,
        death: Death,
        target: (u32, u32),
        keep: Keep,
    ) {
        let total = ring.len() as u32;
        let (base, cap) = share(total, keep);
        if cap == 0 {
            return;
        }
        let r = keep as usize;
        // One `Tagged::of` (not inlined on 32-bit targets) for the removal and the insert.
        let tagged = index::Tagged::of(total, table.len());
        let pos = if self.len[r] == cap {
            let pos = base + self.head[r];
            let old = ring[pos as usize].digest;
            tagged.remove(table, pos, old.key(), |p| ring[p as usize].digest.hash());
            self.head[r] = ring_add(self.head[r], 1, cap);
            pos
        } else {
            self.len[r] += 1;
            base + ring_add(self.head[r], self.len[r] - 1, cap)
        };
        ring[pos as usize] = Tombstone {
            digest,
            target: (target.0 & SLOT_MASK) | (death as u32) << SLOT_BITS,
            target_generation: target.1,
        };
        tagged.insert(table, pos, digest.key());
    }

    /// The index hash of the entry that the `ahead`-th next insert into ring `keep` will
    /// forget, if the ring is full by then (for a sweep reading ahead, see
    /// `engine/sessions.rs`).
    pub(crate) fn oldest_hash(&self, ring: &[Tombstone], keep: Keep, ahead: u32) -> Option<u32> {
        let (base, cap) = share(ring.len() as u32, keep);
        let r = keep as usize;
        if cap == 0 || self.len[r] < cap {
            return None;
        }
        let pos = base + (self.head[r] + ahead % cap) % cap;
        ring.get(pos as usize).map(|old| old.digest.hash())
    }

    /// One ring's entries, oldest first (what a snapshot carries, in the order a restore
    /// inserts them again).
    #[cfg(feature = "snapshot")]
    pub(crate) fn oldest_first<'a>(
        &self,
        ring: &'a [Tombstone],
        keep: Keep,
    ) -> impl Iterator<Item = &'a Tombstone> + 'a {
        let total = ring.len() as u32;
        let (base, cap) = share(total, keep);
        let r = keep as usize;
        let (head, len) = (self.head[r], self.len[r]);
        (0..len).filter_map(move |k| ring.get((base + (head + k) % cap.max(1)) as usize))
    }

    pub(crate) fn find(
        ring: &[Tombstone],
        table: &[index::Cell],
        digest: &Digest,
    ) -> Option<Found> {
        let pos =
            index::Tagged::of(ring.len() as u32, table.len()).find(table, digest.key(), |p| {
                ring[p as usize].digest.ct_eq(digest)
            })?;
        let t = &ring[pos as usize];
        Some(Found {
            death: Death::from_u8(t.death())?,
            target_slot: t.target_slot(),
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
        // Three kept entries, one churn entry.
        let mut ring = vec![Tombstone::EMPTY; 4];
        let mut table = vec![index::EMPTY; index::cells_for(4, index::TOMBSTONES)];
        let mut t = Tombstones::new();
        let d = |n: u8| Digest::of(&[n; 32]);
        for n in 0..5u8 {
            t.insert(
                &mut ring,
                &mut table,
                d(n),
                Death::LoggedOut,
                (0, 0),
                Keep::Kept,
            );
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
        // The churn ring's share of 5000 entries.
        let cap = 1250;
        let mut ring = vec![Tombstone::EMPTY; 4 * cap];
        let mut table = vec![index::EMPTY; index::cells_for(4 * cap as u32, index::TOMBSTONES)];
        let mut t = Tombstones::new();
        let d = |n: u32| {
            Digest::of(&[n.to_le_bytes(), n.wrapping_mul(0x9e37_79b9).to_le_bytes()].concat())
        };
        for n in 0..10_000u32 {
            t.insert(
                &mut ring,
                &mut table,
                d(n),
                Death::RotatedOut,
                (n, 0),
                Keep::Churn,
            );
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

    #[test]
    fn a_churn_flood_never_pushes_out_kept_tombstones() {
        let mut ring = vec![Tombstone::EMPTY; 16];
        let mut table = vec![index::EMPTY; index::cells_for(16, index::TOMBSTONES)];
        let mut t = Tombstones::new();
        let d = |n: u32| Digest::of(&n.to_le_bytes());
        for n in 0..12 {
            t.insert(
                &mut ring,
                &mut table,
                d(n),
                Death::LoggedOut,
                (n, 0),
                Keep::Kept,
            );
        }
        // Fewer rounds under miri, where each digest is slow; the churn ring (4 entries)
        // still wraps many times.
        let last = if cfg!(miri) { 200 } else { 10_000 };
        for n in 100..last {
            t.insert(
                &mut ring,
                &mut table,
                d(n),
                Death::Evicted,
                (n, 0),
                Keep::Churn,
            );
        }
        for n in 0..12 {
            assert_eq!(
                Tombstones::find(&ring, &table, &d(n)).map(|f| f.death),
                Some(Death::LoggedOut),
                "kept tombstone {n} flushed by evictions"
            );
        }
        // The churn ring still remembers its newest entries.
        assert!(Tombstones::find(&ring, &table, &d(last - 1)).is_some());
        assert!(Tombstones::find(&ring, &table, &d(last - 5)).is_none());
        assert_eq!(t.len(), 16);
    }
}
