"""The sessile demo server in Python (Flask), following tests/e2e/README.md.

    make demo DEMO=python [PORT=8080]                # one process, in-process sessions
    make demo DEMO=python STORE=redis [PORT=8080]    # gunicorn, 4 workers, one Redis

Serves 127.0.0.1:$PORT (PORT=0 picks a free port; the chosen one is printed). Security
events go to standard error as ``sessile-event <kind> session=<16 hex digits>``.

Configured from the environment: ``SESSILE_CAPACITY``, ``SESSILE_IDLE_MS``,
``SESSILE_ABSOLUTE_MS`` (tests/e2e/README.md); ``SESSILE_STORE`` (a ``redis://``,
``rediss://`` or ``unix://`` URL: sessions in Redis or Valkey, shared by every worker),
``SESSILE_STORE_KEY`` (64 hex digits, the same in every worker) and
``SESSILE_STORE_PREFIX``; ``SESSILE_SNAPSHOT_PATH`` and ``SESSILE_SNAPSHOT_KEY`` (64 hex
digits; in-process sessions only) to keep sessions across a restart: restored at start,
written at a graceful stop (SIGTERM, Ctrl-C). ``serve_gunicorn.py`` runs this app under
gunicorn.
"""

from __future__ import annotations

import hmac
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, session
from werkzeug.serving import make_server

import sessile
import sessile.flask

USERS = {"admin": "admin", "alice": "alice", "bob": "bob"}


def config_from_env() -> dict[str, Any]:
    """``Engine(...)`` keywords from the SESSILE_* environment (unset: the default)."""

    def env(name: str) -> int | None:
        value = os.environ.get(name)
        return None if value is None else int(value)

    def seconds(name: str) -> float | None:
        ms = env(name)
        return None if ms is None else ms / 1000

    # Unset: the core's default (a timeout above its maximum lifts the maximum).
    return dict(
        capacity=env("SESSILE_CAPACITY"),
        idle_timeout=seconds("SESSILE_IDLE_MS"),
        absolute_timeout=seconds("SESSILE_ABSOLUTE_MS"),
        store=os.environ.get("SESSILE_STORE") or None,
        store_key=os.environ.get("SESSILE_STORE_KEY") or None,
        store_prefix=os.environ.get("SESSILE_STORE_PREFIX") or None,
        clock=offset_clock(wall=bool(os.environ.get("SESSILE_STORE"))),
    )


def offset_clock(wall: bool) -> Callable[[], float] | None:
    """Tests only (tests/e2e/README.md): the engine's clock plus the milliseconds in the
    file SESSILE_CLOCK_OFFSET_FILE names, read at each reading, so a test moves time on
    without waiting. Unix time over a shared store (``wall``), else monotonic."""
    path = os.environ.get("SESSILE_CLOCK_OFFSET_FILE")
    base = time.time if wall else time.monotonic
    return (lambda: base() + int(Path(path).read_text()) / 1000) if path else None


def snapshot_from_env() -> tuple[str, bytes] | None:
    """``(path, key)`` of SESSILE_SNAPSHOT_PATH and SESSILE_SNAPSHOT_KEY, if set."""
    path = os.environ.get("SESSILE_SNAPSHOT_PATH")
    if not path:
        return None
    key = os.environ.get("SESSILE_SNAPSHOT_KEY")
    if not key:
        sys.exit("SESSILE_SNAPSHOT_PATH needs SESSILE_SNAPSHOT_KEY (64 hex digits)")
    try:
        return path, bytes.fromhex(key)
    except ValueError:
        sys.exit("SESSILE_SNAPSHOT_KEY must be 64 hex digits")


def make_engine() -> sessile.Engine:
    config = config_from_env()
    snapshot = snapshot_from_env()
    if snapshot is not None:
        return sessile.Engine.restore_or_new(*snapshot, **config)
    return sessile.Engine(**config)


def create_app(engine: sessile.Engine) -> Flask:
    app = Flask(__name__)
    # The cookie's Max-Age counts down to the session's absolute deadline: resending it
    # on every response of a permanent session (Flask's default) would change nothing.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    snapshot = snapshot_from_env()
    app.session_interface = sessile.flask.SessionInterface(
        engine,
        snapshot_path=snapshot[0] if snapshot else None,
        snapshot_key=snapshot[1] if snapshot else None,
    )
    # The app's own engine calls (logout everywhere, the sessions list) answer 503 too when
    # a shared store cannot.
    app.register_error_handler(sessile.StoreUnavailable, sessile.flask.store_unavailable)

    def text(body: str, status: int = 200) -> Response:
        return Response(body + "\n", status=status, mimetype="text/plain")

    @app.get("/")
    def index() -> Response:
        if not session:
            session["anonymous"] = True  # something to keep: starts the session
        user = sessile.flask.current_principal()
        return text(f"hello {user}" if user else "hello, anonymous visitor")

    @app.post("/login")
    def login() -> Response:
        username = request.form.get("username")
        password = request.form.get("password")
        if not username or password is None:
            return text("malformed form: username and password are required", 400)
        expected = USERS.get(username)
        if expected is None or not hmac.compare_digest(expected, password):
            return text("bad credentials", 401)
        sessile.flask.login(username)
        session.permanent = True
        session.pop("anonymous", None)
        return text(f"logged in as {username}")

    @app.get("/profile")
    def profile() -> Response:
        user = sessile.flask.current_principal()
        if user is None:
            return text("not logged in", 401)
        return text(f"profile of {user}")

    @app.post("/logout")
    def logout() -> Response:
        sessile.flask.logout()
        return text("logged out")

    @app.post("/logout-everywhere")
    def logout_everywhere() -> Response:
        user = sessile.flask.current_principal()
        if user is None:
            return text("not logged in", 401)
        count = engine.revoke_principal(user)
        sessile.flask.logout()  # this session was among them: clear its cookie too
        return text(f"ended {count} sessions")

    @app.get("/sessions")
    def sessions() -> Response | tuple[Response, int]:
        user = sessile.flask.current_principal()
        if user is None:
            return text("not logged in", 401)
        return jsonify(count=len(engine.sessions_of(user)))

    return app


def log_events() -> None:
    """Security events (and the glue's warnings) to standard error, one line each."""
    events = logging.StreamHandler(sys.stderr)
    events.setFormatter(logging.Formatter("%(message)s"))
    for name in ("sessile.security", "sessile"):
        logging.getLogger(name).addHandler(events)
        logging.getLogger(name).setLevel(logging.INFO)
    sessile.security_log.propagate = False  # one line per event, not two


def main() -> None:
    log_events()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = create_app(make_engine())
    server = make_server("127.0.0.1", int(os.environ.get("PORT", "8080")), app, threaded=True)
    # A graceful stop on SIGTERM as on Ctrl-C: the snapshot (if configured) is written at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
