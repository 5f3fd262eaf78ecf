# The Cortex-M firmware (examples/firmware/): the README flow over the core in static
# memory, run under qemu-system-arm with its output checked line by line (test), and its
# size and RAM per session against the targets of issue 17 (bench). It is its own cargo
# workspace (it only builds for the thumb targets), so it has its own lint rule too.
.PHONY: tools-firmware lint-firmware test-firmware bench-firmware firmware

TOOLS_TARGETS += tools-firmware
LINT_TARGETS += lint-firmware
TEST_TARGETS += test-firmware
BENCH_TARGETS += bench-firmware

FW_DIR := $(ROOT)/examples/firmware
FW_CARGO = cargo $(1) --locked --manifest-path $(FW_DIR)/Cargo.toml \
	--target-dir $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/firmware
# The images tested and measured: nightly (installed with rust-src by tools-core), `core`
# rebuilt with the image's own opt-level "z" (build-std), and panics as a bare trap
# instruction (panic = "immediate-abort": no panic location tables, no call into the
# panic machinery at each bounds check; src/host.rs's HardFault handler still prints
# `panic`). About 1 KiB of .text less than the stable build with panic = "abort" (2.6 KiB
# before the firmware brought its own memcpy/memset, which both builds link).
#   $(call FW_BUILD,TARGET_DIR,TARGET[,more cargo arguments])
FW_BUILD = cargo +nightly build --locked --manifest-path $(FW_DIR)/Cargo.toml --target-dir $(1) \
	--release --target $(2) -Zbuild-std=core -Zpanic-immediate-abort \
	--config 'profile.release.panic="immediate-abort"' $(3)
FW_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/firmware
FW_ELF = $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/firmware/$(1)/release/sessile-firmware
FW_M4 := thumbv7em-none-eabihf
FW_M0 := thumbv6m-none-eabi
FW_OUT := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/firmware/run.out
# Runs the Cortex-M4 image on an MPS2 AN386 board; semihosting carries the output (into
# $(FW_OUT), through a chardev: qemu's own messages stay on stderr) and the exit status.
# A hang fails at the timeout instead of blocking the suite (a run takes under a second).
#   $(call FW_RUN,IMAGE,OUTPUT)
define FW_RUN
rm -f $(2)
timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
	-chardev file,id=semihosting,path=$(2) \
	-semihosting-config enable=on,target=native,chardev=semihosting \
	-kernel $(1) </dev/null
endef
# The bench's second image: the same flow, stack painted at reset, its peak printed.
FW_STACK_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/firmware-stack
FW_STACK_ELF := $(FW_STACK_DIR)/$(FW_M4)/release/sessile-firmware
# The test's second image: src/check.rs in place of the flow, checking the assembly
# runtime functions (src/mem.rs) against plain spellings. Its own target
# folder, so that the measured image is never overwritten by it.
FW_CHECK_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/firmware-check
FW_CHECK_ELF := $(FW_CHECK_DIR)/$(FW_M4)/release/sessile-firmware

# qemu-system-arm (the emulator) and llvm (llvm-size, llvm-nm): apt-get what is missing.
# The thumb targets and nightly with rust-src (for build-std) come with tools-core.
tools-firmware: $(TOOLS)/.rust-targets
	@missing=""; \
	for p in qemu-system-arm:qemu-system-arm llvm-size:llvm llvm-nm:llvm; do \
		command -v $${p%%:*} >/dev/null || missing="$$missing $${p#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi

firmware:
	$(call FW_BUILD,$(FW_TARGET_DIR),$(FW_M4))
	$(call FW_BUILD,$(FW_TARGET_DIR),$(FW_M0))

lint-firmware:
	cargo fmt --manifest-path $(FW_DIR)/Cargo.toml -- --check
	$(call FW_CARGO,clippy) --release --target $(FW_M4) -- -D warnings
	$(call FW_CARGO,clippy) --release --target $(FW_M4) --features stack-report -- -D warnings

# The run prints exactly expected.txt and exits 0 (a failed step prints FAIL and exits
# 1); the image links no core::fmt formatting (examples/firmware/no-fmt.sh). Then the
# assembly check image (Cortex-M4; the same Thumb-1 instructions serve the Cortex-M0)
# prints exactly expected-asm-check.txt.
test-firmware: firmware
	$(call FW_RUN,$(call FW_ELF,$(FW_M4)),$(FW_OUT))
	test -s $(FW_DIR)/expected.txt
	diff -u $(FW_DIR)/expected.txt $(FW_OUT)
	$(FW_DIR)/no-fmt.sh $(call FW_ELF,$(FW_M4))
	$(FW_DIR)/no-fmt.sh $(call FW_ELF,$(FW_M0))
	$(call FW_BUILD,$(FW_CHECK_DIR),$(FW_M4),--features asm-check)
	$(call FW_RUN,$(FW_CHECK_ELF),$(FW_OUT).asm-check)
	diff -u $(FW_DIR)/expected-asm-check.txt $(FW_OUT).asm-check

# Prints the table and writes it to docs/bench-firmware.md.
bench-firmware: firmware
	$(call FW_BUILD,$(FW_STACK_DIR),$(FW_M4),--features stack-report)
	$(call FW_RUN,$(FW_STACK_ELF),$(FW_OUT).stack)
	$(FW_DIR)/bench.sh $(call FW_ELF,$(FW_M4)) $(call FW_ELF,$(FW_M0)) $(FW_OUT).stack \
		| tee $(ROOT)/docs/bench-firmware.md
