//! `make bench-core`: sessile against a naive `HashMap<String, _>` session store, measured
//! in the same run. The binary (`src/main.rs`) prints the table, writes
//! `docs/bench-core.md` and draws `docs/bench-core.png`; this library holds the parts, so
//! the tests can run them at toy sizes.

pub mod alloc_count;
pub mod chart;
pub mod measure;
pub mod naive;
pub mod report;
pub mod stores;
