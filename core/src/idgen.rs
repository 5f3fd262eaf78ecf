//! The session-ID generator: ChaCha20 with fast key erasure.
//!
//! The generator keeps a 32-byte key and a buffer of keystream not yet handed out. A
//! refill runs ChaCha20 under the key from block 0 for four blocks: the first 32 bytes
//! replace the key, the other 224 fill the buffer, and the ChaCha state is wiped. Each draw
//! takes bytes from the buffer and wipes them there as it hands them out. So memory holds
//! only *future* output (the key and what is left in the buffer): a reader of the engine's
//! memory cannot regenerate a token issued before the read (the old keys are gone and
//! ChaCha20 cannot be run backwards). Tokens issued after the read stay predictable until
//! the next reseed, which is why every binding offers `reseed()`.

use chacha20::ChaCha20Rng;

use crate::chacha;
use rand_core::{Rng, SeedableRng};
use zeroize::Zeroize;

/// Most bytes one draw hands out.
pub(crate) const MAX_DRAW: usize = 32;

/// Keystream buffered per refill: four ChaCha20 blocks less the next key.
const BUFFER: usize = 4 * 64 - 32;

/// The session-ID generator: ChaCha20 with fast key erasure (see the module docs).
/// Every store issues its tokens from one ([`crate::Token::from_random`]); seed it with
/// 32 bytes of real entropy ([`crate::shared::os_seed`]), or a fixed value in tests
/// only, and replace it with a freshly seeded one in a forked child.
pub struct IdGen {
    key: [u8; 32],
    buf: [u8; BUFFER],
    /// Bytes of `buf` already handed out (and wiped).
    used: usize,
}

impl IdGen {
    /// A generator keyed by `seed`.
    pub fn from_seed(seed: [u8; 32]) -> IdGen {
        IdGen {
            key: seed,
            buf: [0; BUFFER],
            used: BUFFER,
        }
    }

    /// Rekey with `seed` in place, as [`IdGen::from_seed`] would (what the old key and
    /// buffer held is wiped), and wipe `seed`.
    pub(crate) fn reseed(&mut self, seed: &mut [u8; 32]) {
        self.key = *seed;
        self.buf.zeroize();
        self.used = BUFFER;
        seed.zeroize();
    }

    /// Fill `out` with bytes no one has seen, and wipe them from the generator.
    pub fn fill(&mut self, out: &mut [u8]) {
        for part in out.chunks_mut(MAX_DRAW) {
            self.draw(part);
        }
    }

    /// One draw of at most [`MAX_DRAW`] bytes.
    fn draw(&mut self, out: &mut [u8]) {
        if BUFFER - self.used < out.len() {
            self.refill();
        }
        let taken = &mut self.buf[self.used..self.used + out.len()];
        out.copy_from_slice(taken);
        taken.zeroize();
        self.used += out.len();
    }

    /// The next four blocks of ChaCha20 under the key: the `chacha20` crate's generator on
    /// 64-bit targets (servers: its SIMD backends), elsewhere (the firmware) the same
    /// blocks from the one ChaCha loop the token digest uses too ([`chacha::permute`]),
    /// not a second ChaCha core beside it. A test checks that both give the same bytes.
    fn refill(&mut self) {
        if cfg!(target_pointer_width = "64") {
            // With chacha20's `zeroize` feature the generator wipes its state and its
            // keystream buffer when dropped at the end of this block.
            let mut rng = ChaCha20Rng::from_seed(self.key);
            rng.fill_bytes(&mut self.key);
            rng.fill_bytes(&mut self.buf);
        } else {
            self.refill_small();
        }
        self.used = 0;
    }

    /// [`IdGen::refill`] through [`chacha::permute`]: blocks 0 to 3 of ChaCha20 with a
    /// 64-bit block counter and stream 0 (the `chacha20` crate's `ChaCha20Rng`), the first
    /// 32 bytes the next key, the rest the buffer. The input (the key's words, read
    /// straight into it) and the state are wiped after.
    #[cfg_attr(target_pointer_width = "64", allow(dead_code))]
    fn refill_small(&mut self) {
        let mut input = [0u32; 16];
        input[..4].copy_from_slice(&chacha::SIGMA);
        for (k, b) in input[4..12].iter_mut().zip(self.key.chunks_exact(4)) {
            *k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        let mut state = [0u32; 16];
        for block in 0..4 {
            input[12] = block as u32;
            state = input;
            chacha::permute(&mut state, 10);
            for (i, (w, x)) in state.iter().zip(&input).enumerate() {
                let at = 64 * block + 4 * i;
                let out = match at.checked_sub(32) {
                    None => &mut self.key[at..at + 4],
                    Some(at) => &mut self.buf[at..at + 4],
                };
                out.copy_from_slice(&w.wrapping_add(*x).to_le_bytes());
            }
        }
        input.zeroize();
        state.zeroize();
    }
}

impl Drop for IdGen {
    fn drop(&mut self) {
        self.key.zeroize();
        self.buf.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reseeding in place draws what a new generator from that seed draws, whatever was
    /// drawn before, and wipes the seed.
    #[test]
    fn reseed_is_a_new_generator() {
        let mut g = IdGen::from_seed([1; 32]);
        let mut out = [0u8; 20];
        g.fill(&mut out);
        let mut seed = [9u8; 32];
        g.reseed(&mut seed);
        assert_eq!(seed, [0; 32]);
        let mut fresh = IdGen::from_seed([9; 32]);
        for _ in 0..20 {
            let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
            g.fill(&mut a);
            fresh.fill(&mut b);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn draws_never_repeat_and_the_key_moves_at_each_refill() {
        let mut g = IdGen::from_seed([9; 32]);
        let mut seen: [[u8; 32]; 20] = [[0; 32]; 20];
        let mut keys = [[0u8; 32]; 20];
        for i in 0..20 {
            g.fill(&mut seen[i]);
            keys[i] = g.key;
        }
        for i in 0..20 {
            for j in 0..i {
                assert_ne!(seen[i], seen[j]);
            }
        }
        assert_ne!(keys[0], [9; 32]);
        assert_ne!(keys[0], keys[19]);
    }

    /// The 32-bit targets' refill gives the `chacha20` crate's stream: every byte
    /// handed out, and every key, over many refills from several seeds.
    #[test]
    fn the_small_refill_is_the_crates_generator() {
        for seed in [
            [0u8; 32],
            [9; 32],
            core::array::from_fn(|i| (i * 37 + 5) as u8),
        ] {
            let mut a = IdGen::from_seed(seed);
            let mut b = IdGen::from_seed(seed);
            let mut want = ChaCha20Rng::from_seed(seed);
            let mut first = [0u8; 32];
            want.fill_bytes(&mut first);
            // Interpreted (make test-miri), two refills: each is four ChaCha20 blocks twice.
            for _ in 0..if cfg!(miri) { 2 } else { 20 } {
                a.refill();
                b.refill_small();
                b.used = 0;
                assert_eq!(a.key, b.key);
                assert_eq!(a.buf, b.buf);
            }
            // And the first refill is the crate's stream itself: the key, then the buffer.
            let mut c = IdGen::from_seed(seed);
            c.refill_small();
            assert_eq!(c.key, first);
            let mut rest = [0u8; BUFFER];
            want.fill_bytes(&mut rest);
            assert_eq!(c.buf, rest);
        }
    }

    #[test]
    fn what_was_handed_out_is_not_left_in_the_generator() {
        let mut g = IdGen::from_seed([3; 32]);
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        g.fill(&mut a);
        g.fill(&mut b);
        for issued in [a, b] {
            assert!(!g.buf.windows(32).any(|w| w == issued));
            assert_ne!(g.key, issued);
        }
        // A reader holding the current key regenerates only what comes after the buffer.
        let mut next = IdGen::from_seed(g.key);
        let mut out = [0u8; 32];
        for _ in 0..64 {
            next.fill(&mut out);
            assert_ne!(out, a);
            assert_ne!(out, b);
        }
    }
}
