from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

import sessile

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """Seconds, advanced by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_engine(clock: FakeClock) -> Callable[..., sessile.Engine]:
    def make(**kw: Any) -> sessile.Engine:
        kw.setdefault("clock", clock)
        kw.setdefault("capacity", 64)
        kw.setdefault("pool_bytes", 64 * 1024)
        kw.setdefault("max_payload", 4096)
        return sessile.Engine(**kw)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., sessile.Engine]) -> sessile.Engine:
    return make_engine()
