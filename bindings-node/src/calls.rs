//! The engine-side work of the per-request calls, once each: load (validate a token,
//! restarting its idle timer, then copy its payload out) and save (validate, then write).
//!
//! Both entry points of a call run the same function here: the `#[napi]` method
//! (`Engine.load`, `Engine.savePayload`, in `lib.rs`) and the plain Node-API callback of
//! `sessile/express` (`expressLink().load` / `.save`, in `fast.rs`). They differ only in
//! how they read their arguments and build their answer; no rule is decided here either:
//! validation, deadlines and the duplicate rule are the core's.

use sessile::{Client, Error as CoreError, Saved, Session, Store};
use sessile_backend::RedisStore;
use sessile_backend::StoreMut;

/// Text arguments up to this many bytes are read into a buffer without asking their length
/// first (`expressLink().save`'s payload).
pub(crate) const PAYLOAD_STACK: usize = 4096;

/// A payload copied out of the engine while it is locked, into a buffer that a caller may
/// reuse from call to call: `expressLink().load` keeps one per link, so a request neither
/// zeroes nor allocates one (a fresh zeroed 4 KiB buffer and its moves were about a sixth
/// of that call in a loop).
pub(crate) struct PayloadCopy {
    buf: Vec<u8>,
}

impl PayloadCopy {
    pub(crate) fn new() -> PayloadCopy {
        PayloadCopy { buf: Vec::new() }
    }

    /// A copy into `buf` (its contents are replaced; its capacity is kept).
    pub(crate) fn reusing(buf: Vec<u8>) -> PayloadCopy {
        PayloadCopy { buf }
    }

    /// The buffer, for the next call.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// The payload's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Copy the payload of the live session `s` (just validated at `now`).
    fn fill(&mut self, e: &mut impl Store, s: &Session, now: u64) -> Result<(), CoreError> {
        self.buf.clear();
        self.buf.reserve(s.payload_len as usize);
        for chunk in e.payload(s.handle, now)? {
            self.buf.extend_from_slice(chunk);
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

/// [`load`] with the reply to the lookup [`RedisStore::validate_command`] gave, which
/// the caller carried to Redis and back itself (`expressLink().loadReply`).
pub(crate) fn load_reply(
    e: &mut RedisStore,
    token: &[u8],
    now: u64,
    client: &Client<'_>,
    reply: &[u8],
    out: &mut PayloadCopy,
) -> Result<Session, CoreError> {
    let s = e.validate_reply(token, now, client, reply)?;
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
