"""Flask integration: server-side sessions behind the normal ``flask.session`` API.

::

    app.session_interface = sessile.flask.SessionInterface(sessile.Engine())

``flask.session`` stays a dict with Flask's ``modified`` / ``accessed`` tracking; its JSON
is stored in the engine, and the cookie carries only the session's random token.

- ``Vary: Cookie`` is added whenever the session was read or written.
- ``Set-Cookie`` is sent only when the token changes (new session, :func:`login`,
  :func:`rotate`) or the session ends (emptied, or :func:`logout`).
- ``session.permanent`` works as in Flask: a permanent session's cookie carries
  ``Max-Age`` (until the session's absolute deadline); otherwise it is a browser-session
  cookie. The server-side idle and absolute timeouts apply either way.
- ``session.clear()`` logs out: the session ends server-side (later reuse of its token is
  reported) and its cookie is cleared, whether or not it held data; so does removing
  every key of a session that had data. Data set after ``clear()`` starts a new session.
- A request that began before another one logged the session in, rotated, or ended it
  stores nothing and sends no cookie: it cannot overwrite the logged-in session's data
  nor bring back a logged-out one. (These rules are the core's request lifecycle,
  :mod:`sessile._lifecycle`.)
- Values go through Flask's tagged JSON (``flask.json.tag``), as in Flask's own
  sessions: ``datetime``, ``tuple``, ``bytes``, ``UUID`` and ``Markup`` come back as
  they went in. A value it cannot encode raises ``TypeError`` naming the key.
- With :class:`Session` (``Session(app)`` or ``init_app(app)``) the engine is built from
  Flask's ``SESSION_COOKIE_*`` settings and ``PERMANENT_SESSION_LIFETIME`` (see
  :mod:`sessile._flask_settings`); where sessile's secure default wins, one
  :class:`SettingsWarning` at startup says so. With a ``SessionInterface(engine)`` made
  by hand the engine's settings are used, and the first request warns once about the
  Flask settings the app set that are not applied.
- A permanent session's cookie is resent on every response when
  ``SESSION_REFRESH_EACH_REQUEST`` is on (Flask's default), and any session's when
  ``session.permanent`` changed.
- A missing, malformed, oversized, forged or expired cookie gives a new empty session,
  never an error. A cookie sent twice (another path's, or one planted from a sibling
  domain) follows the engine's rule (:meth:`sessile.Engine.validate_cookie`): the copy
  naming a live session is used, and if two do, both sessions end.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import flask
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession
from flask.sessions import SessionInterface as _FlaskSessionInterface

from . import Engine
from . import Session as SessionInfo
from ._flask_settings import SettingsWarning, engine_options
from ._lifecycle import SessionState, begin

if TYPE_CHECKING:
    from flask.app import Flask
    from flask.wrappers import Request, Response

__all__ = [
    "ServerSession",
    "Session",
    "SessionInterface",
    "SettingsWarning",
    "current_principal",
    "login",
    "logout",
    "rotate",
]


class ServerSession(SecureCookieSession):
    """``flask.session``: a dict whose data lives in the engine."""

    def __init__(self, state: SessionState, initial: Any = None) -> None:
        super().__init__(initial)
        #: The request's session lifecycle, shared with the ASGI glue.
        self.state = state
        #: ``permanent`` as the request found it (a change resends the cookie).
        self.was_permanent = self.permanent

    @property
    def token(self) -> str | None:
        """The token of the request's session (``None`` when it has none)."""
        return self.state.token

    @property
    def info(self) -> SessionInfo | None:
        """The engine's snapshot of the request's session."""
        return self.state.info

    @property
    def principal(self) -> str | None:
        """The logged-in user bound by :func:`login`, or ``None``."""
        return self.state.principal

    def clear(self) -> None:
        """Empty the session; at the end of the request it ends server-side (logout)."""
        super().clear()
        self.state.clear()


class SessionInterface(_FlaskSessionInterface):
    """Flask ``SessionInterface`` backed by a :class:`sessile.Engine`.

    ``client_info=True`` passes the client address and User-Agent to the engine, so its
    ``ip_policy`` / ``user_agent_policy`` can observe or enforce changes. ``serializer``
    turns the session dict into the stored bytes and back (default: Flask's tagged JSON).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        client_info: bool = True,
        serializer: Any = None,
        settings_applied: bool = False,
    ) -> None:
        self.engine = engine
        self.client_info = client_info
        self.serializer = TaggedJSONSerializer() if serializer is None else serializer
        #: The engine was built from the app's Flask settings (:class:`Session`); else
        #: the first request warns about the ones the app set.
        self.settings_applied = settings_applied

    def _encode(self, data: dict[str, Any]) -> bytes:
        try:
            return str(self.serializer.dumps(data)).encode()
        except (TypeError, ValueError, OverflowError) as e:
            for key, value in data.items():
                try:
                    self.serializer.dumps({key: value})
                except (TypeError, ValueError, OverflowError) as why:
                    raise TypeError(f"session[{key!r}] cannot be stored: {why}") from why
            raise TypeError(f"the session cannot be stored: {e}") from e

    def _decode(self, payload: bytes) -> Any:
        try:
            return self.serializer.loads(payload.decode())
        except Exception as e:  # written by other code, or corrupt: an empty session
            raise ValueError(str(e)) from e

    def _warn_unapplied(self, app: Flask) -> None:
        self.settings_applied = True
        given = [k for k in _COOKIE_SETTINGS if k in app.config and not _at_flask_default(app, k)]
        if given:
            warnings.warn(
                "sessile.flask.SessionInterface was given an engine: its cookie and "
                "timeouts are used, not these Flask settings: "
                + ", ".join(given)
                + " (sessile.flask.Session(app) applies them)",
                SettingsWarning,
                stacklevel=3,
            )

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        header = request.headers.get("Cookie")
        if self.client_info:
            ip, user_agent = request.remote_addr, request.headers.get("User-Agent")
        else:
            ip = user_agent = None
        if not self.settings_applied:
            self._warn_unapplied(app)
        # permanent is Flask's: chosen by the app during the request (see save_session).
        state, data = begin(
            self.engine,
            header,
            ip=ip,
            user_agent=user_agent,
            persistent=False,
            decode=self._decode,
            encode=self._encode,
        )
        return ServerSession(state, data)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not isinstance(session, ServerSession):  # a null session: nothing to store
            return
        if session.accessed:
            response.vary.add("Cookie")
        state = session.state
        state.persistent = session.permanent
        if session.permanent != session.was_permanent or (
            session.permanent and app.config.get("SESSION_REFRESH_EACH_REQUEST", True)
        ):
            state.request.resend_cookie()
        cookie = state.finish(session, changed=session.modified)
        if cookie is not None:
            response.vary.add("Cookie")
            response.headers.add("Set-Cookie", cookie)


def _current() -> ServerSession:
    iface = flask.current_app.session_interface
    s = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(iface, SessionInterface) or not isinstance(s, ServerSession):
        raise RuntimeError("app.session_interface is not a sessile.flask.SessionInterface")
    return s


def login(user_id: str | bytes) -> None:
    """Bind the current session to ``user_id`` and rotate its token (anti-fixation).

    The pre-login token dies at once; session data is kept (after ``session.clear()`` in
    the same request, the user logs in to a fresh session); the new cookie is sent with
    the response. Starts a session if the request had none.
    """
    s = _current()
    s.state.login(user_id)
    s.accessed = True


def rotate() -> None:
    """Give the current session a new token (e.g. after a privilege change)."""
    _current().state.rotate()


def logout() -> None:
    """Destroy the current session server-side and clear its cookie.

    Later reuse of its token is reported as ``reuse_after_logout``.
    """
    s = _current()
    s.clear()
    s.state.end()
    s.modified = True
    s.accessed = True


def current_principal() -> str | None:
    """The logged-in user of the current request, or ``None``."""
    return _current().principal


#: Flask's settings for its session cookie (applied by :class:`Session`).
_COOKIE_SETTINGS = (
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PARTITIONED",
    "PERMANENT_SESSION_LIFETIME",
)


def _at_flask_default(app: Flask, name: str) -> bool:
    return bool(app.config.get(name) == app.default_config.get(name))


class Session:
    """Server-side sessions for a Flask app, set up as Flask-Session's ``Session`` is::

        sessile.flask.Session(app)
        # or
        sessions = sessile.flask.Session()
        sessions.init_app(app)

    The engine is built from the app's Flask settings (``SESSION_COOKIE_*``,
    ``PERMANENT_SESSION_LIFETIME``) over sessile's own options, given as keywords here or
    as ``app.config["SESSILE"]`` (a dict of :class:`sessile.Engine` keywords); sessile's
    options win. Where sessile's secure default wins over a Flask setting, one
    :class:`SettingsWarning` at startup says so. Pass ``engine=`` to use an engine built
    elsewhere (its settings are then used as they are). ``app.extensions["sessile"]`` is
    the engine.
    """

    def __init__(
        self, app: Flask | None = None, *, engine: Engine | None = None, **options: Any
    ) -> None:
        self.engine = engine
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> Engine:
        """Install sessile's sessions on ``app``; return its engine."""
        configured = app.config.get("SESSILE") or {}
        if not isinstance(configured, Mapping):
            raise TypeError("app.config['SESSILE'] must be a dict of sessile.Engine keywords")
        options = {**configured, **self.options}
        engine = self.engine
        if engine is None:
            kwargs, kept = engine_options(app.config, app.default_config, options)
            engine = Engine(**kwargs)
            if kept:
                warnings.warn(
                    "sessile.flask keeps sessile's secure defaults over: " + "; ".join(kept),
                    SettingsWarning,
                    stacklevel=2,
                )
        app.session_interface = SessionInterface(engine, settings_applied=True)
        app.extensions["sessile"] = engine
        return engine
