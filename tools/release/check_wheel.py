"""What a sessile wheel must ship: the licences (equal to the repository's), the type
stubs and framework glue, and the workspace's version and licence in its metadata.

    python3 tools/release/check_wheel.py <wheel> <version>

Used by bindings-python/scripts/check-install.sh (make test) and check-dist.sh (make
dist). Exits 1 naming the first thing missing.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bindings-python" / "python" / "sessile"
# Every file of the package's source (glue modules, stubs, py.typed), so a module added
# later is checked without an edit here; the built native module is checked apart.
FILES = sorted(
    f"sessile/{p.name}"
    for p in PACKAGE.iterdir()
    if p.is_file() and (p.suffix in (".py", ".pyi") or p.name == "py.typed")
)


def problems(wheel: str, version: str) -> list[str]:
    out = []
    name = Path(wheel).name
    if not name.startswith(f"sessile-{version}-cp39-abi3-"):
        out.append(f"{name}: not an abi3 wheel of sessile {version}")
    info = f"sessile-{version}.dist-info"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for lic in ("LICENSE-MIT", "LICENSE-APACHE"):
            member = f"{info}/licenses/{lic}"
            if member not in names:
                out.append(f"{name}: no {member}")
            elif z.read(member) != (ROOT / lic).read_bytes():
                out.append(f"{name}: {lic} differs from the repository's")
        out += [f"{name}: no {f}" for f in FILES if f not in names]
        if not any(n.startswith("sessile/_native.") and n.endswith(".so") for n in names):
            out.append(f"{name}: no native module")
        meta = z.read(f"{info}/METADATA").decode() if f"{info}/METADATA" in names else ""
        if f"\nVersion: {version}\n" not in meta:
            out.append(f"{name}: METADATA has another version")
        if "License-Expression: MIT OR Apache-2.0" not in meta:
            out.append(f"{name}: METADATA lacks License-Expression")
    return out


if __name__ == "__main__":
    found = problems(sys.argv[1], sys.argv[2])
    for p in found:
        print(f"check_wheel: {p}", file=sys.stderr)
    sys.exit(1 if found else 0)
