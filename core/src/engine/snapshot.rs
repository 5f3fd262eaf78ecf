//! Snapshot and restore of the in-process table: what a snapshot's body holds, and how a
//! restore puts it back (the file around it, its encryption and header, are
//! `crate::snapshot`'s).
//!
//! The body, in order (integers little-endian):
//!
//! - the digests' key (two `u64`), so session tags, client digests and the principal
//!   index mean the same after the restore (on a build of the same width: the header's
//!   digests field names the function, `crate::snapshot::DIGESTS`);
//! - every slot's generation (`capacity` × `u32`), so a handle or tag from before never
//!   names a session made after, and a tombstone's successor stays the right session;
//! - each session, anonymous ones from the CLOCK hand on, then each principal's in login
//!   order (so eviction and listing orders survive): slot `u32`, epoch `u32`,
//!   token digest (16), state, principal length, address count, flags (`u8` each),
//!   age of its start at the snapshot `u64`, last use after its start `u32`, idle and
//!   absolute timeouts `u32`, address and user-agent digests `u32`, four short address
//!   digests `u16`, payload length `u32`, then the principal and the payload bytes;
//! - each tombstone, kept ring then churn ring, oldest first: ring `u8`, how it died
//!   `u8`, token digest (16), successor slot and generation `u32`.
//!
//! Times travel as ages relative to the snapshot's wall-clock time (the header's), never
//! as monotonic readings, which mean nothing in another process. A restore adds the
//! wall-clock time that passed since; a session whose deadline fell in that gap is not
//! restored but ends as expired (tombstone, event), as a validation would have ended it.

use zeroize::Zeroize;

use super::{Engine, State};
use crate::config::MAX_PRINCIPAL;
use crate::error::{Error, Expiry, SnapshotError};
use crate::event::Event;
use crate::pool::{self, Chunks};
use crate::rules::{self, Times};
use crate::slot::{self, NIL, NIL_IX, STATE_ANON, STATE_AUTH, Slot, narrow};
use crate::snapshot::{self as file, Clocks, Header, Key, Reader, Restored, Writer};
use crate::storage::{Parts, Storage};
use crate::token::Digest;
use crate::tombstone::{Death, Keep};

/// Bytes of a session record before its principal and payload.
const SESSION_BYTES: usize = 68;
/// Bytes of a tombstone record.
const TOMBSTONE_BYTES: usize = 26;

/// One session record as read from a body (its bytes still in the body).
struct Record<'b> {
    slot: u32,
    epoch: u32,
    digest: Digest,
    state: u8,
    addr_count: u8,
    flags: u8,
    /// How long before the snapshot it started.
    created_age: u64,
    seen_offset: u32,
    idle_ms: u32,
    absolute_ms: u32,
    ip: u32,
    ua: u32,
    addrs: [u16; 4],
    principal: &'b [u8],
    payload: &'b [u8],
}

fn read_record<'b>(r: &mut Reader<'b>) -> Option<Record<'b>> {
    let slot = r.u32()?;
    let epoch = r.u32()?;
    let digest = Digest(r.array()?);
    let (state, principal_len, addr_count, flags) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
    let created_age = r.u64()?;
    let seen_offset = r.u32()?;
    let (idle_ms, absolute_ms) = (r.u32()?, r.u32()?);
    let (ip, ua) = (r.u32()?, r.u32()?);
    let addrs = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    let payload_len = r.u32()?;
    let principal = r.bytes(usize::from(principal_len))?;
    let payload = r.bytes(usize::try_from(payload_len).ok()?)?;
    Some(Record {
        slot,
        epoch,
        digest,
        state,
        addr_count,
        flags,
        created_age,
        seen_offset,
        idle_ms,
        absolute_ms,
        ip,
        ua,
        addrs,
        principal,
        payload,
    })
}

/// One tombstone record: its ring, and the entry.
fn read_tombstone(r: &mut Reader<'_>) -> Option<(Keep, Death, Digest, (u32, u32))> {
    let keep = match r.u8()? {
        0 => Keep::Kept,
        1 => Keep::Churn,
        _ => return None,
    };
    let death = Death::from_u8(r.u8()?)?;
    let digest = Digest(r.array()?);
    Some((keep, death, digest, (r.u32()?, r.u32()?)))
}

/// A record's fate at the restore: live (with how long ago it started), or ended by a
/// deadline that fell before it.
enum Fate {
    Live { started_ago: u64 },
    Expired(Death),
}

impl State {
    /// The order sessions are written in: anonymous ones from the CLOCK hand on, then
    /// each principal's sessions in login order. `f` is called with each slot.
    fn each_session(&self, p: &Parts<'_>, mut f: impl FnMut(u32)) {
        let mut i = self.lru_head;
        while i != NIL {
            f(i);
            i = p.slots[i as usize].next();
            if i == self.lru_head {
                break;
            }
        }
        for (head, s) in p.slots.iter().enumerate() {
            if s.state() != STATE_AUTH {
                continue;
            }
            let principal = super::principals::read_principal(p.pool, p.pool_next, s);
            let first = self.principal_cell(p, principal.as_bytes()).map(|(_, h)| h);
            if first != Some(head as u32) {
                continue;
            }
            let mut i = head as u32;
            loop {
                f(i);
                i = p.slots[i as usize].next();
                if i == head as u32 || i == NIL {
                    break;
                }
            }
        }
    }

    fn body_len(&self, p: &Parts<'_>) -> usize {
        let mut n = 16 + 4 * p.slots.len() + TOMBSTONE_BYTES * self.tombs.len();
        self.each_session(p, |i| {
            let s = &p.slots[i as usize];
            n += SESSION_BYTES + usize::from(s.principal_len) + s.payload_len as usize;
        });
        n
    }

    /// Write the whole file into `out` (see [`Engine::snapshot_into`]); `now` is engine time.
    fn write_snapshot(
        &mut self,
        p: &Parts<'_>,
        out: &mut [u8],
        key: &Key,
        now: u64,
        wall_ms: u64,
    ) -> Result<usize, Error> {
        let body_len = self.body_len(p);
        let len = file::file_len(body_len);
        let out = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut h = Header::of(&self.config);
        self.rng.fill(&mut h.nonce);
        h.body_len = body_len as u64;
        h.written_wall_ms = wall_ms;
        let mut sessions = 0u32;
        let mut w = Writer::new(&mut out[file::HEADER_BYTES..file::HEADER_BYTES + body_len]);
        w.u64(self.key.0);
        w.u64(self.key.1);
        for s in p.slots.iter() {
            w.u32(s.generation);
        }
        self.each_session(p, |i| {
            let s = &p.slots[i as usize];
            sessions += 1;
            w.u32(i);
            w.u32(s.epoch);
            w.bytes(&s.digest.0);
            w.u8(s.state());
            w.u8(s.principal_len);
            w.u8(s.addr_count());
            w.u8(s.flags());
            w.u64(now.saturating_sub(s.created_ms(self.origin)));
            w.u32(s.seen_offset);
            w.u32(s.idle_ms);
            w.u32(s.absolute_ms);
            // An engine that watches no client fact has no digests (zeros).
            for d in slot::client_of(p, i) {
                w.u32(d);
            }
            // The format keeps four address digests; an engine that does not count
            // addresses has none (zeros).
            for a in p.addresses.get(i as usize).copied().unwrap_or([0; 4]) {
                w.u16(a);
            }
            w.u32(s.payload_len());
            for (head, len) in [
                (s.principal_head(), usize::from(s.principal_len)),
                (s.payload_head(), s.payload_len as usize),
            ] {
                let chunks = Chunks {
                    bytes: p.pool,
                    next: p.pool_next,
                    block: head,
                    left: len,
                };
                for c in chunks {
                    w.bytes(c);
                }
            }
        });
        for keep in [Keep::Kept, Keep::Churn] {
            for t in self.tombs.oldest_first(p.tombstones, keep) {
                w.u8(keep as u8);
                w.u8(t.death());
                w.bytes(&t.digest.0);
                w.u32(t.target_slot());
                w.u32(t.target_generation);
            }
        }
        h.sessions = sessions;
        h.tombstones = self.tombs.len() as u32;
        let written = w.done();
        let sealed = match written {
            Some(n) if n == body_len => file::seal(out, &h, key),
            _ => Err(SnapshotError::Corrupt),
        };
        if let Err(e) = sealed {
            out.zeroize();
            return Err(e.into());
        }
        Ok(len)
    }

    /// What becomes of a record `gap_ms` after the snapshot, under this engine's timeout
    /// maxima (a restored session never outlives what the new config allows).
    fn fate(&self, rec: &Record<'_>, gap_ms: u64) -> Fate {
        let (idle, absolute) = self.restored_timeouts(rec);
        let started_ago = gap_ms.saturating_add(rec.created_age);
        // Any frame will do for the rules, which only compare differences: one far from
        // both ends of u64, so nothing real saturates.
        const FRAME: u64 = u64::MAX / 2;
        let start = FRAME.saturating_sub(started_ago);
        let times = Times {
            created_ms: start,
            last_seen_ms: start.saturating_add(u64::from(rec.seen_offset)),
            idle_ms: idle,
            absolute_ms: absolute,
        };
        match rules::liveness(&times, FRAME) {
            Ok(()) => Fate::Live { started_ago },
            Err(Expiry::Idle) => Fate::Expired(Death::ExpiredIdle),
            Err(Expiry::Absolute) => Fate::Expired(Death::ExpiredAbsolute),
        }
    }

    fn restored_timeouts(&self, rec: &Record<'_>) -> (u32, u32) {
        (
            rec.idle_ms.min(self.config.max_idle_timeout_ms),
            rec.absolute_ms.min(self.config.max_absolute_timeout_ms),
        )
    }

    /// Check every record of a body without changing anything; the latest start of a
    /// session that stays live, as an age at the restore (0 when none).
    fn check_body(&self, h: &Header, body: &[u8], gap_ms: u64) -> Result<u64, SnapshotError> {
        let corrupt = SnapshotError::Corrupt;
        let mut r = Reader::new(body);
        let generations = (h.capacity as usize).checked_mul(4).ok_or(corrupt)?;
        r.bytes(16 + generations).ok_or(corrupt)?;
        let mut oldest = 0u64;
        let mut blocks = 0usize;
        for _ in 0..h.sessions {
            let rec = read_record(&mut r).ok_or(corrupt)?;
            let plen = rec.principal.len();
            let sane = rec.slot < h.capacity
                && match rec.state {
                    STATE_ANON => plen == 0,
                    STATE_AUTH => (1..=MAX_PRINCIPAL).contains(&plen),
                    _ => false,
                }
                && rec.payload.len() <= self.config.max_payload as usize
                && rec.idle_ms > 0
                && rec.absolute_ms > 0
                && u64::from(rec.seen_offset) <= rec.created_age;
            if !sane {
                return Err(corrupt);
            }
            blocks += pool::blocks_for(plen) + pool::blocks_for(rec.payload.len());
            if let Fate::Live { started_ago } = self.fate(&rec, gap_ms) {
                oldest = oldest.max(started_ago);
            }
        }
        if blocks > self.pool.free_blocks() {
            return Err(corrupt);
        }
        for _ in 0..h.tombstones {
            read_tombstone(&mut r).ok_or(corrupt)?;
        }
        if !r.at_end() {
            return Err(corrupt);
        }
        Ok(oldest)
    }

    /// Restore a checked body into this (cleared) table; `now` is the engine time of the
    /// restore. Fails only on an inconsistency [`State::check_body`] cannot see alone
    /// (two records for one slot or one token); the caller then clears the table.
    fn apply_body(
        &mut self,
        p: &mut Parts<'_>,
        h: &Header,
        body: &[u8],
        gap_ms: u64,
        now: u64,
    ) -> Result<Restored, SnapshotError> {
        let corrupt = SnapshotError::Corrupt;
        let mut r = Reader::new(body);
        self.key = (r.u64().ok_or(corrupt)?, r.u64().ok_or(corrupt)?);
        for s in p.slots.iter_mut().take(h.capacity as usize) {
            s.generation = r.u32().ok_or(corrupt)?;
        }
        let sessions_at = r.position();
        // The slots' times count from the earliest start among the sessions that stay
        // live: each began less than its absolute timeout (a u32 of ms) before `now`, so
        // every offset fits ([`Slot::created`]) and no record needs the origin moved.
        let mut oldest = 0u64;
        let mut ages = Reader::new(&body[sessions_at..]);
        for _ in 0..h.sessions {
            let rec = read_record(&mut ages).ok_or(corrupt)?;
            if let Fate::Live { started_ago } = self.fate(&rec, gap_ms) {
                oldest = oldest.max(started_ago);
            }
        }
        self.origin = now.checked_sub(oldest).ok_or(corrupt)?;
        let mut done = Restored::default();
        for _ in 0..h.sessions {
            let rec = read_record(&mut r).ok_or(corrupt)?;
            if let Fate::Live { started_ago } = self.fate(&rec, gap_ms) {
                let start = now.checked_sub(started_ago).ok_or(corrupt)?;
                self.place(p, &rec, start, now)?;
                done.sessions += 1;
            }
        }
        for _ in 0..h.tombstones {
            let (keep, death, digest, target) = read_tombstone(&mut r).ok_or(corrupt)?;
            self.tombs
                .insert(p.tombstones, p.tombstone_index, digest, death, target, keep);
        }
        // The sessions that ended in the gap died after every tombstone above: theirs go
        // in last, so a smaller ring forgets the older ones first.
        let mut r = Reader::new(&body[sessions_at..]);
        for _ in 0..h.sessions {
            let rec = read_record(&mut r).ok_or(corrupt)?;
            if let Fate::Expired(death) = self.fate(&rec, gap_ms) {
                self.bury(p, &rec, death, now)?;
                done.expired += 1;
            }
        }
        self.rebuild_free_list(p);
        done.tombstones = self.tombs.len() as u32;
        Ok(done)
    }

    /// Put a live record back into its slot, its lists, the index and the wheel.
    fn place(
        &mut self,
        p: &mut Parts<'_>,
        rec: &Record<'_>,
        start: u64,
        now: u64,
    ) -> Result<(), SnapshotError> {
        let corrupt = SnapshotError::Corrupt;
        let i = rec.slot;
        let taken = self.tokens.find(p.index, p.slots, &rec.digest);
        let s = p.slots.get(i as usize).ok_or(corrupt)?;
        let generation = s.generation;
        if s.is_live() || taken.is_some() {
            return Err(corrupt);
        }
        let (idle_ms, absolute_ms) = self.restored_timeouts(rec);
        let created = self.offset_of(p, start, now);
        let payload_head = self
            .pool
            .write(p.pool, p.pool_next, NIL, 0, rec.payload)
            .map_err(|_| corrupt)?;
        let principal_head = self
            .pool
            .write(p.pool, p.pool_next, NIL, 0, rec.principal)
            .map_err(|_| corrupt)?;
        let authenticated = rec.state == STATE_AUTH;
        p.slots[i as usize] = Slot {
            digest: rec.digest,
            created,
            seen_offset: rec.seen_offset,
            idle_ms,
            absolute_ms,
            generation,
            epoch: rec.epoch,
            payload_head: slot::store_head(payload_head),
            payload_len: rec.payload.len() as slot::PayloadLen,
            principal_head: slot::store_head(principal_head),
            prev: NIL_IX,
            next: NIL_IX,
            principal_len: rec.principal.len() as u8,
            ..Slot::EMPTY
        };
        let s = &mut p.slots[i as usize];
        s.set_state(rec.state);
        // The two flags an engine writes; the count as far as it counts (a snapshot of
        // an older engine may hold up to 255), the same in every build.
        s.set_flags(rec.flags & (slot::REFERENCED | slot::ALERTED));
        s.set_addr_count(rec.addr_count.min(slot::ADDR_COUNT_MAX));
        if let Some(seen) = p.addresses.get_mut(i as usize) {
            *seen = rec.addrs;
        }
        if let Some(c) = slot::client_mut(p, i) {
            *c = [rec.ip, rec.ua];
        }
        self.tokens.insert(p.index, i, &rec.digest);
        if authenticated {
            self.attach_principal(p, i);
            self.stats.authenticated += 1;
        } else {
            slot::push_back(p.slots, &mut self.lru_head, i);
            self.stats.anonymous += 1;
        }
        self.stats.live += 1;
        let deadline = p.slots[i as usize].deadline(self.origin);
        if deadline <= now || self.wheel.insert(p.links, i, deadline).is_err() {
            return Err(corrupt);
        }
        Ok(())
    }

    /// End a record whose deadline passed while it was away: its token becomes a
    /// tombstone, its end an event, and its slot's generation moves on, as if it had
    /// been swept.
    fn bury(
        &mut self,
        p: &mut Parts<'_>,
        rec: &Record<'_>,
        death: Death,
        now: u64,
    ) -> Result<(), SnapshotError> {
        let i = rec.slot;
        let s = p.slots.get(i as usize).ok_or(SnapshotError::Corrupt)?;
        if s.is_live() {
            return Err(SnapshotError::Corrupt);
        }
        let generation = s.generation;
        let keep = Keep::of(death, rec.state == STATE_AUTH);
        self.tombs.insert(
            p.tombstones,
            p.tombstone_index,
            rec.digest,
            death,
            (i, generation),
            keep,
        );
        if let Some(kind) = rules::end_event(death.invalid()) {
            let session = self.tag(i, generation);
            self.ring.push(
                p.events,
                Event {
                    kind,
                    session,
                    at_ms: now,
                },
            );
        }
        self.stats.expirations += 1;
        p.slots[i as usize].generation = generation.wrapping_add(1);
        Ok(())
    }

    /// Every slot not holding a session on the free list, lowest first.
    fn rebuild_free_list(&mut self, p: &mut Parts<'_>) {
        self.free_head = NIL;
        for i in (0..p.slots.len() as u32).rev() {
            let s = &mut p.slots[i as usize];
            if !s.is_live() {
                s.prev = NIL_IX;
                s.next = narrow(self.free_head);
                self.free_head = i;
            }
        }
    }
}

impl<S: Storage> Engine<S> {
    /// Bytes [`Engine::snapshot_into`] writes if called next (the table may change in
    /// between: a larger table then gives `BufferTooSmall`).
    pub fn snapshot_len(&mut self) -> usize {
        let p = self.storage.parts();
        file::file_len(self.st.body_len(&p))
    }

    /// Write a snapshot of the whole table into `out`, encrypted and authenticated under
    /// `key` (32 random bytes the caller keeps secret, the same at restore); returns its
    /// length. Deadlines are written as ages against `at.wall_ms`. The engine itself is
    /// unchanged (a later call still serves every session): take one on graceful
    /// shutdown, and on demand.
    ///
    /// Errors: `Snapshot(Key)` for a key that is not 32 bytes or is all zeros;
    /// `BufferTooSmall` (nothing useful written) when `out` is shorter than
    /// [`Engine::snapshot_len`]; `Entropy` in a forked child that cannot reseed (the
    /// nonce comes from the engine's generator).
    pub fn snapshot_into(
        &mut self,
        key: &[u8],
        at: Clocks,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let key = Key::new(key)?;
        self.st.check_fork()?;
        let now = self.st.tick(self.st.at(at.now_ms));
        let p = self.storage.parts();
        self.st.write_snapshot(&p, out, &key, now, at.wall_ms)
    }

    /// Restore a snapshot into this engine, which must hold nothing yet (just built):
    /// every session live at `at.wall_ms` is back with its token, principal, payload and
    /// deadlines; every tombstone is back, so logged-out and rotated-out tokens still
    /// answer so; a session whose deadline passed in between ends as expired. `file` is
    /// decrypted in place and wiped.
    ///
    /// Refused (the engine then holds nothing, and works) with `Snapshot(..)`: see
    /// [`SnapshotError`], checked in its order; `max_age_ms` is the oldest snapshot
    /// accepted ([`crate::snapshot::DEFAULT_MAX_AGE_MS`] is the bindings' default). The
    /// config must be at least as large as the one the snapshot was written with
    /// (capacity, pool_bytes, max_payload) and issue tokens of the same length; other
    /// settings may differ, and each restored session's timeouts are cut to the new
    /// maxima.
    pub fn restore_from(
        &mut self,
        file: &mut [u8],
        key: &[u8],
        at: Clocks,
        max_age_ms: u64,
    ) -> Result<Restored, Error> {
        let key = Key::new(key)?;
        if self.st.stats.live > 0 || self.st.tombs.len() > 0 {
            return Err(SnapshotError::NotEmpty.into());
        }
        let (h, body) = file::open(file, &key)?;
        let done = self.restore_body(&h, body, at, max_age_ms);
        body.zeroize();
        done
    }

    fn restore_body(
        &mut self,
        h: &Header,
        body: &[u8],
        at: Clocks,
        max_age_ms: u64,
    ) -> Result<Restored, Error> {
        let gap_ms = at
            .wall_ms
            .checked_sub(h.written_wall_ms)
            .ok_or(SnapshotError::Future)?;
        if gap_ms > max_age_ms {
            return Err(SnapshotError::Stale.into());
        }
        h.fits(&self.st.config)?;
        let st = &mut self.st;
        let oldest = st.check_body(h, body, gap_ms)?;
        let mut p = self.storage.parts();
        st.clear(&mut p)?;
        // Engine time runs ahead of the caller's when a live session began before the
        // caller's clock's zero (a new process's monotonic clock starts near 0).
        st.base = oldest.saturating_sub(at.now_ms);
        let now = st.tick(st.at(at.now_ms));
        match st.apply_body(&mut p, h, body, gap_ms, now) {
            Ok(done) => Ok(done),
            Err(e) => {
                st.clear(&mut p)?;
                st.key = super::digests::new_key(&mut st.rng);
                Err(e.into())
            }
        }
    }
}

#[cfg(feature = "alloc")]
impl<S: Storage> Engine<S> {
    /// [`Engine::snapshot_into`] into a new vector of exactly the snapshot's length.
    ///
    /// ```
    /// use sessile::snapshot::Clocks;
    /// use sessile::{Client, Config, Engine, Store};
    /// let key = [7u8; 32]; // in real use: 32 random bytes kept secret
    /// let mut old = Engine::from_os(Config::default()).unwrap();
    /// let (token, _) = old.create(1_000, &Client::NONE).unwrap();
    /// let file = old.snapshot(&key, Clocks { now_ms: 2_000, wall_ms: 1_700_000_000_000 }).unwrap();
    ///
    /// // The next process: its monotonic clock starts again near 0; 5 s have passed.
    /// let mut new = Engine::from_os(Config::default()).unwrap();
    /// let at = Clocks { now_ms: 10, wall_ms: 1_700_000_005_000 };
    /// new.restore(&file, &key, at, 60_000).unwrap();
    /// assert!(new.validate(token.as_bytes(), 20, &Client::NONE).is_ok());
    /// ```
    pub fn snapshot(&mut self, key: &[u8], at: Clocks) -> Result<alloc::vec::Vec<u8>, Error> {
        Key::new(key)?;
        let mut out = alloc::vec::Vec::new();
        out.try_reserve_exact(self.snapshot_len())
            .map_err(|_| Error::OutOfMemory)?;
        out.resize(self.snapshot_len(), 0);
        let n = self.snapshot_into(key, at, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// [`Engine::restore_from`] for a file the caller keeps (decrypted in a copy, which
    /// is wiped).
    pub fn restore(
        &mut self,
        file: &[u8],
        key: &[u8],
        at: Clocks,
        max_age_ms: u64,
    ) -> Result<Restored, Error> {
        let mut copy = alloc::vec::Vec::new();
        copy.try_reserve_exact(file.len())
            .map_err(|_| Error::OutOfMemory)?;
        copy.extend_from_slice(file);
        let done = self.restore_from(&mut copy, key, at, max_age_ms);
        copy.zeroize();
        done
    }
}
