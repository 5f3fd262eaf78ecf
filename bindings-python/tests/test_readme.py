"""The README's Python snippets run as written (the quickstart cannot rot)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, STORE_KEY, RedisServer

README = ROOT / "bindings-python" / "README.md"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_quickstart_runs() -> None:
    code = snippets()
    assert len(code) >= 3
    assert "sessile.Engine(" in code[0]
    exec(compile(code[0], "README quickstart", "exec"), {})


def test_flask_snippet_runs() -> None:
    ns: dict[str, object] = {"__name__": "__main__"}
    exec(compile(snippets()[1], "README flask", "exec"), ns)
    client = ns["app"].test_client()  # type: ignore[attr-defined]
    r = client.post("/login")
    assert r.status_code == 200 and "__Host-sid=" in r.headers["Set-Cookie"]


def test_asgi_snippet_runs() -> None:
    from starlette.testclient import TestClient

    ns: dict[str, object] = {}
    exec(compile(snippets()[2], "README asgi", "exec"), ns)
    assert TestClient(ns["app"]).get("/nothing").status_code == 404  # type: ignore[arg-type]


def test_snapshot_snippet_runs() -> None:
    code = snippets()[3]
    assert "Engine.restore(" in code
    exec(compile(code, "README snapshot", "exec"), {})


def test_redis_snippet_runs(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    code = snippets()[4]
    assert 'store=os.environ["SESSILE_STORE"]' in code
    monkeypatch.setenv("SESSILE_STORE", redis_server.url)
    monkeypatch.setenv("SESSILE_STORE_KEY", STORE_KEY)
    exec(compile(code, "README redis", "exec"), {})
