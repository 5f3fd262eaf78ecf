//! The engine's keyed digests (SipHash under a per-engine random key): session tags for
//! events, client address and user-agent digests, principal hashes. Keyed so that
//! nothing outside the process can predict or collide them, and kept together so each
//! use has its own domain byte.

use zeroize::Zeroize;

use super::State;
use crate::idgen::IdGen;

/// Domain bytes, one per use, so a digest made for one use never stands for another.
const TAG: u8 = 0;
const ADDRESS: u8 = 1;
const USER_AGENT: u8 = 2;
const PRINCIPAL: u8 = 3;

/// The digests' key, drawn from the engine's generator when it is built.
pub(super) fn new_key(rng: &mut IdGen) -> (u64, u64) {
    let mut k = [0u8; 16];
    rng.fill(&mut k);
    let key = (
        u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]]),
        u64::from_le_bytes([k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]]),
    );
    k.zeroize();
    key
}

#[allow(deprecated)]
fn siphash(key: (u64, u64), domain: u8, parts: &[&[u8]]) -> u64 {
    use core::hash::Hasher;
    let mut h = core::hash::SipHasher::new_with_keys(key.0, key.1);
    h.write_u8(domain);
    for part in parts {
        h.write_usize(part.len());
        h.write(part);
    }
    h.finish()
}

impl State {
    /// The tag naming a session in events and snapshots: stable across rotation, never 0
    /// (which marks an engine-wide event).
    pub(super) fn tag(&self, slot: u32, generation: u32) -> u64 {
        siphash(
            self.key,
            TAG,
            &[&slot.to_le_bytes(), &generation.to_le_bytes()],
        )
        .max(1)
    }

    /// A client address's digest, never 0 (which a slot holds for "not known yet").
    pub(super) fn address_hash(&self, bytes: &[u8]) -> u32 {
        (siphash(self.key, ADDRESS, &[bytes]) as u32).max(1)
    }

    /// A user agent's digest, never 0 (which a slot holds for "not known yet").
    pub(super) fn user_agent_hash(&self, bytes: &[u8]) -> u32 {
        (siphash(self.key, USER_AGENT, &[bytes]) as u32).max(1)
    }

    /// The principal index's hash of a principal.
    pub(super) fn principal_hash(&self, principal: &[u8]) -> u32 {
        siphash(self.key, PRINCIPAL, &[principal]) as u32
    }
}
