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
# session plus 129 fixed list heads (sessile::wheel::SENTINELS on 32-bit targets: 16
# slots a level in eight levels, and the pending list; 385 on servers); a Link is two
# stored node numbers (sessile::Ix: u16 in this build, the core's feature narrow).
slots=$(region "$m4" SLOTS) index=$(region "$m4" INDEX) principals=$(region "$m4" PRINCIPALS)
links=$(region "$m4" LINKS_)
sentinels=129
link=$((links / (capacity + sentinels)))
[ $((link * (capacity + sentinels))) -eq "$links" ] || { echo "LINKS_ is not capacity + $sentinels links" >&2; exit 1; }
heads=$((links - capacity * link))
per_slot=$((slots / capacity)) per_index=$((index / capacity)) per_principal=$((principals / capacity))
per_session=$((per_slot + link + per_index + per_principal))
echo "| RAM per session (capacity $capacity) | bytes | target | verdict |"
echo "| --- | ---: | --- | --- |"
echo "| slot $per_slot + wheel link $link + token index $per_index + principal index $per_principal | $per_session |" \
	"at most 64 B (capacities under 65,536) | $(verdict "$per_session" 64) |"
echo
# Index cells for ENTRIES at EIGHTHS/8 cells each (the core's index::cells_for): at least
# 8, a multiple of 8 up to 128, a multiple of 64 above.
cells_for() {
	awk -v n="$1" -v e="$2" 'BEGIN { w = int((n * e + 7) / 8); if (w <= 8) c = 8; else if (w <= 128) c = int((w + 7) / 8) * 8; else c = int((w + 63) / 64) * 64; print c }'
}
cell=$((index / $(cells_for "$capacity" 13)))
# The most sessions the build can hold: 65,149 with 16-bit cells (the core's feature
# narrow, MAX_CAPACITY), else far more (the worst case below is then taken up to 65,535).
if [ "$cell" -eq 2 ]; then top=65149; else top=65535; fi
# The worst capacity from 8 up for the indexes' bytes per session (below 8 the tables'
# floor of 8 cells can dominate: 32 B per session at capacity 1).
read -r worst_cap worst_index < <(awk -v c="$cell" -v top="$top" '
	function cells(n, e,   w) { w = int((n * e + 7) / 8); if (w <= 8) return 8; if (w <= 128) return int((w + 7) / 8) * 8; return int((w + 63) / 64) * 64 }
	BEGIN { for (n = 8; n <= top; n++) { b = (cells(n, 13) + cells(n, 10)) * c / n; if (b > m) { m = b; at = n } } printf "%d %.2f\n", at, m }')
worst=$(awk -v s="$per_slot" -v l="$link" -v i="$worst_index" 'BEGIN { printf "%.2f", s + l + i }')
worst_met=$(awk -v w="$worst" 'BEGIN { print (w <= 64) ? "met" : "NOT MET" }')
echo "Index cells ($cell bytes each): 13/8 of the capacity for tokens, 10/8 for principals, at least 8,"
echo "rounded up to a multiple of 8 up to 128 cells and to a multiple of 64 above: both indexes together"
echo "$((per_index + per_principal)) bytes per session here, at most $worst_index (capacity $worst_cap) from capacity 8 up to $top."
echo "So $per_session B per session here (capacity $capacity) and at most $worst B at any capacity from 8 up to"
echo "$top: $worst_met against at most 64 B. (Below 8 the tables' floor of 8 cells can cost more: at"
echo "capacity 7, $(awk -v s="$per_slot" -v l="$link" -v c="$cell" 'BEGIN { printf "%.2f", s + l + 32 * c / 7 }') B; at 1, $((per_slot + link + 16 * cell)) B.)"
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
