"""Bad input of every kind gets a clear, typed error (or an empty session), never a crash."""

from __future__ import annotations

import math

import pytest

import sessile
from conftest import FakeClock

HUGE = 2**70


@pytest.mark.parametrize(
    ("kwargs", "cls", "reason"),
    [
        ({"capacity": 0}, sessile.ConfigError, "capacity"),
        ({"capacity": sessile.MAX_CAPACITY + 1}, sessile.ConfigError, "capacity"),
        ({"capacity": -1}, sessile.ConfigError, "invalid_value"),
        ({"capacity": 2**40}, sessile.ConfigError, "invalid_value"),
        ({"token_bytes": 15}, sessile.ConfigError, "token_bytes"),
        ({"token_bytes": 33}, sessile.ConfigError, "token_bytes"),
        ({"token_bytes": 300}, sessile.ConfigError, "token_bytes"),
        ({"idle_timeout": 0}, sessile.ConfigError, "zero_timeout"),
        ({"idle_timeout": -5}, sessile.ConfigError, "invalid_value"),
        ({"idle_timeout": math.nan}, sessile.ConfigError, "invalid_value"),
        ({"idle_timeout": math.inf}, sessile.ConfigError, "invalid_value"),
        ({"idle_timeout": 1e12}, sessile.ConfigError, "invalid_value"),
        ({"idle_timeout": 100, "absolute_timeout": 50}, sessile.ConfigError, "idle_above_absolute"),
        ({"absolute_timeout": 31 * 86400}, sessile.ConfigError, "timeout_above_max"),
        ({"max_payload": 5000, "pool_bytes": 4096}, sessile.ConfigError, "payload_above_pool"),
        ({"max_addresses": 4}, sessile.ConfigError, "max_addresses"),
        ({"max_addresses": -1}, sessile.ConfigError, "max_addresses"),
        ({"events": 0}, sessile.ConfigError, "events"),
        ({"ip_policy": "sometimes"}, sessile.ConfigError, "invalid_value"),
        ({"principal_limit_policy": "drop"}, sessile.ConfigError, "invalid_value"),
        ({"rotated_reuse": "ignore"}, sessile.ConfigError, "invalid_value"),
        ({"profile": "aal4"}, sessile.ConfigError, "invalid_value"),
        ({"cookie_same_site": "loose"}, sessile.ConfigError, "invalid_value"),
        ({"cookie_priority": "urgent"}, sessile.ConfigError, "invalid_value"),
        ({"cookie_name": ""}, sessile.ConfigError, "cookie_empty_name"),
        ({"cookie_name": "bad name"}, sessile.ConfigError, "cookie_invalid_name"),
        ({"cookie_name": "x" * 65}, sessile.ConfigError, "cookie_name_too_long"),
        ({"cookie_secure": False}, sessile.ConfigError, "cookie_host_prefix_needs_secure"),
        (
            {"cookie_domain": "example.com"},
            sessile.ConfigError,
            "cookie_host_prefix_forbids_domain",
        ),
        ({"cookie_path": "/app"}, sessile.ConfigError, "cookie_host_prefix_needs_root_path"),
        ({"cookie_path": "app"}, sessile.ConfigError, "cookie_invalid_path"),
        ({"cookie_domain": "a;b"}, sessile.ConfigError, "cookie_invalid_domain"),
        (
            {"cookie_name": "sid", "cookie_secure": False, "cookie_same_site": "none"},
            sessile.ConfigError,
            "cookie_same_site_none_needs_secure",
        ),
        (
            {"cookie_name": "sid", "cookie_secure": False, "cookie_partitioned": True},
            sessile.ConfigError,
            "cookie_partitioned_needs_secure",
        ),
        ({"seed": b"short"}, sessile.ConfigError, "invalid_value"),
    ],
)
def test_bad_config(
    kwargs: dict[str, object], cls: type[sessile.SessileError], reason: str
) -> None:
    with pytest.raises(cls) as err:
        sessile.Engine(**kwargs)  # type: ignore[arg-type]
    assert err.value.code == "config" and err.value.reason == reason
    assert isinstance(err.value, ValueError)  # config errors are also ValueErrors
    assert str(err.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"capacity": "10"},
        {"idle_timeout": "5"},
        {"seed": "x" * 32},
        {"clock": 5},
        {"cookie_secure": "yes"},
        {"unknown_option": 1},
    ],
)
def test_wrong_types_raise_type_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        sessile.Engine(**kwargs)  # type: ignore[arg-type]


def test_huge_int_overflows_cleanly() -> None:
    with pytest.raises(OverflowError):
        sessile.Engine(capacity=HUGE)


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
