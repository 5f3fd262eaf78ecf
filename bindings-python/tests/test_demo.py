"""The Flask demo (examples/python/app.py) over real HTTP on 127.0.0.1, driven by curl
with a cookie jar, following tests/e2e/README.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT

CURL = "curl"


class Demo:
    def __init__(self, proc: subprocess.Popen[str], port: int, tmp: Path) -> None:
        self.proc = proc
        self.base = f"http://127.0.0.1:{port}"
        self.tmp = tmp

    def curl(
        self,
        method: str,
        path: str,
        *,
        jar: str = "main",
        data: str | None = None,
        cookie: str | None = None,
    ) -> tuple[int, dict[str, list[str]], str]:
        """One request; returns (status, headers, body). `jar` names a curl cookie jar."""
        args = [CURL, "-sS", "-X", method, "-D", "-", "-o", str(self.tmp / "body")]
        if cookie is not None:
            args += ["-H", f"Cookie: {cookie}"]
        else:
            jar_file = str(self.tmp / f"{jar}.jar")
            args += ["-b", jar_file, "-c", jar_file]
        if data is not None:
            args += ["--data", data]
        out = subprocess.run(
            [*args, self.base + path], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        lines = out.splitlines()
        status = int(lines[0].split()[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers.setdefault(k.strip().lower(), []).append(v.strip())
        return status, headers, (self.tmp / "body").read_text()

    def jar_token(self, jar: str = "main") -> str | None:
        for line in (self.tmp / f"{jar}.jar").read_text().splitlines():
            fields = line.split("\t")
            if len(fields) == 7 and fields[5] == "__Host-sid":
                return fields[6]
        return None


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    env = dict(os.environ, PORT="0", PYTHONUNBUFFERED="1")
    stderr = open(tmp_path / "stderr", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples/python/app.py")],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line
        yield Demo(proc, int(line.rsplit(":", 1)[1]), tmp_path)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stderr.close()


def events(demo: Demo) -> list[str]:
    return [
        ln
        for ln in (demo.tmp / "stderr").read_text().splitlines()
        if ln.startswith("sessile-event ")
    ]


def test_curl_flow(demo: Demo) -> None:
    status, headers, body = demo.curl("GET", "/")
    assert status == 200
    anon = demo.jar_token()
    assert anon is not None
    cookie = headers["set-cookie"][0]
    for attr in ("__Host-sid=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"):
        assert attr in cookie

    assert demo.curl("GET", "/profile")[0] == 401
    assert demo.curl("POST", "/login", data="username=alice&password=wrong")[0] == 401
    assert demo.curl("POST", "/login", data="nothing=here")[0] == 400
    status, headers, body = demo.curl("POST", "/login", data="username=alice&password=alice")
    assert status == 200 and "alice" in body
    token = demo.jar_token()
    assert token is not None and token != anon

    status, _, body = demo.curl("GET", "/profile")
    assert status == 200 and "alice" in body
    status, _, body = demo.curl("GET", "/sessions")
    assert status == 200 and json.loads(body) == {"count": 1}

    status, headers, _ = demo.curl("POST", "/logout")
    assert status == 200 and "Max-Age=0" in headers["set-cookie"][0]
    assert demo.curl("GET", "/profile")[0] == 401
    assert demo.curl("POST", "/logout")[0] == 200  # also with no session
    # The logged-out token replayed: refused, and reported.
    assert demo.curl("GET", "/profile", cookie=f"__Host-sid={token}")[0] == 401
    assert demo.curl("GET", "/sessions")[0] == 401
    assert demo.curl("POST", "/logout-everywhere")[0] == 401

    log = events(demo)
    assert any(e.startswith("sessile-event created session=") for e in log)
    assert any(e.startswith("sessile-event logged_in session=") for e in log)
    assert any(e.startswith("sessile-event reuse_after_logout session=") for e in log)
    for e in log:
        _kind, session = e.split()[1:]
        assert session.startswith("session=") and len(session) == len("session=") + 16


def test_session_fixation_attempt(demo: Demo) -> None:
    # The attacker obtains an anonymous session and plants its cookie in the victim's jar.
    demo.curl("GET", "/", jar="attacker")
    planted = demo.jar_token("attacker")
    assert planted is not None
    (demo.tmp / "victim.jar").write_text((demo.tmp / "attacker.jar").read_text())
    status, _, _ = demo.curl("POST", "/login", jar="victim", data="username=bob&password=bob")
    assert status == 200
    victim = demo.jar_token("victim")
    assert victim is not None and victim != planted  # the planted ID did not survive login
    assert demo.curl("GET", "/profile", jar="victim")[0] == 200
    status, _, body = demo.curl("GET", "/profile", jar="attacker")
    assert status == 401 and "bob" not in body
    assert any(e.startswith("sessile-event reuse_after_rotation") for e in events(demo))


def test_logout_everywhere(demo: Demo) -> None:
    for jar in ("laptop", "phone"):
        assert demo.curl("POST", "/login", jar=jar, data="username=admin&password=admin")[0] == 200
    status, _, body = demo.curl("GET", "/sessions", jar="phone")
    assert json.loads(body) == {"count": 2}
    status, _headers, body = demo.curl("POST", "/logout-everywhere", jar="phone")
    assert status == 200 and "2" in body
    assert demo.curl("GET", "/profile", jar="laptop")[0] == 401
    assert demo.curl("GET", "/profile", jar="phone")[0] == 401


@pytest.mark.parametrize(
    "cookie",
    [
        "__Host-sid=" + "A" * 43,
        "__Host-sid=not a token",
        "__Host-sid=one; __Host-sid=two",
        "pad=" + "x" * 17_000,
        ";;;=;\x7f",
    ],
)
def test_bad_cookies_are_no_session(demo: Demo, cookie: str) -> None:
    for method, path in (("GET", "/"), ("GET", "/profile"), ("POST", "/logout")):
        status, _, _ = demo.curl(method, path, cookie=cookie)
        assert status < 500
    assert demo.curl("GET", "/profile", cookie=cookie)[0] == 401


def set_token(headers: dict[str, list[str]]) -> str:
    """The token of the response's session Set-Cookie."""
    (cookie,) = headers["set-cookie"]
    name, value = cookie.split(";")[0].split("=", 1)
    assert name == "__Host-sid"
    return value


# A browser sends a second cookie of the same name when one was set for another path or
# (for a name without the __Host- prefix) planted from a sibling subdomain.


def test_a_planted_duplicate_cookie_does_not_log_the_user_out(demo: Demo) -> None:
    demo.curl("GET", "/", jar="old")
    dead = demo.jar_token("old")
    demo.curl("POST", "/logout", jar="old")
    demo.curl("POST", "/login", data="username=alice&password=alice")
    token = demo.jar_token()
    assert dead is not None and token is not None
    for planted in ("A" * 43, "garbage", dead):
        for cookie in (
            f"__Host-sid={planted}; __Host-sid={token}",
            f"__Host-sid={token}; __Host-sid={planted}",
        ):
            status, headers, body = demo.curl("GET", "/profile", cookie=cookie)
            assert status == 200 and "alice" in body, cookie
            assert "set-cookie" not in headers  # the same session goes on
    assert demo.curl("GET", "/profile")[0] == 200


def test_two_live_duplicate_cookies_end_both_then_a_fresh_session_works(demo: Demo) -> None:
    demo.curl("POST", "/login", data="username=alice&password=alice")
    victim = demo.jar_token()
    demo.curl("GET", "/", jar="attacker")
    planted = demo.jar_token("attacker")
    assert victim is not None and planted is not None
    both = f"__Host-sid={planted}; __Host-sid={victim}"
    assert demo.curl("GET", "/profile", cookie=both)[0] == 401
    # Both sessions ended server-side, so neither token works on its own either.
    assert demo.curl("GET", "/profile")[0] == 401
    assert demo.curl("GET", "/profile", cookie=f"__Host-sid={planted}")[0] == 401
    # The next request starts a fresh session; the browser replaces its own cookie, the
    # planted (now dead) copy stays beside it and no longer gets in the way.
    status, headers, _ = demo.curl("GET", "/", cookie=both)
    assert status == 200
    fresh = set_token(headers)
    assert fresh not in (victim, planted)
    pair = f"__Host-sid={planted}; __Host-sid={fresh}"
    status, headers, _ = demo.curl(
        "POST", "/login", cookie=pair, data="username=alice&password=alice"
    )
    assert status == 200
    status, _, body = demo.curl(
        "GET", "/profile", cookie=f"__Host-sid={planted}; __Host-sid={set_token(headers)}"
    )
    assert status == 200 and "alice" in body
    ended = [e for e in events(demo) if e.startswith("sessile-event duplicate_cookie ")]
    assert len(ended) == 2
