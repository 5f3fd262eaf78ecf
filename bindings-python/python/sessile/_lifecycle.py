"""One request's session as the framework glue sees it, written once for Flask and ASGI.

The lifecycle is the core's (``sessile._native.Request``, over the core's
``sessile::Request``): when a session starts, when emptying it logs out, which
``Set-Cookie`` the response carries, that a login after ``clear()`` starts afresh and
that a save never lands on a session that ended, or was logged in or rotated by another
request, since this one began. What stays here is Python's part: the session dict as
JSON, and the words :mod:`sessile.flask` and :mod:`sessile.starlette` map onto it
(``modified`` is whether data is given, ``permanent`` is ``persistent``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Callable

from . import Engine, Session, dumps, loads
from ._native import Request

__all__ = [
    "SHARED_NO_SNAPSHOT",
    "STORE_UNAVAILABLE",
    "SessionState",
    "begin",
    "payload_dict",
    "write_snapshot",
]

#: The body of the 503 a request gets when the session store cannot answer.
STORE_UNAVAILABLE = "session store unavailable"

#: Why a shared engine takes no ``snapshot_path``.
SHARED_NO_SNAPSHOT = (
    "snapshot_path is for the in-process table; a shared store (store=...) keeps its "
    "sessions itself (Redis persistence: AOF)"
)

log = logging.getLogger("sessile")


def write_snapshot(engine: Engine, path: str | os.PathLike[str], key: bytes) -> None:
    """The glue's snapshot at shutdown: :meth:`Engine.snapshot`, logged."""
    engine.snapshot(path, key)
    log.info("sessile: sessions written to %s", os.fspath(path))


def begin(
    engine: Engine,
    cookie_header: str | bytes | None,
    *,
    ip: str | bytes | None = None,
    user_agent: str | bytes | None = None,
    persistent: bool | None = None,
    decode: Callable[[bytes], Any] = loads,
    encode: Callable[[dict[str, Any]], bytes] = dumps,
) -> tuple[SessionState, dict[str, Any]]:
    """The session a request's ``Cookie`` header names, and its data.

    ``data`` is the payload's JSON object, ``{}`` without a session or when the payload
    holds none (empty, written by other code, corrupt). Nothing the client sends raises.
    ``ip`` and ``user_agent`` go to the engine's client checks (and to a session this
    request starts). ``persistent`` is the response cookie's ``Max-Age`` choice (``None``:
    the engine's ``cookie_persistent``). ``decode`` / ``encode`` turn the payload into
    the dict and back (default: plain JSON; Flask passes its tagged JSON). A shared store
    that cannot answer raises :class:`sessile.StoreUnavailable` (the glue answers 503).
    """
    request, payload = engine.begin_request(cookie_header, ip=ip, user_agent=user_agent)
    data = payload_dict(payload, decode) if payload else {}
    return SessionState(engine, request, persistent, encode), data


def payload_dict(payload: bytes, decode: Callable[[bytes], Any] = loads) -> dict[str, Any]:
    """The session dict a payload holds: ``decode(payload)`` when that is a dict, else
    ``{}`` (written by other code, corrupt: nothing the client sends raises)."""
    try:
        data = decode(payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class SessionState:
    """The session behind one request: the core's request lifecycle, with JSON data."""

    __slots__ = ("encode", "engine", "persistent", "request")

    def __init__(
        self,
        engine: Engine,
        request: Request,
        persistent: bool | None,
        encode: Callable[[dict[str, Any]], bytes] = dumps,
    ) -> None:
        self.engine = engine
        self.request = request
        #: Whether the response's cookie carries ``Max-Age`` (``None``: the engine's
        #: ``cookie_persistent``).
        self.persistent = persistent
        #: How the session dict becomes the payload.
        self.encode = encode

    @property
    def token(self) -> str | None:
        """The token of the session this request holds, ``None`` when it holds none."""
        return self.request.token

    @property
    def info(self) -> Session | None:
        """The engine's snapshot of the session, as this request last saw it."""
        return self.request.session

    @property
    def principal(self) -> str | None:
        """The logged-in user, or ``None``."""
        return self.request.principal

    def clear(self) -> None:
        """The app emptied the session dict: at the end of the request the session ends
        server-side (logout); data set afterwards goes into a new session."""
        self.request.clear()

    def end(self) -> None:
        """End the session server-side now, as a logout; the response clears the cookie."""
        self.request.end()

    def login(self, user_id: str | bytes) -> None:
        """Bind the session to ``user_id`` and rotate its token; data is kept (after
        ``clear()``, the user logs in to a fresh session). Starts a session if needed."""
        self.request.login(user_id)

    def rotate(self) -> None:
        """Give the session a new token."""
        self.request.rotate()

    def finish(self, data: Mapping[str, Any], *, changed: bool = True) -> str | None:
        """Store the session dict ``data`` at the end of the request and log the engine's
        pending security events; return the ``Set-Cookie`` value to send, if any.

        ``changed=False`` says the app did not modify ``data`` (Flask's ``modified``), so
        it is neither serialised nor stored.
        """
        body = (self.encode(dict(data)) if data else b"") if changed else None
        request = self.request
        try:
            return request._finish(body, self.persistent)  # finish(), positionally
        finally:
            # Engine.log_pending_events, with the count finish read under its own lock
            # (a shared store's counters are a round trip away, its ring is local: drain).
            engine = self.engine
            if request.events_pending or engine.shared:
                engine.drain_events()
