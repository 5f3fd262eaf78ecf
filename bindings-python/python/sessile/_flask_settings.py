"""Flask's session settings in sessile's words: which engine options they mean, and which
of them sessile keeps its own secure default over (named in one startup warning).

- ``SESSION_COOKIE_DOMAIN``, ``_PATH`` (or ``APPLICATION_ROOT``), ``_PARTITIONED`` and
  ``SESSION_COOKIE_SAMESITE="Strict"`` / ``"Lax"`` are applied.
- ``SESSION_COOKIE_NAME`` is the cookie's name, with the prefix browsers enforce added
  (``session`` is ``__Host-session``; ``__Secure-session`` with a domain or a path other
  than ``/``) unless it has one or the cookie is not Secure; the warning says so.
- ``PERMANENT_SESSION_LIFETIME`` is the max age (:mod:`sessile._max_age`): the absolute
  timeout, the idle timeout cut to it, when it is no longer than sessile's absolute
  timeout.
- A value weaker than sessile's default is not applied, and the warning names it, at
  Flask's default or set by the app alike (Flask's defaults are made for its signed
  cookie): a name without a prefix, ``SESSION_COOKIE_SECURE=False``,
  ``SESSION_COOKIE_HTTPONLY=False``,
  ``SESSION_COOKIE_SAMESITE`` ``None`` or ``"None"``, a lifetime longer than sessile's
  absolute timeout. Setting sessile's own option (``SESSILE`` in the config, or a keyword
  of :class:`sessile.flask.Session`) is the app's choice: it wins, and silences that
  line.
- ``SESSION_REFRESH_EACH_REQUEST`` is read at each request by
  :class:`sessile.flask.SessionInterface` (a permanent session's cookie is resent).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ._max_age import engine_defaults, max_age_options

__all__ = ["SettingsWarning", "engine_options"]


class SettingsWarning(UserWarning):
    """A Flask setting sessile does not apply (its secure default wins)."""


def _seconds(value: Any) -> float:
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def _is_default(config: Mapping[str, Any], defaults: Mapping[str, Any], name: str) -> bool:
    return bool(config.get(name, defaults.get(name)) == defaults.get(name))


def _cookie_name(
    config: Mapping[str, Any],
    flask_defaults: Mapping[str, Any],
    core: Mapping[str, Any],
    scoped: bool,
    kept: list[str],
) -> str:
    """``SESSION_COOKIE_NAME`` with the prefix browsers enforce: ``__Host-`` (only this
    host sets or overwrites it, over HTTPS) or, with a domain or a path, ``__Secure-``."""
    name = str(config.get("SESSION_COOKIE_NAME") or flask_defaults.get("SESSION_COOKIE_NAME"))
    lower = name.lower()
    if lower.startswith("__host-") and scoped:
        return "__Secure-" + name[len("__Host-") :]
    if lower.startswith(("__host-", "__secure-")) or not core.get("cookie_secure", True):
        return name
    prefixed = ("__Secure-" if scoped else "__Host-") + name
    kept.append(
        f"SESSION_COOKIE_NAME={name!r} (the cookie is {prefixed!r}: with the prefix, "
        "browsers refuse it from another subdomain or over plain HTTP)"
    )
    return prefixed


def engine_options(
    config: Mapping[str, Any],
    flask_defaults: Mapping[str, Any],
    options: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The :class:`sessile.Engine` keywords for a Flask app's ``config``
    (``flask_defaults``: ``Flask.default_config``) over sessile's own ``options``, and the
    settings kept at sessile's default, each as a line for the startup warning."""
    core = dict(engine_defaults())
    core.update(options)
    kwargs = dict(options)
    kept: list[str] = []

    def given(name: str) -> bool:
        return name in config and not _is_default(config, flask_defaults, name)

    def adopt(key: str, value: Any) -> None:
        if key not in options:
            kwargs[key] = value

    def weaker(key: str, line: str) -> None:
        if key not in options:
            kept.append(line)

    if config.get("SESSION_COOKIE_DOMAIN"):
        adopt("cookie_domain", config["SESSION_COOKIE_DOMAIN"])
    path = config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/"
    if path != "/":
        adopt("cookie_path", path)
    if config.get("SESSION_COOKIE_PARTITIONED"):
        adopt("cookie_partitioned", True)
    if not config.get("SESSION_COOKIE_SECURE", False) and core["cookie_secure"]:
        weaker("cookie_secure", "SESSION_COOKIE_SECURE=False (the cookie stays Secure)")
    if not config.get("SESSION_COOKIE_HTTPONLY", True) and core["cookie_http_only"]:
        weaker("cookie_http_only", "SESSION_COOKIE_HTTPONLY=False (the cookie stays HttpOnly)")
    same_site = config.get("SESSION_COOKIE_SAMESITE")
    spelled = str(same_site).lower() if same_site is not None else None
    if spelled in ("strict", "lax"):
        if spelled == "strict" or core["cookie_same_site"] != "strict":
            adopt("cookie_same_site", spelled)
    elif core["cookie_same_site"] in ("strict", "lax"):
        weaker(
            "cookie_same_site",
            f"SESSION_COOKIE_SAMESITE={same_site!r} "
            f"(SameSite stays {str(core['cookie_same_site']).capitalize()})",
        )
    lifetime = config.get("PERMANENT_SESSION_LIFETIME")
    if lifetime is not None and "absolute_timeout" not in options:
        age = _seconds(lifetime)
        absolute = _seconds(core["absolute_timeout"])
        if 0 < age <= absolute:
            kwargs.update(max_age_options(age, idle_timeout=options.get("idle_timeout")))
        else:
            kept.append(
                f"PERMANENT_SESSION_LIFETIME={lifetime!r} (sessions end {absolute:g} s after "
                "they start, sessile's absolute timeout; set SESSILE['absolute_timeout'] to "
                "choose longer)"
            )

    foreign = sorted(k for k in config if k.startswith("SESSION_") and k not in flask_defaults)
    if foreign:
        kept.append(
            ", ".join(foreign) + " (not Flask's: sessile has no use for them, e.g. "
            "Flask-Session's; sessile's own options go in SESSILE)"
        )
    scoped = bool(kwargs.get("cookie_domain")) or kwargs.get("cookie_path", "/") != "/"
    if "cookie_name" not in options:
        kwargs["cookie_name"] = _cookie_name(config, flask_defaults, core, scoped, kept)
    return kwargs, kept
