#!/usr/bin/env bash
# The install a new user makes from a fresh clone, before any make step: `npm install
# <clone>/bindings-node` in a new project must give a working require('sessile'), the
# package's install script building the addon with cargo because no prebuilt one is there.
# Then `npm pack` of that folder (which now holds the built addon) installed into another
# new project must work without building anything (CARGO=false would fail a build), and
# the tarball must ship the licences, the changelog and the install script.
#
# The "clone" is this checkout's tracked and not-ignored files (so uncommitted edits are
# tested too) copied with their timestamps to target/npm-fresh/clone; the addon is never
# copied in (ignored files are not part of a clone). The build goes to this checkout's
# target/ for the host triple, where `make tools-node`'s napi build (same profile, same
# flags) left its units: cargo fingerprints a workspace's crates by their paths inside the
# workspace and the files' times, so the clone's are that build's and only the link and
# copy are redone (a build that differed in any input, an environment variable napi sets
# included, would be compiled anew). The install script's steps all run as a user's do. Network: none for npm
# (the package has no dependencies); cargo fetches crates only when its cache lacks them.
# Usage: check-fresh-install.sh <root> <version>
set -euo pipefail
root="$1"
version="$2"
fresh="$root/target/npm-fresh"
clone="$fresh/clone"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rm -rf "$clone" && mkdir -p "$clone"
# (A tracked file deleted in the work tree is listed by git but not copied.)
(cd "$root" && git ls-files -co --exclude-standard -z |
  while IFS= read -r -d '' f; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done |
  xargs -0 cp --parents -P --preserve=timestamps -t "$clone")
if ls "$clone"/bindings-node/*.node >/dev/null 2>&1; then
  echo "the fresh clone already holds an addon: the test would prove nothing" >&2; exit 1
fi

probe='
const assert = require("node:assert/strict")
const { Engine } = require("sessile")
const session = require("sessile/express")
const e = new Engine({ capacity: 4 })
const { token } = e.create()
assert.equal(e.validate(token).principal, undefined)
assert.throws(() => e.validate("x"), (err) => err.code === "SESSILE_SESSION_INVALID")
assert.equal(typeof session({ secret: "s" }), "function")
assert.equal(require("sessile/package.json").version, process.argv[1])
console.log("ok", process.argv[1])
'

# 1. npm install <path>: the install script builds the addon from source.
mkdir "$work/dir" && cd "$work/dir"
npm init -y >/dev/null
host=$(rustc -vV | sed -n 's/^host: //p')
CARGO_TARGET_DIR="$root/target" CARGO_BUILD_TARGET="$host" npm install --no-audit --no-fund --foreground-scripts \
  "$clone/bindings-node" > "$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
grep -q 'building it from source with cargo' "$work/install.log" || {
  cat "$work/install.log" >&2; echo "the install script did not build the addon" >&2; exit 1; }
ls "$clone"/bindings-node/sessile.*.node >/dev/null
node -e "$probe" "$version"

# 2. npm pack of that folder, installed as a tarball: the built addon is used as it is.
cd "$work"
tarball="$(npm pack --silent "$clone/bindings-node" | tail -n 1)"
tar -tzf "$work/$tarball" > "$work/contents"
for f in LICENSE-MIT LICENSE-APACHE CHANGELOG.md scripts/install.js options.d.ts; do
  grep -qx "package/$f" "$work/contents" || { echo "$tarball lacks $f" >&2; exit 1; }
done
grep -q '^package/sessile\..*\.node$' "$work/contents"
for f in LICENSE-MIT LICENSE-APACHE CHANGELOG.md; do
  tar -xOzf "$work/$tarball" "package/$f" | cmp - "$root/$f"
done
mkdir "$work/tar" && cd "$work/tar"
npm init -y >/dev/null
CARGO=false npm install --no-audit --no-fund --offline "$work/$tarball" >/dev/null
node -e "$probe" "$version"
echo "fresh clone: npm install <path> built the addon; its npm pack installs and loads"
