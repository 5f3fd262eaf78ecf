//! The session lifecycle over the table: create, find a token (live, expired or a
//! tombstone), validate, rotate, log in, end, sweep and override timeouts. The decisions
//! are [`crate::rules`]'s; here they are applied to slots.

use zeroize::Zeroize;

use super::principals::read_principal;
use super::{Client, Session, SessionRef, State};
use crate::config::MAX_PRINCIPAL;
use crate::error::{Error, Expiry, Invalid};
use crate::event::EventKind;
use crate::index::{self, Cell};
use crate::rules;
use crate::slot::{self, REFERENCED, STATE_ANON, STATE_AUTH, STATE_FREE, Slot};
use crate::storage::Parts;
use crate::token::{self, Digest, Token};
use crate::tombstone::{Death, Keep, Tombstones};

/// Expired sessions a sweep takes out of the wheel and reads ahead for at a time: on
/// 64-bit targets (servers, big tables); one at a time elsewhere (a microcontroller's
/// table fits its memory, which has no cache to miss, and its stack is small).
const SWEEP_BATCH: usize = if cfg!(target_pointer_width = "64") {
    64
} else {
    1
};

/// Bytes in a cache line, for [`State::warm_ends`]: 64 on the targets that sweep in
/// batches (x86-64 and most 64-bit Arm cores; where a line is longer, a few of the reads
/// ahead only read a line twice).
const LINE: usize = 64;

/// How near the end of its cache line (in cells) an index operation may start for a sweep
/// to read the neighbouring line ahead as well ([`ahead_cells`]). A removal from the token
/// index (load up to 0.62) or the tombstone index runs over every full cell of its cluster,
/// so a run from near a line's end often goes on into the next line: measured at 1,000,000
/// live, about 0.7 such crossings per expired session, two thirds of them from the last
/// three cells of a line. Reading the next line for those costs fewer loads than the
/// misses it saves; for cells further in it would cost more.
const NEAR_END: usize = 3;

/// Write to `out[n..]` the cells of `table` an index operation that starts at `at` reads
/// first, and return the new `n`: `at` itself; and when `at` is among the last
/// [`NEAR_END`] cells of its cache line the next line's first cell, or, for a removal
/// (`both_ways`: it also walks back to its cluster's first cell), when `at` is among the
/// first [`NEAR_END`] the line before's last cell. Worked out from the address alone, so a
/// sweep can read them all in one loop of loads that do not wait on one another.
fn ahead_cells<T>(table: &[T], at: usize, both_ways: bool, out: &mut [u32], mut n: usize) -> usize {
    let per_line = LINE / size_of::<T>();
    let place = (table.as_ptr().addr() / size_of::<T>()).wrapping_add(at) % per_line;
    // Cell numbers are below `u32::MAX`: the indexes hold `u32` slot numbers.
    out[n] = at as u32;
    n += 1;
    if place + NEAR_END >= per_line {
        out[n] = (at + (per_line - place)) as u32;
        n += 1;
    } else if both_ways && place < NEAR_END && place < at {
        out[n] = (at - place - 1) as u32;
        n += 1;
    }
    n
}

/// Which deadline ended a session whose deadline has passed.
pub(super) fn expiry_of(s: &Slot, origin: u64) -> Death {
    match s.times(origin).expiry() {
        Expiry::Absolute => Death::ExpiredAbsolute,
        Expiry::Idle => Death::ExpiredIdle,
    }
}

/// What [`State::lookup`] found for a token.
enum Lookup {
    /// The slot of the live session it names.
    Live(u32),
    /// The slot of the session it names, past its deadline but not yet swept.
    Lapsed(u32),
    /// No session has it (its digest, for the tombstones).
    Dead(Digest),
    /// Not a token's text.
    Malformed,
}

/// The token index ([`index::Tagged`] over `Parts::index`): slot numbers keyed by
/// their sessions' token digests.
#[derive(Clone, Copy)]
pub(super) struct Tokens(index::Tagged);

impl Tokens {
    pub(super) fn of(capacity: u32) -> Tokens {
        Tokens(index::Tagged::of(
            capacity,
            index::cells_for(capacity, index::TOKENS),
        ))
    }

    /// The slot whose token digest is `d`.
    #[inline]
    pub(super) fn find(self, index: &[Cell], slots: &[Slot], d: &Digest) -> Option<u32> {
        self.0
            .find(index, d.key(), |v| slots[v as usize].digest.ct_eq(d))
    }

    /// Index slot `i` under its digest `d`.
    pub(super) fn insert(self, index: &mut [Cell], i: u32, d: &Digest) {
        self.0.insert(index, i, d.key());
    }

    /// Take slot `i`, whose digest is `d`, out of the index.
    pub(super) fn remove(self, index: &mut [Cell], slots: &[Slot], i: u32, d: &Digest) {
        self.0
            .remove(index, i, d.key(), |v| slots[v as usize].digest.hash());
    }
}

impl State {
    fn live(p: &Parts<'_>, h: SessionRef) -> Result<u32, Error> {
        match p.slots.get(h.slot as usize) {
            Some(s) if s.is_live() && s.generation == h.generation => Ok(h.slot),
            _ => Err(Error::StaleHandle),
        }
    }

    /// End slot `i`, past its deadline, as expired of whichever deadline ended it, and
    /// say which. One copy on 32-bit targets, where its eight callers each spelled out
    /// both calls; inlined on 64-bit targets (servers) as before.
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    #[cfg_attr(target_pointer_width = "64", inline)]
    pub(super) fn expire(&mut self, p: &mut Parts<'_>, i: u32, now: u64) -> Death {
        let death = expiry_of(&p.slots[i as usize], self.origin);
        self.destroy(p, i, death, now);
        death
    }

    /// End slot `i` as revoked, or as expired when it is past its deadline but not yet
    /// swept (it was not live any more); true when it was revoked.
    pub(super) fn end_live(&mut self, p: &mut Parts<'_>, i: u32, now: u64) -> bool {
        if p.slots[i as usize].deadline(self.origin) <= now {
            self.expire(p, i, now);
            false
        } else {
            self.destroy(p, i, Death::Revoked, now);
            true
        }
    }

    /// The slot behind `h` if its session is live at `now`. One past its deadline but not
    /// yet swept is ended here as expired (as a validation would find it), with that error.
    pub(super) fn live_at(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        now: u64,
    ) -> Result<u32, Error> {
        let i = State::live(p, h)?;
        if p.slots[i as usize].deadline(self.origin) <= now {
            let death = self.expire(p, i, now);
            return Err(Error::Session(death.invalid()));
        }
        Ok(i)
    }

    fn info(&self, p: &Parts<'_>, i: u32) -> Session {
        self.info_from(p.slots, p.pool, p.pool_next, i)
    }

    pub(super) fn info_from(
        &self,
        slots: &[Slot],
        pool: &[u8],
        pool_next: &[u32],
        i: u32,
    ) -> Session {
        let s = &slots[i as usize];
        // On 32-bit targets one `origin + offset - base` function for the four times
        // (rules::Offsets::caller_times); 64-bit targets keep their spelling (below),
        // in the same order as before (the first spelling of this, an array of the
        // four, cost each validation 7 instructions there: callgrind).
        let times = if cfg!(target_pointer_width = "64") {
            None
        } else {
            Some(s.times(self.origin).caller_times(self.base))
        };
        let mut out = Session {
            handle: SessionRef {
                slot: i,
                generation: s.generation,
            },
            tag: self.tag(i, s.generation),
            created_ms: match times {
                Some(t) => t[0],
                None => self.out(s.created_ms(self.origin)),
            },
            last_seen_ms: match times {
                Some(t) => t[1],
                None => self.out(s.last_seen_ms(self.origin)),
            },
            idle_deadline_ms: match times {
                Some(t) => t[2],
                None => self.out(s.times(self.origin).idle_deadline()),
            },
            absolute_deadline_ms: match times {
                Some(t) => t[3],
                None => self.out(s.times(self.origin).absolute_deadline()),
            },
            idle_timeout_ms: s.idle_ms,
            absolute_timeout_ms: s.absolute_ms,
            principal: None,
            payload_len: s.payload_len(),
            epoch: s.epoch,
        };
        // Filled in place, for a logged-in session only: built beside the snapshot and
        // moved in (`then`), the principal's 129 bytes were copied on every call, an
        // anonymous session's too (36 instructions of each validation, callgrind).
        if s.state() == STATE_AUTH {
            out.principal = Some(read_principal(pool, pool_next, s));
        }
        out
    }

    /// A fresh token whose digest no live session and no tombstone has.
    fn new_token(&mut self, p: &Parts<'_>) -> (Token, Digest) {
        let n = usize::from(self.config.token_bytes);
        let mut raw = [0u8; 32];
        loop {
            self.rng.fill(&mut raw[..n]);
            // raw[n..] is never written: still zero, as `of_padded` wants.
            let d = Digest::of_padded(&raw, n);
            let taken = self.tokens.find(p.index, p.slots, &d).is_some()
                || Tombstones::find(p.tombstones, p.tombstone_index, &d).is_some();
            if !taken {
                let t = Token::encode(&raw[..n]);
                raw.zeroize();
                return (t, d);
            }
        }
    }

    pub(super) fn create(
        &mut self,
        p: &mut Parts<'_>,
        now: u64,
        client: &Client<'_>,
    ) -> Result<(Token, Session), Error> {
        let now = self.tick(now);
        let created = self.offset_of(p, now, now);
        let i = self.take_free_slot(p, now)?;
        let (token, digest) = self.new_token(p);
        let (ip, ua) = self.client_digests(client);
        let (ip, ua) = (ip.unwrap_or(0), ua.unwrap_or(0));
        let s = &mut p.slots[i as usize];
        *s = Slot {
            digest,
            created,
            idle_ms: self.config.idle_timeout_ms,
            absolute_ms: self.config.absolute_timeout_ms,
            generation: s.generation,
            #[cfg(not(feature = "narrow"))]
            client: [ip, ua],
            ..Slot::EMPTY
        };
        s.set_state(STATE_ANON);
        #[cfg(feature = "narrow")]
        if let Some(c) = p.clients.get_mut(i as usize) {
            // Only a config that watches a client fact has the region.
            *c = [ip, ua];
        }
        if let Some(seen) = p.addresses.get_mut(i as usize) {
            // Only a config that counts addresses has the region.
            *seen = [ip as u16, 0, 0, 0];
            s.set_addr_count(u8::from(ip != 0));
        }
        let deadline = s.deadline(self.origin);
        self.tokens.insert(p.index, i, &digest);
        slot::push_back(p.slots, &mut self.lru_head, i);
        // deadline > now >= wheel time, so this cannot be AlreadyDue.
        let _ = self.wheel.insert(p.links, i, deadline);
        self.stats.live += 1;
        self.stats.anonymous += 1;
        self.stats.created += 1;
        self.emit(
            i,
            p.slots[i as usize].generation,
            EventKind::Created,
            now,
            p.events,
        );
        Ok((token, self.info(p, i)))
    }

    /// What the token index says of `token` at `now` (reads only), for `peek` and
    /// `end_duplicate`: one copy (it was two, and a second digest of the text for a dead
    /// token). [`State::resolve`], on every request's path, does the same written out:
    /// through this enum it took 2 more instructions per validate (callgrind).
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    fn lookup(&self, p: &Parts<'_>, token: &[u8], now: u64) -> Lookup {
        let n = usize::from(self.config.token_bytes);
        let Some(digest) = token::digest_of_text(token, n) else {
            return Lookup::Malformed;
        };
        let Some(i) = self.tokens.find(p.index, p.slots, &digest) else {
            return Lookup::Dead(digest);
        };
        if now < p.slots[i as usize].deadline(self.origin) {
            Lookup::Live(i)
        } else {
            Lookup::Lapsed(i)
        }
    }

    /// Find the live session a token names. Expired sessions found here die now; dead
    /// tokens are answered from the tombstones, raising reuse events.
    pub(super) fn resolve(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        now: u64,
    ) -> Result<u32, Invalid> {
        if !cfg!(target_pointer_width = "64") {
            return self.resolve_by_lookup(p, token, now);
        }
        let n = usize::from(self.config.token_bytes);
        let digest = token::digest_of_text(token, n).ok_or(Invalid::Malformed)?;
        if let Some(i) = self.tokens.find(p.index, p.slots, &digest) {
            if now >= p.slots[i as usize].deadline(self.origin) {
                let death = self.expire(p, i, now);
                return Err(death.invalid());
            }
            return Ok(i);
        }
        Err(self.dead(p, &digest, now))
    }

    /// [`State::resolve`] through [`State::lookup`] (one digest and index probe for both
    /// `peek` and `resolve`), on 32-bit targets: about 90 bytes less Cortex-M code. 64-bit
    /// targets (servers) keep `resolve`'s own spelling, where going through the lookup's
    /// enum costs each validation 2 instructions. A test checks both give the same answers
    /// and leave the same table and events.
    #[cfg_attr(target_pointer_width = "64", allow(dead_code))]
    pub(super) fn resolve_by_lookup(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        now: u64,
    ) -> Result<u32, Invalid> {
        let digest = match self.lookup(p, token, now) {
            Lookup::Live(i) => return Ok(i),
            Lookup::Lapsed(i) => {
                let death = self.expire(p, i, now);
                return Err(death.invalid());
            }
            Lookup::Malformed => return Err(Invalid::Malformed),
            Lookup::Dead(digest) => digest,
        };
        Err(self.dead(p, &digest, now))
    }

    /// Why a token whose `digest` names no session is refused: its tombstone's death (a
    /// reuse event and, by the policy, the successor revoked) or unknown.
    fn dead(&mut self, p: &mut Parts<'_>, digest: &Digest, now: u64) -> Invalid {
        let Some(found) = Tombstones::find(p.tombstones, p.tombstone_index, digest) else {
            return Invalid::Unknown;
        };
        let reuse = rules::reuse(found.death.invalid(), self.config.rotated_reuse);
        if let Some(kind) = reuse.event {
            let (slot, generation) = (found.target_slot, found.target_generation);
            self.emit(slot, generation, kind, now, p.events);
        }
        if reuse.revoke_successor {
            let h = SessionRef {
                slot: found.target_slot,
                generation: found.target_generation,
            };
            if let Ok(i) = State::live(p, h) {
                self.destroy(p, i, Death::Revoked, now);
            }
        }
        found.death.invalid()
    }

    pub(super) fn validate(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Session, Invalid> {
        let now = self.tick(now);
        let i = self.resolve(p, token, now)?;
        self.check_client(p, i, client, now)?;
        let s = &mut p.slots[i as usize];
        // now < deadline <= created + absolute_ms, so the offset fits in u32.
        s.seen_offset = (now - s.created_ms(self.origin)) as u32;
        // CLOCK: a used anonymous session gets its second chance (`capacity.rs`); the
        // eviction list is not touched.
        if s.state() == STATE_ANON {
            s.set_flags(s.flags() | REFERENCED);
        }
        Ok(self.info(p, i))
    }

    /// The live session `token` names at `now`, without touching it (see
    /// [`crate::Store::peek`]): reads only, so not even the clock moves.
    pub(super) fn peek(&self, p: &Parts<'_>, token: &[u8], now: u64) -> Result<Session, Invalid> {
        let now = now.max(self.clock);
        match self.lookup(p, token, now) {
            Lookup::Live(i) => Ok(self.info(p, i)),
            Lookup::Lapsed(i) => Err(expiry_of(&p.slots[i as usize], self.origin).invalid()),
            Lookup::Malformed => Err(Invalid::Malformed),
            Lookup::Dead(digest) => Err(Tombstones::find(p.tombstones, p.tombstone_index, &digest)
                .map_or(Invalid::Unknown, |f| f.death.invalid())),
        }
    }

    /// Whether `token` names a session live at `now` ([`crate::Store::is_live`]): what
    /// `peek` would find, without building the session (reads only).
    pub(super) fn is_live(&self, p: &Parts<'_>, token: &[u8], now: u64) -> bool {
        matches!(self.lookup(p, token, now.max(self.clock)), Lookup::Live(_))
    }

    /// Swap the session's token for a fresh one; the old digest becomes a tombstone.
    fn rekey(&mut self, p: &mut Parts<'_>, i: u32) -> Token {
        let (token, digest) = self.new_token(p);
        let old = p.slots[i as usize].digest;
        self.tokens.remove(p.index, p.slots, i, &old);
        let s = &p.slots[i as usize];
        // At login the slot is already authenticated: the pre-login token is kept.
        let keep = Keep::of(Death::RotatedOut, s.state() == STATE_AUTH);
        let generation = s.generation;
        self.tombs.insert(
            p.tombstones,
            p.tombstone_index,
            old,
            Death::RotatedOut,
            (i, generation),
            keep,
        );
        let s = &mut p.slots[i as usize];
        s.digest = digest;
        s.epoch = rules::next_epoch(s.epoch);
        self.tokens.insert(p.index, i, &digest);
        token
    }

    pub(super) fn rotate(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        let now = self.tick(now);
        let i = self.resolve(p, token, now)?;
        let t = self.rekey(p, i);
        self.emit(
            i,
            p.slots[i as usize].generation,
            EventKind::Rotated,
            now,
            p.events,
        );
        Ok((t, self.info(p, i)))
    }

    pub(super) fn login(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error> {
        let now = self.tick(now);
        if principal.is_empty() || principal.len() > MAX_PRINCIPAL {
            return Err(Error::InvalidPrincipal);
        }
        let i = self.resolve(p, token, now)?;
        self.bind_principal(p, i, principal, now)?;
        // Slot `i` is live at `now`, so a sweep here (`offset_of`) leaves it.
        let created = self.offset_of(p, now, now);
        let s = &mut p.slots[i as usize];
        s.created = created;
        s.seen_offset = 0;
        let deadline = s.deadline(self.origin);
        let _ = self.wheel.insert(p.links, i, deadline);
        let t = self.rekey(p, i);
        self.emit(
            i,
            p.slots[i as usize].generation,
            EventKind::LoggedIn,
            now,
            p.events,
        );
        Ok((t, self.info(p, i)))
    }

    pub(super) fn logout(
        &mut self,
        p: &mut Parts<'_>,
        token: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        let now = self.tick(now);
        let i = self.resolve(p, token, now)?;
        self.destroy(p, i, Death::LoggedOut, now);
        Ok(())
    }

    /// End the live session `token` names, found beside another live one in a request
    /// (see [`crate::Store::end_duplicate`]).
    pub(super) fn end_duplicate(&mut self, p: &mut Parts<'_>, token: &[u8], now: u64) {
        let now = self.tick(now);
        if let Lookup::Live(i) = self.lookup(p, token, now) {
            let s = p.slots[i as usize];
            self.emit(i, s.generation, EventKind::DuplicateCookie, now, p.events);
            self.destroy(p, i, Death::Revoked, now);
        }
    }

    /// End a session: every structure forgets it, its memory is wiped, its token becomes a
    /// tombstone, and the matching event is raised.
    pub(super) fn destroy(&mut self, p: &mut Parts<'_>, i: u32, death: Death, now: u64) {
        let s = p.slots[i as usize];
        if !s.is_live() {
            return;
        }
        self.detach(p, i);
        self.tokens.remove(p.index, p.slots, i, &s.digest);
        self.wheel.remove(p.links, i);
        self.pool.release(p.pool, p.pool_next, s.payload_head());
        self.pool.release(p.pool, p.pool_next, s.principal_head());
        let keep = Keep::of(death, s.state() == STATE_AUTH);
        self.tombs.insert(
            p.tombstones,
            p.tombstone_index,
            s.digest,
            death,
            (i, s.generation),
            keep,
        );
        if let Some(kind) = rules::end_event(death.invalid()) {
            self.emit(i, s.generation, kind, now, p.events);
        }
        match death {
            Death::ExpiredIdle | Death::ExpiredAbsolute => self.stats.expirations += 1,
            Death::Evicted => self.stats.evictions += 1,
            Death::Revoked => self.stats.revocations += 1,
            _ => {}
        }
        self.stats.live -= 1;
        if s.state() == STATE_AUTH {
            self.stats.authenticated -= 1;
        } else {
            self.stats.anonymous -= 1;
        }
        self.free_slot(p, i);
    }

    pub(super) fn revoke(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        now: u64,
    ) -> Result<(), Error> {
        let now = self.tick(now);
        let i = self.live_at(p, h, now)?;
        self.destroy(p, i, Death::Revoked, now);
        Ok(())
    }

    pub(super) fn revoke_all(&mut self, p: &mut Parts<'_>, now: u64) -> usize {
        let now = self.tick(now);
        let mut n = 0;
        for i in 0..p.slots.len() as u32 {
            if p.slots[i as usize].is_live() {
                n += usize::from(self.end_live(p, i, now));
            }
        }
        n
    }

    /// Engine time `t` as an offset from the slots' time origin ([`Slot::created`]), for a
    /// session that begins at `t` (live at `now`). When `t` is before the origin or more
    /// than `u32::MAX` ms after it, the origin moves first ([`State::rebase`]).
    pub(super) fn offset_of(&mut self, p: &mut Parts<'_>, t: u64, now: u64) -> u32 {
        if let Some(d) = t
            .checked_sub(self.origin)
            .and_then(|d| u32::try_from(d).ok())
        {
            return d;
        }
        self.rebase(p, t, now);
        // The rebase left `origin <= t < origin + 2^32` (see there); were it ever not
        // to, the clamp makes the session older, never younger.
        t.saturating_sub(self.origin).min(u64::from(u32::MAX)) as u32
    }

    /// Move the slots' time origin to the earliest start among the sessions and `t`:
    /// about once in 2^32 ms (49.7 days) of engine time (at most once per 2^32 ms less
    /// the longest absolute timeout), one pass over the slots.
    ///
    /// The sessions past their deadline are swept first: they may have begun any time
    /// before. Every session left is live at `now`, so it began less than its absolute
    /// timeout (a `u32` of ms) before `now`; `t` is `now` or the start of a session live
    /// at `now` (a restore); so from the new origin every start, `t`'s too, is less than
    /// 2^32 ms away, and every record still says exactly when it began.
    #[cold]
    #[inline(never)]
    fn rebase(&mut self, p: &mut Parts<'_>, t: u64, now: u64) {
        self.sweep(p, now);
        let old = self.origin;
        let origin = p
            .slots
            .iter()
            .filter(|s| s.is_live())
            .map(|s| s.created_ms(old))
            .fold(t, u64::min);
        for s in p.slots.iter_mut().filter(|s| s.is_live()) {
            // Fits (above); were it ever not to, the clamp makes the session older, never
            // younger: it would end early, not live on.
            s.created = u32::try_from(s.created_ms(old) - origin).unwrap_or(u32::MAX);
        }
        self.origin = origin;
    }

    /// End every session past its deadline, in batches: the wheel hands out up to
    /// [`SWEEP_BATCH`] of them, the memory their ends will touch is read for all of them
    /// first ([`State::warm_ends`]), then each is ended. In a big table each end misses
    /// the cache a few times (its index cells, its tombstone's); read one batch ahead,
    /// those misses overlap instead of queueing.
    pub(super) fn sweep(&mut self, p: &mut Parts<'_>, now: u64) -> usize {
        if SWEEP_BATCH == 1 {
            return self.sweep_each(p, now);
        }
        let mut n = 0;
        loop {
            let mut batch = [0u32; SWEEP_BATCH];
            let mut k = 0;
            while k < SWEEP_BATCH {
                let (slots, origin) = (&*p.slots, self.origin);
                let Some(i) = self
                    .wheel
                    .next_expired(p.links, now, |e| slots[e as usize].deadline(origin))
                else {
                    break;
                };
                // Handed out of the wheel (unlinked), so no later call hands it out again.
                if p.slots[i as usize].state() != STATE_FREE {
                    batch[k] = i;
                    k += 1;
                }
            }
            if SWEEP_BATCH > 1 {
                self.warm_ends(p, &batch[..k]);
            }
            for &i in &batch[..k] {
                self.expire(p, i, now);
            }
            n += k;
            if k < SWEEP_BATCH {
                return n;
            }
        }
    }

    /// [`State::sweep`] one session at a time, where its batch is one (32-bit targets):
    /// the same ends in the same order, without a batch to fill (about 110 bytes less
    /// Cortex-M code). A test checks it against the batched sweep.
    pub(super) fn sweep_each(&mut self, p: &mut Parts<'_>, now: u64) -> usize {
        let mut n = 0;
        loop {
            let (slots, origin) = (&*p.slots, self.origin);
            let Some(i) = self
                .wheel
                .next_expired(p.links, now, |e| slots[e as usize].deadline(origin))
            else {
                return n;
            };
            // Handed out of the wheel (unlinked), so no later call hands it out again.
            if p.slots[i as usize].state() != STATE_FREE {
                self.expire(p, i, now);
                n += 1;
            }
        }
    }

    /// Read what ending the sessions in `batch` (in order) will read in the token index,
    /// the tombstone index and their neighbours' slots, without changing anything. At a
    /// million sessions each end misses the cache about three times at random in tables of
    /// megabytes (its token index cell, its tombstone's, and that of the oldest tombstone,
    /// which it forgets); read for a whole batch at once, those misses overlap instead of
    /// queueing. The cells are all worked out first ([`ahead_cells`]) and then read in a
    /// loop that does nothing else: the more work between two such loads, the fewer of
    /// them the processor keeps in flight (a loop that followed each run of cells as it
    /// read them took twice as long at a million live).
    fn warm_ends(&self, p: &Parts<'_>, batch: &[u32]) {
        let (tokens, tombs) = (&*p.index, &*p.tombstone_index);
        let mut token_cells = [0u32; 2 * SWEEP_BATCH];
        let mut tomb_cells = [0u32; 4 * SWEEP_BATCH];
        let (mut nt, mut nb) = (0, 0);
        for (k, &i) in batch.iter().enumerate() {
            let s = &p.slots[i as usize];
            let hash = s.digest.hash();
            // Its removal from the token index, its insert into the tombstone index and,
            // once the ring is full, the removal of the ring's oldest entry from it.
            let home = index::home(hash, tokens.len());
            nt = ahead_cells(tokens, home, true, &mut token_cells, nt);
            let home = index::home(hash, tombs.len());
            nb = ahead_cells(tombs, home, false, &mut tomb_cells, nb);
            let keep = Keep::of(expiry_of(s, self.origin), s.state() == STATE_AUTH);
            if let Some(old) = self.tombs.oldest_hash(p.tombstones, keep, k as u32) {
                let home = index::home(old, tombs.len());
                nb = ahead_cells(tombs, home, true, &mut tomb_cells, nb);
            }
        }
        let mut empty = 0usize;
        for &j in &token_cells[..nt] {
            empty += usize::from(tokens.get(j as usize) == Some(&index::EMPTY));
        }
        for &j in &tomb_cells[..nb] {
            empty += usize::from(tombs.get(j as usize) == Some(&index::EMPTY));
        }
        let mut acc = 0u32;
        for &i in batch {
            let s = &p.slots[i as usize];
            for n in [s.prev(), s.next()] {
                acc ^= p.slots.get(n as usize).map_or(0, |s| s.next());
            }
        }
        core::hint::black_box((empty, acc));
    }

    pub(super) fn session(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        now: u64,
    ) -> Result<Session, Error> {
        let now = self.tick(now);
        let i = self.live_at(p, h, now)?;
        Ok(self.info(p, i))
    }

    pub(super) fn set_timeouts(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        let now = self.tick(now);
        // A session already past its deadline (not yet swept) is dead: never extend it.
        let i = self.live_at(p, h, now)?;
        let ok = |v: Option<u32>, max: u32| v.is_none_or(|v| rules::timeout_allowed(v, max));
        if !ok(idle_ms, self.config.max_idle_timeout_ms)
            || !ok(absolute_ms, self.config.max_absolute_timeout_ms)
        {
            return Err(Error::InvalidTimeout);
        }
        let s = &mut p.slots[i as usize];
        if let Some(v) = idle_ms {
            s.idle_ms = v;
        }
        if let Some(v) = absolute_ms {
            s.absolute_ms = v;
        }
        let deadline = s.deadline(self.origin);
        if deadline <= now || self.wheel.insert(p.links, i, deadline).is_err() {
            let death = self.expire(p, i, now);
            return Err(Error::Session(death.invalid()));
        }
        Ok(self.info(p, i))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::{LINE, NEAR_END, Tokens, ahead_cells};
    use crate::index;
    use crate::slot::Slot;
    use crate::token::Digest;
    use std::vec;

    /// A sweep reads ahead the cell an index operation starts at and, from the last
    /// `NEAR_END` cells of a cache line, the next line's first cell, or, for a removal,
    /// from the first `NEAR_END`, the line before's last cell (when the table has one):
    /// for a table starting at every place in a line.
    #[test]
    fn reading_ahead_takes_the_neighbouring_line_only_near_a_line_end() {
        let cells = vec![0u32; 100];
        let per_line = LINE / 4;
        for offset in 0..per_line {
            let table = &cells[offset..offset + 70];
            let line = |j: usize| (table.as_ptr().addr() + 4 * j) / LINE;
            for at in 0..table.len() {
                let place = (table.as_ptr().addr() + 4 * at) % LINE / 4;
                for both_ways in [false, true] {
                    let mut out = [u32::MAX; 3];
                    let n = ahead_cells(table, at, both_ways, &mut out, 1);
                    assert_eq!(out[1], at as u32);
                    let next = place >= per_line - NEAR_END;
                    let before = both_ways && place < NEAR_END && line(0) < line(at);
                    assert_eq!(n, 2 + usize::from(next || before), "{offset} {at}");
                    let j = out[2] as usize;
                    if next {
                        assert_eq!((line(j - 1), line(j)), (line(at), line(at) + 1));
                    } else if before {
                        assert_eq!((line(j), line(j + 1)), (line(at) - 1, line(at)));
                    } else {
                        assert_eq!(out[2], u32::MAX);
                    }
                }
            }
        }
    }

    /// Removals keep every other digest findable, through clusters longer than the home
    /// bits a cell keeps (where the shift reads slots instead) and across the table's
    /// end: 90 digests crowd five homes, two of them next to the end of the table.
    #[test]
    fn token_removals_keep_the_rest_findable_in_long_clusters() {
        let capacity = 100u32;
        let tokens = Tokens::of(capacity);
        assert_eq!(
            std::format!("{:?}", tokens.0),
            "Tagged { bits: 7, home_bits: 6 }"
        );
        let cells = index::cells_for(capacity, index::TOKENS) as u32;
        let homes = [3u32, 4, 40, cells - 2, cells - 1];
        let ds: std::vec::Vec<Digest> = (0..90u32)
            .map(|i| {
                let mut d = [0u8; 16];
                // The least hash with that home, plus a little: hashes differ, homes
                // do not (a home is `hash * cells / 2^32`, `index::home`).
                let home = u64::from(homes[(i % 5) as usize]);
                let hash = ((home << 32).div_ceil(u64::from(cells)) + u64::from(i)) as u32;
                assert_eq!(index::home(hash, cells as usize) as u64, home);
                d[..4].copy_from_slice(&hash.to_le_bytes());
                d[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
                d[8] = i as u8;
                Digest(d)
            })
            .collect();
        let mut slots = vec![Slot::EMPTY; capacity as usize];
        for (s, d) in slots.iter_mut().zip(&ds) {
            s.digest = *d;
        }
        let mut table = vec![index::EMPTY; cells as usize];
        for (i, d) in ds.iter().enumerate() {
            tokens.insert(&mut table, i as u32, d);
        }
        let mut live: std::vec::Vec<usize> = (0..ds.len()).collect();
        let mut x = 0x9e37_79b9u32;
        while !live.is_empty() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let gone = live.swap_remove(x as usize % live.len());
            tokens.remove(&mut table, &slots, gone as u32, &ds[gone]);
            assert_eq!(tokens.find(&table, &slots, &ds[gone]), None);
            for &i in &live {
                assert_eq!(tokens.find(&table, &slots, &ds[i]), Some(i as u32), "{i}");
            }
        }
        assert!(table.iter().all(|&c| c == index::EMPTY));
    }

    /// Digests that share their index hash, some their tag too: the index still finds each
    /// slot by its whole digest, and only that one, through inserts and removals.
    #[test]
    fn token_cells_tell_digests_apart_by_tag_then_by_slot() {
        let capacity = 8u32;
        let tokens = Tokens::of(capacity);
        let digest = |tag: u8, rest: u8| {
            let mut d = [0u8; 16];
            d[..4].copy_from_slice(&7u32.to_le_bytes());
            d[4] = tag;
            d[8] = rest;
            Digest(d)
        };
        // Slots 0..6: tags 1, 1, 2, 2, 3, 3 and distinct remaining bytes; slot 7 unused.
        let ds: std::vec::Vec<Digest> = (0..6u8).map(|i| digest(1 + i / 2, i)).collect();
        let mut slots = vec![Slot::EMPTY; capacity as usize];
        for (s, d) in slots.iter_mut().zip(&ds) {
            s.digest = *d;
        }
        let mut table = vec![index::EMPTY; index::cells_for(capacity, index::TOKENS)];
        for (i, d) in ds.iter().enumerate() {
            tokens.insert(&mut table, i as u32, d);
        }
        for (i, d) in ds.iter().enumerate() {
            assert_eq!(tokens.find(&table, &slots, d), Some(i as u32));
        }
        // Same hash and tag as slot 0, another digest: not found.
        assert_eq!(tokens.find(&table, &slots, &digest(1, 99)), None);
        assert_eq!(tokens.find(&table, &slots, &digest(9, 0)), None);
        for i in [2usize, 0, 5] {
            tokens.remove(&mut table, &slots, i as u32, &ds[i]);
            assert_eq!(tokens.find(&table, &slots, &ds[i]), None);
        }
        for i in [1usize, 3, 4] {
            assert_eq!(tokens.find(&table, &slots, &ds[i]), Some(i as u32));
        }
    }
}
