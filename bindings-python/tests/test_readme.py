"""The README's Python snippets run as written (the quickstart cannot rot)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, STORE_KEY, RedisServer

README = ROOT / "bindings-python" / "README.md"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def snippet(marker: str) -> str:
    """The one snippet containing ``marker`` (sections move; their code is found)."""
    [code] = [c for c in snippets() if marker in c]
    return code


def test_quickstart_runs() -> None:
    code = snippets()
    assert len(code) >= 3
    assert "sessile.Engine(" in code[0]
    exec(compile(code[0], "README quickstart", "exec"), {})


def test_flask_snippet_runs() -> None:
    import warnings

    import sessile.flask

    ns: dict[str, object] = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", sessile.flask.SettingsWarning)
        exec(compile(snippet("sessile.flask.login("), "README flask", "exec"), ns)
    client = ns["app"].test_client()  # type: ignore[attr-defined]
    r = client.post("/login")
    assert r.status_code == 200 and "__Host-sid=" in r.headers["Set-Cookie"]


def test_flask_login_snippet_runs() -> None:
    import warnings

    import sessile.flask

    ns: dict[str, object] = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", sessile.flask.SettingsWarning)
        exec(compile(snippet("sessile.flask_login.init_app"), "README flask-login", "exec"), ns)
    assert "sessile" in ns["app"].extensions  # type: ignore[attr-defined]


def test_asgi_snippet_runs() -> None:
    from starlette.testclient import TestClient

    ns: dict[str, object] = {}
    exec(compile(snippet("Middleware(SessionMiddleware"), "README asgi", "exec"), ns)
    assert TestClient(ns["app"]).get("/nothing").status_code == 404  # type: ignore[arg-type]


def test_fastapi_snippet_runs() -> None:
    from starlette.testclient import TestClient

    ns: dict[str, object] = {}
    exec(compile(snippet("sessile.fastapi"), "README fastapi", "exec"), ns)
    c = TestClient(ns["app"], base_url="https://localhost")  # type: ignore[arg-type]
    assert c.get("/me").status_code == 401
    assert c.get("/hello").json() == "hello visitor"
    c.post("/login")
    assert c.get("/me").json() == "alice"


def test_snapshot_snippet_runs() -> None:
    code = snippet("Engine.restore(")
    exec(compile(code, "README snapshot", "exec"), {})


def test_redis_snippet_runs(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    code = snippet('store=os.environ["SESSILE_STORE"]')
    monkeypatch.setenv("SESSILE_STORE", redis_server.url)
    monkeypatch.setenv("SESSILE_STORE_KEY", STORE_KEY)
    exec(compile(code, "README redis", "exec"), {})
