//! Where an engine's memory comes from. Every byte is sized from the config by
//! [`Layout::of`] and handed over once; the engine never asks for more.
//!
//! - [`HeapStorage`] (feature `alloc`): allocated once, at construction.
//! - [`SliceStorage`]: slices the caller owns (static arrays on a microcontroller, or
//!   memory a C caller carved up), for builds with no allocator at all.

use crate::config::Config;
use crate::event::Event;
use crate::index::{self, Cell};
use crate::pool;
use crate::slot::{Addresses, ClientDigests, Slot};
use crate::tombstone::Tombstone;
use crate::wheel::{Link, Wheel};

/// How many elements of each kind an engine with a given config needs.
///
/// ```
/// let layout = sessile::Layout::of(&sessile::Config::default());
/// assert_eq!(layout.slots, 10_000);
/// assert!(layout.bytes_per_session() <= 128);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Session records.
    pub slots: usize,
    /// Address sets ([`Addresses`]), one per slot when the config counts addresses
    /// (`max_addresses > 0`), else none: only that alarm reads them.
    pub addresses: usize,
    /// Client digests ([`ClientDigests`]), one per slot in a `narrow` build whose config
    /// watches a client fact ([`Config::watches_clients`]), else none (the default build
    /// keeps them in the slot).
    pub clients: usize,
    /// Token index cells ([`Cell`]).
    pub index: usize,
    /// Principal index cells ([`Cell`]).
    pub principals: usize,
    /// Timing wheel links.
    pub links: usize,
    /// Payload pool blocks (each [`pool::BLOCK`] bytes, plus one `u32` link).
    pub pool_blocks: usize,
    /// Tombstones.
    pub tombstones: usize,
    /// Tombstone index cells ([`Cell`]).
    pub tombstone_index: usize,
    /// Event ring entries.
    pub events: usize,
}

impl Layout {
    /// The layout a config needs. Call `config.validate()` first; for an invalid config
    /// the sizes are still computed without overflow but the engine will refuse it.
    pub fn of(config: &Config) -> Layout {
        let capacity = config.capacity.min(crate::config::MAX_CAPACITY);
        let tombstones = config.tombstone_count().min(crate::config::MAX_CAPACITY);
        Layout {
            slots: capacity as usize,
            addresses: if config.max_addresses > 0 {
                capacity as usize
            } else {
                0
            },
            clients: if cfg!(feature = "narrow") && config.watches_clients() {
                capacity as usize
            } else {
                0
            },
            index: index::cells_for(capacity, index::TOKENS),
            principals: index::cells_for(capacity, index::PRINCIPALS),
            links: Wheel::links_len(capacity as usize),
            pool_blocks: pool::blocks_for(config.pool_bytes as usize),
            tombstones: tombstones as usize,
            tombstone_index: index::cells_for(tombstones, index::TOMBSTONES),
            events: config.events.min(crate::config::MAX_CAPACITY) as usize,
        }
    }

    /// Total bytes of storage (excluding the engine struct itself).
    pub fn bytes(&self) -> usize {
        use core::mem::size_of;
        self.slots * size_of::<Slot>()
            + self.addresses * size_of::<Addresses>()
            + self.clients * size_of::<ClientDigests>()
            + (self.index + self.principals + self.tombstone_index) * size_of::<Cell>()
            + self.pool_blocks * 4
            + self.links * size_of::<Link>()
            + self.pool_blocks * pool::BLOCK
            + self.tombstones * size_of::<Tombstone>()
            + self.events * size_of::<Event>()
    }

    /// Bytes of storage per session, not counting the payload pool.
    pub fn bytes_per_session(&self) -> usize {
        (self.bytes() - self.pool_blocks * (pool::BLOCK + 4)) / self.slots.max(1)
    }
}

/// Mutable views of every region, borrowed for one operation.
pub struct Parts<'a> {
    /// Session records.
    pub slots: &'a mut [Slot],
    /// Address sets (empty unless the config counts addresses).
    pub addresses: &'a mut [Addresses],
    /// Client digests (empty unless the config watches a client fact). Only in a
    /// `narrow` build: the default build keeps them in the slot, and a server's every
    /// call lends its regions (one slice more there cost about one instruction a call).
    #[cfg(feature = "narrow")]
    pub clients: &'a mut [ClientDigests],
    /// Token index.
    pub index: &'a mut [Cell],
    /// Principal index.
    pub principals: &'a mut [Cell],
    /// Timing wheel links.
    pub links: &'a mut [Link],
    /// Payload bytes.
    pub pool: &'a mut [u8],
    /// Payload block links.
    pub pool_next: &'a mut [u32],
    /// Tombstones.
    pub tombstones: &'a mut [Tombstone],
    /// Tombstone index.
    pub tombstone_index: &'a mut [Cell],
    /// Event ring.
    pub events: &'a mut [Event],
}

impl Parts<'_> {
    #[cfg(feature = "narrow")]
    fn clients_match(&self, l: &Layout) -> bool {
        self.clients.len() == l.clients
    }

    #[cfg(not(feature = "narrow"))]
    fn clients_match(&self, l: &Layout) -> bool {
        l.clients == 0
    }

    /// True when every region has exactly the layout's size.
    pub fn matches(&self, l: &Layout) -> bool {
        self.slots.len() == l.slots
            && self.addresses.len() == l.addresses
            && self.clients_match(l)
            && self.index.len() == l.index
            && self.principals.len() == l.principals
            && self.links.len() == l.links
            && self.pool.len() == l.pool_blocks * pool::BLOCK
            && self.pool_next.len() == l.pool_blocks
            && self.tombstones.len() == l.tombstones
            && self.tombstone_index.len() == l.tombstone_index
            && self.events.len() == l.events
    }
}

/// Something that can lend the engine its regions.
pub trait Storage {
    /// All regions, mutably.
    fn parts(&mut self) -> Parts<'_>;
}

/// Storage in slices the caller owns. With this, the engine needs no allocator.
pub struct SliceStorage<'a> {
    parts: Parts<'a>,
}

impl<'a> SliceStorage<'a> {
    /// Wrap caller-owned regions; the engine checks their sizes against the config.
    pub fn new(parts: Parts<'a>) -> SliceStorage<'a> {
        SliceStorage { parts }
    }
}

impl Storage for SliceStorage<'_> {
    // Not inlined: the engine borrows the regions at every call, and each inlined copy
    // of these ten slices is about 70 bytes of code (a Cortex-M firmware's .text was
    // 1 KiB larger); one call costs a few nanoseconds.
    #[inline(never)]
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            slots: self.parts.slots,
            addresses: self.parts.addresses,
            #[cfg(feature = "narrow")]
            clients: self.parts.clients,
            index: self.parts.index,
            principals: self.parts.principals,
            links: self.parts.links,
            pool: self.parts.pool,
            pool_next: self.parts.pool_next,
            tombstones: self.parts.tombstones,
            tombstone_index: self.parts.tombstone_index,
            events: self.parts.events,
        }
    }
}

#[cfg(feature = "alloc")]
pub use heap::HeapStorage;

#[cfg(feature = "alloc")]
mod heap {
    use super::*;
    use crate::error::Error;
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    /// Storage allocated once, at construction, sized by the config.
    pub struct HeapStorage {
        slots: Box<[Slot]>,
        addresses: Box<[Addresses]>,
        #[cfg(feature = "narrow")]
        clients: Box<[ClientDigests]>,
        index: Box<[Cell]>,
        principals: Box<[Cell]>,
        links: Box<[Link]>,
        pool: Box<[u8]>,
        pool_next: Box<[u32]>,
        tombstones: Box<[Tombstone]>,
        tombstone_index: Box<[Cell]>,
        events: Box<[Event]>,
    }

    /// A region of `len` copies of `fill`, or `OutOfMemory` instead of aborting.
    fn region<T: Clone>(len: usize, fill: T) -> Result<Box<[T]>, Error> {
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| Error::OutOfMemory)?;
        v.resize(len, fill);
        Ok(v.into_boxed_slice())
    }

    impl HeapStorage {
        /// Allocate every region for `layout`. A layout too large for the machine is
        /// `Error::OutOfMemory`, never an abort.
        pub fn new(layout: &Layout) -> Result<HeapStorage, Error> {
            Ok(HeapStorage {
                slots: region(layout.slots, Slot::EMPTY)?,
                addresses: region(layout.addresses, [0; 4])?,
                #[cfg(feature = "narrow")]
                clients: region(layout.clients, [0; 2])?,
                index: region(layout.index, 0)?,
                principals: region(layout.principals, 0)?,
                links: region(layout.links, Link::UNLINKED)?,
                pool: region(layout.pool_blocks * pool::BLOCK, 0)?,
                pool_next: region(layout.pool_blocks, 0)?,
                tombstones: region(layout.tombstones, Tombstone::EMPTY)?,
                tombstone_index: region(layout.tombstone_index, 0)?,
                events: region(layout.events, Event::EMPTY)?,
            })
        }
    }

    impl Storage for HeapStorage {
        fn parts(&mut self) -> Parts<'_> {
            Parts {
                slots: &mut self.slots,
                addresses: &mut self.addresses,
                #[cfg(feature = "narrow")]
                clients: &mut self.clients,
                index: &mut self.index,
                principals: &mut self.principals,
                links: &mut self.links,
                pool: &mut self.pool,
                pool_next: &mut self.pool_next,
                tombstones: &mut self.tombstones,
                tombstone_index: &mut self.tombstone_index,
                events: &mut self.events,
            }
        }
    }
}
