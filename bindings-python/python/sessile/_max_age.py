"""One meaning of a framework's "max age" (Starlette's ``max_age``, Flask's
``PERMANENT_SESSION_LIFETIME``), the same for every glue: how long a session lives from
its start, the core's ``absolute_timeout``. The cookie's ``Max-Age`` counts down to that
same deadline (the core's rule: it is the max age itself on a new session), so the
cookie and the session end together. The idle timeout is set to the max age too: sessile
adds no inactivity limit the framework did not have (give the engine a shorter
``idle_timeout`` to add one).

Why not the idle timeout: sessile sends the cookie only when its token changes, so a
cookie lifetime that restarted on each request would need a ``Set-Cookie`` on every
response; and in the frameworks' usual case (the session written at login, then only
read) their max age already counts from the login, as the absolute timeout does.
"""

from __future__ import annotations

__all__ = ["max_age_options"]


def max_age_options(max_age: float) -> dict[str, float]:
    """The engine options that a max age of ``max_age`` seconds (above zero) means."""
    return {"idle_timeout": max_age, "absolute_timeout": max_age}
