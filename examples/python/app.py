"""The sessile demo server in Python (Flask), following tests/e2e/README.md.

    make demo DEMO=python [PORT=8080]

Serves 127.0.0.1:$PORT (PORT=0 picks a free port; the chosen one is printed). Security
events go to standard error as ``sessile-event <kind> session=<16 hex digits>``.
"""

from __future__ import annotations

import hmac
import logging
import os
import sys

from flask import Flask, Response, jsonify, request, session
from werkzeug.serving import make_server

import sessile
import sessile.flask

USERS = {"admin": "admin", "alice": "alice", "bob": "bob"}


def make_engine() -> sessile.Engine:
    def env(name: str) -> int | None:
        value = os.environ.get(name)
        return None if value is None else int(value)

    def seconds(name: str) -> float | None:
        ms = env(name)
        return None if ms is None else ms / 1000

    # Unset: the core's default (a timeout above its maximum lifts the maximum).
    return sessile.Engine(
        capacity=env("SESSILE_CAPACITY"),
        idle_timeout=seconds("SESSILE_IDLE_MS"),
        absolute_timeout=seconds("SESSILE_ABSOLUTE_MS"),
    )


def create_app(engine: sessile.Engine) -> Flask:
    app = Flask(__name__)
    # The cookie's Max-Age counts down to the session's absolute deadline: resending it
    # on every response of a permanent session (Flask's default) would change nothing.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.session_interface = sessile.flask.SessionInterface(engine)

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


def main() -> None:
    events = logging.StreamHandler(sys.stderr)
    events.setFormatter(logging.Formatter("%(message)s"))
    sessile.security_log.addHandler(events)
    sessile.security_log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = create_app(make_engine())
    server = make_server("127.0.0.1", int(os.environ.get("PORT", "8080")), app, threaded=True)
    print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
