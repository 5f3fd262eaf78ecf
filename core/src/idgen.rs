//! The session-ID generator: ChaCha20 with fast key erasure.
//!
//! The generator keeps one 32-byte key and nothing else. Each draw runs ChaCha20 under
//! that key from block 0, replaces the key with the first 32 bytes of keystream and hands
//! out the bytes after them; the ChaCha state and its buffered keystream are wiped when
//! the draw ends. So the key in memory yields only *future* output: a reader of the
//! engine's memory cannot regenerate a token issued before the read (the old keys are
//! gone and ChaCha20 cannot be run backwards). Tokens issued after the read stay
//! predictable until the next reseed, which is why every binding offers `reseed()`.

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use zeroize::Zeroize;

/// Most bytes one draw hands out.
pub(crate) const MAX_DRAW: usize = 32;

/// ChaCha20 with fast key erasure (see the module docs).
pub(crate) struct IdGen {
    key: [u8; 32],
}

impl IdGen {
    pub(crate) fn from_seed(seed: [u8; 32]) -> IdGen {
        IdGen { key: seed }
    }

    /// Fill `out` (at most [`MAX_DRAW`] bytes) and erase the key that produced it.
    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        debug_assert!(out.len() <= MAX_DRAW);
        // With chacha20's `zeroize` feature the generator wipes its state and its
        // keystream buffer when dropped at the end of this function.
        let mut rng = ChaCha20Rng::from_seed(self.key);
        rng.fill_bytes(&mut self.key);
        rng.fill_bytes(out);
    }
}

impl Drop for IdGen {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_draw_replaces_the_key_and_never_repeats() {
        let mut g = IdGen::from_seed([9; 32]);
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        g.fill(&mut a);
        let key_after_a = g.key;
        g.fill(&mut b);
        assert_ne!(a, b);
        assert_ne!(key_after_a, [9; 32]);
        assert_ne!(key_after_a, g.key);
        // The new key is keystream the draw did not hand out.
        assert_ne!(&key_after_a[..], &a[..]);
    }

    #[test]
    fn the_key_left_in_memory_does_not_give_back_the_last_draw() {
        let mut g = IdGen::from_seed([3; 32]);
        let mut issued = [0u8; 32];
        g.fill(&mut issued);
        // A reader holding the current key regenerates only what comes next.
        let mut next = IdGen::from_seed(g.key);
        let mut out = [0u8; 32];
        for _ in 0..64 {
            next.fill(&mut out);
            assert_ne!(out, issued);
        }
    }
}
