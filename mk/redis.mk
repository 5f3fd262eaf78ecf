# The Redis/Valkey store (stores/redis, crate sessile-redis). Its tests talk to a real
# server: test-core (and test-redis, its Redis crates alone) starts its own redis-server
# on a unix socket in a temporary folder (no snapshots, no AOF, no TCP port), points the
# tests at it with SESSILE_REDIS_URL and stops it when they end, passed or not. Tests that
# stop, hang or restart a server start their own the same way.
.PHONY: tools-redis test-redis

TOOLS_TARGETS += tools-redis

# Debian's redis-server (7.0 on bookworm), apt-get only when it is missing.
# openssl makes the throwaway certificates of the rediss:// test.
tools-redis:
	@missing=""; \
	for p in redis-server:redis-server openssl:openssl; do \
		command -v $${p%%:*} >/dev/null || missing="$$missing $${p#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi

# $(call WITH_REDIS,command): runs command with SESSILE_REDIS_URL naming a redis-server of
# its own on a unix socket in a temporary folder, stopped when the command ends.
define WITH_REDIS
dir=$$(mktemp -d); \
redis-server --port 0 --unixsocket $$dir/redis.sock --unixsocketperm 700 --dir $$dir \
	--save '' --appendonly no --daemonize no --loglevel warning >$$dir/redis.log 2>&1 & \
pid=$$!; \
trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf "$$dir"' EXIT; \
for _ in $$(seq 200); do [ -S $$dir/redis.sock ] && break; sleep 0.05; done; \
SESSILE_REDIS_URL=unix://$$dir/redis.sock $(1)
endef

# make test runs these in test-core (one build of the workspace's tests); alone:
test-redis: tools-redis
	$(call WITH_REDIS,cargo test -p sessile-redis -p sessile-backend)
