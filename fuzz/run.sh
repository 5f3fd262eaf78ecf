#!/usr/bin/env bash
# Runs the fuzz targets in one of two modes and prints their figures.
#
#   fuzz/run.sh test SEED RUNS [TARGET...]     deterministic: `make test` (test-fuzz-smoke)
#   fuzz/run.sh explore SECONDS [TARGET...]    exploratory: `make fuzz`
#
# Both build every target once (cargo fuzz, nightly), then for each target replay every
# input in seeds/<target>/ (the committed seed corpus) and regressions/<target>/ (inputs
# that once failed) once each (-runs=0); each must pass. Then:
#
# - test: fuzz with libFuzzer seed SEED (-seed=SEED) for exactly RUNS executions
#   (-runs=RUNS), starting from a temporary copy of seeds/<target>/ that is deleted
#   afterwards (nothing in the repository grows), with no time budget and no timed corpus
#   reload, and with address randomisation off (see `fixed` below). The same tree gives
#   the same executions, coverage and corpus figures on every run on one machine, and a
#   crash found here is found again by the next run.
# - explore: fuzz for SECONDS with a random seed, from fuzz/corpus/<target>/ (kept between
#   runs, not committed: new inputs go there) and, read only, seeds/ and regressions/.
#   libFuzzer's seed (its `INFO: Seed: N` line) is printed for every target.
#
# A crash, in either mode, is copied into regressions/<target>/ (commit it with the fix: it
# becomes a regression input replayed by every later run), and the script says how to
# reproduce it and which seed found it, then fails.
set -euo pipefail
cd "$(dirname "$0")"
usage="usage: run.sh test SEED RUNS [TARGET...] | run.sh explore SECONDS [TARGET...]"
mode=${1:?$usage}
shift
case "$mode" in
test)
    seed=${1:?$usage}
    runs=${2:?$usage}
    shift 2
    ;;
explore)
    seconds=${1:?$usage}
    shift
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Flags of every fuzzing run: a hang or runaway memory is a failure too.
limits=(-timeout=20 -rss_limit_mb=2048 -print_final_stats=1)

# The test mode runs its targets with address randomisation off: libFuzzer counts how deep
# the stack went as a feature, measured from an address whose alignment changes with ASLR,
# so with it on the same seed keeps slightly different inputs from one run to the next.
fixed=()
if [ "$mode" = test ]; then
    if setarch "$(uname -m)" -R true 2>/dev/null; then
        fixed=(setarch "$(uname -m)" -R)
    else
        echo "note: address randomisation cannot be turned off here (setarch -R);" \
            "the smoke's coverage figures may differ a little between runs" >&2
    fi
fi

# Replay every committed input of target $1 (seeds/ and regressions/) once, -runs=0, on
# the build the cargo options after $2 choose ($2 names that build in messages; '' for the
# default one). The inputs are named one by one: libFuzzer then only reads them, and the
# last `Running:` line names the one that fails, which this says with how to rerun it.
# Sets n to the number of inputs.
replay() {
    local t=$1 build=$2 log bad
    shift 2
    mapfile -t inputs < <(find "seeds/$t" "regressions/$t" -type f | LC_ALL=C sort)
    n=${#inputs[@]}
    [ "$n" -gt 0 ] || return 0
    log="$tmp/$t.replay${build:+.$build}.log"
    nice cargo +nightly fuzz run "$@" "$t" "${inputs[@]}" -- -runs=0 >"$log" 2>&1 && return 0
    bad=$(sed -n 's/^Running: //p' "$log" | tail -n1)
    echo "== $t: a committed input fails${build:+ on the $build build}: $bad" >&2
    grep -E -A8 "panicked|ERROR" "$log" >&2 || tail -n 30 "$log" >&2
    echo "   reproduce: cd fuzz && cargo +nightly fuzz run${*:+ $*} $t $bad" >&2
    return 1
}

fail=0
rows=()
for t in "${targets[@]}"; do
    mkdir -p "seeds/$t" "regressions/$t" "artifacts/$t"
    log="$tmp/$t.log"

    if ! replay "$t" ""; then
        fail=1
        rows+=("$(printf '%-13s %-6s' "$t" REPLAY)")
        continue
    fi

    if [ "$mode" = test ]; then
        # A fresh copy, files written in name order so libFuzzer reads them in the same
        # order every time (it shuffles them with its seeded generator).
        mkdir "$tmp/$t"
        find "seeds/$t" -type f | LC_ALL=C sort | while IFS= read -r f; do cp "$f" "$tmp/$t/"; done
        corpus=("$tmp/$t")
        flags=(-seed="$seed" -runs="$runs" -reload=0)
    else
        mkdir -p "corpus/$t"
        corpus=("corpus/$t" "seeds/$t" "regressions/$t")
        flags=(-max_total_time="$seconds")
    fi
    start=$(date +%s)
    stamp="$tmp/$t.stamp"
    touch "$stamp"
    if nice "${fixed[@]}" cargo +nightly fuzz run "$t" "${corpus[@]}" -- "${flags[@]}" "${limits[@]}" \
        >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        fail=1
    fi
    took=$(($(date +%s) - start))
    used=$(sed -n 's/^INFO: Seed: //p' "$log" | head -n1)
    if [ "$status" = CRASH ]; then
        echo "== $t: crash (libFuzzer seed ${used:-?})" >&2
        grep -E -A8 "panicked|ERROR" "$log" >&2 || tail -n 30 "$log" >&2
        saved=0
        while IFS= read -r a; do
            cp "$a" "regressions/$t/"
            f="regressions/$t/$(basename "$a")"
            saved=1
            echo "   saved as a regression input: fuzz/$f (commit it with the fix)" >&2
            echo "   reproduce: cd fuzz && cargo +nightly fuzz run $t $f" >&2
            echo "   print it as values: cd fuzz && cargo +nightly fuzz fmt $t $f" >&2
        done < <(find "artifacts/$t" -type f -newer "$stamp")
        [ "$saved" = 1 ] || echo "   (libFuzzer wrote no input; see the log above)" >&2
        if [ "$mode" = test ]; then
            echo "   the same run again: make test-fuzz-smoke FUZZ_TARGETS=$t (-seed=$seed -runs=$runs)" >&2
        else
            echo "   this run again: cd fuzz && cargo +nightly fuzz run $t ${corpus[*]} -- -seed=$used" \
                "-max_total_time=$seconds (it follows the same path only from the same corpus)" >&2
        fi
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
    last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n1 || true)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
    rows+=("$(printf '%-13s %-6s %7ss %11s %9s %6s %8s %7s %8s %8s %11s' \
        "$t" "$status" "$took" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
        "${rss:-?}MB" "$n" "${used:-?}")")
done

# Every committed input once more on the core's `narrow` build (16-bit stored indices, as
# the firmware builds it; its own target directory, so neither build undoes the other):
# the same rules must hold on both widths.
narrow=(--features narrow --target-dir target-narrow)
nice cargo +nightly fuzz build "${narrow[@]}"
for t in "${targets[@]}"; do
    if ! replay "$t" narrow "${narrow[@]}"; then
        fail=1
        rows+=("$(printf '%-13s %-6s' "$t" REPLAY) (narrow build)")
    elif [ "$n" -gt 0 ]; then
        rows+=("$(printf '%-13s %-6s %s' "$t" ok "narrow build: $n inputs replayed")")
    fi
done

echo
printf '%-13s %-6s %8s %11s %9s %6s %8s %7s %8s %8s %11s\n' \
    target status time execs execs/s cov features corpus peak-rss replayed seed
for r in "${rows[@]}"; do echo "$r"; done
exit "$fail"
