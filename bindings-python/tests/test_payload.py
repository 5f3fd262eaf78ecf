"""The payload JSON (sessile._payload): the bytes json.dumps writes and the values
json.loads reads, whichever path (native, C encoder, json itself) writes or reads them."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

import pytest
from markupsafe import Markup

import sessile
from sessile._native import _plain_json, _plain_loads


class Color(enum.IntEnum):
    RED = 1


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


PLAIN: list[Any] = [
    {},
    {"n": 5},
    {"s": 'quote " backslash \\ newline \n tab \t cr \r bs \b ff \f nul \x00 us \x1f del \x7f'},
    {"u": "é ü 中文 \u2028 \u2029 😀 \U0010ffff"},
    {"i": [0, -1, 2**63 - 1, -(2**63), 2**64, -(10**40)]},
    {"f": [0.0, -0.0, 0.1, 1.5, 1e16, 1e-7, 123456789.123, 1e300, -2.5e-300]},
    {"special": [float("nan"), float("inf"), float("-inf")]},
    {"b": [True, False, None]},
    {"z": 1, "a": 2, "é": 3, "A": 4, "": 5, "😀": 6, "\u00ff": 7, "\u0100": 8},
    {"d": {"x": {"y": [1, {"z": []}]}}},
    {" t": 1, "two keys": 2},
    [1, "a", None],
    "text",
    nested(30),
]
#: Values the native pass declines: json itself writes them (or raises what it raises).
OTHER: list[Any] = [
    {"t": (1, 2)},
    {"m": Markup("<b>x</b>")},
    {"e": Color.RED},
    {1: "int key"},
    {True: "bool key"},
    OrderedDict(a=1),
    {"deep": nested(40)},
    {"bad": "\ud800"},
]


@pytest.mark.parametrize("sort_keys", [False, True])
@pytest.mark.parametrize("ensure_ascii", [False, True])
@pytest.mark.parametrize("value", PLAIN)
def test_native_json_is_jsons_bytes(value: Any, sort_keys: bool, ensure_ascii: bool) -> None:
    expected = json.dumps(
        value, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=ensure_ascii
    ).encode()
    assert _plain_json(value, sort_keys=sort_keys, ensure_ascii=ensure_ascii) == expected


@pytest.mark.parametrize("value", OTHER)
def test_native_json_declines_what_is_not_plain(value: Any) -> None:
    assert _plain_json(value) is None


def test_a_one_key_dict_named_like_a_tag_is_declined() -> None:
    tags = {" t": None}
    assert _plain_json({" t": 1}, tags=tags) is None
    assert _plain_json({"x": [{" t": 1}]}, tags=tags) is None
    assert _plain_json({" t": 1, "u": 2}, tags=tags) == b'{" t":1,"u":2}'


@pytest.mark.parametrize("value", PLAIN + OTHER[:-1])
def test_dumps_and_loads_are_jsons(value: Any) -> None:
    written = sessile.dumps(value)
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert written == expected
    back = sessile.loads(written)
    assert json.dumps(back) == json.dumps(json.loads(expected))


def test_errors_are_jsons() -> None:
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        sessile.dumps({"c": circular})
    with pytest.raises(TypeError, match="not JSON serializable"):
        sessile.dumps({"o": object()})
    with pytest.raises(UnicodeEncodeError):
        sessile.dumps({"bad": "\ud800"})


@pytest.mark.parametrize(
    "data", [b' {"a":1}', b'{"a":1} ', b'\xef\xbb\xbf{"a":1}', '{"a":1}'.encode("utf-16")]
)
def test_loads_reads_what_json_reads(data: bytes) -> None:
    assert sessile.loads(data) == json.loads(data) == {"a": 1}


@pytest.mark.parametrize("data", [b"{", b'{"a":1}x', b"\xff", b"[1,]"])
def test_loads_refuses_what_json_refuses(data: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(data)
    with pytest.raises(ValueError):
        sessile.loads(data)


#: Payloads the native reader takes: what it reads must be what json.loads reads, to the
#: type (repr tells 1 from 1.0 and True, and shows the keys' order).
PLAIN_TEXT: list[bytes] = [
    b"{}",
    b'{"n":5}',
    b'{"a":1,"a":2,"b":{}}',
    b'{"i":[0,-0,-1,123456789012345678,-123456789012345678],"e":[]}',
    b'{"b":[true,false,null],"d":{"x":{"y":[1,{"z":[]}]}}}',
    '{"u":"é ü 中文 \u2028 😀","é":"\x7f"}'.encode(),
    b'{" t":1}',
]
#: Payloads it declines (json reads them, or refuses them, itself).
DECLINED: list[bytes] = [
    b'{"f":1.5}',
    b'{"f":1e3}',
    b'{"i":1234567890123456789}',
    b'{"i":01}',
    b'{"s":"a\\nb"}',
    b'{"s":"\\u00e9"}',
    b'{"s":"tab\tin"}',
    b'{"a":1} ',
    b' {"a":1}',
    b'{"a": 1}',
    b'{"a":1}x',
    b'{"a":1,}',
    b'{"a":-}',
    b'{"a":tru}',
    b"[1]",
    b"null",
    b"5",
    b'"s"',
    b'{"bad":"\xed\xa0\x80"}',
    b'{"bad":"\xff"}',
    b"{" + b'"a":[' * 40 + b"]" * 40 + b"}",
    b"",
]


@pytest.mark.parametrize("data", PLAIN_TEXT)
def test_native_reader_reads_what_json_reads(data: bytes) -> None:
    value = _plain_loads(data)
    assert value is not None
    assert repr(value) == repr(json.loads(data))


@pytest.mark.parametrize("data", DECLINED)
def test_native_reader_declines_what_is_not_plain(data: bytes) -> None:
    assert _plain_loads(data) is None


def test_native_reader_declines_keys_like_a_tags_when_asked() -> None:
    # Flask's tagged JSON marks its values with one-key dicts whose key starts with a space.
    assert _plain_loads(b'{" t":[1]}', no_space_keys=True) is None
    assert _plain_loads(b'{"x":{" di":1}}', no_space_keys=True) is None
    assert _plain_loads(b'{"x":" value"}', no_space_keys=True) == {"x": " value"}
