//! Engines in caller memory: `sessile_engine_size` says how many bytes a config needs,
//! `sessile_engine_init` carves them into the engine struct and the regions of
//! `Layout::of(config)`. No allocator is involved, so this works in the `no_std` build.

use core::mem::{align_of, size_of};

#[cfg(feature = "narrow")]
use sessile_core::ClientDigests;
use sessile_core::{
    Addresses, Cell, Engine, Event, Layout, Link, POOL_BLOCK, Parts, SliceStorage, Slot, Tombstone,
};

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

/// Engines in caller memory through the C functions, as a C program on a microcontroller
/// makes them. Run in the default build (`make test-core`'s workspace tests) and, for the
/// 16-bit numbers, with `--no-default-features --features narrow` (`make test-c-nostd`).
#[cfg(test)]
mod tests {
    use core::ffi::CStr;
    use std::vec::Vec;

    use super::*;
    use crate::config::{sessile_config_init, sessile_config_set};
    use crate::engine::{
        sessile_engine_create, sessile_engine_login, sessile_engine_logout, sessile_engine_read,
        sessile_engine_validate, sessile_engine_write,
    };
    use crate::types::{sessile_client, sessile_session};

    fn config(settings: &[(&CStr, &CStr)]) -> sessile_config {
        let mut c = core::mem::MaybeUninit::<sessile_config>::uninit();
        // SAFETY: writable for the struct's size.
        let r = unsafe { sessile_config_init(c.as_mut_ptr(), size_of::<sessile_config>()) };
        assert_eq!(r, R::SESSILE_RESULT_OK);
        // SAFETY: just filled.
        let mut c = unsafe { c.assume_init() };
        for (key, value) in settings {
            // SAFETY: a valid config; key and value NUL-terminated and static.
            let r = unsafe { sessile_config_set(&mut c, key.as_ptr(), value.as_ptr()) };
            assert_eq!(r, R::SESSILE_RESULT_OK, "{key:?} = {value:?}");
        }
        c
    }

    fn size(c: &sessile_config) -> usize {
        // SAFETY: a valid config.
        unsafe { sessile_engine_size(c) }
    }

    fn client(ip: &'static [u8], user_agent: &'static [u8]) -> sessile_client {
        sessile_client {
            ip: ip.as_ptr(),
            ip_len: ip.len(),
            user_agent: user_agent.as_ptr(),
            user_agent_len: user_agent.len(),
        }
    }

    /// A small engine with both client policies on (in a `narrow` build, the client digests
    /// live in their own region), and the address alarm (the region planned before it).
    const WATCHED: &[(&CStr, &CStr)] = &[
        (c"capacity", c"64"),
        (c"pool_bytes", c"8192"),
        (c"max_payload", c"1024"),
        (c"ip_policy", c"enforce"),
        (c"user_agent_policy", c"enforce"),
        (c"max_addresses", c"2"),
    ];

    #[test]
    fn an_engine_in_caller_memory_keeps_each_sessions_client() {
        let c = config(WATCHED);
        let need = size(&c);
        assert!(need > 0);
        // Misaligned on purpose: the library aligns inside what it is given.
        let mut mem: Vec<u8> = std::vec![0xA5; need + 2];
        let (base, len) = (mem[1..].as_mut_ptr(), need);
        let mut engine = core::ptr::null_mut();
        let seed = [7u8; 32];
        // SAFETY: `len` writable bytes that outlive the engine; the rest valid.
        let r =
            unsafe { sessile_engine_init(base.cast(), len, &c, seed.as_ptr(), 32, &mut engine) };
        assert_eq!(r, R::SESSILE_RESULT_OK);

        let (alice, mallory) = (
            client(b"203.0.113.9", b"Alice"),
            client(b"198.51.100.7", b"Mallory"),
        );
        let mut session = core::mem::MaybeUninit::<sessile_session>::uninit();
        let now = 1_000;
        // One session per client; the engine must tell them apart.
        let mut tokens = [[0u8; crate::types::SESSILE_TOKEN_BUFFER]; 2];
        let mut lens = [0usize; 2];
        for (i, who) in [&alice, &mallory].into_iter().enumerate() {
            // SAFETY: a live engine; buffers of the stated sizes.
            let r = unsafe {
                sessile_engine_create(
                    engine,
                    now,
                    who,
                    tokens[i].as_mut_ptr().cast(),
                    tokens[i].len(),
                    &mut lens[i],
                    core::ptr::null_mut(),
                )
            };
            assert_eq!(r, R::SESSILE_RESULT_OK);
        }
        let validate = |token: &[u8], who: &sessile_client, out: *mut sessile_session| {
            // SAFETY: a live engine, used by this thread only; `token` readable.
            unsafe { sessile_engine_validate(engine, token.as_ptr(), token.len(), now, who, out) }
        };
        let (a, m) = (&tokens[0][..lens[0]], &tokens[1][..lens[1]]);
        assert_eq!(
            validate(a, &mallory, core::ptr::null_mut()),
            R::SESSILE_RESULT_CLIENT_MISMATCH
        );
        assert_eq!(
            validate(m, &alice, core::ptr::null_mut()),
            R::SESSILE_RESULT_CLIENT_MISMATCH
        );
        assert_eq!(
            validate(m, &mallory, core::ptr::null_mut()),
            R::SESSILE_RESULT_OK
        );

        // Login rotates the token; the session keeps its client.
        let mut token = [0u8; crate::types::SESSILE_TOKEN_BUFFER];
        let mut token_len = 0;
        // SAFETY: as above.
        let r = unsafe {
            sessile_engine_login(
                engine,
                a.as_ptr(),
                a.len(),
                b"alice".as_ptr(),
                5,
                now,
                token.as_mut_ptr().cast(),
                token.len(),
                &mut token_len,
                core::ptr::null_mut(),
            )
        };
        assert_eq!(r, R::SESSILE_RESULT_OK);
        let a = &token[..token_len];
        assert_eq!(
            validate(a, &mallory, core::ptr::null_mut()),
            R::SESSILE_RESULT_CLIENT_MISMATCH
        );
        assert_eq!(
            validate(a, &alice, session.as_mut_ptr()),
            R::SESSILE_RESULT_OK
        );
        // SAFETY: written on OK.
        let handle = unsafe { session.assume_init_ref() }.handle;

        // A payload into the pool and back.
        let payload = [0x5Au8; 1000];
        // SAFETY: as above; `payload` readable.
        let r =
            unsafe { sessile_engine_write(engine, handle, payload.as_ptr(), payload.len(), now) };
        assert_eq!(r, R::SESSILE_RESULT_OK);
        let mut back = [0u8; 1024];
        let mut back_len = 0;
        // SAFETY: as above; `back` writable.
        let r = unsafe {
            sessile_engine_read(
                engine,
                handle,
                now,
                back.as_mut_ptr(),
                back.len(),
                &mut back_len,
            )
        };
        assert_eq!(r, R::SESSILE_RESULT_OK);
        assert_eq!(&back[..back_len], &payload[..]);

        // SAFETY: as above.
        let r = unsafe { sessile_engine_logout(engine, a.as_ptr(), a.len(), now) };
        assert_eq!(r, R::SESSILE_RESULT_OK);
        assert_eq!(
            validate(a, &alice, core::ptr::null_mut()),
            R::SESSILE_RESULT_LOGGED_OUT
        );
        assert_eq!(
            validate(m, &mallory, core::ptr::null_mut()),
            R::SESSILE_RESULT_OK
        );

        // SAFETY: live, built by sessile_engine_init on `mem`.
        assert_eq!(
            unsafe { sessile_engine_deinit(engine) },
            R::SESSILE_RESULT_OK
        );
        // Nothing written outside the bytes the library was lent.
        assert_eq!((mem[0], mem[need + 1]), (0xA5, 0xA5));
    }

    /// Bytes per session of an engine in caller memory: all `sessile_engine_size` asks for
    /// but the payload pool (64 KiB and a 4-byte link per 64-byte block), over the
    /// capacity, rounded up. The default config's numbers (10,000 sessions, 1,250
    /// tombstones, 256 events), with its client policies (observe) or with none.
    fn bytes_per_session(watch_clients: bool) -> usize {
        let policy = if watch_clients { c"observe" } else { c"off" };
        let c = config(&[
            (c"pool_bytes", c"65536"),
            (c"max_payload", c"4096"),
            (c"ip_policy", policy),
            (c"user_agent_policy", policy),
        ]);
        let pool = 65_536 + 65_536 / POOL_BLOCK * size_of::<u32>();
        // SAFETY: a valid config.
        let layout = Layout::of(&unsafe { crate::config::to_core(&c) }.unwrap());
        // What the C wrapper adds is one engine struct, the slack to align the memory
        // handed in and padding between regions: under 1.3 KB whatever the capacity, not
        // a byte per session.
        let wrapper = size(&c) - layout.bytes();
        let fixed = size_of::<sessile_engine>() + ALIGN - 1;
        assert!((fixed..fixed + 11 * ALIGN).contains(&wrapper), "{wrapper}");
        assert!(wrapper < 1_300, "{wrapper}");
        (size(&c) - pool).div_ceil(10_000)
    }

    /// The default build: 97 bytes a session (a 72-byte slot that holds the client
    /// digests, 32-bit links and index cells, tombstones and events shared out).
    #[test]
    #[cfg(not(feature = "narrow"))]
    fn a_default_build_takes_97_bytes_per_session() {
        assert_eq!(bytes_per_session(true), 97);
        assert_eq!(bytes_per_session(false), 97);
    }

    /// `narrow`: 22 bytes a session less with the client digests (8 bytes, beside a
    /// 52-byte slot), 30 less without: 16-bit links and index cells.
    #[test]
    #[cfg(feature = "narrow")]
    fn a_narrow_build_takes_fewer_bytes_per_session() {
        assert_eq!(bytes_per_session(true), 75);
        assert_eq!(bytes_per_session(false), 67);
    }

    /// The limits of 16-bit numbers, refused with the core's typed errors, by
    /// `sessile_config_validate`, `sessile_engine_size` (0) and `sessile_engine_init`.
    #[test]
    #[cfg(feature = "narrow")]
    fn a_narrow_build_refuses_what_16_bits_cannot_number() {
        let over: &[(&CStr, &CStr, sessile_result)] = &[
            (c"capacity", c"65150", R::SESSILE_RESULT_CONFIG_CAPACITY),
            (c"tombstones", c"65150", R::SESSILE_RESULT_CONFIG_TOMBSTONES),
            (c"events", c"65150", R::SESSILE_RESULT_CONFIG_EVENTS),
            (
                c"pool_bytes",
                c"4194305",
                R::SESSILE_RESULT_CONFIG_BAD_VALUE,
            ),
            (c"max_payload", c"65536", R::SESSILE_RESULT_CONFIG_BAD_VALUE),
        ];
        for &(key, value, want) in over {
            let c = config(&[(key, value)]);
            // SAFETY: a valid config struct.
            assert_eq!(
                unsafe { crate::config::sessile_config_validate(&c) },
                want,
                "{key:?}"
            );
            assert_eq!(size(&c), 0, "{key:?}");
            let mut mem = [0u64; 64];
            let mut engine = core::ptr::null_mut();
            let seed = [7u8; 32];
            // SAFETY: 512 writable bytes; the rest valid.
            let r = unsafe {
                sessile_engine_init(
                    mem.as_mut_ptr().cast(),
                    512,
                    &c,
                    seed.as_ptr(),
                    32,
                    &mut engine,
                )
            };
            assert_eq!(r, want, "{key:?}");
            assert!(engine.is_null());
        }
        // The largest of each is taken.
        let at_most = config(&[
            (c"capacity", c"65149"),
            (c"tombstones", c"65149"),
            (c"events", c"65149"),
            (c"pool_bytes", c"4194304"),
            (c"max_payload", c"65535"),
        ]);
        // SAFETY: a valid config struct.
        assert_eq!(
            unsafe { crate::config::sessile_config_validate(&at_most) },
            R::SESSILE_RESULT_OK
        );
        assert!(size(&at_most) > 0);
    }
}
