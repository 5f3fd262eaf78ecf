# The Node binding (bindings-node/, npm name `sessile`) and its Express demo.
# npm packages go into bindings-node/node_modules and examples/node/node_modules (from
# the committed lockfiles); the addon is built by @napi-rs/cli into target/napi-node,
# whose generated index.d.ts and binding.js must equal the committed ones; options.d.ts,
# the types of the engine's options, is generated from the built addon's configKeys().

NODE_DIR := bindings-node
NODE_DEMO_DIR := examples/node
NODE_GEN := $(ROOT)/target/napi-node
NODE_ADDON := $(NODE_DIR)/sessile.linux-x64-gnu.node
NODE_STAMP_TOOLS := $(NODE_DIR)/node_modules/.sessile-tools
NODE_STAMP_DEMO := $(NODE_DEMO_DIR)/node_modules/.sessile-demo
NODE_RUST_SOURCES := $(wildcard core/src/*.rs core/src/*/*.rs $(NODE_DIR)/src/*.rs stores/*/src/*.rs stores/*/src/lua/*.lua) \
	core/Cargo.toml stores/backend/Cargo.toml stores/redis/Cargo.toml Cargo.toml Cargo.lock \
	$(NODE_DIR)/Cargo.toml $(NODE_DIR)/build.rs $(NODE_DIR)/dts-header.d.ts $(NODE_DIR)/package.json

.PHONY: tools-node lint-node test-node bench-node demo-node node-regen

TOOLS_TARGETS += tools-node
LINT_TARGETS += lint-node
TEST_TARGETS += test-node
BENCH_TARGETS += bench-node

$(NODE_STAMP_TOOLS): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The stamp carries the time the build started: a source edited during the build is newer.
# Stripped as the package's install script strips a build from source (the profile's
# strip, not napi's --strip, which sets RUSTFLAGS): the same flags, so the fresh-install
# check (scripts/check-fresh-install.sh) reuses this build's dependencies.
$(NODE_GEN)/.stamp: $(NODE_STAMP_TOOLS) $(NODE_RUST_SOURCES)
	rm -rf $(NODE_GEN) && mkdir -p $(NODE_GEN) && touch $(NODE_GEN)/.started
	cd $(NODE_DIR) && CARGO_PROFILE_RELEASE_STRIP=symbols nice npx napi build --platform --release \
		--output-dir $(NODE_GEN) --js binding.js --dts index.d.ts
	mv $(NODE_GEN)/.started $@

# Replaced by rename, never rewritten in place: a running process may have it mapped.
$(NODE_ADDON): $(NODE_GEN)/.stamp
	cp $(NODE_GEN)/sessile.linux-x64-gnu.node $@.tmp && mv -f $@.tmp $@

$(NODE_STAMP_DEMO): $(NODE_DEMO_DIR)/package.json $(NODE_DEMO_DIR)/package-lock.json $(NODE_ADDON)
	cd $(NODE_DEMO_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tools-node: $(NODE_ADDON) $(NODE_STAMP_DEMO)

# Copy freshly generated index.d.ts / binding.js over the committed ones; options.d.ts
# from the core's config vocabulary as the addon lists it.
node-regen: $(NODE_GEN)/.stamp $(NODE_ADDON)
	cp $(NODE_GEN)/index.d.ts $(NODE_GEN)/binding.js $(NODE_DIR)/
	node $(NODE_DIR)/scripts/options-dts.js

lint-node: tools-node
	@for f in index.d.ts binding.js; do \
		cmp -s $(NODE_GEN)/$$f $(NODE_DIR)/$$f || { echo "$(NODE_DIR)/$$f differs from a fresh napi build: run 'make node-regen'"; exit 1; }; \
	done
	node $(NODE_DIR)/scripts/options-dts.js --check
	cd $(NODE_DIR) && npx tsc -p tsconfig.json
	cargo fmt -p sessile-node -- --check

# The Redis tests start their own redis-server (examples/node/redis.js): tools-redis.
test-node: tools-node tools-redis
	cd $(NODE_DIR) && node --test test/
	$(NODE_DIR)/scripts/check-install.sh

bench-node: tools-node tools-redis
	node $(NODE_DIR)/bench/bench.js
	node $(NODE_DIR)/bench/bench-redis.js

# STORE=redis: a 4-worker cluster over one redis-server (started by cluster.js unless
# SESSILE_STORE is given).
demo-node: tools-node $(if $(filter redis,$(STORE)),tools-redis)
	cd $(NODE_DEMO_DIR) && node $(if $(filter redis,$(STORE)),cluster.js,server.js)

# A fresh clone, no make step first: `npm install <clone>/bindings-node` builds the addon
# from source through the package's install script, and npm pack of the result installs
# into another new project and loads (scripts/check-fresh-install.sh). Needs no
# tools-node: that is the point. Incremental after the first run (target/npm-fresh).
.PHONY: test-node-fresh-install
TEST_TARGETS += test-node-fresh-install
test-node-fresh-install:
	nice $(NODE_DIR)/scripts/check-fresh-install.sh $(ROOT) $(REL_VERSION)

# express-session's own test suite (1.19.0) against sessile/express: `make test-peers`,
# not part of `make test`. Its tests are neither in this repository nor in the npm package,
# only in its git repository: the target fetches the 1.19.0 tag with git (from GitHub,
# once; EXPRESS_SESSION_GIT may name a local clone or mirror instead) into .tools/peers/
# (ignored) and checks the commit. `make test` needs no GitHub access (the machines CI
# runs on have none), so the suite cannot be on its path.
# bindings-node/peer/run-express-session.js runs it (mocha, supertest, express 4:
# devDependencies) and fails on any failure not documented in bindings-node/README.md.
EXPRESS_SESSION_GIT ?= https://github.com/expressjs/session.git
EXPRESS_SESSION_COMMIT := c10b2a383841766899f6dcf53c8aff8c7fd3d2e7
NODE_PEER_ES := $(TOOLS)/peers/express-session-1.19.0

.PHONY: test-node-peer

$(NODE_PEER_ES).stamp:
	rm -rf $(NODE_PEER_ES) && mkdir -p $(NODE_PEER_ES)
	git -C $(NODE_PEER_ES) init -q
	git -C $(NODE_PEER_ES) fetch -q --depth 1 $(EXPRESS_SESSION_GIT) tag v1.19.0 || { \
		echo "could not fetch express-session's tests from $(EXPRESS_SESSION_GIT) (needs github.com once);" \
			"give a local clone: make test-peers EXPRESS_SESSION_GIT=/path/to/expressjs/session" >&2; exit 1; }
	test "$$(git -C $(NODE_PEER_ES) rev-parse 'v1.19.0^{commit}')" = $(EXPRESS_SESSION_COMMIT)
	git -C $(NODE_PEER_ES) checkout -q --detach $(EXPRESS_SESSION_COMMIT)
	touch $@

PEER_TARGETS += test-node-peer
test-node-peer: tools-node $(NODE_PEER_ES).stamp
	node $(NODE_DIR)/peer/run-express-session.js $(NODE_PEER_ES)

# An Express app in TypeScript written as @types/express-session users write theirs
# (SessionData augmented, req.session's methods), compiled with tsc --strict.
.PHONY: test-node-types
TEST_TARGETS += test-node-types
test-node-types: tools-node
	cd $(NODE_DIR) && npx tsc -p test/types/tsconfig.json
