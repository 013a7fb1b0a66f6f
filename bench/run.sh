#!/bin/sh
# run.sh [BUILD] — runs `make bench`'s two sides on this machine, one
# workload at a time, the Erlang side then the heirloom one (never both at
# once), and prints one line per workload. WHAT (environment) picks the
# part: `table`, `proc`, or `all` (the default).
#
# Tables, for each table type and operation:
#   <type>/<op>/<c|lua>/<N>t heirloom_ns=<x> erlang_ns=<y> ratio=<x/y>
# BENCH_N (default 1000000) sets the number of keys and of operations.
# Raw output: BUILD/bench-erlang.txt and BUILD/bench-heirloom.txt.
#
# Processes, for each workload, on 2 schedulers and (but for memory) on 0:
#   proc/<workload>/<S>s heirloom_<unit>=<x> erlang_<unit>=<y> ratio=<x/y> [goal: ...]
# BENCH_PROC_SCALE (default 1) multiplies every count (0.1: a quick check).
# Raw output: BUILD/bench-proc-erlang.txt and BUILD/bench-proc-heirloom.txt.
#
# Measures only: never fails on a ratio, and a goal is printed, not checked.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
# run.sh BUILD store: the durable-store workloads instead (make bench-store)
if [ "${2:-}" = store ]; then exec ./bench/store_bench.sh "$build"; fi

what=${WHAT:-all}
case "$what" in
  all|table|proc) ;;
  *) echo "bench: WHAT must be all, table or proc, not '$what'" >&2; exit 2 ;;
esac

load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
echo "bench: load average $load before starting (anything else running adds noise)" >&2

# ---- tables ----

if [ "$what" != proc ]; then
n=${BENCH_N:-1000000}
erlang_out="$build/bench-erlang.txt"
heirloom_out="$build/bench-heirloom.txt"
echo "bench: tables, $n keys" >&2
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
fi

# ---- processes ----

if [ "$what" != table ]; then
scale=${BENCH_PROC_SCALE:-1}
proc_erlang_out="$build/bench-proc-erlang.txt"
proc_heirloom_out="$build/bench-proc-heirloom.txt"
BENCH_PAGE_SIZE=$(getconf PAGESIZE 2>/dev/null || echo 4096)
export BENCH_PAGE_SIZE
LUA_PATH="$PWD/bench/support/?.lua;${LUA_PATH:-;}"
export LUA_PATH
echo "bench: processes, scale $scale" >&2
: >"$proc_erlang_out"
: >"$proc_heirloom_out"
for w in pingpong spawn_wait spawn_wait_fn spawn_all send_1to1 send_8to1 idle_info idle_node idle_rss; do
  echo "bench: proc/$w ..." >&2
  erl -noshell +S 2 -pa "$build" -run proc_bench main "$w" "$scale" >>"$proc_erlang_out"
  case $w in
    idle_*) schedulers="2" ;;        # what a process holds does not depend on them
    *) schedulers="2 0" ;;
  esac
  for s in $schedulers; do
    "${LUA:-lua5.4}" bench/proc_bench.lua "$s" "$w" "$scale" >>"$proc_heirloom_out"
  done
done

# erlang <workload> <unit> <figure>  joined with
# heirloom <workload> <schedulers> <unit> <figure>
awk '
  BEGIN {
    goal["pingpong"] = "ratio<=1.5"
    goal["spawn_wait"] = goal["spawn_wait_fn"] = goal["spawn_all"] = "ratio<=5"
    goal["idle_info"] = goal["idle_node"] = goal["idle_rss"] = "heirloom_bytes<=16384"
  }
  FILENAME == ARGV[1] && $1 == "erlang" { erlang[$2] = $4; next }
  $1 == "heirloom" {
    w = $2; unit = $4; h = $5 + 0
    name = "proc/" w "/" $3 "s"
    fmt = unit == "us" ? "%.2f" : "%.0f"     # microseconds; messages/s and bytes whole
    if (!(w in erlang) || erlang[w] + 0 == 0) {
      printf "%s heirloom_%s=" fmt " erlang_%s=? ratio=?\n", name, unit, h, unit
      next
    }
    e = erlang[w] + 0
    line = sprintf("%s heirloom_%s=" fmt " erlang_%s=" fmt " ratio=%.2f", name, unit, h, unit, e, h / e)
    if (w in goal) {
      g = goal[w]
      met = (g == "ratio<=1.5") ? h / e <= 1.5 : (g == "ratio<=5") ? h / e <= 5 : h <= 16384
      line = line sprintf(" goal: %s %s", g, met ? "met" : "missed")
    }
    print line
  }
' "$proc_erlang_out" "$proc_heirloom_out"
fi
