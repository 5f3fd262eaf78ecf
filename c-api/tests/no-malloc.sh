#!/usr/bin/env bash
# The no_std static library must need no allocator: no symbol it leaves undefined may be
# malloc & co. or Rust's allocator shims. Usage: no-malloc.sh <no_std lib.a> <std lib.a>
# The std library is the control: the same check must find malloc there, or the check
# itself is blind.
set -euo pipefail
alloc='^(malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|__rust_alloc|__rust_dealloc|__rust_realloc|__rust_alloc_zeroed|__rg_alloc|__rdl_alloc)$'

# Symbols referenced somewhere in the archive and defined nowhere in it. readelf, not nm:
# GNU nm gives up on Rust's std objects (it tries their embedded LLVM bitcode).
symbols() { readelf -sW "$1" | awk '$1 ~ /^[0-9]+:$/ && $8 != "" && ($5 == "GLOBAL" || $5 == "WEAK") {sub(/@.*/, "", $8); print $7, $8}'; }
needs() {
    comm -23 <(symbols "$1" | awk '$1 == "UND" {print $2}' | sort -u) \
             <(symbols "$1" | awk '$1 != "UND" {print $2}' | sort -u)
}

control=$(needs "$2" | grep -E "$alloc" || true)
[ -n "$control" ] || { echo "no-malloc.sh: the check sees no allocator in the std build: broken check" >&2; exit 1; }
exports=$(symbols "$1" | awk '$1 != "UND" {print $2}')
grep -qx sessile_engine_init <<<"$exports" ||
    { echo "no-malloc.sh: $1 does not export sessile_engine_init" >&2; exit 1; }
found=$(needs "$1" | grep -E "$alloc" || true)
if [ -n "$found" ]; then
    echo "no-malloc.sh: $1 needs an allocator:" >&2
    echo "$found" >&2
    exit 1
fi
echo "no-malloc.sh: $(basename "$(dirname "$(dirname "$1")")") build needs no allocator (std build needs: $(echo $control))"
