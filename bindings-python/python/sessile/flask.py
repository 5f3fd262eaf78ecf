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
- A session store that cannot answer (Redis down or slow: :class:`sessile.StoreUnavailable`)
  answers ``503`` with the text ``session store unavailable``: never a 500 with a trace,
  and never the request served as if it had no session (fail closed). Any use of
  ``flask.session`` then raises that 503 too. :func:`login`, :func:`logout` and
  :func:`rotate` do the same; for the app's own calls on the engine, register
  :func:`store_unavailable` as the error handler of ``sessile.StoreUnavailable``.
- ``snapshot_path`` and ``snapshot_key`` (in-process engine only, one process): the
  engine's sessions are written there at exit (``atexit``) and by
  :meth:`SessionInterface.write_snapshot`; build the engine with
  :meth:`sessile.Engine.restore_or_new` to start from it.
- A missing, malformed, oversized, forged or expired cookie gives a new empty session,
  never an error. A cookie sent twice (another path's, or one planted from a sibling
  domain) follows the engine's rule (:meth:`sessile.Engine.validate_cookie`): the copy
  naming a live session is used, and if two do, both sessions end.
"""

from __future__ import annotations

import atexit
import logging
import os
from typing import TYPE_CHECKING, Any, NoReturn

import flask
from flask.sessions import NullSession, SecureCookieSession
from flask.sessions import SessionInterface as _FlaskSessionInterface
from werkzeug.exceptions import ServiceUnavailable

from . import Engine, Session, StoreUnavailable
from ._lifecycle import (
    SHARED_NO_SNAPSHOT,
    STORE_UNAVAILABLE,
    SessionState,
    begin,
    write_snapshot,
)

if TYPE_CHECKING:
    from flask.app import Flask
    from flask.wrappers import Request, Response

__all__ = [
    "ServerSession",
    "SessionInterface",
    "UnavailableSession",
    "current_principal",
    "login",
    "logout",
    "rotate",
    "store_unavailable",
]

log = logging.getLogger("sessile")


def store_unavailable(error: Exception | None = None) -> flask.Response:
    """The response to a request the session store could not serve: ``503``, a short
    plain text, no trace. Register it for the app's own engine calls::

        app.register_error_handler(sessile.StoreUnavailable, sessile.flask.store_unavailable)
    """
    if error is not None:
        log.warning("%s: %r", STORE_UNAVAILABLE, error)
    return flask.Response(STORE_UNAVAILABLE + "\n", status=503, mimetype="text/plain")


def _abort_unavailable(error: StoreUnavailable) -> NoReturn:
    raise ServiceUnavailable(response=store_unavailable(error)) from error


class UnavailableSession(NullSession):
    """``flask.session`` of a request whose session the store could not check: every use
    answers the request 503 (it is neither empty nor anyone's), and nothing is saved."""

    def _unavailable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ServiceUnavailable(response=store_unavailable())

    _fail = _unavailable
    __getitem__ = __contains__ = __iter__ = __len__ = _unavailable
    get = keys = values = items = copy = _unavailable
    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _unavailable


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
    ``snapshot_path`` and ``snapshot_key`` (32 bytes) write the in-process engine's
    sessions at exit (see :meth:`write_snapshot`).
    """

    null_session_class = UnavailableSession

    def __init__(
        self,
        engine: Engine,
        *,
        client_info: bool = True,
        snapshot_path: str | os.PathLike[str] | None = None,
        snapshot_key: bytes | None = None,
    ) -> None:
        self.engine = engine
        self.client_info = client_info
        self.snapshot_path = snapshot_path
        self.snapshot_key = snapshot_key
        if snapshot_path is not None:
            if snapshot_key is None:
                raise TypeError("snapshot_path needs snapshot_key (32 random bytes)")
            if engine.shared:
                raise ValueError(SHARED_NO_SNAPSHOT)
            atexit.register(self.write_snapshot)

    def write_snapshot(self) -> bool:
        """Write the engine's sessions to ``snapshot_path`` now (atomically, under
        ``snapshot_key``); called at exit too. ``False`` when none is configured."""
        if self.snapshot_path is None or self.snapshot_key is None:
            return False
        write_snapshot(self.engine, self.snapshot_path, self.snapshot_key)
        return True

    def open_session(self, app: Flask, request: Request) -> ServerSession | UnavailableSession:
        header = request.headers.get("Cookie")
        if self.client_info:
            ip, user_agent = request.remote_addr, request.headers.get("User-Agent")
        else:
            ip = user_agent = None
        # permanent is Flask's: chosen by the app during the request (see save_session).
        try:
            state, data = begin(self.engine, header, ip=ip, user_agent=user_agent, persistent=False)
        except StoreUnavailable as e:
            # Flask turns an exception raised here into a 500; a routing exception is
            # raised when the view would be dispatched, and answered as itself. Flask
            # keeps one set here when the URL matches (an unknown URL stays a 404).
            request.routing_exception = ServiceUnavailable(response=store_unavailable(e))
            return UnavailableSession()
        return ServerSession(state, data)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not isinstance(session, ServerSession):  # a null session: nothing to store
            return
        if session.accessed:
            response.vary.add("Cookie")
        state = session.state
        state.persistent = session.permanent
        try:
            cookie = state.finish(session, changed=session.modified)
        except StoreUnavailable as e:
            # What the view did to the session was not stored: the response says so.
            unavailable = store_unavailable(e)
            response.status_code = 503
            response.headers.clear()
            response.headers.extend(unavailable.headers)
            response.set_data(unavailable.get_data())
            return
        if cookie is not None:
            response.vary.add("Cookie")
            response.headers.add("Set-Cookie", cookie)


def _current() -> ServerSession:
    iface = flask.current_app.session_interface
    s = flask.session._get_current_object()  # type: ignore[attr-defined]
    if isinstance(s, UnavailableSession):
        s._unavailable()
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
    try:
        s.state.login(user_id)
    except StoreUnavailable as e:
        _abort_unavailable(e)
    s.accessed = True


def rotate() -> None:
    """Give the current session a new token (e.g. after a privilege change)."""
    try:
        _current().state.rotate()
    except StoreUnavailable as e:
        _abort_unavailable(e)


def logout() -> None:
    """Destroy the current session server-side and clear its cookie.

    Later reuse of its token is reported as ``reuse_after_logout``.
    """
    s = _current()
    s.clear()
    try:
        s.state.end()
    except StoreUnavailable as e:
        _abort_unavailable(e)
    s.modified = True
    s.accessed = True


def current_principal() -> str | None:
    """The logged-in user of the current request, or ``None``."""
    return _current().principal
