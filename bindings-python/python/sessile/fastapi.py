"""FastAPI dependencies for the session and the logged-in user, over
:class:`sessile.starlette.SessionMiddleware`.

::

    from fastapi import FastAPI
    from sessile.fastapi import CurrentUser, RequiredUser, SessionDep
    from sessile.starlette import SessionMiddleware

    app = FastAPI()
    app.add_middleware(SessionMiddleware, https_only=True)

    @app.post("/login")
    def login(session: SessionDep) -> str:
        ...  # check the credentials
        session.login("alice")  # rotates the token, binds the user in the engine
        return "ok"

    @app.get("/me")
    def me(user: RequiredUser) -> str:  # 401 without a logged-in session
        return user

The dependencies read what the middleware set up for the request; without the
middleware they raise ``RuntimeError`` (a configuration error, not a client's).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Annotated, Any, Optional

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from . import Session as SessionInfo
from . import starlette as _glue

__all__ = [
    "CurrentUser",
    "RequestSession",
    "RequiredUser",
    "SessionDep",
    "current_user",
    "require_user",
    "session_dependency",
]


class RequestSession:
    """The request's session as a dependency: its data (``data``, also through
    ``session[key]``), the logged-in user, and the operations that change who holds it."""

    __slots__ = ("_conn",)

    def __init__(self, conn: HTTPConnection) -> None:
        self._conn = conn

    @property
    def data(self) -> MutableMapping[str, Any]:
        """``request.session``: the dict stored server-side (reading it adds
        ``Vary: Cookie`` to the response)."""
        session: MutableMapping[str, Any] = self._conn.session
        return session

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def user(self) -> str | None:
        """The logged-in user, or ``None``."""
        return _glue.principal(self._conn)

    @property
    def token(self) -> str | None:
        """The session's token (``None`` when the request holds no session yet)."""
        return _glue._state(self._conn).token

    @property
    def info(self) -> SessionInfo | None:
        """The engine's snapshot of the session (deadlines, principal)."""
        return _glue._state(self._conn).info

    def login(self, user_id: str | bytes) -> None:
        """Bind the session to ``user_id`` and rotate its token (anti-fixation); data is
        kept. Starts a session if the request had none."""
        self._conn.session  # noqa: B018 - reading it marks the response Vary: Cookie
        _glue.login(self._conn, user_id)

    def logout(self) -> None:
        """End the session server-side and clear its cookie."""
        _glue.logout(self._conn)

    def rotate(self) -> None:
        """Give the session a new token."""
        _glue.rotate(self._conn)


def session_dependency(conn: HTTPConnection) -> RequestSession:
    """The request's :class:`RequestSession` (``Depends(session_dependency)``)."""
    _glue._state(conn)  # the middleware is installed, or a RuntimeError now
    return RequestSession(conn)


def current_user(conn: HTTPConnection) -> str | None:
    """The logged-in user, or ``None`` (``Depends(current_user)``)."""
    conn.session  # noqa: B018 - the answer depends on the cookie: Vary: Cookie
    return _glue.principal(conn)


def require_user(conn: HTTPConnection) -> str:
    """The logged-in user; answers 401 without one (``Depends(require_user)``)."""
    user = current_user(conn)
    if user is None:
        raise HTTPException(status_code=401, detail="not logged in")
    return user


#: ``session: SessionDep`` in a path operation's parameters.
SessionDep = Annotated[RequestSession, Depends(session_dependency)]
#: ``user: CurrentUser``: the logged-in user or ``None`` (Optional: evaluated on 3.9 too).
CurrentUser = Annotated[Optional[str], Depends(current_user)]
#: ``user: RequiredUser``: the logged-in user; 401 without one.
RequiredUser = Annotated[str, Depends(require_user)]
