//! The snapshot file: what carries the in-process table across a restart of its process.
//!
//! ```text
//! offset  size  field (integers little-endian)
//!      0     8  magic "SESSILE\x1a"
//!      8     2  format version (2)
//!     10     2  keyed digests of the body (`DIGESTS`: 0 SipHash-1-3, 1 HChaCha8 cascade)
//!     12     8  body length in bytes (the ciphertext between header and tag)
//!     20    16  key check: HChaCha20(key, "sessile snap kcv"), first 16 bytes
//!     36    24  nonce (random, from the engine's generator)
//!     60     8  wall-clock time it was written (Unix ms)
//!     68     4  capacity          \
//!     72     4  pool_bytes         | of the config it was written with
//!     76     4  max_payload        |
//!     80     1  token_bytes       /
//!     81     3  zero
//!     84     4  sessions in the body
//!     88     4  tombstones in the body
//!     92     .  body, encrypted
//!      .    16  Poly1305 tag over header (as associated data) and body
//! ```
//!
//! The body is XChaCha20-Poly1305 (RFC 8439 with a 192-bit nonce, so a random nonce per
//! file is safe under one key however many files are written) under a key derived from
//! the caller's 32-byte key with HChaCha20 (label "sessile snap enc"), so the caller's
//! key itself is never used as a cipher key and the key check reveals nothing about the
//! cipher key. The header is authenticated as associated data: its sizes, counts and
//! time cannot be changed without the tag failing. What the body holds is written and
//! read by the engine (`engine/snapshot.rs`): the digests' key, every slot's generation,
//! each session (token digest, times as ages, timeouts, epoch, client digests, principal,
//! payload) and each tombstone (digest, how it died, whom it names, which ring).
//!
//! The keyed digests field says which function made the session tags, client digests
//! and principal hashes the body's sessions mean (`engine/digests.rs`): 64-bit builds
//! (and every file before the field) use SipHash-1-3, 32-bit builds a cascade of
//! HChaCha8, under the same 128-bit key the body carries. A build restores only its own:
//! the other's client digests would never match again, and every tag would change. Like
//! the version, it is checked before the key ([`SnapshotError::UnknownVersion`]).
//!
//! The key check lets a restore tell a wrong key ([`SnapshotError::WrongKey`]) from a
//! changed file ([`SnapshotError::Tampered`]); it gives an attacker nothing the tag does
//! not (either lets a guessed key be tested offline, so the key must be random).

use chacha20::{R20, hchacha};
use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::config::Config;
use crate::error::SnapshotError;

/// Bytes of a snapshot key.
pub const KEY_BYTES: usize = 32;
/// The format version this build writes and the only one it reads. 2: token digests are
/// HChaCha8 (`token.rs`); a version 1 file holds HChaCha20 digests, which no token would
/// match after a restore, so it is refused as [`SnapshotError::UnknownVersion`] rather
/// than restored into sessions nobody can reach.
pub const VERSION: u16 = 2;
/// Which keyed digests (session tags, client digests, principal hashes) this build makes,
/// as a snapshot's header records them: 0 for SipHash-1-3 (64-bit targets; every file
/// written before the field was zero), 1 for the cascade of HChaCha8 (32-bit targets).
/// A restore refuses a file whose field is not this build's as
/// [`SnapshotError::UnknownVersion`]: its client digests would never match a request
/// again and its sessions' tags would change.
pub const DIGESTS: u16 = if cfg!(target_pointer_width = "64") {
    0
} else {
    1
};
/// The first bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"SESSILE\x1a";
/// Bytes before the body.
pub const HEADER_BYTES: usize = 92;
/// Bytes of the authentication tag after the body.
pub const TAG_BYTES: usize = 16;
/// The maximum age the bindings use when the caller gives none: one hour, enough for a
/// restart or a deploy, short enough that an old copy of the file cannot bring back a
/// day of logged-out sessions (see [`SnapshotError::Stale`]).
pub const DEFAULT_MAX_AGE_MS: u64 = 60 * 60 * 1000;

const KEY_CHECK: &[u8; 16] = b"sessile snap kcv";
const ENCRYPTION: &[u8; 16] = b"sessile snap enc";

/// The two clocks a snapshot converts between: the engine's monotonic time (the `now`
/// every call takes) and the wall clock, which alone means the same in the next process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clocks {
    /// Monotonic milliseconds, as given to every other call.
    pub now_ms: u64,
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub wall_ms: u64,
}

/// What a restore brought back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Sessions live again.
    pub sessions: u32,
    /// Sessions whose deadline passed before the restore (while the process was down, or
    /// already when the snapshot was written): their tokens answer `expired_idle` or
    /// `expired_absolute`.
    pub expired: u32,
    /// Tombstones remembered (the snapshot's, plus one per expired session; fewer when
    /// the new config keeps fewer, the oldest forgotten first).
    pub tombstones: u32,
}

/// The header's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) body_len: u64,
    pub(crate) nonce: [u8; 24],
    pub(crate) written_wall_ms: u64,
    pub(crate) capacity: u32,
    pub(crate) pool_bytes: u32,
    pub(crate) max_payload: u32,
    pub(crate) token_bytes: u8,
    pub(crate) sessions: u32,
    pub(crate) tombstones: u32,
}

/// A caller's key, checked: 32 bytes and not all zeros (an unset key).
pub(crate) struct Key([u8; KEY_BYTES]);

impl Key {
    pub(crate) fn new(key: &[u8]) -> Result<Key, SnapshotError> {
        let k: [u8; KEY_BYTES] = key.try_into().map_err(|_| SnapshotError::Key)?;
        if bool::from(k.ct_eq(&[0; KEY_BYTES])) {
            return Err(SnapshotError::Key);
        }
        Ok(Key(k))
    }

    fn derive(&self, label: &[u8; 16]) -> [u8; 32] {
        hchacha::<R20>(&self.0.into(), &(*label).into()).into()
    }

    fn key_check(&self) -> [u8; 16] {
        let mut full = self.derive(KEY_CHECK);
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        full.zeroize();
        out
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        let mut k = self.derive(ENCRYPTION);
        let cipher = XChaCha20Poly1305::new(&k.into());
        k.zeroize();
        cipher
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Header {
    pub(crate) fn of(config: &Config) -> Header {
        Header {
            body_len: 0,
            nonce: [0; 24],
            written_wall_ms: 0,
            capacity: config.capacity,
            pool_bytes: config.pool_bytes,
            max_payload: config.max_payload,
            token_bytes: config.token_bytes,
            sessions: 0,
            tombstones: 0,
        }
    }

    fn write(&self, key_check: &[u8; 16], out: &mut [u8; HEADER_BYTES]) {
        let mut w = Writer::new(out);
        w.bytes(&MAGIC);
        w.u16(VERSION);
        w.u16(DIGESTS);
        w.u64(self.body_len);
        w.bytes(key_check);
        w.bytes(&self.nonce);
        w.u64(self.written_wall_ms);
        w.u32(self.capacity);
        w.u32(self.pool_bytes);
        w.u32(self.max_payload);
        w.u8(self.token_bytes);
        w.bytes(&[0; 3]);
        w.u32(self.sessions);
        w.u32(self.tombstones);
    }

    /// The config keys whose new value is too small for what was written, first one
    /// found: slots keep their numbers (capacity), the payloads and principals their
    /// blocks (pool) and sizes (max_payload), tokens their length (token_bytes).
    pub(crate) fn fits(&self, config: &Config) -> Result<(), SnapshotError> {
        let blocks = |bytes: u32| crate::pool::blocks_for(bytes as usize);
        let key = if config.capacity < self.capacity {
            "capacity"
        } else if config.token_bytes != self.token_bytes {
            "token_bytes"
        } else if blocks(config.pool_bytes) < blocks(self.pool_bytes) {
            "pool_bytes"
        } else if config.max_payload < self.max_payload {
            "max_payload"
        } else {
            return Ok(());
        };
        Err(SnapshotError::DoesNotFit { key })
    }
}

/// Bytes of a file whose body is `body_len` bytes.
pub(crate) const fn file_len(body_len: usize) -> usize {
    HEADER_BYTES + body_len + TAG_BYTES
}

/// Finish a file: `file[HEADER_BYTES..][..header.body_len]` holds the plaintext body;
/// write the header, encrypt the body in place and append the tag. `file` is exactly
/// [`file_len`] long.
pub(crate) fn seal(file: &mut [u8], header: &Header, key: &Key) -> Result<(), SnapshotError> {
    let (head, rest) = file
        .split_at_mut_checked(HEADER_BYTES)
        .ok_or(SnapshotError::Corrupt)?;
    let body_len = usize::try_from(header.body_len).map_err(|_| SnapshotError::Corrupt)?;
    let (body, tag_out) = rest
        .split_at_mut_checked(body_len)
        .ok_or(SnapshotError::Corrupt)?;
    let head: &mut [u8; HEADER_BYTES] = head.try_into().map_err(|_| SnapshotError::Corrupt)?;
    if tag_out.len() != TAG_BYTES {
        return Err(SnapshotError::Corrupt);
    }
    header.write(&key.key_check(), head);
    let tag = key
        .cipher()
        .encrypt_inout_detached(&header.nonce.into(), &head[..], body.into())
        .map_err(|_| SnapshotError::Corrupt)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// Check a file's shape, key and tag, and decrypt its body in place. The checks run in
/// the order [`SnapshotError`] lists them. On success, the header and the plaintext
/// body (which the caller must wipe after use); on failure the body is wiped.
pub(crate) fn open<'f>(
    file: &'f mut [u8],
    key: &Key,
) -> Result<(Header, &'f mut [u8]), SnapshotError> {
    let n = file.len();
    let magic_seen = &file[..n.min(MAGIC.len())];
    if magic_seen != &MAGIC[..magic_seen.len()] {
        return Err(SnapshotError::NotASnapshot);
    }
    let mut r = Reader::new(file);
    let (Some(_), Some(version)) = (r.bytes(MAGIC.len()), r.u16()) else {
        return Err(SnapshotError::Truncated);
    };
    // The digests' field is read where present: a shorter file is truncated below.
    if version != VERSION || r.u16().is_some_and(|d| d != DIGESTS) {
        return Err(SnapshotError::UnknownVersion);
    }
    if n < HEADER_BYTES {
        return Err(SnapshotError::Truncated);
    }
    let (head, rest) = file.split_at_mut(HEADER_BYTES);
    let mut r = Reader::new(head);
    let _ = r.bytes(12);
    let body_len = r.u64().ok_or(SnapshotError::Truncated)?;
    let need = usize::try_from(body_len)
        .ok()
        .and_then(|b| b.checked_add(TAG_BYTES))
        .unwrap_or(usize::MAX);
    if rest.len() < need {
        return Err(SnapshotError::Truncated);
    }
    if rest.len() > need {
        return Err(SnapshotError::Tampered);
    }
    let key_check = r.array::<16>().ok_or(SnapshotError::Truncated)?;
    if !bool::from(key_check.ct_eq(&key.key_check())) {
        return Err(SnapshotError::WrongKey);
    }
    let mut h = Header {
        body_len,
        nonce: r.array::<24>().ok_or(SnapshotError::Truncated)?,
        written_wall_ms: r.u64().ok_or(SnapshotError::Truncated)?,
        capacity: r.u32().ok_or(SnapshotError::Truncated)?,
        pool_bytes: r.u32().ok_or(SnapshotError::Truncated)?,
        max_payload: r.u32().ok_or(SnapshotError::Truncated)?,
        token_bytes: r.u8().ok_or(SnapshotError::Truncated)?,
        sessions: 0,
        tombstones: 0,
    };
    let pad = r.bytes(3).ok_or(SnapshotError::Truncated)?;
    let pad_ok = pad == [0; 3];
    h.sessions = r.u32().ok_or(SnapshotError::Truncated)?;
    h.tombstones = r.u32().ok_or(SnapshotError::Truncated)?;
    let (body, tag) = rest.split_at_mut(need - TAG_BYTES);
    let tag: [u8; TAG_BYTES] = (&*tag).try_into().map_err(|_| SnapshotError::Truncated)?;
    let opened =
        key.cipher()
            .decrypt_inout_detached(&h.nonce.into(), &head[..], body.into(), &tag.into());
    if opened.is_err() {
        body.zeroize();
        return Err(SnapshotError::Tampered);
    }
    if !pad_ok {
        body.zeroize();
        return Err(SnapshotError::Corrupt);
    }
    Ok((h, body))
}

/// Sequential little-endian writes into a buffer sized beforehand. Never panics: a write
/// past the end is dropped and remembered, and [`Writer::done`] reports it.
pub(crate) struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
    overflow: bool,
}

impl<'b> Writer<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Writer<'b> {
        Writer {
            buf,
            at: 0,
            overflow: false,
        }
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        match self.buf.get_mut(self.at..self.at + b.len()) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.at += b.len();
            }
            None => self.overflow = true,
        }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// Bytes written, if every write fit.
    pub(crate) fn done(&self) -> Option<usize> {
        (!self.overflow).then_some(self.at)
    }
}

/// Sequential little-endian reads; `None` past the end.
pub(crate) struct Reader<'b> {
    buf: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    pub(crate) fn new(buf: &'b [u8]) -> Reader<'b> {
        Reader { buf, at: 0 }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'b [u8]> {
        let b = self.buf.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(b)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// True when every byte has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.at == self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(body: &[u8]) -> ([u8; 200], usize) {
        let mut file = [0u8; 200];
        let len = file_len(body.len());
        file[HEADER_BYTES..HEADER_BYTES + body.len()].copy_from_slice(body);
        let mut h = Header::of(&Config::default());
        h.body_len = body.len() as u64;
        h.nonce = [7; 24];
        h.written_wall_ms = 1_000;
        seal(&mut file[..len], &h, &Key::new(&[1; 32]).unwrap()).unwrap();
        (file, len)
    }

    #[test]
    fn a_sealed_file_opens_under_its_key_only() {
        let (mut file, len) = sealed(b"hello, body");
        assert_eq!(&file[..8], b"SESSILE\x1a");
        assert!(
            !file.windows(11).any(|w| w == b"hello, body"),
            "body not encrypted"
        );
        let mut copy = file;
        assert_eq!(
            open(&mut copy[..len], &Key::new(&[2; 32]).unwrap()).map(|_| ()),
            Err(SnapshotError::WrongKey)
        );
        let (h, body) = open(&mut file[..len], &Key::new(&[1; 32]).unwrap()).unwrap();
        assert_eq!(body, b"hello, body");
        assert_eq!((h.written_wall_ms, h.body_len), (1_000, 11));
    }

    #[test]
    fn every_changed_byte_and_every_cut_is_refused() {
        let (file, len) = sealed(b"some body bytes");
        let key = Key::new(&[1; 32]).unwrap();
        for i in 0..len {
            let mut f = file;
            f[i] ^= 0x01;
            let got = open(&mut f[..len], &key).map(|_| ()).unwrap_err();
            let want = match i {
                0..8 => SnapshotError::NotASnapshot,
                // The format version and the keyed digests' field.
                8..12 => SnapshotError::UnknownVersion,
                // A longer body length claims bytes the file lacks; a shorter one leaves
                // bytes over.
                12..20 if f[i] > file[i] => SnapshotError::Truncated,
                12..20 => SnapshotError::Tampered,
                20..36 => SnapshotError::WrongKey,
                _ => SnapshotError::Tampered,
            };
            assert_eq!(got, want, "byte {i}");
        }
        for cut in 0..len {
            let mut f = file;
            let got = open(&mut f[..cut], &key).map(|_| ()).unwrap_err();
            assert_eq!(got, SnapshotError::Truncated, "cut at {cut}");
        }
        let mut longer = [0u8; 201];
        longer[..len].copy_from_slice(&file[..len]);
        assert_eq!(
            open(&mut longer[..len + 1], &key).map(|_| ()),
            Err(SnapshotError::Tampered)
        );
    }

    #[test]
    fn keys_must_be_32_bytes_and_set() {
        assert!(Key::new(&[1; 32]).is_ok());
        for bad in [&[1u8; 31][..], &[1; 33], &[], &[0; 32]] {
            assert_eq!(Key::new(bad).err(), Some(SnapshotError::Key));
        }
    }
}
