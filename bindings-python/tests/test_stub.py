"""The typed keywords of ``Engine(...)`` in ``_native.pyi`` are the core's config keys.

At run time ``Engine`` takes ``**config`` and reads each keyword off the core's vocabulary
(``sessile.config_keys()``), so a key added to the core needs no edit to the
binding. The stub lists the keywords with their types for type checkers; stubtest cannot
see a keyword missing from it (the runtime takes any), so this test does, as the C
header's freshness test does. After a key is added, rewrite the stub with::

    SESSILE_BLESS=1 .venv/bin/python -m pytest bindings-python/tests/test_stub.py
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from sessile import _native

STUB = Path(_native.__file__).with_name("_native.pyi")
NOT_CONFIG = ["seed", "clock"]  # Engine's own keywords, written by hand in the stub
TYPES = {"int": "int", "seconds": "float", "bool": "bool", "str": "str"}


def wanted() -> list[tuple[str, str]]:
    """`(keyword, annotation)` of every config keyword, in the core's order."""
    out = []
    for k in _native.config_keys():
        if k.kind == "choice":
            t = "Literal[" + ", ".join(f'"{c}"' for c in k.choices) + "]"
        elif k.name == "store_key":
            t = "str | bytes"  # 64 hex digits, or the 32 bytes themselves
        else:
            t = TYPES[k.kind]
        out.append((k.name, f"{t} | None"))
    return out


def engine_new(tree: ast.Module) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Engine":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__new__":
                    return item
    raise AssertionError("no Engine.__new__ in the stub")


def stub_keywords(source: str) -> list[tuple[str, str]]:
    new = engine_new(ast.parse(source))
    args = new.args
    assert all(isinstance(d, ast.Constant) and d.value is None for d in args.kw_defaults), (
        "every keyword of Engine() defaults to None"
    )
    return [
        (a.arg, ast.unparse(a.annotation) if a.annotation else "")
        for a in args.kwonlyargs
        if a.arg not in NOT_CONFIG
    ]


def normal(keywords: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, ast.unparse(ast.parse(t, mode="eval"))) for n, t in keywords]


def bless(source: str) -> str:
    """The stub with its config keywords rewritten from `wanted()`, formatted by ruff."""
    lines = source.splitlines(keepends=True)
    new = engine_new(ast.parse(source))
    names = [a.arg for a in new.args.kwonlyargs]
    clock_default = new.args.kw_defaults[names.index("clock")]
    assert clock_default is not None and clock_default.end_lineno is not None
    assert new.returns is not None
    # Config keywords: the lines after `clock`'s up to the one closing the signature.
    first, close = clock_default.end_lineno, new.returns.lineno - 1
    body = "".join(f"        {n}: {t} = None,\n" for n, t in wanted())
    text = "".join(lines[:first]) + body + "".join(lines[close:])
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "format", "--no-cache", "--stdin-filename", str(STUB), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_the_stub_lists_every_config_key() -> None:
    source = STUB.read_text()
    if os.environ.get("SESSILE_BLESS") == "1":
        source = bless(source)
        STUB.write_text(source)
    assert normal(stub_keywords(source)) == normal(wanted()), (
        "Engine's keywords in _native.pyi differ from config_keys(): "
        "rerun this test with SESSILE_BLESS=1 to rewrite them"
    )
