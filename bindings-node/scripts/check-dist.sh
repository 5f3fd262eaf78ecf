#!/usr/bin/env bash
# Checks `make dist`'s npm layout (scripts/dist.js): each platform package's addon is an
# ELF shared object for its machine and C library (glibc ones need nothing past 2.17),
# the main package ships no addon and names each built platform in
# optionalDependencies, and, on this machine, the main tarball installed with the
# linux-x64-gnu tarball beside it (offline, into a new project) loads the addon from that
# package. The linux-arm64-gnu addon is run too, when tools/release/qemu-arm64.sh could set
# up qemu-user here (its folder given as the third argument): Node's own arm64 binary,
# under qemu-aarch64, runs npm to install the main tarball and the arm64 one into a new
# project (the install script runs on it too), then loads the addon and runs a smoke (create,
# login, validate, logout, validate -> logged_out). Otherwise the script says it was only
# inspected. The musl addon is only inspected: no musl Node runs here.
# Usage: check-dist.sh <dist npm dir> <version> [<qemu-arm64 dir>]
set -euo pipefail
out="$1"
version="$2"
qemu="${3:+$(cd "$3" && pwd)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

machine() { readelf -h "$1" | sed -n 's/^ *Machine: *//p'; }
max_glibc() { { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' || true; } | sort -uV | tail -n 1; }

for dir in "$out"/npm/*/; do
  platform="$(basename "$dir")"
  addon="$dir/sessile.$platform.node"
  test "$(readelf -h "$addon" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')" = DYN
  case "$platform" in
    *-x64-*) want='Advanced Micro Devices X86-64' ;;
    *-arm64-*) want='AArch64' ;;
    *) echo "$platform: no check written" >&2; exit 1 ;;
  esac
  test "$(machine "$addon")" = "$want" || { echo "$platform: machine $(machine "$addon")" >&2; exit 1; }
  needed="$(readelf -d "$addon" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  case "$platform" in
    *-gnu)
      glibc="$(max_glibc "$addon")"
      if [ -n "$glibc" ] && [ "$(printf '%s\n' "$glibc" GLIBC_2.17 | sort -V | tail -n 1)" != GLIBC_2.17 ]; then
        echo "$platform: needs $glibc, past manylinux2014's 2.17" >&2; exit 1
      fi
      case "$needed" in *musl*) echo "$platform: links musl ($needed)" >&2; exit 1 ;; esac ;;
    *-musl)
      case "$needed" in *musl*|*libc.so\ *|libc.so) ;; *) echo "$platform: no musl libc in ($needed)" >&2; exit 1 ;; esac
      case "$needed" in *libc.so.6*) echo "$platform: links glibc ($needed)" >&2; exit 1 ;; esac ;;
  esac
  node -e '
    const m = require(process.argv[1] + "/package.json")
    const [p, v] = process.argv.slice(2)
    if (m.name !== "sessile-" + p || m.version !== v || m.main !== "sessile." + p + ".node") throw new Error(JSON.stringify(m))
  ' "$dir" "$platform" "$version"
  echo "$platform: $(machine "$addon"), needs: $needed${glibc:+(glibc <= $glibc)}"
  glibc=""
done

main="$out/sessile"
if ls "$main"/*.node >/dev/null 2>&1; then echo "the main package holds an addon" >&2; exit 1; fi
node -e '
  const m = require(process.argv[1] + "/package.json")
  const want = require("fs").readdirSync(process.argv[2]).map((p) => "sessile-" + p).sort()
  const got = Object.keys(m.optionalDependencies || {}).sort()
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error("optionalDependencies " + got + " != " + want)
  for (const v of Object.values(m.optionalDependencies)) if (v !== m.version) throw new Error("version " + v)
' "$main" "$out/npm"

# The main tarball and this platform's, installed together; binding.js finds the addon
# in node_modules/sessile-linux-x64-gnu. The optional packages not given are absent from
# the registry, so npm skips them (optional) when offline.
cd "$work" && npm init -y >/dev/null
npm install --no-audit --no-fund --offline \
  "$out/tarballs/sessile-$version.tgz" "$out/tarballs/sessile-linux-x64-gnu-$version.tgz" >/dev/null
test -f node_modules/sessile-linux-x64-gnu/sessile.linux-x64-gnu.node
if ls node_modules/sessile/*.node >/dev/null 2>&1; then echo "installed main package holds an addon" >&2; exit 1; fi
node -e '
  const assert = require("node:assert/strict")
  const { Engine } = require("sessile")
  const e = new Engine({ capacity: 4 })
  const { token } = e.create()
  assert.equal(e.validate(token).principal, undefined)
  assert.equal(typeof require("sessile/express")({ secret: "s" }), "function")
  const loaded = Object.keys(require.cache).filter((f) => f.endsWith(".node"))
  assert.deepEqual(loaded.map((f) => f.split("node_modules/")[1]), ["sessile-linux-x64-gnu/sessile.linux-x64-gnu.node"])
'
echo "npm dist: $(ls "$out"/npm | tr '\n' ' ')built; the main package loads linux-x64-gnu from its package"
echo "linux-x64-gnu: RUN here: the main package installed with it loads its addon, smoke ok"

# linux-arm64-gnu, run: the main tarball with the arm64 one, installed by npm running on
# the arm64 Node, then that Node, under qemu-user, requires sessile.
arm64_run="linux-arm64-gnu: inspected only, not run"
if [ -z "$qemu" ]; then
  arm64_run="$arm64_run (no qemu-user folder given)"
elif [ ! -f "$qemu/ready" ]; then
  arm64_run="$arm64_run (qemu-user unavailable here: $(cat "$qemu/UNAVAILABLE" 2>/dev/null || echo "not set up"))"
else
  # $qemu/bin/node runs the arm64 node under qemu-aarch64: npm itself (this machine's
  # npm-cli.js) and the package's install script run on it, as on an arm64 machine.
  npm_cli="$(npm root -g)/npm/bin/npm-cli.js"
  mkdir "$work/arm64" && cd "$work/arm64" && npm init -y >/dev/null
  PATH="$qemu/bin:$PATH" node "$npm_cli" install --no-audit --no-fund --offline \
    "$out/tarballs/sessile-$version.tgz" "$out/tarballs/sessile-linux-arm64-gnu-$version.tgz" >/dev/null
  test -f node_modules/sessile-linux-arm64-gnu/sessile.linux-arm64-gnu.node
  if ls node_modules/sessile/*.node >/dev/null 2>&1; then echo "arm64: installed main package holds an addon" >&2; exit 1; fi
  "$qemu/bin/node" -e '
    const assert = require("node:assert/strict")
    const { Engine } = require("sessile")
    assert.equal(process.arch, "arm64")
    const e = new Engine({ capacity: 4 })
    const anon = e.create()
    const user = e.login(anon.token, "alice")
    assert.equal(e.validate(user.token).principal, "alice")
    e.logout(user.token)
    assert.throws(() => e.validate(user.token), { code: "SESSILE_SESSION_INVALID", reason: "logged_out" })
    assert.equal(typeof require("sessile/express")({ secret: "s" }), "function")
    const loaded = Object.keys(require.cache).filter((f) => f.endsWith(".node"))
    assert.deepEqual(loaded.map((f) => f.split("node_modules/")[1]), ["sessile-linux-arm64-gnu/sessile.linux-arm64-gnu.node"])
    console.log("linux-arm64-gnu: RUN under qemu-user: node " + process.version + " " + process.arch +
      " loaded sessile-linux-arm64-gnu; create, login, validate, logout, validate -> logged_out: ok")
  '
  arm64_run=""
fi
[ -z "$arm64_run" ] || echo "$arm64_run"
echo "linux-x64-musl: inspected only, not run (no musl Node here)"
cat "$out/NOT-BUILT.txt"
