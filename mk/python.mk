# The Python binding (bindings-python/, PyPI name `sessile`) and its Flask demo.
# Everything is installed into $(VENV) from PyPI; stamps keep repeated runs fast.

PY_DIR := bindings-python
PY_STAMP_TOOLS := $(VENV)/.sessile-python-tools
# maturin develop writes the extension into the source tree (ignored by git) and points
# $(VENV) at the package there; the file itself is the build's stamp.
PY_NATIVE := $(PY_DIR)/python/sessile/_native.abi3.so
PY_RUST_SOURCES := $(wildcard core/src/*.rs core/src/*/*.rs $(PY_DIR)/src/*.rs stores/*/src/*.rs stores/redis/src/lua/*.lua) \
	core/Cargo.toml stores/backend/Cargo.toml stores/redis/Cargo.toml Cargo.toml Cargo.lock \
	$(PY_DIR)/Cargo.toml $(PY_DIR)/pyproject.toml
PY_LINT_PATHS := $(PY_DIR)/python $(PY_DIR)/tests $(PY_DIR)/bench examples/python

.PHONY: tools-python lint-python test-python bench-python demo-python

TOOLS_TARGETS += tools-python
LINT_TARGETS += lint-python
TEST_TARGETS += test-python
BENCH_TARGETS += bench-python

$(PY_STAMP_TOOLS): $(PY_DIR)/requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements-dev.txt
	touch $@

# The extension, built by maturin and installed (editable: the pure-Python package is
# used from the source tree) into $(VENV). Rebuilt only when Rust sources change.
$(PY_NATIVE): $(PY_STAMP_TOOLS) $(PY_RUST_SOURCES)
	cd $(PY_DIR) && VIRTUAL_ENV=$(VENV) nice $(VENV)/bin/maturin develop --release --quiet
	touch $@

tools-python: $(PY_NATIVE)

lint-python: tools-python
	$(VENV)/bin/ruff check --no-cache $(PY_LINT_PATHS)
	$(VENV)/bin/ruff format --no-cache --check $(PY_LINT_PATHS)
	cd $(PY_DIR) && MYPY_CACHE_DIR=$(VENV)/mypy-cache $(VENV)/bin/mypy --strict python/sessile
	cargo fmt -p sessile-python -- --check

# Its Redis tests start their own redis-server (Debian's, installed by tools-redis).
test-python: tools-python tools-redis
	cd $(PY_DIR) && MYPY_CACHE_DIR=$(VENV)/mypy-cache $(PY) -m mypy.stubtest sessile._native
	cd $(PY_DIR) && $(PY) -m pytest -q -p no:cacheprovider tests

bench-python: tools-python tools-redis
	$(PY) $(PY_DIR)/bench/bench.py
	$(PY) $(PY_DIR)/bench/bench_redis.py

# make demo DEMO=python: one process, sessions in its own table. STORE=redis: gunicorn
# with $(WORKERS) workers over one Redis (SESSILE_STORE, or a redis-server the demo starts
# on a unix socket in a temporary folder and stops on exit; a store key per run unless
# SESSILE_STORE_KEY is given).
STORE ?= memory
WORKERS ?= 4
export WORKERS

demo-python: tools-python
ifeq ($(STORE),redis)
	@command -v redis-server >/dev/null || [ -n "$${SESSILE_STORE:-}" ] || $(MAKE) tools-redis
	$(PY) examples/python/serve_gunicorn.py
else
	$(PY) examples/python/app.py
endif

# The path users take: `maturin build` makes the abi3 wheel (reusing the develop build's
# compiled crates), then check-install.sh installs it into a fresh venv, checks what it
# ships (licences, stubs, version) and runs the whole suite against the installed copy;
# then `pip install ./bindings-python` (the README's route) into another fresh venv.
# Network: the test frameworks come from PyPI (or pip's cache).
PY_WHEELHOUSE := $(ROOT)/target/python-wheel
.PHONY: test-python-install
TEST_TARGETS += test-python-install
test-python-install: tools-python
	rm -rf $(PY_WHEELHOUSE)
	cd $(PY_DIR) && VIRTUAL_ENV=$(VENV) nice $(VENV)/bin/maturin build --release --quiet --out $(PY_WHEELHOUSE)
	$(PY_DIR)/scripts/check-install.sh $(PY_WHEELHOUSE)/sessile-*.whl $(REL_VERSION)
