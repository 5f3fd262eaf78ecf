# Statistical checks of session IDs drawn through every binding (not part of `make test`).
#   make randomness [RANDOMNESS_MIB=10] [RANDOMNESS_BINDINGS="rust python node c"]
# Figures go to docs/RANDOMNESS.md; exits non-zero when a check fails.
RANDOMNESS_MIB ?= 10
RANDOMNESS_BINDINGS ?= rust python node c
RANDOMNESS_DIEHARDER ?= 0,8,10,11,100
RANDOMNESS_PSAMPLES ?= 30
RANDOMNESS_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
RANDOMNESS_GEN_RUST := $(RANDOMNESS_TARGET)/randomness-gen/release/sessile-randomness
RANDOMNESS_GEN_C := $(RANDOMNESS_TARGET)/randomness/gen_c
RANDOMNESS_APT := ent rng-tools5 dieharder

RANDOMNESS_GEN.rust = $(RANDOMNESS_GEN_RUST)
RANDOMNESS_GEN.python = $(PY) $(ROOT)/tools/randomness/gen_python.py
RANDOMNESS_GEN.node = node $(ROOT)/tools/randomness/gen_node.js
RANDOMNESS_GEN.c = $(RANDOMNESS_GEN_C)

.PHONY: randomness tools-randomness randomness-generators lint-randomness

LINT_TARGETS += lint-randomness

# apt-get update only when a package is missing.
tools-randomness:
	@missing=""; for p in $(RANDOMNESS_APT); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# The generators that need building: the Rust one, and the C one (against libsessile.a).
randomness-generators:
	cargo build --release --manifest-path tools/randomness/gen-rust/Cargo.toml \
	    --target-dir $(RANDOMNESS_TARGET)/randomness-gen
	@if [[ " $(RANDOMNESS_BINDINGS) " == *" c "* ]]; then \
	    set -x; cargo build --release -p sessile-c && mkdir -p $(dir $(RANDOMNESS_GEN_C)) && \
	    cc -O2 -std=c11 -Wall -Wextra -Werror -I c-api/include tools/randomness/gen_c.c \
	        $(RANDOMNESS_TARGET)/release/libsessile.a -lpthread -lm -ldl -o $(RANDOMNESS_GEN_C) \
	    || echo "randomness: the C generator could not be built (reported as not usable)"; \
	fi

randomness: tools tools-randomness randomness-generators
	python3 tools/randomness/check.py --mib $(RANDOMNESS_MIB) --doc docs/RANDOMNESS.md \
	    --dieharder-tests $(RANDOMNESS_DIEHARDER) --psamples $(RANDOMNESS_PSAMPLES) \
	    $(foreach b,$(RANDOMNESS_BINDINGS),--gen "$(b)=$(RANDOMNESS_GEN.$(b))")

lint-randomness:
	cd tools/randomness/gen-rust && cargo fmt -- --check
	@want=$$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml); \
	for f in fuzz/Cargo.toml tools/randomness/gen-rust/Cargo.toml; do \
	    have=$$(sed -n 's/^version = "\(.*\)"/\1/p' $$f | head -n1); \
	    if [ "$$have" != "$$want" ]; then echo "$$f: version $$have, workspace says $$want" >&2; exit 1; fi; \
	done
