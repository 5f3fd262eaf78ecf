#!/usr/bin/env bash
# make bench-firmware: the firmware's sections (llvm-size) and its RAM per session (the
# sizes of its static regions, llvm-nm), each against issue 17's target, met or not.
#   bench.sh ELF_CORTEX_M4 ELF_CORTEX_M0 RUN_OUTPUT
# RUN_OUTPUT is the output of the stack-report build's run (its last lines: the stack
# peak, then ok).
set -euo pipefail
m4=$1 m0=$2 run=$3

section() { llvm-size -A "$1" | awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'; }
# Size in bytes of the firmware's static region NAME (a `static mut` in main.rs). Demangled
# legacy names end in a hash; v0 names, as the nightly build gives, do not.
region() {
	llvm-nm -S -t d -C "$1" | awk -v n="$2" '$NF ~ ("::" n "(::h[0-9a-f]+)?$") { print $2 + 0; f = 1 } END { if (!f) exit 1 }'
}
verdict() { if [ "$1" -le "$2" ]; then echo "met"; else echo "NOT MET"; fi; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

capacity=$(sed -n 's/^sessile on Cortex-M: capacity \([0-9]*\),.*/\1/p' "$run")
[ -n "$capacity" ] || { echo "no capacity line in $run" >&2; exit 1; }
tail -n 1 "$run" | grep -qx ok || { echo "the firmware run did not end with ok" >&2; exit 1; }
stack=$(sed -n 's/^stack peak: \([0-9]*\) bytes$/\1/p' "$run")
[ -n "$stack" ] || { echo "no stack peak line in $run" >&2; exit 1; }

echo "## Firmware (examples/firmware): the README flow on a Cortex-M, static memory, capacity $capacity"
echo
echo "Measured $(date -u +%F) by make bench-firmware, on the images make test-firmware runs: opt-level z,"
echo "fat LTO, nightly with core rebuilt (build-std), panic = immediate-abort; run under"
echo "qemu-system-arm -M mps2-an386 (Cortex-M4)."
echo
echo "| build | .text | .rodata | .data | .bss | .text target | verdict |"
echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
for row in "Cortex-M4 (thumbv7em-none-eabihf)|$m4|16384" "Cortex-M0 (thumbv6m-none-eabi, built, not run)|$m0|20480"; do
	IFS='|' read -r name elf limit <<<"$row"
	text=$(section "$elf" .text)
	echo "| $name | $text B ($(kib "$text")) | $(section "$elf" .rodata) B | $(section "$elf" .data) B" \
		"| $(section "$elf" .bss) B | at most $((limit / 1024)) KiB | $(verdict "$text" "$limit") |"
done
echo

# Per session: the regions that grow with capacity. The wheel's links are one per
# session plus fixed list heads; a Link is two u32 (8 bytes).
slots=$(region "$m4" SLOTS) index=$(region "$m4" INDEX) principals=$(region "$m4" PRINCIPALS)
links=$(region "$m4" LINKS_)
link=8
heads=$((links - capacity * link))
per_slot=$((slots / capacity)) per_index=$((index / capacity)) per_principal=$((principals / capacity))
per_session=$((per_slot + link + per_index + per_principal))
echo "| RAM per session (capacity $capacity) | bytes | target | verdict |"
echo "| --- | ---: | --- | --- |"
echo "| slot $per_slot + wheel link $link + token index $per_index + principal index $per_principal | $per_session |" \
	"at most 64 B (capacities under 65,536) | $(verdict "$per_session" 64) |"
echo
echo "Index cells: 13/8 of the capacity for tokens, 10/8 for principals, at least 8, rounded up to a"
echo "power of two up to 64 cells and to a multiple of 64 above: both indexes together 16 bytes per"
echo "session here, at most 19.7 (capacity 13) from capacity 6 up, 11.5 at 65,535; so $per_session B"
echo "here and at most $((per_slot + link + 20)) B at any capacity from 6 up."
echo
echo "Not per session: wheel list heads $heads B (fixed); sized by their own settings: tombstones $(region "$m4" TOMBS) B" \
	"+ index $(region "$m4" TOMB_INDEX) B; event ring $(region "$m4" EVENT_RING) B;" \
	"payload pool $(region "$m4" POOL) B + links $(region "$m4" POOL_NEXT) B."
echo
bss=$(section "$m4" .bss)
echo "RAM in all on the Cortex-M4: .bss $bss B (the engine's storage, nothing else) + stack peak" \
	"$stack B (painted at reset, measured at the end of the flow) = $((bss + stack)) B."
echo
for elf in "$m4" "$m0"; do
	if llvm-nm "$elf" | grep -qE '__aeabi_uldivmod|__udivmoddi4'; then div="linked"; else div="none"; fi
	fmt=$("$(dirname "$0")/no-fmt.sh" "$elf" >/dev/null 2>&1 && echo "none: met" || echo "present: NOT MET")
	echo "- $(basename "$(dirname "$(dirname "$elf")")"): core::fmt formatting $fmt; 64-bit division $div"
done
