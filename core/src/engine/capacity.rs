//! Room in the table: eviction of the least recently used anonymous session when the
//! table is full. Kept apart so the one place that may end a session to admit another is
//! easy to audit.

use super::State;
use crate::slot::NIL;
use crate::storage::Parts;
use crate::tombstone::Death;

impl State {
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
