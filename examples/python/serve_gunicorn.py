"""The Flask demo (app.py) under gunicorn: several worker processes over one Redis store.

    make demo DEMO=python STORE=redis [PORT=8080] [WORKERS=4]
    .venv/bin/python examples/python/serve_gunicorn.py            # the same

Sessions live in the Redis or Valkey server that ``SESSILE_STORE`` names (with
``SESSILE_STORE_KEY`` and ``SESSILE_STORE_PREFIX``, see app.py). Without
``SESSILE_STORE``, this script starts a redis-server of its own on a unix socket in a
temporary folder (no TCP port, nothing written to disk) and stops it on exit; without
``SESSILE_STORE_KEY`` it makes a random key for this run. The app is loaded once in
gunicorn's master and forked into the workers (``--preload``): each worker reseeds its
token generator and opens its own connection (sessile's fork handling).

Follows tests/e2e/README.md: serves 127.0.0.1:$PORT (0 picks a free port), prints
``listening on 127.0.0.1:<port>`` on standard output once accepting, and each worker
writes ``sessile-event <kind> session=<16 hex digits>`` lines to standard error.
Gunicorn's own log goes to standard error at WARNING.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))

import app as demo  # the demo beside this file


class RedisServer:
    """A redis-server for this run: unix socket in a temporary folder, stopped on exit."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            sys.exit("redis-server is missing: run `make tools-redis`, or set SESSILE_STORE")
        self.dir = tempfile.mkdtemp(prefix="sessile-demo-redis-")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.proc = subprocess.Popen(
            [
                *(exe, "--port", "0", "--unixsocket", self.socket, "--unixsocketperm", "700"),
                *("--dir", self.dir, "--save", "", "--appendonly", "no"),
                *("--maxmemory-policy", "noeviction", "--daemonize", "no"),
                *("--loglevel", "warning"),
            ],
            stdout=sys.stderr,
            # Its own process group: Ctrl-C stops gunicorn first, then this stops Redis.
            start_new_session=True,
        )
        for _ in range(1000):
            if self.ping():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        self.stop()
        sys.exit("redis-server did not start")

    def ping(self) -> bool:
        """Whether the server answers (its socket file exists before it does)."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(self.socket)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured here rather than from its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return demo.create_app(demo.make_engine())


def when_ready(server: Any) -> None:
    """The master listens (the workers inherit its socket): say where, as the contract asks."""
    host, port = server.LISTENERS[0].sock.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)


def main() -> None:
    workers = int(os.environ.get("WORKERS", "4"))
    redis = None
    if not os.environ.get("SESSILE_STORE"):
        redis = RedisServer()
        os.environ["SESSILE_STORE"] = redis.url
    if os.environ.get("SESSILE_STORE") and not os.environ.get("SESSILE_STORE_KEY"):
        # This run's secret: every worker inherits it; a restart makes a new one (and so
        # starts without sessions, as the store it started does).
        os.environ["SESSILE_STORE_KEY"] = secrets.token_hex(32)
    demo.log_events()
    master = os.getpid()
    try:
        Server(
            {
                "bind": f"127.0.0.1:{int(os.environ.get('PORT', '8080'))}",
                "workers": workers,
                "preload_app": True,
                "when_ready": when_ready,
                "loglevel": "warning",
                "accesslog": None,
                "graceful_timeout": 5,
            }
        ).run()
    finally:
        # Workers are forked from this process and leave through here too: only the
        # master stops the server it started.
        if redis is not None and os.getpid() == master:
            redis.stop()


if __name__ == "__main__":
    main()
