"""Flask over one Redis: sessile's store against Flask-Session's redis interface.

Run by `make bench-python` (after bench.py). One redis-server, started here on a unix
socket in a temporary folder (no persistence) and stopped at the end, serves both. Per
app, the WSGI app is called directly (no HTTP sockets) with a valid session cookie on
every request, for two request kinds:

- read-only: the view reads the session and changes nothing;
- read-modify-write: the view increments a counter in the session.

Reported, per request: the overhead over the same app without sessions (best of several
interleaved rounds), the round trips to Redis (the server's `total_reads_processed`
delta: one read event per request the client sent and waited on), the bytes sent to and
received from Redis (`total_net_input_bytes` / `total_net_output_bytes`), and the memory
one session takes in Redis (`used_memory` delta over many sessions with the same small
payload, and `MEMORY USAGE` of the keys).

Targets (issue 14): at most one round trip for a read-only request; sessile's overhead at
most half of Flask-Session's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import redis
from flask_session import Session as FlaskSession
from werkzeug.test import EnvironBuilder

import sessile
import sessile.flask

QUICK = os.environ.get("SESSILE_BENCH_QUICK") == "1"
REQUESTS = 500 if QUICK else 3000
ROUNDS = 3 if QUICK else 5
SESSIONS = 2000 if QUICK else 10_000
KEY = "b3" * 32  # a fixed deployment key: this server lives for this run only


class Server:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sessile-bench-redis-"))
        self.sock = self.dir / "redis.sock"
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                "0",
                "--unixsocket",
                str(self.sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            if self.sock.exists():
                break
            time.sleep(0.05)
        self.client = redis.Redis(unix_socket_path=str(self.sock))
        self.client.ping()

    def stats(self) -> dict[str, int]:
        info = self.client.info("stats")
        return {
            "reads": int(info["total_reads_processed"]),
            "in": int(info["total_net_input_bytes"]),
            "out": int(info["total_net_output_bytes"]),
        }

    def used_memory(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def flask_app(kind: str, server: Server, prefix: str) -> flask.Flask:
    app = flask.Flask(f"bench_redis_{kind}_{prefix}")
    app.secret_key = "bench-secret-key"
    plain: dict[str, Any] = {"n": 0}

    @app.get("/w")
    def write() -> str:
        s: Any = plain if kind == "none" else flask.session
        s["n"] = s.get("n", 0) + 1
        return "ok"

    @app.get("/r")
    def read() -> str:
        s: Any = plain if kind == "none" else flask.session
        return str(s.get("n", 0))

    if kind == "sessile":
        engine = sessile.Engine(store=f"unix://{server.sock}", store_key=KEY, store_prefix=prefix)
        app.session_interface = sessile.flask.SessionInterface(engine)
    elif kind == "flask-session":
        app.config.update(
            SESSION_TYPE="redis",
            SESSION_REDIS=redis.Redis(unix_socket_path=str(server.sock)),
            SESSION_KEY_PREFIX=f"{prefix}:",
        )
        FlaskSession(app)
    return app


def runner(app: flask.Flask, path: str) -> Callable[[int], None]:
    captured: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        captured[:] = [status, headers]

    first = EnvironBuilder(path="/w", headers={"User-Agent": "bench"}).get_environ()
    b"".join(app(dict(first), start_response))
    cookies = [v.split(";")[0] for k, v in captured[1] if k.lower() == "set-cookie"]
    environ = EnvironBuilder(path=path, headers={"User-Agent": "bench"}).get_environ()
    if cookies:
        environ["HTTP_COOKIE"] = cookies[0]
    assert captured[0].startswith("200"), captured

    def run(n: int) -> None:
        for _ in range(n):
            body = app(dict(environ), start_response)
            b"".join(body)
            close = getattr(body, "close", None)
            if close is not None:
                close()
        assert captured[0].startswith("200"), captured

    return run


def best_per_call(runners: dict[str, Callable[[int], None]], n: int) -> dict[str, float]:
    best = dict.fromkeys(runners, float("inf"))
    for r in runners.values():
        r(max(n // 10, 10))
    for _ in range(ROUNDS):
        for name, r in runners.items():
            t0 = time.perf_counter()
            r(n)
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    return best


def traffic(server: Server, run: Callable[[int], None], n: int) -> dict[str, float]:
    # Reading the counters is traffic of its own: measured by two readings with nothing
    # between, and taken off.
    a, b = server.stats(), server.stats()
    cost = {k: b[k] - a[k] for k in a}
    before = server.stats()
    run(n)
    after = server.stats()
    return {k: (after[k] - before[k] - cost[k]) / n for k in before}


def memory_per_session(server: Server, kind: str) -> tuple[float, float]:
    """(used_memory delta, MEMORY USAGE sum) per session, SESSIONS sessions of one
    small payload, each started by its own request."""
    prefix = f"mem-{kind}"
    app = flask_app(kind, server, prefix)
    captured: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        captured[:] = [status, headers]

    environ = EnvironBuilder(path="/w", headers={"User-Agent": "bench"}).get_environ()
    before = server.used_memory()
    for _ in range(SESSIONS):
        b"".join(app(dict(environ), start_response))
        assert captured[0].startswith("200")
    after = server.used_memory()
    pattern = f"{{{prefix}}}:*" if kind == "sessile" else f"{prefix}:*"
    usage = 0
    for k in server.client.scan_iter(
        match=pattern.replace("{", "\\{").replace("}", "\\}"), count=1000
    ):
        usage += int(server.client.memory_usage(k, samples=0) or 0)
    return (after - before) / SESSIONS, usage / SESSIONS


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.2f} µs"


def main() -> int:
    if shutil.which("redis-server") is None:
        print("bench_redis: redis-server missing (make tools-redis installs it)")
        return 1
    server = Server()
    try:
        return report(server)
    finally:
        server.stop()


def report(server: Server) -> int:
    print(
        f"\nFlask over one Redis (redis-server on a unix socket, {REQUESTS} requests x "
        f"{ROUNDS} rounds, best round)"
    )
    kinds = ["none", "sessile", "flask-session"]
    labels = {"sessile": "sessile (Redis store)", "flask-session": "Flask-Session (redis)"}
    verdicts = []
    for path, what in (("/r", "read-only"), ("/w", "read-modify-write")):
        runs = {k: runner(flask_app(k, server, f"t-{k}{path[1:]}"), path) for k in kinds}
        t = best_per_call(runs, REQUESTS)
        base = t["none"]
        print(f"\n  {what}: app without sessions {us(base)} per request")
        over = {k: t[k] - base for k in kinds[1:]}
        for k in kinds[1:]:
            tr = traffic(server, runs[k], REQUESTS)
            print(
                f"  {labels[k]:28s} {us(over[k])} overhead, {tr['reads']:4.2f} round trips, "
                f"{tr['in']:6.0f} B sent, {tr['out']:6.0f} B received per request"
            )
            if k == "sessile" and path == "/r":
                met = tr["reads"] <= 1.0
                verdicts.append(met)
                verdict = "met" if met else "NOT met"
                print(f"  target: read-only round trips <= 1: {tr['reads']:.2f} -> {verdict}")
        ratio = over["sessile"] / over["flask-session"]
        met = ratio <= 0.5
        verdicts.append(met)
        verdict = "met" if met else "NOT met"
        print(f"  target: sessile <= 0.5 x Flask-Session ({what}): {ratio:.2f} x -> {verdict}")

    print(f"\n  memory per session in Redis ({SESSIONS} sessions, payload {{'n': 1}})")
    for k in kinds[1:]:
        delta, usage = memory_per_session(server, k)
        print(
            f"  {labels[k]:28s} {delta:7.0f} B used_memory, {usage:7.0f} B MEMORY USAGE of its keys"
        )
    print(f"\nFlask over Redis targets: {'all met' if all(verdicts) else 'NOT all met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
