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

# The core with no allocator at all, for bare-metal targets.
test-nostd:
	for t in $(THUMB_TARGETS); do cargo build -p sessile --no-default-features --target $$t; done
	cargo build -p sessile --no-default-features --features alloc --target thumbv7em-none-eabihf

# The core's unit tests under miri (the exhaustive wheel tables are too slow there and are
# pure arithmetic without memory access worth checking; they run natively above).
test-miri:
	MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test -p sessile --lib -- --skip wheel::tests::level_for --skip wheel::tests::next_occupied --skip wheel::tests::placement --skip wheel::tests::randomised --skip wheel::tests::slot_for --skip cookie::tests::fuzz

bench-core:
	@echo "(core benchmarks not wired yet)"

demo-rust:
	cargo run --release -p sessile-demo
