#!/usr/bin/env bash
# Fails when the firmware image links any of core::fmt's formatting: core::fmt::write,
# Formatter, the Display/Debug/... impls, the number formatting. Two symbols whose
# names hold "fmt" are not formatting and are allowed: core::panicking::panic_fmt (the
# panic entry; the firmware's handler never formats its message) and the fmt::Write
# trait's write_str/write_char on heapless::String (a byte sink for the cookie text), in
# either symbol mangling (legacy, or v0 as the nightly build of the measured image names
# them).
set -euo pipefail
elf=$1
found=$(llvm-nm -C "$elf" | sed -E 's/^[0-9a-f]* +[A-Za-z] //' | grep -iE 'fmt' \
	| grep -vE '^core::panicking::panic_fmt$' \
	| grep -vE '^_\$LT\$heapless\.\.string\.\.StringInner\$LT\$.*\$GT\$\$u20\$as\$u20\$core\.\.fmt\.\.Write\$GT\$::write_(str|char)::h[0-9a-f]+$' \
	| grep -vE '^<heapless::string::StringInner<.*> as core::fmt::Write>::write_(str|char)$' \
	|| true)
if [ -n "$found" ]; then
	echo "$elf links core::fmt formatting:" >&2
	echo "$found" >&2
	exit 1
fi
echo "no core::fmt formatting in $(basename "$(dirname "$(dirname "$elf")")")/$(basename "$elf")"
