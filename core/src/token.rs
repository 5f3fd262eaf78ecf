//! Session tokens: their text form (base64url, no padding) and the digest the table keeps.
//!
//! The table never holds a token. It holds `digest(token)`: HChaCha8 (the ChaCha core with
//! 8 rounds, no feed-forward) keyed by the token's random bytes over a fixed input, i.e. a
//! PRF evaluated at one point, truncated to 128 bits. Recovering the token from a digest is
//! a key-recovery attack on ChaCha8 from one known block, so a memory dump yields nothing
//! that can be replayed (why 8 rounds are enough: docs/SECURITY.md, "The token digest").

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::chacha;
use crate::config::MAX_TOKEN_BYTES;

/// Longest token text: 32 bytes in base64url without padding.
pub const MAX_TOKEN_CHARS: usize = 43;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Domain separation for the digest (16 bytes, HChaCha's input block). Version 2: HChaCha8
/// (version 1 was HChaCha20; a snapshot holding those digests is refused by its format
/// version).
const DIGEST_INPUT: &[u8; 16] = b"sessile digest 2";

/// Rounds of the ChaCha core in the digest (see the module docs).
pub(crate) const DIGEST_ROUNDS: usize = 8;

/// Characters of the text form of `n` random bytes (what the tests check `decode`'s
/// length rule and `encode`'s output against; `decode` checks lengths without it).
#[cfg(test)]
const fn text_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// A session token as handed to the client: URL- and cookie-safe text.
///
/// The engine returns it once, from `create`, `login` or `rotate`, and keeps only its
/// digest. It is wiped from memory when dropped.
///
/// ```
/// use sessile::Store;
/// let mut engine = sessile::Engine::from_os(sessile::Config::default()).unwrap();
/// let (token, _) = engine.create(0, &sessile::Client::NONE).unwrap();
/// assert_eq!(token.as_str().len(), 43);
/// assert!(token.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// Built a character at a time from ASCII (the alphabet's), so it is text by
    /// construction: [`Token::as_str`] needs no UTF-8 check (about 400 bytes of
    /// firmware code) and the core no `unsafe`.
    text: heapless::String<MAX_TOKEN_CHARS, u8>,
}

impl Token {
    /// The token's text.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The token's text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Appends `b`, a byte of the token alphabet (so ASCII; the mask tells the compiler
    /// it is one byte of UTF-8). The text never outgrows its capacity: every caller
    /// writes at most [`MAX_TOKEN_CHARS`].
    fn push(&mut self, b: u8) {
        let _ = self.text.push(char::from(b & 0x7f));
    }

    /// A copy of token text a store accepted (so it is short and of the token alphabet);
    /// `None` for anything else.
    pub(crate) fn copy_of(text: &[u8]) -> Option<Token> {
        if text.len() > MAX_TOKEN_CHARS || !text.iter().all(|&b| DECODE[usize::from(b)] != 0xff) {
            return None;
        }
        let mut t = Token {
            text: heapless::String::new(),
        };
        for &b in text {
            t.push(b);
        }
        Some(t)
    }

    /// The token whose random bytes are `raw` (1 to 32 bytes), in the one text form the
    /// core issues and accepts: for a store that issues tokens itself, from an
    /// [`crate::IdGen`]. `None` for any other length.
    pub fn from_random(raw: &[u8]) -> Option<Token> {
        (!raw.is_empty() && raw.len() <= usize::from(MAX_TOKEN_BYTES)).then(|| Token::encode(raw))
    }

    /// The random bytes behind the text of a token of `n` random bytes, written to
    /// `out[..n]`; false (and `out` unspecified) when `text` is no such token: a store's
    /// `Malformed`. The same strict rule the in-process table applies (one spelling
    /// per token: exact length, base64url alphabet, zero spare bits).
    pub fn decode_into(text: &[u8], n: usize, out: &mut [u8; MAX_TOKEN_BYTES as usize]) -> bool {
        decode(text, n, out)
    }

    pub(crate) fn encode(raw: &[u8]) -> Token {
        let mut t = Token {
            text: heapless::String::new(),
        };
        for chunk in raw.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                t.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]);
            }
        }
        t
    }
}

impl core::fmt::Debug for Token {
    /// Never prints the secret.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.text.as_mut_str().zeroize();
    }
}

/// Value of each base64url character, 0xff for any other byte.
const DECODE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Decode the text of a token of `n` random bytes into `out[..n]`.
///
/// Strict: exactly `text_len(n)` characters of the base64url alphabet, and the unused low
/// bits of the last character must be zero, so each token has one spelling only.
/// Table-driven, a character at a time: each adds six bits to an accumulator, and a byte
/// comes out whenever eight are waiting. A foreign character (0xff in the table) sets the
/// high bits of `bad`: its bits land in `out`, but the token is refused. (The servers'
/// path for the default length is `decode_key32`; this one serves the other lengths, the
/// firmware and stores that keep tokens themselves, where its size counts more.)
pub(crate) fn decode(text: &[u8], n: usize, out: &mut [u8; MAX_TOKEN_BYTES as usize]) -> bool {
    // A token's text is at most MAX_TOKEN_CHARS long; that its length is exactly
    // `text_len(n)` is checked at the end, with no division (see there).
    if n > out.len() || text.len() > MAX_TOKEN_CHARS {
        return false;
    }
    let mut bad = 0u8;
    // The bits not yet written out are the low `bits` bits of `acc` (fewer than 8 between
    // characters; what is shifted past 32 bits was written out already).
    let mut acc = 0u32;
    let mut bits = 0;
    let mut o = 0;
    for &c in text {
        let v = DECODE[usize::from(c)];
        bad |= v;
        acc = (acc << 6) | u32::from(v & 63);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // At most MAX_TOKEN_CHARS characters carry at most 32 bytes.
            if let Some(b) = out.get_mut(o) {
                *b = (acc >> bits) as u8;
            }
            o += 1;
        }
    }
    // The length is `text_len(n)` exactly when the characters carry `n` whole bytes and
    // leave fewer than six bits over (a length of 4k + 1 leaves six: no token has it).
    bad & 0xc0 == 0 && bits < 6 && acc & ((1 << bits) - 1) == 0 && o == n
}

/// The first 16 bytes of HChaCha8: the ChaCha state of the constants, `key` and `input`,
/// permuted by 8 rounds, words 0 to 3, little-endian. The same function as the `chacha20`
/// crate's `hchacha::<R8>` (a test checks it), written out so the compiler unrolls it and
/// inlines it into the lookup: the crate's generic version costs about twice as much per
/// call. Like the crate's, it leaves the state where the compiler put it (registers, and
/// a few stack slots the next call overwrites); the caller wipes the key bytes.
/// The key and the input come as their little-endian words (so the caller's copy of the
/// token's bytes is eight words to wipe, not 32 bytes).
///
/// On 64-bit targets (servers) its rounds are written out; elsewhere (the firmware) it
/// runs [`chacha::permute`], the loop the generator uses too.
#[inline(always)]
fn hchacha8_head(key: &[u32; 8], input: &[u32; 4]) -> Digest {
    // DIGEST_ROUNDS = 8: four double rounds. Written out on 64-bit targets (servers),
    // where unrolled they are about a third faster.
    let s = if cfg!(target_pointer_width = "64") {
        let [c0, c1, c2, c3] = chacha::SIGMA;
        let mut s = [
            c0, c1, c2, c3, key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
            input[0], input[1], input[2], input[3],
        ];
        chacha::double_round(&mut s);
        chacha::double_round(&mut s);
        chacha::double_round(&mut s);
        chacha::double_round(&mut s);
        [s[0], s[1], s[2], s[3]]
    } else {
        chacha::hchacha8_small(key, input)
    };
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&s[0].to_le_bytes());
    out[4..8].copy_from_slice(&s[1].to_le_bytes());
    out[8..12].copy_from_slice(&s[2].to_le_bytes());
    out[12..].copy_from_slice(&s[3].to_le_bytes());
    Digest(out)
}

const _: () = assert!(DIGEST_ROUNDS == 8);

/// The digest of a token of `n` random bytes, given as key words. Inlined into both
/// callers on 64-bit targets (servers: speed); one shared copy elsewhere (the firmware:
/// each inlined, unrolled copy of HChaCha8 was about 500 bytes of Cortex-M0 code).
#[cfg_attr(target_pointer_width = "64", inline(always))]
#[cfg_attr(not(target_pointer_width = "64"), inline(never))]
fn digest_words(key: &[u32; 8], n: usize) -> Digest {
    hchacha8_head(key, &digest_input(n))
}

/// HChaCha's input for a token of `n` random bytes, as little-endian words: tokens of
/// different lengths never share a digest (`n` is XORed into the label's last byte).
#[inline(always)]
fn digest_input(n: usize) -> [u32; 4] {
    const fn word(i: usize) -> u32 {
        let b = DIGEST_INPUT;
        u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
    }
    [
        word(0),
        word(1),
        word(2),
        word(3) ^ ((n as u8 as u32) << 24),
    ]
}

/// The digest of the token whose text is `text`, for tokens of `n` random bytes; `None`
/// when `text` is no such token (the strict rule of [`decode`]). The same digest as
/// [`Digest::of`] of the decoded bytes (a test checks it); the token's bytes exist only as
/// key words on the stack, wiped before returning.
///
/// On 64-bit targets (servers) the default length (32 bytes, 43 characters) is decoded
/// straight into the key words, with no byte array between, no bounds checks and no
/// loop; other lengths, and every length elsewhere (the firmware, where the second
/// decoder would cost about 250 bytes of code), go through [`decode`]. Inlined into
/// its callers on 64-bit targets, so the digest stays in registers for the lookup.
#[cfg_attr(target_pointer_width = "64", inline(always))]
#[cfg_attr(not(target_pointer_width = "64"), inline)]
pub(crate) fn digest_of_text(text: &[u8], n: usize) -> Option<Digest> {
    let mut key = [0u32; 8];
    let ok = if n == 32 && cfg!(target_pointer_width = "64") {
        decode_key32(text, &mut key)
    } else {
        decode_key(text, n, &mut key)
    };
    let d = ok.then(|| digest_words(&key, n));
    key.zeroize();
    d
}

/// [`decode`] into HChaCha's key words (the bytes zero-padded to 32, little-endian words),
/// through a byte array wiped after.
#[inline(always)]
fn decode_key(text: &[u8], n: usize, key: &mut [u32; 8]) -> bool {
    let mut raw = [0u8; MAX_TOKEN_BYTES as usize];
    let ok = decode(text, n, &mut raw);
    for (k, w) in key.iter_mut().zip(raw.chunks_exact(4)) {
        *k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
    }
    raw.zeroize();
    ok
}

/// Each character's bits at place `p` of a group of four characters (three bytes), as
/// the little-endian word of those bytes: place 0 gives the top six bits of byte 0,
/// place 1 the low two of byte 0 and the top four of byte 1, place 2 the low four of
/// byte 1 and the top two of byte 2, place 3 the low six of byte 2. A byte outside the
/// alphabet has the top byte set (which no character's bits reach), and nothing else.
const fn place_table(p: usize) -> [u32; 256] {
    let mut t = [0xff00_0000u32; 256];
    let mut i = 0;
    while i < 64 {
        let v = i as u32;
        t[ALPHABET[i] as usize] = match p {
            0 => v << 2,
            1 => (v >> 4) | ((v & 15) << 12),
            2 => ((v >> 2) << 8) | ((v & 3) << 22),
            _ => v << 16,
        };
        i += 1;
    }
    t
}

/// [`place_table`] for the four places (4 KiB; only the 64-bit decoder reads them).
static PLACES: [[u32; 256]; 4] = [
    place_table(0),
    place_table(1),
    place_table(2),
    place_table(3),
];

/// [`decode`] for 32-byte tokens, into HChaCha's key words: the same rule (exactly 43
/// characters of the alphabet, the last one's two spare bits zero).
///
/// Four characters are three bytes: one lookup per character in the table of its place
/// ([`PLACES`]) and three ORs give their little-endian word, and whether any of them was
/// foreign (the top byte). No shifts per character and one check per group: about 110
/// instructions a token where a lookup and a shift per character took about 290 (callgrind,
/// README's Benchmarks). Ten groups and three characters make the 32 bytes, shifted into
/// key words.
#[inline(always)]
fn decode_key32(text: &[u8], key: &mut [u32; 8]) -> bool {
    let Ok(t) = <&[u8; 43]>::try_from(text) else {
        return false;
    };
    let at = |place: usize, i: usize| PLACES[place][usize::from(t[i])];
    let group = |g: usize| at(0, 4 * g) | at(1, 4 * g + 1) | at(2, 4 * g + 2) | at(3, 4 * g + 3);
    let g: [u32; 10] = core::array::from_fn(group);
    // The last three characters: 18 bits, two bytes and the two spare bits (third byte).
    let tail = at(0, 40) | at(1, 41) | at(2, 42);
    // A foreign character's top byte may spill into a neighbour's bytes below; the
    // token is refused then, whatever the words hold.
    let bad = g.iter().fold(tail, |b, &w| b | w) >> 24;
    key[0] = g[0] | (g[1] << 24);
    key[1] = (g[1] >> 8) | (g[2] << 16);
    key[2] = (g[2] >> 16) | (g[3] << 8);
    key[3] = g[4] | (g[5] << 24);
    key[4] = (g[5] >> 8) | (g[6] << 16);
    key[5] = (g[6] >> 16) | (g[7] << 8);
    key[6] = g[8] | (g[9] << 24);
    key[7] = (g[9] >> 8) | (tail << 16);
    bad == 0 && tail >> 16 == 0
}

/// The digest the table keeps for a token of random bytes `raw` (1 to 32 bytes; longer
/// input is cut to 32). For the core benchmark's cost breakdown only: no store needs it.
#[doc(hidden)]
pub fn digest_of(raw: &[u8]) -> [u8; 16] {
    Digest::of(&raw[..raw.len().min(MAX_TOKEN_BYTES as usize)]).0
}

/// What the table stores in place of a token.
#[derive(Clone, Copy, Default, Debug)]
pub struct Digest(pub(crate) [u8; 16]);

impl Digest {
    /// Digest of a token's raw bytes (`raw.len()` <= 32).
    #[inline]
    pub(crate) fn of(raw: &[u8]) -> Digest {
        // The bytes zero-padded to 32, as eight little-endian key words, wiped after.
        let mut key = [0u32; 8];
        for (k, w) in raw.chunks(4).enumerate().take(8) {
            let mut b = [0u8; 4];
            b[..w.len()].copy_from_slice(w);
            key[k] = u32::from_le_bytes(b);
            b.zeroize();
        }
        let d = digest_words(&key, raw.len());
        key.zeroize();
        d
    }

    /// [`Digest::of`] of `raw[..n]` where `raw[n..]` is zero already (a new token's
    /// buffer): the key words read straight from the padded bytes, with no copy of each
    /// 4-byte group (a test checks it gives `Digest::of`'s answer).
    #[inline]
    pub(crate) fn of_padded(raw: &[u8; MAX_TOKEN_BYTES as usize], n: usize) -> Digest {
        let mut key = [0u32; 8];
        for (k, w) in key.iter_mut().zip(raw.chunks_exact(4)) {
            *k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        }
        let d = digest_words(&key, n);
        key.zeroize();
        d
    }

    /// Index hash: the digest is uniformly random already.
    pub(crate) fn hash(&self) -> u32 {
        u32::from_le_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// Other bits of the digest than [`Digest::hash`]'s, which the token index keeps
    /// beside each slot number (`engine/sessions.rs`, `Tokens`).
    pub(crate) fn tag(&self) -> u32 {
        u32::from_le_bytes([self.0[4], self.0[5], self.0[6], self.0[7]])
    }

    /// [`Digest::hash`] and [`Digest::tag`]: what the token and tombstone indexes file a
    /// digest under.
    #[inline]
    pub(crate) fn key(&self) -> crate::index::Key {
        crate::index::Key {
            hash: self.hash(),
            tag: self.tag(),
        }
    }

    /// Constant-time equality. One copy on a Cortex-M0 (`crate::THUMB1`), where the
    /// bytes are OR-ed together a byte at a time (no unaligned loads: the 128-bit form is
    /// about 150 bytes of its code at each of the token and tombstone lookups).
    #[cfg_attr(all(target_arch = "arm", not(target_has_atomic = "32")), inline(never))]
    pub(crate) fn ct_eq(&self, other: &Digest) -> bool {
        if crate::THUMB1 {
            return self.ct_eq_by_bytes(other);
        }
        // One 128-bit XOR and one constant-time test instead of 16 byte-wise ones.
        let x = u128::from_le_bytes(self.0) ^ u128::from_le_bytes(other.0);
        (x as u64 | (x >> 64) as u64).ct_eq(&0).into()
    }

    /// [`Digest::ct_eq`] a byte at a time: every byte's difference OR-ed in, no early
    /// exit, then one constant-time test.
    fn ct_eq_by_bytes(&self, other: &Digest) -> bool {
        let diff = self
            .0
            .iter()
            .zip(&other.0)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff.ct_eq(&0).into()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// The Cortex-M0's byte-wise comparison answers as the 128-bit one, for digests equal
    /// and differing in any one bit.
    #[test]
    fn ct_eq_by_bytes_is_ct_eq() {
        let a = Digest(core::array::from_fn(|i| (i as u8).wrapping_mul(73) ^ 0x5a));
        assert!(a.ct_eq(&a) && a.ct_eq_by_bytes(&a));
        for byte in 0..16 {
            for bit in 0..8 {
                let mut b = a;
                b.0[byte] ^= 1 << bit;
                assert!(!a.ct_eq(&b) && !a.ct_eq_by_bytes(&b), "{byte} {bit}");
            }
        }
    }

    /// `of_padded` of a zero-padded buffer is `of` of its first `n` bytes, at every length.
    #[test]
    fn of_padded_is_of() {
        for n in 1..=32usize {
            let mut raw = [0u8; 32];
            for (i, b) in raw[..n].iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(73) ^ 0xa5;
            }
            assert_eq!(Digest::of_padded(&raw, n).0, Digest::of(&raw[..n]).0, "{n}");
        }
    }

    #[test]
    fn round_trip_every_length() {
        for n in 1..=32usize {
            let raw: std::vec::Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let t = Token::encode(&raw);
            assert_eq!(t.as_str().len(), text_len(n));
            let mut out = [0u8; 32];
            assert!(decode(t.as_bytes(), n, &mut out), "n={n}");
            assert_eq!(&out[..n], &raw[..]);
        }
    }

    #[test]
    fn rejects_other_spellings_and_lengths() {
        let t = Token::encode(&[0xff; 32]);
        let mut out = [0u8; 32];
        assert!(decode(t.as_bytes(), 32, &mut out));
        // Last char carries 2 spare bits; setting them gives another spelling of nearly the same bytes.
        let mut alt = [0u8; 43];
        alt.copy_from_slice(t.as_bytes());
        alt[42] = b'_';
        assert!(!decode(&alt, 32, &mut out));
        assert!(!decode(&t.as_bytes()[..42], 32, &mut out));
        assert!(!decode(b"", 32, &mut out));
        let mut bad = alt;
        bad[0] = b'=';
        assert!(!decode(&bad, 32, &mut out));
        bad[0] = b'+';
        assert!(!decode(&bad, 32, &mut out));
    }

    /// decode takes exactly `text_len(n)` characters for `n` bytes, every other length
    /// refused (it checks the length without dividing).
    #[test]
    fn decode_takes_exactly_text_len_characters() {
        let text = [b'A'; 64];
        let mut out = [0u8; 32];
        for n in 0..=32 {
            for len in 0..=text.len() {
                assert_eq!(
                    decode(&text[..len], n, &mut out),
                    len == text_len(n),
                    "{n} bytes, {len} characters"
                );
            }
        }
    }

    #[test]
    fn known_encoding() {
        // RFC 4648 test vector "foobar" in base64url without padding.
        assert_eq!(Token::encode(b"foobar").as_str(), "Zm9vYmFy");
        assert_eq!(Token::encode(b"fo").as_str(), "Zm8");
        assert_eq!(Token::encode(&[0xfb, 0xff]).as_str(), "-_8");
    }

    #[test]
    fn digest_differs_by_token_and_length() {
        let a = Digest::of(&[1; 32]);
        let b = Digest::of(&[2; 32]);
        let c = Digest::of(&[1; 16]);
        assert!(!a.ct_eq(&b));
        assert!(!a.ct_eq(&c));
        assert!(a.ct_eq(&Digest::of(&[1; 32])));
    }

    #[test]
    fn digest_is_hchacha8_of_the_crate() {
        use chacha20::{R8, hchacha};
        let key: [u8; 32] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let input: [u8; 16] = core::array::from_fn(|i| (i * 13 + 5) as u8);
        let want = |out: &[u8]| -> [u8; 16] { out[..16].try_into().unwrap() };
        let words: [u32; 8] = core::array::from_fn(|i| {
            u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]])
        });
        let input_words: [u32; 4] = core::array::from_fn(|i| {
            u32::from_le_bytes([
                input[4 * i],
                input[4 * i + 1],
                input[4 * i + 2],
                input[4 * i + 3],
            ])
        });
        assert_eq!(
            hchacha8_head(&words, &input_words).0,
            want(&hchacha::<R8>(&key.into(), &input.into()))
        );
        // And Digest::of is HChaCha8 over the zero-padded token bytes and the labelled
        // input, for every token length.
        for n in 1..=32 {
            let raw: [u8; 32] =
                core::array::from_fn(|i| if i < n { (i * 29 + 1) as u8 } else { 0 });
            let mut inp = *DIGEST_INPUT;
            inp[15] ^= n as u8;
            assert_eq!(
                Digest::of(&raw[..n]).0,
                want(&hchacha::<R8>(&raw.into(), &inp.into())),
                "{n} bytes"
            );
        }
    }

    #[test]
    fn debug_hides_secret() {
        let t = Token::encode(b"secretsecret");
        assert_eq!(std::format!("{t:?}"), "Token(..)");
    }

    #[test]
    fn every_foreign_byte_at_every_position_is_rejected() {
        for n in [16usize, 17, 31, 32] {
            let good = Token::encode(&[0u8; 32][..n]);
            let mut out = [0u8; 32];
            for pos in 0..good.as_bytes().len() {
                for b in 0..=255u8 {
                    let mut text = [0u8; MAX_TOKEN_CHARS];
                    let len = good.as_bytes().len();
                    text[..len].copy_from_slice(good.as_bytes());
                    text[pos] = b;
                    let in_alphabet = ALPHABET.contains(&b);
                    let ok = decode(&text[..len], n, &mut out);
                    if !in_alphabet {
                        assert!(!ok, "n={n} pos={pos} byte={b}");
                    } else if pos + 1 < len {
                        // Any alphabet char in a non-final position decodes.
                        assert!(ok, "n={n} pos={pos} byte={b}");
                    }
                }
            }
        }
    }

    /// The engine's path from token text to digest is `Digest::of` of what `decode`
    /// gives, and refuses what `decode` refuses: at the default length (decoded straight
    /// into key words) and at others.
    #[test]
    fn digest_of_text_is_the_digest_of_the_decoded_bytes() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        // Under miri (memory checks, not arithmetic) a few tokens per length: each digest
        // is about 50 ms interpreted, and 200 per length took over three minutes.
        let per_length = if cfg!(miri) { 3 } else { 200 };
        for n in [1usize, 16, 17, 24, 31, 32] {
            for _ in 0..per_length {
                let raw: [u8; 32] = core::array::from_fn(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                });
                let t = Token::encode(&raw[..n]);
                let d = digest_of_text(t.as_bytes(), n).expect("a token");
                assert_eq!(d.0, Digest::of(&raw[..n]).0, "{n} bytes");
                // Any other length of token is refused.
                for m in [n - 1, n + 1] {
                    if (1..=32).contains(&m) && text_len(m) != text_len(n) {
                        assert!(digest_of_text(t.as_bytes(), m).is_none(), "{n} as {m}");
                    }
                }
            }
        }
        // The spare bits of the last character, a short and a long text.
        let t = Token::encode(&[0xff; 32]);
        let mut alt = [0u8; 44];
        alt[..43].copy_from_slice(t.as_bytes());
        alt[42] = b'_';
        assert!(digest_of_text(&alt[..43], 32).is_none());
        assert!(digest_of_text(&t.as_bytes()[..42], 32).is_none());
        alt[42] = t.as_bytes()[42];
        alt[43] = b'A';
        assert!(digest_of_text(&alt, 32).is_none());
        assert!(digest_of_text(b"", 32).is_none());
    }

    /// The two ways from text to key words agree on 32-byte tokens (64-bit targets take
    /// `decode_key32`, others `decode_key`, which the tests above reach only at other
    /// lengths on the host): the same words, and the same refusals.
    #[test]
    fn both_decoders_give_the_same_key_words() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        // Fewer when interpreted (make test-miri).
        for _ in 0..if cfg!(miri) { 3 } else { 500 } {
            let raw: [u8; 32] = core::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            });
            let t = Token::encode(&raw);
            let (mut a, mut b) = ([0u32; 8], [0u32; 8]);
            assert!(decode_key32(t.as_bytes(), &mut a));
            assert!(decode_key(t.as_bytes(), 32, &mut b));
            assert_eq!(a, b);
        }
        let good = Token::encode(&[0x5a; 32]);
        // Every byte at every position natively; a sample when interpreted (make test-miri).
        let step = if cfg!(miri) { 23 } else { 1 };
        for pos in 0..43 {
            for byte in (0..=255u8).step_by(step) {
                let mut text = [0u8; MAX_TOKEN_CHARS];
                text.copy_from_slice(good.as_bytes());
                text[pos] = byte;
                let (mut a, mut b) = ([0u32; 8], [0u32; 8]);
                let ok = decode_key32(&text, &mut a);
                assert_eq!(ok, decode_key(&text, 32, &mut b), "pos={pos} byte={byte}");
                if ok {
                    assert_eq!(a, b, "pos={pos} byte={byte}");
                }
            }
        }
        for len in [0usize, 42, 44] {
            let text = [b'A'; 44];
            let mut k = [0u32; 8];
            assert!(!decode_key32(&text[..len], &mut k));
            assert!(!decode_key(&text[..len], 32, &mut k));
        }
    }

    #[test]
    fn digest_of_text_refuses_every_foreign_byte_at_every_position() {
        for n in [16usize, 32] {
            let good = Token::encode(&[0x5a; 32][..n]);
            let len = good.as_bytes().len();
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut text = [0u8; MAX_TOKEN_CHARS];
                    text[..len].copy_from_slice(good.as_bytes());
                    text[pos] = b;
                    let ok = digest_of_text(&text[..len], n).is_some();
                    if !ALPHABET.contains(&b) {
                        assert!(!ok, "n={n} pos={pos} byte={b}");
                    } else if pos + 1 < len {
                        assert!(ok, "n={n} pos={pos} byte={b}");
                    }
                }
            }
        }
    }

    #[test]
    fn copy_of_keeps_alphabet_text_only() {
        // Spelled out apart from ALPHABET and DECODE, so a wrong table fails here.
        let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        for b in 0..=255u8 {
            let text = [b'A', b, b'z'];
            assert_eq!(Token::copy_of(&text).is_some(), ok(b), "byte {b}");
        }
        let long = [b'A'; MAX_TOKEN_CHARS + 1];
        assert!(Token::copy_of(&long).is_none());
        assert_eq!(
            Token::copy_of(b"ab-_9").as_ref().map(Token::as_str),
            Some("ab-_9")
        );
    }
}
