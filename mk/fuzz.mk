# Fuzzing (cargo fuzz, nightly). fuzz/ is its own cargo workspace, outside the root one.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="cookie_parse token_decode ops"]
# `make test` runs test-fuzz-smoke: every regression input, then a few seconds per target.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS ?= cookie_parse token_decode ops

.PHONY: tools-fuzz lint-fuzz test-fuzz-smoke fuzz

TOOLS_TARGETS += tools-fuzz
LINT_TARGETS += lint-fuzz
TEST_TARGETS += test-fuzz-smoke

$(TOOLS)/.cargo-fuzz:
	cargo +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
	cargo install cargo-fuzz --locked --root $(TOOLS)
	mkdir -p $(TOOLS) && touch $@

tools-fuzz: $(TOOLS)/.cargo-fuzz

lint-fuzz:
	cd fuzz && cargo fmt -- --check

test-fuzz-smoke: tools-fuzz
	fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz: tools-fuzz
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
