#!/usr/bin/env bash
# Both install routes of the README, each into a fresh temporary project: `npm install
# <path to bindings-node>` and `npm pack` + installing the tarball. The package has no
# runtime dependencies, so neither route needs the network; npm's own configuration
# (cache, registry) is used as it is. Needs the addon built (make tools-node).
set -euo pipefail
pkg="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

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
version="$(node -p "require('$pkg/package.json').version")"

mkdir "$work/dir" && cd "$work/dir"
npm init -y >/dev/null
npm install --no-audit --no-fund --offline "$pkg" >/dev/null
node -e "$probe" "$version"

cd "$work"
tarball="$(cd "$work" && npm pack --silent "$pkg" | tail -n 1)"
tar -tzf "$work/$tarball" > "$work/contents"
grep -qx 'package/sessile.linux-x64-gnu.node' "$work/contents"
grep -qx 'package/options.d.ts' "$work/contents"
mkdir "$work/tar" && cd "$work/tar"
npm init -y >/dev/null
npm install --no-audit --no-fund --offline "$work/$tarball" >/dev/null
node -e "$probe" "$version"
echo "install routes: directory and tarball both give a working require('sessile')"
