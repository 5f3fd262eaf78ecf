//! The engine-side work of the per-request calls, once each: load (validate a token,
//! restarting its idle timer, then copy its payload out) and save (validate, then write).
//!
//! Both entry points of a call run the same function here: the `#[napi]` method
//! (`Engine.load`, `Engine.savePayload`, in `lib.rs`) and the plain Node-API callback of
//! `sessile/express` (`expressLink().load` / `.save`, in `fast.rs`). They differ only in
//! how they read their arguments and build their answer; no rule is decided here either:
//! validation, deadlines and the duplicate rule are the core's.

use sessile::{Client, Error as CoreError, Saved, Session, Store};
use sessile_backend::StoreMut;

/// Payloads up to this many bytes are copied out of the engine into a buffer on the stack.
pub(crate) const PAYLOAD_STACK: usize = 4096;

/// A payload copied out of the engine while it is locked: on the stack up to
/// [`PAYLOAD_STACK`] bytes, on the heap above.
pub(crate) struct PayloadCopy {
    stack: [u8; PAYLOAD_STACK],
    heap: Vec<u8>,
    len: usize,
}

impl PayloadCopy {
    pub(crate) fn new() -> PayloadCopy {
        PayloadCopy {
            stack: [0; PAYLOAD_STACK],
            heap: Vec::new(),
            len: 0,
        }
    }

    /// The payload's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        if self.len > PAYLOAD_STACK {
            &self.heap
        } else {
            &self.stack[..self.len]
        }
    }

    /// Copy the payload of the live session `s` (just validated at `now`).
    fn fill(&mut self, e: &mut StoreMut<'_>, s: &Session, now: u64) -> Result<(), CoreError> {
        let len = s.payload_len as usize;
        self.len = len;
        self.heap.clear();
        if len > PAYLOAD_STACK {
            self.heap.reserve_exact(len);
        }
        let mut at = 0;
        for chunk in e.payload(s.handle, now)? {
            if len > PAYLOAD_STACK {
                self.heap.extend_from_slice(chunk);
            } else {
                self.stack[at..at + chunk.len()].copy_from_slice(chunk);
                at += chunk.len();
            }
        }
        Ok(())
    }
}

/// Validate `token` (its idle timer restarts) and copy its payload into `out`.
pub(crate) fn load(
    e: &mut StoreMut<'_>,
    token: &[u8],
    now: u64,
    client: &Client<'_>,
    out: &mut PayloadCopy,
) -> Result<Session, CoreError> {
    let s = e.validate(token, now, client)?;
    out.fill(e, &s, now)?;
    Ok(s)
}

/// [`load`] for a request that carried the session cookie several times: the core's
/// duplicate rule ([`sessile::Store::validate_any`]) chooses among `tokens`. Returns the
/// place of the chosen token in `tokens`.
pub(crate) fn load_any(
    e: &mut StoreMut<'_>,
    tokens: &[&[u8]],
    now: u64,
    client: &Client<'_>,
    out: &mut PayloadCopy,
) -> Result<(usize, Session), CoreError> {
    let (chosen, s) = e.validate_any(tokens.iter().copied(), now, client)?;
    let index = tokens
        .iter()
        .position(|t| *t == chosen)
        .ok_or(CoreError::Session(sessile::Invalid::Unknown))?;
    out.fill(e, &s, now)?;
    Ok((index, s))
}

/// Validate `token` (no client comparison) and store `data` as its payload through the
/// core's save (only changed bytes are written). A token that validates was neither
/// rotated nor ended, so the save lands on the session the request holds.
pub(crate) fn save(
    e: &mut StoreMut<'_>,
    token: &[u8],
    data: &[u8],
    now: u64,
) -> Result<(), CoreError> {
    let s = e.validate(token, now, &Client::NONE)?;
    e.save(s.handle, s.epoch, data, now).map(|_| ())
}

/// A save's outcome as JS names it.
pub(crate) fn saved_word(saved: Saved) -> &'static str {
    match saved {
        Saved::Written => "written",
        Saved::Unchanged => "unchanged",
        Saved::Dropped => "dropped",
    }
}
