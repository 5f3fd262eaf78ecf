# One end-to-end suite over every demo server (tests/e2e/run.py, curl over 127.0.0.1).
# Each area's demo is added here once it exists; the suite runs every scenario on each.
.PHONY: test-e2e e2e-demos
TEST_TARGETS += test-e2e

E2E_SERVERS := rust=$(or $(CARGO_TARGET_DIR),$(ROOT)/target)/debug/sessile-demo c=$(C_BUILD)/server \
	"python=$(VENV)/bin/python examples/python/app.py" "node=node examples/node/server.js" \
	"django=$(VENV)/bin/python examples/django/app.py" \
	"fastapi=$(VENV)/bin/python examples/fastapi/app.py"

e2e-demos: $(C_BUILD)/server tools-python tools-node
	cargo build -p sessile-demo

# The same suite with every server's sessions in one redis-server (started by run.py on a
# unix socket in a temporary folder), plus the scenarios that need several processes.
E2E_REDIS_SERVERS := c=$(C_BUILD)/server "node-cluster=node examples/node/cluster.js" \
	"python-gunicorn=$(VENV)/bin/python examples/python/serve_gunicorn.py"

test-e2e: e2e-demos tools-redis
	python3 tests/e2e/run.py $(E2E_SERVERS)
	python3 tests/e2e/run.py --redis $(E2E_REDIS_SERVERS)
