#!/usr/bin/env python3
"""One version and one project URL for every package sessile ships.

The version lives once, in `[workspace.package]` of the root Cargo.toml. Every other
place that states it must agree: each workspace crate (`cargo metadata`), the Python
package (pyproject.toml takes it from the crate: `dynamic = ["version"]`), the npm package
and its lockfile, the C header's SESSILE_VERSION (generated), and CHANGELOG.md, which
must have a section for it. The pkg-config and CMake files are filled in at install time
and must not hold a version of their own. The project URL is likewise stated once and
every package's metadata must name it. Run by `make test-release`; exits 1 naming each
disagreement.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
errors: list[str] = []


def check(ok: bool, message: str) -> None:
    if not ok:
        errors.append(message)


def main() -> int:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    version = cargo["workspace"]["package"]["version"]
    url = cargo["workspace"]["package"]["repository"]
    check(
        not re.search(r"example\.(invalid|com|org|net)|localhost", url),
        f"Cargo.toml: repository {url!r} is a placeholder",
    )

    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    for pkg in meta["packages"]:
        check(
            pkg["version"] == version,
            f"{pkg['manifest_path']}: version {pkg['version']} != workspace {version}",
        )
        if pkg.get("publish") != [] or pkg["name"] == "sessile":
            check(
                pkg.get("repository") == url,
                f"{pkg['manifest_path']}: repository {pkg.get('repository')!r} != {url!r}",
            )

    pyproject = tomllib.loads((ROOT / "bindings-python/pyproject.toml").read_text())
    project = pyproject["project"]
    check(
        "version" in project.get("dynamic", []) and "version" not in project,
        "bindings-python/pyproject.toml: the version must be dynamic (taken from the crate)",
    )
    for name, link in project.get("urls", {}).items():
        check(link.startswith(url), f"pyproject.toml: urls.{name} {link!r} is not under {url}")

    node = ROOT / "bindings-node"
    package = json.loads((node / "package.json").read_text())
    check(package["version"] == version, f"package.json: version {package['version']} != {version}")
    lock = json.loads((node / "package-lock.json").read_text())
    for where, found in (
        ("version", lock.get("version")),
        ("packages['']", lock["packages"][""].get("version")),
    ):
        check(found == version, f"package-lock.json: {where} {found} != {version}")
    repo_url = package.get("repository", {}).get("url", "")
    check(url.split("://", 1)[1] in repo_url, f"package.json: repository {repo_url!r} is not {url}")
    for key in ("homepage",):
        check(package.get(key, "").startswith(url), f"package.json: {key} is not under {url}")

    header = (ROOT / "c-api/include/sessile.h").read_text()
    found = re.search(r'#define SESSILE_VERSION "([^"]*)"', header)
    check(
        found is not None and found.group(1) == version,
        f"sessile.h: SESSILE_VERSION {found and found.group(1)} != {version} (make header-c)",
    )
    for template in (
        "c-api/sessile.pc.in",
        "cmake/sessileConfig.cmake.in",
        "cmake/sessileConfigVersion.cmake.in",
    ):
        text = (ROOT / template).read_text()
        check("@VERSION@" in text, f"{template}: takes no @VERSION@")
        check(version not in text, f"{template}: states a version of its own")
        for link in re.findall(r"https?://\S+", text):
            check(link.startswith(url), f"{template}: URL {link} is not under {url}")

    changelog = (ROOT / "CHANGELOG.md").read_text()
    check(
        re.search(rf"^## \[{re.escape(version)}\]", changelog, re.M) is not None,
        f"CHANGELOG.md: no section '## [{version}]'",
    )

    for e in errors:
        print(f"check_versions: {e}", file=sys.stderr)
    if not errors:
        print(f"check_versions: every package is at {version}, every package URL under {url}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
