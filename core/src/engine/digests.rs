//! The engine's keyed digests (SipHash under a per-engine random key): session tags for
//! events, client address and user-agent digests, principal hashes. Keyed so that
//! nothing outside the process can predict or collide them, and kept together so each
//! use has its own domain byte.

use zeroize::Zeroize;

use super::State;
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

/// SipHash-1-3 of the concatenation of `parts`, a byte at a time: the same function as
/// `Sip::<1, 3>` fed the same bytes (a test checks it), in about a third of its code.
/// What 32-bit targets (the firmware) run, where every `u64` operation is several
/// instructions and speed counts less than size; 64-bit targets keep `Sip`.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(never)]
fn sip13_small(key: (u64, u64), parts: &[&[u8]]) -> u64 {
    /// `n` SipRounds over `v`.
    #[inline(never)]
    fn rounds(v: &mut [u64; 4], n: usize) {
        for _ in 0..n {
            Sip::<1, 3>::round(v);
        }
    }
    /// One message word into `v`.
    #[inline(never)]
    fn compress(v: &mut [u64; 4], m: &[u8; 8]) {
        let m = u64::from_le_bytes(*m);
        v[3] ^= m;
        rounds(v, 1);
        v[0] ^= m;
    }
    let mut v = Sip::<1, 3>::new(key).v;
    let mut m = [0u8; 8];
    let mut len = 0usize;
    for part in parts {
        for &b in *part {
            m[len % 8] = b;
            len += 1;
            if len.is_multiple_of(8) {
                compress(&mut v, &m);
                m = [0; 8];
            }
        }
    }
    m[7] = len as u8;
    compress(&mut v, &m);
    v[2] ^= 0xff;
    rounds(&mut v, 3);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// SipHash-1-3 (the rounds of Rust's `HashMap`) of the domain byte, then `part` preceded
/// by its length.
#[inline]
fn siphash(key: (u64, u64), domain: u8, part: &[u8]) -> u64 {
    let len = (part.len() as u32).to_le_bytes();
    if cfg!(target_pointer_width = "64") {
        let mut h = Sip::<1, 3>::new(key);
        h.write(&[domain]);
        h.write(&len);
        h.write(part);
        h.finish()
    } else {
        sip13_small(key, &[&[domain], &len, part])
    }
}

impl State {
    /// The tag naming a session in events and snapshots: stable across rotation, never 0
    /// (which marks an engine-wide event).
    pub(super) fn tag(&self, slot: u32, generation: u32) -> u64 {
        // SipHash-1-3 of the domain byte, the slot and the generation (9 bytes,
        // little-endian). Every validation returns a tag, so on 64-bit targets the two
        // message words are put together here, with no byte buffer and no tail loop:
        // the first 8 bytes, then the last byte under the length byte (SipHash's
        // padding). The same function as `Sip::<1, 3>` fed the bytes (a test checks it).
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
            let mut m = [0u8; 9];
            m[0] = TAG;
            m[1..5].copy_from_slice(&slot.to_le_bytes());
            m[5..].copy_from_slice(&generation.to_le_bytes());
            sip13_small(self.key, &[&m])
        };
        h.max(1)
    }

    /// A client address's digest, never 0 (which a slot holds for "not known yet").
    pub(super) fn address_hash(&self, bytes: &[u8]) -> u32 {
        (siphash(self.key, ADDRESS, bytes) as u32).max(1)
    }

    /// A user agent's digest, never 0 (which a slot holds for "not known yet").
    pub(super) fn user_agent_hash(&self, bytes: &[u8]) -> u32 {
        (siphash(self.key, USER_AGENT, bytes) as u32).max(1)
    }

    /// The principal index's key of a principal: where its cell is (`hash`) and the bits
    /// the cell keeps so a probe passes other principals' cells without reading their
    /// slots and pool bytes (`tag`).
    pub(super) fn principal_key(&self, principal: &[u8]) -> Key {
        let h = siphash(self.key, PRINCIPAL, principal);
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

    /// A session's tag is SipHash-1-3 of the domain byte, the slot and the generation,
    /// little-endian (what the 64-bit path puts together word by word and the 32-bit
    /// path byte by byte), so every target names a session alike.
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
            let mut want = Sip::<1, 3>::new(e.st.key);
            want.write(&m);
            let want = want.finish().max(1);
            assert_eq!(e.st.tag(slot, generation), want, "{slot} {generation}");
            assert_eq!(super::sip13_small(e.st.key, &[&m]).max(1), want);
        }
    }

    /// The byte-at-a-time SipHash-1-3 of 32-bit targets is `Sip::<1, 3>` of the same
    /// bytes, for every length and every split into parts (and so the same tags, client
    /// digests and principal hashes on every target: a snapshot carries the key).
    #[test]
    fn the_small_siphash_is_sip13_for_every_length_and_split() {
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let msg: std::vec::Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(151)).collect();
        // Under miri, the lengths up to two blocks and a tail (every split of each).
        let lengths = if cfg!(miri) { 18 } else { msg.len() };
        for len in 0..lengths {
            let mut want = Sip::<1, 3>::new(key);
            want.write(&msg[..len]);
            let want = want.finish();
            for split in 0..=len {
                let (a, b) = msg[..len].split_at(split);
                assert_eq!(super::sip13_small(key, &[a, b]), want, "{len} {split}");
            }
        }
    }
}
