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
- The cookie's name and attributes are the engine's (``cookie_name``, ``cookie_secure``,
  ...), not Flask's ``SESSION_COOKIE_*`` settings.
- A missing, malformed, oversized, forged or expired cookie gives a new empty session,
  never an error. A cookie sent twice (another path's, or one planted from a sibling
  domain) follows the engine's rule (:meth:`sessile.Engine.validate_cookie`): the copy
  naming a live session is used, and if two do, both sessions end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flask
from flask.sessions import SecureCookieSession
from flask.sessions import SessionInterface as _FlaskSessionInterface

from . import Engine, Session
from ._lifecycle import SessionState, begin

if TYPE_CHECKING:
    from flask.app import Flask
    from flask.wrappers import Request, Response

__all__ = ["ServerSession", "SessionInterface", "current_principal", "login", "logout", "rotate"]


class ServerSession(SecureCookieSession):
    """``flask.session``: a dict whose data lives in the engine."""

    def __init__(self, state: SessionState, initial: Any = None) -> None:
        super().__init__(initial)
        #: The request's session lifecycle, shared with the ASGI glue.
        self.state = state

    @property
    def token(self) -> str | None:
        """The token of the request's session (``None`` when it has none)."""
        return self.state.token

    @property
    def info(self) -> Session | None:
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
    ``ip_policy`` / ``user_agent_policy`` can observe or enforce changes.
    """

    def __init__(self, engine: Engine, *, client_info: bool = True) -> None:
        self.engine = engine
        self.client_info = client_info

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        header = request.headers.get("Cookie")
        if self.client_info:
            ip, user_agent = request.remote_addr, request.headers.get("User-Agent")
        else:
            ip = user_agent = None
        # permanent is Flask's: chosen by the app during the request (see save_session).
        state, data = begin(self.engine, header, ip=ip, user_agent=user_agent, persistent=False)
        return ServerSession(state, data)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not isinstance(session, ServerSession):  # a null session: nothing to store
            return
        if session.accessed:
            response.vary.add("Cookie")
        state = session.state
        state.persistent = session.permanent
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
