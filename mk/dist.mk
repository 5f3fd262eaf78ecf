# `make dist` (not part of make test): the packages as they would be published, built
# and checked here. Outputs in target/dist-out/: npm/ (one sessile-<platform> package per
# platform, napi-rs layout) + sessile/ (the main package naming them in
# optionalDependencies) + tarballs/, and python/ (the sdist and abi3 manylinux2014 wheels
# for x86_64 and aarch64). Cross builds link through zig (PyPI's ziglang) against glibc
# 2.17 or musl, in their own cargo target dir (target/dist; `make dist-clean` removes
# both). The linux-arm64-gnu addon and the aarch64 wheel are also run, under Debian's
# qemu-user, when tools/release/qemu-arm64.sh can set it up here (apt-get as root; an
# aarch64 Debian sysroot and Node's arm64 binary in .tools/qemu-arm64); when it cannot,
# `make dist` says they were only inspected, and why. Network: PyPI (tools), rustup (the
# cross targets' std), crates.io, and for qemu Debian's archive and the npm registry.
.PHONY: dist dist-node dist-python tools-dist tools-dist-qemu dist-clean

DIST_OUT := $(ROOT)/target/dist-out
DIST_CARGO := $(ROOT)/target/dist
DIST_STAMP := $(VENV)/.sessile-dist-tools
QEMU_ARM64 := $(TOOLS)/qemu-arm64
DIST_NODE_TARGETS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl
DIST_PY_TARGETS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu
# napi's name for each triple (binding.js's sessile-<platform> packages).
napi_platform = $(patsubst x86_64-unknown-linux-gnu,linux-x64-gnu,$(patsubst aarch64-unknown-linux-gnu,linux-arm64-gnu,$(patsubst x86_64-unknown-linux-musl,linux-x64-musl,$(1))))
# glibc targets link against 2.17 (manylinux2014's floor); musl has no version.
zig_target = $(if $(findstring -gnu,$(1)),$(1).2.17,$(1))
# One addon: cargo-zigbuild for triple $(1), copied to npm-build/sessile.<platform>.node.
define dist_node_addon
	PATH=$(VENV)/bin:$$PATH CARGO_TARGET_DIR=$(DIST_CARGO) CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_PROFILE_RELEASE_DEBUG=0 \
	CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static" \
		nice $(VENV)/bin/cargo-zigbuild build --release --locked -p sessile-node --target $(call zig_target,$(1))
	cp $(DIST_CARGO)/$(1)/release/libsessile_node.so $(DIST_OUT)/npm-build/sessile.$(call napi_platform,$(1)).node

endef

dist: dist-node dist-python
	@echo "make dist: what ran and what was only inspected:"
	@grep -h -e 'RUN' -e 'inspected only' \
		$(DIST_OUT)/npm-check.txt $(DIST_OUT)/python-check.txt | sed 's/^/  /'
	@cat $(DIST_OUT)/npm-NOT-BUILT.txt
	@echo "Python wheels not built here: musllinux (x86_64, aarch64), macOS, Windows; other"
	@echo "platforms install the sdist (pip builds it from source with Rust)."

# (mk/python.mk is included after this file, so its PY_STAMP_TOOLS is still empty when
# this rule's prerequisites are read: the stamp is named here by its path.)
$(DIST_STAMP): tools/release/dist-requirements.txt $(VENV)/.sessile-python-tools
	$(PY) -m pip install --quiet --disable-pip-version-check -r tools/release/dist-requirements.txt
	rustup target add $(sort $(DIST_NODE_TARGETS) $(DIST_PY_TARGETS))
	touch $@

tools-dist: $(DIST_STAMP)

# qemu-user, the aarch64 sysroot and arm64 Node (the script does nothing when they are
# there, and records why not when they cannot be had: then the checks only inspect).
tools-dist-qemu:
	tools/release/qemu-arm64.sh $(QEMU_ARM64)

# Each addon built by cargo-zigbuild (stripped, as napi build --strip), then the layout
# and its checks (scripts/check-dist.sh): the right machine and libc in each, no glibc
# symbol past 2.17, and the main package installed from its tarball with the x64-gnu
# package beside it loads through optionalDependencies, with no addon of its own; so does
# the linux-arm64-gnu one, by an arm64 Node under qemu-user.
# musl needs a dynamically linked C runtime to make a shared library (-crt-static).
dist-node: tools-dist tools-dist-qemu
	rm -rf $(DIST_OUT)/npm-build && mkdir -p $(DIST_OUT)/npm-build
	$(foreach t,$(DIST_NODE_TARGETS),$(call dist_node_addon,$(t)))
	node $(NODE_DIR)/scripts/dist.js $(DIST_OUT)/npm \
		$(foreach t,$(DIST_NODE_TARGETS),$(call napi_platform,$(t))=$(DIST_OUT)/npm-build/sessile.$(call napi_platform,$(t)).node)
	cp $(DIST_OUT)/npm/NOT-BUILT.txt $(DIST_OUT)/npm-NOT-BUILT.txt
	$(NODE_DIR)/scripts/check-dist.sh $(DIST_OUT)/npm $(REL_VERSION) $(QEMU_ARM64) | tee $(DIST_OUT)/npm-check.txt

dist-clean:
	rm -rf $(DIST_OUT) $(DIST_CARGO)

# The sdist and the abi3 wheels, linked through zig against glibc 2.17 (manylinux2014),
# then scripts/check-dist.sh: auditwheel show, contents, the x86_64 wheel and the sdist
# installed into fresh venvs and smoke-tested, and the aarch64 wheel run under qemu-user.
# The sdist's build by pip goes to target/dist/sdist, so cargo reuses the registry crates
# between runs.
dist-python: tools-dist tools-dist-qemu tools-python
	rm -rf $(DIST_OUT)/python
	cd $(PY_DIR) && VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin sdist --out $(DIST_OUT)/python
	for t in $(DIST_PY_TARGETS); do \
		(cd $(PY_DIR) && PATH=$(VENV)/bin:$$PATH VIRTUAL_ENV=$(VENV) CARGO_TARGET_DIR=$(DIST_CARGO) \
			CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
			nice $(VENV)/bin/maturin build --release --target $$t --zig --compatibility manylinux2014 \
			--out $(DIST_OUT)/python); \
	done
	CARGO_TARGET_DIR=$(DIST_CARGO)/sdist SESSILE_QEMU_ARM64=$(QEMU_ARM64) \
		$(PY_DIR)/scripts/check-dist.sh $(DIST_OUT)/python $(REL_VERSION) \
		$(patsubst %-unknown-linux-gnu,%,$(DIST_PY_TARGETS)) | tee $(DIST_OUT)/python-check.txt
