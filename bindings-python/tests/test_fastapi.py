"""sessile.fastapi: the session and the user as FastAPI dependencies."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import sessile
from sessile.fastapi import CurrentUser, RequiredUser, SessionDep
from sessile.starlette import SessionMiddleware


def make_app() -> tuple[FastAPI, sessile.Engine]:
    engine = sessile.Engine(
        capacity=64, pool_bytes=64 * 1024, cookie_name="sid", cookie_secure=False
    )
    app = FastAPI()
    app.add_middleware(SessionMiddleware, engine=engine)

    @app.post("/cart/{item}")
    def add(item: str, session: SessionDep) -> dict[str, object]:
        session["cart"] = [*session.get("cart", []), item]
        return {"cart": session["cart"]}

    @app.post("/login/{user}")
    def login(user: str, session: SessionDep) -> str:
        session.login(user)
        return "ok"

    @app.post("/logout")
    def logout(session: SessionDep) -> str:
        session.logout()
        return "ok"

    @app.get("/whoami")
    def whoami(user: CurrentUser) -> dict[str, str | None]:
        return {"user": user}

    @app.get("/private")
    def private(user: RequiredUser) -> dict[str, str]:
        return {"user": user}

    @app.get("/plain")
    def plain() -> str:
        return "no session used"

    return app, engine


def test_login_rotates_binds_the_user_and_keeps_the_data() -> None:
    app, engine = make_app()
    c = TestClient(app)
    assert c.post("/cart/apple").json() == {"cart": ["apple"]}
    before = c.cookies["sid"]
    assert c.get("/whoami").json() == {"user": None}
    assert c.get("/private").status_code == 401
    r = c.post("/login/alice")
    assert "set-cookie" in r.headers and c.cookies["sid"] != before
    assert engine.validate(c.cookies["sid"]).principal == "alice"
    assert c.get("/whoami").json() == {"user": "alice"}
    assert c.get("/private").json() == {"user": "alice"}
    assert c.post("/cart/pear").json() == {"cart": ["apple", "pear"]}
    # The pre-login token is dead.
    assert TestClient(app, cookies={"sid": before}).get("/whoami").json() == {"user": None}


def test_logout_ends_the_session_server_side() -> None:
    app, engine = make_app()
    c = TestClient(app)
    c.post("/login/bob")
    token = c.cookies["sid"]
    r = c.post("/logout")
    assert r.headers["set-cookie"] == "sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
    with pytest.raises(sessile.SessionInvalid):
        engine.validate(token)
    assert TestClient(app, cookies={"sid": token}).get("/private").status_code == 401


def test_the_user_dependency_marks_the_response_vary_cookie() -> None:
    app, _ = make_app()
    c = TestClient(app)
    assert "cookie" in c.get("/whoami").headers.get("vary", "").lower()
    assert "cookie" in c.get("/private").headers.get("vary", "").lower()  # the 401 too
    assert "vary" not in c.get("/plain").headers


def test_without_the_middleware_the_dependency_is_a_configuration_error() -> None:
    app = FastAPI()

    @app.get("/")
    def index(session: SessionDep) -> str:
        return "unreachable"

    with pytest.raises(RuntimeError, match="SessionMiddleware is not installed"):
        TestClient(app).get("/")


def test_the_example_app_follows_the_demo_contract() -> None:
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("fastapi_demo", ROOT / "examples/fastapi/app.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    engine = sessile.Engine(capacity=64, pool_bytes=64 * 1024)
    c = TestClient(demo.create_app(engine), base_url="https://localhost")
    assert c.get("/").status_code == 200 and "__Host-sid" in c.cookies
    assert c.post("/login", content="username=alice&password=nope").status_code == 401
    assert c.post("/login", content="user").status_code == 400
    r = c.post(
        "/login",
        content="username=alice&password=alice",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.text == "logged in as alice\n"
    assert c.get("/profile").text == "profile of alice\n"
    assert c.get("/sessions").json() == {"count": 1}
    assert c.post("/logout-everywhere").text == "ended 1 sessions\n"
    assert c.get("/profile").status_code == 401
