#!/bin/sh
# fuzz.sh BUILD short|long [SECONDS] — runs the libFuzzer targets built in
# BUILD (make fuzz-build) from the corpora in fuzz/corpus/<target>.
#
# Each target first replays every file of its corpus (each one passes or
# fails like a test), then fuzzes for SECONDS from there: `short` (10 s by
# default, part of `make test`) keeps nothing it finds; `long` (600 s by
# default, `make fuzz`) keeps the inputs that reach new code in
# BUILD/corpus/<target>, to start from next time. A crash leaves its input
# in BUILD/crashes/<target>/ (crash-*, leak-*, timeout-*), and fails.
# Prints "fuzz_<target>: N passed, N failed" per target and a total line.
set -u
build=$1
mode=$2
case "$mode" in
  short) secs=${3:-10} ;;
  long) secs=${3:-600} ;;
  *) echo "usage: fuzz.sh BUILD short|long [SECONDS]" >&2; exit 2 ;;
esac

# What the sanitizers report is a failure; leaks too (the targets free
# what they make).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

total_passed=0
total_failed=0
for target in term mspec dist; do
  bin=$build/fuzz_$target
  seeds=fuzz/corpus/$target
  crashes=$build/crashes/$target
  mkdir -p "$crashes"
  passed=0
  failed=0
  # 1. the corpus, one input at a time
  nseeds=$(find "$seeds" -type f | wc -l)
  if find "$seeds" -type f -print0 | xargs -0 "$bin" -artifact_prefix="$crashes/" \
       >"$build/replay-$target.log" 2>&1; then
    passed=$((passed + nseeds))
  else
    failed=$((failed + 1))
    tail -n 30 "$build/replay-$target.log"
  fi
  # 2. fuzzing from there
  if [ "$mode" = long ]; then
    found=$build/corpus/$target
    mkdir -p "$found"
  else
    found=$(mktemp -d)
  fi
  if "$bin" -max_total_time="$secs" -artifact_prefix="$crashes/" -print_final_stats=1 \
       "$found" "$seeds" >"$build/fuzz-$target.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    tail -n 40 "$build/fuzz-$target.log"
  fi
  [ "$mode" = long ] || rm -rf "$found"
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$build/fuzz-$target.log" | grep -oE '[0-9]+$')
  echo "fuzz_$target: ${runs:-0} inputs in ${secs} s from $nseeds seeds; $passed passed, $failed failed"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done
echo "fuzz: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
