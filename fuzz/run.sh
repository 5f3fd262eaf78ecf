#!/usr/bin/env bash
# Runs every fuzz target for a while and prints its figures.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Builds all targets once (cargo fuzz, nightly), then for each target: replays every input
# in fuzz/regressions/<target>/ (each must pass), then fuzzes for SECONDS from
# fuzz/corpus/<target>/. A crash is copied into fuzz/regressions/<target>/ (commit it: it
# becomes a regression test) and the script fails.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cookie_parse token_decode ops)

# One version for the whole project: this package follows [workspace.package].
want=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' ../Cargo.toml)
have=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
if [ "$want" != "$have" ]; then
    echo "fuzz/Cargo.toml version $have differs from the workspace version $want" >&2
    exit 1
fi

nice cargo +nightly fuzz build

fail=0
rows=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "regressions/$t" "artifacts/$t"
    log=$(mktemp)
    n=$(find "regressions/$t" -type f | wc -l)
    if [ "$n" -gt 0 ]; then
        if ! nice cargo +nightly fuzz run "$t" "regressions/$t" -- -runs=0 >"$log" 2>&1; then
            echo "== $t: a regression input fails again:" >&2
            grep -E -A5 "panicked|ERROR" "$log" >&2 || tail -n 30 "$log" >&2
            fail=1
            continue
        fi
    fi
    start=$(date +%s)
    stamp=$(mktemp)
    if nice cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        fail=1
        echo "== $t: crash" >&2
        grep -E -A8 "panicked|ERROR" "$log" >&2 || tail -n 30 "$log" >&2
        find "artifacts/$t" -type f -newer "$stamp" -exec cp {} "regressions/$t/" \; -print |
            sed 's|^|   saved as regression: regressions/'"$t"'/|' >&2
    fi
    took=$(( $(date +%s) - start ))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
    last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
    rows+=("$(printf '%-13s %-6s %7ss %11s %9s %6s %7s %7s %8s %6s' \
        "$t" "$status" "$took" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}MB" "$n")")
    rm -f "$log" "$stamp"
done

echo
printf '%-13s %-6s %8s %11s %9s %6s %7s %7s %8s %6s\n' \
    target status time execs execs/s cov features corpus peak-rss replay
for r in "${rows[@]}"; do echo "$r"; done
exit "$fail"
