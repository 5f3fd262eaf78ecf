"""pytest plugin: Flask-Session's generic session tests, run against sessile.flask.

Flask-Session (0.8.0, the version in requirements-dev.txt) keeps its generic checks in
its ``tests/conftest.py`` (the ``app_utils`` fixture: an app built with
``flask_session.Session(app)``, then ``test_session`` and ``test_session_with_cookie``),
which each backend's tests call. Its sdist has no tests, so this runner reads them from a
checkout of the tag: ``FLASK_SESSION_TESTS=/path/to/flask-session/tests``. With this
plugin loaded, ``flask_session.Session`` is :class:`sessile.flask.Session`, and
``test_flask_session_generic.py`` here runs the generic checks. Flask-Session's code is
never copied into this repository.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import flask_session
import pytest

import sessile.flask


def _load_conftest() -> Any:
    folder = os.environ.get("FLASK_SESSION_TESTS")
    if not folder:
        raise pytest.UsageError("set FLASK_SESSION_TESTS to the tests/ of a Flask-Session checkout")
    spec = importlib.util.spec_from_file_location(
        "flask_session_conftest", Path(folder) / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _session(app: Any = None, **_: Any) -> sessile.flask.Session:
    with warnings.catch_warnings():
        # Flask's defaults in Flask-Session's test app: sessile's stay, as its warning says.
        warnings.simplefilter("ignore", sessile.flask.SettingsWarning)
        return sessile.flask.Session(app, capacity=64, pool_bytes=64 * 1024)


def pytest_configure(config: pytest.Config) -> None:
    flask_session.Session = _session  # type: ignore[assignment,misc]


app_utils = _load_conftest().app_utils
