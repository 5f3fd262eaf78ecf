"""The session dict as payload bytes and back, on every request: plain JSON for
:mod:`sessile` (``dumps`` / ``loads``) and the ASGI glue, Flask's tagged JSON for
:mod:`sessile.flask`. Only the cost changes here, never the bytes or the values.

Where the time went (``make bench-python``, profiled with callgrind): ``json.dumps`` with
arguments builds a ``JSONEncoder`` and runs its Python ``iterencode`` on every call, and
``json.loads`` of bytes sniffs the encoding and matches whitespace with regexes: together
more than a native ``validate``. Flask's tagged JSON walks every value through eight tag
checks in Python and rebuilds every dict and list when loading. So:

- a session of plain values (exact ``dict`` with str keys, ``list``, ``str``, ``int``,
  ``float``, ``bool``, ``None``) is written in one native pass
  (``sessile._native._plain_json``, the bytes ``json.dumps`` writes); anything else goes
  through the C encoder of the standard ``json`` module, called directly with the
  arguments ``json.dumps`` gives it. Loading reads an object of plain values natively
  (``sessile._native._plain_loads``: no floats, no escapes; it declines anything else),
  then json's C scanner directly; anything but one JSON document (a BOM, whitespace,
  another encoding) goes to ``json.loads``.
- Flask's tagged JSON is skipped when it would change nothing: plain values with no
  one-key dict whose key is a tag's, under the default tags and Flask's
  ``DefaultJSONProvider``. The bytes written are then the ones Flask's serializer writes
  (same ``sort_keys`` and ``ensure_ascii``); a payload whose text holds no key starting with
  a space (every default tag's key does) loads as plain JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any

from ._native import _plain_json, _plain_loads

__all__ = ["dumps", "encoder", "loads", "loads_text"]

# The scanner json.loads ends in (C where there is one); not in the typeshed stubs.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_default = json.JSONEncoder().default  # TypeError "Object of type X is not JSON serializable"


def encoder(*, sort_keys: bool = False, ensure_ascii: bool = False) -> Callable[[Any], str]:
    """``json.dumps(obj, separators=(",", ":"), sort_keys=..., ensure_ascii=...)``, as a
    function that skips building a ``JSONEncoder`` and its Python layer per call."""
    slow = json.JSONEncoder(
        separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=ensure_ascii
    ).encode
    make: Any = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (e.g. PyPy's own json is used as is)
        return slow
    string = _encoder.encode_basestring_ascii if ensure_ascii else _encoder.encode_basestring
    # The arguments JSONEncoder.iterencode gives it (one-shot, no indent), built once: its
    # argument parsing per call cost as much as the encoding. Without a markers dict a
    # circular value recurses to the recursion limit instead of being caught on the way:
    # that RecursionError sends the value to json's own encoder, which says what it says.
    plain = make(None, _default, string, None, ":", ",", sort_keys, False, True)

    def fast(obj: Any) -> str:
        try:
            return "".join(plain(obj, 0))
        except RecursionError:
            return slow(obj)

    # Trust the shortcut only if it writes what json.dumps writes on this Python.
    probe = {"b": [1, 2.5, None, True, "é\n\x00"], "a": {"c": -1e300}}
    try:
        if fast(probe) == slow(probe):
            return fast
    except Exception:  # a Python whose private C encoder takes other arguments
        pass
    return slow


_plain_text = encoder()


def dumps(obj: Any) -> bytes:
    """Encode a session payload: compact JSON, UTF-8."""
    # Plain values in one native pass (the same bytes); anything else through json.
    data = _plain_json(obj)
    return data if data is not None else _plain_text(obj).encode()


def loads(data: bytes) -> Any:
    """Decode a payload written by :func:`dumps` (empty bytes decode to ``{}``); any JSON
    that ``json.loads`` reads is read as it reads it."""
    if not data:
        return {}
    # An object of plain values (what dumps writes for a session) in one native pass;
    # anything it declines (floats, escapes, ...) goes to json's own reader.
    if type(data) is bytes:
        value = _plain_loads(data)
        if value is not None:
            return value
    # One compact document in UTF-8 (what dumps writes): the C scanner alone.
    try:
        text = data.decode()
        value, end = _scan_once(text, 0)
        if end == len(text):
            return value
    except (ValueError, StopIteration):
        pass
    return json.loads(data)


def loads_text(text: str) -> Any:
    """The one JSON document that is all of ``text`` (no surrounding whitespace), read by
    the C scanner; ``ValueError`` for anything else (``json.loads`` then decides)."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration as e:
        raise ValueError("no JSON document at the start") from e
    if end != len(text):
        raise ValueError("more than one JSON document")
    return value
