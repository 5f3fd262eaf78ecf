"""The shared conformance vectors (tests/vectors/*.json, format in its README.md), run
through the Python API: seconds at the edge, so every `*_ms` value is divided by 1000 on
the way in and multiplied back on the way out."""

from __future__ import annotations

import json
from typing import Any

import pytest

import sessile
from conftest import ROOT, FakeClock

VECTORS = ROOT / "tests" / "vectors"
FILES = ["config.json", "cookies.json", "script.json", "tokens.json"]


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def data(obj: dict[str, Any], base: str) -> bytes | None:
    """The bytes named `base`: `<base>_hex`, or `<base>` text repeated `<base>_repeat` times."""
    if f"{base}_hex" in obj:
        return bytes.fromhex(obj[f"{base}_hex"])
    text = obj.get(base)
    if text is None:
        return None
    return str(text).encode() * int(obj.get(f"{base}_repeat", 1))


# Config goes through the same path as any caller's: each vector key is a key of the
# core's vocabulary, turned into its Engine() keyword by `config_keys()` (a `_ms` key is
# its keyword in seconds); values and spellings pass unchanged.
KEYS = {k.core_name: k for k in sessile.config_keys()}


def keyword(core_name: str, value: Any) -> tuple[str, Any]:
    """The Engine() keyword and value of one vector config entry."""
    assert core_name in KEYS, f"unknown config key {core_name}"
    k = KEYS[core_name]
    if k.kind == "seconds":
        value = value / 1000
    return k.name, value


def engine_kwargs(*layers: dict[str, Any]) -> dict[str, Any]:
    """Engine() keywords for config layers (later layers override earlier ones)."""
    return dict(keyword(k, v) for layer in layers for k, v in layer.items())


def test_every_vector_file_is_run() -> None:
    assert sorted(p.name for p in VECTORS.glob("*.json")) == FILES


# ---------------------------------------------------------------- config.json


def test_config_defaults_and_profiles() -> None:
    v = load("config.json")
    got = sessile.Engine().config
    for name, want in engine_kwargs(v["defaults"]).items():
        assert got[name] == want, name
    idle, absolute = KEYS["idle_timeout_ms"].name, KEYS["absolute_timeout_ms"].name
    for name, t in v["profiles"].items():
        c = sessile.Engine(profile=name, capacity=4).config
        assert round(c[idle] * 1000) == t["idle_timeout_ms"]
        assert round(c[absolute] * 1000) == t["absolute_timeout_ms"]


CONFIG_CASES = load("config.json")["cases"]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c["name"] for c in CONFIG_CASES])
def test_config_case(case: dict[str, Any]) -> None:
    kw = engine_kwargs(case["config"])
    if case["error"] is None:
        sessile.Engine(**kw)
        return
    with pytest.raises(sessile.ConfigError) as err:
        sessile.Engine(**kw)
    assert (err.value.code, err.value.reason) == ("config", case["error"])


# ---------------------------------------------------------------- cookies.json

COOKIES = load("cookies.json")


@pytest.mark.parametrize(
    "case", COOKIES["set_cookie"], ids=[c["name"] for c in COOKIES["set_cookie"]]
)
def test_set_cookie(case: dict[str, Any]) -> None:
    value = data(case, "value")
    assert value is not None
    try:
        engine = sessile.Engine(capacity=1, **engine_kwargs(case["config"]))
    except sessile.ConfigError:
        assert case["expect"] is None
        return
    got = engine.format_set_cookie(value.decode(), case["max_age_s"])
    assert got == case["expect"]


@pytest.mark.parametrize(
    "case", COOKIES["clear_cookie"], ids=[c["name"] for c in COOKIES["clear_cookie"]]
)
def test_clear_cookie(case: dict[str, Any]) -> None:
    try:
        engine = sessile.Engine(capacity=1, **engine_kwargs(case["config"]))
    except sessile.ConfigError:
        assert case["expect"] is None
        return
    assert engine.clear_cookie() == case["expect"]


@pytest.mark.parametrize("case", COOKIES["parse"], ids=[c["name"] for c in COOKIES["parse"]])
def test_parse_cookie(case: dict[str, Any]) -> None:
    header = data(case, "header")
    assert header is not None
    want = case["expect"]
    if "error" in want:
        with pytest.raises(sessile.CookieError) as err:
            sessile.parse_cookie(header, case["cookie_name"])
        assert err.value.reason == want["error"]
    else:
        got = sessile.parse_cookie(header, case["cookie_name"])
        assert got == (None if want["value"] is None else want["value"].encode())


# ---------------------------------------------------------------- tokens.json

TOKEN_ENGINES = load("tokens.json")["engines"]


@pytest.mark.parametrize("spec", TOKEN_ENGINES, ids=[e["name"] for e in TOKEN_ENGINES])
def test_tokens(spec: dict[str, Any]) -> None:
    clock = FakeClock()
    engine = sessile.Engine(
        seed=bytes.fromhex(spec["seed_hex"]), clock=clock, **engine_kwargs(spec["config"])
    )
    for want in spec["issued"]:
        assert engine.create()[0] == want
    clock.t = 0.001
    for case in spec["cases"]:
        token = data(case, "token")
        assert token is not None
        with pytest.raises(sessile.SessionInvalid) as err:
            engine.validate(token)
        assert err.value.reason == case["expect"], case["name"]
    clock.t = 0.002
    for t in spec["issued"]:
        engine.validate(t)


# ---------------------------------------------------------------- script.json

SCRIPTS = load("script.json")
MS_FIELDS = [
    "created",
    "last_seen",
    "idle_deadline",
    "absolute_deadline",
    "idle_timeout",
    "absolute_timeout",
]


def code(e: sessile.SessileError) -> str:
    """The vectors' name of an error: the `Invalid` or `CookieError` code, else the core's."""
    if isinstance(e, (sessile.SessionInvalid, sessile.CookieError)) and e.reason:
        return e.reason
    return e.code


class NoCookie(Exception):
    """`validate_cookie` found no session cookie in the header (outcome "none")."""


def check_fields(ctx: str, s: sessile.Session, want: dict[str, Any] | None) -> None:
    for k, v in (want or {}).items():
        if k == "principal":
            got: Any = s.principal
        elif k == "payload_len":
            got = s.payload_len
        else:
            assert k.endswith("_ms") and k[:-3] in MS_FIELDS, f"{ctx}: unknown field {k}"
            got = round(getattr(s, k[:-3]) * 1000)
        assert got == v, f"{ctx}: field {k}"


@pytest.mark.parametrize("script", SCRIPTS["scripts"], ids=[s["name"] for s in SCRIPTS["scripts"]])
def test_script(script: dict[str, Any]) -> None:
    clock = FakeClock()
    seed = bytes.fromhex(script.get("seed_hex", SCRIPTS["seed_hex"]))
    engine = sessile.Engine(
        seed=seed, clock=clock, **engine_kwargs(SCRIPTS["base_config"], script["config"])
    )
    names: dict[str, tuple[str, int, int]] = {}  # name -> (token, handle, tag)
    for n, step in enumerate(script["steps"]):
        op = step["op"]
        ctx = f"{script['name']} step {n} ({op})"
        clock.t = step.get("now", 0) / 1000
        expect = step.get("expect", "ok")
        token: str | bytes = (
            names[step["token"]][0] if "token" in step else (data(step, "token_raw") or b"")
        )
        handle = names[step["session"]][1] if "session" in step else 0
        principal = data(step, "principal")
        client = step.get("client")
        ckw = (
            {}
            if client is None
            else {"ip": data(client, "ip"), "user_agent": data(client, "user_agent")}
        )
        new: tuple[str | None, sessile.Session] | None = None
        try:
            if op == "create":
                new = engine.create(**ckw)
            elif op == "validate":
                new = (None, engine.validate(token, **ckw))
            elif op == "peek":
                new = (None, engine.peek(token))
            elif op == "validate_cookie":
                # `NAME=<token>` once per copy, with the engine's cookie name.
                header = "; ".join(
                    f"{engine.cookie_name}={c['raw'] if isinstance(c, dict) else names[c][0]}"
                    for c in step["cookies"]
                )
                found = engine.validate_cookie(header, **ckw)
                if found is None:
                    raise NoCookie
                assert found[0] == names[step["chosen"]][0], f"{ctx}: chosen"
                new = (None, found[1])
            elif op == "login":
                assert principal is not None
                new = engine.login(token, principal)
            elif op == "rotate":
                new = engine.rotate(token)
            elif op == "logout":
                engine.logout(token)
            elif op == "revoke":
                engine.revoke(handle)
            elif op == "set_timeouts":
                idle, absolute = step.get("idle_ms"), step.get("absolute_ms")
                new = (
                    None,
                    engine.set_timeouts(
                        handle,
                        idle_timeout=None if idle is None else idle / 1000,
                        absolute_timeout=None if absolute is None else absolute / 1000,
                    ),
                )
            elif op == "write":
                payload = data(step, "data")
                assert payload is not None
                engine.write(handle, payload)
            elif op == "read":
                assert engine.read(handle) == data(step, "expect_data"), f"{ctx}: data"
            elif op == "revoke_principal":
                assert principal is not None
                assert engine.revoke_principal(principal) == step["count"], ctx
            elif op == "revoke_all":
                assert engine.revoke_all() == step["count"], ctx
            elif op == "sweep":
                assert engine.sweep() == step["count"], ctx
            elif op == "sessions_of":
                assert principal is not None
                got = [s.handle for s in engine.sessions_of(principal)]
                assert got == [names[x][1] for x in step["sessions"]], ctx
            elif op == "stats":
                st = engine.stats()
                for k, v in step["stats"].items():
                    assert getattr(st, k) == v, f"{ctx}: stats.{k}"
            elif op == "events":
                got_events = engine.drain_events()
                shown = [f"{e.kind}@{round(e.at * 1000)}" for e in got_events]
                assert len(got_events) == len(step["events"]), f"{ctx}: {shown}"
                for g, w in zip(got_events, step["events"]):
                    assert g.kind == w["kind"], f"{ctx}: {shown}"
                    tag = 0 if w["session"] is None else names[w["session"]][2]
                    assert g.session == tag, f"{ctx}: session of {g.kind}"
                    if "at_ms" in w:
                        assert round(g.at * 1000) == w["at_ms"], f"{ctx}: at_ms of {g.kind}"
            else:
                raise AssertionError(f"{ctx}: unknown op")
            outcome = "ok"
        except NoCookie:
            outcome = "none"
        except sessile.SessileError as e:
            outcome = code(e)
        assert outcome == expect, ctx
        if new is not None:
            t, s = new
            check_fields(ctx, s, step.get("fields"))
            if "as" in step:
                assert t is not None, f"{ctx}: 'as' on an op without a token"
                names[step["as"]] = (t, s.handle, s.tag)
