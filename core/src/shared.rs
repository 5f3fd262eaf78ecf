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
/// use sessile::{Client, Config, Store, shared::SharedEngine};
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
        Ok(Self::wrap(Engine::from_os(config)?))
    }

    /// An engine with a fixed seed: reproducible IDs, for tests and conformance vectors
    /// only. A forked child still reseeds from the OS.
    pub fn with_seed(config: Config, seed: [u8; 32]) -> Result<Self, Error> {
        let mut engine = Engine::new(config, seed)?;
        engine.set_fork_guard(fork_guard());
        Ok(Self::wrap(engine))
    }

    fn wrap(engine: HeapEngine) -> Self {
        SharedEngine {
            inner: Mutex::new(engine),
            start: Instant::now(),
        }
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

    /// Give the generator a fresh key from the OS: after the process was cloned (a VM
    /// snapshot, a CRIU restore), which the fork guard cannot see since the pid stays the
    /// same, or after its memory may have been read.
    pub fn reseed(&self) -> Result<(), Error> {
        let mut seed = os_seed()?;
        self.with(|e| e.reseed(seed));
        zeroize::Zeroize::zeroize(&mut seed);
        Ok(())
    }

    /// Run `f` with the engine locked.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut HeapEngine) -> R) -> R {
        f(&mut self.lock())
    }
}

impl HeapEngine {
    /// An engine seeded from the operating system, with the [`fork_guard`] installed: the
    /// constructor to use outside tests. (`Engine::new` takes a seed for embedders that
    /// have their own entropy source, and for reproducible tests.)
    ///
    /// ```
    /// use sessile::Store;
    /// let engine = sessile::Engine::from_os(sessile::Config::default()).unwrap();
    /// assert_eq!(engine.stats().live, 0);
    /// ```
    pub fn from_os(config: Config) -> Result<Self, Error> {
        let mut seed = os_seed()?;
        let engine = Engine::new(config, seed);
        zeroize::Zeroize::zeroize(&mut seed);
        let mut engine = engine?;
        engine.set_fork_guard(fork_guard());
        Ok(engine)
    }
}

/// The fork guard for engines in this process: keyed on the process id; a forked child
/// reseeds from the OS before its first token, and when the OS gives no entropy the
/// child's token-issuing calls fail with [`Error::Entropy`] (never a guessable seed).
/// [`SharedEngine`] installs it; engines in caller memory install it with
/// [`Engine::set_fork_guard`].
pub fn fork_guard() -> ForkGuard {
    ForkGuard {
        epoch: std::process::id,
        seed: || os_seed().ok(),
    }
}
