#!/usr/bin/env bash
# Drive the C demo server (examples/c/server.c) through the curl flow of
# tests/e2e/README.md, plus a session fixation attempt, while idle and half-sent
# connections stay open (a browser's spare connections must not stall anyone).
# Usage: demo.sh <server-binary>
set -euo pipefail
server=$1
work=$(mktemp -d)
pid=
idle=()
cleanup() {
    for fd in "${idle[@]}"; do exec {fd}>&-; done
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "demo.sh: FAIL: $*" >&2; echo "--- server stderr:" >&2; cat "$work/err" >&2 || true; exit 1; }

# PORT=0: the server binds a free port and names it.
PORT=0 "$server" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out")
[ -n "$port" ] || fail "server did not start"
base="http://127.0.0.1:$port"
jar="$work/jar"

# Connections that send nothing, or a partial request line and then nothing, held open
# through the whole flow. With --max-time 3 below, a server that waits on one of them
# before answering the others fails the flow.
for partial in "" "" "GET / HT"; do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    idle+=("$fd")
    printf '%s' "$partial" >&"$fd"
done

# status <expected> <curl args...>: run curl, check the status, keep the body in $work/body.
status() {
    local want=$1; shift
    local got
    got=$(curl -sS --max-time 3 -o "$work/body" -w '%{http_code}' "$@") ||
        fail "curl $* exited $? (stalled or refused?)"
    [ "$got" = "$want" ] || fail "curl $* -> $got (wanted $want): $(cat "$work/body")"
}

# The README flow.
status 200 -c "$jar" -b "$jar" "$base/"
grep -q '__Host-sid' "$jar" || fail "GET / set no __Host-sid cookie"
status 401 -c "$jar" -b "$jar" -d 'username=alice&password=wrong' "$base/login"
status 400 -c "$jar" -b "$jar" -d 'username=alice' "$base/login"
status 200 -c "$jar" -b "$jar" -d 'username=alice&password=alice' "$base/login"
grep -q alice "$work/body" || fail "login body does not name alice"
status 200 -b "$jar" "$base/profile"
grep -q alice "$work/body" || fail "profile body does not name alice"
status 200 -b "$jar" "$base/sessions"
grep -q '"count": 1' "$work/body" || fail "sessions: $(cat "$work/body")"
cp "$jar" "$work/old-jar"
status 200 -c "$jar" -b "$jar" -X POST "$base/logout"
status 401 -b "$work/old-jar" "$base/profile"
grep -q 'sessile-event reuse_after_logout session=[0-9a-f]\{16\}' "$work/err" ||
    fail "no reuse_after_logout event logged"
status 200 -X POST "$base/logout"

# Fixation: the attacker gets an anonymous token and plants it in the victim's browser.
# The victim logs in; the planted token must not become authenticated.
planted=$(curl -sS --max-time 3 -D - -o /dev/null "$base/" | sed -n 's/^Set-Cookie: __Host-sid=\([^;]*\);.*/\1/p')
[ -n "$planted" ] || fail "no token for the attacker"
status 200 -H "Cookie: __Host-sid=$planted" -D "$work/headers" -d 'username=bob&password=bob' "$base/login"
issued=$(sed -n 's/^Set-Cookie: __Host-sid=\([^;]*\);.*/\1/p' "$work/headers")
[ -n "$issued" ] && [ "$issued" != "$planted" ] || fail "login kept the planted token"
status 401 -H "Cookie: __Host-sid=$planted" "$base/profile"
status 200 -H "Cookie: __Host-sid=$issued" "$base/profile"
grep -q bob "$work/body" || fail "victim's profile does not name bob"
# An attacker-chosen token that was never issued is never adopted either.
status 200 -H "Cookie: __Host-sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" -D "$work/headers" \
    -d 'username=bob&password=bob' "$base/login"
grep -q 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' "$work/headers" && fail "adopted a chosen token"

# Cookie tossing: a second copy of the cookie planted beside the user's (here the dead
# pre-login token) does not lock the user out; copies naming two live sessions end both.
status 200 -H "Cookie: __Host-sid=$planted; __Host-sid=$issued" "$base/profile"
grep -q bob "$work/body" || fail "profile with a planted copy does not name bob"
other=$(curl -sS --max-time 3 -D - -o /dev/null "$base/" | sed -n 's/^Set-Cookie: __Host-sid=\([^;]*\);.*/\1/p')
[ -n "$other" ] || fail "no second live session"
status 401 -H "Cookie: __Host-sid=$other; __Host-sid=$issued" "$base/profile"
grep -q 'sessile-event duplicate_cookie session=[0-9a-f]\{16\}' "$work/err" ||
    fail "no duplicate_cookie event logged"
status 401 -H "Cookie: __Host-sid=$issued" "$base/profile"

# Hostile cookies are "no session", never a 5xx.
status 401 -H "Cookie: __Host-sid=a; __Host-sid=b" "$base/profile"
status 401 -H "Cookie: $(head -c 20000 /dev/zero | tr '\0' a)" "$base/profile"
status 404 "$base/nowhere"

# The held connections are dropped by the server's request deadline, not kept forever.
for fd in "${idle[@]}"; do
    timeout 10 cat <&"$fd" >/dev/null || fail "an idle connection was still open after 10 s"
done

kill "$pid"; wait "$pid" || fail "server exited with an error on SIGTERM"
pid=
echo "demo.sh: login / profile / logout / fixation flow passed on port $port"
