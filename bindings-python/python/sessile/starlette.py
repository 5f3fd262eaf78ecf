"""ASGI integration: a drop-in for Starlette's ``SessionMiddleware`` with server-side data.

::

    app.add_middleware(sessile.starlette.SessionMiddleware, secret_key="...")

Same constructor arguments with the same meaning as Starlette's (``session_cookie``,
``max_age``, ``path``, ``same_site``, ``https_only``, ``domain``, ``partitioned``);
``request.session`` is a dict. Differences: the data stays on the server (the cookie
carries only a random token), ``secret_key`` is accepted but not needed (nothing is
signed), ``max_age`` also bounds the session's life server-side (idle and absolute
timeout; ``None`` keeps the engine defaults and makes a browser-session cookie), and a
cookie is sent only when the token changes. An invalid, forged or expired cookie gives an
empty session, never an exception; a cookie sent twice follows the engine's rule
(:meth:`sessile.Engine.validate_cookie`). Pass ``engine=`` to share one
:class:`sessile.Engine` (its cookie settings then win over the arguments).

Use :func:`login` / :func:`logout` to rotate the token at login and destroy the session at
logout; ``request.session.clear()`` on a session that had data also destroys it.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import Engine, Session, dumps, loads
from .errors import SessionInvalid

__all__ = ["SessionMiddleware", "SessionState", "login", "logout", "principal", "rotate"]

_MAX_CONFIG_TIMEOUT = 30 * 24 * 3600.0


class SessionState:
    """Per-request bookkeeping, kept in ``scope["sessile"]``."""

    __slots__ = ("ended", "engine", "info", "loaded", "new_token", "persistent", "token")

    def __init__(
        self,
        engine: Engine,
        token: str | None,
        info: Session | None,
        loaded: bytes,
        persistent: bool,
    ) -> None:
        self.engine = engine
        self.token = token
        self.info = info
        self.loaded = loaded
        self.persistent = persistent
        self.new_token = False
        self.ended = False

    def finish(self, data: dict[str, Any]) -> str | None:
        """Store ``data``; return the Set-Cookie value to send, if any."""
        engine = self.engine
        if self.token is not None and not data and self.loaded:
            _logout_quietly(engine, self.token)
            self.token, self.info, self.ended = None, None, True
        if self.token is None:
            if not data:
                return engine.clear_cookie() if self.ended else None
            self.token, self.info = engine.create()
            self.new_token = True
        assert self.info is not None
        body = dumps(data) if data else b""
        if body != self.loaded:
            engine.write(self.info.handle, body)
            self.loaded = body
        if self.new_token:
            return engine.set_cookie(self.token, self.info, persistent=self.persistent)
        return None


class SessionMiddleware:
    """Server-side sessions for any ASGI app (Starlette, FastAPI)."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Any | None = None,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: str = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
        *,
        engine: Engine | None = None,
    ) -> None:
        self.app = app
        if engine is None:
            timeouts: dict[str, float] = {}
            if max_age is not None:
                life = float(max_age)
                timeouts = {
                    "idle_timeout": life,
                    "absolute_timeout": life,
                    "max_idle_timeout": max(life, _MAX_CONFIG_TIMEOUT),
                    "max_absolute_timeout": max(life, _MAX_CONFIG_TIMEOUT),
                }
            engine = Engine(
                cookie_name=session_cookie,
                cookie_path=path,
                cookie_same_site=same_site,
                cookie_secure=https_only,
                cookie_domain=domain,
                cookie_partitioned=partitioned,
                **timeouts,  # type: ignore[arg-type]
            )
        self.engine = engine
        self.persistent = max_age is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        engine = self.engine
        cookies = []
        user_agent = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies.append(value)
            elif name == b"user-agent":
                user_agent = value
        client = scope.get("client")
        ip = client[0] if client else None
        found = None
        if cookies:
            header = cookies[0] if len(cookies) == 1 else b"; ".join(cookies)
            found = engine.load_cookie(header, ip=ip, user_agent=user_agent)
        if found is None:
            state = SessionState(engine, None, None, b"", self.persistent)
            scope["session"] = {}
        else:
            token, info, payload = found
            state = SessionState(engine, token, info, payload, self.persistent)
            try:
                data = loads(payload)
            except ValueError:
                data = {}
            scope["session"] = data if isinstance(data, dict) else {}
        scope["sessile"] = state

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = state.finish(scope["session"])
                if cookie is not None:
                    MutableHeaders(scope=message).append("Set-Cookie", cookie)
                engine.log_pending_events()
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _state(conn: HTTPConnection) -> SessionState:
    state = conn.scope.get("sessile")
    if not isinstance(state, SessionState):
        raise RuntimeError("sessile.starlette.SessionMiddleware is not installed")
    return state


def _logout_quietly(engine: Engine, token: str) -> None:
    try:
        engine.logout(token)
    except SessionInvalid:
        pass  # already ended: nothing left to destroy


def login(conn: HTTPConnection, user_id: str | bytes) -> None:
    """Bind the session to ``user_id`` and rotate its token; data is kept."""
    state = _state(conn)
    engine = state.engine
    token = state.token
    if token is not None:
        try:
            state.token, state.info = engine.login(token, user_id)
        except SessionInvalid:
            token = None
    if token is None:
        fresh, _ = engine.create()
        state.token, state.info = engine.login(fresh, user_id)
    state.new_token = True
    state.ended = False


def rotate(conn: HTTPConnection) -> None:
    """Give the session a new token."""
    state = _state(conn)
    if state.token is not None:
        state.token, state.info = state.engine.rotate(state.token)
        state.new_token = True


def logout(conn: HTTPConnection) -> None:
    """Destroy the session server-side and clear its cookie."""
    state = _state(conn)
    if state.token is not None:
        _logout_quietly(state.engine, state.token)
    conn.session.clear()
    state.token, state.info, state.new_token, state.ended = None, None, False, True
    state.loaded = b""


def principal(conn: HTTPConnection) -> str | None:
    """The logged-in user of this request, or ``None``."""
    info = _state(conn).info
    return info.principal if info is not None else None
