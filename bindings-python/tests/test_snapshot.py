"""Engine.snapshot / Engine.restore: a restart keeps every session and every dead token,
deadlines keep counting in wall-clock time, and a file that is not what was written under
this key is refused with a SnapshotError naming why."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

import sessile
from conftest import FakeClock

KEY = bytes(range(32))
WALL = 1_796_000_000.0  # seconds since the epoch, when the snapshot is written
SMALL: dict[str, Any] = {
    "capacity": 64,
    "pool_bytes": 64 * 1024,
    "max_payload": 4096,
    "idle_timeout": 60.0,
}


def restart(path: Path, *, gap: float, key: bytes = KEY, **kw: Any) -> sessile.Engine:
    """A new process's engine: its clock starts again at 0, `gap` seconds later."""
    kw = {**SMALL, "clock": FakeClock(), **kw}
    return sessile.Engine.restore(path, key, wall_time=WALL + gap, **kw)


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    clock = FakeClock()
    clock.t = 500.0
    e = sessile.Engine(clock=clock, **SMALL)
    anon, _ = e.create()
    first, _ = e.create()
    alice, s = e.login(first, "alice")
    e.write_json(s.handle, {"cart": [1, 2]})
    gone, _ = e.create()
    e.logout(gone)
    clock.advance(10)
    e.validate(alice)
    path = tmp_path / "sessions.snap"
    e.snapshot(path, KEY, wall_time=WALL)
    return path, {"anon": anon, "pre_login": first, "alice": alice, "gone": gone}


def test_a_restart_keeps_sessions_payloads_and_dead_tokens(
    written: tuple[Path, dict[str, str]],
) -> None:
    path, t = written
    e = restart(path, gap=5)
    s = e.validate(t["alice"])
    assert s.principal == "alice"
    assert e.read_json(s.handle) == {"cart": [1, 2]}
    assert [x.handle for x in e.sessions_of("alice")] == [s.handle]
    e.validate(t["anon"])
    for token, reason in [(t["pre_login"], "rotated_out"), (t["gone"], "logged_out")]:
        with pytest.raises(sessile.SessionInvalid) as exc:
            e.validate(token)
        assert exc.value.reason == reason
    assert e.stats().live == 2


def test_deadlines_keep_counting_while_down(written: tuple[Path, dict[str, str]]) -> None:
    path, t = written
    # alice was used at the snapshot, anon 10 s before it; both idle out after 60 s.
    e = restart(path, gap=49.5)
    assert e.peek(t["alice"]).idle_deadline == pytest.approx(10.5)
    e.validate(t["anon"])
    e = restart(path, gap=50)
    with pytest.raises(sessile.SessionInvalid) as exc:
        e.validate(t["anon"])
    assert exc.value.reason == "expired_idle"
    e.validate(t["alice"])
    assert [ev.kind for ev in e.drain_events()] == ["expired_idle"]


def test_the_file_is_private_and_holds_nothing_readable(
    written: tuple[Path, dict[str, str]],
) -> None:
    path, t = written
    data = path.read_bytes()
    for secret in [b"alice", b"cart", t["alice"].encode()]:
        assert secret not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


def test_a_new_snapshot_replaces_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "s.snap"
    e = sessile.Engine(clock=FakeClock(), **SMALL)
    e.snapshot(path, KEY, wall_time=WALL)
    token, _ = e.create()
    e.snapshot(str(path), KEY, wall_time=WALL)
    restart(path, gap=1).validate(token)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b: b"NOTSNAPS" + b[8:], "snapshot_unrecognized"),
        # Version 1: the format before the HChaCha8 digest.
        (lambda b: b[:8] + b"\x01" + b[9:], "snapshot_version"),
        (lambda b: b[:-1], "snapshot_truncated"),
        (lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], "snapshot_tampered"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 0x80]), "snapshot_tampered"),
        (lambda b: b + b"\0", "snapshot_tampered"),
    ],
)
def test_a_changed_file_is_refused(
    written: tuple[Path, dict[str, str]], change: Any, reason: str
) -> None:
    path, t = written
    path.write_bytes(change(path.read_bytes()))
    with pytest.raises(sessile.SnapshotError) as exc:
        restart(path, gap=1)
    assert exc.value.reason == reason
    assert exc.value.code == "snapshot"
    # What the app does then: start empty.
    e = sessile.Engine(**SMALL)
    with pytest.raises(sessile.SessionInvalid):
        e.validate(t["alice"])


def test_wrong_key_stale_future_and_smaller_config_are_refused(
    written: tuple[Path, dict[str, str]],
) -> None:
    path, _ = written
    cases: list[tuple[dict[str, Any], str]] = [
        ({"key": bytes(32 * [7])}, "snapshot_wrong_key"),
        ({"key": b"short"}, "snapshot_key"),
        ({"key": bytes(32)}, "snapshot_key"),
        ({"gap": 3600.001}, "snapshot_stale"),
        ({"gap": 11, "max_age": 10}, "snapshot_stale"),
        ({"gap": -1}, "snapshot_future"),
        ({"capacity": 63}, "snapshot_does_not_fit"),
    ]
    for kw, reason in cases:
        kw.setdefault("gap", 1)
        with pytest.raises(sessile.SnapshotError) as exc:
            restart(path, **kw)
        assert exc.value.reason == reason, kw
    with pytest.raises(sessile.SnapshotError) as exc:
        restart(path, gap=1, token_bytes=16)
    assert exc.value.key == "token_bytes"
    restart(path, gap=3600)
    restart(path, gap=10, max_age=10)


def test_bad_arguments_and_missing_files(tmp_path: Path) -> None:
    e = sessile.Engine(**SMALL)
    with pytest.raises(TypeError):
        e.snapshot(tmp_path / "s", "a str is a password, not a key")  # type: ignore[arg-type]
    with pytest.raises(sessile.SnapshotError):
        e.snapshot(tmp_path / "s", b"short")
    assert not (tmp_path / "s").exists()
    with pytest.raises(FileNotFoundError):
        sessile.Engine.restore(tmp_path / "missing", KEY)
    with pytest.raises(FileNotFoundError):
        e.snapshot(tmp_path / "no-such-dir" / "s", KEY)
    with pytest.raises(ValueError):
        sessile.Engine.restore(tmp_path / "s", KEY, max_age=float("nan"))
    with pytest.raises(sessile.ConfigError):
        sessile.Engine.restore(tmp_path / "s", KEY, capacity=0)


def test_restore_builds_the_python_engine_class(written: tuple[Path, dict[str, str]]) -> None:
    path, t = written
    e = restart(path, gap=1)
    assert type(e) is sessile.Engine
    assert e.read_json(e.validate(t["alice"]).handle) == {"cart": [1, 2]}
    assert e.config["capacity"] == 64
