"""Flask-Login on sessile's sessions: logins the engine knows about.

::

    login_manager = flask_login.LoginManager(app)
    sessile.flask.Session(app)
    sessile.flask_login.init_app(app)  # after both

With the integration on:

- ``login_user(user)`` rotates the session's token and binds the user's id in the
  engine (``sessile.flask.login``): a token planted before the login is dead, and "log
  out everywhere", the per-user cap and flood protection see logged-in users.
- ``logout_user()`` ends the session server-side (later use of its token is reported as
  ``reuse_after_logout``) and clears its cookie.
- **Remember me is a long-lived sessile session**, not Flask-Login's remember cookie:
  ``login_user(user, remember=True[, duration=...])`` makes the session permanent and
  gives it ``duration`` (else ``REMEMBER_COOKIE_DURATION``) as its idle and absolute
  timeouts, cut to the engine's ``max_idle_timeout`` / ``max_absolute_timeout`` (one
  warning says so). Flask-Login's ``remember_token`` cookie is never set, and one sent
  by a browser (from before the integration) is cleared and not used to log in. So
  :func:`logout_everywhere` (the engine's ``revoke_principal``) also ends every
  remember-me login: there is no second credential a browser could come back with.
- A session whose Flask-Login user is not the user bound in the engine (data written
  before the integration, or by code that set ``_user_id`` by hand) is treated as logged
  out: Flask-Login's keys are removed.
"""

from __future__ import annotations

import datetime
import warnings
from typing import TYPE_CHECKING, Any

import flask
from flask_login import user_logged_in, user_logged_out  # type: ignore[import-untyped]

from . import flask as sf

if TYPE_CHECKING:
    from flask.app import Flask
    from flask.wrappers import Response
    from flask_login import LoginManager

__all__ = ["init_app", "logout_everywhere"]

#: Flask-Login's session keys of a logged-in user.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember_seconds")
#: Flask-Login's remember-cookie defaults (flask_login.config).
_DEFAULT_REMEMBER_COOKIE = "remember_token"
_DEFAULT_REMEMBER_DURATION = datetime.timedelta(days=365)


def init_app(app: Flask, login_manager: LoginManager | None = None) -> None:
    """Turn the integration on for ``app``, whose ``session_interface`` is sessile's and
    whose Flask-Login ``LoginManager`` is already set up (call this after both)."""
    manager = login_manager or getattr(app, "login_manager", None)
    if manager is None:
        raise RuntimeError("set up flask_login.LoginManager(app) before sessile.flask_login")
    iface = app.session_interface
    if not isinstance(iface, sf.SessionInterface):
        raise RuntimeError("app.session_interface is not a sessile.flask.SessionInterface")
    config = iface.engine.config
    longest = min(float(config["max_idle_timeout"]), float(config["max_absolute_timeout"]))  # type: ignore[arg-type]
    duration = _seconds(app.config.get("REMEMBER_COOKIE_DURATION", _DEFAULT_REMEMBER_DURATION))
    if duration > longest:
        warnings.warn(
            f"sessile.flask_login: REMEMBER_COOKIE_DURATION={duration:.0f} s is longer than "
            f"the engine allows a session ({longest:.0f} s: max_idle_timeout, "
            "max_absolute_timeout); remember-me logins last that long",
            sf.SettingsWarning,
            stacklevel=2,
        )
    user_logged_in.connect(_logged_in, app)
    user_logged_out.connect(_logged_out, app)
    # before_request runs after the session is opened; after_request functions run in
    # the reverse order of registration, so this one runs before Flask-Login's.
    app.before_request(_check_request)
    app.after_request(_keep_remember_cookie_unset)


def logout_everywhere(user_id: str | None = None) -> int:
    """End every session of ``user_id`` (default: the current user), remember-me logins
    included, and log the current request out if it was one of them; return how many
    sessions ended."""
    import flask_login

    current = sf.current_principal()
    user = current if user_id is None else str(user_id)
    if user is None:
        return 0
    engine = flask.current_app.session_interface.engine  # type: ignore[attr-defined]
    count = int(engine.revoke_principal(user))
    if current == user:
        flask_login.logout_user()
    return count


def _seconds(value: Any) -> float:
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def _remember_cookie_name() -> str:
    return str(flask.current_app.config.get("REMEMBER_COOKIE_NAME", _DEFAULT_REMEMBER_COOKIE))


def _logged_in(app: Flask, user: Any = None, **_: Any) -> None:
    session = flask.session
    user_id = session.get("_user_id")
    if user_id is None:
        return
    sf.login(str(user_id))
    if session.get("_remember") == "set":
        session.pop("_remember")
        given = session.pop("_remember_seconds", None)
        duration = _seconds(
            given
            if given is not None
            else app.config.get("REMEMBER_COOKIE_DURATION", _DEFAULT_REMEMBER_DURATION)
        )
        iface: sf.SessionInterface = app.session_interface  # type: ignore[assignment]
        config = iface.engine.config
        idle = min(duration, float(config["max_idle_timeout"]))  # type: ignore[arg-type]
        absolute = min(duration, float(config["max_absolute_timeout"]))  # type: ignore[arg-type]
        info = sf._current().info
        if info is not None:
            iface.engine.set_timeouts(info.handle, idle_timeout=idle, absolute_timeout=absolute)
        session.permanent = True


def _logged_out(app: Flask, user: Any = None, **_: Any) -> None:
    remember = flask.session.get("_remember")
    sf.logout()
    if remember == "clear":  # let Flask-Login clear a remember cookie the browser sent
        flask.session["_remember"] = "clear"


def _check_request() -> None:
    session = flask.session
    if "_user_id" in session:
        if str(session["_user_id"]) != sf.current_principal():
            for key in _LOGIN_KEYS:
                session.pop(key, None)
    if _remember_cookie_name() in flask.request.cookies and "_user_id" not in session:
        # Not a credential with sessile: cleared (by Flask-Login), never used to log in.
        session["_remember"] = "clear"


def _keep_remember_cookie_unset(response: Response) -> Response:
    session = flask.session
    refresh = flask.current_app.config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
    if session.get("_remember") == "set" or (
        refresh and "_remember" not in session and "_user_id" in session
    ):
        # Any value but "set" and "clear" makes Flask-Login leave its cookie alone.
        session["_remember"] = "sessile"
    return response
