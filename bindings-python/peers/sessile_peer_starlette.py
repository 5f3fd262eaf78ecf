"""pytest plugin: Starlette's own session tests, run against sessile.

``make test-python`` runs Starlette 1.10's ``tests/middleware/test_session.py`` (from
the sdist that ``make tools-python`` keeps in ``.venv/peers/``; see ``README.md`` here)
with this plugin loaded: before the test module is imported, ``SessionMiddleware`` and
``Session`` of ``starlette.middleware.sessions`` are replaced by sessile's, so every test
builds its app on :class:`sessile.starlette.SessionMiddleware` and checks sessile's
cookies, headers and sessions. Each test runs on asyncio and on trio, as Starlette's CI
runs them. Starlette's code is never copied into this repository.
"""

from __future__ import annotations

from typing import Any

import pytest
import starlette.middleware.sessions as upstream

import sessile.starlette as ours


def pytest_configure(config: pytest.Config) -> None:
    upstream.SessionMiddleware = ours.SessionMiddleware  # type: ignore[misc,assignment]
    upstream.Session = ours.Session  # type: ignore[misc,assignment]


def pytest_report_header(config: pytest.Config) -> str:
    return "starlette.middleware.sessions -> sessile.starlette (SessionMiddleware, Session)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test module that kept Starlette's classes would test Starlette, not sessile.
    for item in items:
        module: Any = getattr(item, "module", None)
        if module is not None and hasattr(module, "SessionMiddleware"):
            assert module.SessionMiddleware is ours.SessionMiddleware, item.nodeid
            assert module.Session is ours.Session, item.nodeid


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
