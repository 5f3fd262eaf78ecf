# Release hygiene: one version and one project URL for every package, licences and the
# changelog shipped in each, and the core crate publishable (cargo publish --dry-run).
# Network: `cargo publish --dry-run` reads the crates.io index (as a first `cargo build`
# does); nothing is uploaded.
.PHONY: lint-release test-release test-release-versions test-release-crate

LINT_TARGETS += lint-release
TEST_TARGETS += test-release

REL_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
REL_VERSION = $(shell sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$$/\1/p' $(ROOT)/Cargo.toml)
# The licence files every package carries (the core crate, the Python sdist and wheel, the
# npm tarballs, the C install); each package's check compares its copies with these.
REL_SHIPPED := LICENSE-MIT LICENSE-APACHE

test-release: test-release-versions test-release-crate

test-release-versions:
	python3 tools/release/check_versions.py

# The crate as crates.io would get it (publish --dry-run builds it from its own tarball),
# and the tarball (cargo package; publish --dry-run keeps its own elsewhere) must hold
# the licences, README and changelog as real files equal to the repository's.
test-release-crate:
	nice cargo publish --dry-run --allow-dirty -p sessile 2>&1 | grep -v '^warning: ignoring test'
	rm -f $(REL_TARGET_DIR)/package/sessile-$(REL_VERSION).crate
	cargo package --allow-dirty --no-verify -p sessile 2>&1 | grep -v '^warning: ignoring test'
	crate=$(REL_TARGET_DIR)/package/sessile-$(REL_VERSION).crate; \
	for f in $(REL_SHIPPED) README.md CHANGELOG.md; do \
		tar -xOzf $$crate sessile-$(REL_VERSION)/$$f | cmp - $$f || { echo "$$crate: $$f differs" >&2; exit 1; }; \
	done

# The release scripts in Python, under the Python binding's ruff settings.
lint-release: tools-python
	$(VENV)/bin/ruff check --no-cache --config $(PY_DIR)/pyproject.toml tools/release
	$(VENV)/bin/ruff format --no-cache --config $(PY_DIR)/pyproject.toml --check tools/release
