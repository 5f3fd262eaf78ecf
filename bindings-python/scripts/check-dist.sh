#!/usr/bin/env bash
# Checks `make dist`'s Python packages: the sdist and one abi3 manylinux2014 wheel per
# architecture given. Each wheel ships what check_wheel.py asks and auditwheel finds it
# consistent with manylinux_2_17 and needing no outside shared library; the x86_64 wheel
# and the sdist (built from source by pip) each install into a fresh venv and run a
# smoke test. The aarch64 wheel is run too, when tools/release/qemu-arm64.sh could set up
# qemu-user here (its folder given as SESSILE_QEMU_ARM64): Debian's aarch64 python3.11,
# under qemu-aarch64, runs pip to install it into a target folder, then imports it from
# there and runs a smoke test (create, login, validate, logout, validate -> logged_out).
# Otherwise the script says it was only inspected.
# Usage: [SESSILE_QEMU_ARM64=<dir>] check-dist.sh <dist python dir> <version> <arch>...
# Network: pip fetches maturin (the sdist's build backend) from PyPI or its cache.
set -euo pipefail
out="$1"
version="$2"
shift 2
qemu="${SESSILE_QEMU_ARM64:+$(cd "$SESSILE_QEMU_ARM64" && pwd)}"
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
echo "x86_64 wheel: RUN here: installed by pip into a fresh venv, smoke ok"

# The aarch64 wheel, run: installed by pip running on the aarch64 python under qemu-user,
# then imported by it.
aarch64_run="aarch64 wheel: inspected only, not run"
case " $* " in
  *" aarch64 "*)
    if [ -z "$qemu" ]; then
      aarch64_run="$aarch64_run (no qemu-user folder given)"
    elif [ ! -f "$qemu/ready" ]; then
      aarch64_run="$aarch64_run (qemu-user unavailable here: $(cat "$qemu/UNAVAILABLE" 2>/dev/null || echo "not set up"))"
    else
      # pip (pure Python, the copy in the x86_64 venv) run by the aarch64 python: it
      # decides from that interpreter's own tags that the wheel fits, as on such a machine.
      aarch64_py=(qemu-aarch64 -L "$qemu/sysroot" "$qemu/sysroot/usr/bin/python3.11")
      mkdir "$work/pip"
      cp -r "$("$work/wheel/bin/python" -c 'import os, pip; print(os.path.dirname(pip.__file__))')" "$work/pip/"
      PYTHONPATH="$work/pip" PYTHONNOUSERSITE=1 PIP_ROOT_USER_ACTION=ignore "${aarch64_py[@]}" -m pip install \
        --quiet --disable-pip-version-check --no-index --no-deps --target "$work/aarch64" \
        "$out/sessile-$version-cp39-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl"
      (cd "$work" && PYTHONPATH="$work/aarch64" PYTHONNOUSERSITE=1 "${aarch64_py[@]}" -c '
import platform
import sys
from importlib.metadata import version
import sessile
assert platform.machine() == "aarch64", platform.machine()
assert sessile._native.__file__.startswith(sys.argv[1]), sessile._native.__file__
assert version("sessile") == sys.argv[2]
e = sessile.Engine(capacity=4)
token, _ = e.create()
token, _ = e.login(token, "alice")
assert e.validate(token).principal == "alice"
e.logout(token)
try:
    e.validate(token)
    raise AssertionError("validate after logout did not raise")
except sessile.SessionInvalid as err:
    assert err.reason == "logged_out", err.reason
native = sessile._native.__file__[len(sys.argv[1]) + 1 :]
print(f"aarch64 wheel: RUN under qemu-user: python {platform.python_version()} {platform.machine()} "
      f"loaded {native}; create, login, validate, logout, validate -> logged_out: ok")
' "$work/aarch64" "$version")
      aarch64_run=""
    fi ;;
  *) aarch64_run="" ;;
esac
[ -z "$aarch64_run" ] || echo "$aarch64_run"

# The sdist: the licences inside, then built from source by pip into a fresh venv.
sdist="$out/sessile-$version.tar.gz"
for f in LICENSE-MIT LICENSE-APACHE; do
  tar -xOzf "$sdist" "sessile-$version/$f" | cmp - "$root/$f"
done
python3 -m venv "$work/sdist"
"$work/sdist/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir --no-binary sessile "$sdist"
(cd "$work" && "$work/sdist/bin/python" -c "$smoke" "$work/sdist" "$version")
echo "sdist: RUN here: built from source by pip into a fresh venv, smoke ok"
echo "python dist: sdist and wheels for $* checked"
