//! Room in the table: the free list of slots, and making room when the table is full
//! (reclaim expired sessions, then evict the least recently used anonymous one), with
//! its capacity-pressure events. Kept apart so the one place that may end a session to
//! admit another is easy to audit.

use super::State;
use crate::error::Error;
use crate::event::EventKind;
use crate::slot::{NIL, Slot};
use crate::storage::Parts;
use crate::tombstone::Death;

/// Every slot free and on the free list, in order (slot 0 first).
pub(super) fn all_free(slots: &mut [Slot]) {
    let n = slots.len();
    for (i, s) in slots.iter_mut().enumerate() {
        *s = Slot::EMPTY;
        s.next = if i + 1 < n { i as u32 + 1 } else { NIL };
    }
}

impl State {
    /// A free slot for a new session, off the free list. When the table is full, expired
    /// sessions are reclaimed first, then the least recently used anonymous session is
    /// evicted (never an authenticated one: [`crate::rules::evictable_for_new_session`]); with
    /// neither, `CapacityExhausted`.
    pub(super) fn take_free_slot(&mut self, p: &mut Parts<'_>, now: u64) -> Result<u32, Error> {
        if self.free_head == NIL {
            // Raised when the table first fills, and again each time a whole table's worth
            // of creates has met a full table, so a long flood keeps leaving fresh events.
            if self.pressure == 0 {
                self.emit_global(EventKind::CapacityPressure, now, p.events);
            }
            self.pressure = (self.pressure + 1) % self.config.capacity;
            self.sweep(p, now);
            if self.free_head == NIL && !self.evict_anonymous(p, now, NIL) {
                return Err(Error::CapacityExhausted);
            }
        } else {
            self.pressure = 0;
        }
        let i = self.free_head;
        self.free_head = p.slots[i as usize].next;
        Ok(i)
    }

    /// Wipe slot `i` (its session has ended) and put it on the free list. Its generation
    /// moves on, so a handle to the ended session never reaches the next one.
    pub(super) fn free_slot(&mut self, p: &mut Parts<'_>, i: u32) {
        let generation = p.slots[i as usize].generation.wrapping_add(1);
        p.slots[i as usize] = Slot {
            generation,
            next: self.free_head,
            ..Slot::EMPTY
        };
        self.free_head = i;
    }

    /// Evict the least recently used anonymous session other than `except` (the head of
    /// the LRU list, which `validate` keeps in order of use). False if none.
    pub(super) fn evict_anonymous(&mut self, p: &mut Parts<'_>, now: u64, except: u32) -> bool {
        let mut i = self.lru_head;
        if i == NIL {
            return false;
        }
        if i == except {
            i = p.slots[i as usize].next;
            if i == except {
                // `except` alone in the list.
                return false;
            }
        }
        self.destroy(p, i, Death::Evicted, now);
        true
    }
}
