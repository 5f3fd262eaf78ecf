"""The Python binding over a shared Redis store (`Engine(store=...)`), against a real
redis-server of each test's own (conftest.RedisServer): the same answers as the
in-process table, fail closed with 503 in the Flask and Starlette glue when the server
goes away and recovery when it returns, fork, and no lost update across processes and
threads."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from typing import Any, Callable

import flask
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import sessile
import sessile.flask as sf
import sessile.starlette as ss
from conftest import STORE_KEY, RedisServer

Make = Callable[..., sessile.Engine]


def cookie_header(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0]


# ---------------------------------------------------------------- the Python API


def flow(engine: sessile.Engine) -> list[Any]:
    """A login, validate, logout, reuse flow; what a user of the API sees at each step."""
    seen: list[Any] = []
    token, s = engine.create()
    seen.append((s.authenticated, s.payload_len))
    engine.write(s.handle, b'{"cart":[1]}')
    seen.append(engine.read(s.handle))
    new, s = engine.login(token, "alice")
    seen.append((new != token, s.principal, engine.read(s.handle)))
    for t in (token, new):
        try:
            seen.append(engine.validate(t).principal)
        except sessile.SessionInvalid as e:
            seen.append(e.reason)
    seen.append([x.principal for x in engine.sessions_of("alice")])
    engine.logout(new)
    for t in (new, new):
        try:
            engine.validate(t)
            seen.append("valid")
        except sessile.SessionInvalid as e:
            seen.append(e.reason)
    seen.append(engine.sessions_of("alice"))
    seen.append([e.kind for e in engine.drain_events()])
    return seen


def test_the_api_over_redis_answers_as_over_memory(make_shared: Make) -> None:
    memory = flow(sessile.Engine(capacity=64, pool_bytes=64 * 1024))
    shared = flow(make_shared(capacity=64, pool_bytes=64 * 1024))
    assert shared == memory
    # A dead token is refused as logged out, and its reuse is reported, in both.
    assert memory[6:8] == ["logged_out", "logged_out"]
    assert "reuse_after_logout" in memory[-1]


def test_one_worker_logs_in_another_sees_it_and_a_logout_is_everywhere(make_shared: Make) -> None:
    a, b = make_shared(), make_shared()
    token, _ = a.create()
    token, _ = a.login(token, "bob")
    assert b.validate(token).principal == "bob"
    b.logout(token)
    with pytest.raises(sessile.SessionInvalid) as e:
        a.validate(token)
    assert e.value.reason == "logged_out"


def test_config_shows_the_store_but_never_its_key_nor_a_password(redis_server: RedisServer) -> None:
    e = sessile.Engine(store=redis_server.url, store_key=bytes(range(32)), store_prefix="cfg")
    c = e.config
    assert c["store"] == redis_server.url
    assert c["store_key"] is True
    assert c["store_prefix"] == "cfg"
    assert c["store_connect_timeout"] == 0.1 and c["store_response_timeout"] == 0.1
    assert e.shared
    e = sessile.Engine(store="redis://user:hunter2@127.0.0.1:1/0", store_key=STORE_KEY)
    assert "hunter2" not in repr(e.config)
    assert STORE_KEY not in repr(e.config)
    memory = sessile.Engine().config
    assert memory["store"] == "memory"
    assert memory["store_key"] is None and memory["store_prefix"] is None
    assert sessile.Engine(**memory).config == memory  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "key"),
    [
        ({"store": "localhost:6379", "store_key": STORE_KEY}, "store"),
        ({"store": "unix:///x.sock", "store_key": "abc"}, "store_key"),
        ({"store": "unix:///x.sock", "store_key": b"short"}, "store_key"),
        ({"store": "unix:///x.sock"}, "store_key"),
        ({"store_key": STORE_KEY}, "store_key"),
        (
            {"store": "unix:///x.sock", "store_key": STORE_KEY, "store_prefix": "a{b}"},
            "store_prefix",
        ),
        (
            {"store": "unix:///x.sock", "store_key": STORE_KEY, "store_response_timeout": 0},
            "store_response_timeout",
        ),
        ({"store_connect_timeout": 1.0}, "store_connect_timeout"),
    ],
)
def test_bad_store_config_is_a_config_error_naming_the_key(kw: dict[str, Any], key: str) -> None:
    with pytest.raises(sessile.ConfigError) as e:
        sessile.Engine(**kw)
    assert e.value.key == key
    assert key in str(e.value)


def test_store_config_errors_say_what_to_do_and_never_echo_a_secret() -> None:
    with pytest.raises(sessile.ConfigError, match="only a shared store takes it"):
        sessile.Engine(store_prefix="app")
    with pytest.raises(sessile.ConfigError, match="store_key: required with store= a URL"):
        sessile.Engine(store="redis://127.0.0.1:6379/0")
    with pytest.raises(sessile.ConfigError) as e:
        sessile.Engine(store="redis//user:hunter2@127.0.0.1", store_key=STORE_KEY)
    assert "hunter2" not in str(e.value) and "redis://" in str(e.value)
    with pytest.raises(sessile.ConfigError) as e:
        sessile.Engine(store="unix:///x.sock", store_key="0123456789abcdef" * 3 + "zz")
    assert "0123456789abcdef" not in str(e.value) and "64 hex digits" in str(e.value)


def test_store_keys_are_config_keys() -> None:
    names = [k.name for k in sessile.config_keys()]
    for name in ("store", "store_key", "store_prefix", "store_connect_timeout"):
        assert name in names


def test_snapshot_of_a_shared_store_is_a_clear_error(make_shared: Make, tmp_path: Any) -> None:
    e = make_shared()
    with pytest.raises(sessile.SnapshotError) as err:
        e.snapshot(tmp_path / "s", bytes(32))
    assert err.value.reason == "snapshot_shared_store"
    with pytest.raises(sessile.SnapshotError) as err:
        type(e).restore(
            tmp_path / "s", b"\x01" * 32, **dict(store=e.config["store"], store_key=STORE_KEY)
        )
    assert err.value.reason == "snapshot_shared_store"


def test_a_stopped_server_gives_typed_errors_then_recovers(
    make_shared: Make, redis_server: RedisServer
) -> None:
    e = make_shared()
    token, _ = e.create()
    redis_server.stop()
    with pytest.raises(sessile.StoreUnavailable) as err:
        e.validate(token)
    assert err.value.reason in ("store_unavailable", "store_timeout")
    with pytest.raises(sessile.StoreUnavailable):
        e.create()
    with pytest.raises(sessile.StoreUnavailable):
        e.load_cookie(f"__Host-sid={token}")
    with pytest.raises(sessile.StoreUnavailable):
        e.begin_request(f"__Host-sid={token}")
    redis_server.start()  # a new, empty server: the session is gone, the engine works
    with pytest.raises(sessile.SessionInvalid):
        e.validate(token)
    token, _ = e.create()
    assert e.validate(token).principal is None


def test_a_forked_child_validates(make_shared: Make) -> None:
    e = make_shared()
    token, _ = e.create()
    token, _ = e.login(token, "carol")
    assert e.validate(token).principal == "carol"  # the parent's connection is open
    pid = os.fork()
    if pid == 0:  # the child: its own connection, its own token stream
        code = 1
        try:
            ok = e.validate(token).principal == "carol"
            mine, _ = e.create()
            ok = ok and e.validate(mine).principal is None and mine != token
            code = 0 if ok else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert e.validate(token).principal == "carol"  # and the parent's still works


WORKER = textwrap.dedent(
    """
    import sys, threading
    import sessile
    url, key, prefix, cookie, threads, rounds = sys.argv[1:7]
    engine = sessile.Engine(
        store=url, store_key=key, store_prefix=prefix, store_response_timeout=2.0
    )
    retries = []

    def work():
        n = 0
        for _ in range(int(rounds)):
            while True:
                _, s, payload = engine.load_cookie(cookie)
                saved = engine.save(s, str(int(payload or b"0") + 1).encode())
                if saved != "dropped":
                    break
                n += 1
        retries.append(n)

    ts = [threading.Thread(target=work) for _ in range(int(threads))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(sum(retries))
    """
)


def test_processes_and_threads_incrementing_one_session_lose_nothing(
    make_shared: Make, redis_server: RedisServer, request: pytest.FixtureRequest
) -> None:
    e = make_shared()
    token, s = e.create()
    e.write(s.handle, b"0")
    cookie = f"__Host-sid={token}"
    procs, threads, rounds = 3, 3, 20
    prefix = e.config["store_prefix"]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                redis_server.url,
                STORE_KEY,
                prefix,
                cookie,
                str(threads),
                str(rounds),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(procs)
    ]
    outs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * procs, outs
    _, s, payload = e.load_cookie(cookie)
    assert payload == str(procs * threads * rounds).encode()


def test_save_is_dropped_after_a_concurrent_write_and_never_revives_a_logout(
    make_shared: Make,
) -> None:
    e = make_shared()
    token, _ = e.create()
    cookie = f"__Host-sid={token}"
    _, first, _ = e.load_cookie(cookie)
    _, second, _ = e.load_cookie(cookie)
    assert e.save(first, b"1") == "written"
    assert e.save(second, b"2") == "dropped"
    _, third, payload = e.load_cookie(cookie)
    assert payload == b"1"
    e.logout(token)
    assert e.save(third, b"3") == "dropped"
    with pytest.raises(sessile.SessionInvalid):
        e.validate(token)


# ---------------------------------------------------------------- Flask


def flask_app(engine: sessile.Engine, redis_server: RedisServer) -> tuple[flask.Flask, list[str]]:
    app = flask.Flask(__name__)
    app.session_interface = sf.SessionInterface(engine)
    app.register_error_handler(sessile.StoreUnavailable, sf.store_unavailable)
    served: list[str] = []

    @app.get("/")
    def index() -> str:
        served.append("/")
        flask.session["seen"] = True
        return "hello"

    @app.post("/login")
    def login() -> str:
        served.append("/login")
        sf.login("alice")
        return "logged in"

    @app.get("/profile")
    def profile() -> Any:
        served.append("/profile")
        user = sf.current_principal()
        return (f"profile of {user}", 200) if user else ("not logged in", 401)

    @app.post("/stop-then-write")
    def stop_then_write() -> str:
        served.append("/stop-then-write")
        redis_server.stop()
        flask.session["late"] = 1
        return "written?"

    @app.get("/sessions")
    def sessions() -> str:
        return str(len(engine.sessions_of("alice")))

    return app, served


def is_unavailable(resp: Any) -> None:
    assert resp.status_code == 503
    assert resp.get_data(as_text=True) == "session store unavailable\n"
    assert resp.mimetype == "text/plain"
    assert "Set-Cookie" not in resp.headers


def test_flask_answers_503_when_the_store_is_down_and_recovers(
    make_shared: Make, redis_server: RedisServer
) -> None:
    app, served = flask_app(make_shared(), redis_server)
    c = app.test_client(use_cookies=False)
    r = c.get("/")
    assert r.status_code == 200
    cookie = cookie_header(r.headers["Set-Cookie"])
    r = c.post("/login", headers={"Cookie": cookie})
    cookie = cookie_header(r.headers["Set-Cookie"])
    assert c.get("/profile", headers={"Cookie": cookie}).status_code == 200
    served.clear()

    redis_server.stop()
    is_unavailable(c.get("/profile", headers={"Cookie": cookie}))
    is_unavailable(c.post("/login", headers={"Cookie": cookie}))
    is_unavailable(c.get("/"))  # no cookie: starting a session needs the store too
    is_unavailable(c.get("/sessions", headers={"Cookie": cookie}))
    assert served == ["/"], "no view ran with a session it could not check"
    assert c.get("/nowhere", headers={"Cookie": cookie}).status_code == 404

    redis_server.start()  # an empty server: the old session is unknown, the app works
    assert c.get("/profile", headers={"Cookie": cookie}).status_code == 401
    assert c.get("/").status_code == 200


def test_flask_answers_503_when_the_store_goes_away_before_the_save(
    make_shared: Make, redis_server: RedisServer
) -> None:
    app, _ = flask_app(make_shared(), redis_server)
    c = app.test_client(use_cookies=False)
    cookie = cookie_header(c.get("/").headers["Set-Cookie"])
    is_unavailable(c.post("/stop-then-write", headers={"Cookie": cookie}))


# ---------------------------------------------------------------- Starlette


def starlette_app(engine: sessile.Engine, redis_server: RedisServer) -> tuple[Starlette, list[str]]:
    served: list[str] = []

    async def index(request: Request) -> PlainTextResponse:
        served.append("/")
        request.session["seen"] = True
        return PlainTextResponse("hello")

    async def login(request: Request) -> PlainTextResponse:
        served.append("/login")
        ss.login(request, "alice")
        return PlainTextResponse("logged in")

    async def profile(request: Request) -> PlainTextResponse:
        served.append("/profile")
        user = ss.principal(request)
        if user is None:
            return PlainTextResponse("not logged in", status_code=401)
        return PlainTextResponse(f"profile of {user}")

    async def stop_then_write(request: Request) -> PlainTextResponse:
        redis_server.stop()
        request.session["late"] = 1
        return PlainTextResponse("written?")

    async def sessions(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(engine.sessions_of("alice"))))

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/login", login, methods=["POST"]),
            Route("/profile", profile),
            Route("/stop-then-write", stop_then_write, methods=["POST"]),
            Route("/sessions", sessions),
        ],
        middleware=[Middleware(ss.SessionMiddleware, engine=engine)],
    )
    return app, served


def is_unavailable_asgi(resp: Any) -> None:
    assert resp.status_code == 503
    assert resp.text == "session store unavailable\n"
    assert resp.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in resp.headers


def test_starlette_answers_503_when_the_store_is_down_and_recovers(
    make_shared: Make, redis_server: RedisServer
) -> None:
    app, served = starlette_app(make_shared(), redis_server)
    c = TestClient(app, raise_server_exceptions=True)
    r = c.get("/")
    cookie = cookie_header(r.headers["set-cookie"])
    r = c.post("/login", headers={"Cookie": cookie})
    cookie = cookie_header(r.headers["set-cookie"])
    c.cookies.clear()
    assert c.get("/profile", headers={"Cookie": cookie}).status_code == 200
    served.clear()

    redis_server.stop()
    is_unavailable_asgi(c.get("/profile", headers={"Cookie": cookie}))
    is_unavailable_asgi(c.post("/login", headers={"Cookie": cookie}))
    is_unavailable_asgi(c.get("/sessions", headers={"Cookie": cookie}))
    assert served == []
    c.cookies.clear()
    is_unavailable_asgi(c.get("/"))  # starts no session: the app's view ran, its save failed

    redis_server.start()
    c.cookies.clear()
    assert c.get("/profile", headers={"Cookie": cookie}).status_code == 401
    assert c.get("/").status_code == 200


def test_starlette_answers_503_when_the_store_goes_away_before_the_save(
    make_shared: Make, redis_server: RedisServer
) -> None:
    app, _ = starlette_app(make_shared(), redis_server)
    c = TestClient(app)
    cookie = cookie_header(c.get("/").headers["set-cookie"])
    c.cookies.clear()
    is_unavailable_asgi(c.post("/stop-then-write", headers={"Cookie": cookie}))


def test_flask_before_request_hooks_reading_the_session_get_503_too(
    make_shared: Make, redis_server: RedisServer
) -> None:
    app, served = flask_app(make_shared(), redis_server)
    seen: list[object] = []

    @app.before_request
    def who() -> None:
        seen.append(flask.session.get("user"))  # as a login check would

    c = app.test_client(use_cookies=False)
    cookie = cookie_header(c.get("/").headers["Set-Cookie"])
    seen.clear()
    redis_server.stop()
    is_unavailable(c.get("/profile", headers={"Cookie": cookie}))
    assert seen == [], "the hook never saw an empty session standing in for one unchecked"
    assert served == ["/"]


def test_other_threads_run_while_a_call_waits_for_the_store(tmp_path: Any) -> None:
    # A server in a thread of this process that answers every request with an error.
    # While the engine waits for its answer, the server thread must run to give it: so
    # the call ends with the server's error (refused), not after the timeout (which is
    # what a call holding the GIL while it waits gets: no other thread can answer).
    path = str(tmp_path / "srv.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            while data := conn.recv(65536):
                # One error per command (a client may pipeline several in one write).
                commands = sum(line.startswith(b"*") for line in data.split(b"\r\n"))
                conn.sendall(b"-ERR not a redis\r\n" * commands)

    server = threading.Thread(target=answer)
    server.start()
    e = sessile.Engine(store=f"unix://{path}", store_key=STORE_KEY, store_response_timeout=5.0)
    with pytest.raises(sessile.StoreUnavailable) as err:
        e.validate("A" * 43)
    del e  # closes the connection: the server thread ends
    server.join()
    listener.close()
    assert err.value.reason == "store_refused", "the call held the GIL while it waited"


def test_the_glue_refuses_a_snapshot_path_for_a_shared_engine(
    make_shared: Make, tmp_path: Any
) -> None:
    with pytest.raises(ValueError, match="in-process table"):
        sf.SessionInterface(make_shared(), snapshot_path=tmp_path / "s", snapshot_key=bytes(32))
    with pytest.raises(ValueError, match="in-process table"):
        ss.SessionMiddleware(
            None,  # type: ignore[arg-type]
            engine=make_shared(),
            snapshot_path=tmp_path / "s",
            snapshot_key=bytes(32),
        )


def test_a_child_forked_while_another_thread_waits_for_the_store_fails_instead_of_hanging(
    tmp_path: Any,
) -> None:
    # A server that reads and never answers: a thread's call waits in it (holding the
    # engine's lock) while the main thread forks. That lock is never released in the
    # child, so the child's calls raise StoreUnavailable at once, never wait for ever.
    path = str(tmp_path / "hang.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)
    arrived = threading.Event()
    conns: list[socket.socket] = []

    def hang() -> None:
        conn, _ = listener.accept()
        conns.append(conn)
        conn.recv(65536)
        arrived.set()

    server = threading.Thread(target=hang)
    server.start()
    e = sessile.Engine(store=f"unix://{path}", store_key=STORE_KEY, store_response_timeout=10.0)
    outcome: list[object] = []

    def wait_for_the_store() -> None:
        try:
            outcome.append(e.create())
        except sessile.StoreUnavailable as err:
            outcome.append(err.reason)

    waiting = threading.Thread(target=wait_for_the_store)
    waiting.start()
    assert arrived.wait(30)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(10)  # a child that hangs fails the test instead
            try:
                e.validate("A" * 43)
            except sessile.StoreUnavailable as err:
                code = 0 if "forked" in str(err) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    for conn in conns:
        conn.close()  # the parent's waiting call ends
    waiting.join()
    server.join()
    listener.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert outcome == ["store_unavailable"]  # the server closed: the parent's call failed
