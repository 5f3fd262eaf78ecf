"""Bad input of every kind gets a clear, typed error (or an empty session), never a crash."""

from __future__ import annotations

import math

import pytest

import sessile
from conftest import FakeClock

HUGE = 2**70


@pytest.mark.parametrize(
    ("kwargs", "reason", "key"),
    [
        # A value its key cannot hold: `bad_value`; one it can hold but a rule refuses:
        # that rule's code (as for any binding). Either names the keyword.
        ({"capacity": 0}, "capacity", "capacity"),
        ({"capacity": sessile.MAX_CAPACITY + 1}, "capacity", "capacity"),
        ({"capacity": -1}, "bad_value", "capacity"),
        ({"capacity": 2**40}, "bad_value", "capacity"),
        ({"capacity": HUGE}, "bad_value", "capacity"),
        ({"token_bytes": 15}, "token_bytes", "token_bytes"),
        ({"token_bytes": 33}, "token_bytes", "token_bytes"),
        ({"token_bytes": 300}, "bad_value", "token_bytes"),
        ({"idle_timeout": 0}, "zero_timeout", "idle_timeout"),
        ({"idle_timeout": 0.0004}, "zero_timeout", "idle_timeout"),  # rounds to 0 ms
        ({"idle_timeout": -5}, "bad_value", "idle_timeout"),
        ({"idle_timeout": math.nan}, "bad_value", "idle_timeout"),
        ({"idle_timeout": math.inf}, "bad_value", "idle_timeout"),
        ({"idle_timeout": 1e12}, "bad_value", "idle_timeout"),
        ({"max_absolute_timeout": 0}, "zero_timeout", "max_absolute_timeout"),
        ({"max_addresses": 4}, "max_addresses", "max_addresses"),
        ({"max_addresses": -1}, "bad_value", "max_addresses"),
        ({"events": 0}, "events", "events"),
        ({"ip_policy": "sometimes"}, "bad_value", "ip_policy"),
        ({"ip_policy": "Enforce"}, "bad_value", "ip_policy"),  # spellings are exact
        ({"principal_limit_policy": "evict_oldest"}, "bad_value", "principal_limit_policy"),
        ({"rotated_reuse": "ignore"}, "bad_value", "rotated_reuse"),
        ({"profile": "aal4"}, "bad_value", "profile"),
        ({"cookie_same_site": "loose"}, "bad_value", "cookie_same_site"),
        ({"cookie_priority": "urgent"}, "bad_value", "cookie_priority"),
        # Rules between keys, and the cookie's rules.
        ({"idle_timeout": 100, "absolute_timeout": 50}, "idle_above_absolute", "idle_timeout"),
        (
            {"absolute_timeout": 31 * 86400, "max_absolute_timeout": 30 * 86400},
            "timeout_above_max",
            "absolute_timeout",
        ),
        ({"max_payload": 5000, "pool_bytes": 4096}, "payload_above_pool", "max_payload"),
        ({"cookie_name": ""}, "cookie_empty_name", "cookie_name"),
        ({"cookie_name": "bad name"}, "cookie_invalid_name", "cookie_name"),
        ({"cookie_name": "x" * 65}, "cookie_name_too_long", "cookie_name"),
        ({"cookie_secure": False}, "cookie_host_prefix_needs_secure", "cookie_secure"),
        ({"cookie_domain": "example.com"}, "cookie_host_prefix_forbids_domain", "cookie_domain"),
        ({"cookie_path": "/app"}, "cookie_host_prefix_needs_root_path", "cookie_path"),
        ({"cookie_path": "app"}, "cookie_invalid_path", "cookie_path"),
        ({"cookie_domain": "a;b"}, "cookie_invalid_domain", "cookie_domain"),
        (
            {"cookie_name": "sid", "cookie_secure": False, "cookie_same_site": "none"},
            "cookie_same_site_none_needs_secure",
            "cookie_same_site",
        ),
        (
            {"cookie_name": "sid", "cookie_secure": False, "cookie_partitioned": True},
            "cookie_partitioned_needs_secure",
            "cookie_partitioned",
        ),
        ({"seed": b"short"}, "invalid_value", None),
    ],
)
def test_bad_config(kwargs: dict[str, object], reason: str, key: str | None) -> None:
    with pytest.raises(sessile.ConfigError) as err:
        sessile.Engine(**kwargs)  # type: ignore[arg-type]
    assert err.value.code == "config" and err.value.reason == reason
    assert err.value.key == key
    assert isinstance(err.value, ValueError)  # config errors are also ValueErrors
    # The message names the keyword as the caller spelled it, never the core's `_ms` key.
    assert str(err.value).startswith(key or "seed") and "_ms" not in str(err.value)


def test_a_bad_duration_is_explained_in_seconds() -> None:
    with pytest.raises(sessile.ConfigError) as err:
        sessile.Engine(idle_timeout=-1)
    assert str(err.value) == "idle_timeout: expected seconds from 0.001 to 4294967.295"
    with pytest.raises(sessile.ConfigError) as err:
        sessile.Engine(idle_timeout=100, max_idle_timeout=50)
    assert str(err.value) == "idle_timeout exceeds its maximum (max_idle_timeout)"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"capacity": "10"},
        {"idle_timeout": "5"},
        {"seed": "x" * 32},
        {"clock": 5},
        {"cookie_secure": "yes"},
        {"cookie_secure": 1},
        {"capacity": True},
        {"capacity": 10.0},
        {"ip_policy": 2},
        {"cookie_domain": b"example.com"},
    ],
)
def test_wrong_types_raise_type_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        sessile.Engine(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["unknown_option", "idle_timeout_ms", "cookie", "Capacity"])
def test_unknown_keywords_raise_type_error_naming_them(name: str) -> None:
    # As Python does for any function; the core's `_ms` names are not Python's keywords.
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        sessile.Engine(**{name: 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed"),
        ("x", "malformed"),
        ("A" * 43, "unknown"),
        ("A" * 10_000, "malformed"),
        ("\x00" * 43, "malformed"),
        ("é" * 43, "malformed"),
        (b"\xff" * 43, "malformed"),
        ("A" * 42 + "=", "malformed"),
    ],
)
def test_bad_tokens(engine: sessile.Engine, token: str | bytes, reason: str) -> None:
    with pytest.raises(sessile.SessionInvalid) as err:
        engine.validate(token)
    assert err.value.reason == reason and err.value.code == "session"
    for op in (engine.rotate, engine.logout):
        with pytest.raises(sessile.SessionInvalid):
            op(token)  # type: ignore[operator]
    with pytest.raises(sessile.SessionInvalid):
        engine.login(token, "alice")


@pytest.mark.parametrize("bad", [None, 5, 1.5, ["t"], object()])
def test_token_of_wrong_type(engine: sessile.Engine, bad: object) -> None:
    with pytest.raises(TypeError, match="token must be str or bytes"):
        engine.validate(bad)  # type: ignore[arg-type]


def test_bad_principals(engine: sessile.Engine) -> None:
    token, _ = engine.create()
    for bad in ("", "p" * 129, b"", b"p" * 129):
        with pytest.raises(sessile.InvalidPrincipal) as err:
            engine.login(token, bad)
        assert err.value.code == "invalid_principal"
        assert engine.revoke_principal(bad) == 0  # as the core: no such principal
        assert engine.sessions_of(bad) == []
    engine.validate(token)  # a refused login leaves the session alone
    t2, s2 = engine.login(token, "p" * 128)
    assert s2.principal == "p" * 128
    _t3, s3 = engine.login(engine.create()[0], b"\xff\xfe")  # non-UTF-8 principal
    assert s3.principal_bytes == b"\xff\xfe" and s3.principal == "\ufffd\ufffd"
    with pytest.raises(TypeError):
        engine.login(t2, 42)  # type: ignore[arg-type]


def test_payload_limits(make_engine) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(max_payload=100, pool_bytes=256, capacity=8)
    _, s = e.create()
    e.write(s.handle, b"x" * 100)
    with pytest.raises(sessile.PayloadTooLarge) as err:
        e.write(s.handle, b"y" * 101)
    assert err.value.code == "payload_too_large"
    assert e.read(s.handle) == b"x" * 100  # the old payload stays
    with pytest.raises(TypeError):
        e.write(s.handle, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        e.write_json(s.handle, {"x": object()})
    with pytest.raises(sessile.PayloadTooLarge):
        e.write_json(s.handle, {"x": "y" * 200})


def test_pool_exhausted(make_engine) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(max_payload=300, pool_bytes=512, capacity=8)  # 8 blocks of 64 bytes
    handles = []
    for name in ("a", "b"):
        _t, s = e.login(e.create()[0], name)  # authenticated: never evicted for room
        handles.append(s.handle)
    e.write(handles[0], b"x" * 250)  # 4 blocks, plus one per principal
    with pytest.raises(sessile.PoolExhausted) as err:
        e.write(handles[1], b"y" * 250)
    assert err.value.code == "pool_exhausted"
    assert e.read(handles[1]) == b""


def test_capacity_exhausted(make_engine) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(capacity=2)
    for name in ("a", "b"):
        e.login(e.create()[0], name)
    with pytest.raises(sessile.CapacityExhausted) as err:
        e.create()
    assert err.value.code == "capacity_exhausted"
    assert isinstance(err.value, sessile.SessileError)
    assert "capacity_pressure" in [ev.kind for ev in e.drain_events()]


def test_principal_limit_refuse(make_engine) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(max_sessions_per_principal=1, principal_limit_policy="refuse")
    e.login(e.create()[0], "alice")
    with pytest.raises(sessile.PrincipalLimit) as err:
        e.login(e.create()[0], "alice")
    assert err.value.code == "principal_limit"


def test_bad_timeouts(engine: sessile.Engine) -> None:
    _, s = engine.create()
    for bad in (-1.0, math.nan, math.inf, 0.0, 1e15, 31 * 86400.0):
        with pytest.raises(sessile.InvalidTimeout):
            engine.set_timeouts(s.handle, idle_timeout=bad)
    with pytest.raises(sessile.StaleHandle):
        engine.set_timeouts(12345678, idle_timeout=10)


@pytest.mark.parametrize("handle", [0, 1, 2**32, 2**64 - 1])
def test_bad_handles(engine: sessile.Engine, handle: int) -> None:
    for op in (engine.read, engine.session, engine.revoke):
        with pytest.raises(sessile.StaleHandle):
            op(handle)
    with pytest.raises(sessile.StaleHandle):
        engine.write(handle, b"x")


@pytest.mark.parametrize("handle", [-1, 2**64, "0"])
def test_handles_of_wrong_type(engine: sessile.Engine, handle: object) -> None:
    with pytest.raises((OverflowError, TypeError)):
        engine.read(handle)  # type: ignore[arg-type]


def test_bad_cookie_headers(engine: sessile.Engine) -> None:
    token, _ = engine.create()
    with pytest.raises(sessile.CookieError) as err:
        engine.token_from_cookie_header("a=" + "x" * 17_000)
    assert (err.value.code, err.value.reason) == ("cookie", "header_too_long")
    with pytest.raises(sessile.CookieError) as err:
        engine.token_from_cookie_header(f"__Host-sid={token}; __Host-sid=other")
    assert err.value.reason == "duplicate"
    # The request fast path treats every one of these as "no session".
    for header in (
        "a=" + "x" * 17_000 + f"; __Host-sid={token}",
        "__Host-sid",
        ";;;===;;",
        b"\xff\x00\xfe",
        "__Host-sid=" + "A" * 43,
        '__Host-sid="' + token,
    ):
        assert engine.load_cookie(header) is None
    assert engine.load_cookie(f'__Host-sid="{token}"') is not None  # quoted is fine
    # A malformed copy beside the live one cannot lock the user out (the core's rule).
    found = engine.load_cookie(f"__Host-sid={token}; __Host-sid=AAAA")
    assert found is not None and found[0] == token


def test_set_cookie_refuses_non_token_values(engine: sessile.Engine) -> None:
    _, s = engine.create()
    with pytest.raises(sessile.SessionInvalid):
        engine.set_cookie("a;b", s)
    with pytest.raises(TypeError):
        engine.set_cookie("tok", object())  # type: ignore[arg-type]


def test_bad_clocks() -> None:
    for bad in (lambda: -1.0, lambda: math.nan, lambda: math.inf, lambda: 1e300):
        e = sessile.Engine(capacity=4, clock=bad)
        with pytest.raises(sessile.ClockError):
            e.create()
    e = sessile.Engine(capacity=4, clock=lambda: "soon")
    with pytest.raises(sessile.ClockError):
        e.create()

    def broken() -> float:
        raise ZeroDivisionError

    e = sessile.Engine(capacity=4, clock=broken)
    with pytest.raises(ZeroDivisionError):
        e.create()


def test_clock_going_backwards_never_extends(make_engine, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    e = make_engine(idle_timeout=10, absolute_timeout=100)
    token, _ = e.create()
    clock.advance(11)
    with pytest.raises(sessile.SessionInvalid):
        e.validate(token)
    clock.t = 1.0
    with pytest.raises(sessile.SessionInvalid):
        e.validate(token)


def test_client_info_of_any_bytes(engine: sessile.Engine) -> None:
    token, _ = engine.create(ip=b"\x00\xff" * 100, user_agent="é" * 10_000)
    engine.validate(token, ip="", user_agent=b"")
    with pytest.raises(TypeError):
        engine.validate(token, ip=1234)  # type: ignore[arg-type]
