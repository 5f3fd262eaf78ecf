//! The payload pool: fixed-size blocks in one byte slice, chained per session.
//!
//! Blocks rather than a general allocator: no fragmentation, O(1) free, and "does it fit"
//! is one comparison made before anything is touched, so a failed write keeps the old
//! payload. Freed blocks are wiped.

use zeroize::Zeroize;

use crate::slot::NIL;

/// Bytes per block.
pub const BLOCK: usize = 64;

/// Blocks a payload of `len` bytes occupies.
pub(crate) const fn blocks_for(len: usize) -> usize {
    len.div_ceil(BLOCK)
}

/// Free-list bookkeeping; the bytes and links live in the engine's storage.
#[derive(Debug)]
pub(crate) struct Pool {
    free_head: u32,
    free: u32,
    total: u32,
}

/// Not enough free blocks.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NoRoom;

impl Pool {
    /// Chain every block into the free list.
    pub(crate) fn new(next: &mut [u32]) -> Pool {
        let total = next.len() as u32;
        for (i, n) in next.iter_mut().enumerate() {
            *n = if i + 1 < total as usize {
                i as u32 + 1
            } else {
                NIL
            };
        }
        Pool {
            free_head: if total == 0 { NIL } else { 0 },
            free: total,
            total,
        }
    }

    pub(crate) fn free_blocks(&self) -> usize {
        self.free as usize
    }

    pub(crate) fn used_blocks(&self) -> usize {
        (self.total - self.free) as usize
    }

    fn pop(&mut self, next: &mut [u32]) -> u32 {
        let b = self.free_head;
        self.free_head = next[b as usize];
        next[b as usize] = NIL;
        self.free -= 1;
        b
    }

    /// Replace the chain at `head` (holding `old_len` bytes) with `data`, reusing its blocks.
    /// Returns the new head (NIL for empty data). On `NoRoom` nothing has changed.
    pub(crate) fn write(
        &mut self,
        bytes: &mut [u8],
        next: &mut [u32],
        head: u32,
        old_len: usize,
        data: &[u8],
    ) -> Result<u32, NoRoom> {
        let have = blocks_for(old_len);
        let need = blocks_for(data.len());
        if need > have + self.free_blocks() {
            return Err(NoRoom);
        }
        if need == 0 {
            self.release(bytes, next, head);
            return Ok(NIL);
        }
        let first = if head == NIL { self.pop(next) } else { head };
        let mut block = first;
        for (i, chunk) in data.chunks(BLOCK).enumerate() {
            let at = block as usize * BLOCK;
            bytes[at..at + chunk.len()].copy_from_slice(chunk);
            bytes[at + chunk.len()..at + BLOCK].zeroize();
            if i + 1 == need {
                break;
            }
            if next[block as usize] == NIL {
                let fresh = self.pop(next);
                next[block as usize] = fresh;
            }
            block = next[block as usize];
        }
        let rest = next[block as usize];
        next[block as usize] = NIL;
        self.release(bytes, next, rest);
        Ok(first)
    }

    /// Wipe and free a whole chain.
    pub(crate) fn release(&mut self, bytes: &mut [u8], next: &mut [u32], mut head: u32) {
        while head != NIL {
            let after = next[head as usize];
            let at = head as usize * BLOCK;
            bytes[at..at + BLOCK].zeroize();
            next[head as usize] = self.free_head;
            self.free_head = head;
            self.free += 1;
            head = after;
        }
    }
}

/// A payload's bytes, block by block (from [`crate::Store::payload`]).
pub struct Chunks<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) next: &'a [u32],
    pub(crate) block: u32,
    pub(crate) left: usize,
}

impl core::fmt::Debug for Chunks<'_> {
    /// The length only: a payload may hold secrets, and debug output ends up in logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Chunks")
            .field("remaining", &self.left)
            .finish()
    }
}

impl Chunks<'_> {
    /// Bytes not yet yielded.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// Copy the bytes into the front of `out`; the part filled, or `None` when `out` is
    /// shorter than [`Chunks::remaining`].
    pub fn copy_into(self, out: &mut [u8]) -> Option<&[u8]> {
        let len = self.left;
        let dest = out.get_mut(..len)?;
        let mut at = 0;
        for c in self {
            dest[at..at + c.len()].copy_from_slice(c);
            at += c.len();
        }
        Some(dest)
    }

    /// Whether the bytes are exactly `data`.
    pub fn eq_bytes(self, data: &[u8]) -> bool {
        if self.left != data.len() {
            return false;
        }
        let mut at = 0;
        for c in self {
            if c != &data[at..at + c.len()] {
                return false;
            }
            at += c.len();
        }
        at == data.len()
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 || self.block == NIL {
            return None;
        }
        let take = self.left.min(BLOCK);
        let at = self.block as usize * BLOCK;
        self.block = self.next[self.block as usize];
        self.left -= take;
        Some(&self.bytes[at..at + take])
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn read(bytes: &[u8], next: &[u32], head: u32, len: usize) -> Vec<u8> {
        Chunks {
            bytes,
            next,
            block: head,
            left: len,
        }
        .flatten()
        .copied()
        .collect()
    }

    #[test]
    fn write_grow_shrink_and_fail_keeps_old() {
        let mut next = vec![0u32; 4];
        let mut bytes = vec![0u8; 4 * BLOCK];
        let mut pool = Pool::new(&mut next);
        let a: Vec<u8> = (0..150).map(|i| i as u8).collect();
        let head = pool.write(&mut bytes, &mut next, NIL, 0, &a).unwrap();
        assert_eq!(pool.free_blocks(), 1);
        assert_eq!(read(&bytes, &next, head, a.len()), a);
        // 5 blocks never fit: old payload intact.
        let big = vec![9u8; 5 * BLOCK];
        assert_eq!(
            pool.write(&mut bytes, &mut next, head, a.len(), &big),
            Err(NoRoom)
        );
        assert_eq!(read(&bytes, &next, head, a.len()), a);
        // 4 blocks fit by reusing the 3 held plus the free one.
        let full = vec![7u8; 4 * BLOCK];
        let head = pool
            .write(&mut bytes, &mut next, head, a.len(), &full)
            .unwrap();
        assert_eq!(pool.free_blocks(), 0);
        assert_eq!(read(&bytes, &next, head, full.len()), full);
        let head = pool
            .write(&mut bytes, &mut next, head, full.len(), b"hi")
            .unwrap();
        assert_eq!(pool.free_blocks(), 3);
        assert_eq!(read(&bytes, &next, head, 2), b"hi");
        // Freed blocks hold no trace of the old data.
        let wiped = bytes.iter().filter(|&&b| b == 7).count();
        assert_eq!(wiped, 0);
        let head = pool.write(&mut bytes, &mut next, head, 2, b"").unwrap();
        assert_eq!(head, NIL);
        assert_eq!(pool.free_blocks(), 4);
        assert!(bytes.iter().all(|&b| b == 0));
    }
}
