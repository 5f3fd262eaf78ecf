"""The Engine API: every operation, config option, clock, events, JSON, version."""

from __future__ import annotations

import importlib.metadata
import logging
import re

import pytest
import tomllib

import sessile
from conftest import ROOT, FakeClock

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def test_version_follows_the_workspace() -> None:
    with open(ROOT / "Cargo.toml", "rb") as f:
        workspace = tomllib.load(f)["workspace"]["package"]["version"]
    assert sessile.__version__ == workspace
    assert importlib.metadata.version("sessile") == workspace
    # No second copy of the version that could drift: pyproject takes it from Cargo.
    with open(ROOT / "bindings-python" / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["dynamic"] == ["version"] and "version" not in project
    with open(ROOT / "bindings-python" / "Cargo.toml", "rb") as f:
        assert tomllib.load(f)["package"]["version"] == {"workspace": True}


def test_wheel_is_abi3() -> None:
    assert sessile._native.__file__.endswith(".abi3.so")


def test_defaults_are_the_cores() -> None:
    c = sessile.Engine().config
    assert c["capacity"] == 10_000
    assert c["pool_bytes"] == 4 * 1024 * 1024
    assert c["max_payload"] == 16 * 1024
    assert c["token_bytes"] == 32
    assert c["idle_timeout"] == 1800.0
    assert c["absolute_timeout"] == 8 * 3600.0
    assert c["ip_policy"] == "observe"
    assert c["cookie_name"] == "__Host-sid"
    assert c["cookie_secure"] and c["cookie_http_only"] and c["cookie_persistent"]
    assert c["cookie_same_site"] == "lax" and c["cookie_priority"] == "omit"
    assert c["principal_limit_policy"] == "evict_least_recently_used"


def test_every_option_is_accepted_and_reported() -> None:
    opts = dict(
        capacity=8,
        pool_bytes=2048,
        max_payload=100,
        token_bytes=16,
        idle_timeout=5.0,
        absolute_timeout=50.0,
        max_idle_timeout=60.0,
        max_absolute_timeout=600.0,
        tombstones=40,
        events=10,
        max_sessions_per_principal=2,
        principal_limit_policy="refuse",
        rotated_reuse="revoke_session",
        ip_policy="enforce",
        user_agent_policy="off",
        max_addresses=2,
        cookie_name="sid",
        cookie_domain="example.com",
        cookie_path="/app",
        cookie_secure=False,
        cookie_http_only=False,
        cookie_same_site="strict",
        cookie_partitioned=False,
        cookie_priority="high",
        cookie_persistent=False,
    )
    e = sessile.Engine(**opts)  # type: ignore[arg-type]
    assert {k: e.config[k] for k in opts} == opts
    assert e.config["profile"] is None  # a profile is a preset, not kept
    token, _ = e.create()
    assert len(token) == 22  # 16 random bytes


def candidates(key: sessile.ConfigKey, default: object) -> list[object]:
    """Values to try for a key, from what the vocabulary says it takes."""
    if key.kind == "choice":
        return list(key.choices)
    if key.kind == "bool":
        return [True, False]
    if key.kind == "int":
        assert isinstance(key.minimum, int)
        return [key.minimum, key.minimum + 1, default]
    if key.kind == "seconds":
        assert isinstance(key.minimum, float)
        return [key.minimum, 7.5, default]
    return [default]


def test_every_core_key_is_a_keyword_and_shown_in_config() -> None:
    # Read off the core's vocabulary: a key added there is a keyword of Engine() and a key
    # of Engine.config with no edit to the binding. Each value a key takes (alone, over
    # the defaults) builds an engine that reports it, or is refused by a rule between
    # keys as a ConfigError; never a TypeError, never silently ignored.
    keys = sessile.config_keys()
    defaults = sessile.Engine().config
    assert list(defaults) == [k.name for k in keys]
    # The store's keys (a URL, and what only a shared store takes): tests/test_redis.py.
    for key in (k for k in keys if not k.core_name.startswith("store")):
        assert key.name == (key.core_name[:-3] if key.kind == "seconds" else key.core_name)
        assert key.doc
        accepted = []
        for value in candidates(key, defaults[key.name]):
            try:
                config = sessile.Engine(**{key.name: value}).config  # type: ignore[arg-type]
            except sessile.ConfigError as e:
                assert e.reason != "bad_value" and e.key is not None, (key.name, value, e)
                continue
            shown = config[key.name]
            assert shown == (None if key.name == "profile" else value), (key.name, value)
            accepted.append(value)
        assert accepted, key.name


def test_config_round_trips_through_the_constructor() -> None:
    e = sessile.Engine(profile="aal2", capacity=16, cookie_name="sid", cookie_domain="example.com")
    assert e.config["idle_timeout"] == 3600  # the profile's, kept as a timeout
    assert sessile.Engine(**e.config).config == e.config  # type: ignore[arg-type]


def test_a_long_timeout_lifts_its_maximum() -> None:
    # The core raises a per-session maximum not given to a longer timeout asked for.
    forty_days = 40 * 86400.0
    c = sessile.Engine(idle_timeout=forty_days, absolute_timeout=forty_days).config
    assert c["max_idle_timeout"] == c["max_absolute_timeout"] == forty_days


def test_durations_are_seconds_rounded_to_the_millisecond() -> None:
    c = sessile.Engine(idle_timeout=1.0006, absolute_timeout=60).config
    assert c["idle_timeout"] == 1.001 and c["absolute_timeout"] == 60.0


@pytest.mark.parametrize(
    ("profile", "idle", "absolute"),
    [("aal1", 30 * 86400, 30 * 86400), ("aal2", 3600, 86400), ("aal3", 900, 12 * 3600)],
)
def test_nist_profiles(profile: str, idle: float, absolute: float) -> None:
    c = sessile.Engine(profile=profile, capacity=4).config
    assert (c["idle_timeout"], c["absolute_timeout"]) == (idle, absolute)


def test_create_validate_write_read(engine: sessile.Engine, clock: FakeClock) -> None:
    token, s = engine.create()
    assert TOKEN_RE.match(token)
    assert s.principal is None and not s.authenticated and s.payload_len == 0
    engine.write(s.handle, b"\x00binary\xff")
    clock.advance(10)
    v = engine.validate(token)
    assert v.handle == s.handle and v.last_seen == 10.0 and v.payload_len == 8
    assert engine.read(s.handle) == b"\x00binary\xff"
    engine.write_json(s.handle, {"cart": [1, 2], "name": "zoë"})
    assert engine.read_json(s.handle) == {"cart": [1, 2], "name": "zoë"}
    assert engine.validate(token.encode()).tag == s.tag  # bytes tokens too


def test_by_handle_a_session_past_its_deadline_is_expired(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(idle_timeout=1)
    _, a = e.login(e.create()[0], "ann")
    token, b = e.create()
    e.write(b.handle, b"kept until the deadline")
    clock.advance(0.999)
    assert e.read(b.handle) == b"kept until the deadline"
    assert len(e.sessions_of("ann")) == 1
    clock.advance(0.001)
    assert e.sessions_of("ann") == []
    with pytest.raises(sessile.SessionInvalid) as err:
        e.session(a.handle)
    assert err.value.reason == "expired_idle"
    with pytest.raises(sessile.SessionInvalid) as err:
        e.write(b.handle, b"too late")
    assert err.value.reason == "expired_idle"
    with pytest.raises(sessile.StaleHandle):
        e.read(b.handle)
    with pytest.raises(sessile.SessionInvalid) as err:
        e.validate(token)
    assert err.value.reason == "expired_idle"


def test_timeouts_are_exact_in_seconds(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(idle_timeout=10, absolute_timeout=25)
    token, s = e.create()
    assert s.idle_deadline == 10.0 and s.absolute_deadline == 25.0
    clock.advance(9.999)
    e.validate(token)  # still alive: idle restarts
    clock.advance(10.001)
    with pytest.raises(sessile.SessionInvalid) as err:
        e.validate(token)
    assert err.value.reason == "expired_idle"
    start = clock.t
    t2, _ = e.create()
    for _ in range(4):
        clock.advance(6)
        e.validate(t2)  # busy: never idle
    clock.t = start + 24.999
    e.validate(t2)
    clock.t = start + 25.001
    with pytest.raises(sessile.SessionInvalid) as err:
        e.validate(t2)
    assert err.value.reason == "expired_absolute"


def test_login_rotates_and_kills_the_old_token(engine: sessile.Engine) -> None:
    anon, s = engine.create()
    engine.write(s.handle, b"kept")
    token, s2 = engine.login(anon, "alice")
    assert token != anon and s2.principal == "alice" and s2.authenticated
    assert s2.principal_bytes == b"alice"
    assert engine.read(s2.handle) == b"kept"
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(anon)
    assert err.value.reason == "rotated_out"
    rotated, _ = engine.rotate(token)
    with pytest.raises(sessile.SessionInvalid):
        engine.validate(token)
    engine.logout(rotated)
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(rotated)
    assert err.value.reason == "logged_out"
    kinds = [ev.kind for ev in engine.drain_events()]
    assert kinds == [
        "created",
        "logged_in",
        "reuse_after_rotation",
        "rotated",
        "reuse_after_rotation",
        "logged_out",
        "reuse_after_logout",
    ]


def test_principals_listing_and_revocation(engine: sessile.Engine) -> None:
    tokens = [engine.login(engine.create()[0], b"bob")[0] for _ in range(3)]
    other, _ = engine.login(engine.create()[0], "carol")
    assert len(engine.sessions_of("bob")) == 3
    assert {s.principal for s in engine.sessions_of(b"bob")} == {"bob"}
    assert engine.revoke_principal("bob") == 3
    for t in tokens:
        with pytest.raises(sessile.SessionInvalid) as err:
            engine.validate(t)
        assert err.value.reason == "revoked"
    assert engine.sessions_of("bob") == []
    engine.validate(other)


def test_revoke_all(engine: sessile.Engine) -> None:
    tokens = [engine.create()[0] for _ in range(3)] + [engine.login(engine.create()[0], "a")[0]]
    assert engine.revoke_all() == 4
    assert engine.stats().live == 0
    for t in tokens:
        with pytest.raises(sessile.SessionInvalid) as err:
            engine.validate(t)
        assert err.value.reason == "revoked"
    assert engine.revoke_all() == 0


def test_revoke_by_handle_and_stale_handles(engine: sessile.Engine) -> None:
    _token, s = engine.create()
    assert engine.session(s.handle).tag == s.tag
    engine.revoke(s.handle)
    with pytest.raises(sessile.StaleHandle) as err:
        engine.session(s.handle)
    assert err.value.code == "stale_handle"
    with pytest.raises(sessile.StaleHandle):
        engine.write(s.handle, b"x")
    with pytest.raises(sessile.StaleHandle):
        engine.read(s.handle)
    with pytest.raises(sessile.StaleHandle):
        engine.revoke(s.handle)
    # The slot is reused by the next session; the old handle still does not reach it.
    _, s2 = engine.create()
    with pytest.raises(sessile.StaleHandle):
        engine.read(s.handle)
    assert engine.read(s2.handle) == b""


def test_set_timeouts_per_session(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(idle_timeout=10, absolute_timeout=100, max_idle_timeout=60)
    token, s = e.create()
    s = e.set_timeouts(s.handle, idle_timeout=30)
    assert s.idle_timeout == 30.0 and s.idle_deadline == 30.0
    clock.advance(20)
    e.validate(token)
    with pytest.raises(sessile.InvalidTimeout):
        e.set_timeouts(s.handle, idle_timeout=61)
    with pytest.raises(sessile.InvalidTimeout):
        e.set_timeouts(s.handle, idle_timeout=0)


def test_sweep_reclaims_expired(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(idle_timeout=5, absolute_timeout=50)
    for _ in range(5):
        e.create()
    assert e.stats().live == 5
    clock.advance(6)
    assert e.sweep() == 5
    st = e.stats()
    assert st.live == 0 and st.expirations == 5


def test_stats(engine: sessile.Engine) -> None:
    t, _s = engine.create()
    engine.login(t, "x")
    engine.create()
    st = engine.stats()
    assert (st.capacity, st.live, st.anonymous, st.authenticated, st.created) == (64, 2, 1, 1, 2)
    assert st.pool_total_bytes >= 64 * 1024
    assert st.events_pending == engine.events_pending == 3


def test_events_are_objects_and_logged(
    engine: sessile.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    token, s = engine.create()
    engine.logout(token)
    with pytest.raises(sessile.SessionInvalid):
        engine.validate(token)
    with caplog.at_level(logging.INFO, logger="sessile.security"):
        events = engine.drain_events()
    assert [e.kind for e in events] == ["created", "logged_out", "reuse_after_logout"]
    assert all(e.session == s.tag for e in events)
    assert events[2].alert and not events[0].alert
    assert events[0].session_hex == f"{s.tag:016x}"
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("INFO", f"sessile-event created session={s.tag:016x}"),
        ("INFO", f"sessile-event logged_out session={s.tag:016x}"),
        ("WARNING", f"sessile-event reuse_after_logout session={s.tag:016x}"),
    ]
    assert caplog.records[2].sessile_event.kind == "reuse_after_logout"  # type: ignore[attr-defined]
    assert engine.drain_events() == []
    assert set(sessile.EVENT_KINDS) >= {e.kind for e in events}


def test_client_policy_enforce(make_engine) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(ip_policy="enforce")
    token, _ = e.create(ip="203.0.113.9", user_agent="UA")
    e.validate(token, ip="203.0.113.9")
    with pytest.raises(sessile.SessionInvalid) as err:
        e.validate(token, ip=b"198.51.100.1")
    assert err.value.reason == "client_mismatch"
    e.validate(token, ip="203.0.113.9")  # still alive for its rightful client
    assert "address_changed" in [ev.kind for ev in e.drain_events()]


def test_seed_makes_ids_reproducible() -> None:
    a = sessile.Engine(seed=bytes(range(32)), capacity=4)
    b = sessile.Engine(seed=bytes(range(32)), capacity=4)
    c = sessile.Engine(capacity=4)
    ta, tb, tc = a.create()[0], b.create()[0], c.create()[0]
    assert ta == tb != tc


def test_cookies(engine: sessile.Engine, clock: FakeClock) -> None:
    token, s = engine.create()
    assert engine.set_cookie(token, s) == (
        f"__Host-sid={token}; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax"
    )
    clock.advance(100.5)
    assert "Max-Age=28700;" in engine.set_cookie(token, s)
    assert "Max-Age" not in engine.set_cookie(token, s, persistent=False)
    assert engine.clear_cookie() == "__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
    assert engine.token_from_cookie_header(f"a=1; __Host-sid={token}; b=2") == token
    assert engine.token_from_cookie_header(b"a=1") is None
    assert engine.cookie_name == "__Host-sid"


def test_load_cookie_fast_path(engine: sessile.Engine) -> None:
    token, s = engine.create()
    engine.write(s.handle, b'{"a":1}')
    found = engine.load_cookie(f"x=y; __Host-sid={token}")
    assert found is not None
    t, info, payload = found
    assert (t, info.handle, payload) == (token, s.handle, b'{"a":1}')
    engine.logout(token)
    assert engine.load_cookie(f"__Host-sid={token}") is None
    assert engine.load_cookie(None) is None
    assert engine.load_cookie("") is None


def test_a_request_from_begin_to_finish(engine: sessile.Engine) -> None:
    # The native request lifecycle the Flask and ASGI glue drive (the core's rules).
    request, payload = engine.begin_request("x=y")
    assert (request.token, request.session, payload) == (None, None, b"")
    assert request.finish(b"") is None and request.token is None  # nothing kept: no session
    request, _ = engine.begin_request(None, ip="10.0.0.1")
    cookie = request.finish(b'{"a":1}')
    token = request.token
    assert token is not None and cookie is not None and cookie.startswith(f"__Host-sid={token};")
    assert request.session is not None and request.session.payload_len == 7

    request, payload = engine.begin_request(f"__Host-sid={token}", ip="10.0.0.1")
    assert payload == b'{"a":1}' and request.principal is None
    request.login("alice")
    assert request.token_changed and request.token != token
    cookie = request.finish(None, persistent=False)  # data unchanged; a browser-session cookie
    assert cookie is not None and "Max-Age" not in cookie
    assert engine.peek(request.token).principal == "alice"  # type: ignore[arg-type]

    request, _ = engine.begin_request(f"__Host-sid={request.token}")
    with pytest.raises(TypeError):
        request.finish("not bytes")  # type: ignore[arg-type]
    request.clear()
    assert request.finish(b"") == engine.clear_cookie()
    assert engine.stats().live == 0


def test_duplicate_cookies_follow_the_cores_rule(engine: sessile.Engine) -> None:
    # A sibling subdomain can plant a second cookie of the same name ("cookie tossing").
    token, s = engine.create()
    engine.write(s.handle, b'{"a":1}')
    dead, _ = engine.create()
    engine.logout(dead)
    unknown = "A" * 43
    engine.drain_events()
    # The one copy naming a live session is used, in any position: the plant is ignored.
    for header in (
        f"__Host-sid={unknown}; __Host-sid={token}",
        f"__Host-sid={token}; __Host-sid=planted; __Host-sid={dead}",
        f"__Host-sid={token}; __Host-sid={token}",
    ):
        found = engine.validate_cookie(header)
        assert found is not None and found[0] == token and found[1].handle == s.handle
        loaded = engine.load_cookie(header)
        assert loaded is not None and loaded[0] == token and loaded[2] == b'{"a":1}'
    # None live: the first copy answers, with its own reason.
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate_cookie(f"__Host-sid={dead}; __Host-sid=planted")
    assert err.value.reason == "logged_out"
    assert engine.validate_cookie("other=1") is None
    # Two live copies: it is ambiguous which is the user's, so both end.
    planted, p = engine.create()
    header = f"__Host-sid={planted}; __Host-sid={token}"
    with pytest.raises(sessile.CookieError) as cerr:
        engine.validate_cookie(header)
    assert cerr.value.reason == "duplicate"
    for t in (token, planted):
        with pytest.raises(sessile.SessionInvalid) as err:
            engine.validate(t)
        assert err.value.reason == "revoked"
    assert engine.load_cookie(header) is None
    kinds = [(e.kind, e.session) for e in engine.drain_events()]
    assert ("duplicate_cookie", s.tag) in kinds and ("duplicate_cookie", p.tag) in kinds
    assert "duplicate_cookie" in sessile.EVENT_KINDS


def test_peek_does_not_touch(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(idle_timeout=10, absolute_timeout=100)
    token, s = engine.create()
    engine.drain_events()
    clock.advance(9)
    peeked = engine.peek(token)
    assert (peeked.handle, peeked.last_seen, peeked.idle_deadline) == (s.handle, 0.0, 10.0)
    clock.advance(1)  # had peek counted as activity, the session would live until 19 s
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.peek(token)
    assert err.value.reason == "expired_idle"
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.peek("nope")
    assert err.value.reason == "malformed"
    assert engine.drain_events() == [] and engine.stats().live == 1


def test_default_clock_is_monotonic_seconds() -> None:
    e = sessile.Engine(capacity=4)
    a = e.now()
    _, s = e.create()
    assert 0 <= a <= s.created <= e.now() < 60


def test_error_classes_cover_every_core_code() -> None:
    assert set(sessile.errors.BY_CODE) == set(sessile.ERROR_CODES)
    for code, cls in sessile.errors.BY_CODE.items():
        assert issubclass(cls, sessile.SessileError) and cls.code == code
    assert len(set(sessile.errors.BY_CODE.values())) == len(sessile.ERROR_CODES)
