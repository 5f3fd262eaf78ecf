//! The `std` layer every binding uses: one engine behind a mutex, seeded from the OS,
//! with a monotonic millisecond clock, reseeded automatically in a forked child, and
//! snapshot files written atomically.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use zeroize::Zeroize;

use crate::config::Config;
use crate::engine::{Engine, ForkGuard};
use crate::error::Error;
use crate::snapshot::{Clocks, Restored};
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

    /// This engine's clock and the wall clock, now: what a snapshot or a restore takes.
    pub fn clocks(&self) -> Clocks {
        Clocks {
            now_ms: self.now_ms(),
            wall_ms: wall_ms(),
        }
    }

    /// Write a snapshot of the engine to `path` (see [`Engine::snapshot_into`]), atomically:
    /// a reader of `path` finds the previous snapshot or this one, never part of one
    /// ([`write_atomically`]). The engine is locked while the snapshot is made, not while
    /// it is written out. Returns the file's length.
    pub fn snapshot_to(&self, path: &Path, key: &[u8], at: Clocks) -> Result<usize, FileError> {
        let bytes = self.with(|e| e.snapshot(key, at))?;
        write_atomically(path, &bytes)?;
        Ok(bytes.len())
    }

    /// Restore the snapshot at `path` into this engine, which must hold nothing yet (see
    /// [`Engine::restore_from`]; on any error the engine holds nothing, and works).
    pub fn restore_from(
        &self,
        path: &Path,
        key: &[u8],
        at: Clocks,
        max_age_ms: u64,
    ) -> Result<Restored, FileError> {
        let mut bytes = std::fs::read(path)?;
        let done = self.with(|e| e.restore_from(&mut bytes, key, at, max_age_ms));
        bytes.zeroize();
        Ok(done?)
    }
}

/// Why a snapshot file could not be written or restored: the file system's error, or the
/// engine's (a refused snapshot is `Engine(Error::Snapshot(..))`).
#[derive(Debug)]
pub enum FileError {
    /// Reading or writing the file failed.
    Io(std::io::Error),
    /// The engine refused (see [`Error::Snapshot`]).
    Engine(Error),
}

impl From<std::io::Error> for FileError {
    fn from(e: std::io::Error) -> Self {
        FileError::Io(e)
    }
}

impl From<Error> for FileError {
    fn from(e: Error) -> Self {
        FileError::Engine(e)
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Io(e) => write!(f, "snapshot file: {e}"),
            FileError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FileError {}

/// Milliseconds since the Unix epoch by the system's wall clock (0 for a clock set
/// before 1970).
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Replace the file at `path` with `bytes` so that no reader, and no crash, ever sees a
/// part of them: write a new file beside it (readable by its owner only), flush it to
/// the disk, rename it over `path`, flush the directory. On error `path` is unchanged
/// and the temporary file removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    temp.push(format!(".{}.{serial}.tmp", std::process::id()));
    let temp = dir.join(temp);
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
        return written;
    }
    // The rename is durable once the directory is flushed (best effort: not every
    // platform lets a directory be opened).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
