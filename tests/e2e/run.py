#!/usr/bin/env python3
"""One end-to-end suite, every demo server: the same scenarios over real HTTP with curl.

Usage: run.py [--redis] NAME=COMMAND [NAME=COMMAND ...]
Each COMMAND starts a demo server that follows tests/e2e/README.md (PORT from the
environment, `listening on ...` on stdout, `sessile-event ...` lines on stderr).
Servers are started on free 127.0.0.1 ports and stopped afterwards. Standard library only.

With --redis every server keeps its sessions in a redis-server that this script starts on
a unix socket in a temporary folder (SESSILE_STORE, SESSILE_STORE_KEY and a prefix per
server in SESSILE_STORE_PREFIX), and three more scenarios run: two processes of one
command share sessions, the README flow repeated across a multi-worker server's workers,
and a store that stops answers 503 and recovers.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on a unix socket in a temporary folder, no persistence: started and
    stopped by this script only (by its pid)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sessile-e2e-redis-"))
        self.sock = self.dir / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.sock), "--unixsocketperm", "700",
             "--dir", str(self.dir), "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "redis.log", "ab"),
        )
        for _ in range(200):
            if self.sock.exists():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
        if self.sock.exists():
            self.sock.unlink()

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"


REDIS: Redis | None = None
# A fixed deployment key: every process of one test run must share it; it protects nothing
# outside this temporary server.
STORE_KEY = "5e" * 32


def store_env(name: str, prefix: str | None = None) -> dict[str, str]:
    if REDIS is None:
        return {}
    return {"SESSILE_STORE": REDIS.url, "SESSILE_STORE_KEY": STORE_KEY, "SESSILE_SECRET": STORE_KEY,
            "SESSILE_STORE_PREFIX": prefix or fresh_prefix(name)}


class Server:
    """A demo server on a free port, its curl jars and log in a temporary folder (removed at
    stop). With ``clock=True`` its engine's clock runs ``advance``'s milliseconds ahead
    (SESSILE_CLOCK_OFFSET_FILE, tests/e2e/README.md): timeouts are tested without waiting,
    so a slow machine cannot change the verdict."""

    def __init__(self, name: str, command: str, env: dict[str, str] | None = None, prefix: str | None = None,
                 clock: bool = False):
        self.name = name
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"sessile-e2e-{name}-"))
        self.log = self.dir / "stderr"
        full_env = dict(os.environ, PORT=str(self.port), **store_env(name, prefix), **(env or {}))
        if clock:
            self.advance(0)
            full_env["SESSILE_CLOCK_OFFSET_FILE"] = str(self.dir / "clock-offset-ms")
        self.proc = subprocess.Popen(
            shlex.split(command),
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=open(self.log, "wb"),
            text=True,
        )
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            if "listening on 127.0.0.1:" in line:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited early: {self.log.read_text()[-2000:]}")
        else:
            raise RuntimeError(f"{name} did not start: {line!r}")
        self._wait_port()

    def _wait_port(self) -> None:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name}: port {self.port} never opened")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def advance(self, ms: int) -> None:
        """The server's clock is now ``ms`` milliseconds ahead of real time (only ever
        forward). Written whole and renamed into place: a reader never sees half of it."""
        tmp = self.dir / "clock-offset-ms.new"
        tmp.write_text(str(ms))
        os.replace(tmp, self.dir / "clock-offset-ms")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def curl(self, path: str, *args: str) -> tuple[int, str, str]:
        """Returns (status, headers, body)."""
        out = subprocess.run(
            ["curl", "-s", "-D", "headers", "-o", "body", "-w", "%{http_code}", "--max-time", "10", *args,
             f"http://127.0.0.1:{self.port}{path}"],
            cwd=self.dir, capture_output=True, text=True, check=False,
        )
        headers = (self.dir / "headers").read_text(errors="replace") if (self.dir / "headers").exists() else ""
        body = (self.dir / "body").read_text(errors="replace") if (self.dir / "body").exists() else ""
        code = int(out.stdout.strip() or 0)
        return code, headers, body

    def jar_token(self, jar: str) -> str | None:
        p = self.dir / jar
        if not p.exists():
            return None
        rows = [ln.split("\t") for ln in p.read_text().splitlines() if "\t" in ln]
        vals = [r[-1] for r in rows if len(r) >= 7 and r[5].endswith("sid")]
        return vals[-1] if vals else None

    def events(self) -> list[str]:
        return re.findall(r"sessile-event (\w+) session=[0-9a-f]{16}", self.log.read_text(errors="replace"))


def login(s: Server, jar: str, user: str, *extra: str) -> int:
    return s.curl("/login", "-c", jar, *extra, "-d", f"username={user}&password={user}")[0]


# --- scenarios: each takes a running default server; raises AssertionError on failure ---

def readme_flow(s: Server) -> None:
    assert login(s, "jar", "admin") == 200
    code, _, body = s.curl("/profile", "-b", "jar")
    assert code == 200 and "admin" in body, (code, body)
    assert s.curl("/logout", "-b", "jar", "-X", "POST")[0] == 200
    code, _, _ = s.curl("/profile", "-b", "jar")
    assert code == 401, f"old cookie after logout gave {code}"


def fixation(s: Server) -> None:
    assert s.curl("/", "-c", "planted")[0] == 200
    planted = s.jar_token("planted")
    assert planted, "GET / must start an anonymous session"
    (s.dir / "victim").write_bytes((s.dir / "planted").read_bytes())
    assert login(s, "victim", "alice", "-b", "victim") == 200
    fresh = s.jar_token("victim")
    assert fresh and fresh != planted, "login must issue a new ID"
    assert s.curl("/profile", "-b", "victim")[0] == 200
    assert s.curl("/profile", "-b", "planted")[0] == 401, "planted ID must be dead after login"


def logout_everywhere(s: Server) -> None:
    assert login(s, "a", "bob") == 200
    assert login(s, "b", "bob") == 200
    code, _, body = s.curl("/sessions", "-b", "a")
    assert code == 200 and re.search(r'"count":\s*2', body), body
    code, _, _ = s.curl("/logout-everywhere", "-b", "a", "-X", "POST")
    assert code == 200
    assert s.curl("/profile", "-b", "b")[0] == 401
    assert s.curl("/profile", "-b", "a")[0] == 401


def event_logged(s: Server, kind: str) -> None:
    """The server logs `kind` (servers may write their log a moment after answering)."""
    for _ in range(50):
        if kind in s.events():
            return
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event in log: {s.events()}")


def reuse_after_logout_logged(s: Server) -> None:
    assert login(s, "r", "admin") == 200
    assert s.curl("/logout", "-b", "r", "-X", "POST")[0] == 200
    assert s.curl("/profile", "-b", "r")[0] == 401
    event_logged(s, "reuse_after_logout")


def cookie_attributes(s: Server) -> None:
    code, headers, _ = s.curl("/login", "-d", "username=admin&password=admin")
    assert code == 200
    cookies = [ln for ln in headers.splitlines() if ln.lower().startswith("set-cookie:")]
    assert cookies, headers
    line = cookies[-1]
    attrs = [a.strip().lower() for a in line.split(":", 1)[1].split(";")]
    assert attrs[0].startswith("__host-"), line
    for want in ("httponly", "secure", "samesite=lax", "path=/"):
        assert want in attrs, f"{want} missing: {line}"
    assert not any(a.startswith("domain") for a in attrs), line


def hostile_cookies(s: Server) -> None:
    cases = [
        "__Host-sid=",
        "__Host-sid=\x01\x02garbage",
        "__Host-sid=aaa; __Host-sid=bbb",
        ";;;===;",
        '__Host-sid="unterminated',
        "__Host-sid=" + "A" * 43,
        "__Host-sid=" + "A" * 9000,
        "x=" + "y" * 17000,
    ]
    for c in cases:
        for path in ("/profile", "/"):
            code, _, _ = s.curl(path, "-H", f"Cookie: {c}")
            assert code < 500 and code != 0, f"{path} with Cookie {c[:40]!r} gave {code}"
            if path == "/profile":
                assert code in (400, 401, 413, 431), f"/profile with Cookie {c[:40]!r} gave {code}"
    assert s.alive(), "server died"
    assert s.curl("/")[0] == 200


def cookie_tossing(s: Server) -> None:
    """A second session cookie planted beside the user's (a sibling subdomain can do it):
    a planted copy that names no live session does not log the user out; when two copies
    name live sessions, both are ended and neither user is served."""
    assert login(s, "victim", "alice") == 200
    victim = s.jar_token("victim")
    assert victim
    unknown = "__Host-sid=" + "B" * 43
    for header in (f"{unknown}; __Host-sid={victim}", f"__Host-sid={victim}; {unknown}"):
        code, _, body = s.curl("/profile", "-H", f"Cookie: {header}")
        assert code == 200 and "alice" in body, f"planted dead copy locked the user out: {code}"
    assert login(s, "attacker", "bob") == 200
    attacker = s.jar_token("attacker")
    assert attacker and attacker != victim
    code, _, body = s.curl("/profile", "-H", f"Cookie: __Host-sid={attacker}; __Host-sid={victim}")
    assert code == 401 and "bob" not in body, f"two live copies served someone: {code} {body[:80]!r}"
    assert s.curl("/profile", "-b", "victim")[0] == 401, "an ambiguous copy must be ended"
    assert s.curl("/profile", "-b", "attacker")[0] == 401, "an ambiguous copy must be ended"
    event_logged(s, "duplicate_cookie")
    assert login(s, "victim", "alice") == 200, "the user can log in again"
    assert s.curl("/profile", "-H", f"Cookie: __Host-sid={attacker}; __Host-sid={s.jar_token('victim')}")[0] == 200


def idle_expiry(name: str, command: str) -> None:
    """A session unused for its idle timeout ends; each use restarts the count. Time is
    moved on through the server's clock (``Server.advance``): no sleeping, no race with
    a slow machine (the margins are seconds of engine time; real time adds milliseconds)."""
    s = Server(name, command, {"SESSILE_IDLE_MS": "60000", "SESSILE_ABSOLUTE_MS": "3600000"}, clock=True)
    try:
        assert login(s, "j", "admin") == 200
        s.advance(45_000)
        assert s.curl("/profile", "-b", "j")[0] == 200, "45 s idle of 60: still alive"
        s.advance(100_000)
        assert s.curl("/profile", "-b", "j")[0] == 200, "55 s since its last use: a use must restart the count"
        s.advance(170_000)
        assert s.curl("/profile", "-b", "j")[0] == 401, "idle session must expire"
    finally:
        s.stop()


def absolute_expiry(name: str, command: str) -> None:
    """A session in use ends at its absolute timeout all the same."""
    s = Server(name, command, {"SESSILE_IDLE_MS": "60000", "SESSILE_ABSOLUTE_MS": "150000"}, clock=True)
    try:
        assert login(s, "j", "admin") == 200
        # Stay busy: the idle timer never fires, the absolute one must.
        for at in (50_000, 100_000, 140_000):
            s.advance(at)
            assert s.curl("/profile", "-b", "j")[0] == 200, f"busy session ended early, at {at} ms"
        s.advance(151_000)
        assert s.curl("/profile", "-b", "j")[0] == 401, "absolute timeout must end a busy session"
    finally:
        s.stop()


def flood(name: str, command: str) -> None:
    """Anonymous sessions created at 10x capacity must not push out a logged-in user."""
    s = Server(name, command, {"SESSILE_CAPACITY": "40"})
    try:
        assert login(s, "victim", "admin") == 200
        for i in range(400):
            code = s.curl("/")[0]
            assert code == 200, f"anonymous request {i} gave {code}"
        assert s.curl("/profile", "-b", "victim")[0] == 200, "authenticated session lost to a flood"
        assert login(s, "late", "alice") == 200, "login must still succeed under a flood"
        assert s.curl("/profile", "-b", "late")[0] == 200
    finally:
        s.stop()


_PREFIXES = iter(range(1_000_000))


def fresh_prefix(name: str) -> str:
    return f"e2e-{name}-{os.getpid()}-{next(_PREFIXES)}"


def across_processes(name: str, command: str) -> None:
    """Two processes of one app over one store: a login on one is known to the other, a
    logout or "log out everywhere" on one ends the session on the other."""
    prefix = fresh_prefix(name)
    a = Server(name, command, prefix=prefix)
    try:
        b = Server(name, command, prefix=prefix)
        try:
            assert login(a, "jar", "admin") == 200
            (b.dir / "jar").write_bytes((a.dir / "jar").read_bytes())
            code, _, body = b.curl("/profile", "-b", "jar")
            assert code == 200 and "admin" in body, f"login on one process unknown to the other: {code}"
            assert b.curl("/logout", "-b", "jar", "-X", "POST")[0] == 200
            assert a.curl("/profile", "-b", "jar")[0] == 401, "logout on one process left the session alive on another"
            assert login(a, "x", "bob") == 200
            assert login(b, "y", "bob") == 200
            code, _, body = a.curl("/sessions", "-b", "x")
            assert code == 200 and re.search(r'"count":\s*2', body), body
            (a.dir / "y").write_bytes((b.dir / "y").read_bytes())
            assert b.curl("/logout-everywhere", "-b", "y", "-X", "POST")[0] == 200
            assert a.curl("/profile", "-b", "x")[0] == 401, "log out everywhere missed another process's session"
            assert a.curl("/profile", "-b", "y")[0] == 401
        finally:
            b.stop()
    finally:
        a.stop()


def store_down(name: str, command: str) -> None:
    """The store stops: requests that need a session answer 503 with a short text, never
    a 500 or a trace, never a valid session; when it is back the same server recovers."""
    assert REDIS is not None
    s = Server(name, command, prefix=fresh_prefix(name))
    try:
        assert login(s, "j", "admin") == 200
        REDIS.stop()
        try:
            for path, args in (("/profile", ("-b", "j")), ("/", ()), ("/login", ("-d", "username=admin&password=admin"))):
                code, _, body = s.curl(path, *args)
                assert code == 503, f"{path} with the store down gave {code}: {body[:200]!r}"
                assert len(body) < 200 and "Traceback" not in body and "    at " not in body, body[:300]
                assert "admin" not in body, f"{path} served a session with the store down"
        finally:
            REDIS.start()
        # No persistence: the server came back empty, so the old cookie names nothing.
        assert s.curl("/profile", "-b", "j")[0] == 401
        assert login(s, "k", "alice") == 200, "the server did not recover when the store came back"
        assert s.curl("/profile", "-b", "k")[0] == 200
        assert s.alive()
    finally:
        s.stop()


def across_workers(name: str, command: str) -> None:
    """A multi-worker server (gunicorn -w 4, a Node cluster): the README flow, several
    times over, must hold whichever worker answers each request."""
    s = Server(name, command, prefix=fresh_prefix(name))
    try:
        for i in range(3):
            jar = f"w{i}"
            assert login(s, jar, "admin") == 200
            for _ in range(8):
                code, _, body = s.curl("/profile", "-b", jar)
                assert code == 200 and "admin" in body, f"run {i}: a worker did not know the login ({code})"
            assert s.curl("/logout", "-b", jar, "-X", "POST")[0] == 200
            for _ in range(8):
                code = s.curl("/profile", "-b", jar)[0]
                assert code == 401, f"run {i}: a worker still served the session after logout ({code})"
    finally:
        s.stop()


SHARED = [readme_flow, fixation, logout_everywhere, reuse_after_logout_logged, cookie_attributes, hostile_cookies,
          cookie_tossing]
OWN_SERVER = [idle_expiry, absolute_expiry]


def main(argv: list[str]) -> int:
    global REDIS
    redis = "--redis" in argv
    argv = [a for a in argv if a != "--redis"]
    servers = [a.split("=", 1) for a in argv]
    flood_on = os.environ.get("SESSILE_E2E_FLOOD", "rust")
    if redis:
        REDIS = Redis()
    try:
        return run(servers, flood_on, redis)
    finally:
        if REDIS is not None:
            REDIS.stop()
            shutil.rmtree(REDIS.dir, ignore_errors=True)
            REDIS = None


def run(servers: list[list[str]], flood_on: str, redis: bool) -> int:
    passed = failed = 0
    for name, command in servers:
        results: list[tuple[str, str | None]] = []
        s = Server(name, command)
        try:
            for scenario in SHARED:
                try:
                    scenario(s)
                    results.append((scenario.__name__, None))
                except AssertionError as e:
                    results.append((scenario.__name__, str(e) or "assertion failed"))
        finally:
            s.stop()
        extra = OWN_SERVER + ([flood] if name == flood_on else [])
        if redis:
            extra = extra + [across_processes, across_workers, store_down]
        for scenario in extra:
            try:
                scenario(name, command)
                results.append((scenario.__name__, None))
            except AssertionError as e:
                results.append((scenario.__name__, str(e) or "assertion failed"))
        for scenario_name, err in results:
            if err is None:
                passed += 1
                print(f"ok   {name:7} {scenario_name}")
            else:
                failed += 1
                print(f"FAIL {name:7} {scenario_name}: {err}")
    print(f"e2e: {passed} passed, {failed} failed")
    return 1 if failed or not servers else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
