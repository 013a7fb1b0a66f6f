#!/bin/sh
# store_bench.sh [BUILD] — `make bench-store`: the durable-store workloads
# on Erlang (ETS and dets) then on heirloom, one after the other, one line
# each:  store/<workload> heirloom_ns=<x> erlang_ns=<y> ratio=<x/y>
# STORE_N (default 200000) inserts for memory and sync "none", STORE_NSYNC
# (default 2000) for sync "always", STORE_NLOAD (default 1000000) objects
# to load. Raw output in BUILD/bench-store-*.txt. Measures only.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
n=${STORE_N:-200000}
nsync=${STORE_NSYNC:-2000}
nload=${STORE_NLOAD:-1000000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/heirloom-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
erlang_out="$build/bench-store-erlang.txt"
heirloom_out="$build/bench-store-heirloom.txt"
echo "bench-store: $n inserts, $nsync synced inserts, $nload objects to load in $dir" >&2
erl -noshell -pa "$build" -run store_bench main "$n" "$nsync" "$nload" "$dir/erl" >"$erlang_out"
lua5.4 bench/store_bench.lua "$n" "$nsync" "$nload" "$dir/hl" >"$heirloom_out"
awk '
  FILENAME == ARGV[1] && $1 == "erlang" { erlang[$2] = $3; next }
  $1 == "heirloom" {
    if (!($2 in erlang) || erlang[$2] + 0 == 0) { printf "store/%s heirloom_ns=%s erlang_ns=? ratio=?\n", $2, $3; next }
    printf "store/%s heirloom_ns=%s erlang_ns=%s ratio=%.2f\n", $2, $3, erlang[$2], $3 / erlang[$2]
  }
' "$erlang_out" "$heirloom_out"
