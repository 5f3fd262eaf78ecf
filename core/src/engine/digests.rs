//! The engine's keyed digests (SipHash under a per-engine random key): session tags for
//! events, client address and user-agent digests, principal hashes. Keyed so that
//! nothing outside the process can predict or collide them, and kept together so each
//! use has its own domain byte.

use super::State;

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
    pub(super) fn tag(&self, slot: u32, generation: u32) -> u64 {
        siphash(
            self.key,
            0,
            &[&slot.to_le_bytes(), &generation.to_le_bytes()],
        )
        .max(1)
    }

    pub(super) fn client_hash(&self, domain: u8, bytes: &[u8]) -> u32 {
        (siphash(self.key, domain, &[bytes]) as u32).max(1)
    }

    pub(super) fn principal_hash(&self, principal: &[u8]) -> u32 {
        siphash(self.key, 3, &[principal]) as u32
    }
}
