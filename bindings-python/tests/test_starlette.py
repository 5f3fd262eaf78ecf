"""sessile.starlette.SessionMiddleware on real Starlette and FastAPI apps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Callable

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import sessile
import sessile.starlette as ss


async def read(request: Request) -> JSONResponse:
    user = ss.principal(request) if "sessile" in request.scope else None  # also under Starlette's
    return JSONResponse({"data": dict(request.session), "user": user})


async def set_(request: Request) -> PlainTextResponse:
    request.session[request.path_params["key"]] = request.path_params["value"]
    return PlainTextResponse("ok")


async def append(request: Request) -> PlainTextResponse:
    request.session.setdefault("items", []).append(1)  # nested change: still saved
    return PlainTextResponse("ok")


async def clear(request: Request) -> PlainTextResponse:
    request.session.clear()
    return PlainTextResponse("ok")


async def profile(request: Request) -> PlainTextResponse:
    user = ss.principal(request)
    if user is None:
        return PlainTextResponse("not logged in", status_code=401)
    return PlainTextResponse(f"profile of {user}")


async def clear_then_login(request: Request) -> PlainTextResponse:
    request.session.clear()
    ss.login(request, request.path_params["user"])
    return PlainTextResponse("ok")


async def clear_then_set(request: Request) -> PlainTextResponse:
    request.session.clear()
    request.session[request.path_params["key"]] = request.path_params["value"]
    return PlainTextResponse("ok")


async def pop_then_set(request: Request) -> PlainTextResponse:
    key = request.path_params["key"]
    request.session[key] = request.session.pop(key) + "!"
    return PlainTextResponse("ok")


async def login(request: Request) -> PlainTextResponse:
    ss.login(request, request.path_params["user"])
    return PlainTextResponse("ok")


async def logout(request: Request) -> PlainTextResponse:
    ss.logout(request)
    return PlainTextResponse("ok")


ROUTES = [
    Route("/read", read),
    Route("/set/{key}/{value}", set_, methods=["POST"]),
    Route("/append", append, methods=["POST"]),
    Route("/clear", clear, methods=["POST"]),
    Route("/login/{user}", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/profile", profile),
    Route("/clear-then-login/{user}", clear_then_login, methods=["POST"]),
    Route("/clear-then-set/{key}/{value}", clear_then_set, methods=["POST"]),
    Route("/pop-then-set/{key}", pop_then_set, methods=["POST"]),
]


def app_with(middleware: type, **kw: Any) -> Starlette:
    return Starlette(routes=ROUTES, middleware=[Middleware(middleware, **kw)])


def cookie_of(resp: Any) -> str | None:
    cookies = resp.headers.get_list("set-cookie")
    assert len(cookies) <= 1
    return cookies[0] if cookies else None


#: The cookie Starlette's SessionMiddleware sends when the app clears the session.
STARLETTE_CLEARED = (
    "session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax"
)


def without_value(cookie: str | None) -> str:
    assert cookie is not None
    name, _, rest = cookie.partition("=")
    return name + "=VALUE;" + rest.partition(";")[2]


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"max_age": None},
        {"max_age": 3600, "same_site": "strict", "path": "/app"},
        {"https_only": True, "same_site": "none", "partitioned": True, "domain": ".example.com"},
        {"session_cookie": "sid", "https_only": True},
    ],
)
def test_cookie_text_is_starlettes_byte_for_byte(kw: dict[str, Any]) -> None:
    # The same app on Starlette's middleware and on sessile's: the Set-Cookie texts are
    # equal but for the value (signed data there, a random token here), on write and clear.
    texts = []
    for mw in (StarletteSessionMiddleware, ss.SessionMiddleware):
        c = TestClient(app_with(mw, secret_key="k", **kw), base_url="https://example.com")
        written = cookie_of(c.post("/set/a/b"))
        assert written is not None
        # Sent back as a browser on the cookie's path would (the routes are at /).
        cleared = cookie_of(c.post("/clear", headers={"Cookie": written.split(";")[0]}))
        assert cleared is not None
        texts.append((without_value(written), cleared))
    assert texts[0] == texts[1]


def test_vary_cookie_when_the_session_is_read_or_written() -> None:
    async def untouched(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok", headers={"Vary": "Accept-Encoding"})

    app = Starlette(
        routes=[*ROUTES, Route("/untouched", untouched)],
        middleware=[Middleware(ss.SessionMiddleware)],
    )
    c = TestClient(app)
    assert c.post("/set/a/b").headers["vary"] == "Cookie"
    assert c.get("/read").headers["vary"] == "Cookie"
    assert c.get("/untouched").headers["vary"] == "Accept-Encoding"
    c.cookies.clear()
    assert c.get("/read").headers["vary"] == "Cookie"  # read, though empty


@pytest.mark.parametrize(
    ("given", "sent"),
    [("Accept-Encoding", "Accept-Encoding, Cookie"), ("cookie", "cookie"), ("*", "*")],
)
def test_vary_cookie_joins_the_apps_own_vary(given: str, sent: str) -> None:
    async def read_vary(request: Request) -> PlainTextResponse:
        request.session.get("a")
        return PlainTextResponse("ok", headers={"Vary": given})

    async def write_vary(request: Request) -> PlainTextResponse:
        request.session["a"] = "b"
        return PlainTextResponse("ok", headers={"Vary": given})

    app = Starlette(
        routes=[Route("/read-vary", read_vary), Route("/write-vary", write_vary, methods=["POST"])],
        middleware=[Middleware(ss.SessionMiddleware)],
    )
    c = TestClient(app)
    r = c.post("/write-vary")
    assert r.headers.get_list("vary") == [sent] and cookie_of(r) is not None
    r = c.get("/read-vary")
    assert r.headers.get_list("vary") == [sent] and cookie_of(r) is None


@pytest.mark.parametrize("max_age", [0, -1])
def test_zero_or_negative_max_age_keeps_no_session(max_age: int) -> None:
    mw = ss.SessionMiddleware(app=None, max_age=max_age)  # type: ignore[arg-type]
    c = TestClient(app_with(ss.SessionMiddleware, max_age=max_age, engine=mw.engine))
    r = c.post("/set/a/b")
    assert cookie_of(r) == "session=; path=/; Max-Age=0; httponly; samesite=lax"
    assert mw.engine.stats().live == 0
    assert c.get("/read").json()["data"] == {}


def test_same_constructor_as_starlettes() -> None:
    kw = dict(
        secret_key="s3cret",
        session_cookie="sid",
        max_age=3600,
        path="/",
        same_site="strict",
        https_only=True,
        domain="example.com",
        partitioned=True,
    )
    for mw in (StarletteSessionMiddleware, ss.SessionMiddleware):
        app = app_with(mw, **kw)
        c = TestClient(app, base_url="https://example.com")
        r = c.post("/set/a/b")
        cookie = (cookie_of(r) or "").lower()
        for attr in (
            "sid=",
            "path=/",
            "max-age=3600",
            "domain=example.com",
            "secure",
            "httponly",
            "samesite=strict",
            "partitioned",
        ):
            assert attr in cookie, (mw, attr, cookie)
        assert c.get("/read").json()["data"] == {"a": "b"}
    engine = ss.SessionMiddleware(app=None, secret_key="k", max_age=3600).engine  # type: ignore[arg-type]
    # max_age is the absolute timeout; the idle timeout stays sessile's (30 min) as shorter.
    assert engine.config["absolute_timeout"] == 3600 and engine.config["idle_timeout"] == 1800
    engine = ss.SessionMiddleware(app=None, max_age=600).engine  # type: ignore[arg-type]
    assert engine.config["absolute_timeout"] == 600 and engine.config["idle_timeout"] == 600


def test_data_stays_server_side() -> None:
    app = app_with(ss.SessionMiddleware, secret_key="k")
    c = TestClient(app)
    r = c.post("/set/secret/hunter2")
    cookie = cookie_of(r)
    assert cookie is not None and cookie.startswith("session=")
    assert "hunter2" not in cookie and "Max-Age=1209600" in cookie
    assert "secure" not in cookie.lower()  # https_only=False, as in Starlette
    assert cookie_of(c.post("/set/more/x")) is None  # same token: no new cookie
    c.post("/append")
    c.post("/append")
    assert c.get("/read").json()["data"] == {"secret": "hunter2", "more": "x", "items": [1, 1]}


@pytest.mark.parametrize(
    "cookie",
    [
        "session=" + "A" * 43,
        "session=eyJmb28iOiAiYmFyIn0=.ZmFrZQ.c2lnbmF0dXJl",  # a Starlette-style signed cookie
        "session=a; session=b",
        "session=" + "x" * 17_000,
        "session",
    ],
)
def test_forged_or_invalid_cookies_give_an_empty_session(cookie: str) -> None:
    c = TestClient(app_with(ss.SessionMiddleware, secret_key="k"))
    r = c.get("/read", headers={"Cookie": cookie})
    assert r.status_code == 200 and r.json() == {"data": {}, "user": None}
    r = c.post("/set/k/v", headers={"Cookie": cookie})
    assert r.status_code == 200 and cookie_of(r) is not None


@pytest.mark.parametrize("payload", [b"[1, 2]", b"5", b'"ab"', b'[["a", 1]]', b"not json"])
def test_a_payload_that_is_no_json_object_gives_an_empty_session(payload: bytes) -> None:
    # Written through the engine by other code, or corrupt: an empty session, as in Flask.
    engine, c = shared_engine_client()
    token, info = engine.create()
    engine.write(info.handle, payload)
    r = c.get("/read", headers={"Cookie": f"session={token}"})
    assert r.status_code == 200 and r.json() == {"data": {}, "user": None}


def test_login_rotates_and_logout_destroys() -> None:
    mw = ss.SessionMiddleware(app=None, secret_key="k")  # type: ignore[arg-type]
    engine = mw.engine
    app = app_with(ss.SessionMiddleware, secret_key="k", engine=engine)
    c = TestClient(app)
    c.post("/set/cart/3")
    before = c.cookies["session"]
    r = c.post("/login/alice")
    after = c.cookies["session"]
    assert cookie_of(r) is not None and after != before
    assert c.get("/read").json() == {"data": {"cart": "3"}, "user": "alice"}
    attacker = TestClient(app, cookies={"session": before})
    assert attacker.get("/read").json() == {"data": {}, "user": None}
    r = c.post("/logout")
    assert cookie_of(r) == STARLETTE_CLEARED
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(after)
    assert err.value.reason == "logged_out"


def test_clear_destroys_the_session() -> None:
    mw = ss.SessionMiddleware(app=None, secret_key="k")  # type: ignore[arg-type]
    c = TestClient(app_with(ss.SessionMiddleware, engine=mw.engine))
    c.post("/set/a/b")
    token = c.cookies["session"]
    r = c.post("/clear")
    assert cookie_of(r) == STARLETTE_CLEARED
    with pytest.raises(sessile.SessionInvalid):
        mw.engine.validate(token)


def shared_engine_client() -> tuple[sessile.Engine, TestClient]:
    engine = ss.SessionMiddleware(app=None, secret_key="k").engine  # type: ignore[arg-type]
    return engine, TestClient(app_with(ss.SessionMiddleware, engine=engine))


def test_clear_logs_out_a_login_that_holds_no_data() -> None:
    # request.session.clear() is the usual logout; the login lives in the engine.
    engine, c = shared_engine_client()
    c.post("/login/alice")
    token = c.cookies["session"]
    assert c.get("/profile").status_code == 200
    r = c.post("/clear")
    assert cookie_of(r) == engine.clear_cookie()
    assert "session" not in c.cookies
    replay = TestClient(c.app, cookies={"session": token})
    assert replay.get("/profile").status_code == 401
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == "logged_out"


def test_clear_then_login_in_one_view_logs_in_afresh() -> None:
    engine, c = shared_engine_client()
    c.post("/login/alice")
    old = c.cookies["session"]
    c.post("/clear-then-login/bob")
    assert c.cookies["session"] != old
    assert c.get("/read").json() == {"data": {}, "user": "bob"}
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(old)
    assert err.value.reason == "logged_out"


def test_clear_then_new_data_is_a_new_anonymous_session() -> None:
    engine, c = shared_engine_client()
    c.post("/login/alice")
    c.post("/set/a/b")
    old = c.cookies["session"]
    c.post("/clear-then-set/k/v")
    assert c.cookies["session"] != old
    assert c.get("/read").json() == {"data": {"k": "v"}, "user": None}
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(old)
    assert err.value.reason == "logged_out"


def test_removing_a_key_and_putting_it_back_keeps_the_login() -> None:
    _, c = shared_engine_client()
    c.post("/login/alice")
    c.post("/set/cart/3")
    assert cookie_of(c.post("/pop-then-set/cart")) is None
    assert c.get("/read").json() == {"data": {"cart": "3!"}, "user": "alice"}


def test_max_age_is_the_life_server_side_within_the_cores_maxima() -> None:
    # max_age is the absolute timeout, the idle timeout stays the core's cut to max_age;
    # the per-session maxima stay the core's defaults unless max_age is above them, then
    # the core lifts them to max_age. The glue copies none of those numbers.
    core = sessile.Engine().config
    for max_age in (60, 14 * 24 * 3600):
        config = ss.SessionMiddleware(None, max_age=max_age).engine.config  # type: ignore[arg-type]
        idle = min(max_age, core["idle_timeout"])  # type: ignore[type-var]
        assert (config["idle_timeout"], config["absolute_timeout"]) == (idle, max_age)
        assert config["max_idle_timeout"] == core["max_idle_timeout"]
        assert config["max_absolute_timeout"] == core["max_absolute_timeout"]
    life = int(core["max_absolute_timeout"]) + 3600  # type: ignore[call-overload]
    mw = ss.SessionMiddleware(Starlette(routes=ROUTES), max_age=life)
    config = mw.engine.config
    assert config["absolute_timeout"] == config["max_absolute_timeout"] == life
    c = TestClient(mw)
    assert f"max-age={life}" in (cookie_of(c.post("/set/a/b")) or "").lower()
    info = mw.engine.peek(c.cookies["session"])
    assert info.absolute_timeout == life and info.idle_timeout == core["idle_timeout"]
    assert info.absolute_deadline - info.created == life


def test_events_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    _, c = shared_engine_client()
    with caplog.at_level("INFO", logger="sessile.security"):
        c.post("/login/alice")
        c.post("/logout")
    kinds = [r.sessile_event.kind for r in caplog.records]  # type: ignore[attr-defined]
    assert kinds == ["created", "logged_in", "logged_out"]


def test_max_age_none_is_a_browser_session_cookie() -> None:
    c = TestClient(app_with(ss.SessionMiddleware, secret_key="k", max_age=None))
    assert "max-age" not in (cookie_of(c.post("/set/a/b")) or "").lower()


def test_non_http_scopes_pass_through() -> None:
    seen = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append("session" in scope)

    import asyncio

    mw = ss.SessionMiddleware(inner, secret_key="k")
    asyncio.run(mw({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == [False]


def test_fastapi() -> None:
    api = FastAPI()
    api.add_middleware(ss.SessionMiddleware, secret_key="k")

    @api.post("/visit")
    def visit(request: Request) -> dict[str, int]:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    @api.post("/login")
    def do_login(request: Request) -> dict[str, str | None]:
        ss.login(request, "alice")
        return {"user": ss.principal(request)}

    c = TestClient(api)
    assert [c.post("/visit").json()["n"] for _ in range(3)] == [1, 2, 3]
    before = c.cookies["session"]
    assert c.post("/login").json() == {"user": "alice"}
    assert c.cookies["session"] != before
    assert c.post("/visit").json()["n"] == 4


def test_helpers_need_the_middleware() -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        ss.login(request, "x")
        return PlainTextResponse("never")

    c = TestClient(Starlette(routes=[Route("/", endpoint)]))
    with pytest.raises(RuntimeError, match="SessionMiddleware is not installed"):
        c.get("/")


async def slow_request_across(
    engine: sessile.Engine, cookie: str, other: Callable[[httpx.AsyncClient], Awaitable[Any]]
) -> httpx.Response:
    """POST `/slow/1` with `cookie`; while its endpoint waits, run `other`; its response."""
    began, go_on = asyncio.Event(), asyncio.Event()

    async def slow(request: Request) -> PlainTextResponse:
        began.set()
        await go_on.wait()
        request.session["n"] = "1"
        return PlainTextResponse("ok")

    routes = [*ROUTES, Route("/slow/{value}", slow, methods=["POST"])]
    app = Starlette(routes=routes, middleware=[Middleware(ss.SessionMiddleware, engine=engine)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        task = asyncio.create_task(client.post("/slow/1", headers={"Cookie": cookie}))
        await began.wait()
        await other(client)
        go_on.set()
        return await task


def test_a_slow_request_does_not_overwrite_a_login_made_meanwhile() -> None:
    engine, c = shared_engine_client()
    c.post("/set/n/0")
    anon = c.cookies["session"]

    async def log_in_and_store(client: httpx.AsyncClient) -> None:
        r = await client.post("/login/alice", headers={"Cookie": f"session={anon}"})
        alice = r.cookies["session"]
        await client.post("/set/user/alice", headers={"Cookie": f"session={alice}"})
        c.cookies.set("session", alice)

    r = asyncio.run(slow_request_across(engine, f"session={anon}", log_in_and_store))
    assert r.status_code == 200
    assert cookie_of(r) is None  # the old token is not sent back
    assert c.get("/read").json() == {"data": {"n": "0", "user": "alice"}, "user": "alice"}


def test_a_slow_request_does_not_revive_a_session_logged_out_meanwhile() -> None:
    engine, c = shared_engine_client()
    c.post("/login/alice")
    token = c.cookies["session"]

    async def log_out(client: httpx.AsyncClient) -> None:
        await client.post("/logout", headers={"Cookie": f"session={token}"})

    r = asyncio.run(slow_request_across(engine, f"session={token}", log_out))
    assert r.status_code == 200 and cookie_of(r) is None
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == "logged_out"
    assert engine.stats().live == 0


def test_arguments_an_engine_overrides_are_named_in_one_warning() -> None:
    engine = sessile.Engine(capacity=8, pool_bytes=64 * 1024)
    with pytest.warns(ss.SettingsWarning) as caught:
        ss.SessionMiddleware(None, session_cookie="sid", same_site="strict", engine=engine)  # type: ignore[arg-type]
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "cookie_name='sid'" in text and "cookie_same_site='strict'" in text
    import warnings

    with warnings.catch_warnings():  # only engine=: nothing was asked that is not done
        warnings.simplefilter("error", ss.SettingsWarning)
        ss.SessionMiddleware(None, engine=engine)  # type: ignore[arg-type]


def test_session_dict_tracks_access_and_changes_as_starlettes() -> None:
    # request.session is sessile.starlette.Session, whose storing, deleting and marking
    # are native (_TrackedDict): the flags must follow Starlette's Session exactly.
    import gc
    import sys

    from sessile.starlette import Session

    s = Session({"a": 1})
    assert isinstance(s, dict) and s == {"a": 1}
    assert (s.accessed, s.modified) == (False, False)
    assert s["a"] == 1 and s.get("a") == 1 and (s.accessed, s.modified) == (False, False)
    s.mark_accessed()
    assert (s.accessed, s.modified) == (True, False)
    t = Session()
    t["b"] = 2
    assert t == {"b": 2} and (t.accessed, t.modified) == (True, True)
    u = Session({"c": 3})
    del u["c"]
    assert u == {} and u.modified
    v = Session()
    with pytest.raises(KeyError):
        del v["missing"]
    assert v.modified  # marked first, as Starlette's __delitem__ does
    w = Session()
    w.mark_modified()
    assert (w.accessed, w.modified) == (True, True)
    w.modified = 0
    assert w.modified is False
    w.note = "apps may set attributes"  # as on Starlette's Session
    assert w.note == "apps may set attributes"
    # No reference kept or lost per instance: the class's count is unchanged.
    before = sys.getrefcount(Session)
    for _ in range(1000):
        x = Session({"k": [1]})
        x["self"] = x  # a cycle: the collector must see into it
    del x
    gc.collect()
    assert sys.getrefcount(Session) == before


def writer_and_reader(path: str, write: Any) -> TestClient:
    """A client of an app with the view `write` at `path` and, at /r, a view that answers
    the session's items as JSON."""

    async def read(request: Any) -> JSONResponse:
        return JSONResponse(dict(request.session))

    app = Starlette(
        routes=[Route(path, write), Route("/r", read)],
        middleware=[Middleware(ss.SessionMiddleware, secret_key="unused")],
    )
    return TestClient(app)


def test_values_the_native_reader_declines_come_back() -> None:
    # A float or an escaped string is not read by the native plain-JSON path at the
    # request's start: json reads it, and the app sees what it stored.
    async def write(request: Any) -> PlainTextResponse:
        request.session.update({"f": 1.5, "s": 'a"b\n', "n": [1, {"x": None}]})
        return PlainTextResponse("ok")

    client = writer_and_reader("/w", write)
    assert client.get("/w").status_code == 200
    assert client.get("/r").json() == {"f": 1.5, "s": 'a"b\n', "n": [1, {"x": None}]}


def test_a_plain_session_is_stored_natively_and_others_through_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The request's end is native for a session of plain JSON values (the glue's Python
    # fallback, json's encoder, cost as much as the rest of the middleware): the Session
    # is a dict subclass, which the native writer must take as the dict it is. A value
    # json writes differently from how it reads back (a tuple) still goes to json.
    fallback: list[Any] = []
    finish_slow = ss._finish_slow

    def counting(*args: Any) -> None:
        fallback.append(args[3])
        finish_slow(*args)

    monkeypatch.setattr(ss, "_HOOKS", (*ss._HOOKS[:2], counting, *ss._HOOKS[3:]))

    async def write(request: Any) -> PlainTextResponse:
        request.session[request.path_params["kind"]] = (
            (1, "t") if request.path_params["kind"] == "tuple" else {"n": [1, "x", None]}
        )
        return PlainTextResponse("ok")

    client = writer_and_reader("/w/{kind}", write)
    assert client.get("/w/plain").status_code == 200
    assert client.get("/r").json() == {"plain": {"n": [1, "x", None]}}
    assert fallback == []
    assert client.get("/w/tuple").status_code == 200
    assert fallback == [NotImplemented]
    assert client.get("/r").json() == {"plain": {"n": [1, "x", None]}, "tuple": [1, "t"]}
