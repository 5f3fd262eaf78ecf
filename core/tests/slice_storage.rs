//! The engine with no allocator at all: every region is a caller-owned array, as on a
//! microcontroller. This file also runs with `--no-default-features` (make test-nostd),
//! where `Engine::new` and the heap do not exist, so it uses only `with_storage`.

use sessile::{
    Client, Config, ConfigError, Engine, Error, Event, Invalid, Layout, Link, Parts, SliceStorage,
    Slot, Store, Tombstone,
};

const SLOTS: usize = 8;
const CELLS: usize = 16;
const LINKS: usize = SLOTS + 6 * 64 + 1;
const BLOCKS: usize = 8;
const TOMBS: usize = 16;
const TOMB_CELLS: usize = 32;
const EVENTS: usize = 16;

fn config() -> Config {
    Config {
        capacity: SLOTS as u32,
        pool_bytes: (BLOCKS * sessile::POOL_BLOCK) as u32,
        max_payload: 256,
        tombstones: TOMBS as u32,
        events: EVENTS as u32,
        idle_timeout_ms: 1_000,
        absolute_timeout_ms: 5_000,
        // The default cap (10), unless the core is built without it (then 0: a build
        // without the `principal-cap` feature refuses a config with a cap).
        max_sessions_per_principal: if cfg!(feature = "principal-cap") {
            Config::default().max_sessions_per_principal
        } else {
            0
        },
        ..Config::default()
    }
}

struct Regions {
    slots: [Slot; SLOTS],
    /// The config counts no addresses (`max_addresses` 0): no address sets.
    addresses: [sessile::Addresses; 0],
    #[cfg(feature = "narrow")]
    clients: [sessile::ClientDigests; SLOTS],
    index: [sessile::Cell; CELLS],
    principals: [sessile::Cell; CELLS],
    links: [Link; LINKS],
    pool: [u8; BLOCKS * sessile::POOL_BLOCK],
    pool_next: [u32; BLOCKS],
    tombstones: [Tombstone; TOMBS],
    tombstone_index: [sessile::Cell; TOMB_CELLS],
    events: [Event; EVENTS],
}

impl Regions {
    fn new() -> Regions {
        // Zeroed / default contents: the engine initialises every region itself.
        Regions {
            slots: [Slot::default(); SLOTS],
            addresses: [],
            #[cfg(feature = "narrow")]
            clients: [[0; 2]; SLOTS],
            index: [0; CELLS],
            principals: [0; CELLS],
            links: [Link::UNLINKED; LINKS],
            pool: [0xAA; BLOCKS * sessile::POOL_BLOCK],
            pool_next: [0; BLOCKS],
            tombstones: [Tombstone::default(); TOMBS],
            tombstone_index: [0; TOMB_CELLS],
            events: [Event::EMPTY; EVENTS],
        }
    }

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

#[test]
fn layout_of_the_config_matches_the_arrays() {
    let l = Layout::of(&config());
    assert_eq!(
        (
            l.slots,
            l.addresses,
            l.index,
            l.principals,
            l.links,
            l.pool_blocks,
            l.tombstones,
            l.tombstone_index,
            l.events
        ),
        (
            SLOTS, 0, CELLS, CELLS, LINKS, BLOCKS, TOMBS, TOMB_CELLS, EVENTS
        )
    );
}

#[test]
fn full_lifecycle_on_caller_storage() {
    let mut regions = Regions::new();
    let mut e =
        Engine::with_storage(config(), SliceStorage::new(regions.parts()), [3; 32]).unwrap();
    let none = &Client::NONE;
    let (anon, s) = e.create(0, none).unwrap();
    e.write(s.handle, b"cart=1,2", 0).unwrap();
    let (token, s) = e.login(anon.as_bytes(), b"alice", 10).unwrap();
    assert_eq!(
        e.validate(anon.as_bytes(), 20, none),
        Err(Invalid::RotatedOut)
    );
    let mut out = [0u8; 16];
    let n = e.read(s.handle, &mut out, 20).unwrap();
    assert_eq!(&out[..n], b"cart=1,2");
    assert_eq!(e.sessions_of(b"alice", 20).count(), 1);
    // Fill the table: anonymous sessions are evicted, alice is kept.
    for t in 0..3 * SLOTS as u64 {
        e.create(30 + t, none).unwrap();
    }
    assert_eq!(e.stats().live, SLOTS as u32);
    assert!(e.validate(token.as_bytes(), 100, none).is_ok());
    e.logout(token.as_bytes(), 110).unwrap();
    assert_eq!(
        e.validate(token.as_bytes(), 120, none),
        Err(Invalid::LoggedOut)
    );
    // Everything left expires.
    assert_eq!(e.sweep(10_000), SLOTS - 1);
    assert_eq!(e.stats().live, 0);
    assert_eq!(e.stats().pool_used_bytes, 0);
}

#[test]
fn mis_sized_storage_is_a_typed_error() {
    let mut regions = Regions::new();
    let mut c = config();
    c.capacity = SLOTS as u32 + 1;
    let got = Engine::with_storage(c, SliceStorage::new(regions.parts()), [0; 32]);
    assert_eq!(got.err(), Some(Error::StorageSize));
    let mut c = config();
    c.events = 0;
    let got = Engine::with_storage(c, SliceStorage::new(regions.parts()), [0; 32]);
    assert!(matches!(got.err(), Some(Error::Config(_))));
}

/// The per-principal cap is a feature a build may leave out (a firmware short of flash);
/// such a build refuses a config that asks for a cap instead of running without one.
#[test]
fn a_cap_is_enforced_or_the_config_refused() {
    let mut regions = Regions::new();
    let mut c = config();
    c.max_sessions_per_principal = 1;
    let got = Engine::with_storage(c, SliceStorage::new(regions.parts()), [0; 32]);
    if !cfg!(feature = "principal-cap") {
        assert_eq!(
            got.err(),
            Some(Error::Config(ConfigError::BadValue {
                key: "max_sessions_per_principal"
            }))
        );
        return;
    }
    let Ok(mut e) = got else {
        panic!("a config with a cap is refused where the cap is built in");
    };
    let (a, _) = e.create(0, &Client::NONE).unwrap();
    let (a, _) = e.login(a.as_bytes(), b"alice", 1).unwrap();
    let (b, _) = e.create(2, &Client::NONE).unwrap();
    let (b, _) = e.login(b.as_bytes(), b"alice", 3).unwrap();
    // Alice's second login made room under the cap of 1: her first session is gone.
    assert_eq!(
        e.validate(a.as_bytes(), 4, &Client::NONE).unwrap_err(),
        Invalid::Evicted
    );
    assert!(e.validate(b.as_bytes(), 4, &Client::NONE).is_ok());
}
