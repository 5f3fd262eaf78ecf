#!/usr/bin/env bash
# Two C demo servers (examples/c/server.c) over one Redis (SESSILE_STORE): the README flow
# across them (a login on one is valid on the other, a logout on one ends it on both),
# then the server stopped (503 with a short text, never a session nor a 5xx other than
# 503) and started again from its AOF (the same servers serve again, the session kept).
# Starts and stops its own redis-server on a unix socket in a temporary folder.
# Usage: demo-redis.sh <server-binary>
set -euo pipefail
server=$1
work=$(mktemp -d)
pids=()
redis=
cleanup() {
    for p in "${pids[@]}" $redis; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "demo-redis.sh: FAIL: $*" >&2
    for f in "$work"/err*; do echo "--- $f:" >&2; cat "$f" >&2; done
    exit 1
}
command -v redis-server >/dev/null || fail "redis-server is missing (make tools-redis installs it)"

start_redis() {
    rm -f "$work/redis.sock"
    redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 --dir "$work" --save '' \
        --appendonly yes --appendfsync always --daemonize no --loglevel warning --logfile "$work/redis.log" &
    redis=$!
    for _ in $(seq 200); do [ -S "$work/redis.sock" ] && break; sleep 0.05; done
    [ -S "$work/redis.sock" ] || fail "redis-server did not start"
}
start_redis

export SESSILE_STORE="unix://$work/redis.sock" SESSILE_STORE_PREFIX=c-demo
export SESSILE_STORE_KEY=5e5511e05e5511e05e5511e05e5511e05e5511e05e5511e05e5511e05e5511e0
ports=()
for i in 1 2; do
    PORT=0 "$server" >"$work/out$i" 2>"$work/err$i" &
    pids+=($!)
    for _ in $(seq 100); do grep -q '^listening on ' "$work/out$i" 2>/dev/null && break; sleep 0.05; done
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out$i")
    [ -n "$port" ] || fail "server $i did not start"
    ports+=("$port")
done
one="http://127.0.0.1:${ports[0]}" two="http://127.0.0.1:${ports[1]}"
jar="$work/jar"

status() {
    local want=$1; shift
    local got
    got=$(curl -sS --max-time 5 -o "$work/body" -w '%{http_code}' "$@") || fail "curl $* exited $?"
    [ "$got" = "$want" ] || fail "curl $* -> $got (wanted $want): $(cat "$work/body")"
}

status 200 -c "$jar" -b "$jar" "$one/"
status 200 -c "$jar" -b "$jar" -d 'username=alice&password=alice' "$two/login"
status 200 -b "$jar" "$one/profile"
grep -q alice "$work/body" || fail "profile on the other server does not name alice"
status 200 -b "$jar" "$two/sessions"
grep -q '"count": 1' "$work/body" || fail "sessions: $(cat "$work/body")"

# The store stops: every route that needs it answers 503 with a short text.
kill "$redis"; wait "$redis" 2>/dev/null || true
status 503 -b "$jar" "$one/profile"
grep -qx 'session store unavailable' "$work/body" || fail "503 body: $(cat "$work/body")"
status 503 -b "$jar" "$two/"
status 503 -c "$work/jar-down" "$one/"
status 503 -b "$jar" -d 'username=bob&password=bob' "$two/login"
status 503 -b "$jar" -X POST "$one/logout"
status 503 -b "$jar" -X POST "$two/logout-everywhere"

# Back (from its AOF): the same processes serve the same session again.
start_redis
status 200 -b "$jar" "$two/profile"
grep -q alice "$work/body" || fail "profile after the restart does not name alice"
cp "$jar" "$work/old-jar"
status 200 -c "$jar" -b "$jar" -X POST "$one/logout"
status 401 -b "$work/old-jar" "$two/profile"
grep -q 'sessile-event reuse_after_logout session=[0-9a-f]\{16\}' "$work/err2" ||
    fail "no reuse_after_logout event on the server that saw the reuse"

for p in "${pids[@]}"; do kill "$p"; wait "$p" || fail "a server exited with an error on SIGTERM"; done
pids=()
echo "demo-redis.sh: two servers over one Redis: shared login and logout, 503 while it is down, recovery"
