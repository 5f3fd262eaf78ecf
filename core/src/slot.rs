//! One session's record, and the intrusive lists that thread through records.
//!
//! A session is in exactly one list: anonymous sessions in the engine's eviction list (a
//! CLOCK: its head is the hand), authenticated ones in their principal's list (in login
//! order).
//! So one link pair serves both. Lists are circular without a sentinel: the list's owner
//! keeps the head (the first in); the tail is `head.prev`.

use crate::rules::Offsets;
use crate::token::Digest;

/// "None" for every `u32` index in the crate: the end of a slot list or a pool chain, an
/// unlinked wheel entry, an empty index cell. Indices stay below it (capacity and pool
/// sizes are bounded), so telling a link from its absence is one comparison.
// Defined once, here; public as `sessile::wheel::NIL`.
pub const NIL: u32 = u32::MAX;

pub(crate) const STATE_FREE: u8 = 0;
pub(crate) const STATE_ANON: u8 = 1;
pub(crate) const STATE_AUTH: u8 = 2;

/// Slot flag: an anonymous session used since the eviction hand last passed it (its
/// second chance; `engine/capacity.rs`).
pub(crate) const REFERENCED: u8 = 1;

/// The distinct client addresses (short digests, 0 = none yet) one session was seen
/// from, for the too-many-addresses alarm: beside the slots, in their own region
/// ([`crate::Parts::addresses`]), which only a config that raises the alarm has.
pub type Addresses = [u16; 4];

/// Storage for one session. Plain data: all-zero bytes are a valid (free) slot, so a C
/// caller may hand the engine zeroed memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct Slot {
    pub(crate) digest: Digest,
    /// When the session (or its login) began, in ms after the engine's time origin (the
    /// engine keeps the origin, a `u64`, and moves it forward before an offset would pass
    /// `u32::MAX`: `engine/sessions.rs`, `State::offset_of`). Exact to the millisecond as
    /// ever; only where the record counts from changes.
    pub(crate) created: u32,
    /// `last_seen - created`; fits because a session never outlives its absolute timeout (u32 ms).
    pub(crate) seen_offset: u32,
    pub(crate) idle_ms: u32,
    pub(crate) absolute_ms: u32,
    pub(crate) generation: u32,
    /// Bumped each time the session's token changes (login, rotation): a save prepared
    /// under an older token never lands (see `rules::save`).
    pub(crate) epoch: u32,
    pub(crate) payload_head: u32,
    pub(crate) payload_len: u32,
    pub(crate) principal_head: u32,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    /// Keyed digests of the client's address and user agent (0 = not known yet).
    pub(crate) ip: u32,
    pub(crate) ua: u32,
    pub(crate) state: u8,
    pub(crate) principal_len: u8,
    /// Distinct addresses seen (saturating), for the too-many-addresses alarm; the
    /// first four are in the slot's [`Addresses`].
    pub(crate) addr_count: u8,
    /// [`REFERENCED`], and the ALERTED bit (too-many-addresses alarm raised;
    /// `engine/client.rs`).
    pub(crate) flags: u8,
}

impl Slot {
    /// A free slot.
    pub const EMPTY: Slot = Slot {
        digest: Digest([0; 16]),
        created: 0,
        seen_offset: 0,
        idle_ms: 0,
        absolute_ms: 0,
        generation: 0,
        epoch: 0,
        payload_head: NIL,
        payload_len: 0,
        principal_head: NIL,
        prev: NIL,
        next: NIL,
        ip: 0,
        ua: 0,
        state: STATE_FREE,
        principal_len: 0,
        addr_count: 0,
        flags: 0,
    };

    /// The record's times, for the rules ([`crate::rules`]), in the engine whose time
    /// origin is `origin`.
    #[inline]
    pub(crate) fn times(&self, origin: u64) -> Offsets {
        Offsets {
            origin,
            created: self.created,
            seen: self.seen_offset,
            idle_ms: self.idle_ms,
            absolute_ms: self.absolute_ms,
        }
    }

    /// When the session (or its login) began.
    #[inline]
    pub(crate) fn created_ms(&self, origin: u64) -> u64 {
        self.times(origin).created_ms()
    }

    /// Its last use.
    #[inline]
    pub(crate) fn last_seen_ms(&self, origin: u64) -> u64 {
        self.times(origin).last_seen_ms()
    }

    /// The moment the session dies: it is live while `now < deadline(origin)`.
    #[inline]
    pub(crate) fn deadline(&self, origin: u64) -> u64 {
        self.times(origin).deadline()
    }

    #[inline]
    pub(crate) fn is_live(&self) -> bool {
        self.state != STATE_FREE
    }
}

/// Append `i` at the tail of the list whose head is `*head`.
pub(crate) fn push_back(slots: &mut [Slot], head: &mut u32, i: u32) {
    if *head == NIL {
        slots[i as usize].prev = i;
        slots[i as usize].next = i;
        *head = i;
        return;
    }
    let h = *head;
    let tail = slots[h as usize].prev;
    slots[i as usize].prev = tail;
    slots[i as usize].next = h;
    slots[tail as usize].next = i;
    slots[h as usize].prev = i;
}

/// Take `i` out of the list whose head is `*head`.
pub(crate) fn unlink(slots: &mut [Slot], head: &mut u32, i: u32) {
    let (p, n) = (slots[i as usize].prev, slots[i as usize].next);
    if n == i {
        *head = NIL;
    } else {
        slots[p as usize].next = n;
        slots[n as usize].prev = p;
        if *head == i {
            *head = n;
        }
    }
    slots[i as usize].prev = NIL;
    slots[i as usize].next = NIL;
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn order(slots: &[Slot], head: u32) -> Vec<u32> {
        let mut out = Vec::new();
        if head == NIL {
            return out;
        }
        let mut i = head;
        loop {
            out.push(i);
            i = slots[i as usize].next;
            if i == head {
                break;
            }
        }
        out
    }

    #[test]
    fn lru_order() {
        let mut slots = [Slot::EMPTY; 5];
        let mut head = NIL;
        for i in 0..4 {
            push_back(&mut slots, &mut head, i);
        }
        assert_eq!(order(&slots, head), [0, 1, 2, 3]);
        unlink(&mut slots, &mut head, 1);
        assert_eq!(order(&slots, head), [0, 2, 3]);
        push_back(&mut slots, &mut head, 1);
        assert_eq!(order(&slots, head), [0, 2, 3, 1]);
        unlink(&mut slots, &mut head, 1);
        unlink(&mut slots, &mut head, 0);
        unlink(&mut slots, &mut head, 2);
        unlink(&mut slots, &mut head, 3);
        assert_eq!(head, NIL);
    }

    #[test]
    fn zeroed_memory_is_a_free_slot() {
        assert_eq!(Slot::default().state, STATE_FREE);
        assert!(!Slot::default().is_live());
    }
}
