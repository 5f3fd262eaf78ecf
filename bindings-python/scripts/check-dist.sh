#!/usr/bin/env bash
# Checks `make dist`'s Python packages: the sdist and one abi3 manylinux2014 wheel per
# architecture given. Each wheel ships what check_wheel.py asks and auditwheel finds it
# consistent with manylinux_2_17 and needing no outside shared library; the x86_64 wheel
# and the sdist (built from source by pip) each install into a fresh venv and run a
# smoke test. The aarch64 wheel is inspected only: no aarch64 Python runs here.
# Usage: check-dist.sh <dist python dir> <version> <arch>...
# Network: pip fetches maturin (the sdist's build backend) from PyPI or its cache.
set -euo pipefail
out="$1"
version="$2"
shift 2
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
venv_tools="$root/.venv/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

smoke='
import sys
from importlib.metadata import version
import sessile
assert sessile.__file__.startswith(sys.argv[1]), sessile.__file__
assert version("sessile") == sys.argv[2]
e = sessile.Engine(capacity=4)
print("smoke:", sessile.__file__)
'

for arch in "$@"; do
  wheel="$out/sessile-$version-cp39-abi3-manylinux2014_$arch.manylinux_2_17_$arch.whl"
  test -f "$wheel" || { echo "no manylinux2014 $arch wheel: $(ls "$out")" >&2; exit 1; }
  python3 "$root/tools/release/check_wheel.py" "$wheel" "$version"
  "$venv_tools/auditwheel" show "$wheel" > "$work/show"
  tr '\n' ' ' < "$work/show" | grep -q "consistent with the following platform tag: *\"manylinux_2_17_$arch\"" || {
    cat "$work/show" >&2; echo "$wheel: not manylinux_2_17_$arch" >&2; exit 1; }
  # (auditwheel says "requires no external shared libraries" only when the tag is its
  # architecture's oldest; a library it would have to bundle is listed under this line.)
  if grep -q "external shared libraries are required" "$work/show"; then
    cat "$work/show" >&2; echo "$wheel: needs outside libraries" >&2; exit 1
  fi
  echo "$(basename "$wheel"): auditwheel: manylinux_2_17_$arch, no external libraries"
done

# The x86_64 wheel, as pip picks it on this machine.
python3 -m venv "$work/wheel"
"$work/wheel/bin/pip" install --quiet --disable-pip-version-check \
  "$out/sessile-$version-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
(cd "$work" && "$work/wheel/bin/python" -c "$smoke" "$work/wheel" "$version")

# The sdist: the licences inside, then built from source by pip into a fresh venv.
sdist="$out/sessile-$version.tar.gz"
for f in LICENSE-MIT LICENSE-APACHE; do
  tar -xOzf "$sdist" "sessile-$version/$f" | cmp - "$root/$f"
done
python3 -m venv "$work/sdist"
"$work/sdist/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir --no-binary sessile "$sdist"
(cd "$work" && "$work/sdist/bin/python" -c "$smoke" "$work/sdist" "$version")
echo "python dist: sdist and wheels for $* checked"
