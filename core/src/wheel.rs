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
//!
//! Two spellings of the same wheel, the same public methods (times are `u64` ms in and
//! out): on 64-bit targets (servers) `wide`'s, `u64` times and 64 slots a level in six
//! levels; on 32-bit targets `small`'s, which works out a slot's place and when it comes
//! due in `u32`s, with 16 slots a level in eight levels (129 list heads instead of 385).
//! Both are compiled on every target; the tests below run against both and check that
//! they hand out the same entries.

#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
mod small;
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
mod wide;

#[cfg(not(target_pointer_width = "64"))]
pub use small::{LEVELS, SENTINELS, SLOTS, Wheel};
#[cfg(target_pointer_width = "64")]
pub use wide::{LEVELS, SENTINELS, SLOTS, Wheel};

/// The servers' [`SENTINELS`] (385), the most either spelling has: `config::MAX_CAPACITY`
/// is counted from it, so every target refuses the same capacities.
pub(crate) const MOST_SENTINELS: usize = wide::SENTINELS;
const _: () = assert!(small::SENTINELS <= MOST_SENTINELS);

// "No node": an unlinked entry's links are NIL, so membership is a single comparison.
pub use crate::slot::NIL;
use crate::slot::{Ix, NIL_IX, narrow, wide};

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
pub(crate) mod tests {
    extern crate std;

    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// xorshift64*: small, deterministic, good enough to drive the tests.
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn new(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub(crate) fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// Uniform-ish in `0..n` (`n > 0`).
        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        pub(crate) fn chance(&mut self, one_in: u64) -> bool {
            self.below(one_in) == 0
        }
    }

    /// Either spelling of the wheel, for the tests that run against both.
    pub(crate) trait Spelling: Sized {
        const SENTINELS: usize;
        const PENDING: usize;
        const SLOTS: usize;
        const LEVELS: usize;
        const RANGE: u64;
        const MAX_AHEAD: u64;
        fn links_len(capacity: usize) -> usize;
        fn new(links: &mut [Link], capacity: u32, now: u64) -> Option<Self>;
        fn insert(&mut self, links: &mut [Link], e: u32, d: u64) -> Result<(), AlreadyDue>;
        fn remove(&mut self, links: &mut [Link], e: u32);
        fn is_linked(links: &[Link], e: u32) -> bool;
        fn elapsed(&self) -> u64;
        fn next_expired(
            &mut self,
            links: &mut [Link],
            now: u64,
            deadline_of: impl FnMut(u32) -> u64,
        ) -> Option<u32>;
        fn len(&self) -> usize;
        fn is_empty(&self) -> bool;
        fn capacity(&self) -> u32;
        fn slot_due(&self, list: usize) -> u64;
        fn marked(&self, list: usize) -> bool;
    }

    macro_rules! spelling {
        ($m:ident) => {
            impl Spelling for $m::Wheel {
                const SENTINELS: usize = $m::SENTINELS;
                const PENDING: usize = $m::PENDING;
                const SLOTS: usize = $m::SLOTS;
                const LEVELS: usize = $m::LEVELS;
                const RANGE: u64 = $m::RANGE;
                const MAX_AHEAD: u64 = $m::MAX_AHEAD;
                fn links_len(capacity: usize) -> usize {
                    $m::Wheel::links_len(capacity)
                }
                fn new(links: &mut [Link], capacity: u32, now: u64) -> Option<Self> {
                    $m::Wheel::new(links, capacity, now)
                }
                fn insert(&mut self, links: &mut [Link], e: u32, d: u64) -> Result<(), AlreadyDue> {
                    $m::Wheel::insert(self, links, e, d)
                }
                fn remove(&mut self, links: &mut [Link], e: u32) {
                    $m::Wheel::remove(self, links, e)
                }
                fn is_linked(links: &[Link], e: u32) -> bool {
                    $m::Wheel::is_linked(links, e)
                }
                fn elapsed(&self) -> u64 {
                    $m::Wheel::elapsed(self)
                }
                fn next_expired(
                    &mut self,
                    links: &mut [Link],
                    now: u64,
                    deadline_of: impl FnMut(u32) -> u64,
                ) -> Option<u32> {
                    $m::Wheel::next_expired(self, links, now, deadline_of)
                }
                fn len(&self) -> usize {
                    $m::Wheel::len(self)
                }
                fn is_empty(&self) -> bool {
                    $m::Wheel::is_empty(self)
                }
                fn capacity(&self) -> u32 {
                    $m::Wheel::capacity(self)
                }
                fn slot_due(&self, list: usize) -> u64 {
                    $m::Wheel::slot_due(self, list)
                }
                fn marked(&self, list: usize) -> bool {
                    $m::Wheel::marked(self, list)
                }
            }
        };
    }
    spelling!(wide);
    spelling!(small);

    /// A behaviour test run against both spellings.
    macro_rules! both {
        ($name:ident) => {
            mod $name {
                #[test]
                fn wide() {
                    super::$name::<super::wide::Wheel>();
                }
                #[test]
                fn small() {
                    super::$name::<super::small::Wheel>();
                }
            }
        };
    }
    both!(new_checks_length_and_initialises);
    both!(insert_remove_move);
    both!(out_of_range_entries_and_wrong_slices_are_ignored);
    both!(already_due);
    both!(clock_going_back_moves_nothing);
    both!(cascade_reexamines_and_follows_moved_deadlines);
    both!(far_deadlines_are_clamped_and_reexamined);
    both!(pending_survives_interleaved_changes);
    both!(huge_jumps_cost_proportional_to_entries);
    both!(randomised_against_reference);
    both!(corrupted_links_do_not_panic);

    // ---- wheel ----

    pub(crate) fn wheel<W: Spelling>(capacity: u32, now: u64) -> (W, Vec<Link>) {
        let mut links = vec![Link::of(7, 9); W::links_len(capacity as usize)];
        let w = W::new(&mut links, capacity, now).unwrap();
        (w, links)
    }

    /// Checks list structure, occupancy bitmaps, len, and that every scheduled entry's slot
    /// comes due no later than `deadline(e)`.
    pub(crate) fn check_invariants<W: Spelling>(
        w: &W,
        links: &[Link],
        deadline: impl Fn(u32) -> Option<u64>,
    ) {
        let cap = w.capacity();
        let mut count = 0;
        let mut seen = vec![false; cap as usize];
        for list in 0..W::SENTINELS {
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
                if list < W::PENDING {
                    let (level, slot) = (list / W::SLOTS, list % W::SLOTS);
                    let at = w.slot_due(list);
                    assert!(at > w.elapsed(), "slot ({level},{slot}) due at {at}");
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
            if list < W::PENDING {
                let bit = w.marked(list);
                assert_eq!(bit, n > 0, "occupancy of list {list}");
            }
            count += n;
        }
        assert_eq!(count, w.len());
        // Every occupied slot of a lower level comes due before any of a higher level.
        let mut lower_due: Option<u64> = None;
        for level in 0..W::LEVELS {
            let due: Vec<u64> = (level * W::SLOTS..(level + 1) * W::SLOTS)
                .filter(|&l| w.marked(l))
                .map(|l| w.slot_due(l))
                .collect();
            if let (Some(lower), Some(&first)) = (lower_due, due.iter().min()) {
                assert!(
                    lower < first,
                    "level {level} comes due at {first}, lower at {lower}"
                );
            }
            lower_due = lower_due.max(due.iter().copied().max());
        }
        for e in 0..cap {
            assert_eq!(W::is_linked(links, e), seen[e as usize]);
            if !seen[e as usize] {
                assert_eq!(links[e as usize], Link::UNLINKED);
            }
        }
    }

    fn new_checks_length_and_initialises<W: Spelling>() {
        assert_eq!(W::links_len(10), 10 + W::SENTINELS);
        assert_eq!(W::links_len(usize::MAX), usize::MAX);
        for (cap, len) in [
            (10u32, 10 + W::SENTINELS - 1),
            (10, 10 + W::SENTINELS + 1),
            (10, 0),
            (0, W::SENTINELS - 1),
        ] {
            let mut links = vec![Link::UNLINKED; len];
            assert!(W::new(&mut links, cap, 0).is_none(), "{cap} {len}");
        }
        assert!(W::new(&mut [], u32::MAX, 0).is_none());
        let mut links = vec![Link::UNLINKED; W::SENTINELS];
        let w = W::new(&mut links, 0, 5).unwrap();
        assert!(w.is_empty());
        let (w, links) = wheel::<W>(10, 1234);
        assert_eq!(w.elapsed(), 1234);
        assert_eq!(w.len(), 0);
        assert!(links[..10].iter().all(|l| *l == Link::UNLINKED));
        for (i, l) in links[10..].iter().enumerate() {
            let me = 10 + i as u32;
            assert_eq!(*l, Link::of(me, me));
        }
        check_invariants(&w, &links, |_| None);
    }

    fn insert_remove_move<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(8, 1000);
        let mut due = [None::<u64>; 8];
        assert_eq!(w.insert(&mut links, 3, 1100), Ok(()));
        due[3] = Some(1100);
        assert!(W::is_linked(&links, 3));
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
        assert!(!W::is_linked(&links, 3));
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
        assert!(!W::is_linked(&links, 5));
        assert!(w.is_empty());
        assert_eq!(w.next_expired(&mut links, 2000, |_| unreachable!()), None);
        check_invariants(&w, &links, |_| None);
    }

    fn out_of_range_entries_and_wrong_slices_are_ignored<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(4, 0);
        assert_eq!(w.insert(&mut links, 4, 10), Ok(()));
        assert_eq!(w.insert(&mut links, NIL, 10), Ok(()));
        w.remove(&mut links, 4);
        w.remove(&mut links, NIL);
        assert!(!W::is_linked(&links, 4)); // a sentinel
        assert!(!W::is_linked(&links, NIL));
        assert!(!W::is_linked(&[], 0));
        assert!(w.is_empty());
        check_invariants(&w, &links, |_| None);
        let mut short = vec![Link::UNLINKED; 3];
        assert_eq!(w.insert(&mut short, 1, 10), Ok(()));
        w.remove(&mut short, 1);
        assert_eq!(w.next_expired(&mut short, 100, |_| 0), None);
        assert_eq!(w.elapsed(), 0);
        assert!(w.is_empty());
    }

    fn already_due<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(4, 500);
        assert_eq!(w.insert(&mut links, 0, 500), Err(AlreadyDue));
        assert_eq!(w.insert(&mut links, 0, 0), Err(AlreadyDue));
        assert!(!W::is_linked(&links, 0));
        assert_eq!(w.insert(&mut links, 0, 501), Ok(()));
        // Moving a linked entry into the past unlinks it.
        assert_eq!(w.insert(&mut links, 0, 499), Err(AlreadyDue));
        assert!(!W::is_linked(&links, 0));
        assert!(w.is_empty());
        check_invariants(&w, &links, |_| None);
        // The end of time.
        let (mut w, mut links) = wheel::<W>(4, u64::MAX);
        assert_eq!(w.insert(&mut links, 1, u64::MAX), Err(AlreadyDue));
        assert!(w.is_empty());
    }

    fn clock_going_back_moves_nothing<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(4, 1000);
        w.insert(&mut links, 1, 1010).unwrap();
        assert_eq!(w.next_expired(&mut links, 10, |_| unreachable!()), None);
        assert_eq!(w.elapsed(), 1000);
        assert_eq!(w.next_expired(&mut links, 1005, |_| unreachable!()), None);
        assert_eq!(w.elapsed(), 1005);
        assert_eq!(w.next_expired(&mut links, 1004, |_| unreachable!()), None);
        assert_eq!(w.elapsed(), 1005);
        assert_eq!(w.next_expired(&mut links, 1010, |_| 1010), Some(1));
    }

    fn cascade_reexamines_and_follows_moved_deadlines<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(2, 0);
        w.insert(&mut links, 0, 10_000).unwrap(); // level 2, slot 2 (starts at 8192)
        let mut calls = 0;
        let mut deadline = 10_000;
        let poll = |w: &mut W, links: &mut [Link], now, deadline: u64, calls: &mut u32| {
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
        assert!(W::is_linked(&links, 0));
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
        assert!(calls <= 3 + W::LEVELS as u32);
        assert_eq!(
            poll(&mut w, &mut links, 300_000, deadline, &mut calls),
            Some(0)
        );
        assert!(w.is_empty());
    }

    fn far_deadlines_are_clamped_and_reexamined<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(1, 0);
        let far = 10 * W::RANGE + 12345;
        w.insert(&mut links, 0, far).unwrap();
        check_invariants(&w, &links, |_| Some(far));
        let mut calls = 0;
        let mut now = 0;
        // Advance in steps just under a wheel turn: re-examined about once per turn.
        while now + (W::RANGE - 2) < far {
            now += W::RANGE - 2;
            assert_eq!(
                w.next_expired(&mut links, now, |_| {
                    calls += 1;
                    far
                }),
                None
            );
            check_invariants(&w, &links, |_| Some(far));
        }
        assert!(calls <= 2 * 11 + W::LEVELS, "{calls}");
        assert_eq!(w.next_expired(&mut links, far, |_| far), Some(0));
        // Deadline at the end of time, wheel near it.
        let (mut w, mut links) = wheel::<W>(1, u64::MAX - 5000);
        w.insert(&mut links, 0, u64::MAX).unwrap();
        assert_eq!(w.next_expired(&mut links, u64::MAX - 1, |_| u64::MAX), None);
        assert_eq!(w.next_expired(&mut links, u64::MAX, |_| u64::MAX), Some(0));
        assert_eq!(w.elapsed(), u64::MAX);
    }

    fn pending_survives_interleaved_changes<W: Spelling>() {
        let (mut w, mut links) = wheel::<W>(10, 0);
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
    fn huge_jumps_cost_proportional_to_entries<W: Spelling>() {
        const N: u32 = 2000;
        let mut rng = Rng::new(99);
        for (start, jump) in [
            (0u64, 90 * 24 * 3600 * 1000u64),     // three months
            (12345, 30 * 365 * 24 * 3600 * 1000), // thirty years, several wheel turns
            (1 << 40, u64::MAX - (1 << 40)),      // to the end of time
            (7, W::RANGE - 2),
            (7, W::RANGE - 1),
        ] {
            let (mut w, mut links) = wheel::<W>(N, start);
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
                calls <= W::LEVELS as u64 * N as u64,
                "jump {jump}: {calls} calls"
            );
            if jump >= W::MAX_AHEAD {
                assert_eq!(calls, N as u64, "a full-turn jump looks at each entry once");
            }
            check_invariants(&w, &links, |e| due[e as usize]);
        }
    }

    /// Randomised comparison with a plain array of deadlines: nothing early, nothing missed.
    fn randomised_against_reference<W: Spelling>() {
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
            let (mut w, mut links) = wheel::<W>(CAP, now);
            let mut due: Vec<Option<u64>> = vec![None; CAP as usize];
            let delta = |rng: &mut Rng| -> u64 {
                match rng.below(8) {
                    0 => rng.below(3),
                    1 => rng.below(100),
                    2 => rng.below(5000),
                    3 => rng.below(1 << 22),
                    4 => rng.below(1 << 30),
                    5 => rng.below(1 << 35),
                    6 => W::RANGE - 3 + rng.below(6),
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
                            2 => now + W::RANGE + rng.below(1 << 38),
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
                            assert!(!W::is_linked(&links, e));
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
                                calls <= (W::LEVELS as u64 + 1) * len,
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
    fn corrupted_links_do_not_panic<W: Spelling>() {
        let mut rng = Rng::new(5);
        for _ in 0..300 {
            let (mut w, mut links) = wheel::<W>(16, 1000);
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

    /// The two spellings driven with the same inserts, moves, removals and polls (each
    /// poll taken to the end) hand out the same entries at every poll: exactly those due
    /// by then. Times start near multiples of `2^32` (where the small wheel's `u32`s
    /// wrap) and near the end of time; deadlines are up to a session's longest life
    /// (`u32::MAX` ms, beyond the small wheel's clamp) ahead, and some land exactly on
    /// the boundaries of both wheels' levels.
    #[test]
    fn small_and_wide_hand_out_the_same() {
        const CAP: u32 = 24;
        let mut polls = 0u64;
        let mut handed = 0u64;
        for seed in 1..=150u64 {
            let mut rng = Rng::new(seed);
            let mut now = match rng.below(4) {
                0 => rng.below(1000),
                1 => (rng.below(8) << 32).wrapping_sub(rng.below(5000)),
                2 => u64::MAX - (1 << 34) + rng.below(1 << 34),
                _ => rng.next() >> 8,
            };
            let (mut a, mut links_a) = wheel::<wide::Wheel>(CAP, now);
            let (mut b, mut links_b) = wheel::<small::Wheel>(CAP, now);
            let mut due: Vec<Option<u64>> = vec![None; CAP as usize];
            let ahead = |rng: &mut Rng| -> u64 {
                match rng.below(7) {
                    0 => rng.below(40),
                    1 => rng.below(1 << 20),
                    2 => rng.below(1 << 31),
                    3 => u64::from(u32::MAX) - rng.below(3),
                    4 => small::MAX_AHEAD - 2 + rng.below(4),
                    5 => (1 << (4 * rng.below(9))) * (1 + rng.below(3)) - 1 + rng.below(3),
                    _ => (1 << (6 * rng.below(6))) * (1 + rng.below(3)) - 1 + rng.below(3),
                }
            };
            for _ in 0..400 {
                match rng.below(8) {
                    0..=2 => {
                        let e = rng.below(u64::from(CAP)) as u32;
                        let d = now.saturating_add(ahead(&mut rng));
                        let (ra, rb) = (a.insert(&mut links_a, e, d), b.insert(&mut links_b, e, d));
                        assert_eq!(ra, rb, "seed {seed}: insert {e} at {d}");
                        due[e as usize] = ra.is_ok().then_some(d);
                    }
                    3 => {
                        // A session used: only its real deadline moves.
                        let e = rng.below(u64::from(CAP)) as usize;
                        if let Some(d) = due[e].as_mut() {
                            *d = d.saturating_add(ahead(&mut rng) / 2);
                        }
                    }
                    4 => {
                        let e = rng.below(u64::from(CAP)) as u32;
                        a.remove(&mut links_a, e);
                        b.remove(&mut links_b, e);
                        due[e as usize] = None;
                    }
                    _ => {
                        now = now.saturating_add(match rng.below(4) {
                            0 => rng.below(100),
                            1 => ahead(&mut rng),
                            2 => u64::from(u32::MAX) + rng.below(1 << 33),
                            _ => rng.below(1 << 28),
                        });
                        let mut out_a = vec![];
                        while let Some(e) =
                            a.next_expired(&mut links_a, now, |e| due[e as usize].unwrap())
                        {
                            out_a.push(e);
                        }
                        let mut out_b = vec![];
                        while let Some(e) =
                            b.next_expired(&mut links_b, now, |e| due[e as usize].unwrap())
                        {
                            out_b.push(e);
                        }
                        out_a.sort_unstable();
                        out_b.sort_unstable();
                        assert_eq!(out_a, out_b, "seed {seed}: poll at {now}");
                        let want: Vec<u32> = (0..CAP)
                            .filter(|&e| due[e as usize].is_some_and(|d| d <= now))
                            .collect();
                        assert_eq!(out_a, want, "seed {seed}: poll at {now}");
                        for &e in &out_a {
                            due[e as usize] = None;
                        }
                        assert_eq!(a.elapsed(), b.elapsed());
                        polls += 1;
                        handed += out_a.len() as u64;
                    }
                }
                assert_eq!(a.len(), b.len());
                check_invariants(&b, &links_b, |e| due[e as usize]);
            }
        }
        assert!(polls > 10_000 && handed > 5_000, "{polls} {handed}");
    }
}
