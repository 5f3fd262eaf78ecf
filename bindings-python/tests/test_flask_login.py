"""Flask-Login on sessile (sessile.flask_login): what a user of a Flask-Login app notices."""

from __future__ import annotations

import datetime
import warnings
from typing import Any

import flask
import flask_login
import pytest
from flask_login.utils import encode_cookie

import sessile
import sessile.flask as sf
import sessile.flask_login as sfl

USERS = {"alice", "bob"}


class User(flask_login.UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def make_app(integrate: bool = True, **config: Any) -> tuple[flask.Flask, sessile.Engine]:
    app = flask.Flask("t")
    app.testing = True
    app.config.update(
        SECRET_KEY="test secret",
        SESSION_COOKIE_NAME="__Host-sid",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=3600,
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_DURATION=datetime.timedelta(days=30),
        SESSILE={"capacity": 64, "pool_bytes": 64 * 1024},
        **config,
    )
    manager = flask_login.LoginManager(app)
    manager.user_loader(lambda user_id: User(user_id) if user_id in USERS else None)
    engine = sf.Session().init_app(app)
    if integrate:
        sfl.init_app(app)

    @app.post("/login/<user>")
    def login(user: str) -> str:
        remember = flask.request.args.get("remember") == "1"
        days = flask.request.args.get("days")
        duration = datetime.timedelta(days=int(days)) if days else None
        flask_login.login_user(User(user), remember=remember, duration=duration)
        flask.session["cart"] = "kept"
        return "ok"

    @app.post("/logout")
    def logout() -> str:
        flask_login.logout_user()
        return "ok"

    @app.post("/logout-everywhere")
    def everywhere() -> str:
        return str(sfl.logout_everywhere())

    @app.get("/me")
    def me() -> Any:
        user = flask_login.current_user
        if not user.is_authenticated:
            return "anonymous", 401
        return {"user": user.id, "cart": flask.session.get("cart")}

    @app.post("/anon")
    def anon() -> str:
        flask.session["visit"] = 1
        return "ok"

    return app, engine


def token_of(client: Any) -> str:
    cookie = client.get_cookie("__Host-sid")
    assert cookie is not None
    return str(cookie.value)


def https(app: flask.Flask) -> Any:
    return app.test_client()


def get(c: Any, path: str) -> Any:
    return c.get(path, base_url="https://localhost")


def post(c: Any, path: str) -> Any:
    return c.post(path, base_url="https://localhost")


def test_login_user_rotates_and_binds_the_user() -> None:
    app, engine = make_app()
    c = https(app)
    post(c, "/anon")
    planted = token_of(c)
    post(c, "/login/alice")
    token = token_of(c)
    assert token != planted, "login_user rotates the token"
    assert engine.validate(token).principal == "alice"
    assert get(c, "/me").json == {"user": "alice", "cart": "kept"}
    with pytest.raises(sessile.SessionInvalid):
        engine.validate(planted)


def test_without_the_integration_login_user_does_not_rotate() -> None:
    # What the integration fixes (issue 15): the same token before and after login.
    app, engine = make_app(integrate=False)
    c = https(app)
    post(c, "/anon")
    planted = token_of(c)
    post(c, "/login/alice")
    assert token_of(c) == planted and engine.validate(planted).principal is None


def test_logout_user_ends_the_session_server_side() -> None:
    app, engine = make_app()
    c = https(app)
    post(c, "/login/bob")
    token = token_of(c)
    r = post(c, "/logout")
    assert any(h.startswith("__Host-sid=;") for h in r.headers.getlist("Set-Cookie"))
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == "logged_out"
    assert engine.sessions_of("bob") == []


def test_remember_me_is_a_long_lived_session_and_no_remember_cookie() -> None:
    app, engine = make_app()
    c = https(app)
    r = post(c, "/login/alice?remember=1&days=7")
    cookies = r.headers.getlist("Set-Cookie")
    assert not any(h.startswith("remember_token=") for h in cookies)
    assert any("Max-Age=604800" in h for h in cookies), cookies
    info = engine.validate(token_of(c))
    assert info.idle_timeout == info.absolute_timeout == 7 * 86400
    assert get(c, "/me").json == {"user": "alice", "cart": "kept"}


def test_a_remember_duration_past_the_engines_maximum_is_cut_and_said() -> None:
    app = flask.Flask("t")
    app.config.update(SESSILE={"capacity": 8, "pool_bytes": 64 * 1024}, SECRET_KEY="k")
    flask_login.LoginManager(app)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.SettingsWarning)
        sf.Session(app)
    with pytest.warns(sf.SettingsWarning, match="REMEMBER_COOKIE_DURATION"):
        sfl.init_app(app)  # Flask-Login's default is 365 days, the engine allows 30


def test_log_out_everywhere_also_ends_remember_me() -> None:
    app, engine = make_app()
    laptop, phone = https(app), https(app)
    post(laptop, "/login/alice?remember=1")
    post(phone, "/login/alice")
    assert len(engine.sessions_of("alice")) == 2
    assert post(phone, "/logout-everywhere").text == "2"
    assert get(phone, "/me").status_code == 401
    assert get(laptop, "/me").status_code == 401, "the remember-me login ended too"


def test_a_remember_cookie_from_before_is_cleared_and_not_a_login() -> None:
    app, _ = make_app()
    c = https(app)
    with app.test_request_context():
        legacy = encode_cookie("alice")
    c.set_cookie("remember_token", legacy, domain="localhost")
    r = get(c, "/me")
    assert r.status_code == 401
    assert any(h.startswith("remember_token=;") for h in r.headers.getlist("Set-Cookie"))
    # Without the integration, Flask-Login would have logged alice in from it.
    plain, _ = make_app(integrate=False)
    c = https(plain)
    c.set_cookie("remember_token", legacy, domain="localhost")
    assert get(c, "/me").json == {"user": "alice", "cart": None}


def test_a_user_id_the_engine_did_not_bind_is_no_login() -> None:
    app, engine = make_app()
    token, info = engine.create()
    with app.test_request_context():
        payload = sf.SessionInterface(engine)._encode({"_user_id": "alice", "_fresh": True})
    engine.write(info.handle, payload)
    c = https(app)
    c.set_cookie("__Host-sid", token, domain="localhost")
    assert get(c, "/me").status_code == 401
