//! A session's bytes: its payload and its principal, each a chain of pool blocks; writing
//! them (a full pool is swept, then an anonymous session evicted, before a write fails),
//! reading the payload, and the request seam's save.

use super::{Saved, SessionRef, State};
use crate::error::Error;
use crate::pool::{Chunks, NoRoom};
use crate::rules;
use crate::slot::{PayloadLen, store_head};
use crate::storage::Parts;

/// Which chain of a slot to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Chain {
    Payload,
    Principal,
}

impl State {
    /// Replace slot `i`'s `which` chain with `data`. A write that fails leaves the old
    /// bytes (the pool checks for room before it touches anything). When the pool is
    /// full, expired sessions are reclaimed once, then anonymous sessions other than `i`
    /// are evicted (the ones CLOCK picks, `capacity.rs`) until the bytes fit.
    pub(super) fn write_chain(
        &mut self,
        p: &mut Parts<'_>,
        i: u32,
        which: Chain,
        data: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        let mut swept = false;
        loop {
            let s = &p.slots[i as usize];
            let (head, len) = match which {
                Chain::Payload => (s.payload_head(), s.payload_len as usize),
                Chain::Principal => (s.principal_head(), usize::from(s.principal_len)),
            };
            match self.pool.write(p.pool, p.pool_next, head, len, data) {
                Ok(new_head) => {
                    let s = &mut p.slots[i as usize];
                    match which {
                        Chain::Payload => {
                            s.payload_head = store_head(new_head);
                            s.payload_len = data.len() as PayloadLen;
                            // A save prepared before this write is dropped (no lost
                            // update), as in every store.
                            s.epoch = rules::next_epoch(s.epoch);
                        }
                        Chain::Principal => {
                            s.principal_head = store_head(new_head);
                            s.principal_len = data.len() as u8;
                        }
                    }
                    return Ok(());
                }
                Err(NoRoom) => {
                    if !swept {
                        swept = true;
                        self.sweep(p, now);
                        if !p.slots[i as usize].is_live() {
                            return Err(Error::StaleHandle);
                        }
                        continue;
                    }
                    if !self.evict_anonymous(p, now, i) {
                        return Err(Error::PoolExhausted);
                    }
                }
            }
        }
    }

    pub(super) fn write(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        data: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        let now = self.tick(now);
        let i = self.live_at(p, h, now)?;
        if data.len() > self.config.max_payload as usize {
            return Err(Error::PayloadTooLarge);
        }
        self.write_chain(p, i, Chain::Payload, data, now)
    }

    pub(super) fn payload<'a>(
        &mut self,
        mut p: Parts<'a>,
        h: SessionRef,
        now: u64,
    ) -> Result<Chunks<'a>, Error> {
        let now = self.tick(now);
        let i = self.live_at(&mut p, h, now)?;
        let s = &p.slots[i as usize];
        Ok(Chunks {
            bytes: p.pool,
            next: p.pool_next,
            block: s.payload_head(),
            left: s.payload_len as usize,
        })
    }

    /// The request seam's save (see [`crate::Store::save`]); whether it lands is
    /// [`rules::save`]'s decision.
    pub(super) fn save(
        &mut self,
        p: &mut Parts<'_>,
        h: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error> {
        let now = self.tick(now);
        let current = match self.live_at(p, h, now) {
            Ok(i) => {
                let s = &p.slots[i as usize];
                let same = s.payload_len as usize == data.len()
                    && Chunks {
                        bytes: p.pool,
                        next: p.pool_next,
                        block: s.payload_head(),
                        left: data.len(),
                    }
                    .eq_bytes(data);
                Some((i, s.epoch, same))
            }
            Err(Error::StaleHandle | Error::Session(_)) => None,
            Err(e) => return Err(e),
        };
        match rules::save(epoch, current.map(|(_, e, same)| (e, same))) {
            rules::SaveVerdict::Drop => Ok(Saved::Dropped),
            rules::SaveVerdict::Unchanged => Ok(Saved::Unchanged),
            rules::SaveVerdict::Write => {
                let Some((i, _, _)) = current else {
                    return Ok(Saved::Dropped);
                };
                if data.len() > self.config.max_payload as usize {
                    return Err(Error::PayloadTooLarge);
                }
                self.write_chain(p, i, Chain::Payload, data, now)?;
                Ok(Saved::Written)
            }
        }
    }
}
