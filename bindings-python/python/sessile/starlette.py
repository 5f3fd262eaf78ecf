"""ASGI integration: a drop-in for Starlette's ``SessionMiddleware`` with server-side data.

::

    app.add_middleware(sessile.starlette.SessionMiddleware, secret_key="...")

Same constructor arguments with the same meaning as Starlette's (``session_cookie``,
``max_age``, ``path``, ``same_site``, ``https_only``, ``domain``, ``partitioned``);
``request.session`` is a dict tracking ``accessed`` / ``modified`` as Starlette's
``Session``; ``Vary: Cookie`` is added when it was read or written, and the
``Set-Cookie`` text is Starlette's (the core's ``cookie_style="starlette"``).
Differences: the data stays on the server (the cookie carries only a random token),
``secret_key`` is accepted but not needed (nothing is signed), ``max_age`` is the
session's life server-side (its absolute timeout; ``None`` keeps the engine defaults and
makes a browser-session cookie; zero or less keeps no session past its request), and a
cookie is sent only when the token changes. An invalid, forged or expired cookie gives an
empty session, never an exception; a cookie sent twice follows the engine's rule
(:meth:`sessile.Engine.validate_cookie`). Pass ``engine=`` to share one
:class:`sessile.Engine` (its settings then win over the arguments; a
:class:`SettingsWarning` names those given that it overrides).

Use :func:`login` / :func:`logout` to rotate the token at login and destroy the session at
logout. ``request.session.clear()`` logs out too: the session ends server-side and its
cookie is cleared, whether or not it held data (so does removing every key of a session
that had data); data set after ``clear()`` starts a new session. A request that began
before another one logged the session in, rotated, or ended it stores nothing and sends
no cookie, so it cannot overwrite a login nor bring back a logout.

A session store that cannot answer (Redis down or slow: :class:`sessile.StoreUnavailable`,
also from :func:`login`, :func:`logout`, :func:`rotate` or the app's own engine calls)
answers ``503`` with the text ``session store unavailable``, never a 500 with a trace, and
the request is never served as if it had no session (fail closed). A websocket is closed
with code 1013 (try again later).

``snapshot_path`` and ``snapshot_key`` (32 bytes; in-process engine, one process): the
middleware starts from the snapshot there (:meth:`sessile.Engine.restore_or_new`, when it
builds its engine) and writes one at lifespan shutdown (and on
:meth:`SessionMiddleware.write_snapshot`).
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Literal, cast

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import Engine, StoreUnavailable
from ._lifecycle import (
    SHARED_NO_SNAPSHOT,
    STORE_UNAVAILABLE,
    SessionState,
    payload_dict,
    write_snapshot,
)
from ._max_age import max_age_options
from ._native import Request, _TrackedDict

__all__ = [
    "Session",
    "SessionDict",
    "SessionMiddleware",
    "SessionState",
    "SettingsWarning",
    "engine_options",
    "login",
    "logout",
    "principal",
    "rotate",
]


log = logging.getLogger("sessile")
_BODY = (STORE_UNAVAILABLE + "\n").encode()


async def _unavailable(scope: Scope, send: Send, error: StoreUnavailable) -> None:
    """Answer a request the session store could not serve: 503, short text, no trace."""
    log.warning("%s: %r", STORE_UNAVAILABLE, error)
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013})
        return
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(_BODY)).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


class Session(_TrackedDict):
    """``request.session``: a dict that records, as Starlette's ``Session`` does, whether
    the app read it (``accessed``: the response then carries ``Vary: Cookie``) or changed
    it (``modified``), and tells the request's session state when the app calls
    ``clear()`` (the usual logout), which a plain dict could not. Storing and deleting a
    key, ``mark_accessed()`` and ``mark_modified()`` are native (``_TrackedDict``)."""

    __slots__ = ("__dict__", "_state")
    _state: Request | None

    def clear(self) -> None:
        """Empty the session; at the end of the request it ends server-side (logout)."""
        self.mark_modified()
        super().clear()
        state = getattr(self, "_state", None)
        if state is not None:
            state.clear()

    def pop(self, key: str, *args: Any) -> Any:
        if key in self:
            self.mark_modified()
        return super().pop(key, *args)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self.mark_modified()
        return item

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.mark_modified()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.mark_modified()
        super().update(*args, **kwargs)

    def __ior__(self, other: Any, /) -> Session:  # type: ignore[override,misc]
        self.mark_modified()
        return super().__ior__(other)


#: The name this class had before it tracked access like Starlette's ``Session``.
SessionDict = Session


def engine_options(
    session_cookie: str = "session",
    max_age: int | None = 14 * 24 * 60 * 60,
    path: str = "/",
    same_site: Literal["lax", "strict", "none"] = "lax",
    https_only: bool = False,
    domain: str | None = None,
    partitioned: bool = False,
) -> dict[str, Any]:
    """The :class:`sessile.Engine` options that Starlette's ``SessionMiddleware``
    arguments mean (the cookie is spelled as Starlette spells it: ``cookie_style``).

    ``max_age`` is how long a session lives from its start (its absolute timeout; "max
    age" in the README; the idle timeout stays sessile's, cut to it when shorter), and
    the cookie's ``Max-Age`` counts down to it.
    ``None`` makes a browser-session cookie and keeps the engine's timeouts; zero or
    less: no session outlives its request.
    """
    options: dict[str, Any] = {
        "cookie_name": session_cookie,
        "cookie_path": path,
        "cookie_same_site": same_site,
        "cookie_secure": https_only,
        "cookie_domain": domain,
        "cookie_partitioned": partitioned,
        "cookie_http_only": True,
        "cookie_style": "starlette",
        "cookie_persistent": max_age is not None,
    }
    if max_age is not None and max_age > 0:
        options.update(max_age_options(float(max_age)))
    return options


class SessionMiddleware:
    """Server-side sessions for any ASGI app (Starlette, FastAPI)."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Any | None = None,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
        *,
        engine: Engine | None = None,
        snapshot_path: str | os.PathLike[str] | None = None,
        snapshot_key: bytes | None = None,
    ) -> None:
        self.app = app
        if snapshot_path is not None and snapshot_key is None:
            raise TypeError("snapshot_path needs snapshot_key (32 random bytes)")
        self.snapshot_path = snapshot_path
        self.snapshot_key = snapshot_key
        wanted = engine_options(
            session_cookie, max_age, path, same_site, https_only, domain, partitioned
        )
        if engine is None:
            if snapshot_path is not None and snapshot_key is not None:
                engine = Engine.restore_or_new(snapshot_path, snapshot_key, **wanted)
            else:
                engine = Engine(**wanted)
        else:
            _warn_unapplied(engine, wanted, engine_options())
        if snapshot_path is not None and engine.shared:
            raise ValueError(SHARED_NO_SNAPSHOT)
        self.engine = engine
        self.persistent = max_age is not None
        #: Starlette's max_age of zero or less: the browser drops the cookie at once and no
        #: session outlives its request (the core's ``Request.discard``).
        self.discard = max_age is not None and max_age <= 0

    def write_snapshot(self) -> bool:
        """Write the engine's sessions to ``snapshot_path`` now (atomically, under
        ``snapshot_key``); done at lifespan shutdown too. ``False`` when none is
        configured."""
        if self.snapshot_path is None or self.snapshot_key is None:
            return False
        write_snapshot(self.engine, self.snapshot_path, self.snapshot_key)
        return True

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the lifespan through; write the snapshot once the app has shut down."""

        async def send_wrapper(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                self.write_snapshot()
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            if kind == "lifespan" and self.snapshot_path is not None:
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        # The request's start in one native call (headers, begin_request, the payload
        # into a new Session, scope["session"] and scope["sessile"], the send the app
        # gets): each Python call and object on this path was a measurable share of the
        # middleware's cost (bench.py, callgrind).
        try:
            sender = self.engine._begin_asgi(
                scope, send, Session, self.persistent, self.discard, _HOOKS
            )
        except StoreUnavailable as e:
            await _unavailable(scope, send, e)
            return
        try:
            # sender: at the response's start, the session is stored and Vary /
            # Set-Cookie added (_finish_slow for what it cannot do natively).
            await self.app(scope, receive, sender)
        except StoreUnavailable as e:
            if sender.started:
                raise  # the response is under way: the server ends it
            await _unavailable(scope, send, e)


def _finish_slow(request: Request, session: Any, message: Message, done: Any) -> None:
    """The end of a request the native sender hands back: a session of values that are
    not plain JSON (``done`` is ``NotImplemented``: json's encoder), or a response that
    has a ``Vary`` already (``done`` is the cookie in a 1-tuple: merged here)."""
    if done is NotImplemented:
        cookie = _state_of(request).finish(session)
        if cookie is not None or getattr(session, "accessed", True):
            _add_headers(message, cookie)
    else:
        _add_headers(message, done[0])


async def _nothing() -> None:
    """What the sender returns for a message of a response replaced by the 503."""


def _load_slow(payload: bytes, request: Request) -> Session:
    """The session of a payload that is not a plain JSON object (the native reader
    declines it): json decides (``{}`` when it is no object)."""
    session = Session(payload_dict(payload))
    session._state = request
    return session


#: What the native start (``Engine._begin_asgi``) and sender (``AsgiSend``) need of
#: this module.
_HOOKS = (StoreUnavailable, _unavailable, _finish_slow, _nothing, _load_slow)


class SettingsWarning(UserWarning):
    """A ``SessionMiddleware`` argument the engine given with ``engine=`` overrides."""


def _warn_unapplied(engine: Engine, wanted: dict[str, Any], default: dict[str, Any]) -> None:
    """One warning naming the arguments given (other than Starlette's defaults) that an
    ``engine=`` given overrides: never silence."""
    config = engine.config
    differ = sorted(
        f"{key}={value!r} (the engine's: {config.get(key)!r})"
        for key, value in wanted.items()
        if key in config and value != default.get(key) and config.get(key) != value
    )
    if differ:
        warnings.warn(
            "sessile.starlette.SessionMiddleware: the engine given decides, not these "
            "arguments: " + "; ".join(differ),
            SettingsWarning,
            stacklevel=3,
        )


def _add_headers(message: Message, cookie: str | bytes | None) -> None:
    """Add ``Vary: Cookie`` and the ``Set-Cookie`` (if any) to a response's start message.

    Its raw header list is extended directly (what ``MutableHeaders`` does, without
    building one per response: the profile's largest cost in this middleware); a response
    that already has a ``Vary`` goes through :func:`_add_vary_cookie`.
    """
    raw = list(message.get("headers", ()))
    message["headers"] = raw
    for name, _ in raw:
        if name.lower() == b"vary":
            headers = MutableHeaders(scope=message)
            _add_vary_cookie(headers)
            raw = headers.raw  # its own copy, now the message's
            break
    else:
        raw.append((b"vary", b"Cookie"))
    if cookie is not None:
        raw.append((b"set-cookie", cookie.encode("latin-1") if isinstance(cookie, str) else cookie))


def _add_vary_cookie(headers: MutableHeaders) -> None:
    """``Vary: Cookie`` (a shared cache must not serve one user's page to another), once."""
    vary = [v.strip().lower() for h in headers.getlist("vary") for v in h.split(",")]
    if "cookie" not in vary and "*" not in vary:
        headers.add_vary_header("Cookie")


def _state_of(request: Request) -> SessionState:
    return SessionState(cast(Engine, request.engine), request, request.persistent)


def _state(conn: HTTPConnection) -> SessionState:
    request = conn.scope.get("sessile")
    if not isinstance(request, Request):
        raise RuntimeError("sessile.starlette.SessionMiddleware is not installed")
    return _state_of(request)


def login(conn: HTTPConnection, user_id: str | bytes) -> None:
    """Bind the session to ``user_id`` and rotate its token; data is kept (after
    ``request.session.clear()`` in the same request, the user logs in to a fresh session)."""
    _state(conn).login(user_id)


def rotate(conn: HTTPConnection) -> None:
    """Give the session a new token."""
    _state(conn).rotate()


def logout(conn: HTTPConnection) -> None:
    """Destroy the session server-side and clear its cookie."""
    state = _state(conn)
    conn.session.clear()
    state.end()


def principal(conn: HTTPConnection) -> str | None:
    """The logged-in user of this request, or ``None``."""
    return _state(conn).principal
