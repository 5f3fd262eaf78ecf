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
- Emptying a session that had data (``session.clear()``) destroys it server-side.
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

from . import Engine, Session, dumps, loads
from .errors import SessionInvalid

if TYPE_CHECKING:
    from flask.app import Flask
    from flask.wrappers import Request, Response

__all__ = ["ServerSession", "SessionInterface", "current_principal", "login", "logout", "rotate"]


class ServerSession(SecureCookieSession):
    """``flask.session``: a dict whose data lives in the engine."""

    def __init__(
        self,
        initial: Any = None,
        token: str | None = None,
        info: Session | None = None,
        payload: bytes = b"",
    ) -> None:
        super().__init__(initial)
        self.token = token
        self.info = info
        self.loaded_payload = payload
        self.new_token = False
        self.ended = False

    @property
    def principal(self) -> str | None:
        """The logged-in user bound by :func:`login`, or ``None``."""
        return self.info.principal if self.info is not None else None


class SessionInterface(_FlaskSessionInterface):
    """Flask ``SessionInterface`` backed by a :class:`sessile.Engine`.

    ``client_info=True`` passes the client address and User-Agent to the engine, so its
    ``ip_policy`` / ``user_agent_policy`` can observe or enforce changes.
    """

    def __init__(self, engine: Engine, *, client_info: bool = True) -> None:
        self.engine = engine
        self.client_info = client_info

    def _client(self, request: Request) -> dict[str, str | None]:
        if not self.client_info:
            return {}
        return {"ip": request.remote_addr, "user_agent": request.headers.get("User-Agent")}

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        header = request.headers.get("Cookie")
        if header:
            found = self.engine.load_cookie(header, **self._client(request))
            if found is not None:
                token, info, payload = found
                try:
                    data = loads(payload)
                except ValueError:
                    data = {}
                return ServerSession(data, token, info, payload)
        return ServerSession()

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        engine = self.engine
        if not isinstance(session, ServerSession):  # a null session: nothing to store
            return
        if session.accessed:
            response.vary.add("Cookie")
        cookie = self._persist(session)
        if cookie is not None:
            response.vary.add("Cookie")
            response.headers.add("Set-Cookie", cookie)
        engine.log_pending_events()

    def _persist(self, s: ServerSession) -> str | None:
        """Store the session; return the Set-Cookie value to send, if any."""
        engine = self.engine
        if s.token is not None and s.modified and not s and s.loaded_payload:
            # Emptied: end it server-side, as Flask would delete its cookie.
            _logout_quietly(engine, s.token)
            s.token, s.info, s.ended = None, None, True
        if s.token is None:
            if not s:
                return engine.clear_cookie() if s.ended else None
            client = self._client(flask.request) if flask.has_request_context() else {}
            s.token, s.info = engine.create(**client)
            s.new_token = True
            s.modified = True
        assert s.info is not None
        if s.modified:
            body = dumps(dict(s)) if s else b""
            if body != s.loaded_payload:
                engine.write(s.info.handle, body)
                s.loaded_payload = body
        if s.new_token:
            return engine.set_cookie(s.token, s.info, persistent=s.permanent)
        return None


def _logout_quietly(engine: Engine, token: str) -> None:
    try:
        engine.logout(token)
    except SessionInvalid:
        pass  # already ended (expired, revoked elsewhere): nothing left to destroy


def _current() -> tuple[Engine, ServerSession]:
    iface = flask.current_app.session_interface
    s = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(iface, SessionInterface) or not isinstance(s, ServerSession):
        raise RuntimeError("app.session_interface is not a sessile.flask.SessionInterface")
    return iface.engine, s


def login(user_id: str | bytes) -> None:
    """Bind the current session to ``user_id`` and rotate its token (anti-fixation).

    The pre-login token dies at once; session data is kept; the new cookie is sent with
    the response. Starts a session if the request had none.
    """
    engine, s = _current()
    token = s.token
    if token is not None:
        try:
            s.token, s.info = engine.login(token, user_id)
        except SessionInvalid:  # ended since the request began: start afresh
            token = None
    if token is None:
        fresh, _ = engine.create()
        s.token, s.info = engine.login(fresh, user_id)
        s.modified = True
    s.new_token = True
    s.ended = False
    s.accessed = True


def rotate() -> None:
    """Give the current session a new token (e.g. after a privilege change)."""
    engine, s = _current()
    if s.token is not None:
        s.token, s.info = engine.rotate(s.token)
        s.new_token = True


def logout() -> None:
    """Destroy the current session server-side and clear its cookie.

    Later reuse of its token is reported as ``reuse_after_logout``.
    """
    engine, s = _current()
    if s.token is not None:
        _logout_quietly(engine, s.token)
    s.clear()
    s.token, s.info, s.new_token, s.ended = None, None, False, True
    s.modified = True
    s.accessed = True


def current_principal() -> str | None:
    """The logged-in user of the current request, or ``None``."""
    return _current()[1].principal
