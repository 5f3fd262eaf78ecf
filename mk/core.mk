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
	cargo clippy --workspace --all-targets -- -D warnings

test-core:
	cargo test --workspace

# The core with no allocator at all, for bare-metal targets; alloc without std; and the
# engine on caller-owned arrays run on the host with no features (no heap in the crate).
test-nostd:
	for t in $(THUMB_TARGETS); do cargo build -p sessile --no-default-features --target $$t; done
	cargo build -p sessile --no-default-features --features alloc --target thumbv7em-none-eabihf
	cargo build -p sessile --no-default-features --features alloc --target thumbv6m-none-eabi
	cargo test -p sessile --no-default-features --test slice_storage

# The core's unit tests under miri (undefined behaviour, out-of-bounds, leaks), chosen to
# run in a few minutes. Skipped there, and run natively by test-core:
# - the exhaustive arithmetic tables (every wheel level/slot/boundary/elapsed pair, every
#   foreign byte at every token position, every cookie attribute combination), which take
#   hours interpreted and reach no code path the other tests do not;
# - four long randomised or stress loops whose assertions are on totals over thousands of
#   rounds (wheel vs reference, wheel with corrupted links, cookie parser fuzz, tombstone
#   ring wrapping 8 times); the scenario tests of the same modules do run under miri.
# The index churn test runs with fewer rounds under cfg(miri).
MIRI_SKIP := wheel::tests::level_for wheel::tests::next_occupied wheel::tests::placement \
	wheel::tests::slot_for token::tests::every_foreign_byte cookie::tests::every_attribute_combination \
	wheel::tests::randomised wheel::tests::corrupted_links cookie::tests::fuzz \
	tombstone::tests::exactly_the_newest_are_found_after_many_wraps
test-miri:
	MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test -p sessile --lib -- $(addprefix --skip ,$(MIRI_SKIP))

# sessile vs a naive HashMap store, same run: prints the table, writes docs/bench-core.md
# and docs/bench-core.png (a few minutes on 2 cores, release build included).
bench-core:
	cargo run --release -p sessile-bench -- --out $(ROOT)/docs

demo-rust:
	cargo run --release -p sessile-demo
