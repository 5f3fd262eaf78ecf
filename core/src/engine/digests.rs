//! The engine's keyed digests under a per-engine random 128-bit key: session tags for
//! events, client address and user-agent digests, principal hashes. Keyed so that
//! nothing outside the process can predict or collide them, and kept together so each
//! use has its own domain byte.
//!
//! Two functions, one per width: SipHash-1-3 on 64-bit targets (servers: a tag is
//! computed at every validation), a cascade of HChaCha8 over the ChaCha permutation the
//! token digest and the generator link anyway on 32-bit targets (the firmware: no
//! SipHash code beside it). Both are keyed PRFs (docs/SECURITY.md, "The engine's keyed
//! digests"); their values differ, so a snapshot records which one made its client
//! digests and a build refuses the other's (`crate::snapshot::DIGESTS`).

use zeroize::Zeroize;

use super::State;
use crate::chacha;
use crate::idgen::IdGen;
use crate::index::Key;

/// Domain bytes, one per use, so a digest made for one use never stands for another.
const TAG: u8 = 0;
const ADDRESS: u8 = 1;
const USER_AGENT: u8 = 2;
const PRINCIPAL: u8 = 3;

/// The digests' key, drawn from the engine's generator when it is built.
pub(super) fn new_key(rng: &mut IdGen) -> (u64, u64) {
    let mut k = [0u8; 16];
    rng.fill(&mut k);
    let key = if crate::THUMB1 {
        (le_word(&k[..8]), le_word(&k[8..]))
    } else {
        (
            u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]]),
            u64::from_le_bytes([k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]]),
        )
    };
    k.zeroize();
    key
}

/// `u64::from_le_bytes` of `b` (8 bytes) in a loop, for a Cortex-M0 (`crate::THUMB1`):
/// the two conversions written out are about 150 bytes of its code; elsewhere (a Cortex-M4
/// loads the word in one instruction) they stay.
fn le_word(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b))
}

/// SipHash with `C` compression and `D` finalization rounds, fed as one message.
/// Written out rather than `core::hash::SipHasher` (SipHash-2-4 behind a generic `write`
/// that does not inline): a session tag cost about 600 instructions per validation
/// through it, about 60 here.
struct Sip<const C: usize, const D: usize> {
    v: [u64; 4],
    tail: u64,
    ntail: usize,
    len: usize,
}

impl<const C: usize, const D: usize> Sip<C, D> {
    #[inline(always)]
    fn new(key: (u64, u64)) -> Self {
        Sip {
            v: [
                key.0 ^ 0x736f_6d65_7073_6575,
                key.1 ^ 0x646f_7261_6e64_6f6d,
                key.0 ^ 0x6c79_6765_6e65_7261,
                key.1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            ntail: 0,
            len: 0,
        }
    }

    #[inline(always)]
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    #[inline]
    fn block(&mut self, m: u64) {
        self.v[3] ^= m;
        for _ in 0..C {
            Self::round(&mut self.v);
        }
        self.v[0] ^= m;
    }

    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len());
        while self.ntail != 0 && !bytes.is_empty() {
            self.tail |= u64::from(bytes[0]) << (8 * self.ntail);
            bytes = &bytes[1..];
            self.ntail = (self.ntail + 1) % 8;
            if self.ntail == 0 {
                let m = self.tail;
                self.tail = 0;
                self.block(m);
            }
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.block(u64::from_le_bytes(b));
        }
        for &b in words.remainder() {
            self.tail |= u64::from(b) << (8 * self.ntail);
            self.ntail += 1;
        }
    }

    /// The hash of a message already cut into its words, the last one padded (its
    /// length byte in the top byte): the blocks and the finalization, nothing else.
    #[inline(always)]
    fn of_words<const N: usize>(key: (u64, u64), words: [u64; N]) -> u64 {
        let mut h = Self::new(key);
        for w in words {
            h.block(w);
        }
        h.v[2] ^= 0xff;
        for _ in 0..D {
            Self::round(&mut h.v);
        }
        h.v[0] ^ h.v[1] ^ h.v[2] ^ h.v[3]
    }

    #[inline]
    fn finish(mut self) -> u64 {
        let m = ((self.len as u64 & 0xff) << 56) | self.tail;
        self.block(m);
        self.v[2] ^= 0xff;
        for _ in 0..D {
            Self::round(&mut self.v);
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

/// The keyed digest of 32-bit targets (the firmware), over the ChaCha permutation the
/// token digest and the generator link anyway ([`chacha::hchacha8_small`]), so that no
/// SipHash is linked beside it: a cascade of HChaCha8 (docs/SECURITY.md, "The engine's
/// keyed digests").
///
/// The message is the domain byte, the length of `msg` (`u32`, little-endian) and `msg`,
/// zero-padded to whole 16-byte blocks (at least one: a tag's 13 bytes are one block).
/// The chaining value starts as the engine's 128-bit key (its two words little-endian);
/// each block replaces it with words 0 to 3 of HChaCha8 keyed by it (zero-padded to 32
/// bytes, as the token digest keys 16-byte tokens) at the block as input. The digest is
/// the last chaining value's first two words. The length in the first block makes the
/// encoding prefix-free (no message's blocks begin another's), the inputs for which a
/// cascade of a PRF is a PRF; domain and length there keep the uses and the lengths
/// apart.
///
/// Not SipHash: a 64-bit target's digests of the same key differ (a snapshot says whose
/// they are: `crate::snapshot::DIGESTS`). Compiled on every target so that host tests
/// check it (against the `chacha20` crate's HChaCha8 and a fixed value).
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(never)]
fn chacha_small(key: (u64, u64), domain: u8, msg: &[u8]) -> u64 {
    let len = msg.len() as u32;
    // The chaining value, zero-padded to HChaCha's eight key words.
    let mut h = [
        key.0 as u32,
        (key.0 >> 32) as u32,
        key.1 as u32,
        (key.1 >> 32) as u32,
        0,
        0,
        0,
        0,
    ];
    let mut m = [u32::from(domain) | (len << 8), len >> 24, 0, 0];
    let mut at = 5;
    for &b in msg {
        m[at / 4] |= u32::from(b) << (8 * (at % 4));
        at += 1;
        if at == 16 {
            let next = chacha::hchacha8_small(&h, &m);
            h[..4].copy_from_slice(&next);
            m = [0; 4];
            at = 0;
        }
    }
    if at != 0 {
        let next = chacha::hchacha8_small(&h, &m);
        h[..4].copy_from_slice(&next);
    }
    u64::from(h[0]) | (u64::from(h[1]) << 32)
}

/// The keyed digest of the domain byte, then `part` preceded by its length: SipHash-1-3
/// (the rounds of Rust's `HashMap`) on 64-bit targets, [`chacha_small`] elsewhere.
#[inline]
fn keyed(key: (u64, u64), domain: u8, part: &[u8]) -> u64 {
    if cfg!(target_pointer_width = "64") {
        let len = (part.len() as u32).to_le_bytes();
        let mut h = Sip::<1, 3>::new(key);
        h.write(&[domain]);
        h.write(&len);
        h.write(part);
        h.finish()
    } else {
        chacha_small(key, domain, part)
    }
}

impl State {
    /// The tag naming a session in events and snapshots: stable across rotation, never 0
    /// (which marks an engine-wide event).
    pub(super) fn tag(&self, slot: u32, generation: u32) -> u64 {
        // On 64-bit targets SipHash-1-3 of the domain byte, the slot and the generation
        // (9 bytes, little-endian). Every validation returns a tag, so there the two
        // message words are put together here, with no byte buffer and no tail loop:
        // the first 8 bytes, then the last byte under the length byte (SipHash's
        // padding). The same function as `Sip::<1, 3>` fed the bytes (a test checks it).
        // Elsewhere the keyed digest of the slot and the generation (8 bytes,
        // little-endian) under the domain byte.
        let h = if cfg!(target_pointer_width = "64") {
            let (slot, generation) = (u64::from(slot), u64::from(generation));
            Sip::<1, 3>::of_words(
                self.key,
                [
                    u64::from(TAG) | (slot << 8) | (generation << 40),
                    (generation >> 24) | (9 << 56),
                ],
            )
        } else {
            let m = (u64::from(slot) | (u64::from(generation) << 32)).to_le_bytes();
            chacha_small(self.key, TAG, &m)
        };
        h.max(1)
    }

    /// A client address's digest, never 0 (which a slot holds for "not known yet").
    pub(super) fn address_hash(&self, bytes: &[u8]) -> u32 {
        (keyed(self.key, ADDRESS, bytes) as u32).max(1)
    }

    /// A user agent's digest, never 0 (which a slot holds for "not known yet").
    pub(super) fn user_agent_hash(&self, bytes: &[u8]) -> u32 {
        (keyed(self.key, USER_AGENT, bytes) as u32).max(1)
    }

    /// The principal index's key of a principal: where its cell is (`hash`) and the bits
    /// the cell keeps so a probe passes other principals' cells without reading their
    /// slots and pool bytes (`tag`).
    pub(super) fn principal_key(&self, principal: &[u8]) -> Key {
        let h = keyed(self.key, PRINCIPAL, principal);
        Key {
            hash: h as u32,
            tag: (h >> 32) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Sip;

    /// The Cortex-M0's key words are the other targets'.
    #[test]
    fn le_word_is_from_le_bytes() {
        let mut b = [0u8; 8];
        for i in 0..=255u8 {
            for (j, x) in b.iter_mut().enumerate() {
                *x = i.wrapping_mul(31).wrapping_add((j as u8).wrapping_mul(57));
            }
            assert_eq!(super::le_word(&b), u64::from_le_bytes(b));
        }
    }

    /// Fed the same bytes in any split, the written-out SipHash-2-4 is `core`'s (the
    /// reference function), so its 1-3 variant is SipHash-1-3.
    #[test]
    #[allow(deprecated)]
    fn sip24_is_cores_siphash_for_every_split() {
        use core::hash::Hasher;
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let msg: std::vec::Vec<u8> = (0..40u8).collect();
        // Under miri, the lengths up to two blocks and a tail (every split of each).
        let lengths = if cfg!(miri) { 18 } else { msg.len() };
        for len in 0..lengths {
            let mut want = core::hash::SipHasher::new_with_keys(key.0, key.1);
            want.write(&msg[..len]);
            let want = want.finish();
            for split in 0..=len {
                let mut h = Sip::<2, 4>::new(key);
                h.write(&msg[..split]);
                h.write(&msg[split..len]);
                assert_eq!(h.finish(), want, "len {len} split {split}");
            }
        }
        // The reference paper's vector: SipHash-2-4, key 00..0f, message 00..0e.
        let mut h = Sip::<2, 4>::new(key);
        h.write(&msg[..15]);
        assert_eq!(h.finish(), 0xa129_ca61_49be_45e5);
    }

    /// A session's tag is, on 64-bit targets, SipHash-1-3 of the domain byte, the slot
    /// and the generation, little-endian (what the tag puts together word by word);
    /// elsewhere the HChaCha8 cascade's digest of the slot and the generation under the
    /// tag's domain.
    #[test]
    fn the_tag_is_sip13_of_its_nine_bytes() {
        let config = crate::Config {
            capacity: 8,
            pool_bytes: 1024,
            max_payload: 512,
            ..crate::Config::default()
        };
        let e = crate::Engine::new(config, [9; 32]).unwrap();
        let mut x = 0x9e37_79b9u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let edges = [
            0,
            1,
            0xff,
            0x100,
            0x00ff_ffff,
            0x0100_0000,
            u32::MAX - 1,
            u32::MAX,
        ];
        let pairs = edges
            .iter()
            .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
            // Fewer under miri (interpreted), where the edges are what count.
            .chain((0..if cfg!(miri) { 8 } else { 200 }).map(|_| (next(), next())));
        for (slot, generation) in pairs.collect::<std::vec::Vec<_>>() {
            let mut m = [0u8; 9];
            m[0] = super::TAG;
            m[1..5].copy_from_slice(&slot.to_le_bytes());
            m[5..].copy_from_slice(&generation.to_le_bytes());
            let mut sip = Sip::<1, 3>::new(e.st.key);
            sip.write(&m);
            let want = if cfg!(target_pointer_width = "64") {
                sip.finish().max(1)
            } else {
                super::chacha_small(e.st.key, super::TAG, &m[1..]).max(1)
            };
            assert_eq!(e.st.tag(slot, generation), want, "{slot} {generation}");
        }
    }

    const KEY: (u64, u64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);

    /// The HChaCha8 cascade written from its description over the `chacha20` crate's
    /// HChaCha8, in bytes: the domain, the length, the message, zero-padded to 16-byte
    /// blocks; each block the input of HChaCha8 keyed by the chaining value (the key
    /// first, then each output's first 16 bytes, zero-padded to 32).
    fn cascade_of_the_crate(key: (u64, u64), domain: u8, msg: &[u8]) -> u64 {
        use chacha20::{R8, hchacha};
        let mut enc = std::vec![domain];
        enc.extend_from_slice(&(msg.len() as u32).to_le_bytes());
        enc.extend_from_slice(msg);
        while enc.len() % 16 != 0 {
            enc.push(0);
        }
        let mut chain = [0u8; 32];
        chain[..8].copy_from_slice(&key.0.to_le_bytes());
        chain[8..16].copy_from_slice(&key.1.to_le_bytes());
        for block in enc.chunks_exact(16) {
            let input: [u8; 16] = block.try_into().unwrap();
            let out = hchacha::<R8>(&chain.into(), &input.into());
            chain[..16].copy_from_slice(&out[..16]);
        }
        u64::from_le_bytes(chain[..8].try_into().unwrap())
    }

    fn message(len: usize) -> std::vec::Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(151).wrapping_add(7))
            .collect()
    }

    /// The 32-bit targets' digest is the cascade as described, for every length up to
    /// four blocks (each boundary: 11 bytes fill the first block, 27 the second) and
    /// every domain.
    #[test]
    fn the_small_digest_is_a_cascade_of_the_crates_hchacha8() {
        // Under miri (interpreted), the lengths on either side of a block's end.
        let (lengths, domains): (std::vec::Vec<usize>, usize) = if cfg!(miri) {
            (std::vec![0, 11, 12, 27, 28], 2)
        } else {
            ((0..60).collect(), 4)
        };
        for len in lengths {
            let msg = message(len);
            let all = [
                super::TAG,
                super::PRINCIPAL,
                super::ADDRESS,
                super::USER_AGENT,
            ];
            for domain in all.into_iter().take(domains) {
                assert_eq!(
                    super::chacha_small(KEY, domain, &msg),
                    cascade_of_the_crate(KEY, domain, &msg),
                    "domain {domain} length {len}"
                );
            }
        }
    }

    // Also computed by a separate Python spelling of HChaCha8 and the cascade, not kept.
    const TAG_7_3: u64 = 0x52b7_da4f_55da_1574;
    const EMPTY_PRINCIPAL: u64 = 0xafe7_d978_260b_66ee;
    const UA_40: u64 = 0x0322_5843_dd16_32ac;

    /// Fixed values, so that a change to the function (and so to every 32-bit target's
    /// tags, client digests and principal hashes) is noticed: a tag's 8 bytes (one
    /// block), the empty principal, and a 40-byte user agent (three blocks).
    #[test]
    fn the_small_digest_known_answers() {
        let tag = (7u64 | (3 << 32)).to_le_bytes();
        assert_eq!(super::chacha_small(KEY, super::TAG, &tag), TAG_7_3);
        assert_eq!(
            super::chacha_small(KEY, super::PRINCIPAL, b""),
            EMPTY_PRINCIPAL
        );
        assert_eq!(
            super::chacha_small(KEY, super::USER_AGENT, &message(40)),
            UA_40
        );
    }

    /// The same bytes under different domains give different digests.
    #[test]
    fn the_small_digest_separates_its_domains() {
        // Under miri (interpreted), the four domains in use at three lengths.
        let (lengths, last): (&[usize], u8) = if cfg!(miri) {
            (&[0, 11, 12], 3)
        } else {
            (&[0, 1, 4, 8, 11, 12, 16, 27, 40], 255)
        };
        for &len in lengths {
            let msg = message(len);
            let mut d: std::vec::Vec<u64> = (0..=last)
                .map(|domain| super::chacha_small(KEY, domain, &msg))
                .collect();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), usize::from(last) + 1, "length {len}");
        }
    }

    /// Every bit of the key counts: flipping any one of the 128 changes the digest of a
    /// one-block and of a three-block message.
    #[test]
    fn the_small_digest_depends_on_every_key_bit() {
        // Under miri (interpreted), one bit of every other key byte, one block.
        let (step, lengths): (usize, &[usize]) = if cfg!(miri) {
            (16, &[8])
        } else {
            (1, &[8, 40])
        };
        for &len in lengths {
            let msg = message(len);
            let base = super::chacha_small(KEY, super::PRINCIPAL, &msg);
            for bit in (0..128).step_by(step) {
                let key = if bit < 64 {
                    (KEY.0 ^ (1 << bit), KEY.1)
                } else {
                    (KEY.0, KEY.1 ^ (1 << (bit - 64)))
                };
                let d = super::chacha_small(key, super::PRINCIPAL, &msg);
                assert_ne!(d, base, "length {len} key bit {bit}");
                // About half the output bits change, not a few.
                assert!((d ^ base).count_ones() > 12, "length {len} key bit {bit}");
            }
        }
    }

    /// The length frames the message: zero padding never makes two messages one (a
    /// message and itself with zero bytes appended, every all-zero message, every
    /// prefix of a message), across the block boundaries.
    #[test]
    fn the_small_digest_frames_the_length() {
        // Under miri (interpreted), into the second block (11 bytes fill the first).
        let (most, pads) = if cfg!(miri) { (12, 1) } else { (48, 16) };
        let msg = message(most);
        let digest = |m: &[u8]| super::chacha_small(KEY, super::USER_AGENT, m);
        let mut seen = std::collections::BTreeSet::new();
        for len in 0..=most {
            let d = digest(&msg[..len]);
            assert!(seen.insert(d), "length {len}");
            if len > 0 {
                assert!(seen.insert(digest(&std::vec![0; len])), "{len} zeros");
            }
            let mut padded = msg[..len].to_vec();
            for more in 1..=pads {
                padded.push(0);
                assert_ne!(digest(&padded), d, "length {len} + {more} zeros");
            }
        }
        // 0 to `most` bytes of the message, 1 to `most` zeros: all different.
        assert_eq!(seen.len(), 2 * most + 1);
    }

    /// The two widths' functions are different functions (why a snapshot names its
    /// digests): the same key and message give other values.
    #[test]
    fn the_widths_digests_differ() {
        for len in [0, 4, 16, 40] {
            let msg = message(len);
            let len32 = (msg.len() as u32).to_le_bytes();
            let mut sip = Sip::<1, 3>::new(KEY);
            sip.write(&[super::PRINCIPAL]);
            sip.write(&len32);
            sip.write(&msg);
            assert_ne!(
                sip.finish(),
                super::chacha_small(KEY, super::PRINCIPAL, &msg)
            );
        }
    }
}
