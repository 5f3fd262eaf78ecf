"""Python benchmarks for sessile, measured in one run against peers on the same machine.

Per-request session overhead = time per request of an app with sessions minus the same
app without sessions, calling the WSGI / ASGI app directly (no sockets) with a valid
session cookie on every request. Each request reads, modifies and writes the session.
Each figure is the process's CPU time per request (time.process_time: the time this
process ran, not the time it waited for a core another process held) in the best of many
short interleaved batches (the one least disturbed by other load: on a shared 2-core
machine, wall-clock rounds of half a second swung the Flask ratio from 0.4x to 1.8x
between runs).

Targets (issue 17): sessile's Flask overhead at most a hand-rolled dict session's (a dict
keyed by ``secrets.token_urlsafe``), and its ASGI middleware's at most a hand-rolled ASGI
dict session's, each in the same run. Kept from issue 3: at most half of Flask-Session's
(cachelib SimpleCache), and below Starlette's own SessionMiddleware.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

import flask
from cachelib import SimpleCache
from flask.sessions import SecureCookieSession, SessionInterface
from flask_session import Session as FlaskSession
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.test import EnvironBuilder

import sessile
import sessile.flask
import sessile.starlette

QUICK = os.environ.get("SESSILE_BENCH_QUICK") == "1"
REQUESTS = 1000 if QUICK else 5000
ROUNDS = 3 if QUICK else 7
#: Each round is cut into this many batches, interleaved across the runners.
BATCHES = 5
CALLS = 20_000 if QUICK else 200_000


# ------------------------------------------------------------------ Flask (WSGI)


class DictSessionInterface(SessionInterface):
    """A hand-rolled server-side session: a dict keyed by `secrets.token_urlsafe`."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, Any]] = {}

    def open_session(self, app: flask.Flask, request: Any) -> SecureCookieSession:
        sid = request.cookies.get("sid")
        data = self.store.get(sid) if sid else None
        s = SecureCookieSession(dict(data) if data is not None else None)
        s.sid = sid if data is not None else None  # type: ignore[attr-defined]
        return s

    def save_session(self, app: flask.Flask, session: Any, response: Any) -> None:
        if not session.modified:
            return
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            response.set_cookie("sid", session.sid, httponly=True, secure=True, samesite="Lax")
        self.store[session.sid] = dict(session)


class NoSessionInterface(SessionInterface):
    """The baseline: Flask's null session, nothing loaded or saved."""

    def open_session(self, app: flask.Flask, request: Any) -> None:
        return None

    def save_session(self, app: flask.Flask, session: Any, response: Any) -> None:
        return None


def flask_app(kind: str) -> flask.Flask:
    app = flask.Flask(f"bench_{kind}")
    app.secret_key = "bench-secret-key"
    plain: dict[str, Any] = {}

    @app.get("/")
    def index() -> str:
        s: Any = plain if kind == "none" else flask.session
        s["n"] = s.get("n", 0) + 1  # read, modify (-> write)
        return "ok"

    if kind == "none":
        app.session_interface = NoSessionInterface()
    elif kind == "sessile":
        app.session_interface = sessile.flask.SessionInterface(sessile.Engine())
    elif kind == "flask-session":
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache(threshold=100_000))
        FlaskSession(app)
    elif kind == "dict":
        app.session_interface = DictSessionInterface()
    return app


def wsgi_runner(app: flask.Flask) -> Callable[[int], None]:
    captured: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        captured[:] = [status, headers]

    environ = EnvironBuilder(path="/", headers={"User-Agent": "bench"}).get_environ()
    b"".join(app(dict(environ), start_response))
    cookies = [v.split(";")[0] for k, v in captured[1] if k.lower() == "set-cookie"]
    if cookies:  # the app with sessions issued one: present it on every request
        environ["HTTP_COOKIE"] = cookies[0]
    assert captured[0].startswith("200")

    def run(n: int) -> None:
        for _ in range(n):
            body = app(dict(environ), start_response)
            b"".join(body)
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return run


# ------------------------------------------------------------------ Starlette (ASGI)


class DictSessionMiddleware:
    """A hand-rolled server-side ASGI session: a dict keyed by `secrets.token_urlsafe`,
    the cookie read with Starlette's own parser, the data stored at the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.store: dict[str, dict[str, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sid: str | None = HTTPConnection(scope).cookies.get("sid")
        data = self.store.get(sid) if sid else None
        if data is None:
            sid = None
        scope["session"] = dict(data) if data is not None else {}

        async def send_wrapper(message: Message) -> None:
            nonlocal sid
            if message["type"] == "http.response.start":
                session = scope["session"]
                if session or sid is not None:
                    if sid is None:
                        sid = secrets.token_urlsafe(32)
                        MutableHeaders(scope=message).append(
                            "Set-Cookie", f"sid={sid}; path=/; httponly; samesite=lax"
                        )
                    self.store[sid] = dict(session)
            await send(message)

        await self.app(scope, receive, send_wrapper)


def starlette_app(kind: str) -> Starlette:
    plain: dict[str, Any] = {}

    async def index(request: Request) -> PlainTextResponse:
        s: Any = plain if kind == "none" else request.session
        s["n"] = s.get("n", 0) + 1
        return PlainTextResponse("ok")

    middleware = []
    if kind == "starlette":
        middleware = [Middleware(StarletteSessionMiddleware, secret_key="bench-secret-key")]
    elif kind == "sessile":
        middleware = [Middleware(sessile.starlette.SessionMiddleware, secret_key="unused")]
    elif kind == "dict":
        middleware = [Middleware(DictSessionMiddleware)]
    return Starlette(routes=[Route("/", index)], middleware=middleware)


def asgi_runner(app: Starlette) -> Callable[[int], None]:
    base_headers = [(b"host", b"bench"), (b"user-agent", b"bench")]
    captured: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            captured[:] = [message]

    def scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }

    asyncio.run(app(scope(base_headers), receive, send))
    headers = list(base_headers)
    for k, v in captured[0]["headers"]:
        if k == b"set-cookie":
            headers.append((b"cookie", v.split(b";")[0]))

    async def many(n: int) -> None:
        for _ in range(n):
            await app(scope(headers), receive, send)

    def run(n: int) -> None:
        asyncio.run(many(n))

    return run


# ------------------------------------------------------------------ raw validate


def raw_runners() -> dict[str, Callable[[int], None]]:
    engine = sessile.Engine()
    token, _ = engine.create()
    validate = engine.validate

    def sessile_validate(n: int) -> None:
        for _ in range(n):
            validate(token)

    store: dict[str, list[float]] = {}
    sid = secrets.token_urlsafe(32)
    store[sid] = [time.monotonic(), time.monotonic()]  # created, last seen
    idle, absolute = 1800.0, 8 * 3600.0

    def dict_validate(n: int) -> None:
        for _ in range(n):
            rec = store.get(sid)
            now = time.monotonic()
            if rec is None or now - rec[1] >= idle or now - rec[0] >= absolute:
                raise KeyError(sid)
            rec[1] = now

    return {"sessile": sessile_validate, "dict+secrets": dict_validate}


# ------------------------------------------------------------------ measuring


def best_per_call(runners: dict[str, Callable[[int], None]], n: int) -> dict[str, float]:
    """CPU seconds per call for each runner: the best of ROUNDS x BATCHES batches of
    n / BATCHES calls, the runners interleaved batch by batch."""
    best = dict.fromkeys(runners, float("inf"))
    for r in runners.values():
        r(max(n // 10, 10))  # warm up
    batch = max(n // BATCHES, 1)
    for _ in range(ROUNDS * BATCHES):
        for name, r in runners.items():
            t0 = time.process_time()
            r(batch)
            best[name] = min(best[name], (time.process_time() - t0) / batch)
    return best


def verdict(
    area: str, name: str, ours: float, peer: float, limit: float, *, strict: bool = False
) -> bool:
    """Print one target's line (the README quotes it) and return whether it is met."""
    ratio = ours / peer if peer > 0 else float("inf")
    met = ratio < limit if strict else ratio <= limit
    print(f"  target ({area}): {name}: {ratio:.2f}x -> {'met' if met else 'NOT met'}")
    return met


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.2f} µs"


def main() -> int:
    print(
        f"sessile {sessile.__version__} Python benchmarks (Python {sys.version.split()[0]}, "
        f"{REQUESTS} requests x {ROUNDS} rounds in {BATCHES} batches each, CPU time of "
        "the best batch)"
    )
    ok = True

    print("\nFlask, per-request overhead (read + modify + write, WSGI called directly)")
    kinds = ["none", "sessile", "flask-session", "cookie", "dict"]
    labels = {
        "sessile": "sessile (server-side)",
        "flask-session": "Flask-Session (cachelib SimpleCache)",
        "cookie": "Flask default (signed cookie)",
        "dict": "hand-rolled dict + secrets",
    }
    t = best_per_call({k: wsgi_runner(flask_app(k)) for k in kinds}, REQUESTS)
    base = t["none"]
    print(f"  {'app without sessions':40s} {us(base)} per request")
    over = {k: t[k] - base for k in kinds[1:]}
    for k in kinds[1:]:
        ratio = over[k] / over["sessile"] if over["sessile"] > 0 else float("inf")
        print(f"  {labels[k]:40s} {us(over[k])} overhead  ({ratio:5.2f}x sessile's)")
    ok &= verdict(
        "Flask", "sessile <= 0.5 x Flask-Session", over["sessile"], over["flask-session"], 0.5
    )
    ok &= verdict("Flask", "sessile <= hand-rolled dict", over["sessile"], over["dict"], 1.0)

    print("\nRaw validation (one live session, same token every call)")
    t = best_per_call(raw_runners(), CALLS)
    for name, per in t.items():
        print(f"  {name:40s} {1 / per:12,.0f} validations/s  ({us(per)} each)")
    print(
        f"  sessile / dict+secrets speed: {t['dict+secrets'] / t['sessile']:.2f} x "
        "(report only; sessile also checks the token's form, hashes it and keeps deadlines,"
        " LRU and events)"
    )

    print("\nStarlette, per-request overhead (read + modify + write, ASGI called directly)")
    kinds = ["none", "sessile", "starlette", "dict"]
    labels = {
        "sessile": "sessile SessionMiddleware",
        "starlette": "Starlette SessionMiddleware (signed cookie)",
        "dict": "hand-rolled ASGI dict + secrets",
    }
    t = best_per_call({k: asgi_runner(starlette_app(k)) for k in kinds}, REQUESTS)
    base = t["none"]
    print(f"  {'app without sessions':40s} {us(base)} per request")
    over = {k: t[k] - base for k in kinds[1:]}
    for k in kinds[1:]:
        ratio = over[k] / over["sessile"] if over["sessile"] > 0 else float("inf")
        print(f"  {labels[k]:40s} {us(over[k])} overhead  ({ratio:5.2f}x sessile's)")
    ok &= verdict(
        "ASGI", "sessile < Starlette", over["sessile"], over["starlette"], 1.0, strict=True
    )
    ok &= verdict("ASGI", "sessile <= hand-rolled ASGI dict", over["sessile"], over["dict"], 1.0)
    print(f"\nPython targets: {'all met' if ok else 'NOT all met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
