#!/bin/sh
# run.sh [BUILD] — runs `make bench`'s two sides on this machine, for each
# table type and operation the Erlang workloads then the heirloom ones
# (never both at once), and prints one line per workload:
#   <type>/<op>/<c|lua>/<N>t heirloom_ns=<x> erlang_ns=<y> ratio=<x/y>
# The raw output of each side is kept in BUILD/bench-erlang.txt and
# BUILD/bench-heirloom.txt. BENCH_N (default 1000000) sets the number of
# keys and of operations per workload. Measures only: never fails on a ratio.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
# run.sh BUILD store: the durable-store workloads instead (make bench-store)
if [ "${2:-}" = store ]; then exec ./bench/store_bench.sh "$build"; fi
n=${BENCH_N:-1000000}
erlang_out="$build/bench-erlang.txt"
heirloom_out="$build/bench-heirloom.txt"

load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
echo "bench: $n keys; load average $load before starting (anything else running adds noise)" >&2
: >"$erlang_out"
: >"$heirloom_out"
for type in set ordered_set; do
  for op in insert lookup update_counter mix90; do
    echo "bench: $type/$op ..." >&2
    erl -noshell +S 2 -pa "$build" -run ets_bench main "$n" "$type" "$op" >>"$erlang_out"
    "$build/table_bench" bench/table_bench.lua "$n" "$type/$op/" >>"$heirloom_out"
  done
done

# erlang <type> <op> <procs> <ns>  joined with
# heirloom <type> <op> <api> <threads> <ns>
awk '
  FILENAME == ARGV[1] && $1 == "erlang" { erlang[$2 " " $3 " " $4] = $5; next }
  $1 == "heirloom" {
    key = $2 " " $3 " " $5
    name = $2 "/" $3 "/" $4 "/" $5 "t"
    if (!(key in erlang) || erlang[key] + 0 == 0 || $6 + 0 == 0) {
      printf "%s heirloom_ns=%s erlang_ns=? ratio=?\n", name, $6
      next
    }
    printf "%s heirloom_ns=%s erlang_ns=%s ratio=%.2f\n", name, $6, erlang[key], $6 / erlang[key]
  }
' "$erlang_out" "$heirloom_out"
