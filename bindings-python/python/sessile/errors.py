"""The exception hierarchy: one class per core error, each with the core's stable ``code``.

Every exception the engine raises derives from :class:`SessileError`, so
``except sessile.SessileError`` catches them all, and each class can be caught on its own.
``code`` is the core's ``Error::code()`` string (the same in every binding);
``reason`` refines it where the core has a sub-code: the ``Invalid`` code for
:class:`SessionInvalid` (``"unknown"``, ``"expired_idle"``, ``"logged_out"``, ...), the
``ConfigError`` code for :class:`ConfigError` (``"bad_value"``, ``"idle_above_absolute"``,
``"cookie_invalid_name"``, ...; ``"invalid_value"`` for a ``seed`` that is not 32 bytes),
whose ``key`` names the keyword of ``Engine(...)`` to change, the ``CookieError`` code
for :class:`CookieError` (``"header_too_long"``, ``"duplicate"``), the ``StoreError``
code for :class:`StoreUnavailable` (``"store_unavailable"``, ``"store_timeout"``, ...),
and the ``SnapshotError`` code for :class:`SnapshotError` (``"snapshot_tampered"``,
``"snapshot_stale"``, ...).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BufferTooSmall",
    "CapacityExhausted",
    "ClockError",
    "ConfigError",
    "CookieError",
    "EntropyError",
    "InvalidPrincipal",
    "InvalidTimeout",
    "OutOfMemory",
    "PayloadTooLarge",
    "PoolExhausted",
    "PrincipalLimit",
    "SessileError",
    "SessionInvalid",
    "SnapshotError",
    "StaleHandle",
    "StorageSize",
    "StoreUnavailable",
]


class SessileError(Exception):
    """Root of every sessile error."""

    code: ClassVar[str] = "sessile"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason: str | None = reason

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.args[0]!r}, code={self.code!r}, reason={self.reason!r})"
        )


class CapacityExhausted(SessileError):
    """The table is full of sessions that may not be evicted."""

    code = "capacity_exhausted"


class PoolExhausted(SessileError):
    """The payload pool has no room, even after reclaiming."""

    code = "pool_exhausted"


class PayloadTooLarge(SessileError, ValueError):
    """The payload is larger than the per-session cap (``max_payload``)."""

    code = "payload_too_large"


class InvalidPrincipal(SessileError, ValueError):
    """The principal is empty or longer than 128 bytes."""

    code = "invalid_principal"


class PrincipalLimit(SessileError):
    """The principal has its maximum number of sessions and the policy is ``refuse``."""

    code = "principal_limit"


class InvalidTimeout(SessileError, ValueError):
    """A per-session timeout is zero, negative, not finite or above the configured maximum."""

    code = "invalid_timeout"


class ConfigError(SessileError, ValueError):
    """The configuration breaks a rule; ``reason`` names the rule and ``key`` the keyword
    of ``Engine(...)`` to change (``"idle_timeout"``; ``None`` for ``seed``)."""

    code = "config"
    key: str | None = None


class SessionInvalid(SessileError):
    """The token does not name a live session; ``reason`` says why (core ``Invalid`` code)."""

    code = "session"


class StaleHandle(SessileError):
    """The handle names a session that has ended."""

    code = "stale_handle"


class CookieError(SessileError, ValueError):
    """The Cookie header could not be used; ``reason`` is ``header_too_long`` or ``duplicate``."""

    code = "cookie"


class BufferTooSmall(SessileError):
    """An output buffer is too small (not raised by this binding, which sizes its own)."""

    code = "buffer_too_small"


class StorageSize(SessileError):
    """Storage does not match the configuration (not raised by this binding)."""

    code = "storage_size"


class EntropyError(SessileError):
    """The operating system gave no entropy: when building an engine, on ``reseed()``, or
    in a forked child before its first new token (it refuses rather than issue IDs that
    could be guessed)."""

    code = "entropy"


class OutOfMemory(SessileError, MemoryError):
    """Not enough memory for the configured capacity and pool (raised by ``Engine()``)."""

    code = "out_of_memory"


class StoreUnavailable(SessileError):
    """A session store outside this process (Redis, Valkey) could not answer; ``reason``
    says how (``"store_unavailable"``, ``"store_timeout"``, ``"store_refused"``,
    ``"store_conflict"``, ``"store_corrupt"``, ``"store_config"``). Nothing was written and
    no token was taken as valid: answer the request as unavailable and try again later.
    The in-process engine never raises it."""

    code = "store"


class SnapshotError(SessileError):
    """A snapshot could not be written, or a restore refused it; ``reason`` says why:
    ``snapshot_key`` (not 32 bytes, or all zeros), ``snapshot_unrecognized``,
    ``snapshot_version``, ``snapshot_truncated``, ``snapshot_wrong_key``,
    ``snapshot_tampered``, ``snapshot_future``, ``snapshot_stale``,
    ``snapshot_does_not_fit`` (``key`` names the keyword of ``Engine(...)`` that is
    smaller than the snapshot's), ``snapshot_corrupt``, ``snapshot_not_empty``,
    ``snapshot_shared_store`` (the engine's sessions live in a shared store, which keeps
    them itself)."""

    code = "snapshot"
    key: str | None = None


class ClockError(SessileError, ValueError):
    """The injected clock returned something that is not finite, non-negative seconds.

    Binding-only: the core never reads a clock.
    """

    code = "clock"


#: Core error code -> class (every ``Error::code()`` of the core).
BY_CODE = {
    cls.code: cls
    for cls in (
        CapacityExhausted,
        PoolExhausted,
        PayloadTooLarge,
        InvalidPrincipal,
        PrincipalLimit,
        InvalidTimeout,
        ConfigError,
        SessionInvalid,
        StaleHandle,
        CookieError,
        BufferTooSmall,
        StorageSize,
        EntropyError,
        OutOfMemory,
        StoreUnavailable,
        SnapshotError,
    )
}
