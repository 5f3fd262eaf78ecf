//! Fork safety: every engine of the process, reseeded in a forked child (through
//! [`Backend::reseed`], for either store).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use pyo3::prelude::*;

use sessile::StoreError;
use sessile_backend::{Backend, StoreMut};

use crate::errors::raise;

/// An engine as the at-fork hook sees it: its store (this process's table, or a shared
/// Redis/Valkey store, whose forked child also makes its own connection).
pub(crate) struct Registered {
    pub(crate) backend: Backend,
    /// Calls on it running with the GIL released. Only these can hold its lock while
    /// another thread forks; in the child no thread will ever release that lock.
    pub(crate) detached: AtomicUsize,
    /// Set in a forked child when a detached call held (or was about to take) the lock at
    /// the fork: the lock is never released here, so every call fails instead of waiting
    /// for ever.
    orphaned: AtomicBool,
}

/// Every engine of the process, for [`reseed_after_fork`]; weak, so an engine is freed when
/// Python drops it. Only touched with the GIL held and never across a GIL release, so no
/// thread holds this lock when another (holding the GIL) forks.
static ENGINES: Mutex<Vec<Weak<Registered>>> = Mutex::new(Vec::new());

impl Registered {
    pub(crate) fn new(backend: Backend) -> Arc<Registered> {
        let it = Arc::new(Registered {
            backend,
            detached: AtomicUsize::new(0),
            orphaned: AtomicBool::new(false),
        });
        let mut all = ENGINES.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&it));
        it
    }

    /// Run `f` on the store: a shared store's calls (round trips to Redis, up to its
    /// timeouts) with the GIL released, so the process's other threads run meanwhile
    /// ([`Registered::run_detached`]); the in-process table's with the GIL held (a lock
    /// and memory only: cheaper than handing the GIL over).
    #[inline]
    pub(crate) fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut StoreMut<'_>) -> R + Send,
    ) -> PyResult<R> {
        if self.backend.is_shared() {
            self.run_detached(py, f)
        } else {
            self.usable(py)?;
            Ok(self.backend.with(f))
        }
    }

    /// `StoreUnavailable` in a forked child whose parent had another thread in a call on
    /// this engine at the fork (see [`reseed_after_fork`]).
    fn usable(&self, py: Python<'_>) -> PyResult<()> {
        if self.orphaned.load(Ordering::SeqCst) {
            return Err(raise(
                py,
                "StoreUnavailable",
                "this engine was in use by another thread when the process forked, so its \
                 lock is never released in this child: build a new Engine here (or fork \
                 before serving, as gunicorn's master does)"
                    .into(),
                Some(StoreError::Unavailable.code()),
            ));
        }
        Ok(())
    }

    /// Run `f` on the store with the GIL released, for calls whose cost grows with
    /// capacity or that wait for a shared store, counted in `detached` meanwhile (see
    /// [`reseed_after_fork`]).
    pub(crate) fn run_detached<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut StoreMut<'_>) -> R + Send,
    ) -> PyResult<R> {
        self.usable(py)?;
        struct Counted<'a>(&'a AtomicUsize);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.detached.fetch_add(1, Ordering::SeqCst);
        let _counted = Counted(&self.detached);
        Ok(py.detach(|| self.backend.with(f)))
    }
}

/// Reseed every engine of the process from the OS: `sessile/__init__.py` registers it with
/// `os.register_at_fork(after_in_child=...)`. The fork guard already reseeds an engine
/// before a child's first token when the pid changed (and covers forks Python does not
/// see, from C code); this also covers a child whose pid equals its parent's (pid 1
/// forking into a new pid namespace, where the child is pid 1 too) and reseeds at once.
/// Skipped, and left to the guard, are engines whose lock a detached call held at the fork
/// (a sweep or revocation of the in-process table, or any call waiting for a shared
/// store, in another thread: that lock is never released in the child, so every call on
/// that engine there raises `StoreUnavailable` instead of waiting for ever; fork before
/// serving, as gunicorn's master does), and
/// engines when the OS gives no entropy (the guard then fails closed, `EntropyError`).
#[pyfunction]
#[pyo3(name = "_reseed_after_fork")]
pub(crate) fn reseed_after_fork() {
    let engines: Vec<Arc<Registered>> = ENGINES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for e in engines {
        if e.detached.load(Ordering::SeqCst) == 0 {
            let _ = e.backend.reseed();
        } else {
            e.orphaned.store(true, Ordering::SeqCst);
        }
    }
}
