"""One meaning of a framework's "max age" (Starlette's ``max_age``, Flask's
``PERMANENT_SESSION_LIFETIME``, Django's ``SESSION_COOKIE_AGE`` in
:mod:`sessile.django`): how long a session lives from its start, the core's
``absolute_timeout``. The cookie's ``Max-Age`` counts down to that same deadline (the
core's rule: on a new session it is the max age itself), so the cookie and the session
end together. The idle timeout stays sessile's (the engine's ``idle_timeout``), cut to the
max age when that is shorter: a max age never makes a session live longer unused.

Why not "since the last request": sessile resends the cookie only when its token changes,
so a lifetime that restarted on every request would need a ``Set-Cookie`` on every
response; and in the frameworks' usual case (the session written at login, then only
read) their max age already counts from the login, as the absolute timeout does.
"""

from __future__ import annotations

from functools import cache

from . import Engine

__all__ = ["engine_defaults", "max_age_options"]


@cache
def engine_defaults() -> dict[str, object]:
    """The core's default config in Python's words (read off a tiny engine)."""
    return Engine(capacity=1, pool_bytes=0, max_payload=0).config


def max_age_options(max_age: float, *, idle_timeout: float | None = None) -> dict[str, float]:
    """The engine options that a max age of ``max_age`` seconds (above zero) means, with
    ``idle_timeout`` the idle timeout asked for (``None``: the core's default)."""
    if idle_timeout is None:
        idle = engine_defaults()["idle_timeout"]
        assert isinstance(idle, float)
        idle_timeout = idle
    return {"absolute_timeout": max_age, "idle_timeout": min(max_age, idle_timeout)}
