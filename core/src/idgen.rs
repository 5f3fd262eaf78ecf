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

    fn refill(&mut self) {
        // With chacha20's `zeroize` feature the generator wipes its state and its
        // keystream buffer when dropped at the end of this function.
        let mut rng = ChaCha20Rng::from_seed(self.key);
        rng.fill_bytes(&mut self.key);
        rng.fill_bytes(&mut self.buf);
        self.used = 0;
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
