"""sessile: audited, allocation-bounded server-side web sessions.

The engine is written once in Rust (``sessile._native``); this package adds JSON helpers,
logging of security events and framework glue (:mod:`sessile.flask`, :mod:`sessile.django`,
:mod:`sessile.starlette`).

Sessions live in this process's table by default, or in a Redis or Valkey server shared
by every worker and host (``Engine(store="redis://...", store_key=...)``; see
docs/deploy-python.md). The API is the same over both.

Durations and times are seconds (``float``). Times are on the engine's clock: by default
a monotonic clock that starts at 0 when the engine is built (for a shared store: Unix
time, which every process compares); pass ``clock=`` (a callable returning seconds as
``int`` or ``float``) to control time in tests.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from . import _native, errors
from ._native import (
    ERROR_CODES,
    EVENT_KINDS,
    MAX_CAPACITY,
    MAX_PRINCIPAL,
    ConfigKey,
    Event,
    Session,
    Stats,
    __version__,
    config_keys,
    parse_cookie,
)
from ._native import Engine as _NativeEngine
from ._payload import dumps, loads
from .errors import (
    BufferTooSmall,
    CapacityExhausted,
    ClockError,
    ConfigError,
    CookieError,
    EntropyError,
    InvalidPrincipal,
    InvalidTimeout,
    OutOfMemory,
    PayloadTooLarge,
    PoolExhausted,
    PrincipalLimit,
    SessileError,
    SessionInvalid,
    SnapshotError,
    StaleHandle,
    StorageSize,
    StoreUnavailable,
)

__all__ = [
    "ERROR_CODES",
    "EVENT_KINDS",
    "MAX_CAPACITY",
    "MAX_PRINCIPAL",
    "BufferTooSmall",
    "CapacityExhausted",
    "ClockError",
    "ConfigError",
    "ConfigKey",
    "CookieError",
    "Engine",
    "EntropyError",
    "Event",
    "InvalidPrincipal",
    "InvalidTimeout",
    "OutOfMemory",
    "PayloadTooLarge",
    "PoolExhausted",
    "PrincipalLimit",
    "SessileError",
    "Session",
    "SessionInvalid",
    "SnapshotError",
    "StaleHandle",
    "Stats",
    "StorageSize",
    "StoreUnavailable",
    "__version__",
    "config_keys",
    "dumps",
    "errors",
    "loads",
    "parse_cookie",
    "security_log",
]

if hasattr(os, "register_at_fork"):  # absent on Windows, which has no fork
    # A forked child reseeds every engine's ID generator from the OS at once. The core's
    # fork guard reseeds an engine before a child's first token anyway; the hook also
    # covers a child whose pid equals its parent's (a fork into a new pid namespace).
    # Engines are held weakly (they are freed as usual). A process cloned with its pid
    # kept (VM snapshot, CRIU restore) is seen by neither: call Engine.reseed() there.
    os.register_at_fork(after_in_child=_native._reseed_after_fork)

#: Every security event drained from an engine is also logged here: alerts
#: (reuse of a dead token, client changes, capacity pressure) at WARNING, the rest at
#: INFO, as ``sessile-event <kind> session=<16 hex digits>`` with the :class:`Event` in
#: the record's ``sessile_event`` attribute.
security_log = logging.getLogger("sessile.security")


class Engine(_NativeEngine):
    """The session engine; see ``sessile._native.Engine`` for every operation.

    Adds JSON helpers (:meth:`read_json`, :meth:`write_json`) and logs each drained event
    on :data:`security_log`.
    """

    def read_json(self, handle: int) -> Any:
        """The payload decoded as JSON (``{}`` when empty)."""
        return loads(self.read(handle))

    def write_json(self, handle: int, obj: Any) -> None:
        """Encode ``obj`` as JSON and store it as the payload."""
        self.write(handle, dumps(obj))

    def drain_events(self) -> list[Event]:
        """Every pending event, oldest first; each is also logged on ``sessile.security``."""
        events = super().drain_events()
        for ev in events:
            security_log.log(
                logging.WARNING if ev.alert else logging.INFO,
                "sessile-event %s session=%s",
                ev.kind,
                ev.session_hex,
                extra={"sessile_event": ev},
            )
        return events

    def log_pending_events(self) -> None:
        """Drain and log events if any are pending (cheap when none are)."""
        # A shared store's counters are a round trip away; its ring is local: drain.
        if self.shared or self.events_pending:
            self.drain_events()

    @classmethod
    def restore_or_new(
        cls,
        path: str | os.PathLike[str],
        key: bytes,
        *,
        max_age: float | None = None,
        **config: Any,
    ) -> Engine:
        """The engine a snapshot at ``path`` holds (:meth:`restore`), or a new empty
        ``Engine(**config)`` when there is none yet or it is refused (tampered,
        truncated, stale, another key, ...: logged at WARNING on the ``sessile`` logger,
        never used). For one process's in-process table; a shared store keeps its own."""
        try:
            return cls.restore(path, key, max_age=max_age, **config)
        except FileNotFoundError:
            pass
        except (SnapshotError, OSError) as e:
            if isinstance(e, SnapshotError) and e.reason in (
                "snapshot_key",
                "snapshot_shared_store",
            ):
                raise  # the caller's key or config is wrong, not the file
            logging.getLogger("sessile").warning(
                "sessile: snapshot %s not used, starting empty: %r", os.fspath(path), e
            )
        return cls(**config)
