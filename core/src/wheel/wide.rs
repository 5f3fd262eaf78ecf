//! The timing wheel as 64-bit targets (servers) compute it: `u64` times, 64 slots a level
//! in one `u64` occupancy word, six levels (`wheel.rs` has what a wheel promises and the
//! 32-bit targets' spelling).

use super::{AlreadyDue, Link, NIL, Wide, node, push_back, set_next, set_prev};
use crate::slot::NIL_IX;

/// Slots per level. 64, so that one `u64` occupancy bitmap per level lets the wheel jump
/// straight to the next non-empty slot instead of stepping through empty ones.
pub const SLOTS: usize = 64;

/// Levels. Level `n`'s slots each span `64^n` ms, so six levels reach `64^6` ms (about 2.2
/// years) ahead, which is longer than any session may live, in a fixed, small footprint.
pub const LEVELS: usize = 6;

/// Sentinel nodes the links slice must hold after the `capacity` entries: one list head per
/// `(level, slot)` plus one for the pending list, so that the wheel needs no storage of its
/// own besides a few counters.
pub const SENTINELS: usize = LEVELS * SLOTS + 1;

/// log2(SLOTS): bits of a deadline each level consumes.
pub(crate) const SLOT_BITS: usize = 6;
pub(crate) const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Span of the whole wheel: `64^6` ms.
pub(crate) const RANGE: u64 = 1 << (SLOT_BITS * LEVELS);
/// Furthest a key may lie beyond `elapsed`; later deadlines are clamped to this.
pub(crate) const MAX_AHEAD: u64 = RANGE - 1;
/// Offset (from `capacity`) of the pending list's sentinel.
pub(crate) const PENDING: usize = LEVELS * SLOTS;

const _: () = assert!(SLOTS == 1 << SLOT_BITS);
const _: () = assert!(SLOT_BITS * LEVELS < 64);

/// A hierarchical timing wheel over the entries `0..capacity`, with its lists stored in a
/// caller-provided `[Link]` slice (see [`Wheel::links_len`]).
///
/// Times are milliseconds on the caller's clock. An entry due `d` ms after
/// [`elapsed`](Wheel::elapsed) sits on the lowest level whose slots can tell it apart from
/// the current time:
///
/// | level | slot resolution           | range (one full turn)     |
/// |-------|---------------------------|---------------------------|
/// | 0     | 1 ms                      | 64 ms                     |
/// | 1     | 64 ms                     | 4.096 s                   |
/// | 2     | 4.096 s                   | 262.144 s (~4.4 min)      |
/// | 3     | 262.144 s (~4.4 min)      | 16 777.216 s (~4.7 h)     |
/// | 4     | 16 777.216 s (~4.7 h)     | 1 073 741.824 s (~12.4 d) |
/// | 5     | 1 073 741.824 s (~12.4 d) | 68 719 476.736 s (~2.2 y) |
///
/// A slot on level `n > 0` is looked at when its first millisecond arrives, up to `64^n - 1`
/// ms before its entries are due; those not yet due are then re-inserted (cascade) on a
/// lower level. So an entry is looked at no more than once per level it passes through,
/// plus once each time its real deadline turned out to have moved, plus once per wheel turn
/// while its deadline is beyond the wheel's range (such deadlines are clamped to
/// `elapsed + 64^6 - 1` ms and re-examined then).
///
/// # Panics
///
/// Never. An entry `>= capacity` is ignored (no-op, `Ok(())`, `false`), and a links slice of
/// the wrong length makes every method a no-op (returning `None` / `Ok(())`), rather than
/// bringing down the server over a caller's bookkeeping mistake.
#[derive(Debug)]
pub struct Wheel {
    /// Current time of the wheel: every slot before it has been emptied.
    elapsed: u64,
    /// Per level, bit `s` set iff slot `s`'s list is non-empty.
    occupied: [u64; LEVELS],
    capacity: u32,
    /// Linked entries (in slots or pending).
    len: usize,
}

impl Wheel {
    /// Length the links slice must have for `capacity` entries (`capacity + SENTINELS`), so
    /// that callers can size static or pooled storage at compile time.
    pub const fn links_len(capacity: usize) -> usize {
        capacity.saturating_add(SENTINELS)
    }

    /// A wheel whose time starts at `now`, taking over `links` (sentinels become empty lists,
    /// entries [`Link::UNLINKED`]), so that any previous contents are harmless.
    ///
    /// Returns `None` unless `links.len() == Wheel::links_len(capacity)` and every node index
    /// fits below [`NIL`]: a mis-sized slice is a configuration error the caller must see,
    /// not a panic later.
    pub fn new(links: &mut [Link], capacity: u32, now: u64) -> Option<Wheel> {
        let entries = usize::try_from(capacity).ok()?;
        let total = entries.checked_add(SENTINELS)?;
        // Node indices run up to `total - 1`, which must stay below NIL (as stored).
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

    /// Schedules `entry` to be looked at no earlier than `deadline` (ms); if it was already
    /// linked it is moved, so the caller need not remember whether it was.
    ///
    /// Deadlines beyond the wheel's range are clamped to its furthest slot; the entry is
    /// re-examined (via `deadline_of`) when that arrives.
    ///
    /// # Errors
    ///
    /// [`AlreadyDue`] if `deadline <= self.elapsed()`: the entry is left unlinked and the
    /// caller expires it itself.
    ///
    /// An `entry >= capacity` (or a mis-sized `links`) is ignored and gives `Ok(())`.
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

    /// Unlinks `entry` in O(1) (no-op if it is not linked, or `>= capacity`), so a session
    /// freed by other means never comes back from the wheel.
    pub fn remove(&mut self, links: &mut [Link], entry: u32) {
        if self.usable(links) && entry < self.capacity {
            self.unlink(links, entry);
        }
    }

    /// Whether `entry` is in the wheel (scheduled or pending), so that callers can keep no
    /// flag of their own. `false` for an entry `>= capacity` (derived from `links.len()`).
    pub fn is_linked(links: &[Link], entry: u32) -> bool {
        let capacity = links.len().saturating_sub(SENTINELS);
        (entry as usize) < capacity && node(links, entry).next != NIL
    }

    /// The wheel's current time (ms): every entry scheduled at or before it has been handed
    /// out by [`next_expired`](Wheel::next_expired) or is queued to be by the next call,
    /// which is why [`insert`](Wheel::insert) refuses such deadlines.
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Advances toward `now` and hands out the next entry whose real deadline is `<= now`
    /// (already unlinked), or `None` when there is none left, after which
    /// `elapsed() == max(old elapsed, now)`.
    ///
    /// Whenever the wheel looks at an entry (its slot came due), it asks `deadline_of(entry)`
    /// for the real deadline, which may have moved later since it was inserted: if that is
    /// still after `now`, the entry is re-inserted there instead of being handed out. One
    /// entry at a time, so the caller can free each session (and insert or remove others)
    /// between calls; the rest wait on the pending list.
    ///
    /// Cost is proportional to the entries looked at (handed out, cascaded or re-inserted),
    /// not to the number of linked entries nor to the time span: empty slots are skipped
    /// through the occupancy bitmaps, and a jump of a whole wheel turn or more takes
    /// everything out at once instead of turning the top level repeatedly.
    ///
    /// `deadline_of` is only ever called with an entry `< capacity` that was linked (it is
    /// unlinked during the call), so the caller may index its own arrays with it.
    ///
    /// `now < elapsed()` (the clock went back) returns `None` and changes nothing.
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
                // deadline > now >= elapsed, so this is a valid insertion.
                self.schedule(links, entry, deadline);
                continue;
            }
            if now - self.elapsed >= MAX_AHEAD {
                // Every key is <= elapsed + MAX_AHEAD <= now: all slots are due. Taking them
                // all now (instead of slot by slot) means the clamped far-future entries are
                // re-inserted relative to `now`, not re-examined once per wheel turn.
                self.take_all(links);
                self.elapsed = now;
                continue;
            }
            match self.next_slot() {
                Some((level, slot, at)) if at <= now => {
                    self.elapsed = at;
                    self.take_slot(links, level, slot);
                }
                _ => {
                    self.elapsed = now;
                    return None;
                }
            }
        }
    }

    /// Number of linked entries (scheduled or pending), kept as a counter so that it is O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is linked, e.g. to skip polling altogether.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// For the tests: when the slot of sentinel `list` (`< PENDING`) comes due, whether it
    /// is marked occupied, and the capacity.
    #[cfg(test)]
    pub(crate) fn slot_due(&self, list: usize) -> u64 {
        let (level, slot) = (list / SLOTS, list % SLOTS);
        next_occupied(1 << slot, level, self.elapsed).map_or(u64::MAX, |(_, at)| at)
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

    /// Whether `links` is the slice this wheel was built for (by length).
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

    /// Links an unlinked `entry` for `deadline > self.elapsed`.
    fn schedule(&mut self, links: &mut [Link], entry: u32, deadline: u64) {
        let key = deadline.min(self.elapsed.saturating_add(MAX_AHEAD));
        let level = level_for(self.elapsed, key);
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

    /// Moves every occupied slot's list to the pending list (at most LEVELS * SLOTS splices).
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

    /// The occupied slot that comes due first: `(level, slot, time it comes due)`.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for (level, &bits) in self.occupied.iter().enumerate() {
            if let Some((slot, at)) = next_occupied(bits, level, self.elapsed)
                && best.is_none_or(|(_, _, best_at)| at < best_at)
            {
                best = Some((level, slot, at));
            }
        }
        best
    }
}

/// The level for a key `when` when the wheel is at `elapsed`: the level of the highest 6-bit
/// group in which they differ (keys in the next 64^6 ms turn go to the top level, whose
/// slots wrap around).
fn level_for(elapsed: u64, when: u64) -> usize {
    // OR in the low group so that identical times still land on level 0.
    let mut masked = (elapsed ^ when) | SLOT_MASK;
    if masked >= RANGE {
        masked = RANGE - 1;
    }
    if crate::THUMB1 {
        return level_by_shifts(masked);
    }
    let significant = 63 - masked.leading_zeros() as usize;
    per_slot_bits(significant)
}

/// [`level_for`]'s level of `masked` (in `SLOT_MASK..RANGE`) for a Cortex-M0
/// (`crate::THUMB1`), which counts leading zeros in software: its 6-bit groups above the
/// lowest, counted by shifting.
fn level_by_shifts(masked: u64) -> usize {
    let mut level = 0;
    let mut rest = masked >> SLOT_BITS;
    while rest != 0 {
        level += 1;
        rest >>= SLOT_BITS;
    }
    level
}

/// `x / SLOT_BITS` for `x < 64` as a multiplication and a shift (`x * 43 >> 8`, checked
/// for every such `x` at compile time below): a Cortex-M0 has no divide instruction, and
/// this division alone would make the firmware link a software divider.
const fn per_slot_bits(x: usize) -> usize {
    (x * 43) >> 8
}

const _: () = {
    let mut x = 0;
    while x < 64 {
        assert!(per_slot_bits(x) == x / SLOT_BITS);
        x += 1;
    }
};

/// Slot of time `when` on `level` (`level < LEVELS`).
fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (SLOT_BITS * level)) & SLOT_MASK) as usize
}

/// Width of one slot on `level` (`level < LEVELS`).
fn slot_span(level: usize) -> u64 {
    1 << (SLOT_BITS * level)
}

/// With the wheel at `now`, the first occupied slot of `level` (bitmap `occupied`) strictly
/// after the slot containing `now`, going round the level once: the current slot itself
/// counts only as its next turn (64 slots later), which is where the top level keeps keys
/// that wrapped. Returns the slot and the time its first millisecond starts.
fn next_occupied(occupied: u64, level: usize, now: u64) -> Option<(usize, u64)> {
    if occupied == 0 {
        return None;
    }
    let current = slot_for(now, level);
    let after = ((current + 1) % SLOTS) as u32;
    // 1..=64 slots ahead of the current one.
    let ahead = occupied.rotate_right(after).trailing_zeros() as u64 + 1;
    let slot = (current + ahead as usize) % SLOTS;
    let span = slot_span(level);
    let at = (now & !(span - 1)).saturating_add(ahead * span);
    Some((slot, at))
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec;
    use std::vec::Vec;

    use crate::wheel::tests::{Rng, check_invariants, wheel};

    fn span(level: usize) -> u64 {
        1 << (6 * level)
    }

    /// Reference: the lowest level above which `elapsed` and `when` agree, else the top.
    fn ref_level(elapsed: u64, when: u64) -> usize {
        (0..LEVELS - 1)
            .find(|&l| elapsed >> (6 * (l + 1)) == when >> (6 * (l + 1)))
            .unwrap_or(LEVELS - 1)
    }

    /// Reference for next_occupied: step through the following 64 slot starts.
    fn ref_next_occupied(occupied: u64, level: usize, now: u64) -> Option<(usize, u64)> {
        let sp = span(level);
        let current_start = now / sp * sp;
        (1..=SLOTS as u64).find_map(|k| {
            let at = current_start.checked_add(k * sp)?;
            let slot = ((at / sp) % 64) as usize;
            (occupied & (1 << slot) != 0).then_some((slot, at))
        })
    }

    /// Times around every power-of-64 boundary (and their multiples), extremes, and randoms.
    fn representative_times() -> Vec<u64> {
        let mut v = vec![
            0,
            1,
            2,
            62,
            63,
            u64::MAX,
            u64::MAX - 1,
            u64::MAX - 63,
            u64::MAX / 2,
        ];
        for k in 0..=10u32 {
            let p = 1u64 << (6 * k);
            for m in [1u64, 2, 3, 31, 32, 63, 64, 65, 127, 4095] {
                if let Some(b) = p.checked_mul(m) {
                    for d in [-1i64, 0, 1] {
                        v.push(b.wrapping_add_signed(d));
                    }
                }
            }
        }
        let mut rng = Rng::new(7);
        loop {
            v.sort_unstable();
            v.dedup();
            if v.len() >= 2100 {
                return v;
            }
            let bits = rng.below(64) as u32;
            v.push(rng.next() >> bits);
        }
    }

    fn deltas() -> Vec<u64> {
        let mut v = vec![
            1,
            2,
            3,
            MAX_AHEAD - 1,
            MAX_AHEAD,
            RANGE,
            RANGE + 1,
            5 * RANGE,
        ];
        for k in 0..=6u32 {
            let p = 1u64 << (6 * k);
            for m in [1u64, 2, 63, 64] {
                for d in [-1i64, 0, 1] {
                    v.push((p * m).wrapping_add_signed(d));
                }
            }
        }
        v.retain(|&d| d > 0);
        v
    }

    #[test]
    fn slot_for_every_level_slot_and_boundary() {
        let highs = [0u64, 1, 2, 63, 0xDEAD_BEEF, u64::MAX >> 36];
        for level in 0..LEVELS {
            let sp = span(level);
            for slot in 0..SLOTS {
                for &high in &highs {
                    let Some(base) = high.checked_mul(sp * 64) else {
                        continue;
                    };
                    for off in [0, 1, sp / 2, sp - 1].into_iter().filter(|&o| o < sp) {
                        let when = base + slot as u64 * sp + off;
                        assert_eq!(slot_for(when, level), slot, "level {level} when {when}");
                        assert_eq!(slot_for(when, level), ((when / sp) % 64) as usize);
                    }
                }
            }
            assert_eq!(slot_for(u64::MAX, level), 63);
        }
    }

    #[test]
    fn level_for_matches_reference_on_all_pairs() {
        let times = representative_times();
        let deltas = deltas();
        assert!(times.len() > 2000);
        for &e in &times {
            for &w in &times {
                assert_eq!(level_for(e, w), ref_level(e, w), "elapsed {e} when {w}");
            }
            for &d in &deltas {
                if let Some(w) = e.checked_add(d) {
                    assert_eq!(level_for(e, w), ref_level(e, w), "elapsed {e} when {w}");
                }
            }
        }
        assert_eq!(level_for(0, 0), 0);
        assert_eq!(level_for(0, 1), 0);
        for level in 1..LEVELS {
            // From 0, `64^level` ms is the first time that needs `level`.
            assert_eq!(level_for(0, span(level)), level);
            assert_eq!(level_for(0, span(level) - 1), level - 1);
        }
        assert_eq!(level_for(0, MAX_AHEAD), LEVELS - 1);
        assert_eq!(level_for(0, u64::MAX), LEVELS - 1);
    }

    /// The Cortex-M0's level by shifts is the level by leading zeros, for every masked
    /// value's highest bit and the values around it.
    #[test]
    fn level_by_shifts_is_level_by_leading_zeros() {
        for top in SLOT_BITS..SLOT_BITS * LEVELS {
            let b = 1u64 << top;
            for masked in [b - 1, b, b + 1, b | SLOT_MASK, (b << 1) - 1] {
                let masked = (masked | SLOT_MASK).min(RANGE - 1);
                let want = per_slot_bits(63 - masked.leading_zeros() as usize);
                assert_eq!(level_by_shifts(masked), want, "{masked}");
            }
        }
    }

    #[test]
    fn next_occupied_matches_reference() {
        let mut rng = Rng::new(11);
        let highs = [0u64, 1, 77, (u64::MAX >> 36) - 1];
        for level in 0..LEVELS {
            let sp = span(level);
            for &high in &highs {
                let base = high * sp * 64;
                for slot in 0..SLOTS as u64 {
                    for off in [0, 1, sp - 1] {
                        let now = base + slot * sp + off;
                        assert_eq!(next_occupied(0, level, now), None);
                        let mut maps: Vec<u64> = (0..64).map(|b| 1u64 << b).collect();
                        maps.extend((0..64).map(|_| rng.next() & rng.next()));
                        maps.extend([u64::MAX, 1 | (1 << 63), 1 << slot]);
                        for map in maps {
                            if map == 0 {
                                continue;
                            }
                            let got = next_occupied(map, level, now);
                            assert_eq!(
                                got,
                                ref_next_occupied(map, level, now),
                                "{level} {now} {map:x}"
                            );
                            let (_, at) = got.unwrap();
                            assert!(at > now);
                        }
                    }
                }
            }
        }
        // Saturates instead of overflowing past the end of time.
        assert_eq!(next_occupied(1 << 62, 5, u64::MAX), Some((62, u64::MAX)));
    }

    /// Where `schedule` puts a key is found again by `next_occupied`, no later than the key,
    /// also after the wheel advanced without reaching it; lower levels come due first; and
    /// when the slot comes due the key moves strictly down.
    #[test]
    fn placement_is_found_on_time_from_every_elapsed() {
        let times = representative_times();
        let deltas = deltas();
        let check = |e: u64, w: u64| {
            if w <= e {
                return;
            }
            let key = w.min(e.saturating_add(MAX_AHEAD));
            let level = level_for(e, key);
            let slot = slot_for(key, level);
            let sp = span(level);
            let found = next_occupied(1 << slot, level, e);
            assert_eq!(found, Some((slot, key / sp * sp)), "elapsed {e} when {w}");
            let at = key / sp * sp;
            assert!(e < at && at <= key);
            // Advancing part-way keeps the placement valid.
            for e2 in [e + 1, e + (at - e) / 2, at - 1] {
                if e2 < at {
                    assert_eq!(level_for(e2, key), level, "{e} -> {e2}, key {key}");
                    assert_eq!(next_occupied(1 << slot, level, e2), Some((slot, at)));
                }
            }
            // Cascade: from the slot's start the key sits strictly lower.
            if key > at {
                assert!(level_for(at, key) < level);
            } else {
                assert_eq!(at, key);
            }
        };
        for &e in &times {
            for &w in &times {
                check(e, w);
            }
            for &d in &deltas {
                check(e, e.saturating_add(d));
            }
        }
        // Lower levels always come due before higher ones.
        let mut rng = Rng::new(3);
        for _ in 0..200_000 {
            let e = rng.next() >> rng.below(64);
            let k1 = e.saturating_add(1 + (rng.next() >> (28 + rng.below(36))));
            let k2 = e.saturating_add(1 + (rng.next() >> (28 + rng.below(36))));
            if k1 <= e || k2 <= e {
                continue;
            }
            let (l1, l2) = (level_for(e, k1), level_for(e, k2));
            let at1 = next_occupied(1 << slot_for(k1, l1), l1, e).unwrap().1;
            let at2 = next_occupied(1 << slot_for(k2, l2), l2, e).unwrap().1;
            if l1 < l2 {
                assert!(at1 < at2, "{e} {k1} {k2}");
            }
        }
    }

    /// A key that wrapped into the top level's current slot (next turn) must not hide a
    /// later slot of the current turn (tokio's next_occupied_slot would pick it first).
    #[test]
    fn top_level_wrap_does_not_hide_later_slots() {
        let e = 5 * span(5) + 100;
        let (mut w, mut links) = wheel::<Wheel>(2, e);
        w.insert(&mut links, 0, e + MAX_AHEAD).unwrap();
        assert_eq!(slot_for(e + MAX_AHEAD, 5), 5);
        let b = 10 * span(5) + 7;
        w.insert(&mut links, 1, b).unwrap();
        let due = [e + MAX_AHEAD, b];
        check_invariants(&w, &links, |i| Some(due[i as usize]));
        let mut asked = vec![];
        assert_eq!(
            w.next_expired(&mut links, b, |i| {
                asked.push(i);
                due[i as usize]
            }),
            Some(1)
        );
        assert_eq!(asked, [1]);
        // The far one comes out at its own time, after one re-examination per turn at most.
        assert_eq!(
            w.next_expired(&mut links, e + MAX_AHEAD - 1, |i| due[i as usize]),
            None
        );
        assert_eq!(
            w.next_expired(&mut links, e + MAX_AHEAD, |i| due[i as usize]),
            Some(0)
        );
    }
}
