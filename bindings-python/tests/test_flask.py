"""sessile.flask on a real Flask app through its test client."""

from __future__ import annotations

import threading
from typing import Any

import flask
import pytest

import sessile
import sessile.flask as sf
from conftest import FakeClock


def make_app(engine: sessile.Engine) -> flask.Flask:
    app = flask.Flask("t")
    app.session_interface = sf.SessionInterface(engine)

    @app.get("/read")
    def read() -> Any:
        return {"data": dict(flask.session), "user": sf.current_principal()}

    @app.get("/static")
    def static_page() -> str:
        return "no session touched"

    @app.post("/set/<key>/<value>")
    def set_(key: str, value: str) -> str:
        flask.session[key] = value
        return "ok"

    @app.post("/append")
    def append() -> str:
        flask.session.setdefault("items", []).append(1)
        flask.session.modified = True
        return "ok"

    @app.post("/permanent")
    def permanent() -> str:
        flask.session.permanent = True
        return "ok"

    @app.post("/clear")
    def clear() -> str:
        flask.session.clear()
        return "ok"

    @app.post("/login/<user>")
    def login(user: str) -> str:
        sf.login(user)
        return "ok"

    @app.get("/profile")
    def profile() -> Any:
        user = sf.current_principal()
        return ("not logged in", 401) if user is None else f"profile of {user}"

    @app.post("/clear-then-login/<user>")
    def clear_then_login(user: str) -> str:
        flask.session.clear()
        sf.login(user)
        return "ok"

    @app.post("/clear-then-set/<key>/<value>")
    def clear_then_set(key: str, value: str) -> str:
        flask.session.clear()
        flask.session[key] = value
        return "ok"

    @app.post("/pop-then-set/<key>")
    def pop_then_set(key: str) -> str:
        flask.session[key] = flask.session.pop(key) + "!"
        return "ok"

    @app.post("/rotate")
    def rotate() -> str:
        sf.rotate()
        return "ok"

    @app.post("/logout")
    def logout() -> str:
        sf.logout()
        return "ok"

    @app.post("/big")
    def big() -> str:
        flask.session["big"] = "x" * 10_000
        return "ok"

    return app


def cookie_of(resp: Any) -> str | None:
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) <= 1
    return cookies[0] if cookies else None


def token_of(set_cookie: str) -> str:
    return set_cookie.split(";")[0].split("=", 1)[1]


@pytest.fixture
def app(make_engine) -> flask.Flask:  # type: ignore[no-untyped-def]
    return make_app(make_engine())


def test_no_session_no_cookie(app: flask.Flask) -> None:
    c = app.test_client()
    r = c.get("/static")
    assert cookie_of(r) is None and "Cookie" not in r.headers.get("Vary", "")
    r = c.get("/read")
    assert r.json == {"data": {}, "user": None}
    assert cookie_of(r) is None
    assert "Cookie" in r.headers["Vary"]  # the response depended on the session


@pytest.mark.parametrize(
    ("given", "sent"),
    [(None, "Cookie"), ("Accept-Encoding", "Accept-Encoding, Cookie"), ("cookie", "cookie")],
)
def test_vary_cookie_is_sent_once_beside_the_apps_own(
    make_engine,  # type: ignore[no-untyped-def]
    given: str | None,
    sent: str,
) -> None:
    app = make_app(make_engine())

    @app.post("/vary/<key>/<value>")
    def vary(key: str, value: str) -> Any:
        flask.session[key] = value
        return "ok", 200, {} if given is None else {"Vary": given}

    c = app.test_client()
    r = c.post("/vary/a/b")  # a new session: the cookie is set too
    assert r.headers.getlist("Vary") == [sent] and cookie_of(r) is not None
    r = c.post("/vary/a/c")
    assert r.headers.getlist("Vary") == [sent] and cookie_of(r) is None


def test_data_stays_server_side_and_cookie_only_when_needed(app: flask.Flask) -> None:
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    r = c.post("/set/color/blue")
    set_cookie = cookie_of(r)
    assert set_cookie is not None and set_cookie.startswith("__Host-sid=")
    assert "blue" not in set_cookie
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Max-Age" not in set_cookie  # not permanent: a browser-session cookie
    token = token_of(set_cookie)
    s = engine.validate(token)
    assert engine.read_json(s.handle) == {"color": "blue"}
    r = c.post("/set/size/L")
    assert cookie_of(r) is None  # same token: nothing to resend
    assert c.get("/read").json["data"] == {"color": "blue", "size": "L"}
    r = c.post("/append")
    r = c.post("/append")
    assert c.get("/read").json["data"]["items"] == [1, 1]
    assert engine.read_json(s.handle)["items"] == [1, 1]


def test_permanent_sets_max_age(app: flask.Flask) -> None:
    c = app.test_client()
    r = c.post("/permanent")
    assert "Max-Age=28800" in (cookie_of(r) or "")


def test_login_rotates_and_fixation_fails(app: flask.Flask) -> None:
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    before = token_of(cookie_of(c.post("/set/cart/3")) or "")
    r = c.post("/login/alice")
    after = token_of(cookie_of(r) or "")
    assert after != before
    assert c.get("/read").json == {"data": {"cart": "3"}, "user": "alice"}
    # The attacker who planted/knows the pre-login token gets nothing.
    attacker = app.test_client()
    attacker.set_cookie("__Host-sid", before)
    assert attacker.get("/read").json == {"data": {}, "user": None}
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(before)
    assert err.value.reason == "rotated_out"
    r = c.post("/rotate")
    assert token_of(cookie_of(r) or "") not in (before, after)
    assert c.get("/read").json["user"] == "alice"


def test_login_without_prior_session(app: flask.Flask) -> None:
    c = app.test_client()
    r = c.post("/login/bob")
    assert cookie_of(r) is not None
    assert c.get("/read").json == {"data": {}, "user": "bob"}


def test_logout_destroys_and_clears_cookie(app: flask.Flask) -> None:
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    c.post("/login/alice")
    token = c.get_cookie("__Host-sid").value  # type: ignore[union-attr]
    r = c.post("/logout")
    assert (cookie_of(r) or "").startswith("__Host-sid=; ") and "Max-Age=0" in (cookie_of(r) or "")
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == "logged_out"
    replay = app.test_client()
    replay.set_cookie("__Host-sid", token)
    assert replay.get("/read").json == {"data": {}, "user": None}


def test_clear_destroys_server_side(app: flask.Flask) -> None:
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    token = token_of(cookie_of(c.post("/set/a/b")) or "")
    r = c.post("/clear")
    assert "Max-Age=0" in (cookie_of(r) or "")
    with pytest.raises(sessile.SessionInvalid):
        engine.validate(token)


def test_clear_logs_out_a_login_that_holds_no_data(app: flask.Flask) -> None:
    # session.clear() is Flask's logout idiom; the login lives in the engine, not the dict.
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    c.post("/login/alice")
    token = c.get_cookie("__Host-sid").value  # type: ignore[union-attr]
    assert c.get("/profile").status_code == 200
    r = c.post("/clear")
    assert cookie_of(r) == engine.clear_cookie()
    assert c.get_cookie("__Host-sid") is None
    replay = app.test_client()
    replay.set_cookie("__Host-sid", token)
    assert replay.get("/profile").status_code == 401
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == "logged_out"


def test_clear_then_login_in_one_view_logs_in_afresh(app: flask.Flask) -> None:
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    c.post("/login/alice")
    old = c.get_cookie("__Host-sid").value  # type: ignore[union-attr]
    r = c.post("/clear-then-login/bob")
    assert token_of(cookie_of(r) or "") != old
    assert c.get("/read").json == {"data": {}, "user": "bob"}
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(old)
    assert err.value.reason == "logged_out"


def test_clear_then_new_data_is_a_new_anonymous_session(app: flask.Flask) -> None:
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    c = app.test_client()
    c.post("/login/alice")
    c.post("/set/a/b")
    old = c.get_cookie("__Host-sid").value  # type: ignore[union-attr]
    r = c.post("/clear-then-set/k/v")
    assert token_of(cookie_of(r) or "") != old
    assert c.get("/read").json == {"data": {"k": "v"}, "user": None}
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(old)
    assert err.value.reason == "logged_out"


def test_removing_a_key_and_putting_it_back_keeps_the_login(app: flask.Flask) -> None:
    c = app.test_client()
    c.post("/login/alice")
    c.post("/set/cart/3")
    r = c.post("/pop-then-set/cart")
    assert cookie_of(r) is None
    assert c.get("/read").json == {"data": {"cart": "3!"}, "user": "alice"}


def test_expiry_gives_a_fresh_session(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    app = make_app(make_engine(idle_timeout=60, absolute_timeout=600))
    c = app.test_client()
    c.post("/login/alice")
    clock.advance(61)
    assert c.get("/read").json == {"data": {}, "user": None}


@pytest.mark.parametrize(
    "header",
    [
        "__Host-sid=" + "A" * 43,
        "__Host-sid=garbage",
        "__Host-sid=a; __Host-sid=b",
        "x=" + "y" * 17_000,
        "\x7f\x00;;=",
    ],
)
def test_bad_cookies_give_an_empty_session(app: flask.Flask, header: str) -> None:
    # Without use_cookies=False, Werkzeug's test client replaces a Cookie header given
    # here with its (empty) cookie jar, and no bad cookie would reach the app.
    c = app.test_client(use_cookies=False)
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    token, info = engine.create()
    engine.write_json(info.handle, {"k": "live"})
    r = c.get("/read", headers={"Cookie": f"__Host-sid={token}"})
    assert r.json == {"data": {"k": "live"}, "user": None}  # a header given here arrives
    r = c.get("/read", headers={"Cookie": header})
    assert r.status_code == 200 and r.json == {"data": {}, "user": None}
    r = c.post("/set/k/v", headers={"Cookie": header})
    assert r.status_code == 200
    new = token_of(cookie_of(r) or "")
    assert new not in header  # never adopts the presented ID


@pytest.mark.parametrize("payload", [b"[1, 2]", b"5", b'"ab"', b'[["a", 1]]', b"not json"])
def test_a_payload_that_is_no_json_object_gives_an_empty_session(
    app: flask.Flask, payload: bytes
) -> None:
    # Written through the engine by other code, or corrupt: the request gets an empty
    # session as under Starlette, never an error page.
    engine = app.session_interface.engine  # type: ignore[attr-defined]
    token, info = engine.create()
    engine.write(info.handle, payload)
    c = app.test_client(use_cookies=False)
    r = c.get("/read", headers={"Cookie": f"__Host-sid={token}"})
    assert r.status_code == 200 and r.json == {"data": {}, "user": None}


def test_payload_too_large_is_a_typed_error(make_engine) -> None:  # type: ignore[no-untyped-def]
    app = make_app(make_engine(max_payload=1024))
    app.testing = True
    with pytest.raises(sessile.PayloadTooLarge):
        app.test_client().post("/big")


def test_events_are_logged(app: flask.Flask, caplog: pytest.LogCaptureFixture) -> None:
    c = app.test_client()
    with caplog.at_level("INFO", logger="sessile.security"):
        c.post("/login/alice")
        c.post("/logout")
    kinds = [r.sessile_event.kind for r in caplog.records]  # type: ignore[attr-defined]
    assert kinds == ["created", "logged_in", "logged_out"]


def test_helpers_need_the_interface() -> None:
    app = flask.Flask("plain")
    app.secret_key = "k"
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        sf.login("x")


def slow_request_app(
    engine: sessile.Engine,
) -> tuple[flask.Flask, threading.Event, threading.Event]:
    """`make_app` plus `/slow/<value>`: a view that stores `n=<value>` only once told to."""
    app = make_app(engine)
    began, go_on = threading.Event(), threading.Event()

    @app.post("/slow/<value>")
    def slow(value: str) -> str:
        began.set()
        assert go_on.wait(timeout=30)  # a safety net only: released by the test itself
        flask.session["n"] = value
        return "ok"

    return app, began, go_on


def run_slow_request_across(
    app: flask.Flask, token: str, began: threading.Event, other: Any
) -> Any:
    """Send `/slow/1` with `token`; while its view waits, run `other()`; its response."""
    slow = app.test_client()
    slow.set_cookie("__Host-sid", token)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(slow.post("/slow/1")))
    thread.start()
    assert began.wait(timeout=30)
    other()
    return thread, result


def test_a_slow_request_does_not_overwrite_a_login_made_meanwhile(make_engine) -> None:  # type: ignore[no-untyped-def]
    app, began, go_on = slow_request_app(make_engine())
    c = app.test_client()
    anon = token_of(cookie_of(c.post("/set/n/0")) or "")

    def log_in_and_store() -> None:
        c.post("/login/alice")
        c.post("/set/user/alice")

    thread, result = run_slow_request_across(app, anon, began, log_in_and_store)
    go_on.set()
    thread.join()
    (r,) = result
    assert r.status_code == 200
    assert cookie_of(r) is None  # the old token is not sent back
    assert c.get("/read").json == {"data": {"n": "0", "user": "alice"}, "user": "alice"}


def test_a_slow_request_does_not_revive_a_session_logged_out_meanwhile(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    app, began, go_on = slow_request_app(engine)
    c = app.test_client()
    c.post("/login/alice")
    token = c.get_cookie("__Host-sid").value  # type: ignore[union-attr]

    thread, result = run_slow_request_across(app, token, began, lambda: c.post("/logout"))
    go_on.set()
    thread.join()
    (r,) = result
    assert r.status_code == 200 and cookie_of(r) is None
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == "logged_out"
    assert engine.stats().live == 0
