"""The sessile demo server on FastAPI, following tests/e2e/README.md.

    .venv/bin/python examples/fastapi/app.py        # PORT=8080 by default; PORT=0: any

Sessions come from ``sessile.starlette.SessionMiddleware`` with sessile's secure cookie
(``__Host-sid``, Secure, HttpOnly, SameSite=Lax), the session and the user from the
dependencies of :mod:`sessile.fastapi`. Serves 127.0.0.1:$PORT with uvicorn and prints
``listening on 127.0.0.1:<port>`` once it accepts connections. Security events go to
standard error as ``sessile-event <kind> session=<16 hex digits>``.

Configured from the environment as every demo (tests/e2e/README.md): ``SESSILE_CAPACITY``,
``SESSILE_IDLE_MS``, ``SESSILE_ABSOLUTE_MS``, and ``SESSILE_STORE`` / ``_STORE_KEY`` /
``_STORE_PREFIX`` for sessions in Redis or Valkey; a store that cannot answer gives 503.
"""

from __future__ import annotations

import hmac
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

import sessile
from sessile.fastapi import CurrentUser, RequiredUser, SessionDep
from sessile.starlette import SessionMiddleware

USERS = {"admin": "admin", "alice": "alice", "bob": "bob"}


def offset_clock(wall: bool) -> Callable[[], float] | None:
    """Tests only: SESSILE_CLOCK_OFFSET_FILE, as in examples/python/app.py."""
    path = os.environ.get("SESSILE_CLOCK_OFFSET_FILE")
    base = time.time if wall else time.monotonic
    return (lambda: base() + int(Path(path).read_text()) / 1000) if path else None


def make_engine() -> sessile.Engine:
    def env(name: str) -> int | None:
        value = os.environ.get(name)
        return None if value is None else int(value)

    def seconds(name: str) -> float | None:
        ms = env(name)
        return None if ms is None else ms / 1000

    # Unset: the core's default (a timeout above its maximum lifts the maximum).
    return sessile.Engine(
        capacity=env("SESSILE_CAPACITY"),
        idle_timeout=seconds("SESSILE_IDLE_MS"),
        absolute_timeout=seconds("SESSILE_ABSOLUTE_MS"),
        store=os.environ.get("SESSILE_STORE") or None,
        store_key=os.environ.get("SESSILE_STORE_KEY") or None,
        store_prefix=os.environ.get("SESSILE_STORE_PREFIX") or None,
        clock=offset_clock(wall=bool(os.environ.get("SESSILE_STORE"))),
    )


def text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body + "\n", status_code=status)


def create_app(engine: sessile.Engine) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, engine=engine)

    @app.get("/")
    def index(session: SessionDep, user: CurrentUser) -> PlainTextResponse:
        if not session.data:
            session["anonymous"] = True  # something to keep: starts the session
        return text(f"hello {user}" if user else "hello, anonymous visitor")

    @app.post("/login")
    async def login(request: Request, session: SessionDep) -> PlainTextResponse:
        # The form by hand: FastAPI's Form() needs python-multipart for this one route.
        try:
            form = parse_qs((await request.body()).decode(), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            form = {}
        username = form.get("username", [None])[0]
        password = form.get("password", [None])[0]
        if not username or password is None:
            return text("malformed form: username and password are required", 400)
        expected = USERS.get(username)
        if expected is None or not hmac.compare_digest(expected, password):
            return text("bad credentials", 401)
        # Rotates the token and binds the user in the engine (data kept). Emptying the
        # data afterwards would log out again: that is the frameworks' logout idiom.
        session.login(username)
        return text(f"logged in as {username}")

    @app.get("/profile")
    def profile(user: CurrentUser) -> PlainTextResponse:
        if user is None:
            return text("not logged in", 401)
        return text(f"profile of {user}")

    @app.post("/logout")
    def logout(session: SessionDep) -> PlainTextResponse:
        session.logout()
        return text("logged out")

    @app.post("/logout-everywhere")
    def logout_everywhere(session: SessionDep, user: CurrentUser) -> PlainTextResponse:
        if user is None:
            return text("not logged in", 401)
        count = engine.revoke_principal(user)
        session.logout()  # this session was among them: clear its cookie too
        return text(f"ended {count} sessions")

    @app.get("/sessions")
    def sessions(user: RequiredUser) -> JSONResponse:
        return JSONResponse({"count": len(engine.sessions_of(user))})

    @app.exception_handler(401)
    def unauthorized(_request: object, _exc: Exception) -> PlainTextResponse:
        return text("not logged in", 401)

    @app.exception_handler(sessile.StoreUnavailable)
    def unavailable(_request: object, _exc: Exception) -> PlainTextResponse:
        # The app's own engine calls (log out everywhere, the sessions list); the
        # middleware answers the same for the session itself.
        return text("session store unavailable", 503)

    return app


class Server(uvicorn.Server):
    """uvicorn, announcing the port once it accepts connections (PORT=0 picks one)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for server in getattr(self, "servers", []):
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                print(f"listening on {host}:{port}", flush=True)
                return


def main() -> None:
    events = logging.StreamHandler(sys.stderr)
    events.setFormatter(logging.Formatter("%(message)s"))
    sessile.security_log.addHandler(events)
    sessile.security_log.setLevel(logging.INFO)

    app = create_app(make_engine())
    port = int(os.environ.get("PORT", "8080"))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    Server(config).run()


if __name__ == "__main__":
    main()
