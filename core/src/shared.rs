//! The `std` layer every binding uses: one engine behind a mutex, seeded from the OS,
//! with a monotonic millisecond clock, reseeded automatically in a forked child.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::config::Config;
use crate::engine::{Engine, ForkGuard};
use crate::error::Error;
use crate::storage::HeapStorage;

/// The engine type the bindings share.
pub type HeapEngine = Engine<HeapStorage>;

/// A thread-safe engine. Every operation runs under one lock. In a forked child the
/// generator is reseeded from the OS before the child's first ID (a [`ForkGuard`] keyed on
/// the process id, asked only when an operation draws randomness).
///
/// ```
/// use sessile::{Client, Config, shared::SharedEngine};
/// let engine = SharedEngine::new(Config::default()).unwrap();
/// let now = engine.now_ms();
/// let (token, _) = engine.with(|e| e.create(now, &Client::NONE)).unwrap();
/// assert!(engine.with(|e| e.validate(token.as_bytes(), now, &Client::NONE)).is_ok());
/// ```
pub struct SharedEngine {
    inner: Mutex<HeapEngine>,
    start: Instant,
}

/// 32 bytes from the operating system's CSPRNG.
pub fn os_seed() -> Result<[u8; 32], Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|_| Error::Entropy)?;
    Ok(seed)
}

impl SharedEngine {
    /// An engine seeded from the operating system.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_seed(config, os_seed()?)
    }

    /// An engine with a fixed seed: reproducible IDs, for tests and conformance vectors
    /// only. A forked child still reseeds from the OS.
    pub fn with_seed(config: Config, seed: [u8; 32]) -> Result<Self, Error> {
        let mut engine = Engine::new(config, seed)?;
        engine.set_fork_guard(ForkGuard {
            epoch: std::process::id,
            seed: child_seed,
        });
        Ok(SharedEngine {
            inner: Mutex::new(engine),
            start: Instant::now(),
        })
    }

    /// Milliseconds on a monotonic clock since this engine was built.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    #[inline]
    fn lock(&self) -> MutexGuard<'_, HeapEngine> {
        // The engine never panics on input; if a caller's closure did, the engine's own
        // invariants still hold between operations, so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` with the engine locked.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut HeapEngine) -> R) -> R {
        f(&mut self.lock())
    }
}

/// The seed of a forked child's generator: from the OS, or if the OS cannot give entropy,
/// never the parent's stream: the pid, the engine clock and the wall clock (distinct per
/// child, a last resort only).
fn child_seed(pid: u32, clock: u64) -> [u8; 32] {
    if let Ok(seed) = os_seed() {
        return seed;
    }
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&pid.to_le_bytes());
    seed[4..12].copy_from_slice(&clock.to_le_bytes());
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    seed[12..20].copy_from_slice(&wall.to_le_bytes());
    seed
}
