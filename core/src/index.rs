//! Open-addressing hash index over a caller-sized `u32` slice.
//!
//! Values are slot numbers; the key lives in the slot, so the index asks the caller to
//! compare (`is`) and to rehash (`hash_of`). Linear probing with backward-shift deletion
//! keeps probe runs short without tombstones, so the table never needs rebuilding.
//! Each table's most entries per cell (its load) is chosen for how often it is probed
//! ([`TOKENS`], [`PRINCIPALS`], [`TOMBSTONES`]), and a table is a multiple of 64 cells
//! rather than a power of two: a hash picks its home cell by a multiply ([`home`]), so a
//! table costs what its load asks at any size (a power of two at load <= 1/2 costs 8 to
//! 16 bytes per entry).

use crate::slot::{Ix, NIL_IX};

/// An index cell as stored: [`Ix`], `u16` with the feature `narrow` (a cell then keeps 16
/// bits: the value's, then the home's and the tag's while they fit; at a capacity near
/// 65,536 a probe asks the record of every cell it passes, the answers are the same).
pub type Cell = Ix;

/// Bits in a [`Cell`].
const CELL_BITS: u32 = Cell::BITS;

/// A stored cell as the index computes with it.
#[inline]
#[allow(clippy::useless_conversion)]
pub(crate) fn load(c: Cell) -> u32 {
    u32::from(c)
}

/// A computed cell as stored: its low [`CELL_BITS`] bits (all it has, by [`Tagged::cell`]).
#[inline]
#[allow(clippy::unnecessary_cast)]
fn store(c: u32) -> Cell {
    c as Cell
}

/// What a [`Tagged`] index files a value under: `hash` picks the value's home cell, `tag`
/// is other bits of the same key, kept in the cell (a token digest's: [`Digest::key`];
/// a principal's: its keyed hash).
///
/// [`Digest::key`]: crate::token::Digest::key
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) hash: u32,
    pub(crate) tag: u32,
}

/// An empty index cell: it holds no slot.
pub(crate) const EMPTY: Cell = NIL_IX;

/// The token index's cells per entry, in eighths: 13 (load at most 8/13, about 0.62).
/// Every request probes it, every ended session removes from it.
pub(crate) const TOKENS: usize = 13;
/// The principal index's: 10 (load at most 0.8). It holds one entry per principal, so it
/// is that full only when every session is logged in as someone else; it is probed at
/// logins, logouts and listings only.
pub(crate) const PRINCIPALS: usize = 10;
/// The tombstone index's: 16 (load at most 1/2). Every ended session writes it twice
/// (the oldest entry out, its own in), so its probe runs count in a sweep; it is an eighth
/// of the sessions.
pub(crate) const TOMBSTONES: usize = 16;

/// Cells needed to index at most `entries` values with `eighths` / 8 cells per entry
/// (see [`TOKENS`]; eighths, so sizing needs no division, which a Cortex-M0 has not):
/// at least 8; up to 128 a multiple of 8, above a multiple of 64 (so a cell number's low
/// three bits, above six, mean the same wherever a probe wraps, see [`Tagged`]). Small
/// tables round to eighths, not powers of two, for a microcontroller's RAM (issue 17: the
/// indexes' bytes per session at most 8 with 16-bit cells at every capacity from 8 up;
/// powers of two up to 64 cells cost up to 9.85, at capacity 13); a server's tables, far
/// above 128 cells, are sized as before.
pub(crate) const fn cells_for(entries: u32, eighths: usize) -> usize {
    let want = (entries as usize * eighths).div_ceil(8);
    if want <= 8 {
        8
    } else if want <= 128 {
        want.next_multiple_of(8)
    } else {
        want.next_multiple_of(64)
    }
}

/// The home cell of `hash` in a table of `len` cells: `hash * len / 2^32` (Lemire's
/// multiply-shift), uniform for any `len`, with no division. On Arm cores with only the
/// Thumb-1 instructions (a Cortex-M0) it is [`mul_high_approx`]'s, at most 2 cells before.
#[inline]
pub(crate) fn home(hash: u32, len: usize) -> usize {
    if crate::THUMB1 {
        mul_high_approx(hash, len as u32) as usize
    } else {
        ((u64::from(hash) * len as u64) >> 32) as usize
    }
}

/// `a * b / 2^32` from three 16-bit partial products, leaving out the carry of the
/// low ones: at most 2 below the exact quotient, never above (so still below `b`), and
/// as evenly spread. A Cortex-M0 has no 32 x 32 -> 64 bit multiply: the exact product
/// links the software one (about 80 bytes, and a call at each home), and LLVM turns the
/// exact four-product spelling back into that call. (A Cortex-M4's `umull` is one
/// instruction: it keeps the product.)
#[cfg_attr(target_arch = "arm", inline(never))]
fn mul_high_approx(a: u32, b: u32) -> u32 {
    let (a1, a0) = (a >> 16, a & 0xffff);
    let (b1, b0) = (b >> 16, b & 0xffff);
    a1 * b1 + ((a1 * b0) >> 16) + ((a0 * b1) >> 16)
}

/// The cell after `i` in a table of `len` cells (wrapping).
#[inline]
fn next(i: usize, len: usize) -> usize {
    if i + 1 >= len { 0 } else { i + 1 }
}

/// Cell `j` less `d` (at most `len`) in a table of `len` cells (wrapping).
#[inline]
fn back(j: usize, d: usize, len: usize) -> usize {
    if d <= j { j - d } else { j + len - d }
}

/// The value whose key matches, probing from `hash`.
#[inline]
pub(crate) fn find(table: &[Cell], hash: u32, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
    let len = table.len();
    let mut i = home(hash, len);
    // Bounded by the table length so a (buggy) full table cannot loop forever.
    for _ in 0..table.len() {
        let v = table[i];
        if v == EMPTY {
            return None;
        }
        let v = load(v);
        if is(v) {
            return Some(v);
        }
        i = next(i, len);
    }
    None
}

/// Add `value` under `hash`. The caller guarantees room (load below 1 by construction).
pub(crate) fn insert(table: &mut [Cell], hash: u32, value: u32) -> bool {
    let len = table.len();
    let mut i = home(hash, len);
    for _ in 0..len {
        if table[i] == EMPTY {
            table[i] = store(value);
            return true;
        }
        i = next(i, len);
    }
    false
}

/// Remove `value` (stored under `hash`); `hash_of` gives the hash of any other stored value.
/// (The engine's indexes are all [`Tagged`]; this plain form is the model its tests check.)
#[cfg(test)]
pub(crate) fn remove(
    table: &mut [Cell],
    hash: u32,
    value: u32,
    hash_of: impl Fn(u32) -> u32,
) -> bool {
    let len = table.len();
    remove_with(table, hash, value, |v, _, _| home(hash_of(v), len))
}

/// [`remove`], where `home_of(v, j, d)` gives the home cell of the value `v` found at
/// cell `j`, `d` cells after the first cell of its cluster (the run of full cells it is
/// in): its home is one of the `d + 1` cells up to `j`. A caller that keeps the low bits of the home in each value can so tell homes
/// without looking up the values' keys while `d` is small.
///
/// Each caller's `home_of` is its own copy of this code on 64-bit targets (servers: the
/// call inlines); elsewhere (the firmware) one copy serves all three callers through a
/// `dyn Fn` (each copy is about 200 bytes of Cortex-M code).
pub(crate) fn remove_with(
    table: &mut [Cell],
    hash: u32,
    value: u32,
    home_of: impl Fn(u32, usize, usize) -> usize,
) -> bool {
    if cfg!(target_pointer_width = "64") {
        remove_in(table, hash, value, &home_of)
    } else {
        remove_in::<dyn Fn(u32, usize, usize) -> usize>(table, hash, value, &home_of)
    }
}

fn remove_in<F: Fn(u32, usize, usize) -> usize + ?Sized>(
    table: &mut [Cell],
    hash: u32,
    value: u32,
    home_of: &F,
) -> bool {
    let len = table.len();
    let mut i = home(hash, len);
    let mut found = false;
    let value = store(value);
    for _ in 0..len {
        match table[i] {
            EMPTY => return false,
            v if v == value => {
                found = true;
                break;
            }
            _ => i = next(i, len),
        }
    }
    if !found {
        return false;
    }
    // The cluster's first cell: entries only ever move back towards their homes, never
    // before them, so every home in the cluster stays at or after it.
    let mut start = i;
    for _ in 0..len {
        let before = back(start, 1, len);
        if table[before] == EMPTY {
            break;
        }
        start = before;
    }
    let mut j = i;
    loop {
        j = next(j, len);
        let v = table[j];
        if v == EMPTY {
            break;
        }
        // Cells from the cluster's first to j (wrapping).
        let into = if j >= start {
            j - start
        } else {
            j + len - start
        };
        let k = home_of(load(v), j, into);
        // The entry at j may stay if its home k lies cyclically in (i, j].
        let stays = if i <= j {
            i < k && k <= j
        } else {
            i < k || k <= j
        };
        if !stays {
            table[i] = v;
            i = j;
        }
    }
    table[i] = EMPTY;
    true
}

/// An index of values below a bound (slot numbers, ring positions) keyed by token
/// digests or principals ([`Key`]), whose cells carry more than the value. Each cell holds
/// the value in its low `bits` bits and, above them, the low `home_bits` bits of the key's
/// home cell, then bits of the key's tag. So:
///
/// - a probe passes the cell of another digest without reading the record the value
///   names (a cache miss in a big table) but about once in `2^(32 - bits)` (4,096 at a
///   million values);
/// - a removal's backward shift tells each following entry's home from its cell while
///   the entry is fewer than `2^home_bits` cells into its cluster (nearly always), instead
///   of reading its record for the hash.
///
/// `bits` is the width of the bound, so a value never fills it and no cell equals
/// [`EMPTY`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tagged {
    bits: u32,
    home_bits: u32,
}

impl Tagged {
    /// For values below `bound` (<= 2^26) in a table of `cells` cells (from
    /// [`cells_for`]). One copy on 32-bit targets: a Cortex-M0 counts bits in software,
    /// about 100 bytes at each call inlined.
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    pub(crate) fn of(bound: u32, cells: usize) -> Tagged {
        if crate::THUMB1 {
            return Tagged::of_by_shifts(bound, cells);
        }
        let bits = u32::BITS - bound.leading_zeros();
        Tagged {
            bits,
            // At most 6, at most what is left above the value (>= 5; with 16-bit cells
            // maybe none), and at most the table's own factor of two (at least 8 up to
            // 128 cells, 64 above), so a home's low bits mean the same wherever a probe
            // wraps.
            home_bits: 6
                .min(CELL_BITS.saturating_sub(bits))
                .min(cells.trailing_zeros()),
        }
    }

    /// [`Tagged::of`] for a Cortex-M0 (`crate::THUMB1`), which counts leading and
    /// trailing zeros in software (`__clzsi2`, 80 bytes): the widths counted by shifting.
    fn of_by_shifts(bound: u32, cells: usize) -> Tagged {
        let mut bits = 0;
        while bits < u32::BITS && bound >> bits != 0 {
            bits += 1;
        }
        let mut home_bits = 0;
        while home_bits < 6 && bits + home_bits < CELL_BITS && (cells >> home_bits) & 1 == 0 {
            home_bits += 1;
        }
        Tagged { bits, home_bits }
    }

    #[inline]
    fn home_mask(self) -> u32 {
        (1 << self.home_bits) - 1
    }

    /// The cell for `value` under `k` in a table of `len` cells (its low [`CELL_BITS`]
    /// bits: what a cell keeps).
    #[inline]
    fn cell(self, value: u32, k: Key, len: usize) -> u32 {
        // `bits + home_bits` <= 32: the first shift is in range, the second may be 32
        // (no tag bits then).
        load(store(
            value
                | (home(k.hash, len) as u32 & self.home_mask())
                    .checked_shl(self.bits)
                    .unwrap_or(0)
                | k.tag.checked_shl(self.bits + self.home_bits).unwrap_or(0),
        ))
    }

    #[inline]
    fn value(self, cell: u32) -> u32 {
        cell & ((1 << self.bits) - 1)
    }

    /// The value stored under key `k` for which `is` holds; `is` is asked only of
    /// values whose cells carry `k`'s bits.
    #[inline]
    pub(crate) fn find(
        self,
        table: &[Cell],
        k: Key,
        mut is: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        if cfg!(target_pointer_width = "64") {
            self.find_by(table, k, &mut is)
        } else {
            self.find_by::<dyn FnMut(u32) -> bool>(table, k, &mut is)
        }
    }

    /// [`Tagged::find`]: inlined into each caller on 64-bit targets (servers: every
    /// request probes the token index); elsewhere one copy behind a `dyn FnMut` for the
    /// three indexes.
    #[cfg_attr(target_pointer_width = "64", inline)]
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    fn find_by<F: FnMut(u32) -> bool + ?Sized>(
        self,
        table: &[Cell],
        k: Key,
        is: &mut F,
    ) -> Option<u32> {
        let want = self.cell(0, k, table.len());
        find(table, k.hash, |v| {
            (v ^ want) >> self.bits == 0 && is(self.value(v))
        })
        .map(|v| self.value(v))
    }

    /// Store `value` under key `k` (room guaranteed as for [`insert`]).
    pub(crate) fn insert(self, table: &mut [Cell], value: u32, k: Key) -> bool {
        insert(table, k.hash, self.cell(value, k, table.len()))
    }

    /// Remove `value`, stored under key `k`; `hash_of` gives the key hash of the record
    /// another value names, asked only 64 or more cells into a cluster.
    #[cfg_attr(target_pointer_width = "64", inline)]
    pub(crate) fn remove(
        self,
        table: &mut [Cell],
        value: u32,
        k: Key,
        hash_of: impl Fn(u32) -> u32,
    ) -> bool {
        if cfg!(target_pointer_width = "64") {
            self.remove_by(table, value, k, &hash_of)
        } else {
            self.remove_by::<dyn HashOf>(table, value, k, &hash_of)
        }
    }

    /// [`Tagged::remove`]: each caller's own copy on 64-bit targets (servers: `hash_of`
    /// inlines); elsewhere one copy behind a `dyn HashOf` for the three indexes (as
    /// [`remove_with`]).
    fn remove_by<F: HashOf + ?Sized>(
        self,
        table: &mut [Cell],
        value: u32,
        k: Key,
        hash_of: &F,
    ) -> bool {
        let len = table.len();
        let hm = self.home_mask() as usize;
        remove_with(table, k.hash, self.cell(value, k, len), |v, j, into| {
            if into <= hm {
                // The home is one of the `into + 1 <= 2^home_bits` cells up to `j`: the
                // one whose low bits the cell keeps (the table is a multiple of
                // 2^home_bits cells, so wrapping keeps them).
                let low = (v >> self.bits) as usize & hm;
                back(j, j.wrapping_sub(low) & hm, len)
            } else {
                home(hash_of.hash_of(self.value(v)), len)
            }
        })
    }
}

/// A stored value's hash, for [`Tagged::remove`]'s one copy on 32-bit targets: a trait of
/// one method, so each caller's `dyn HashOf` vtable holds only that method, where a
/// `dyn Fn`'s also holds `call_mut` and `call_once` (a `call_once` shim of about 24
/// bytes of Cortex-M code each that nothing calls).
pub(crate) trait HashOf {
    /// The hash of value `v`.
    fn hash_of(&self, v: u32) -> u32;
}

impl<F: Fn(u32) -> u32> HashOf for F {
    #[inline]
    fn hash_of(&self, v: u32) -> u32 {
        self(v)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::HashMap;
    use std::vec;

    #[test]
    fn sizes() {
        let third = 12;
        assert_eq!(cells_for(0, third), 8);
        assert_eq!(cells_for(5, third), 8);
        assert_eq!(cells_for(6, third), 16);
        assert_eq!(cells_for(8, third), 16);
        assert_eq!(cells_for(13, TOKENS), 24);
        assert_eq!(cells_for(13, PRINCIPALS), 24);
        assert_eq!(cells_for(42, third), 64);
        assert_eq!(cells_for(43, third), 72);
        assert_eq!(cells_for(85, third), 128);
        assert_eq!(cells_for(86, third), 192);
        assert_eq!(cells_for(1000, third), 1536);
        assert_eq!(cells_for(1_001_000, TOKENS), 1_626_688);
        assert_eq!(cells_for(1_001_000, PRINCIPALS), 1_251_264);
        assert_eq!(cells_for(8, TOKENS), 16);
        assert_eq!(cells_for(8, PRINCIPALS), 16);
        assert_eq!(cells_for(16, TOMBSTONES), 32);
        // At least `eighths` / 8 cells per entry, fewer than 8 more than that up to 128
        // cells, fewer than 64 more above (a multiple of 64).
        for eighths in [TOKENS, PRINCIPALS, TOMBSTONES, third] {
            for n in (0u32..2_000).chain([65_535, 65_149, 1 << 20, 1 << 26]) {
                let c = cells_for(n, eighths);
                let want = (n as usize * eighths).div_ceil(8);
                assert!(want <= c, "{n}");
                if c <= 128 {
                    assert!(c.is_multiple_of(8) && (c == 8 || c - want < 8), "{n}");
                } else {
                    assert!(c.is_multiple_of(64) && c - want < 64, "{n}");
                }
            }
        }
    }

    /// The Cortex-M0's spellings of the index sizes and cell layouts are the others'.
    #[test]
    fn counting_by_shifts_is_counting_zeros() {
        let mut bounds = vec![0u32, 1, 2, 3, 8, 9, 65_535, 65_536, 1 << 26, u32::MAX];
        bounds.extend((0..32).map(|b| 1u32 << b));
        bounds.extend((1..32).map(|b| (1u32 << b) - 1));
        for bound in bounds {
            for eighths in [TOKENS, PRINCIPALS, TOMBSTONES] {
                for cells in [
                    cells_for(bound.min(1 << 26), eighths),
                    8,
                    16,
                    24,
                    40,
                    64,
                    192,
                    1 << 20,
                ] {
                    let (a, b) = (Tagged::of(bound, cells), Tagged::of_by_shifts(bound, cells));
                    assert_eq!(
                        (a.bits, a.home_bits),
                        (b.bits, b.home_bits),
                        "{bound} {cells}"
                    );
                }
            }
        }
    }

    #[test]
    fn matches_a_hashmap_under_churn_with_colliding_hashes() {
        // A multiple of 16, of only 8, and of 64 that is no power of two.
        for cells in [cells_for(32, 12), 40, 192] {
            churn(cells);
        }
    }

    fn churn(cells: usize) {
        // Hashes deliberately crowd eight homes, one near the end of the table, to
        // exercise wrap-around and shifting (the top three bits pick the home).
        let hash_of = |v: u32| ((v.wrapping_mul(2_654_435_761) >> 29) ^ (v % 3)) << 29;
        let mut table = vec![EMPTY; cells];
        let mut model: HashMap<u32, ()> = HashMap::new();
        let mut x = 0x1234_5678u32;
        // Fewer rounds under miri (interpreted), enough to wrap and shift many times.
        let rounds = if cfg!(miri) { 60 } else { 20_000 };
        for _ in 0..rounds {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let v = x % 48;
            if model.contains_key(&v) {
                assert!(remove(&mut table, hash_of(v), v, hash_of));
                model.remove(&v);
            } else if model.len() < 32 {
                assert!(insert(&mut table, hash_of(v), v));
                model.insert(v, ());
            }
            for probe in 0..48 {
                let got = find(&table, hash_of(probe), |s| s == probe);
                assert_eq!(got.is_some(), model.contains_key(&probe), "value {probe}");
            }
        }
    }

    #[test]
    fn the_cortex_m0_home_is_at_most_two_cells_before_the_exact_one() {
        let mut values = vec![
            0u32,
            1,
            2,
            0xffff,
            0x1_0000,
            0x1_0001,
            u32::MAX,
            u32::MAX - 1,
        ];
        let mut x = 0x9e37_79b9u32;
        // Arithmetic only, nothing for miri to find: test-core runs the full set, miri a
        // few (the full set took about two minutes of make test under miri).
        let draws = if cfg!(miri) { 56 } else { 2_000 };
        for _ in 0..draws {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values.push(x);
        }
        for &a in &values {
            for &b in &values[..64] {
                let exact = ((u64::from(a) * u64::from(b)) >> 32) as u32;
                for got in [mul_high_approx(a, b), mul_high_approx(b, a)] {
                    assert!(
                        got <= exact && exact - got <= 2,
                        "{a} * {b}: {got}, {exact}"
                    );
                    assert!(b == 0 || got < b);
                }
            }
        }
    }

    #[test]
    fn remove_missing_is_false() {
        let mut table = vec![EMPTY; 8];
        assert!(!remove(&mut table, 3, 9, |v| v));
        insert(&mut table, 3, 4);
        assert!(!remove(&mut table, 3, 9, |v| v));
        assert_eq!(find(&table, 3, |v| v == 4), Some(4));
    }
}
