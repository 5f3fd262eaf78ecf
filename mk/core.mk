# The core crate and the Rust demo.
THUMB_TARGETS := thumbv7em-none-eabihf thumbv6m-none-eabi

.PHONY: tools-core lint-core test-core test-nostd test-miri bench-core demo-rust

TOOLS_TARGETS += tools-core
LINT_TARGETS += lint-core
TEST_TARGETS += test-core test-nostd test-miri
BENCH_TARGETS += bench-core

$(TOOLS)/.rust-targets:
	rustup target add $(THUMB_TARGETS)
	rustup component add --toolchain nightly miri rust-src
	mkdir -p $(TOOLS) && touch $@

tools-core: $(TOOLS)/.rust-targets

lint-core:
	cargo fmt --all -- --check
	# With the bench-only exports of the C library (which nothing else builds) in the same
	# pass: a second clippy of the C crate alone rechecked the core in its own feature set.
	cargo clippy --workspace --all-targets --features sessile-c/bench -- -D warnings

# Every crate's tests, the Redis store's too, against a redis-server of their own (started
# and stopped by WITH_REDIS, mk/redis.mk): one build of the workspace's tests.
# The core's tests twice: in the default build and with the feature `narrow` (16-bit slot
# links, chain heads, wheel links and index cells, as the firmware builds it): every rule
# must answer the same on both widths (unit tests, the model, the vectors, the width
# limits in tests/widths.rs).
test-core: tools-redis
	$(call WITH_REDIS,cargo test --workspace)
	cargo test -p sessile --features narrow

# The core with no allocator at all, for bare-metal targets; alloc without std; snapshots
# without std or alloc; and the engine on caller-owned arrays run on the host with no
# features (no heap in the crate).
test-nostd:
	for t in $(THUMB_TARGETS); do cargo build -p sessile --no-default-features --target $$t; done
	cargo build -p sessile --no-default-features --features alloc --target thumbv7em-none-eabihf
	cargo build -p sessile --no-default-features --features alloc --target thumbv6m-none-eabi
	cargo build -p sessile --no-default-features --features snapshot --target thumbv7em-none-eabihf
	cargo test -p sessile --no-default-features --test slice_storage
	for t in $(THUMB_TARGETS); do cargo build -p sessile --no-default-features --features narrow --target $$t; done
	cargo test -p sessile --no-default-features --features narrow --test slice_storage

# The core's unit tests under miri (undefined behaviour, out-of-bounds, leaks), chosen to
# run in about three minutes here: the modules that do the table's memory bookkeeping (engine, slot
# lists, index, pool, tombstones, event ring, token codec, config). Run natively only, by
# test-core: the exhaustive arithmetic tables and long randomised loops (hours when
# interpreted), and the wheel and cookie modules, which are pure index arithmetic over
# slices and are also fuzzed under AddressSanitizer (make test-fuzz-smoke: ops, cookie_parse).
# A few long tests (the index churn, the token digest against decode, SipHash's splits)
# run fewer rounds under cfg(miri); test-core runs them in full.
MIRI_MODULES := engine:: slot:: index:: pool:: tombstone:: event:: token:: config:: idgen::
MIRI_SKIP := token::tests::every_foreign_byte token::tests::digest_of_text_refuses_every_foreign_byte \
	tombstone::tests::exactly_the_newest_are_found_after_many_wraps
# Once, in the default build. The core forbids `unsafe`, so what miri checks is the unsafe
# code of its dependencies (heapless, hashbrown, chacha20, zeroize) as the core calls it;
# the feature `narrow` changes only the core's own (safe) integer widths, not which of that
# code runs, and test-core runs every test natively on both widths with overflow checks.
# (A second, narrow, miri run cost 166 s of make test's 1,200 s budget for no more of it.)
test-miri:
	MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test -p sessile --lib -- $(MIRI_MODULES) $(addprefix --skip ,$(MIRI_SKIP))

# sessile vs a naive HashMap store, same run: prints the table, writes docs/bench-core.md
# and docs/bench-core.png (about a minute on 2 cores, plus the release build).
bench-core:
	cargo run --release -p sessile-bench -- --out $(ROOT)/docs

demo-rust:
	cargo run --release -p sessile-demo
