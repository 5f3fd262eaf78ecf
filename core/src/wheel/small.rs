//! The timing wheel as 32-bit targets compute it: the same promises and the same public
//! methods (`u64` times in and out) as the servers' spelling (`wide.rs`), but a
//! slot's place and the time it comes due worked out in `u32`s, on the low 32 bits of the
//! times, with 16 slots a level in a `u16` occupancy word and eight levels: a full turn is
//! `16^8 = 2^32` ms, so a slot number read from a time's low 32 bits is the slot number of
//! the time itself, and the wheel's arithmetic wraps exactly where its top level does.
//!
//! On a 32-bit core each `u64` step is two to six instructions and each `u64` shift a
//! library call; here a deadline costs one `u64` subtraction (how far ahead of the wheel
//! it is, clamped), a poll one subtraction per step and one addition per slot taken. The
//! test `small_and_wide_hand_out_the_same` (in `wheel.rs`) drives this wheel and the
//! servers' with the same operations and checks that they hand out the same entries at
//! every poll; the behaviour tests there run against both.
//!
//! Why `u32` suffices: an entry is placed from its key `key = elapsed + ahead` with
//! `0 < ahead <= MAX_AHEAD` (later deadlines are clamped, as in the servers' wheel), and
//! `MAX_AHEAD` is a turn less one top-level slot (`2^32 - 2^28` ms, 46.6 days). If the key
//! lies past the next multiple of `2^32` (its low 32 bits wrapped), its low bits are
//! below `elapsed`'s by at least `2^28`, so their top 4-bit groups differ and it goes to
//! the top level, which is where the full times put it; otherwise the low bits differ
//! exactly where the full times do. On the top level the key's slot is then 1 to 15 slots
//! after the current one (never the current one's next turn), on a lower level after the
//! current one in the same turn, so the time it comes due is after `elapsed` and at most
//! the key, as in the servers' wheel. A session's deadline can be up to `u32::MAX` ms
//! (49.7 days) after `now`: such an entry is clamped to 46.6 days ahead and looked at
//! again then, when its real deadline is under 3.1 days away.

use super::{AlreadyDue, Link, NIL, Wide, node, push_back, set_next, set_prev};
use crate::slot::NIL_IX;

/// Slots per level: 16, one `u16` occupancy word per level.
pub const SLOTS: usize = 16;

/// Levels: level `n`'s slots each span `16^n` ms, so eight levels make a turn of `2^32` ms
/// (49.7 days).
pub const LEVELS: usize = 8;

/// Sentinel nodes the links slice holds after the `capacity` entries: one list head per
/// `(level, slot)` plus one for the pending list (129).
pub const SENTINELS: usize = LEVELS * SLOTS + 1;

/// log2(SLOTS): bits of a time each level consumes.
pub(crate) const SLOT_BITS: u32 = 4;
const SLOT_MASK: u32 = SLOTS as u32 - 1;
/// One turn of the wheel: `16^8` ms, the range of a `u32`.
pub(crate) const RANGE: u64 = 1 << (SLOT_BITS as usize * LEVELS);
/// Furthest a key may lie beyond `elapsed`: a turn less one top-level slot (see the
/// module's note); later deadlines are clamped to this.
pub(crate) const MAX_AHEAD: u64 = RANGE - (1 << (SLOT_BITS as usize * (LEVELS - 1)));
/// Offset (from `capacity`) of the pending list's sentinel.
pub(crate) const PENDING: usize = LEVELS * SLOTS;

const _: () = assert!(SLOTS == 1 << SLOT_BITS);
const _: () = assert!(RANGE == 1 << 32);
const _: () = assert!(MAX_AHEAD == (1 << 32) - (1 << 28));

/// The 32-bit targets' timing wheel (see the module; what it promises is the servers'
/// wheel's, `wide.rs`).
///
/// | level | slot resolution | range (one full turn) |
/// |-------|-----------------|-----------------------|
/// | 0     | 1 ms            | 16 ms                 |
/// | 1     | 16 ms           | 256 ms                |
/// | 2     | 256 ms          | 4.096 s               |
/// | 3     | 4.096 s         | 65.536 s              |
/// | 4     | 65.536 s        | 17.5 min              |
/// | 5     | 17.5 min        | 4.7 h                 |
/// | 6     | 4.7 h           | 3.1 d                 |
/// | 7     | 3.1 d           | 49.7 d                |
///
/// An entry is looked at no more than once per level it passes through (eight), plus once
/// each time its real deadline turned out to have moved, plus once per 46.6 days while its
/// deadline is further ahead.
///
/// # Panics
///
/// Never, as the servers' wheel.
#[derive(Debug)]
pub struct Wheel {
    /// Current time of the wheel: every slot before it has been emptied.
    elapsed: u64,
    /// Per level, bit `s` set iff slot `s`'s list is non-empty.
    occupied: [u16; LEVELS],
    capacity: u32,
    /// Linked entries (in slots or pending).
    len: usize,
}

impl Wheel {
    /// Length the links slice must have for `capacity` entries (`capacity + SENTINELS`).
    pub const fn links_len(capacity: usize) -> usize {
        capacity.saturating_add(SENTINELS)
    }

    /// A wheel whose time starts at `now`, taking over `links`; `None` unless
    /// `links.len() == Wheel::links_len(capacity)` and every node index fits below [`NIL`].
    pub fn new(links: &mut [Link], capacity: u32, now: u64) -> Option<Wheel> {
        let entries = usize::try_from(capacity).ok()?;
        let total = entries.checked_add(SENTINELS)?;
        if links.len() != total
            || u32::try_from(total).map_or(true, |t| t > crate::index::load(NIL_IX))
        {
            return None;
        }
        let (entry_links, sentinel_links) = links.split_at_mut(entries);
        entry_links.fill(Link::UNLINKED);
        for (index, link) in (capacity..).zip(sentinel_links.iter_mut()) {
            *link = Link::of(index, index);
        }
        Some(Wheel {
            elapsed: now,
            occupied: [0; LEVELS],
            capacity,
            len: 0,
        })
    }

    /// Schedules `entry` to be looked at no earlier than `deadline` (ms), moving it if it
    /// was linked.
    ///
    /// # Errors
    ///
    /// [`AlreadyDue`] if `deadline <= self.elapsed()` (the entry is left unlinked).
    pub fn insert(
        &mut self,
        links: &mut [Link],
        entry: u32,
        deadline: u64,
    ) -> Result<(), AlreadyDue> {
        if !self.usable(links) || entry >= self.capacity {
            return Ok(());
        }
        self.unlink(links, entry);
        if deadline <= self.elapsed {
            return Err(AlreadyDue);
        }
        self.schedule(links, entry, deadline);
        Ok(())
    }

    /// Unlinks `entry` (no-op if it is not linked, or `>= capacity`).
    pub fn remove(&mut self, links: &mut [Link], entry: u32) {
        if self.usable(links) && entry < self.capacity {
            self.unlink(links, entry);
        }
    }

    /// Whether `entry` is in the wheel (scheduled or pending).
    pub fn is_linked(links: &[Link], entry: u32) -> bool {
        let capacity = links.len().saturating_sub(SENTINELS);
        (entry as usize) < capacity && node(links, entry).next != NIL
    }

    /// The wheel's current time (ms).
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Advances toward `now` and hands out the next entry whose real deadline is `<= now`
    /// (already unlinked), or `None` when there is none left, after which
    /// `elapsed() == max(old elapsed, now)`; as the servers' wheel.
    pub fn next_expired(
        &mut self,
        links: &mut [Link],
        now: u64,
        mut deadline_of: impl FnMut(u32) -> u64,
    ) -> Option<u32> {
        if !self.usable(links) || now < self.elapsed {
            return None;
        }
        loop {
            if let Some(entry) = self.pop_pending(links) {
                let deadline = deadline_of(entry);
                if deadline <= now {
                    return Some(entry);
                }
                self.schedule(links, entry, deadline);
                continue;
            }
            let gap = now - self.elapsed;
            if gap >= MAX_AHEAD {
                // Every key is <= elapsed + MAX_AHEAD <= now: all slots are due.
                self.take_all(links);
                self.elapsed = now;
                continue;
            }
            // gap < MAX_AHEAD < 2^32.
            match self.next_slot() {
                Some((level, slot, wait)) if wait < gap as u32 => {
                    // The slot's first millisecond: `wait + 1 <= gap` ms on.
                    self.elapsed += u64::from(wait) + 1;
                    self.take_slot(links, level, slot);
                }
                _ => {
                    self.elapsed = now;
                    return None;
                }
            }
        }
    }

    /// Number of linked entries (scheduled or pending).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is linked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// For the tests: when the slot of sentinel `list` (`< PENDING`) comes due, whether it
    /// is marked occupied, and the capacity.
    #[cfg(test)]
    pub(crate) fn slot_due(&self, list: usize) -> u64 {
        let (level, slot) = (list / SLOTS, list % SLOTS);
        next_occupied(1 << slot, level, self.elapsed as u32)
            .map_or(u64::MAX, |(_, wait)| self.elapsed + u64::from(wait) + 1)
    }
    #[cfg(test)]
    pub(crate) fn marked(&self, list: usize) -> bool {
        self.occupied[list / SLOTS] >> (list % SLOTS) & 1 == 1
    }
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    // ---- internals ----

    fn usable(&self, links: &[Link]) -> bool {
        links.len() == self.capacity as usize + SENTINELS
    }

    /// Sentinel node of `(level, slot)`; `level < LEVELS`, `slot < SLOTS`.
    fn sentinel(&self, level: usize, slot: usize) -> u32 {
        self.capacity + (level * SLOTS + slot) as u32
    }

    fn pending(&self) -> u32 {
        self.capacity + PENDING as u32
    }

    /// Links an unlinked `entry` for `deadline > self.elapsed` (both callers check: were
    /// it ever not so, the difference wraps to a far one, clamped, and the entry is looked
    /// at again then, as any far one).
    fn schedule(&mut self, links: &mut [Link], entry: u32, deadline: u64) {
        let ahead = deadline.wrapping_sub(self.elapsed).min(MAX_AHEAD) as u32;
        let now = self.elapsed as u32;
        let key = now.wrapping_add(ahead);
        let level = level_for(now, key);
        let slot = slot_for(key, level);
        push_back(links, self.sentinel(level, slot), entry);
        self.occupied[level] |= 1 << slot;
        self.len += 1;
    }

    /// Unlinks `entry` from whatever list holds it; false if it was not linked.
    fn unlink(&mut self, links: &mut [Link], entry: u32) -> bool {
        let Wide { prev, next } = node(links, entry);
        if next == NIL {
            return false;
        }
        set_next(links, prev, next);
        set_prev(links, next, prev);
        if let Some(link) = links.get_mut(entry as usize) {
            *link = Link::UNLINKED;
        }
        self.len = self.len.saturating_sub(1);
        if prev == next {
            // Only the list's sentinel is left: clear its occupancy bit.
            self.mark_empty(prev);
        }
        true
    }

    fn mark_empty(&mut self, sentinel: u32) {
        if let Some(offset) = sentinel.checked_sub(self.capacity) {
            let offset = offset as usize;
            if offset < PENDING {
                self.occupied[offset / SLOTS] &= !(1 << (offset % SLOTS));
            }
        }
    }

    /// Unlinks and returns the first pending entry.
    fn pop_pending(&mut self, links: &mut [Link]) -> Option<u32> {
        let pending = self.pending();
        let first = node(links, pending).next;
        if first == pending {
            return None;
        }
        if first >= self.capacity
            || node(links, first).prev != pending
            || !self.unlink(links, first)
        {
            // Corrupted by the caller: drop the list rather than loop or panic.
            if let Some(link) = links.get_mut(pending as usize) {
                *link = Link::of(pending, pending);
            }
            return None;
        }
        Some(first)
    }

    /// Moves the whole list of `(level, slot)` to the end of the pending list, in O(1).
    fn take_slot(&mut self, links: &mut [Link], level: usize, slot: usize) {
        self.occupied[level] &= !(1 << slot);
        let from = self.sentinel(level, slot);
        let to = self.pending();
        let Wide {
            prev: last,
            next: first,
        } = node(links, from);
        if first == from || first == NIL {
            return;
        }
        set_next(links, from, from);
        set_prev(links, from, from);
        let tail = node(links, to).prev;
        set_next(links, tail, first);
        set_prev(links, first, tail);
        set_next(links, last, to);
        set_prev(links, to, last);
    }

    /// Moves every occupied slot's list to the pending list.
    fn take_all(&mut self, links: &mut [Link]) {
        for level in 0..LEVELS {
            let mut bits = self.occupied[level];
            while bits != 0 {
                let slot = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.take_slot(links, level, slot);
            }
        }
    }

    /// The occupied slot that comes due first: `(level, slot, wait)`, where it comes due
    /// `wait + 1` ms after `elapsed`. That is the lowest occupied level's next one: an
    /// entry on level `n` agrees with the wheel's time above its level's group, so its
    /// slot starts within the current level-`n + 1` slot, before any slot of a higher
    /// level that differs from the current one (the servers' wheel compares every
    /// level's; `check_invariants` checks that the lower level always comes due first).
    fn next_slot(&self) -> Option<(usize, usize, u32)> {
        let now = self.elapsed as u32;
        let (level, &bits) = self
            .occupied
            .iter()
            .enumerate()
            .find(|(_, bits)| **bits != 0)?;
        let (slot, wait) = next_occupied(bits, level, now)?;
        Some((level, slot, wait))
    }
}

/// The level for a key `when` (low 32 bits) when the wheel is at `now` (low 32 bits): the
/// level of the highest 4-bit group in which they differ (see the module's note for keys
/// whose low bits wrapped).
pub(crate) fn level_for(now: u32, when: u32) -> usize {
    // OR in the low group so that identical times still land on level 0.
    let masked = (now ^ when) | SLOT_MASK;
    if crate::THUMB1 {
        // No count of leading zeros on a Cortex-M0: the groups above the lowest, counted.
        let mut level = 0;
        let mut rest = masked >> SLOT_BITS;
        while rest != 0 {
            level += 1;
            rest >>= SLOT_BITS;
        }
        return level;
    }
    ((31 - masked.leading_zeros()) / SLOT_BITS) as usize
}

/// Slot of time `when` (low 32 bits) on `level` (`level < LEVELS`).
pub(crate) fn slot_for(when: u32, level: usize) -> usize {
    ((when >> (SLOT_BITS as usize * level)) & SLOT_MASK) as usize
}

/// With the wheel at `now` (low 32 bits), the first occupied slot of `level` (bitmap
/// `occupied`) strictly after the slot containing `now`, going round the level once (the
/// current slot counts only as its next turn). Returns the slot and `wait`: the slot's
/// first millisecond is `wait + 1` ms after `now` (`wait` is at most `2^32 - 1`, where the
/// slot's start itself may be `2^32` ms on).
pub(crate) fn next_occupied(occupied: u16, level: usize, now: u32) -> Option<(usize, u32)> {
    if occupied == 0 {
        return None;
    }
    let current = slot_for(now, level);
    let after = ((current + 1) % SLOTS) as u32;
    // 1..=16 slots ahead of the current one.
    let ahead = occupied.rotate_right(after).trailing_zeros() + 1;
    let slot = (current + ahead as usize) % SLOTS;
    let shift = SLOT_BITS as usize * level;
    // The ms left in the current slot after `now`: `span - 1 - (now % span)`.
    let into_slot_left = ((1u32 << shift) - 1) & !now;
    // (ahead - 1) whole slots after the current one's end, which is into_slot_left + 1 ms
    // on: at most 15 * 2^28 + 2^28 - 1.
    let wait = ((ahead - 1) << shift) + into_slot_left;
    Some((slot, wait))
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::wheel::tests::Rng;
    use std::vec;
    use std::vec::Vec;

    /// Reference over the full times: the lowest level above which `elapsed` and `key`
    /// agree, else the top.
    fn ref_level(elapsed: u64, key: u64) -> usize {
        (0..LEVELS - 1)
            .find(|&l| elapsed >> (4 * (l + 1)) == key >> (4 * (l + 1)))
            .unwrap_or(LEVELS - 1)
    }

    fn span(level: usize) -> u64 {
        1 << (4 * level)
    }

    /// Reference for next_occupied over the full times: the following 16 slot starts.
    fn ref_next_occupied(occupied: u16, level: usize, now: u64) -> Option<(usize, u64)> {
        let sp = span(level);
        let current_start = now / sp * sp;
        (1..=SLOTS as u64).find_map(|k| {
            let at = current_start + k * sp;
            let slot = ((at / sp) % SLOTS as u64) as usize;
            (occupied & (1 << slot) != 0).then_some((slot, at))
        })
    }

    /// Wheel times around every multiple of `2^32` and `16^n` (and their neighbours),
    /// and randoms, none within `2^33` of the end of time (where the wheel's times are
    /// the servers' wheel's: the test in `super` covers it).
    fn times() -> Vec<u64> {
        let mut v = vec![0, 1, 15, 16, 17];
        for high in [0u64, 1, 2, 7, 0xFFFF, 0x7FFF_FFFE] {
            for k in 0..=8u32 {
                for m in [1u64, 2, 3, 8, 15, 16] {
                    let b = (high << 32) + (m << (4 * k)).min((1 << 32) - 1);
                    for d in [-2i64, -1, 0, 1, 2] {
                        v.push(b.wrapping_add_signed(d));
                    }
                }
            }
        }
        let mut rng = Rng::new(17);
        for _ in 0..300 {
            v.push(rng.next() >> (20 + rng.below(24)));
        }
        v.retain(|&t| t < u64::MAX - (1 << 33));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// How far ahead keys lie: around every `16^n`, the turn, the clamp, and randoms.
    fn aheads() -> Vec<u64> {
        let mut v = vec![1, 2, MAX_AHEAD - 1, MAX_AHEAD, (1 << 31) + 5];
        for k in 0..=8u32 {
            for m in [1u64, 2, 15, 16] {
                for d in [-1i64, 0, 1] {
                    v.push((m << (4 * k)).wrapping_add_signed(d));
                }
            }
        }
        let mut rng = Rng::new(23);
        for _ in 0..100 {
            v.push(1 + (rng.next() >> (32 + rng.below(32))));
        }
        v.retain(|&a| a > 0 && a <= MAX_AHEAD);
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Placement from the low 32 bits is the placement from the full times, on a grid of
    /// wheel times around every boundary (the `u32` wrap included) and keys up to the
    /// clamp: the level, the slot, and when the slot comes due (after the wheel's time,
    /// at most the key), also after the wheel advanced part-way; and from the slot's
    /// start the key sits strictly lower (the cascade).
    #[test]
    fn placement_from_low_bits_is_placement_from_full_times() {
        let (times, aheads) = (times(), aheads());
        for &e in &times {
            for &a in &aheads {
                let key = e + a;
                let level = level_for(e as u32, key as u32);
                assert_eq!(level, ref_level(e, key), "elapsed {e} key {key}");
                let slot = slot_for(key as u32, level);
                assert_eq!(slot as u64, (key >> (4 * level)) % 16);
                let (found, wait) = next_occupied(1 << slot, level, e as u32).unwrap();
                assert_eq!(found, slot);
                let at = e + u64::from(wait) + 1;
                assert_eq!(at, key / span(level) * span(level), "elapsed {e} key {key}");
                assert!(e < at && at <= key);
                for e2 in [e + 1, e + (at - e) / 2, at - 1] {
                    if e2 < at {
                        assert_eq!(level_for(e2 as u32, key as u32), level, "{e} {e2} {key}");
                        let (_, wait2) = next_occupied(1 << slot, level, e2 as u32).unwrap();
                        assert_eq!(e2 + u64::from(wait2) + 1, at);
                    }
                }
                if key > at {
                    assert!(level_for(at as u32, key as u32) < level);
                }
            }
        }
    }

    /// next_occupied against stepping through the slot starts, for every level, slot and
    /// position in a slot, on several turns (the `u32` wrap included) and random bitmaps.
    #[test]
    fn next_occupied_matches_reference() {
        let mut rng = Rng::new(29);
        for level in 0..LEVELS {
            let sp = span(level);
            for high in [0u64, 1, 5 << 32, (3 << 32) - sp * 16] {
                for slot in 0..SLOTS as u64 {
                    for off in [0, 1, sp / 2, sp - 1] {
                        let now = high + slot * sp + off;
                        assert_eq!(next_occupied(0, level, now as u32), None);
                        let mut maps: Vec<u16> = (0..16).map(|b| 1u16 << b).collect();
                        maps.extend((0..16).map(|_| (rng.next() & rng.next()) as u16));
                        maps.extend([u16::MAX, 1 | (1 << 15), 1 << slot]);
                        for map in maps.into_iter().filter(|&m| m != 0) {
                            let (got, wait) = next_occupied(map, level, now as u32).unwrap();
                            let at = now + u64::from(wait) + 1;
                            assert_eq!(
                                Some((got, at)),
                                ref_next_occupied(map, level, now),
                                "{level} {now} {map:x}"
                            );
                        }
                    }
                }
            }
        }
        // The top level's current slot, next turn: a whole turn on.
        let now: u64 = (7 << 32) + (3 << 28);
        assert_eq!(next_occupied(1 << 3, 7, now as u32), Some((3, u32::MAX)));
    }

    /// Keys up to the clamp come out at their time across the `u32` wrap; later ones are
    /// looked at again at the clamp and come out at their own time.
    #[test]
    fn deadlines_across_the_wrap_and_beyond_the_clamp() {
        for start in [
            0u64,
            (1 << 32) - 1,
            (1 << 32) - (1 << 28),
            (5 << 32) + 12345,
        ] {
            for ahead in [
                1u64,
                MAX_AHEAD - 1,
                MAX_AHEAD,
                MAX_AHEAD + 1,
                u64::from(u32::MAX),
            ] {
                let mut links = vec![Link::UNLINKED; Wheel::links_len(1)];
                let mut w = Wheel::new(&mut links, 1, start).unwrap();
                let due = start + ahead;
                w.insert(&mut links, 0, due).unwrap();
                let mut calls = 0;
                let mut ask = |_| {
                    calls += 1;
                    due
                };
                assert_eq!(w.next_expired(&mut links, due - 1, &mut ask), None);
                assert_eq!(w.next_expired(&mut links, due, &mut ask), Some(0));
                assert!(calls <= LEVELS + 2, "{start} {ahead}: {calls}");
            }
        }
    }
}
