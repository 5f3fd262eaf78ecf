//! The `std` layer every binding uses: one engine behind a mutex, seeded from the OS,
//! with a monotonic millisecond clock, reseeded automatically in a forked child.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::Error;
use crate::storage::HeapStorage;

/// The engine type the bindings share.
pub type HeapEngine = Engine<HeapStorage>;

struct Inner {
    engine: HeapEngine,
    /// The process that last drew IDs; a different pid means we are a forked child.
    pid: u32,
}

/// A thread-safe engine. Every operation runs under one lock.
///
/// ```
/// use sessile::{Client, Config, shared::SharedEngine};
/// let engine = SharedEngine::new(Config::default()).unwrap();
/// let now = engine.now_ms();
/// let (token, _) = engine.with(|e| e.create(now, &Client::NONE)).unwrap();
/// assert!(engine.with(|e| e.validate(token.as_bytes(), now, &Client::NONE)).is_ok());
/// ```
pub struct SharedEngine {
    inner: Mutex<Inner>,
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
        let engine = Engine::new(config, seed)?;
        Ok(SharedEngine {
            inner: Mutex::new(Inner {
                engine,
                pid: std::process::id(),
            }),
            start: Instant::now(),
        })
    }

    /// Milliseconds on a monotonic clock since this engine was built.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The engine never panics on input; if a caller's closure did, the engine's own
        // invariants still hold between operations, so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` with the engine locked. In a forked child the generator is reseeded from
    /// the OS first, so parent and child never issue the same IDs.
    pub fn with<R>(&self, f: impl FnOnce(&mut HeapEngine) -> R) -> R {
        let mut inner = self.lock();
        let pid = std::process::id();
        if inner.pid != pid {
            // If the OS cannot give entropy we must not continue the parent's stream.
            let seed = os_seed().unwrap_or_else(|_| panic_free_fallback(&inner.engine, pid));
            inner.engine.reseed(seed);
            inner.pid = pid;
        }
        f(&mut inner.engine)
    }
}

/// Last resort when getrandom fails after fork: never the parent's stream. Mixes the pid
/// into a seed drawn from the parent's state (still distinct per child).
fn panic_free_fallback(engine: &HeapEngine, pid: u32) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&pid.to_le_bytes());
    seed[4..12].copy_from_slice(&engine.now().to_le_bytes());
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    seed[12..20].copy_from_slice(&wall.to_le_bytes());
    seed
}
