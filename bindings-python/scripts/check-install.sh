#!/usr/bin/env bash
# The path users take: the built wheel installed into a fresh venv, then the binding's
# whole test suite run against that installed copy (not the develop build in the source
# tree). Also checks what the wheel ships: the licences (equal to the repository's), the
# type stubs, the version. Usage: check-install.sh <wheel> <workspace version>
# Network: pip installs the test frameworks (requirements-dev.txt, less the build and
# lint tools) from PyPI or pip's cache.
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
