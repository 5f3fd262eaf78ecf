"""Flask integration: server-side sessions behind the normal ``flask.session`` API.

::

    app.session_interface = sessile.flask.SessionInterface(sessile.Engine())

``flask.session`` stays a dict with Flask's ``modified`` / ``accessed`` tracking; its JSON
is stored in the engine, and the cookie carries only the session's random token.

- ``Vary: Cookie`` is added whenever the session was read or written.
- ``Set-Cookie`` is sent when the token changes (new session, :func:`login`,
  :func:`rotate`) or the session ends (emptied, or :func:`logout`), and resent (same
  token) as Flask resends it: see ``SESSION_REFRESH_EACH_REQUEST`` below.
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
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import flask
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import NullSession, SecureCookieSession
from flask.sessions import SessionInterface as _FlaskSessionInterface
from werkzeug.exceptions import ServiceUnavailable

from . import Engine, StoreUnavailable, _payload
from . import Session as SessionInfo
from ._flask_settings import SettingsWarning, engine_options
from ._lifecycle import (
    SHARED_NO_SNAPSHOT,
    STORE_UNAVAILABLE,
    SessionState,
    payload_dict,
    write_snapshot,
)
from ._native import _plain_json, _plain_loads

if TYPE_CHECKING:
    from flask.app import Flask
    from flask.wrappers import Request, Response

__all__ = [
    "ServerSession",
    "Session",
    "SessionInterface",
    "SettingsWarning",
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
        SecureCookieSession.__init__(self, initial)
        #: The request's session lifecycle, shared with the ASGI glue.
        self.state = state
        #: ``permanent`` as the request found it (a change resends the cookie).
        self.was_permanent = dict.get(self, "_permanent", False)

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
    ``ip_policy`` / ``user_agent_policy`` can observe or enforce changes.
    ``snapshot_path`` and ``snapshot_key`` (32 bytes) write the in-process engine's
    sessions at exit (see :meth:`write_snapshot`). ``serializer`` turns the session dict
    into the stored bytes and back (default: Flask's tagged JSON).
    """

    null_session_class = UnavailableSession

    def __init__(
        self,
        engine: Engine,
        *,
        client_info: bool = True,
        snapshot_path: str | os.PathLike[str] | None = None,
        snapshot_key: bytes | None = None,
        serializer: Any = None,
        settings_applied: bool = False,
    ) -> None:
        self.engine = engine
        self.client_info = client_info
        self.serializer = TaggedJSONSerializer() if serializer is None else serializer
        #: Flask's default tags, as built: while the serializer still has exactly these,
        #: a session of plain values skips the tagged walk (see sessile._payload).
        default = (
            type(self.serializer) is TaggedJSONSerializer
            and [type(t) for t in self.serializer.order] == TaggedJSONSerializer.default_tags
        )
        self._default_order = list(self.serializer.order) if default else None
        #: The plain-JSON encoders, by the app's (sort_keys, ensure_ascii).
        self._encoders: dict[tuple[bool, bool], Any] = {}
        self._last_codec: tuple[tuple[bool, bool] | None, tuple[Any, Any] | None] = (None, None)
        #: The engine was built from the app's Flask settings (:class:`Session`); else
        #: the first request warns about the ones the app set.
        self.settings_applied = settings_applied
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

    def _plain_codec(self, app: Flask) -> tuple[Any, Any] | None:
        """The tagged JSON's shortcut for plain values, when Flask's tagged JSON of them
        is plain JSON: default tags and Flask's default JSON provider (whose
        ``sort_keys`` and ``ensure_ascii`` are followed). ``None`` otherwise."""
        provider = app.json
        if (
            type(provider) is not DefaultJSONProvider
            or self._default_order is None
            or self.serializer.order != self._default_order
        ):
            return None
        key = (bool(provider.sort_keys), bool(provider.ensure_ascii))
        last = self._last_codec  # the same app's, but for a change of its settings
        if last[0] == key:
            return last[1]
        codec = self._encoders.get(key)
        if codec is None:
            codec = self._encoders[key] = (
                self._decode_plain,
                _TaggedEncoder(self, *key),
            )
        self._last_codec = (key, codec)
        return codec

    def _decode_plain(self, payload: bytes) -> Any:
        # An object of plain values with no key starting with a space (every default
        # tag's key does, so the tags would change nothing), in one native pass.
        value = _plain_loads(payload, True)  # no_space_keys
        if value is not None:
            return value
        try:
            text = payload.decode()
        except UnicodeDecodeError as e:
            raise ValueError(str(e)) from e
        # No key starts with a space (literal or escaped): every default tag's key does.
        if '" ' not in text and "\\u0020" not in text:
            try:
                return _payload.loads_text(text)
            except ValueError:
                pass  # the tagged path says what is wrong
        return self._decode(payload)

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

    def open_session(self, app: Flask, request: Request) -> ServerSession | UnavailableSession:
        # What request.headers.get("Cookie") and request.remote_addr read, without the
        # header mapping's key translation on every request.
        environ = request.environ
        header = environ.get("HTTP_COOKIE")
        if self.client_info:
            ip, user_agent = request.remote_addr, environ.get("HTTP_USER_AGENT")
        else:
            ip = user_agent = None
        if not self.settings_applied:
            self._warn_unapplied(app)
        decode, encode = self._plain_codec(app) or (self._decode, self._encode)
        # permanent is Flask's: chosen by the app during the request (see save_session).
        # _lifecycle.begin, inlined (one Python call less on every request).
        engine = self.engine
        try:
            native, payload = engine._begin_request(header, ip, user_agent)
        except StoreUnavailable as e:
            # Flask turns an exception raised here into a 500; a routing exception is
            # raised when the view would be dispatched, and answered as itself. Flask
            # keeps one set here when the URL matches (an unknown URL stays a 404).
            request.routing_exception = ServiceUnavailable(response=store_unavailable(e))
            return UnavailableSession()
        state = SessionState(engine, native, False, encode)
        return ServerSession(state, payload_dict(payload, decode) if payload else None)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not isinstance(session, ServerSession):  # a null session: nothing to store
            return
        if session.accessed:
            _vary_cookie(response)
        state = session.state
        state.persistent = permanent = session.permanent
        if permanent != session.was_permanent or (
            permanent and app.config.get("SESSION_REFRESH_EACH_REQUEST", True)
        ):
            state.request.resend_cookie()
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
            _vary_cookie(response)
            response.headers.add("Set-Cookie", cookie)


class _TaggedEncoder:
    """Flask's tagged JSON of a session dict: plain JSON when the tags would change
    nothing (the same text Flask's serializer writes), else the interface's tagged path."""

    __slots__ = ("ensure_ascii", "iface", "sort_keys")

    def __init__(self, iface: SessionInterface, sort_keys: bool, ensure_ascii: bool) -> None:
        self.iface = iface
        self.sort_keys = sort_keys
        self.ensure_ascii = ensure_ascii

    def __call__(self, data: dict[str, Any]) -> bytes:
        # Positional: pyo3 reads each keyword's name into a new object (stable ABI).
        plain = _plain_json(data, self.sort_keys, self.ensure_ascii, self.iface.serializer.tags)
        return plain if plain is not None else self.iface._encode(data)


def _vary_cookie(response: Response) -> None:
    """``Vary: Cookie`` once, as ``response.vary.add("Cookie")`` makes it: without parsing
    a header set when the response has no ``Vary`` yet (the usual case)."""
    headers = response.headers
    for name, _ in headers:
        if name.lower() == "vary":
            response.vary.add("Cookie")
            return
    headers.add("Vary", "Cookie")


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
