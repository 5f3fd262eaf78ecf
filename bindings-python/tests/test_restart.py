"""A restart of one process keeps its sessions: the Flask demo (SESSILE_SNAPSHOT_PATH /
SESSILE_SNAPSHOT_KEY, written at SIGTERM), the Starlette middleware (lifespan shutdown)
and the Flask glue (write_snapshot, at exit). A logged-in session stays logged in, a
logged-out one stays dead, and a refused file starts the engine empty."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import flask
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import sessile
import sessile.flask as sf
import sessile.starlette as ss
from conftest import ROOT, http_request

KEY = bytes(range(1, 33))


class DemoProcess:
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.stderr = tmp / "stderr"
        with open(self.stderr, "a") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "examples/python/app.py")],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=dict(os.environ, PORT="0", PYTHONUNBUFFERED="1", **env),
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line + self.stderr.read_text()
        self.base = "http://" + line.split()[-1]

    def request(
        self, method: str, path: str, cookie: str | None, data: str | None = None
    ) -> tuple[int, str | None]:
        """(status, the Set-Cookie's `name=value`, if any)."""
        return http_request(self.base + path, method, cookie, data)

    def login(self, user: str) -> str:
        status, cookie = self.request("POST", "/login", None, f"username={user}&password={user}")
        assert status == 200 and cookie
        return cookie

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=20) == 0


def test_the_demo_keeps_a_login_and_a_logout_across_a_restart(tmp_path: Path) -> None:
    env = {
        "SESSILE_SNAPSHOT_PATH": str(tmp_path / "sessions.snap"),
        "SESSILE_SNAPSHOT_KEY": KEY.hex(),
    }
    first = DemoProcess(tmp_path, env)
    alice = first.login("alice")
    bob = first.login("bob")
    assert first.request("POST", "/logout", bob)[0] == 200
    assert first.request("GET", "/profile", bob)[0] == 401
    first.stop()
    assert (tmp_path / "sessions.snap").exists()

    second = DemoProcess(tmp_path, env)
    try:
        assert second.request("GET", "/profile", alice)[0] == 200
        assert second.request("GET", "/profile", bob)[0] == 401
    finally:
        second.stop()
    # The logged-out token is still known as such: its reuse is reported after the restart.
    log = (tmp_path / "stderr").read_text()
    assert log.count("sessile-event reuse_after_logout") == 2, log

    # A file changed on disk is refused: the demo starts empty and says why.
    data = bytearray((tmp_path / "sessions.snap").read_bytes())
    data[-1] ^= 1
    (tmp_path / "sessions.snap").write_bytes(bytes(data))
    third = DemoProcess(tmp_path, env)
    try:
        assert third.request("GET", "/profile", alice)[0] == 401
    finally:
        third.stop()
    assert "snapshot_tampered" in (tmp_path / "stderr").read_text()


def profile_app(**middleware: object) -> Starlette:
    async def login(request: Request) -> PlainTextResponse:
        ss.login(request, request.path_params["user"])
        return PlainTextResponse("ok")

    async def logout(request: Request) -> PlainTextResponse:
        ss.logout(request)
        return PlainTextResponse("ok")

    async def profile(request: Request) -> PlainTextResponse:
        user = ss.principal(request)
        return PlainTextResponse(str(user), status_code=200 if user else 401)

    return Starlette(
        routes=[
            Route("/login/{user}", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/profile", profile),
        ],
        middleware=[Middleware(ss.SessionMiddleware, **middleware)],
    )


def cookie_of(resp: object) -> str:
    return resp.headers["set-cookie"].split(";", 1)[0]  # type: ignore[attr-defined]


def test_starlette_writes_at_lifespan_shutdown_and_starts_from_it(tmp_path: Path) -> None:
    snap = {"snapshot_path": tmp_path / "s", "snapshot_key": KEY}
    with TestClient(profile_app(**snap), base_url="https://testserver") as c:
        alice = cookie_of(c.post("/login/alice"))
        c.cookies.clear()
        bob = cookie_of(c.post("/login/bob"))
        c.cookies.clear()
        c.post("/logout", headers={"Cookie": bob})
        c.cookies.clear()
    assert (tmp_path / "s").exists(), "written at lifespan shutdown"
    with TestClient(profile_app(**snap), base_url="https://testserver") as c:
        assert c.get("/profile", headers={"Cookie": alice}).text == "alice"
        c.cookies.clear()
        assert c.get("/profile", headers={"Cookie": bob}).status_code == 401
    # Without a snapshot configured, a restart starts empty.
    with TestClient(profile_app(), base_url="https://testserver") as c:
        assert c.get("/profile", headers={"Cookie": alice}).status_code == 401


def test_flask_write_snapshot_and_restore_or_new(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s"

    def make(engine: sessile.Engine) -> tuple[flask.Flask, sf.SessionInterface]:
        app = flask.Flask(__name__)
        iface = sf.SessionInterface(engine, snapshot_path=path, snapshot_key=KEY)
        app.session_interface = iface

        @app.post("/login/<user>")
        def login(user: str) -> str:
            sf.login(user)
            return "ok"

        @app.get("/profile")
        def profile() -> tuple[str, int]:
            user = sf.current_principal()
            return str(user), 200 if user else 401

        return app, iface

    app, iface = make(sessile.Engine.restore_or_new(path, KEY))  # no file yet: empty
    c = app.test_client(use_cookies=False)
    alice = c.post("/login/alice").headers["Set-Cookie"].split(";", 1)[0]
    assert iface.write_snapshot() is True
    app, _ = make(sessile.Engine.restore_or_new(path, KEY))
    assert (
        app.test_client(use_cookies=False).get("/profile", headers={"Cookie": alice}).status_code
        == 200
    )
    with caplog.at_level(logging.WARNING, logger="sessile"):
        app, _ = make(sessile.Engine.restore_or_new(path, bytes(32 * [7])))
    assert "snapshot_wrong_key" in caplog.text
    assert (
        app.test_client(use_cookies=False).get("/profile", headers={"Cookie": alice}).status_code
        == 401
    )
    with pytest.raises(TypeError):
        sf.SessionInterface(sessile.Engine(), snapshot_path=path)
