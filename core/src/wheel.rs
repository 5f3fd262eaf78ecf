//! Hierarchical timing wheel (Varghese & Lauck; the shape of tokio's timer) that tells the
//! engine which sessions may have expired, so their memory can be reclaimed without scanning
//! every slot.
//!
//! The wheel is deliberately imprecise: it only promises never to hand an entry out before
//! its deadline and never to miss one after it. Exact expiry is decided by the caller, who is
//! asked for an entry's real deadline (`deadline_of`) whenever the wheel looks at it. That
//! lets a session be touched (its deadline pushed later) without touching the wheel at all;
//! the stale position is corrected lazily when it comes due.
//!
//! Storage is one caller-provided slice of [`Link`]s: `capacity` entry nodes (entry `e` is
//! node `e`) followed by [`SENTINELS`] list heads, one per `(level, slot)` (node
//! `capacity + level * SLOTS + slot`) and one for the pending list (node
//! `capacity + LEVELS * SLOTS`). Every list is circular and doubly linked through indices, so
//! linking, unlinking and moving a whole slot are O(1) and no memory is allocated.

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

// "No node": an unlinked entry's links are NIL, so membership is a single comparison.
pub use crate::slot::NIL;
use crate::slot::{Ix, NIL_IX, narrow, wide};

/// log2(SLOTS): bits of a deadline each level consumes.
const SLOT_BITS: usize = 6;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Span of the whole wheel: `64^6` ms.
const RANGE: u64 = 1 << (SLOT_BITS * LEVELS);
/// Furthest a key may lie beyond `elapsed`; later deadlines are clamped to this.
const MAX_AHEAD: u64 = RANGE - 1;
/// Offset (from `capacity`) of the pending list's sentinel.
const PENDING: usize = LEVELS * SLOTS;

const _: () = assert!(SLOTS == 1 << SLOT_BITS);
const _: () = assert!(SLOT_BITS * LEVELS < 64);

/// One node of an intrusive circular list. Plain data so that the storage can live wherever
/// the caller wants (static, pool, C memory) and be inspected or reset without the wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Node numbers are stored as [`Ix`] (`u16` with the feature `narrow`); the wheel computes
/// in `u32`.
pub struct Link {
    /// Previous node's index (or [`crate::slot::NIL_IX`] when unlinked).
    pub prev: Ix,
    /// Next node's index (or [`crate::slot::NIL_IX`] when unlinked).
    pub next: Ix,
}

impl Link {
    /// State of an entry that is in no list; what storage must hold before [`Wheel::new`]
    /// initialises it (which it does itself, so any contents are accepted).
    pub const UNLINKED: Link = Link {
        prev: NIL_IX,
        next: NIL_IX,
    };

    /// The links `prev` and `next` (node numbers, or [`NIL`]) as stored.
    #[inline]
    fn of(prev: u32, next: u32) -> Link {
        Link {
            prev: narrow(prev),
            next: narrow(next),
        }
    }
}

/// A [`Link`] as the wheel computes with it.
#[derive(Clone, Copy)]
struct Wide {
    prev: u32,
    next: u32,
}

/// Returned by [`Wheel::insert`] when the deadline is not after the wheel's current time:
/// the wheel will never look at that moment again, so the caller must expire the entry
/// itself rather than have it silently forgotten.
#[derive(Debug, PartialEq, Eq)]
pub struct AlreadyDue;

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

fn node(links: &[Link], index: u32) -> Wide {
    let link = links.get(index as usize).copied().unwrap_or(Link::UNLINKED);
    Wide {
        prev: wide(link.prev),
        next: wide(link.next),
    }
}

fn set_next(links: &mut [Link], index: u32, next: u32) {
    if let Some(link) = links.get_mut(index as usize) {
        link.next = narrow(next);
    }
}

fn set_prev(links: &mut [Link], index: u32, prev: u32) {
    if let Some(link) = links.get_mut(index as usize) {
        link.prev = narrow(prev);
    }
}

/// Appends unlinked `entry` to the list whose sentinel is `list`.
fn push_back(links: &mut [Link], list: u32, entry: u32) {
    let tail = node(links, list).prev;
    if let Some(link) = links.get_mut(entry as usize) {
        *link = Link::of(tail, list);
    }
    set_next(links, tail, entry);
    set_prev(links, list, entry);
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// xorshift64*: small, deterministic, good enough to drive the tests.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// Uniform-ish in `0..n` (`n > 0`).
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, one_in: u64) -> bool {
            self.below(one_in) == 0
        }
    }

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

    // ---- wheel ----

    fn wheel(capacity: u32, now: u64) -> (Wheel, Vec<Link>) {
        let mut links = vec![Link::of(7, 9); Wheel::links_len(capacity as usize)];
        let w = Wheel::new(&mut links, capacity, now).unwrap();
        (w, links)
    }

    /// Checks list structure, occupancy bitmaps, len, and that every scheduled entry's slot
    /// comes due no later than `deadline(e)`.
    fn check_invariants(w: &Wheel, links: &[Link], deadline: impl Fn(u32) -> Option<u64>) {
        let cap = w.capacity;
        let mut count = 0;
        let mut seen = vec![false; cap as usize];
        for list in 0..SENTINELS {
            let s = cap + list as u32;
            let mut prev = s;
            let mut cur = wide(links[s as usize].next);
            let mut n = 0;
            while cur != s {
                assert!(cur < cap, "list {list} holds {cur}");
                assert!(!seen[cur as usize], "{cur} twice");
                seen[cur as usize] = true;
                assert_eq!(wide(links[cur as usize].prev), prev);
                let d = deadline(cur).unwrap_or_else(|| panic!("inactive {cur} linked"));
                if list < PENDING {
                    let (level, slot) = (list / SLOTS, list % SLOTS);
                    let at = next_occupied(1 << slot, level, w.elapsed).unwrap().1;
                    assert!(
                        at <= d,
                        "entry {cur} due {d} but slot ({level},{slot}) comes at {at}"
                    );
                }
                prev = cur;
                cur = wide(links[cur as usize].next);
                n += 1;
            }
            assert_eq!(wide(links[s as usize].prev), prev);
            if list < PENDING {
                let bit = w.occupied[list / SLOTS] >> (list % SLOTS) & 1 == 1;
                assert_eq!(bit, n > 0, "occupancy of list {list}");
            }
            count += n;
        }
        assert_eq!(count, w.len());
        for e in 0..cap {
            assert_eq!(Wheel::is_linked(links, e), seen[e as usize]);
            if !seen[e as usize] {
                assert_eq!(links[e as usize], Link::UNLINKED);
            }
        }
    }

    #[test]
    fn new_checks_length_and_initialises() {
        assert_eq!(Wheel::links_len(10), 10 + SENTINELS);
        assert_eq!(Wheel::links_len(usize::MAX), usize::MAX);
        for (cap, len) in [
            (10u32, 10 + SENTINELS - 1),
            (10, 10 + SENTINELS + 1),
            (10, 0),
            (0, SENTINELS - 1),
        ] {
            let mut links = vec![Link::UNLINKED; len];
            assert!(Wheel::new(&mut links, cap, 0).is_none(), "{cap} {len}");
        }
        assert!(Wheel::new(&mut [], u32::MAX, 0).is_none());
        let mut links = vec![Link::UNLINKED; SENTINELS];
        let w = Wheel::new(&mut links, 0, 5).unwrap();
        assert!(w.is_empty());
        let (w, links) = wheel(10, 1234);
        assert_eq!(w.elapsed(), 1234);
        assert_eq!(w.len(), 0);
        assert!(links[..10].iter().all(|l| *l == Link::UNLINKED));
        for (i, l) in links[10..].iter().enumerate() {
            let me = 10 + i as u32;
            assert_eq!(*l, Link::of(me, me));
        }
        check_invariants(&w, &links, |_| None);
    }

    #[test]
    fn insert_remove_move() {
        let (mut w, mut links) = wheel(8, 1000);
        let mut due = [None::<u64>; 8];
        assert_eq!(w.insert(&mut links, 3, 1100), Ok(()));
        due[3] = Some(1100);
        assert!(Wheel::is_linked(&links, 3));
        assert_eq!(w.len(), 1);
        check_invariants(&w, &links, |e| due[e as usize]);
        // Move later, then earlier, across levels.
        for d in [5_000_000, 1001, 90_000, 1_000_000_000_000, 2000] {
            assert_eq!(w.insert(&mut links, 3, d), Ok(()));
            due[3] = Some(d);
            assert_eq!(w.len(), 1);
            check_invariants(&w, &links, |e| due[e as usize]);
        }
        assert_eq!(w.insert(&mut links, 5, 2000), Ok(()));
        due[5] = Some(2000);
        check_invariants(&w, &links, |e| due[e as usize]);
        w.remove(&mut links, 3);
        due[3] = None;
        w.remove(&mut links, 3);
        assert!(!Wheel::is_linked(&links, 3));
        assert_eq!(w.len(), 1);
        check_invariants(&w, &links, |e| due[e as usize]);
        assert_eq!(
            w.next_expired(&mut links, 1999, |e| due[e as usize].unwrap()),
            None
        );
        assert_eq!(w.elapsed(), 1999);
        assert_eq!(
            w.next_expired(&mut links, 2000, |e| due[e as usize].unwrap()),
            Some(5)
        );
        assert!(!Wheel::is_linked(&links, 5));
        assert!(w.is_empty());
        assert_eq!(w.next_expired(&mut links, 2000, |_| unreachable!()), None);
        check_invariants(&w, &links, |_| None);
    }

    #[test]
    fn out_of_range_entries_and_wrong_slices_are_ignored() {
        let (mut w, mut links) = wheel(4, 0);
        assert_eq!(w.insert(&mut links, 4, 10), Ok(()));
        assert_eq!(w.insert(&mut links, NIL, 10), Ok(()));
        w.remove(&mut links, 4);
        w.remove(&mut links, NIL);
        assert!(!Wheel::is_linked(&links, 4)); // a sentinel
        assert!(!Wheel::is_linked(&links, NIL));
        assert!(!Wheel::is_linked(&[], 0));
        assert!(w.is_empty());
        check_invariants(&w, &links, |_| None);
        let mut short = vec![Link::UNLINKED; 3];
        assert_eq!(w.insert(&mut short, 1, 10), Ok(()));
        w.remove(&mut short, 1);
        assert_eq!(w.next_expired(&mut short, 100, |_| 0), None);
        assert_eq!(w.elapsed(), 0);
        assert!(w.is_empty());
    }

    #[test]
    fn already_due() {
        let (mut w, mut links) = wheel(4, 500);
        assert_eq!(w.insert(&mut links, 0, 500), Err(AlreadyDue));
        assert_eq!(w.insert(&mut links, 0, 0), Err(AlreadyDue));
        assert!(!Wheel::is_linked(&links, 0));
        assert_eq!(w.insert(&mut links, 0, 501), Ok(()));
        // Moving a linked entry into the past unlinks it.
        assert_eq!(w.insert(&mut links, 0, 499), Err(AlreadyDue));
        assert!(!Wheel::is_linked(&links, 0));
        assert!(w.is_empty());
        check_invariants(&w, &links, |_| None);
        // The end of time.
        let (mut w, mut links) = wheel(4, u64::MAX);
        assert_eq!(w.insert(&mut links, 1, u64::MAX), Err(AlreadyDue));
        assert!(w.is_empty());
    }

    #[test]
    fn clock_going_back_moves_nothing() {
        let (mut w, mut links) = wheel(4, 1000);
        w.insert(&mut links, 1, 1010).unwrap();
        assert_eq!(w.next_expired(&mut links, 10, |_| unreachable!()), None);
        assert_eq!(w.elapsed(), 1000);
        assert_eq!(w.next_expired(&mut links, 1005, |_| unreachable!()), None);
        assert_eq!(w.elapsed(), 1005);
        assert_eq!(w.next_expired(&mut links, 1004, |_| unreachable!()), None);
        assert_eq!(w.elapsed(), 1005);
        assert_eq!(w.next_expired(&mut links, 1010, |_| 1010), Some(1));
    }

    #[test]
    fn cascade_reexamines_and_follows_moved_deadlines() {
        let (mut w, mut links) = wheel(2, 0);
        w.insert(&mut links, 0, 10_000).unwrap(); // level 2, slot 2 (starts at 8192)
        let mut calls = 0;
        let mut deadline = 10_000;
        let poll = |w: &mut Wheel, links: &mut [Link], now, deadline: u64, calls: &mut u32| {
            w.next_expired(links, now, |e| {
                assert_eq!(e, 0);
                *calls += 1;
                deadline
            })
        };
        assert_eq!(poll(&mut w, &mut links, 8191, deadline, &mut calls), None);
        assert_eq!(calls, 0);
        // 8192: level 2 slot due -> level 1 slot starting at 9984 (also <= now) -> level 0.
        assert_eq!(poll(&mut w, &mut links, 9999, deadline, &mut calls), None);
        assert_eq!(calls, 2);
        assert!(Wheel::is_linked(&links, 0));
        check_invariants(&w, &links, |_| Some(deadline));
        // The session was touched: its real deadline moved.
        deadline = 300_000;
        assert_eq!(poll(&mut w, &mut links, 10_000, deadline, &mut calls), None);
        assert_eq!(calls, 3);
        check_invariants(&w, &links, |_| Some(deadline));
        assert_eq!(
            poll(&mut w, &mut links, 299_999, deadline, &mut calls),
            None
        );
        assert!(calls <= 3 + LEVELS as u32);
        assert_eq!(
            poll(&mut w, &mut links, 300_000, deadline, &mut calls),
            Some(0)
        );
        assert!(w.is_empty());
    }

    /// A key that wrapped into the top level's current slot (next turn) must not hide a
    /// later slot of the current turn (tokio's next_occupied_slot would pick it first).
    #[test]
    fn top_level_wrap_does_not_hide_later_slots() {
        let e = 5 * span(5) + 100;
        let (mut w, mut links) = wheel(2, e);
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

    #[test]
    fn far_deadlines_are_clamped_and_reexamined() {
        let (mut w, mut links) = wheel(1, 0);
        let far = 10 * RANGE + 12345;
        w.insert(&mut links, 0, far).unwrap();
        check_invariants(&w, &links, |_| Some(far));
        let mut calls = 0;
        let mut now = 0;
        // Advance in steps just under a wheel turn: re-examined about once per turn.
        while now + (RANGE - 2) < far {
            now += RANGE - 2;
            assert_eq!(
                w.next_expired(&mut links, now, |_| {
                    calls += 1;
                    far
                }),
                None
            );
            check_invariants(&w, &links, |_| Some(far));
        }
        assert!(calls <= 2 * 11 + LEVELS, "{calls}");
        assert_eq!(w.next_expired(&mut links, far, |_| far), Some(0));
        // Deadline at the end of time, wheel near it.
        let (mut w, mut links) = wheel(1, u64::MAX - 5000);
        w.insert(&mut links, 0, u64::MAX).unwrap();
        assert_eq!(w.next_expired(&mut links, u64::MAX - 1, |_| u64::MAX), None);
        assert_eq!(w.next_expired(&mut links, u64::MAX, |_| u64::MAX), Some(0));
        assert_eq!(w.elapsed(), u64::MAX);
    }

    #[test]
    fn pending_survives_interleaved_changes() {
        let (mut w, mut links) = wheel(10, 0);
        let mut due = [Some(50u64); 10];
        for e in 0..10 {
            w.insert(&mut links, e, 50).unwrap();
        }
        let first = w
            .next_expired(&mut links, 60, |e| due[e as usize].unwrap())
            .unwrap();
        due[first as usize] = None;
        assert_eq!(w.len(), 9);
        check_invariants(&w, &links, |e| due[e as usize].map(|_| 0));
        // Free one that is pending, touch another lazily, move a third eagerly.
        let [a, b, c] = [0u32, 1, 2].map(|i| if i >= first { i + 1 } else { i });
        w.remove(&mut links, a);
        due[a as usize] = None;
        due[b as usize] = Some(70);
        w.insert(&mut links, c, 80).unwrap();
        due[c as usize] = Some(80);
        // The clock goes back: nothing happens.
        assert_eq!(w.next_expired(&mut links, 20, |_| unreachable!()), None);
        let mut out = vec![];
        while let Some(e) = w.next_expired(&mut links, 60, |e| due[e as usize].unwrap()) {
            assert!(due[e as usize].unwrap() <= 60);
            due[e as usize] = None;
            out.push(e);
        }
        assert_eq!(out.len(), 6);
        assert!(!out.contains(&a) && !out.contains(&b) && !out.contains(&c));
        assert_eq!(w.elapsed(), 60);
        assert_eq!(
            w.next_expired(&mut links, 70, |e| due[e as usize].unwrap()),
            Some(b)
        );
        assert_eq!(
            w.next_expired(&mut links, 79, |e| due[e as usize].unwrap()),
            None
        );
        assert_eq!(
            w.next_expired(&mut links, 85, |e| due[e as usize].unwrap()),
            Some(c)
        );
        assert!(w.is_empty());
    }

    /// Cost of a jump is bounded by the entries, not by the time span.
    #[test]
    fn huge_jumps_cost_proportional_to_entries() {
        const N: u32 = 2000;
        let mut rng = Rng::new(99);
        for (start, jump) in [
            (0u64, 90 * 24 * 3600 * 1000u64),     // three months
            (12345, 30 * 365 * 24 * 3600 * 1000), // thirty years, several wheel turns
            (1 << 40, u64::MAX - (1 << 40)),      // to the end of time
            (7, RANGE - 2),
            (7, RANGE - 1),
        ] {
            let (mut w, mut links) = wheel(N, start);
            let mut due: Vec<Option<u64>> = (0..N)
                .map(|_| {
                    let d = start + 1 + (rng.next() >> rng.below(64));
                    Some(d)
                })
                .collect();
            for e in 0..N {
                w.insert(&mut links, e, due[e as usize].unwrap()).unwrap();
            }
            let now = start + jump;
            let mut calls = 0u64;
            let mut out = 0;
            while let Some(e) = w.next_expired(&mut links, now, |e| {
                calls += 1;
                due[e as usize].unwrap()
            }) {
                assert!(due[e as usize].unwrap() <= now);
                due[e as usize] = None;
                out += 1;
            }
            let expected = (0..N as usize).filter(|&e| due[e].is_none()).count();
            assert_eq!(out, expected);
            assert!(due.iter().flatten().all(|&d| d > now));
            assert_eq!(w.elapsed(), now);
            assert_eq!(w.len(), N as usize - out);
            assert!(
                calls <= LEVELS as u64 * N as u64,
                "jump {jump}: {calls} calls"
            );
            if jump >= MAX_AHEAD {
                assert_eq!(calls, N as u64, "a full-turn jump looks at each entry once");
            }
            check_invariants(&w, &links, |e| due[e as usize]);
        }
    }

    /// Randomised comparison with a plain array of deadlines: nothing early, nothing missed.
    #[test]
    fn randomised_against_reference() {
        const CAP: u32 = 40;
        let mut total_out = 0u64;
        let mut already_due = 0u64;
        let mut total_calls = 0u64;
        for seed in 1..=120u64 {
            let mut rng = Rng::new(seed);
            let mut now = if rng.chance(4) {
                rng.below(1000)
            } else {
                rng.next() >> 14
            };
            let (mut w, mut links) = wheel(CAP, now);
            let mut due: Vec<Option<u64>> = vec![None; CAP as usize];
            let delta = |rng: &mut Rng| -> u64 {
                match rng.below(8) {
                    0 => rng.below(3),
                    1 => rng.below(100),
                    2 => rng.below(5000),
                    3 => rng.below(1 << 22),
                    4 => rng.below(1 << 30),
                    5 => rng.below(1 << 35),
                    6 => RANGE - 3 + rng.below(6),
                    _ => rng.below(1 << 40),
                }
            };
            for _ in 0..2000 {
                match rng.below(10) {
                    // New session (or re-insert of a live one).
                    0..=2 => {
                        let mut e = rng.below(CAP as u64) as u32;
                        if let Some(free) = due.iter().position(Option::is_none)
                            && rng.chance(2)
                        {
                            e = free as u32;
                        }
                        let d = now + delta(&mut rng);
                        match w.insert(&mut links, e, d) {
                            Ok(()) => {
                                assert!(d > w.elapsed());
                                due[e as usize] = Some(d);
                            }
                            Err(AlreadyDue) => {
                                already_due += 1;
                                assert!(d <= w.elapsed());
                                due[e as usize] = None;
                            }
                        }
                    }
                    // Touch lazily: only the real deadline moves.
                    3 | 4 => {
                        let e = rng.below(CAP as u64) as usize;
                        if let Some(d) = due[e].as_mut() {
                            *d += delta(&mut rng);
                        }
                    }
                    5 => {
                        let e = rng.below(CAP as u64) as u32;
                        w.remove(&mut links, e);
                        due[e as usize] = None;
                    }
                    // Clock moves, then poll (fully or partly).
                    _ => {
                        now = match rng.below(10) {
                            0 => now.saturating_sub(rng.below(1000)),
                            1 => now.saturating_sub(rng.below(1 << 30)),
                            2 => now + RANGE + rng.below(1 << 38),
                            _ => now + delta(&mut rng),
                        };
                        let before = w.elapsed();
                        let len = w.len() as u64;
                        let partial = rng.chance(3).then(|| rng.below(4));
                        let mut calls = 0u64;
                        let mut taken = 0;
                        loop {
                            if partial.is_some_and(|p| taken >= p) {
                                break;
                            }
                            let got = w.next_expired(&mut links, now, |e| {
                                calls += 1;
                                due[e as usize].expect("asked about an unlinked entry")
                            });
                            let Some(e) = got else { break };
                            let d = due[e as usize].expect("handed out an unlinked entry");
                            assert!(d <= now, "seed {seed}: {e} due {d} handed out at {now}");
                            assert!(!Wheel::is_linked(&links, e));
                            due[e as usize] = None;
                            taken += 1;
                            total_out += 1;
                        }
                        if now < before {
                            assert_eq!(w.elapsed(), before);
                            assert_eq!(taken, 0);
                        } else if partial.is_none() {
                            assert_eq!(w.elapsed(), now);
                            for (e, d) in due.iter().enumerate() {
                                if let Some(d) = d {
                                    assert!(*d > now, "seed {seed}: {e} due {d} missed at {now}");
                                }
                            }
                            assert!(
                                calls <= (LEVELS as u64 + 1) * len,
                                "{calls} calls for {len}"
                            );
                        }
                        total_calls += calls;
                    }
                }
                assert_eq!(w.len(), due.iter().flatten().count());
                check_invariants(&w, &links, |e| due[e as usize]);
            }
        }
        std::println!(
            "handed out {total_out}, already due {already_due}, deadline_of calls {total_calls}"
        );
        assert!(
            total_out > 10_000 && already_due > 100,
            "{total_out} {already_due}"
        );
    }

    /// Garbage written into the links by a buggy caller must not panic or hang.
    #[test]
    fn corrupted_links_do_not_panic() {
        let mut rng = Rng::new(5);
        for _ in 0..300 {
            let (mut w, mut links) = wheel(16, 1000);
            for e in 0..16 {
                let _ = w.insert(&mut links, e, 1001 + rng.below(1 << 20));
            }
            let n = links.len() as u64;
            for _ in 0..rng.below(20) {
                let i = rng.below(n) as usize;
                let v = if rng.chance(4) {
                    NIL
                } else {
                    rng.below(n + 3) as u32
                };
                if rng.chance(2) {
                    links[i].next = narrow(v);
                } else {
                    links[i].prev = narrow(v);
                }
            }
            let mut now = 1000;
            for _ in 0..50 {
                now += rng.below(1 << 16);
                let e = rng.below(20) as u32;
                match rng.below(3) {
                    0 => {
                        let _ = w.insert(&mut links, e, now + rng.below(1 << 20));
                    }
                    1 => w.remove(&mut links, e),
                    _ => {
                        let mut guard = 0;
                        while let Some(e) = w.next_expired(&mut links, now, |e| {
                            assert!(e < 16);
                            now - 1
                        }) {
                            assert!(e < 16);
                            guard += 1;
                            assert!(guard < 10_000);
                        }
                    }
                }
            }
        }
    }
}
