# One end-to-end suite over every demo server (tests/e2e/run.py, curl over 127.0.0.1).
# Each area's demo is added here once it exists; the suite runs every scenario on each.
.PHONY: test-e2e e2e-demos
TEST_TARGETS += test-e2e

E2E_SERVERS := rust=$(ROOT)/target/debug/sessile-demo c=$(C_BUILD)/server \
	"python=$(VENV)/bin/python examples/python/app.py" "node=node examples/node/server.js" \
	"django=$(VENV)/bin/python examples/django/app.py"

e2e-demos: $(C_BUILD)/server tools-python tools-node
	cargo build -p sessile-demo

test-e2e: e2e-demos
	python3 tests/e2e/run.py $(E2E_SERVERS)
