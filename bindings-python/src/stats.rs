//! `Stats`: the engine's counters.

use pyo3::prelude::*;

use sessile::Stats as CoreStats;

/// Engine counters.
#[pyclass(module = "sessile._native", frozen, get_all)]
pub struct Stats {
    capacity: u32,
    live: u32,
    anonymous: u32,
    authenticated: u32,
    pool_used_bytes: u64,
    pool_total_bytes: u64,
    created: u64,
    evictions: u64,
    expirations: u64,
    revocations: u64,
    tombstones: u32,
    events_pending: u32,
    events_dropped: u64,
}

impl Stats {
    pub(crate) fn from_core(s: &CoreStats) -> Stats {
        Stats {
            capacity: s.capacity,
            live: s.live,
            anonymous: s.anonymous,
            authenticated: s.authenticated,
            pool_used_bytes: s.pool_used_bytes,
            pool_total_bytes: s.pool_total_bytes,
            created: s.created,
            evictions: s.evictions,
            expirations: s.expirations,
            revocations: s.revocations,
            tombstones: s.tombstones,
            events_pending: s.events_pending,
            events_dropped: s.events_dropped,
        }
    }
}
