//! Room in the table: the free list of slots, and making room when the table is full
//! (reclaim expired sessions, then evict an anonymous session not used lately), with its
//! capacity-pressure events. Kept apart so the one place that may end a session to admit
//! another is easy to audit.
//!
//! Which anonymous session goes is decided by CLOCK (second chance, the approximate LRU
//! of Redis and of most page caches): the anonymous sessions form a circular list in
//! order of creation whose head is the hand; a validation only sets the session's
//! [`REFERENCED`] bit. To evict, the hand passes referenced sessions (clearing the bit,
//! which moves them to the tail) and takes the first one not used since it last passed.
//! A validation therefore writes one bit in the slot it already holds instead of
//! relinking the list (which touched up to four other slots, each a cache miss in a big
//! table). One eviction passes at most [`rules::CLOCK_MAX_PASS`] referenced sessions and then
//! takes the next one even if referenced, so no create waits for a walk of the whole
//! list (a million cache misses at a million sessions all used since the hand's last
//! turn). Only this list is ever searched, so a logged-in session is never evicted to
//! admit an anonymous one.

use super::State;
use crate::error::Error;
use crate::event::EventKind;
use crate::rules;
use crate::slot::{NIL, REFERENCED, Slot, narrow};
use crate::storage::Parts;
use crate::tombstone::Death;

/// Every slot free and on the free list, in order (slot 0 first).
pub(super) fn all_free(slots: &mut [Slot]) {
    let n = slots.len();
    for (i, s) in slots.iter_mut().enumerate() {
        *s = Slot::EMPTY;
        s.next = narrow(if i + 1 < n { i as u32 + 1 } else { NIL });
    }
}

impl State {
    /// A free slot for a new session, off the free list. When the table is full, expired
    /// sessions are reclaimed first, then an anonymous session not used lately is evicted
    /// (see the module docs; never an authenticated one:
    /// [`crate::rules::evictable_for_new_session`]); with neither, `CapacityExhausted`.
    pub(super) fn take_free_slot(&mut self, p: &mut Parts<'_>, now: u64) -> Result<u32, Error> {
        if self.free_head == NIL {
            // Raised when the table first fills, and again each time a whole table's worth
            // of creates has met a full table, so a long flood keeps leaving fresh events.
            if self.pressure == 0 {
                self.emit_global(EventKind::CapacityPressure, now, p.events);
            }
            // (pressure + 1) % capacity, with no division (pressure < capacity).
            self.pressure += 1;
            if self.pressure >= self.config.capacity {
                self.pressure = 0;
            }
            self.sweep(p, now);
            if self.free_head == NIL && !self.evict_anonymous(p, now, NIL) {
                return Err(Error::CapacityExhausted);
            }
        } else {
            self.pressure = 0;
        }
        let i = self.free_head;
        self.free_head = p.slots[i as usize].next();
        Ok(i)
    }

    /// Wipe slot `i` (its session has ended) and put it on the free list. Its generation
    /// moves on, so a handle to the ended session never reaches the next one.
    pub(super) fn free_slot(&mut self, p: &mut Parts<'_>, i: u32) {
        let generation = p.slots[i as usize].generation.wrapping_add(1);
        p.slots[i as usize] = Slot {
            generation,
            next: narrow(self.free_head),
            ..Slot::EMPTY
        };
        self.free_head = i;
    }

    /// Evict an anonymous session other than `except`: the first the CLOCK hand (the
    /// head of the anonymous list) finds not referenced since it last passed; referenced
    /// ones it passes lose the bit and go to the tail; after [`rules::CLOCK_MAX_PASS`] of them
    /// the next one goes whatever its bit. False if there is none but `except`.
    pub(super) fn evict_anonymous(&mut self, p: &mut Parts<'_>, now: u64, except: u32) -> bool {
        let mut passed = 0;
        loop {
            let i = self.lru_head;
            if i == NIL {
                return false;
            }
            let s = &mut p.slots[i as usize];
            if i == except {
                if s.next() == i {
                    // `except` alone in the list.
                    return false;
                }
            } else if rules::clock_takes(s.flags() & REFERENCED != 0, passed) {
                self.destroy(p, i, Death::Evicted, now);
                return true;
            } else {
                s.set_flags(s.flags() & !REFERENCED);
                passed += 1;
            }
            self.lru_head = s.next();
        }
    }
}
