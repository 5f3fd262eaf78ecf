"""The Flask demo under gunicorn with 4 workers over one Redis (serve_gunicorn.py, what
`make demo DEMO=python STORE=redis` runs): issue 14's reproduction. Each request is a new
connection, so the workers take turns; a login made on one is known to every other, and
a logout on one is a logout on all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, STORE_KEY, RedisServer, http_request


class Gunicorn:
    def __init__(self, proc: subprocess.Popen[str], base: str, stderr: Path) -> None:
        self.proc, self.base, self.stderr = proc, base, stderr

    def request(
        self, method: str, path: str, cookie: str | None = None, data: str | None = None
    ) -> tuple[int, str | None]:
        return http_request(self.base + path, method, cookie, data)


@pytest.fixture
def gunicorn(redis_server: RedisServer, tmp_path: Path) -> Iterator[Gunicorn]:
    env = dict(
        os.environ,
        PORT="0",
        WORKERS="4",
        PYTHONUNBUFFERED="1",
        SESSILE_STORE=redis_server.url,
        SESSILE_STORE_KEY=STORE_KEY,
        SESSILE_STORE_PREFIX="gunicorn-test",
    )
    stderr = tmp_path / "stderr"
    with open(stderr, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples/python/serve_gunicorn.py")],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line + stderr.read_text()
        yield Gunicorn(proc, "http://" + line.split()[-1], stderr)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_readme_flow_passes_across_workers(gunicorn: Gunicorn) -> None:
    for _ in range(3):
        status, anon = gunicorn.request("GET", "/")
        assert status == 200 and anon
        status, cookie = gunicorn.request("POST", "/login", anon, "username=alice&password=alice")
        assert status == 200 and cookie and cookie != anon
        for _ in range(8):
            assert gunicorn.request("GET", "/profile", cookie)[0] == 200
        assert gunicorn.request("POST", "/logout", cookie)[0] == 200
        for _ in range(8):
            assert gunicorn.request("GET", "/profile", cookie)[0] == 401
    events = [
        line.split()[1]
        for line in gunicorn.stderr.read_text().splitlines()
        if line.startswith("sessile-event ")
    ]
    assert events.count("logged_in") == 3
    assert events.count("reuse_after_logout") == 3 * 8
