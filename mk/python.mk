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
PY_LINT_PATHS := $(PY_DIR)/python $(PY_DIR)/tests $(PY_DIR)/bench $(PY_DIR)/peers examples/python \
	examples/fastapi

.PHONY: tools-python lint-python test-python bench-python demo-python peer-flask-session

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

# Starlette's own session tests, run against sessile (bindings-python/peers/README.md):
# its sdist (the version pinned in requirements-dev.txt, checked against this hash) is
# fetched once by pip and only its tests/ and pyproject.toml are kept, in $(VENV), never
# in git; `make test-python` then needs no network.
PEER_DIR := $(VENV)/peers
STARLETTE_VERSION := $(shell sed -n 's/^starlette==//p' $(PY_DIR)/requirements-dev.txt)
STARLETTE_SDIST_SHA256 := b8399098d4c1e3522734f7235dc79b1fc967f96cf139c81e0fa30479e0685f9b
PEER_STARLETTE := $(PEER_DIR)/starlette-$(STARLETTE_VERSION)

$(PEER_STARLETTE)/.ok: | $(PY_STAMP_TOOLS)
	rm -rf $(PEER_STARLETTE) $(PEER_DIR)/starlette-$(STARLETTE_VERSION).tar.gz
	mkdir -p $(PEER_DIR)
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
		-d $(PEER_DIR) starlette==$(STARLETTE_VERSION)
	echo "$(STARLETTE_SDIST_SHA256)  $(PEER_DIR)/starlette-$(STARLETTE_VERSION).tar.gz" | sha256sum -c --quiet
	tar -xzf $(PEER_DIR)/starlette-$(STARLETTE_VERSION).tar.gz -C $(PEER_DIR) \
		starlette-$(STARLETTE_VERSION)/tests starlette-$(STARLETTE_VERSION)/pyproject.toml
	touch $@

tools-python: $(PY_NATIVE) $(PEER_STARLETTE)/.ok

lint-python: tools-python
	$(VENV)/bin/ruff check --no-cache $(PY_LINT_PATHS)
	$(VENV)/bin/ruff format --no-cache --check $(PY_LINT_PATHS)
	cd $(PY_DIR) && MYPY_CACHE_DIR=$(VENV)/mypy-cache $(VENV)/bin/mypy --strict python/sessile
	cargo fmt -p sessile-python -- --check

# Its Redis tests start their own redis-server (Debian's, installed by tools-redis).
test-python: tools-python tools-redis
	cd $(PY_DIR) && MYPY_CACHE_DIR=$(VENV)/mypy-cache $(PY) -m mypy.stubtest sessile._native
	cd $(PY_DIR) && $(PY) -m pytest -q -p no:cacheprovider tests
	cd $(PEER_STARLETTE) && PYTHONPATH=$(ROOT)/$(PY_DIR)/peers $(PY) -m pytest -q -p no:cacheprovider \
		-p sessile_peer_starlette tests/middleware/test_session.py

# Flask-Session's generic checks against sessile.flask (bindings-python/peers/README.md).
# Its sdist has no tests: give the tests/ of a checkout of the pinned tag,
#   make peer-flask-session FLASK_SESSION_TESTS=/path/to/flask-session/tests
PEER_TARGETS += peer-flask-session
peer-flask-session: tools-python
	cd $(PY_DIR)/peers && FLASK_SESSION_TESTS="$(FLASK_SESSION_TESTS)" PYTHONPATH=. $(PY) -m pytest \
		-q -p no:cacheprovider -p sessile_peer_flask_session test_flask_session_generic.py

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
