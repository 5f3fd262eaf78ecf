"""sessile.flask and Flask's own settings, values and setup (issue 15, Flask)."""

from __future__ import annotations

import datetime
import uuid
import warnings
from typing import Any

import flask
import pytest
from markupsafe import Markup

import sessile
import sessile.flask as sf

SMALL = {"capacity": 64, "pool_bytes": 64 * 1024}
#: Flask settings as strict as sessile's: nothing to warn about.
STRICT = {
    "SESSION_COOKIE_NAME": "__Host-session",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=1),
}


def make_app(**config: Any) -> flask.Flask:
    app = flask.Flask("t")
    app.testing = True  # an error in the view or at save reaches the test
    app.config.update(config)

    @app.post("/set/<key>/<value>")
    def set_(key: str, value: str) -> str:
        flask.session[key] = value
        return "ok"

    @app.get("/read")
    def read() -> Any:
        return {"data": dict(flask.session)}

    @app.post("/permanent/<on>")
    def permanent(on: str) -> str:
        flask.session.permanent = on == "1"
        return "ok"

    return app


def install(app: flask.Flask, **options: Any) -> sessile.Engine:
    with warnings.catch_warnings():
        warnings.simplefilter("error", sf.SettingsWarning)
        return sf.Session(app, **SMALL, **options).engine or app.extensions["sessile"]


def cookie_of(resp: Any) -> str | None:
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) <= 1
    return cookies[0] if cookies else None


# ---------------------------------------------------------------- values


def test_values_round_trip_through_flasks_tagged_json() -> None:
    when = datetime.datetime(2026, 12, 7, 6, 30, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    app = make_app(**STRICT)
    install(app)

    @app.post("/store")
    def store() -> str:
        flask.session.update(
            when=when, pair=(1, "a"), raw=b"\x00\xff", ident=ident, html=Markup("<b>x</b>")
        )
        return "ok"

    @app.get("/types")
    def types() -> Any:
        s = flask.session
        assert s["when"] == when and s["pair"] == (1, "a") and s["raw"] == b"\x00\xff"
        assert s["ident"] == ident and s["html"] == Markup("<b>x</b>")
        return {k: type(v).__name__ for k, v in s.items()}

    c = app.test_client()
    c.post("/store")
    assert c.get("/types").json == {
        "when": "datetime",
        "pair": "tuple",
        "raw": "bytes",
        "ident": "UUID",
        "html": "Markup",
    }


def test_a_value_that_cannot_be_stored_is_an_error_naming_the_key() -> None:
    app = make_app(**STRICT)
    install(app)

    @app.post("/bad")
    def bad() -> str:
        flask.session["fine"] = 1
        flask.session["handle"] = object()
        return "ok"

    with pytest.raises(TypeError, match=r"session\['handle'\] cannot be stored"):
        app.test_client().post("/bad")


# ---------------------------------------------------------------- settings


def test_the_session_cookie_text_follows_the_settings() -> None:
    app = make_app(
        SESSION_COOKIE_NAME="__Secure-app",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SECURE=True,
        PERMANENT_SESSION_LIFETIME=3600,
    )
    engine = install(app)
    assert engine.config["absolute_timeout"] == 3600
    assert engine.config["idle_timeout"] == 1800  # sessile's, shorter than the max age
    c = app.test_client()
    site = "https://example.com"  # where the browser sends the cookie back
    r = c.post("/set/a/b", base_url=site)
    token = (cookie_of(r) or "").split(";")[0].split("=")[1]
    assert cookie_of(r) == (
        f"__Secure-app={token}; Domain=example.com; Path=/; HttpOnly; Secure; "
        "SameSite=Strict; Partitioned"
    )
    r = c.post("/permanent/1", base_url=site)  # on an existing session: sent again
    assert cookie_of(r) == (
        f"__Secure-app={token}; Domain=example.com; Path=/; Max-Age=3600; HttpOnly; Secure; "
        "SameSite=Strict; Partitioned"
    )


def test_a_host_name_that_a_domain_rules_out_becomes_secure_prefixed() -> None:
    engine = install(make_app(SESSION_COOKIE_DOMAIN="example.com", **STRICT))
    assert engine.config["cookie_name"] == "__Secure-session"
    engine = install(make_app(**{**STRICT, "APPLICATION_ROOT": "/shop"}))
    assert engine.config["cookie_path"] == "/shop"
    assert engine.config["cookie_name"] == "__Secure-session"


def test_the_flask_name_gets_the_prefix_browsers_enforce_and_says_so() -> None:
    strict = {k: v for k, v in STRICT.items() if k != "SESSION_COOKIE_NAME"}
    with pytest.warns(sf.SettingsWarning, match="'__Host-session'") as caught:
        sf.Session(app := make_app(**strict), **SMALL)
    assert len(caught) == 1 and app.extensions["sessile"].config["cookie_name"] == "__Host-session"
    engine = install(make_app(**strict), cookie_name="session")  # sessile's option: as given
    assert engine.config["cookie_name"] == "session"


def test_flasks_defaults_give_one_warning_naming_what_sessile_keeps() -> None:
    app = make_app()
    with pytest.warns(sf.SettingsWarning) as caught:
        engine = sf.Session(app, **SMALL).engine or app.extensions["sessile"]
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "SESSION_COOKIE_SECURE=False (the cookie stays Secure)" in text
    assert "SESSION_COOKIE_SAMESITE=None (SameSite stays Lax)" in text
    assert "PERMANENT_SESSION_LIFETIME=" in text and "28800 s" in text
    c = engine.config
    assert c["cookie_secure"] and c["cookie_same_site"] == "lax"
    assert "SESSION_COOKIE_NAME='session' (the cookie is '__Host-session'" in text
    assert c["cookie_name"] == "__Host-session" and c["absolute_timeout"] == 28800


def test_secure_default_wins_on_a_host_cookie_and_says_so() -> None:
    app = make_app(
        SESSION_COOKIE_NAME="__Host-app", SESSION_COOKIE_SECURE=False, SESSION_COOKIE_HTTPONLY=False
    )
    with pytest.warns(sf.SettingsWarning, match="SESSION_COOKIE_SECURE=False") as caught:
        sf.Session(app, **SMALL)
    assert len(caught) == 1 and "SESSION_COOKIE_HTTPONLY=False" in str(caught[0].message)
    engine = app.extensions["sessile"]
    assert engine.config["cookie_name"] == "__Host-app" and engine.config["cookie_secure"]


def test_sessiles_own_options_win_and_silence_their_line() -> None:
    app = make_app(
        SESSILE={"cookie_secure": False, "absolute_timeout": 40 * 86400},
        SESSION_COOKIE_SAMESITE="Lax",
    )
    engine = install(app)  # nothing left to warn about
    # Not Secure (the app's choice): no prefix is possible, Flask's name as it is.
    assert not engine.config["cookie_secure"] and engine.config["cookie_name"] == "session"
    assert engine.config["absolute_timeout"] == 40 * 86400


def test_a_lifetime_longer_than_sessiles_is_named_not_applied() -> None:
    app = make_app(**{**STRICT, "PERMANENT_SESSION_LIFETIME": datetime.timedelta(days=2)})
    with pytest.warns(sf.SettingsWarning, match="PERMANENT_SESSION_LIFETIME"):
        sf.Session(app, **SMALL)
    assert app.extensions["sessile"].config["absolute_timeout"] == 28800


def test_init_app_like_flask_session() -> None:
    sessions = sf.Session(**SMALL)
    app = make_app(**STRICT)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sf.SettingsWarning)
        engine = sessions.init_app(app)
    assert isinstance(app.session_interface, sf.SessionInterface)
    assert app.session_interface.engine is engine is app.extensions["sessile"]
    c = app.test_client()
    c.post("/set/k/v")
    assert c.get("/read").json == {"data": {"k": "v"}}


def test_a_hand_made_interface_warns_once_about_the_settings_it_does_not_apply() -> None:
    app = make_app(SESSION_COOKIE_NAME="mine", SESSION_COOKIE_SAMESITE="Strict")
    app.session_interface = sf.SessionInterface(sessile.Engine(**SMALL))
    c = app.test_client()
    with pytest.warns(sf.SettingsWarning, match="SESSION_COOKIE_NAME, SESSION_COOKIE_SAMESITE"):
        c.get("/read")
    with warnings.catch_warnings():
        warnings.simplefilter("error", sf.SettingsWarning)
        c.get("/read")


# ---------------------------------------------------------------- permanent, refresh


@pytest.mark.parametrize("refresh", [True, False])
def test_permanent_and_refresh_each_request(refresh: bool) -> None:
    app = make_app(SESSION_REFRESH_EACH_REQUEST=refresh, **STRICT)
    install(app)
    c = app.test_client()
    first = cookie_of(c.post("/set/a/b"))
    assert first is not None and "Max-Age" not in first
    r = c.post("/permanent/1")
    assert "Max-Age=3600" in (cookie_of(r) or ""), "setting permanent sends the cookie"
    resent = cookie_of(c.get("/read"))
    if refresh:
        assert resent is not None and resent.split(";")[0] == first.split(";")[0]
        assert "Vary" in c.get("/read").headers
    else:
        assert resent is None
    r = c.post("/permanent/0")
    back = cookie_of(r)
    assert back is not None and "Max-Age" not in back, "and unsetting it too"
    assert cookie_of(c.get("/read")) is None


def test_settings_of_another_session_extension_are_named_not_dropped() -> None:
    app = make_app(SESSION_TYPE="redis", SESSION_PERMANENT=False, **STRICT)
    with pytest.warns(sf.SettingsWarning, match="SESSION_PERMANENT, SESSION_TYPE"):
        sf.Session(app, **SMALL)


# The plain-JSON shortcut of the tagged JSON (sessile._payload): same values, same bytes.


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


TAG_LOOKALIKES: list[Any] = [
    {" t": [1, 2]},  # a one-key dict named like a tag: Flask escapes it (" di")
    {"x": {" u": "12345678-1234-5678-1234-567812345678"}},
    {"s": " leading space", "t": 'say \\" hi'},
    {"flashes": [("message", "saved")]},  # flash() stores tuples
    {"n": 1, "f": 2.5, "b": True, "z": None, "l": [1, [2, {"k": "v"}]], "u": "é\n"},
    {"deep": _nested(40)},  # deeper than the shortcut walks
    {3: "int key"},
]


@pytest.mark.parametrize("sort_keys", [True, False])
@pytest.mark.parametrize("value", TAG_LOOKALIKES)
def test_stored_bytes_and_values_are_flasks_tagged_json(
    value: dict[Any, Any], sort_keys: bool
) -> None:
    from flask.json.tag import TaggedJSONSerializer

    app = make_app(**STRICT)
    app.json.sort_keys = sort_keys  # type: ignore[attr-defined]
    engine = install(app)
    tagged = TaggedJSONSerializer()

    @app.post("/store")
    def store() -> str:
        flask.session.update(value)
        return "ok"

    @app.get("/same")
    def same() -> str:
        s = flask.session
        # The bytes Flask's own serializer writes for it (with the app's JSON provider).
        assert engine.read(s.info.handle) == tagged.dumps(value).encode()
        back = tagged.loads(tagged.dumps(value))
        assert list(s.items()) == list(back.items())
        assert [type(v) for v in s.values()] == [type(v) for v in back.values()]
        return "ok"

    c = app.test_client()
    c.post("/store")
    assert c.get("/same").status_code == 200


def test_a_tag_registered_later_is_used() -> None:
    from flask.json.tag import JSONTag

    class TagSet(JSONTag):
        key = " set"

        def check(self, value: Any) -> bool:
            return isinstance(value, int) and value == 7  # a plain value, tagged

        def to_json(self, value: Any) -> Any:
            return "seven"

        def to_python(self, value: Any) -> Any:
            return 7.0

    app = make_app(**STRICT)
    install(app)
    app.session_interface.serializer.register(TagSet, index=0)  # type: ignore[attr-defined]

    @app.post("/store")
    def store() -> str:
        flask.session["n"] = 7
        return "ok"

    @app.get("/type")
    def type_of() -> Any:
        return {"type": type(flask.session["n"]).__name__}

    c = app.test_client()
    c.post("/store")
    assert c.get("/type").json == {"type": "float"}
