"""One request's session as the framework glue sees it, written once for Flask and ASGI.

:func:`load` finds the session a request's ``Cookie`` header names and decodes its data;
:class:`SessionState` knows which token the request holds, what payload it loaded, and
decides what the response must do: store the data, start a session, end one, and which
``Set-Cookie`` to send. The glue only maps its framework's words onto them
(:mod:`sessile.flask`, :mod:`sessile.starlette`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import Engine, Session, dumps, loads
from .errors import SessionInvalid

__all__ = ["SessionState", "load"]


def load(
    engine: Engine,
    cookie_header: str | bytes | None,
    *,
    ip: str | bytes | None = None,
    user_agent: str | bytes | None = None,
) -> tuple[str | None, Session | None, bytes, dict[str, Any]]:
    """The session a request's ``Cookie`` header names: ``(token, info, payload, data)``.

    ``data`` is the payload's JSON object, ``{}`` when the payload holds none (empty,
    written by other code, corrupt). ``(None, None, b"", {})`` when the header names no
    usable session (absent, malformed, unknown, expired, ...): nothing the client sends
    raises. ``ip`` and ``user_agent`` go to the engine's client checks.
    """
    found = (
        engine.load_cookie(cookie_header, ip=ip, user_agent=user_agent) if cookie_header else None
    )
    if found is None:
        return None, None, b"", {}
    token, info, payload = found
    try:
        data = loads(payload)
    except ValueError:
        data = {}
    return token, info, payload, data if isinstance(data, dict) else {}


class SessionState:
    """Per-request bookkeeping of the session behind one request."""

    __slots__ = (
        "cleared",
        "ended",
        "engine",
        "info",
        "loaded",
        "new_token",
        "persistent",
        "token",
    )

    def __init__(
        self,
        engine: Engine,
        token: str | None,
        info: Session | None,
        loaded: bytes,
        persistent: bool,
    ) -> None:
        self.engine = engine
        #: The token of the session this request holds, ``None`` when it holds none.
        self.token = token
        self.info = info
        #: The payload as stored, to write only what changed.
        self.loaded = loaded
        #: Whether the response's cookie carries ``Max-Age``.
        self.persistent = persistent
        #: The token changed (new session, login, rotation): the response sends it.
        self.new_token = False
        #: A session ended in this request: the response clears the cookie.
        self.ended = False
        #: The app called ``clear()`` on the session dict since the session was last
        #: started or logged in.
        self.cleared = False

    @property
    def principal(self) -> str | None:
        """The logged-in user, or ``None``."""
        return self.info.principal if self.info is not None else None

    def end(self) -> None:
        """End the session server-side, as a logout (later reuse of its token is
        reported); the response clears the cookie."""
        if self.token is not None:
            try:
                self.engine.logout(self.token)
            except SessionInvalid:
                pass  # already ended (expired, revoked elsewhere): nothing left to destroy
        self.token, self.info, self.loaded = None, None, b""
        self.new_token, self.cleared, self.ended = False, False, True

    def login(self, user_id: str | bytes) -> None:
        """Bind the session to ``user_id`` and rotate its token; data is kept. Starts a
        session if the request has none."""
        if self.cleared:
            # clear() then login: the user logs in afresh; nothing of the cleared
            # session (its token, its previous user) carries over.
            self.end()
        engine = self.engine
        token = self.token
        if token is not None:
            try:
                self.token, self.info = engine.login(token, user_id)
            except SessionInvalid:  # ended since the request began: start afresh
                token = None
        if token is None:
            fresh, _ = engine.create()
            self.token, self.info = engine.login(fresh, user_id)
        self.new_token = True
        self.ended = False

    def rotate(self) -> None:
        """Give the session a new token."""
        if self.token is not None:
            self.token, self.info = self.engine.rotate(self.token)
            self.new_token = True

    def finish(
        self,
        data: Mapping[str, Any],
        *,
        changed: bool = True,
        client: Mapping[str, str | None] | None = None,
    ) -> str | None:
        """Store the session dict ``data`` at the end of the request and log the engine's
        pending security events; return the ``Set-Cookie`` value to send, if any.

        ``changed=False`` says the app did not modify ``data`` (Flask's ``modified``), so
        it is not serialised. ``client`` is passed to ``Engine.create`` for a new session.
        """
        cookie = self._store(data, changed=changed, client=client)
        self.engine.log_pending_events()
        return cookie

    def _store(
        self,
        data: Mapping[str, Any],
        *,
        changed: bool,
        client: Mapping[str, str | None] | None,
    ) -> str | None:
        engine = self.engine
        if self.token is not None and (self.cleared or (changed and self.loaded and not data)):
            # The app emptied the session: clear(), or every key it had removed. That is
            # the frameworks' logout idiom, so the session ends server-side (a login
            # lives in the engine, not in the dict, and would otherwise survive it). Data
            # put back after clear() goes into a new session.
            self.end()
        if self.token is None:
            if not data:
                return engine.clear_cookie() if self.ended else None
            self.token, self.info = engine.create(**(client or {}))
            self.new_token = True
            changed = True
        assert self.info is not None
        if changed:
            body = dumps(dict(data)) if data else b""
            if body != self.loaded:
                engine.write(self.info.handle, body)
                self.loaded = body
        if self.new_token:
            return engine.set_cookie(self.token, self.info, persistent=self.persistent)
        return None
