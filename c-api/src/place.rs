//! Engines in caller memory: `sessile_engine_size` says how many bytes a config needs,
//! `sessile_engine_init` carves them into the engine struct and the regions of
//! `Layout::of(config)`. No allocator is involved, so this works in the `no_std` build.

use core::mem::{align_of, size_of};

use sessile_core::{
    Addresses, Cell, Engine, Event, Layout, Link, POOL_BLOCK, Parts, SliceStorage, Slot, Tombstone,
};
#[cfg(feature = "narrow")]
use sessile_core::ClientDigests;

use crate::boundary::{run, run_or};
use crate::config::sessile_config;
use crate::engine::{Inner, LIVE, access, seed32, sessile_engine};
use crate::result::sessile_result;

use sessile_result as R;

/// Offsets of each region from an address aligned to [`ALIGN`].
struct Plan {
    slots: usize,
    addresses: usize,
    /// Client digests: a `narrow` build keeps them beside the slots, not in them.
    #[cfg(feature = "narrow")]
    clients: usize,
    index: usize,
    principals: usize,
    links: usize,
    pool: usize,
    pool_next: usize,
    tombstones: usize,
    tombstone_index: usize,
    events: usize,
    total: usize,
}

/// The strictest alignment of anything placed in the memory.
const ALIGN: usize = max(
    max(
        max(align_of::<sessile_engine>(), align_of::<Slot>()),
        align_of::<Link>(),
    ),
    max(
        max(align_of::<Tombstone>(), align_of::<Event>()),
        align_of::<u32>(),
    ),
);
// The client digests (`narrow` only) are `u32`s, covered by the line above.
#[cfg(feature = "narrow")]
const _: () = assert!(align_of::<ClientDigests>() <= ALIGN);

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

fn take<T>(at: &mut usize, n: usize) -> Option<usize> {
    let off = at.checked_next_multiple_of(align_of::<T>())?;
    *at = off.checked_add(n.checked_mul(size_of::<T>())?)?;
    Some(off)
}

fn plan(l: &Layout) -> Option<Plan> {
    let mut at = size_of::<sessile_engine>();
    Some(Plan {
        slots: take::<Slot>(&mut at, l.slots)?,
        addresses: take::<Addresses>(&mut at, l.addresses)?,
        #[cfg(feature = "narrow")]
        clients: take::<ClientDigests>(&mut at, l.clients)?,
        index: take::<Cell>(&mut at, l.index)?,
        principals: take::<Cell>(&mut at, l.principals)?,
        links: take::<Link>(&mut at, l.links)?,
        pool: take::<u8>(&mut at, l.pool_blocks.checked_mul(POOL_BLOCK)?)?,
        pool_next: take::<u32>(&mut at, l.pool_blocks)?,
        tombstones: take::<Tombstone>(&mut at, l.tombstones)?,
        tombstone_index: take::<Cell>(&mut at, l.tombstone_index)?,
        events: take::<Event>(&mut at, l.events)?,
        total: at,
    })
}

/// Bytes `sessile_engine_init` needs for `config`, including slack for any alignment of
/// the memory handed in; 0 when `config` is NULL or invalid (ask `sessile_config_validate`
/// why) or the size does not fit in `size_t`.
///
/// # Safety
/// `config` is NULL or a valid `sessile_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_size(config: *const sessile_config) -> usize {
    run_or(0, || {
        // SAFETY: forwarded contract.
        let Ok(config) = (unsafe { crate::config::to_core(config) }) else {
            return 0;
        };
        plan(&Layout::of(&config))
            .and_then(|p| p.total.checked_add(ALIGN - 1))
            .unwrap_or(0)
    })
}

/// Fill `n` elements at `p` with `v` and lend them for the rest of the engine's life.
///
/// # Safety
/// `p` is aligned for `T`, writable for `n` elements, and not otherwise used while the
/// engine lives.
unsafe fn region<T: Copy>(p: *mut u8, n: usize, v: T) -> &'static mut [T] {
    let p = p.cast::<T>();
    for i in 0..n {
        // SAFETY: `i < n`, inside the region; `write` does not read the old bytes.
        unsafe { p.add(i).write(v) };
    }
    // SAFETY: every element was just initialised; the region is exclusively the engine's.
    unsafe { core::slice::from_raw_parts_mut(p, n) }
}

/// Build an engine inside `mem` (`len` bytes, any alignment; at least
/// `sessile_engine_size(config)`), seeded with exactly 32 bytes of entropy from the caller
/// (a hardware RNG on a microcontroller), and store its address (inside `mem`) in `*out`.
///
/// Nothing is allocated: the engine lives entirely in `mem`, which must stay valid and
/// untouched until `sessile_engine_deinit`. Such an engine is used by ONE thread at a time
/// (serialise calls yourself, or use `sessile_engine_new`, whose engine has its own lock).
/// After `fork()` the child's copy of `mem` holds the parent's generator key: with the
/// standard library (the default build) the child reseeds from the OS before its next
/// token, as a heap engine does, and issues none (`SESSILE_RESULT_ENTROPY`) if the OS has
/// no entropy to give; in the `no_std` build call `sessile_engine_reseed_with` in the
/// child. What `mem` holds while the engine lives: see "Memory" at the top of the header.
/// Errors: `STORAGE_SIZE` when `len` is too small, `INVALID_ARGUMENT` for a seed that is
/// not 32 bytes, or the config's rule; on error `mem` may have been written but `*out` is
/// not.
///
/// # Safety
/// `mem` NULL or writable for `len` bytes and not used for anything else while the engine
/// lives; `config` NULL or valid; `seed` NULL or readable for `seed_len`; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_init(
    mem: *mut core::ffi::c_void,
    len: usize,
    config: *const sessile_config,
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut sessile_engine,
) -> sessile_result {
    run(|| {
        if mem.is_null() || out.is_null() {
            return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        let (config, seed) = unsafe { (crate::config::to_core(config)?, seed32(seed, seed_len)?) };
        let layout = Layout::of(&config);
        let p = plan(&layout).ok_or(R::SESSILE_RESULT_STORAGE_SIZE)?;
        let aligned = (mem as usize)
            .checked_next_multiple_of(ALIGN)
            .ok_or(R::SESSILE_RESULT_STORAGE_SIZE)?;
        let pad = aligned - mem as usize;
        if len < pad || len - pad < p.total {
            return Err(R::SESSILE_RESULT_STORAGE_SIZE);
        }
        // SAFETY: `pad + p.total <= len`, so the aligned base and every region lie in `mem`.
        let base = unsafe { mem.cast::<u8>().add(pad) };
        // SAFETY: each region is in bounds (the plan's offsets end at `p.total`), aligned
        // (offsets are multiples of the type's alignment from a base aligned to ALIGN), and
        // disjoint from the others and from the engine struct at `base`.
        let parts = unsafe {
            Parts {
                slots: region(base.add(p.slots), layout.slots, Slot::EMPTY),
                addresses: region(base.add(p.addresses), layout.addresses, [0u16; 4]),
                #[cfg(feature = "narrow")]
                clients: region(base.add(p.clients), layout.clients, [0u32; 2]),
                index: region(base.add(p.index), layout.index, 0 as Cell),
                principals: region(base.add(p.principals), layout.principals, 0 as Cell),
                links: region(base.add(p.links), layout.links, Link::UNLINKED),
                pool: region(base.add(p.pool), layout.pool_blocks * POOL_BLOCK, 0u8),
                pool_next: region(base.add(p.pool_next), layout.pool_blocks, 0u32),
                tombstones: region(base.add(p.tombstones), layout.tombstones, Tombstone::EMPTY),
                tombstone_index: region(
                    base.add(p.tombstone_index),
                    layout.tombstone_index,
                    0 as Cell,
                ),
                events: region(base.add(p.events), layout.events, Event::EMPTY),
            }
        };
        #[cfg_attr(not(feature = "std"), allow(unused_mut))]
        let mut engine = Engine::with_storage(config, SliceStorage::new(parts), seed)?;
        // With the OS at hand, a forked child reseeds itself as a heap engine does: its
        // memory, seed included, is a copy of the parent's, so it would repeat its tokens.
        #[cfg(feature = "std")]
        engine.set_fork_guard(sessile_core::shared::fork_guard());
        let e = base.cast::<sessile_engine>();
        // SAFETY: `base` is aligned to ALIGN (>= the struct's alignment) and the plan
        // reserves `size_of::<sessile_engine>()` bytes there; `out` is non-NULL.
        unsafe {
            e.write(sessile_engine {
                magic: LIVE,
                inner: Inner::Place(engine),
            });
            out.write(e);
        }
        Ok(())
    })
}

/// End an engine built by `sessile_engine_init`. It first wipes what it held in `mem`:
/// token digests, tombstones, payloads, principals and its keys; the memory then belongs
/// to the caller again. A second call on the same memory is refused with `NOT_AN_ENGINE`;
/// a heap engine with `WRONG_ENGINE_KIND`.
///
/// # Safety
/// `engine` NULL or returned by `sessile_engine_init` on memory still owned by the caller.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_engine_deinit(engine: *mut sessile_engine) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        match unsafe { access(engine) }? {
            #[cfg(feature = "std")]
            crate::engine::Access::Heap(_) => Err(R::SESSILE_RESULT_WRONG_ENGINE_KIND),
            crate::engine::Access::Place(_) => {
                // SAFETY: live (checked) and exclusively ours (one thread at a time); the
                // value is dropped once, then marked dead so it is never dropped again.
                unsafe {
                    core::ptr::addr_of_mut!((*engine).inner).drop_in_place();
                    core::ptr::addr_of_mut!((*engine).magic).write(0);
                }
                Ok(())
            }
        }
    })
}
