# The C API (c-api/): libsessile.a / libsessile.so, the generated sessile.h, C tests under
# sanitizers and valgrind, the no_std build, pkg-config install, the C demo and bench.
.PHONY: tools-c lint-c test-c bench-c demo-c install-c install header-c c-lib \
	test-c-rust test-c-sanitize test-c-valgrind test-c-nostd test-c-install test-c-demo test-c-redis

TOOLS_TARGETS += tools-c
LINT_TARGETS += lint-c
TEST_TARGETS += test-c
BENCH_TARGETS += bench-c

PREFIX ?= /usr/local
C_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
C_LIBDIR := $(C_TARGET_DIR)/release-c
C_NOSTD_LIB := $(C_TARGET_DIR)/thumbv7em-none-eabihf/release/libsessile.a
C_BUILD := $(ROOT)/c-api/build
# What a program linking libsessile.a also needs (cargo's --print native-static-libs).
C_LIBS := -lpthread -lm -ldl -lrt -lgcc_s -lutil
C_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -I$(ROOT)/c-api/include -I$(ROOT)/c-api/tests
C_TESTS := api threads vectors memory
C_VERSION = $(shell sed -n 's/^.define SESSILE_VERSION "\(.*\)"$$/\1/p' $(ROOT)/c-api/include/sessile.h)
VALGRIND := valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
	--error-exitcode=99

# Compiler, valgrind, curl, readelf and pkg-config: apt-get only what is missing.
tools-c:
	@missing=""; \
	for p in cc:gcc c++:g++ valgrind:valgrind curl:curl readelf:binutils pkg-config:pkg-config; do \
		command -v $${p%%:*} >/dev/null || missing="$$missing $${p#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi

# The committed header stands alone in strict C11, C17 and C++ (with and without std).
lint-c:
	for std in c11 c17; do \
		cc -std=$$std -Wall -Wextra -Werror -pedantic -fsyntax-only -x c c-api/include/sessile.h; \
		cc -std=$$std -Wall -Wextra -Werror -pedantic -fsyntax-only -DSESSILE_NO_STD -x c c-api/include/sessile.h; \
	done
	c++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ c-api/include/sessile.h
	cargo fmt -p sessile-c -- --check

c-lib:
	cargo build --profile release-c -p sessile-c

# Regenerate c-api/include/sessile.h after changing the API (then commit it).
header-c:
	SESSILE_BLESS=1 cargo test -p sessile-c --test header

# (The crate's Rust tests, test-c-rust, run in make test through test-core's --workspace.)
test-c: test-c-sanitize test-c-valgrind test-c-nostd test-c-install test-c-demo test-c-redis

# Unit tests (codes and names follow the core) and the header freshness check.
test-c-rust:
	cargo test -p sessile-c

test-c-sanitize: c-lib
	mkdir -p $(C_BUILD)
	for t in $(C_TESTS); do \
		cc $(C_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
			c-api/tests/$$t.c $(C_LIBDIR)/libsessile.a $(C_LIBS) -o $(C_BUILD)/$$t-asan; \
		$(C_BUILD)/$$t-asan $(ROOT)/tests/vectors; \
	done

test-c-valgrind: c-lib
	mkdir -p $(C_BUILD)
	for t in $(C_TESTS); do \
		cc $(C_CFLAGS) c-api/tests/$$t.c $(C_LIBDIR)/libsessile.a $(C_LIBS) -o $(C_BUILD)/$$t; \
		$(VALGRIND) $(C_BUILD)/$$t $(ROOT)/tests/vectors; \
	done

# Heap engines over a shared Redis store (sessile_engine_open), under the sanitizers, then
# two demo servers over one Redis. Each test starts and stops its own redis-server on a
# unix socket in a temporary folder (and hangs, stops and restarts it), so they fail when
# redis-server is missing: make tools-redis.
test-c-redis: c-lib
	mkdir -p $(C_BUILD)
	cc $(C_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
		c-api/tests/redis.c $(C_LIBDIR)/libsessile.a $(C_LIBS) -o $(C_BUILD)/redis-asan
	$(C_BUILD)/redis-asan
	cc $(C_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all examples/c/server.c \
		$(C_LIBDIR)/libsessile.a $(C_LIBS) -o $(C_BUILD)/server-redis-asan
	c-api/tests/demo-redis.sh $(C_BUILD)/server-redis-asan

# Bare metal: the static library with no allocator (checked on its symbols). Then with
# `narrow` (16-bit numbers, the firmware's 64 B a session): its unit tests on the host
# (engines in caller memory through the C functions, the limits, the bytes per session)
# and the library for a Cortex-M4 and a Cortex-M0, again with no allocator. (The last
# build leaves the narrow library at $(C_NOSTD_LIB).)
test-c-nostd: c-lib
	cargo build --release -p sessile-c --no-default-features --target thumbv7em-none-eabihf
	c-api/tests/no-malloc.sh $(C_NOSTD_LIB) $(C_LIBDIR)/libsessile.a
	cargo test -p sessile-c --no-default-features --features narrow --lib
	for t in thumbv7em-none-eabihf thumbv6m-none-eabi; do \
		cargo build --release -p sessile-c --no-default-features --features narrow --target $$t; \
		c-api/tests/no-malloc.sh $(C_TARGET_DIR)/$$t/release/libsessile.a $(C_LIBDIR)/libsessile.a; \
	done

# (grep reads all of ldd's output: `grep -q` stops at the first match, and under pipefail
# an ldd still writing then dies of SIGPIPE and fails the rule now and then.)
# `make install PREFIX=...` into a scratch prefix, then build a program the way a user
# would (pkg-config, shared and static) and run it.
test-c-install:
	rm -rf $(C_BUILD)/prefix
	$(MAKE) --no-print-directory install-c PREFIX=$(C_BUILD)/prefix
	export PKG_CONFIG_PATH=$(C_BUILD)/prefix/lib/pkgconfig; \
	test "$$(pkg-config --modversion sessile)" = "$(C_VERSION)"; \
	cc -std=c11 -Wall -Wextra -Werror -Ic-api/tests c-api/tests/api.c $$(pkg-config --cflags --libs sessile) \
		-o $(C_BUILD)/api-shared; \
	LD_LIBRARY_PATH=$(C_BUILD)/prefix/lib $(C_BUILD)/api-shared; \
	LD_LIBRARY_PATH=$(C_BUILD)/prefix/lib ldd $(C_BUILD)/api-shared | grep "$(C_BUILD)/prefix/lib/libsessile.so" >/dev/null; \
	cc -std=c11 -Wall -Wextra -Werror -Ic-api/tests c-api/tests/api.c $$(pkg-config --cflags sessile) \
		$$(pkg-config --static --libs sessile | sed 's/-lsessile/-l:libsessile.a/') -o $(C_BUILD)/api-static; \
	if ldd $(C_BUILD)/api-static | grep libsessile >/dev/null; then echo "api-static links libsessile.so" >&2; exit 1; fi; \
	$(C_BUILD)/api-static; \
	cd $(C_BUILD) && cc $(ROOT)/examples/c/quickstart.c $$(pkg-config --cflags --libs sessile) -o quickstart; \
	LD_LIBRARY_PATH=$(C_BUILD)/prefix/lib ./quickstart > quickstart.out; \
	grep -qx 'old token: rotated_out' quickstart.out && grep -qx 'hello, alice' quickstart.out && \
		grep -qx 'event: logged_in' quickstart.out

$(C_BUILD)/server: examples/c/server.c c-api/include/sessile.h c-lib
	mkdir -p $(C_BUILD)
	cc $(C_CFLAGS) $< $(C_LIBDIR)/libsessile.a $(C_LIBS) -o $@

test-c-demo: c-lib
	mkdir -p $(C_BUILD)
	cc $(C_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all examples/c/server.c \
		$(C_LIBDIR)/libsessile.a $(C_LIBS) -o $(C_BUILD)/server-asan
	c-api/tests/demo.sh $(C_BUILD)/server-asan

demo-c: $(C_BUILD)/server
	$(C_BUILD)/server

# What a program linking libsessile.a needs from the platform: the Rust standard library's
# native libraries, as this rustc lists them for this target (the crate adds none of its
# own). Goes into sessile.pc's Libs.private and the CMake package's static target, so a
# macOS or BSD build names its own libraries, not Linux's. Asked again with every library
# build (a fraction of a second), so a new toolchain's list is never stale.
C_NATIVE_LIBS_FILE := $(C_BUILD)/native-static-libs
$(C_NATIVE_LIBS_FILE): c-lib
	mkdir -p $(C_BUILD)/probe
	echo '' | rustc --crate-type staticlib --crate-name probe --print native-static-libs \
		-o $(C_BUILD)/probe/libprobe.a - 2>&1 | sed -n 's/^note: native-static-libs: //p' > $@.tmp
	test -s $@.tmp && mv $@.tmp $@

# Into $(DESTDIR)$(PREFIX): lib/libsessile.so.<version> with its SONAME link (read from the
# library, set by c-api/build.rs) and the development link libsessile.so, libsessile.a,
# include/sessile.h, lib/pkgconfig/sessile.pc and the CMake package in lib/cmake/sessile.
install-c: c-lib $(C_NATIVE_LIBS_FILE)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/sessile \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/doc/sessile
	soname=$$(readelf -d $(C_LIBDIR)/libsessile.so | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); \
	test -n "$$soname" || { echo "libsessile.so has no SONAME (c-api/build.rs)" >&2; exit 1; }; \
	libs="$$(cat $(C_NATIVE_LIBS_FILE))"; \
	install -m 644 $(C_LIBDIR)/libsessile.a $(DESTDIR)$(PREFIX)/lib/libsessile.a; \
	install -m 755 $(C_LIBDIR)/libsessile.so $(DESTDIR)$(PREFIX)/lib/libsessile.so.$(C_VERSION); \
	ln -sfn libsessile.so.$(C_VERSION) $(DESTDIR)$(PREFIX)/lib/$$soname; \
	ln -sfn $$soname $(DESTDIR)$(PREFIX)/lib/libsessile.so; \
	install -m 644 c-api/include/sessile.h $(DESTDIR)$(PREFIX)/include/sessile.h; \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(C_VERSION)|' -e "s|@LIBS_PRIVATE@|$$libs|" \
		c-api/sessile.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/sessile.pc; \
	sed -e 's|@VERSION@|$(C_VERSION)|' -e "s|@SONAME@|$$soname|" \
		-e 's|@SHARED_FILE@|libsessile.so.$(C_VERSION)|' \
		-e "s|@LIBS_PRIVATE_CMAKE@|$$(echo $$libs | sed -e 's/-l//g' -e 's/ /;/g')|" \
		cmake/sessileConfig.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/sessile/sessileConfig.cmake; \
	sed -e 's|@VERSION@|$(C_VERSION)|' -e "s|@SIZEOF_VOID_P@|$$(getconf LONG_BIT | awk '{print $$1/8}')|" \
		cmake/sessileConfigVersion.cmake.in \
		> $(DESTDIR)$(PREFIX)/lib/cmake/sessile/sessileConfigVersion.cmake; \
	install -m 644 LICENSE-MIT LICENSE-APACHE CHANGELOG.md $(DESTDIR)$(PREFIX)/share/doc/sessile/

install: install-c

# C API against the same operations in Rust, in one run (library built with the bench
# export, in its own target dir so the release library stays free of it).
bench-c:
	CARGO_TARGET_DIR=$(C_TARGET_DIR)/c-bench cargo build --profile release-c -p sessile-c --features bench
	mkdir -p $(C_BUILD)
	cc -std=c11 -O2 -Wall -Wextra -Werror -Ic-api/include c-api/bench/bench.c \
		$(C_TARGET_DIR)/c-bench/release-c/libsessile.a $(C_LIBS) -o $(C_BUILD)/bench
	$(C_BUILD)/bench

# The installed copy as a package: the shared library is named by its ABI (SONAME, with
# the links a distribution ships), programs record that name, sessile.pc names exactly
# the libraries rustc lists for this platform, the licences are installed, and a CMake
# project finds the package (find_package(sessile 0.1)), builds the quickstart on the
# shared and on the static library, and runs both; a request for 0.2 fails (before 1.0 a
# minor version may break, so only 0.1.x satisfies 0.1).
.PHONY: test-c-package
test-c: test-c-package
C_PREFIX := $(C_BUILD)/prefix
C_CMAKE_BUILD := $(C_BUILD)/cmake-consumer
test-c-package: test-c-install
	test "$$(readlink $(C_PREFIX)/lib/libsessile.so)" = libsessile.so.0
	test "$$(readlink $(C_PREFIX)/lib/libsessile.so.0)" = libsessile.so.$(C_VERSION)
	readelf -d $(C_PREFIX)/lib/libsessile.so.$(C_VERSION) | grep -F '(SONAME)' | grep -F '[libsessile.so.0]' >/dev/null
	readelf -d $(C_BUILD)/quickstart | grep -F '(NEEDED)' | grep -F '[libsessile.so.0]' >/dev/null
	test "$$(echo $$(PKG_CONFIG_PATH=$(C_PREFIX)/lib/pkgconfig pkg-config --static --libs-only-l sessile))" = \
		"$$(echo -lsessile $$(cat $(C_NATIVE_LIBS_FILE)))"
	for f in LICENSE-MIT LICENSE-APACHE CHANGELOG.md; do cmp $$f $(C_PREFIX)/share/doc/sessile/$$f; done
	command -v cmake >/dev/null || { echo "cmake missing: make tools-c-cmake" >&2; exit 1; }
	rm -rf $(C_CMAKE_BUILD)
	cmake -S c-api/tests/cmake-consumer -B $(C_CMAKE_BUILD) -DCMAKE_PREFIX_PATH=$(C_PREFIX) \
		-DSESSILE_EXAMPLE=$(ROOT)/examples/c/quickstart.c >/dev/null
	cmake --build $(C_CMAKE_BUILD) >/dev/null
	readelf -d $(C_CMAKE_BUILD)/quickstart_shared | grep -F '[libsessile.so.0]' >/dev/null
	if readelf -d $(C_CMAKE_BUILD)/quickstart_static | grep -F libsessile >/dev/null; then \
		echo "quickstart_static links libsessile.so" >&2; exit 1; fi
	for t in shared static; do \
		LD_LIBRARY_PATH=$(C_PREFIX)/lib $(C_CMAKE_BUILD)/quickstart_$$t > $(C_CMAKE_BUILD)/$$t.out; \
		grep -qx 'old token: rotated_out' $(C_CMAKE_BUILD)/$$t.out && grep -qx 'hello, alice' $(C_CMAKE_BUILD)/$$t.out; \
	done
	if cmake -S c-api/tests/cmake-consumer -B $(C_CMAKE_BUILD)-later -DCMAKE_PREFIX_PATH=$(C_PREFIX) \
		-DSESSILE_EXAMPLE=$(ROOT)/examples/c/quickstart.c -DSESSILE_WANT=0.2 >/dev/null 2>&1; then \
		echo "find_package(sessile 0.2) accepted $(C_VERSION)" >&2; exit 1; fi
	rm -rf $(C_CMAKE_BUILD)-later
	@echo "C package: SONAME libsessile.so.0, pkg-config and CMake builds run from $(C_PREFIX)"

# CMake, for test-c-package (apt-get, as tools-c does for the compiler).
.PHONY: tools-c-cmake
tools-c: tools-c-cmake
tools-c-cmake:
	@command -v cmake >/dev/null || { \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends cmake; }
