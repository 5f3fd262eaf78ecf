"""Django integration: a session backend (``SESSION_ENGINE``) over a :class:`sessile.Engine`.

::

    SESSION_ENGINE = "sessile.django"
    MIDDLEWARE = [..., "sessile.django.SessionMiddleware", ...]  # in place of Django's
    SESSILE = {"idle_timeout": 15 * 60}  # any keyword of sessile.Engine (optional)

``request.session`` is Django's usual ``SessionBase``; the data lives in the engine and
the session key Django sees is the engine's random token. What the engine decides, not
this module: when a session is valid (idle and absolute deadlines, client checks), what a
token looks like, rotation, logout with reuse detection, that a save never lands on a
session that ended since the request began (the core's request lifecycle,
:mod:`sessile._lifecycle`).

How Django's words map:

- A session key Django did not get from the engine is never adopted: an unknown, expired,
  logged-out or malformed key gives a session without a key, and the next save starts a
  new session whose key the engine draws (``_get_new_session_key`` asks the engine;
  ``exists()`` is true only for live sessions). The key is checked when the store is
  built (as the request starts), so ``request.session.session_key`` never shows a key a
  client chose.
- ``cycle_key()`` (called by ``django.contrib.auth.login``) rotates the token: the old one
  is dead at once. At the save that follows, the user Django's login stored
  (``_auth_user_id``, the user's pk) is bound as the session's principal (the engine's
  login: rotate and bind), so "log out everywhere" (:func:`revoke_user`), the per-user cap
  and flood protection see logged-in users.
- ``flush()`` (called by ``django.contrib.auth.logout``) and ``delete()`` end the session
  server-side as a logout: later use of its token is reported (``reuse_after_logout``).
  Removing ``_auth_user_id`` from a logged-in session without ``flush()`` also logs out:
  the data goes on in a new anonymous session.
- ``set_expiry(seconds)`` sets the session's idle timeout (Django: "expire after that
  many seconds of inactivity"), ``set_expiry(datetime | timedelta)`` its absolute
  deadline, ``set_expiry(0)`` a browser-session cookie, ``set_expiry(None)`` the
  defaults; values above the engine's per-session maxima (``max_idle_timeout``,
  ``max_absolute_timeout``) are cut to them, with a warning. ``get_expiry_age()`` without
  a custom expiry is the time left until the session's absolute deadline.
- Values go through ``SESSION_SERIALIZER`` (Django's JSONSerializer by default); a value
  it cannot encode raises ``TypeError`` naming the key.

Settings: ``SESSILE`` (a dict of :class:`sessile.Engine` keywords) wins; Django's
``SESSION_COOKIE_NAME``, ``_DOMAIN``, ``_PATH``, ``SESSION_COOKIE_AGE`` (as the absolute
timeout, when shorter than sessile's), ``SESSION_COOKIE_SAMESITE="Strict"`` and
``SESSION_EXPIRE_AT_BROWSER_CLOSE`` are honoured when set; a setting that would weaken
sessile's defaults (``SESSION_COOKIE_SECURE=False``, ``SESSION_COOKIE_HTTPONLY=False``,
``SESSION_COOKIE_SAMESITE`` ``"None"``/``None``, a ``SESSION_COOKIE_AGE`` longer than
sessile's absolute timeout) is not, and one :class:`SettingsWarning` at startup says so.

:class:`SessionMiddleware` (a subclass of Django's) writes the engine's ``Set-Cookie``
(its name and attributes, ``__Host-sid``, Secure, HttpOnly, SameSite=Lax by default),
gives the engine the whole ``Cookie`` header (its duplicate-cookie rule) and the
client's address and User-Agent, and answers 503 when the store is unavailable. With
Django's own middleware the backend works too, but Django writes the cookie from its
``SESSION_COOKIE_*`` settings: the startup warning names the attributes that are then
weaker than sessile's.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable
from datetime import datetime
from http.cookies import Morsel
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings  # type: ignore[import-untyped]
from django.contrib.sessions.backends.base import (  # type: ignore[import-untyped]
    CreateError,
    SessionBase,
    UpdateError,
)
from django.contrib.sessions.exceptions import (  # type: ignore[import-untyped]
    SessionInterrupted,
)
from django.contrib.sessions.middleware import (  # type: ignore[import-untyped]
    SessionMiddleware as _DjangoSessionMiddleware,
)
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]
from django.http import HttpResponse  # type: ignore[import-untyped]
from django.utils import timezone  # type: ignore[import-untyped]
from django.utils.cache import patch_vary_headers  # type: ignore[import-untyped]

from . import ConfigError, Engine, SessileError, StoreUnavailable
from ._native import Request

__all__ = [
    "SessionMiddleware",
    "SessionStore",
    "SettingsWarning",
    "engine",
    "reset_engine",
    "revoke_user",
    "sessions_of_user",
]

#: ``django.contrib.auth.SESSION_KEY``: where Django's login keeps the user's pk.
AUTH_KEY = "_auth_user_id"
#: ``SessionBase.set_expiry`` keeps a custom expiry under this key.
EXPIRY_KEY = "_session_expiry"
#: A key that can be a token: the engine's alphabet (base64url). Anything else is not
#: put into a cookie header for the engine to parse.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{8,512}")
_DJANGO_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"


class SettingsWarning(UserWarning):
    """A Django setting sessile does not honour because it would weaken a secure default,
    or a value cut to the engine's maximum."""


# The process's engine, built from the settings at first use (Django builds the
# middleware at startup; a settings change in tests drops it).
_engine: Engine | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    """The engine behind ``SESSION_ENGINE = "sessile.django"``, built once from the
    settings (for "log out everywhere", counts, snapshots)."""
    global _engine
    e = _engine
    if e is None:
        with _engine_lock:
            e = _engine
            if e is None:
                e = _engine = _build_engine()
    return e


def reset_engine() -> None:
    """Forget the engine (every session with it); the next use builds one from the
    settings. Called when a test changes ``SESSILE`` or a ``SESSION_*`` setting."""
    global _engine
    with _engine_lock:
        _engine = None


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting == "SESSILE" or setting.startswith("SESSION_") or setting == "MIDDLEWARE":
        reset_engine()


setting_changed.connect(_on_setting_changed, dispatch_uid="sessile.django")


def revoke_user(user_id: object) -> int:
    """End every session of the user with primary key ``user_id`` ("log out
    everywhere"); return how many ended."""
    return engine().revoke_principal(str(user_id))


def sessions_of_user(user_id: object) -> int:
    """How many live sessions the user with primary key ``user_id`` has."""
    return len(engine().sessions_of(str(user_id)))


def _build_engine() -> Engine:
    opts = getattr(settings, "SESSILE", None) or {}
    if not isinstance(opts, dict):
        raise ImproperlyConfigured("SESSILE must be a dict of sessile.Engine keywords")

    def make(kwargs: dict[str, Any], origin: str) -> Engine:
        try:
            return Engine(**kwargs)
        except TypeError as e:  # an unknown keyword
            raise ImproperlyConfigured(f"{origin}: {e}") from e
        except ConfigError as e:
            raise ImproperlyConfigured(f"{origin}: {e}") from e

    base = make(dict(opts), "SESSILE")
    defaults = base.config
    kwargs = dict(opts)
    ignored: list[str] = []

    def given(name: str) -> bool:
        return bool(settings.is_overridden(name))

    def adopt(key: str, value: Any) -> None:
        if key not in opts:
            kwargs[key] = value

    if given("SESSION_COOKIE_NAME"):
        adopt("cookie_name", settings.SESSION_COOKIE_NAME)
    if given("SESSION_COOKIE_DOMAIN") and settings.SESSION_COOKIE_DOMAIN:
        adopt("cookie_domain", settings.SESSION_COOKIE_DOMAIN)
    if given("SESSION_COOKIE_PATH"):
        adopt("cookie_path", settings.SESSION_COOKIE_PATH)
    if given("SESSION_EXPIRE_AT_BROWSER_CLOSE"):
        adopt("cookie_persistent", not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE)
    if given("SESSION_COOKIE_SECURE") and not settings.SESSION_COOKIE_SECURE:
        if "cookie_secure" not in opts and defaults["cookie_secure"]:
            ignored.append("SESSION_COOKIE_SECURE=False (the cookie stays Secure)")
    if given("SESSION_COOKIE_HTTPONLY") and not settings.SESSION_COOKIE_HTTPONLY:
        if "cookie_http_only" not in opts and defaults["cookie_http_only"]:
            ignored.append("SESSION_COOKIE_HTTPONLY=False (the cookie stays HttpOnly)")
    if given("SESSION_COOKIE_SAMESITE"):
        same_site = str(settings.SESSION_COOKIE_SAMESITE or "").lower()
        if same_site in ("strict", "lax"):
            if same_site == "strict" or defaults["cookie_same_site"] != "strict":
                adopt("cookie_same_site", same_site)
        elif "cookie_same_site" not in opts:
            ignored.append(
                f"SESSION_COOKIE_SAMESITE={settings.SESSION_COOKIE_SAMESITE!r} "
                f"(SameSite stays {defaults['cookie_same_site']!r})"
            )
    if given("SESSION_COOKIE_AGE"):
        age = float(settings.SESSION_COOKIE_AGE)
        absolute = float(defaults["absolute_timeout"])  # type: ignore[arg-type]
        if "absolute_timeout" in opts:
            pass  # sessile's own setting is the app's choice
        elif 0 < age <= absolute:
            kwargs["absolute_timeout"] = age
            if "idle_timeout" not in opts:
                kwargs["idle_timeout"] = min(age, float(defaults["idle_timeout"]))  # type: ignore[arg-type]
        else:
            ignored.append(
                f"SESSION_COOKIE_AGE={settings.SESSION_COOKIE_AGE} (sessions end after "
                f"{absolute:g} s, sessile's absolute timeout; set SESSILE['absolute_timeout'] "
                "to choose another)"
            )

    name = str(kwargs.get("cookie_name", defaults["cookie_name"]))
    scoped = kwargs.get("cookie_domain") or kwargs.get("cookie_path", "/") != "/"
    if scoped and name.startswith("__Host-") and "cookie_name" not in kwargs:
        # A __Host- cookie has no Domain and Path=/; __Secure- keeps the Secure rule.
        kwargs["cookie_name"] = "__Secure-" + name[len("__Host-") :]
    built = base if kwargs == opts else make(kwargs, "SESSION_COOKIE_* settings")
    config = built.config
    if _DJANGO_MIDDLEWARE in list(getattr(settings, "MIDDLEWARE", None) or []):
        # Django's middleware writes the cookie from its own settings, not the engine's.
        weaker = []
        if not settings.SESSION_COOKIE_SECURE and config["cookie_secure"]:
            weaker.append("not Secure")
        if not settings.SESSION_COOKIE_HTTPONLY and config["cookie_http_only"]:
            weaker.append("not HttpOnly")
        if str(settings.SESSION_COOKIE_SAMESITE or "").lower() not in ("lax", "strict"):
            weaker.append(f"SameSite={settings.SESSION_COOKIE_SAMESITE}")
        if weaker:
            ignored.append(
                f"{_DJANGO_MIDDLEWARE} writes the session cookie from Django's "
                f"SESSION_COOKIE_* settings: {', '.join(weaker)}; use "
                "sessile.django.SessionMiddleware to send sessile's cookie"
            )
    if ignored:
        warnings.warn(
            "sessile.django keeps sessile's secure defaults over: " + "; ".join(ignored),
            SettingsWarning,
            stacklevel=2,
        )
    return built


def _header_for(e: Engine, key: str | None) -> str | None:
    """A Cookie header naming ``key`` in the engine's cookie, if ``key`` can be a token."""
    if key is None or not _TOKEN_SHAPE.fullmatch(key):
        return None
    return f"{e.cookie_name}={key}"


class SessionStore(SessionBase):  # type: ignore[misc]
    """``request.session``: Django's session API over the engine's request lifecycle.

    ``SessionStore(session_key)`` is what Django's middleware builds; the key is checked
    against the engine at once (an unknown key is dropped). ``cookie_header``, ``ip`` and
    ``user_agent`` are what :class:`SessionMiddleware` passes: the whole Cookie header
    (the engine's duplicate-cookie rule) and the client, for the engine's checks.
    """

    def __init__(
        self,
        session_key: str | None = None,
        *,
        cookie_header: str | bytes | None = None,
        ip: str | None = None,
        user_agent: str | bytes | None = None,
    ) -> None:
        super().__init__(session_key)
        self.engine = engine()
        self._ip = ip
        self._user_agent = user_agent
        self._request: Request | None = None
        self._pending: bytes | None = None  # the payload read when the request began
        if cookie_header is not None or self.session_key is not None:
            self._pending = self._begin(cookie_header)

    # The engine's request lifecycle ----------------------------------------------------

    def _begin(self, cookie_header: str | bytes | None = None) -> bytes:
        """Begin the engine's request for the cookie header (or this store's key): the
        key becomes the live token, or ``None``."""
        header = cookie_header
        if header is None:
            header = _header_for(self.engine, self.session_key)
        request, payload = self.engine.begin_request(
            header, ip=self._ip, user_agent=self._user_agent
        )
        self._request = request
        self._session_key = request.token
        self.engine.log_pending_events()
        return payload

    def _live(self) -> Request | None:
        """The request holding this store's key, begun if needed; ``None`` without a
        live session."""
        request = self._request
        if request is None or request.token != self.session_key:
            if self.session_key is None:
                return None
            self._begin()
            request = self._request
        return request if request is not None and request.token is not None else None

    def _decode(self, payload: bytes) -> dict[str, Any]:
        if not payload:
            return {}
        try:
            data = self.serializer().loads(payload)
        except Exception:  # written by other code, or corrupt: an empty session
            return {}
        return data if isinstance(data, dict) else {}

    def _encode(self, data: dict[str, Any]) -> bytes:
        serializer = self.serializer()
        try:
            body: bytes = serializer.dumps(data)
        except (TypeError, ValueError) as e:
            for key, value in data.items():
                try:
                    serializer.dumps({key: value})
                except (TypeError, ValueError) as inner:
                    raise TypeError(
                        f"session value for key {key!r} cannot be stored with "
                        f"{type(serializer).__name__}: {inner}"
                    ) from e
            raise
        return body

    # SessionBase's storage methods -----------------------------------------------------

    def exists(self, session_key: str | None) -> bool:
        """Whether ``session_key`` names a live session (looked up without touching it)."""
        if session_key is None or not _TOKEN_SHAPE.fullmatch(session_key):
            return False
        try:
            self.engine.peek(session_key)
        except SessileError:
            return False
        return True

    def load(self) -> dict[str, Any]:
        payload = self._pending
        self._pending = None
        if payload is None or self._request is None:
            payload = self._begin()
        return self._decode(payload)

    def _get_new_session_key(self) -> str:
        """Start a session in the engine (empty data) and hold it: its token is the key."""
        self._pending = None
        request, _ = self.engine.begin_request(None, ip=self._ip, user_agent=self._user_agent)
        try:
            request.finish(self._encode({}))
        finally:
            self.engine.log_pending_events()
        token = request.token
        if token is None:  # the lifecycle starts a session for data; never without one
            raise CreateError("the engine started no session")
        self._request = request
        return token

    async def _aget_new_session_key(self) -> str:
        return await sync_to_async(self._get_new_session_key)()

    def create(self) -> None:
        self._session_key = self._get_new_session_key()
        self.save(must_create=True)
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        """Store the data (with ``SESSION_SERIALIZER``); bind or unbind the logged-in
        user; apply a custom expiry. A session that ended (or was rotated by another
        request) since this one began raises ``UpdateError``: it is never brought back."""
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        request = self._live()
        if request is None:
            return self.create()  # a key that names no live session: never adopted
        self._bind(request, data)
        body = self._encode(data)
        try:
            request.finish(body, persistent=not self.get_expire_at_browser_close())
        finally:
            self.engine.log_pending_events()
        token = request.token
        if token is None or not self.exists(token):
            # Ended, or logged in or rotated by another request, since this one began:
            # the engine dropped the data.
            raise UpdateError
        self._session_key = token
        self._apply_expiry(request, data)

    def _bind(self, request: Request, data: dict[str, Any]) -> None:
        """Make the engine's principal follow the user Django's login stored."""
        user = data.get(AUTH_KEY)
        if user is not None:
            if request.principal != str(user):
                request.login(str(user))  # rotate and bind
        elif request.principal is not None:
            request.clear()  # logged out without flush(): the data goes on anonymously

    def _apply_expiry(self, request: Request, data: dict[str, Any]) -> None:
        info = request.session
        if info is None:
            return
        config = self.engine.config
        idle = float(config["idle_timeout"])  # type: ignore[arg-type]
        absolute = float(config["absolute_timeout"])  # type: ignore[arg-type]
        max_idle = float(config["max_idle_timeout"])  # type: ignore[arg-type]
        max_absolute = float(config["max_absolute_timeout"])  # type: ignore[arg-type]
        expiry = data.get(EXPIRY_KEY)
        if isinstance(expiry, (int, float)) and not isinstance(expiry, bool) and expiry > 0:
            idle = _capped(float(expiry), max_idle, "set_expiry(seconds)", "max_idle_timeout")
            absolute = min(max(absolute, idle), max_absolute)
        elif isinstance(expiry, (str, datetime)):
            try:
                deadline = datetime.fromisoformat(expiry) if isinstance(expiry, str) else expiry
                left = (deadline - timezone.now()).total_seconds()
            except (TypeError, ValueError):
                return
            if left <= 0:
                request.end()  # past its deadline: ended now
                self.engine.log_pending_events()
                return
            age = self.engine.now() - info.created
            absolute = _capped(
                age + left, max_absolute, "set_expiry(datetime)", "max_absolute_timeout"
            )
            idle = min(idle, absolute)
        current = self.engine.session(info.handle)  # the request's copy predates a change
        if (current.idle_timeout, current.absolute_timeout) != (idle, absolute):
            self.engine.set_timeouts(info.handle, idle_timeout=idle, absolute_timeout=absolute)

    def delete(self, session_key: str | None = None) -> None:
        """End the session server-side, as a logout (its token's reuse is reported)."""
        if session_key is None:
            session_key = self.session_key
            if session_key is None:
                return
        request = self._request
        if request is not None and request.token == session_key:
            request.end()
        elif self.exists(session_key):
            try:
                self.engine.logout(session_key)
            except SessileError:
                pass  # ended meanwhile
        self.engine.log_pending_events()

    def cycle_key(self) -> None:
        """A new token for the session, data kept (Django's login calls this); the old
        token is dead at once."""
        data = self._session
        request = self._live()
        if request is None:
            self.create()
        else:
            try:
                request.rotate()
            finally:
                self.engine.log_pending_events()
            self._session_key = request.token
        self._session_cache = data
        self.modified = True

    async def acycle_key(self) -> None:
        await sync_to_async(self.cycle_key)()

    def get_session_cookie_age(self) -> int:
        """Seconds until the session's absolute deadline (the configured absolute
        timeout for a session not started yet)."""
        request = self._request
        held = request.session if request is not None and request.token is not None else None
        if held is not None:
            try:
                info = self.engine.session(held.handle)  # as now, not as the request began
            except SessileError:
                return 0
            return max(0, int(info.absolute_deadline - self.engine.now()))
        return int(float(self.engine.config["absolute_timeout"]))  # type: ignore[arg-type]

    @property
    def principal(self) -> str | None:
        """The user bound in the engine (the pk Django's login stored), or ``None``."""
        request = self._request
        return request.principal if request is not None else None

    @classmethod
    def clear_expired(cls) -> None:
        """Expired sessions are removed by the engine itself; this sweeps now."""
        engine().sweep()


_warned_caps: set[str] = set()


def _capped(value: float, maximum: float, what: str, key: str) -> float:
    if value <= maximum:
        return value
    if key not in _warned_caps:
        _warned_caps.add(key)
        warnings.warn(
            f"sessile.django: {what} of {value:g} s is above the engine's {key} "
            f"({maximum:g} s) and was cut to it",
            SettingsWarning,
            stacklevel=4,
        )
    return maximum


class _EngineMorsel(Morsel):  # type: ignore[type-arg]
    """A response cookie whose text is the engine's ``Set-Cookie`` value, exactly."""

    def __init__(self, set_cookie: str) -> None:
        super().__init__()
        self._text = set_cookie
        name, _, rest = set_cookie.partition("=")
        value, *attrs = rest.split("; ")
        self.set(name, value, value)
        for attr in attrs:
            k, _, v = attr.partition("=")
            k = k.lower()
            if k in ("secure", "httponly"):
                self[k] = True
            elif k in ("path", "domain", "max-age", "samesite", "expires"):
                self[k] = v

    def OutputString(self, attrs: Any = None) -> str:
        return self._text


class SessionMiddleware(_DjangoSessionMiddleware):  # type: ignore[misc]
    """Django's ``SessionMiddleware`` with sessile's cookie: the engine reads the whole
    ``Cookie`` header and the client's address and User-Agent, and writes the
    ``Set-Cookie`` (its name and secure attributes); a store that cannot answer gives
    503. Needs ``SESSION_ENGINE = "sessile.django"``."""

    def __init__(self, get_response: Callable[..., Any]) -> None:
        super().__init__(get_response)
        if self.SessionStore is not SessionStore:
            raise ImproperlyConfigured(
                'sessile.django.SessionMiddleware needs SESSION_ENGINE = "sessile.django"'
            )
        engine()  # built (and any settings warning given) at startup

    def process_request(self, request: Any) -> Any:
        e = engine()
        meta = request.META
        try:
            request.session = SessionStore(
                request.COOKIES.get(e.cookie_name),
                cookie_header=meta.get("HTTP_COOKIE", ""),
                ip=meta.get("REMOTE_ADDR") or None,
                user_agent=meta.get("HTTP_USER_AGENT"),
            )
        except StoreUnavailable:
            return _unavailable()
        return None

    def process_exception(self, request: Any, exception: Exception) -> Any:
        if isinstance(exception, StoreUnavailable):
            return _unavailable()
        return None

    def process_response(self, request: Any, response: Any) -> Any:
        session = getattr(request, "session", None)
        if not isinstance(session, SessionStore):
            return response
        e = session.engine
        try:
            accessed, modified, empty = session.accessed, session.modified, session.is_empty()
            vary = accessed
            if empty:
                if e.cookie_name in request.COOKIES:
                    response.cookies[e.cookie_name] = _EngineMorsel(e.clear_cookie())
                    vary = True
            elif (modified or settings.SESSION_SAVE_EVERY_REQUEST) and response.status_code < 500:
                try:
                    session.save()
                except UpdateError:
                    raise SessionInterrupted(
                        "The request's session was deleted before the request completed. "
                        "The user may have logged out in a concurrent request, for example."
                    ) from None
                state = session._request
                info = state.session if state is not None else None
                token = session.session_key
                if info is not None and token is not None:
                    persistent = not session.get_expire_at_browser_close()
                    cookie = e.set_cookie(token, info, persistent=persistent)
                    response.cookies[e.cookie_name] = _EngineMorsel(cookie)
                elif e.cookie_name in request.COOKIES:  # ended by its expiry
                    response.cookies[e.cookie_name] = _EngineMorsel(e.clear_cookie())
                vary = True
        except StoreUnavailable:
            return _unavailable()
        if vary:
            patch_vary_headers(response, ("Cookie",))
        return response


def _unavailable() -> Any:
    return HttpResponse(
        "session store unavailable\n", status=503, content_type="text/plain; charset=utf-8"
    )
