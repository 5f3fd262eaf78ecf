# Fuzzing (cargo fuzz, nightly). fuzz/ is its own cargo workspace, outside the root one.
#   make test-fuzz-smoke   part of `make test`, deterministic: replays fuzz/seeds/ and
#                          fuzz/regressions/, then fuzzes each target with libFuzzer seed
#                          FUZZ_SMOKE_SEED for exactly FUZZ_SMOKE_RUNS executions from a
#                          temporary copy of its seeds (about half a minute on 2 cores).
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="cookie_parse token_decode ops"]
#                          exploratory: a random seed (printed) for FUZZ_SECONDS per target,
#                          corpus kept in fuzz/corpus/ (not committed).
# A crash in either is copied into fuzz/regressions/<target>/: commit it (fuzz/README.md).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SEED ?= 1
FUZZ_SMOKE_RUNS ?= 20000
FUZZ_TARGETS ?= cookie_parse token_decode ops

.PHONY: tools-fuzz lint-fuzz test-fuzz-smoke fuzz

TOOLS_TARGETS += tools-fuzz
LINT_TARGETS += lint-fuzz
TEST_TARGETS += test-fuzz-smoke

# cargo-fuzz only drives cargo and libFuzzer: its own debug build does the same, and
# compiles in a fraction of the time of the optimised one (make test installs it).
$(TOOLS)/.cargo-fuzz:
	cargo +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
	cargo install cargo-fuzz --locked --debug --root $(TOOLS)
	mkdir -p $(TOOLS) && touch $@

tools-fuzz: $(TOOLS)/.cargo-fuzz

lint-fuzz:
	cd fuzz && cargo fmt -- --check

# The seed is passed to libFuzzer as -seed=$(FUZZ_SMOKE_SEED) (fuzz/run.sh).
test-fuzz-smoke: tools-fuzz
	fuzz/run.sh test $(FUZZ_SMOKE_SEED) $(FUZZ_SMOKE_RUNS) $(FUZZ_TARGETS)

fuzz: tools-fuzz
	fuzz/run.sh explore $(FUZZ_SECONDS) $(FUZZ_TARGETS)
