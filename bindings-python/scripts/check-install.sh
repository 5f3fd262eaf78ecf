#!/usr/bin/env bash
# The path users take: the built wheel installed into a fresh venv, then the binding's
# whole test suite run against that installed copy (not the develop build in the source
# tree). Also checks what the wheel ships: the licences (equal to the repository's), the
# type stubs, the version. Then the README's `pip install ./bindings-python` into another
# fresh venv, smoke-tested. Usage: check-install.sh <wheel> <workspace version>
# Network: pip installs the test frameworks (requirements-dev.txt, less the build and
# lint tools) and maturin (the build backend, for the folder install) from PyPI or pip's
# cache.
set -euo pipefail
wheel="$1"
version="$2"
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 "$root/tools/release/check_wheel.py" "$wheel" "$version"

python3 -m venv "$work/venv"
py="$work/venv/bin/python"
grep -vE '^(maturin|mypy|ruff)==' "$here/requirements-dev.txt" > "$work/requirements.txt"
"$py" -m pip install --quiet --disable-pip-version-check "$wheel" -r "$work/requirements.txt"

# The suite runs in the process that imported the installed package first and checked it
# is the venv's, at the workspace's version: every test then uses that module.
cd "$here"
"$py" - "$work/venv" "$version" <<'PY'
import sys
from importlib.metadata import version

import pytest

import sessile

venv, want = sys.argv[1], sys.argv[2]
assert sessile.__file__.startswith(venv), f"imported {sessile.__file__}, not the installed wheel"
assert version("sessile") == want, version("sessile")
print("testing the installed wheel:", sessile.__file__)
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "tests"]))
PY

# The README's route from a checkout: pip install <the folder> into another fresh venv
# (pip builds the wheel through maturin in place; cargo reuses the develop build's crates).
python3 -m venv "$work/dir"
(cd "$work" && "$work/dir/bin/pip" install --quiet --disable-pip-version-check "$here")
(cd "$work" && "$work/dir/bin/python" - "$work/dir" "$version" <<'PY'
import sys
from importlib.metadata import version

import sessile

assert sessile.__file__.startswith(sys.argv[1]), sessile.__file__
assert version("sessile") == sys.argv[2]
engine = sessile.Engine(capacity=4)
print("pip install <folder>:", sessile.__file__)
PY
)
