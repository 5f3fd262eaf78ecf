"""The sessile demo server in Django, following tests/e2e/README.md.

    make demo DEMO=django [PORT=8080]      (or: .venv/bin/python examples/django/app.py)

A one-file Django project: ``SESSION_ENGINE = "sessile.django"`` with
``sessile.django.SessionMiddleware``, and Django's own ``django.contrib.auth``: ``login()``
rotates the session (its ``cycle_key``) and binds the user in the engine, ``logout()``
ends the session server-side (its ``flush``). Serves 127.0.0.1:$PORT (PORT=0 picks a free
port; the chosen one is printed). Security events go to standard error as
``sessile-event <kind> session=<16 hex digits>``.

Demo shortcuts, not for an app: the users live in an in-memory SQLite database made at
start (one server thread, so one connection sees it); passwords are checked against a
fixed table; there is no CSRF middleware (the contract's clients post plain forms).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
from django.conf import settings

USERS = {"admin": "admin", "alice": "alice", "bob": "bob"}


def offset_clock(wall: bool) -> Callable[[], float] | None:
    """Tests only: SESSILE_CLOCK_OFFSET_FILE, as in examples/python/app.py."""
    path = os.environ.get("SESSILE_CLOCK_OFFSET_FILE")
    base = time.time if wall else time.monotonic
    return (lambda: base() + int(Path(path).read_text()) / 1000) if path else None


def configure() -> None:
    def seconds(name: str) -> float | None:
        ms = os.environ.get(name)
        return None if ms is None else int(ms) / 1000

    sessile_config: dict[str, Any] = {
        "capacity": int(os.environ["SESSILE_CAPACITY"])
        if "SESSILE_CAPACITY" in os.environ
        else None,
        "idle_timeout": seconds("SESSILE_IDLE_MS"),
        "absolute_timeout": seconds("SESSILE_ABSOLUTE_MS"),
        "clock": offset_clock(wall=False),
    }
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.urandom(32).hex(),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        MIDDLEWARE=[
            "sessile.django.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        SESSION_ENGINE="sessile.django",
        # Unset (None): the core's default (a timeout above its maximum lifts it).
        SESSILE={k: v for k, v in sessile_config.items() if v is not None},
        AUTHENTICATION_BACKENDS=[f"{__name__}.DemoUsers"],
        LOGGING_CONFIG=None,
    )
    django.setup()


class DemoUsers:
    """An authentication backend over :data:`USERS` (Django's ``User`` rows are made at
    start, with unusable passwords)."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None
    ) -> Any:
        from django.contrib.auth.models import User

        expected = USERS.get(username or "")
        if expected is None or password is None or not hmac.compare_digest(expected, password):
            return None
        return User.objects.get(username=username)

    def get_user(self, user_id: Any) -> Any:
        from django.contrib.auth.models import User

        return User.objects.filter(pk=user_id).first()


def text(body: str, status: int = 200) -> Any:
    from django.http import HttpResponse

    return HttpResponse(body + "\n", status=status, content_type="text/plain; charset=utf-8")


def index(request: Any) -> Any:
    if not request.session.items():
        request.session["anonymous"] = True  # something to keep: starts the session
    user = request.user
    return text(f"hello {user.username}" if user.is_authenticated else "hello, anonymous visitor")


def login_view(request: Any) -> Any:
    from django.contrib.auth import authenticate, login

    if request.method != "POST":
        return text("POST a form", 405)
    username = request.POST.get("username")
    password = request.POST.get("password")
    if not username or password is None:
        return text("malformed form: username and password are required", 400)
    user = authenticate(request, username=username, password=password)
    if user is None:
        return text("bad credentials", 401)
    login(request, user)  # cycle_key: a new token, the user bound in the engine
    return text(f"logged in as {username}")


def profile(request: Any) -> Any:
    if not request.user.is_authenticated:
        return text("not logged in", 401)
    return text(f"profile of {request.user.username}")


def logout_view(request: Any) -> Any:
    from django.contrib.auth import logout

    if request.method != "POST":
        return text("POST to log out", 405)
    logout(request)  # flush: the session ends server-side, its cookie is cleared
    return text("logged out")


def logout_everywhere(request: Any) -> Any:
    from django.contrib.auth import logout

    import sessile.django

    if request.method != "POST":
        return text("POST to log out everywhere", 405)
    if not request.user.is_authenticated:
        return text("not logged in", 401)
    count = sessile.django.revoke_user(request.user.pk)
    logout(request)  # this session was among them: clear its cookie too
    return text(f"ended {count} sessions")


def sessions(request: Any) -> Any:
    from django.http import JsonResponse

    import sessile.django

    if not request.user.is_authenticated:
        return text("not logged in", 401)
    return JsonResponse({"count": sessile.django.sessions_of_user(request.user.pk)})


def urls() -> list[Any]:
    from django.urls import path

    return [
        path("", index),
        path("login", login_view),
        path("profile", profile),
        path("logout", logout_view),
        path("logout-everywhere", logout_everywhere),
        path("sessions", sessions),
    ]


def main() -> None:
    configure()
    global urlpatterns
    urlpatterns = urls()

    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    import sessile

    events = logging.StreamHandler(sys.stderr)
    events.setFormatter(logging.Formatter("%(message)s"))
    sessile.security_log.addHandler(events)
    sessile.security_log.setLevel(logging.INFO)
    sessile.security_log.propagate = False

    call_command("migrate", verbosity=0, interactive=False)
    for name in USERS:
        user = User(username=name)
        user.set_unusable_password()
        user.save()

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    app = get_wsgi_application()
    server = make_server(
        "127.0.0.1", int(os.environ.get("PORT", "8080")), app, handler_class=QuietHandler
    )
    print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


urlpatterns: list[Any] = []

if __name__ == "__main__":
    main()
