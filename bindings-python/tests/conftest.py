from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

import sessile

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """Seconds, advanced by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_engine(clock: FakeClock) -> Callable[..., sessile.Engine]:
    def make(**kw: Any) -> sessile.Engine:
        kw.setdefault("clock", clock)
        kw.setdefault("capacity", 64)
        kw.setdefault("pool_bytes", 64 * 1024)
        kw.setdefault("max_payload", 4096)
        return sessile.Engine(**kw)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., sessile.Engine]) -> sessile.Engine:
    return make_engine()


class RedisServer:
    """A redis-server of this test's own, on a unix socket in a temporary folder (no
    snapshots, no AOF, no TCP port), stopped when the test ends; `stop` and `start` it
    mid-test. Missing redis-server fails the test: `make tools-redis` installs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is missing: run `make tools-redis`")
        self.socket.unlink(missing_ok=True)
        log = open(self.folder / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=log,
            stderr=log,
        )
        log.close()
        for _ in range(1000):
            if self.ping():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        pytest.fail(f"redis-server did not start: {(self.folder / 'redis.log').read_text()}")

    def ping(self) -> bool:
        """Whether the server answers (its socket file exists before it does)."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(str(self.socket))
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


#: A store key for tests (a deployment's is 32 random bytes).
STORE_KEY = "5e" * 32


@pytest.fixture
def make_shared(
    redis_server: RedisServer, request: pytest.FixtureRequest
) -> Callable[..., sessile.Engine]:
    """Engines over the test's redis-server, under a prefix of the test's own."""

    def make(**kw: Any) -> sessile.Engine:
        kw.setdefault("store", redis_server.url)
        kw.setdefault("store_key", STORE_KEY)
        kw.setdefault("store_prefix", "t-" + request.node.name[:40])
        # Two seconds, not the 100 ms defaults: a healthy server's late reply on a busy
        # machine must not fail a test that is not about timeouts (the ones that are set
        # their own; test_redis.py checks the defaults).
        kw.setdefault("store_connect_timeout", 2.0)
        kw.setdefault("store_response_timeout", 2.0)
        return sessile.Engine(**kw)

    return make


def http_request(
    url: str, method: str, cookie: str | None = None, data: str | None = None
) -> tuple[int, str | None]:
    """One request to a demo server: (status, the Set-Cookie's `name=value`, if any)."""
    req = urllib.request.Request(url, method=method, data=data.encode() if data else None)
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, headers = r.status, r.headers
    except urllib.error.HTTPError as e:
        status, headers = e.code, e.headers
    set_cookie = headers.get("Set-Cookie")
    return status, set_cookie.split(";", 1)[0] if set_cookie else None
