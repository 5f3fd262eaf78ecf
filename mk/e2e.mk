# One end-to-end suite over every demo server (tests/e2e/run.py, curl over 127.0.0.1).
.PHONY: test-e2e
TEST_TARGETS += test-e2e

E2E_SERVERS := rust=$(ROOT)/target/debug/sessile-demo

test-e2e:
	cargo build -p sessile-demo
	python3 tests/e2e/run.py $(E2E_SERVERS)
