"""Flask-Session's generic checks (its tests/conftest.py ``app_utils``) on sessile.flask.

Run with ``-p sessile_peer_flask_session`` (see that plugin and README.md here).
"""

from __future__ import annotations

from typing import Any

import flask

import sessile.flask


def test_generic_session(app_utils: Any) -> None:
    app = app_utils.create_app({"SECRET_KEY": "unused by sessile"})
    assert isinstance(app.session_interface, sessile.flask.SessionInterface)
    with app.test_request_context():
        assert isinstance(flask.session, sessile.flask.ServerSession)
        app_utils.test_session(app)


def test_generic_session_with_cookie(app_utils: Any) -> None:
    app = app_utils.create_app({"SECRET_KEY": "unused by sessile"})
    with app.test_request_context():
        cookie = app_utils.test_session_with_cookie(app)
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = app.extensions["sessile"].read_json(app.extensions["sessile"].validate(token).handle)
    assert stored == {"value": "44"}
