//! One session's record, and the intrusive lists that thread through records.
//!
//! A session is in exactly one list: anonymous sessions in the engine's eviction list (a
//! CLOCK: its head is the hand), authenticated ones in their principal's list (in login
//! order).
//! So one link pair serves both. Lists are circular without a sentinel: the list's owner
//! keeps the head (the first in); the tail is `head.prev`.

use crate::rules::Offsets;
use crate::storage::Parts;
use crate::token::Digest;

/// "None" for every `u32` index in the crate: the end of a slot list or a pool chain, an
/// unlinked wheel entry, an empty index cell. Indices stay below it (capacity and pool
/// sizes are bounded), so telling a link from its absence is one comparison.
// Defined once, here; public as `sessile::wheel::NIL`.
pub const NIL: u32 = u32::MAX;

/// How the core stores a slot number, wheel node, pool block or index cell where one is
/// kept per session (the slot's links and chain heads, the wheel's links, the indexes'
/// cells): `u32`, or `u16` with the feature `narrow`, for a microcontroller (issue 17:
/// at most 64 bytes of RAM per session). The rules compute in `u32` either way; only
/// what is stored narrows, through this module's `wide` and `narrow`, so every behaviour
/// is the same on both widths (the core's tests run on both). The narrow build refuses any
/// config whose numbers would not fit below [`NIL_IX`] (`ConfigError::Capacity`,
/// `Tombstones`, `Events` or `BadValue { key: "pool_bytes" }`, see
/// [`crate::config::MAX_CAPACITY`]), never wraps one.
#[cfg(not(feature = "narrow"))]
pub type Ix = u32;
/// See the `u32` build's documentation.
#[cfg(feature = "narrow")]
pub type Ix = u16;

/// [`NIL`] as stored ([`Ix`]).
pub const NIL_IX: Ix = Ix::MAX;

/// A stored number as the rules compute with it ([`NIL_IX`] is [`NIL`]).
#[inline]
pub(crate) fn wide(x: Ix) -> u32 {
    #[cfg(feature = "narrow")]
    {
        if x == NIL_IX { NIL } else { u32::from(x) }
    }
    #[cfg(not(feature = "narrow"))]
    {
        x
    }
}

/// A payload's length as stored: `u16` with the feature `narrow` (which refuses a
/// `max_payload` above 65,535: `BadValue` on `max_payload`), else `u32`.
#[cfg(not(feature = "narrow"))]
pub(crate) type PayloadLen = u32;
#[cfg(feature = "narrow")]
pub(crate) type PayloadLen = u16;

/// Distinct client addresses a session counts, at most: the alarm needs to tell at most
/// [`crate::config::MAX_TRACKED_ADDRESSES`] (4) apart, so the count stops at 15 in every
/// build (a `narrow` slot keeps it in 4 bits beside the state and the flags).
pub(crate) const ADDR_COUNT_MAX: u8 = 15;

/// A number as stored: [`NIL`] becomes [`NIL_IX`]; every other number the core stores is
/// below [`NIL_IX`] by the config's checks.
#[inline]
pub(crate) fn narrow(x: u32) -> Ix {
    #[cfg(feature = "narrow")]
    {
        debug_assert!(x == NIL || x < u32::from(NIL_IX));
        x as Ix
    }
    #[cfg(not(feature = "narrow"))]
    {
        x
    }
}

pub(crate) const STATE_FREE: u8 = 0;
pub(crate) const STATE_ANON: u8 = 1;
pub(crate) const STATE_AUTH: u8 = 2;

/// Slot flag: an anonymous session used since the eviction hand last passed it (its
/// second chance; `engine/capacity.rs`).
pub(crate) const REFERENCED: u8 = 1;

/// Slot flag: the too-many-addresses alarm has been raised for this session
/// (`engine/client.rs`).
pub(crate) const ALERTED: u8 = 2;

/// The distinct client addresses (short digests, 0 = none yet) one session was seen
/// from, for the too-many-addresses alarm: beside the slots, in their own region
/// ([`crate::Parts::addresses`]), which only a config that raises the alarm has.
pub type Addresses = [u16; 4];

/// The keyed digests of the client's address and user agent a session was last seen with
/// (0 = not known yet). In the slot in the default build (a server's check reads them
/// with the record, in the same cache lines); with the feature `narrow` in a region of
/// their own (`Parts::clients`, in that build only) that only a config watching either has
/// (`ip_policy` or `user_agent_policy` not `off`, or `max_addresses` above 0): a firmware
/// that watches neither keeps 8 bytes per session less.
pub type ClientDigests = [u32; 2];

/// Slot `i`'s client digests ([0, 0] where the `narrow` build has no region for them).
#[inline]
pub(crate) fn client_of(p: &Parts<'_>, i: u32) -> ClientDigests {
    #[cfg(feature = "narrow")]
    {
        p.clients.get(i as usize).copied().unwrap_or([0; 2])
    }
    #[cfg(not(feature = "narrow"))]
    {
        p.slots[i as usize].client
    }
}

/// Where slot `i`'s client digests are kept (`None` where the `narrow` build has no region
/// for them: its config watches no client fact, so it never computes a digest).
#[inline]
pub(crate) fn client_mut<'a>(p: &'a mut Parts<'_>, i: u32) -> Option<&'a mut ClientDigests> {
    #[cfg(feature = "narrow")]
    {
        p.clients.get_mut(i as usize)
    }
    #[cfg(not(feature = "narrow"))]
    {
        Some(&mut p.slots[i as usize].client)
    }
}

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
    /// The payload's first pool block, read through [`Slot::payload_head`]: any value
    /// while the payload is empty (no block), so a narrow build indexes every one of
    /// 65,536 blocks.
    pub(crate) payload_head: Ix,
    pub(crate) payload_len: PayloadLen,
    /// The principal's first pool block ([`Slot::principal_head`]), as `payload_head`.
    pub(crate) principal_head: Ix,
    pub(crate) prev: Ix,
    pub(crate) next: Ix,
    /// Through [`client_of`] and [`client_mut`].
    #[cfg(not(feature = "narrow"))]
    pub(crate) client: ClientDigests,
    /// `STATE_*`, read and written through [`Slot::state`]; with the feature `narrow`
    /// also the flags (bits 2 and 3) and the address count (bits 4 to 7), one byte for
    /// three.
    pub(crate) state: u8,
    pub(crate) principal_len: u8,
    /// Distinct addresses seen (stopping at [`ADDR_COUNT_MAX`]), for the
    /// too-many-addresses alarm; the first four are in the slot's [`Addresses`]. Through
    /// [`Slot::addr_count`].
    #[cfg(not(feature = "narrow"))]
    pub(crate) addr_count: u8,
    /// [`REFERENCED`], and the ALERTED bit (too-many-addresses alarm raised;
    /// `engine/client.rs`). Through [`Slot::flags`].
    #[cfg(not(feature = "narrow"))]
    pub(crate) flags: u8,
}

/// The `narrow` slot's one byte for state, flags and address count.
#[cfg(feature = "narrow")]
mod packed {
    pub(super) const STATE: u8 = 0b11;
    pub(super) const FLAGS_SHIFT: u32 = 2;
    pub(super) const FLAGS: u8 = 0b11 << FLAGS_SHIFT;
    pub(super) const COUNT_SHIFT: u32 = 4;
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
        payload_head: NIL_IX,
        payload_len: 0,
        principal_head: NIL_IX,
        prev: NIL_IX,
        next: NIL_IX,
        #[cfg(not(feature = "narrow"))]
        client: [0; 2],
        state: STATE_FREE,
        principal_len: 0,
        #[cfg(not(feature = "narrow"))]
        addr_count: 0,
        #[cfg(not(feature = "narrow"))]
        flags: 0,
    };

    /// The session's state (`STATE_*`).
    #[inline]
    pub(crate) fn state(&self) -> u8 {
        #[cfg(feature = "narrow")]
        {
            self.state & packed::STATE
        }
        #[cfg(not(feature = "narrow"))]
        {
            self.state
        }
    }

    #[inline]
    pub(crate) fn set_state(&mut self, state: u8) {
        #[cfg(feature = "narrow")]
        {
            self.state = (self.state & !packed::STATE) | state;
        }
        #[cfg(not(feature = "narrow"))]
        {
            self.state = state;
        }
    }

    /// [`REFERENCED`] and the client alarm's ALERTED bit.
    #[inline]
    pub(crate) fn flags(&self) -> u8 {
        #[cfg(feature = "narrow")]
        {
            (self.state & packed::FLAGS) >> packed::FLAGS_SHIFT
        }
        #[cfg(not(feature = "narrow"))]
        {
            self.flags
        }
    }

    #[inline]
    pub(crate) fn set_flags(&mut self, flags: u8) {
        #[cfg(feature = "narrow")]
        {
            self.state = (self.state & !packed::FLAGS) | (flags << packed::FLAGS_SHIFT);
        }
        #[cfg(not(feature = "narrow"))]
        {
            self.flags = flags;
        }
    }

    /// Distinct addresses seen, at most [`ADDR_COUNT_MAX`].
    #[inline]
    pub(crate) fn addr_count(&self) -> u8 {
        #[cfg(feature = "narrow")]
        {
            self.state >> packed::COUNT_SHIFT
        }
        #[cfg(not(feature = "narrow"))]
        {
            self.addr_count
        }
    }

    /// `count` is at most [`ADDR_COUNT_MAX`].
    #[inline]
    pub(crate) fn set_addr_count(&mut self, count: u8) {
        debug_assert!(count <= ADDR_COUNT_MAX);
        #[cfg(feature = "narrow")]
        {
            self.state = (self.state & !(ADDR_COUNT_MAX << packed::COUNT_SHIFT))
                | (count << packed::COUNT_SHIFT);
        }
        #[cfg(not(feature = "narrow"))]
        {
            self.addr_count = count;
        }
    }

    /// The payload's length in bytes.
    #[inline]
    #[allow(clippy::useless_conversion)]
    pub(crate) fn payload_len(&self) -> u32 {
        u32::from(self.payload_len)
    }

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

    /// The payload's first pool block, [`NIL`] when it is empty.
    #[inline]
    pub(crate) fn payload_head(&self) -> u32 {
        head(self.payload_head, self.payload_len == 0)
    }

    /// The principal's first pool block, [`NIL`] when there is none.
    #[inline]
    pub(crate) fn principal_head(&self) -> u32 {
        head(self.principal_head, self.principal_len == 0)
    }

    /// The previous slot in the session's list.
    #[inline]
    pub(crate) fn prev(&self) -> u32 {
        wide(self.prev)
    }

    /// The next slot in the session's list.
    #[inline]
    pub(crate) fn next(&self) -> u32 {
        wide(self.next)
    }

    #[inline]
    pub(crate) fn is_live(&self) -> bool {
        self.state() != STATE_FREE
    }
}

/// A chain's head as stored: a chain is empty exactly when its length is 0 (the pool
/// gives an empty chain no block), so the narrow build tells it by the length and keeps
/// all 16 bits for block numbers; the `u32` build keeps [`NIL`] in the field as ever.
#[inline]
#[allow(clippy::useless_conversion)]
fn head(stored: Ix, empty: bool) -> u32 {
    if cfg!(feature = "narrow") {
        // Not `wide`: block 65,535 is stored as `NIL_IX` and is a block here.
        if empty { NIL } else { u32::from(stored) }
    } else {
        wide(stored)
    }
}

/// A chain's head (a pool block, or [`NIL`] for none) as stored: every block fits, the
/// last of 65,536 too ([`head`] tells "none" by the chain's length).
#[inline]
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
pub(crate) fn store_head(block: u32) -> Ix {
    debug_assert!(block == NIL || block <= u32::from(NIL_IX));
    block as Ix
}

/// Append `i` at the tail of the list whose head is `*head`.
pub(crate) fn push_back(slots: &mut [Slot], head: &mut u32, i: u32) {
    if *head == NIL {
        slots[i as usize].prev = narrow(i);
        slots[i as usize].next = narrow(i);
        *head = i;
        return;
    }
    let h = *head;
    let tail = slots[h as usize].prev();
    slots[i as usize].prev = narrow(tail);
    slots[i as usize].next = narrow(h);
    slots[tail as usize].next = narrow(i);
    slots[h as usize].prev = narrow(i);
}

/// Take `i` out of the list whose head is `*head`.
pub(crate) fn unlink(slots: &mut [Slot], head: &mut u32, i: u32) {
    let (p, n) = (slots[i as usize].prev(), slots[i as usize].next());
    if n == i {
        *head = NIL;
    } else {
        slots[p as usize].next = narrow(n);
        slots[n as usize].prev = narrow(p);
        if *head == i {
            *head = n;
        }
    }
    slots[i as usize].prev = NIL_IX;
    slots[i as usize].next = NIL_IX;
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
            i = slots[i as usize].next();
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

    /// What a session's record costs (issue 17: 64 bytes of RAM per session on a
    /// microcontroller, with 12 more for its wheel link and index cells at capacity 8).
    #[test]
    fn a_slot_is_52_bytes_narrow_and_72_wide() {
        let want = if cfg!(feature = "narrow") { 52 } else { 72 };
        assert_eq!(core::mem::size_of::<Slot>(), want);
    }

    /// The narrow slot's shared byte keeps state, flags and count apart.
    #[test]
    fn state_flags_and_count_do_not_disturb_each_other() {
        let mut s = Slot::EMPTY;
        for state in [STATE_ANON, STATE_AUTH, STATE_FREE] {
            for flags in 0..4 {
                for count in [0, 1, 4, ADDR_COUNT_MAX] {
                    s.set_state(state);
                    s.set_flags(flags);
                    s.set_addr_count(count);
                    s.set_state(state);
                    assert_eq!(
                        (s.state(), s.flags(), s.addr_count()),
                        (state, flags, count)
                    );
                }
            }
        }
    }

    #[test]
    fn zeroed_memory_is_a_free_slot() {
        assert_eq!(Slot::default().state(), STATE_FREE);
        assert!(!Slot::default().is_live());
    }
}
