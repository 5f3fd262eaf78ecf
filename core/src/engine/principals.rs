//! Principals: each user's list of sessions (in login order), found through the principal
//! index; counting and trimming them for the per-principal cap, attaching and detaching a
//! slot, and listing them ([`SessionsOf`]).

use super::payload::Chain;
use super::{Principal, Session, State};
use crate::config::MAX_PRINCIPAL;
use crate::error::Error;
use crate::index::{self, Key};
use crate::pool::Chunks;
use crate::rules::{self, LoginRoom};
use crate::slot::{self, NIL, STATE_ANON, STATE_AUTH, Slot};
use crate::storage::Parts;
#[cfg(doc)]
use crate::store::Store;
use crate::tombstone::Death;

/// Iterator over a principal's sessions, from [`Store::sessions_of`].
pub struct SessionsOf<'a> {
    now: u64,
    st: &'a State,
    slots: &'a [Slot],
    pool: &'a [u8],
    pool_next: &'a [u32],
    head: u32,
    cur: u32,
}

impl Iterator for SessionsOf<'_> {
    type Item = Session;
    fn next(&mut self) -> Option<Session> {
        loop {
            if self.cur == NIL {
                return None;
            }
            let i = self.cur;
            let n = self.slots[i as usize].next();
            self.cur = if n == self.head { NIL } else { n };
            if self.slots[i as usize].deadline(self.st.origin) > self.now {
                return Some(self.st.info_from(self.slots, self.pool, self.pool_next, i));
            }
        }
    }
}

/// The principal bound to an authenticated slot, copied out of the pool.
pub(super) fn read_principal(pool: &[u8], pool_next: &[u32], s: &Slot) -> Principal {
    let mut pr = Principal {
        bytes: [0; MAX_PRINCIPAL],
        len: s.principal_len,
    };
    Chunks {
        bytes: pool,
        next: pool_next,
        block: s.principal_head(),
        left: s.principal_len.into(),
    }
    .copy_into(&mut pr.bytes);
    pr
}

fn principal_matches(pool: &[u8], pool_next: &[u32], s: &Slot, principal: &[u8]) -> bool {
    usize::from(s.principal_len) == principal.len()
        && Chunks {
            bytes: pool,
            next: pool_next,
            block: s.principal_head(),
            left: principal.len(),
        }
        .eq_bytes(principal)
}

impl State {
    /// How the principal index packs its cells: slot numbers, tagged with their
    /// principal's key ([`index::Tagged`]), so the slot need not keep the key.
    fn principals(&self) -> index::Tagged {
        self.principals
    }

    /// The principal's index key and list head.
    pub(super) fn principal_cell(&self, p: &Parts<'_>, principal: &[u8]) -> Option<(Key, u32)> {
        let k = self.principal_key(principal);
        let head = self.principals().find(p.principals, k, |v| {
            principal_matches(p.pool, p.pool_next, &p.slots[v as usize], principal)
        })?;
        Some((k, head))
    }

    /// The principal index's hash of the principal bound to slot `v` (asked by a removal
    /// deep in a cluster only, see [`index::Tagged::remove`]).
    fn principal_hash_of(&self, slots: &[Slot], pool: &[u8], pool_next: &[u32], v: u32) -> u32 {
        let pr = read_principal(pool, pool_next, &slots[v as usize]);
        self.principal_key(pr.as_bytes()).hash
    }

    /// End every session of `principal`; how many were live (see
    /// [`crate::Store::revoke_principal`]).
    pub(super) fn revoke_principal(
        &mut self,
        p: &mut Parts<'_>,
        principal: &[u8],
        now: u64,
    ) -> usize {
        let now = self.tick(now);
        let mut n = 0;
        while let Some((_, head)) = self.principal_cell(p, principal) {
            n += usize::from(self.end_live(p, head, now));
        }
        n
    }

    /// The live sessions of `principal` at `now`, as an iterator over the table.
    pub(super) fn sessions_of<'a>(
        &'a mut self,
        p: Parts<'a>,
        principal: &[u8],
        now: u64,
    ) -> SessionsOf<'a> {
        let now = self.tick(now);
        let head = self.principal_cell(&p, principal).map_or(NIL, |(_, h)| h);
        SessionsOf {
            now,
            st: self,
            slots: p.slots,
            pool: p.pool,
            pool_next: p.pool_next,
            head,
            cur: head,
        }
    }

    /// Bind slot `i` (live, just resolved at login) to `principal`, within the
    /// per-principal cap ([`rules::login_room`]): leave its old list, write the principal,
    /// trim the principal's least recently used sessions, join the principal's list. A
    /// slot already bound to this principal stays as it is. On error the slot keeps its
    /// old principal and list.
    pub(super) fn bind_principal(
        &mut self,
        p: &mut Parts<'_>,
        i: u32,
        principal: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        let s = p.slots[i as usize];
        let same = s.state() == STATE_AUTH && principal_matches(p.pool, p.pool_next, &s, principal);
        if same {
            return Ok(());
        }
        // Without the `principal-cap` feature a config with a cap is refused (Config::validate).
        let capped = cfg!(feature = "principal-cap") && self.config.max_sessions_per_principal > 0;
        if capped {
            // Sessions past their deadline (not yet swept) are dead: they neither
            // count against the cap nor get evicted for it; they end as expired.
            self.end_lapsed_of(p, principal, now);
            let live = self.count_of(p, principal);
            if rules::login_room(&self.config, live) == LoginRoom::Refuse {
                return Err(Error::PrincipalLimit);
            }
        }
        // Leave the old list (anonymous LRU, or the previous principal's) while the
        // slot still holds the old principal, so the lookup finds the right list.
        let was_anon = s.state() == STATE_ANON;
        self.detach(p, i);
        if let Err(e) = self.write_chain(p, i, Chain::Principal, principal, now) {
            // A failed write keeps the old principal: put the slot back where it was.
            if was_anon {
                slot::push_back(p.slots, &mut self.lru_head, i);
            } else {
                self.attach_principal(p, i);
            }
            return Err(e);
        }
        if capped {
            while rules::login_room(&self.config, self.count_of(p, principal))
                == LoginRoom::EvictLeastRecentlyUsed
            {
                let Some(lru) = self.least_recently_used_of(p, principal) else {
                    break;
                };
                self.destroy(p, lru, Death::Evicted, now);
            }
        }
        let s = &mut p.slots[i as usize];
        s.set_state(STATE_AUTH);
        s.principal_len = principal.len() as u8;
        self.attach_principal(p, i);
        if was_anon {
            self.stats.anonymous -= 1;
            self.stats.authenticated += 1;
        }
        Ok(())
    }

    fn count_of(&self, p: &Parts<'_>, principal: &[u8]) -> usize {
        let Some((_, head)) = self.principal_cell(p, principal) else {
            return 0;
        };
        let mut n = 1;
        let mut i = p.slots[head as usize].next();
        while i != head {
            n += 1;
            i = p.slots[i as usize].next();
        }
        n
    }

    /// End every session of `principal` that is past its deadline but not yet swept.
    fn end_lapsed_of(&mut self, p: &mut Parts<'_>, principal: &[u8], now: u64) {
        while let Some((_, head)) = self.principal_cell(p, principal) {
            let mut i = head;
            let lapsed = loop {
                if p.slots[i as usize].deadline(self.origin) <= now {
                    break Some(i);
                }
                i = p.slots[i as usize].next();
                if i == head {
                    break None;
                }
            };
            let Some(i) = lapsed else { return };
            self.expire(p, i, now);
        }
    }

    /// The principal's least recently used session. A scan: the list is in login order
    /// (validation does not reorder it), and it is only asked for under the cap, which
    /// keeps the list short.
    fn least_recently_used_of(&self, p: &Parts<'_>, principal: &[u8]) -> Option<u32> {
        let (_, head) = self.principal_cell(p, principal)?;
        let mut best = head;
        let mut i = p.slots[head as usize].next();
        while i != head {
            let o = self.origin;
            if p.slots[i as usize].last_seen_ms(o) < p.slots[best as usize].last_seen_ms(o) {
                best = i;
            }
            i = p.slots[i as usize].next();
        }
        Some(best)
    }

    /// Put an authenticated slot (principal already written) into its principal's list.
    pub(super) fn attach_principal(&mut self, p: &mut Parts<'_>, i: u32) {
        let s = p.slots[i as usize];
        let principal = self.principal_bytes(p, &s);
        match self.principal_cell(p, principal.as_bytes()) {
            Some((_, head)) => {
                let mut h = head;
                slot::push_back(p.slots, &mut h, i);
            }
            None => {
                let mut h = NIL;
                slot::push_back(p.slots, &mut h, i);
                let k = self.principal_key(principal.as_bytes());
                self.principals().insert(p.principals, i, k);
            }
        }
    }

    fn principal_bytes(&self, p: &Parts<'_>, s: &Slot) -> Principal {
        read_principal(p.pool, p.pool_next, s)
    }

    /// Take a slot out of whichever list holds it (anonymous LRU or its principal's).
    pub(super) fn detach(&mut self, p: &mut Parts<'_>, i: u32) {
        let s = p.slots[i as usize];
        match s.state() {
            STATE_ANON => slot::unlink(p.slots, &mut self.lru_head, i),
            STATE_AUTH => {
                let principal = self.principal_bytes(p, &s);
                let Some((k, head)) = self.principal_cell(p, principal.as_bytes()) else {
                    return;
                };
                let mut new_head = head;
                slot::unlink(p.slots, &mut new_head, i);
                if new_head != head {
                    let (slots, pool, pool_next) = (&*p.slots, &*p.pool, &*p.pool_next);
                    self.principals().remove(p.principals, head, k, |v| {
                        self.principal_hash_of(slots, pool, pool_next, v)
                    });
                    if new_head != NIL {
                        self.principals().insert(p.principals, new_head, k);
                    }
                }
            }
            _ => {}
        }
    }
}
