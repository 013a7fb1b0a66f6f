#!/bin/sh
# run-tests.sh BUILD "TESTS" [asan|tsan] [FUZZBUILD] — runs the C test
# binaries, the layer check (scripts/layers.sh, when LAYERS is set), the
# export check (scripts/exports.sh), a short run of the fuzz targets built in FUZZBUILD (if given:
# scripts/fuzz.sh) and every busted spec against BUILD, prints each suite's
# "N passed, N failed" and last a total line of the same form. Exits
# non-zero if anything failed.
set -u
build=$1
tests=$2
san=${3:-}
fuzz=${4:-}

passed=0
failed=0
count() {   # adds "N passed, M failed" from the last such line of $1
  line=$(printf '%s\n' "$1" | grep -oE '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    failed=$((failed + 1))   # the suite crashed before its summary
    return 1
  fi
  p=$(printf '%s' "$line" | awk '{print $1}')
  f=$(printf '%s' "$line" | awk '{print $3}')
  passed=$((passed + p))
  failed=$((failed + f))
}

preload=""
case "$san" in
  asan)
    preload=$(${CC:-cc} -print-file-name=libasan.so)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  tsan)
    # and test/tsan_longjmp.c after it, for busted: TSan then sees Lua's
    # long jumps
    preload="$(${CC:-cc} -print-file-name=libtsan.so) $build/tsan_longjmp.so"
    # die_after_fork=0: specs run child Lua programs through io.popen.
    # detect_deadlocks=0: TSan's lock-order checker tracks at most 64 locks
    # held by one thread and aborts beyond; a whole-table operation on a
    # set (delete_all_objects, say) holds all 64 of its stripes, so
    # one lock more anywhere inside it would abort the run. Data races are
    # still reported.
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:detect_deadlocks=0
    ;;
esac

# The C tests link the sanitizer's runtime and run without a preload: the
# shell that their system() calls start would inherit it, and /bin/sh does
# not run with TSan's runtime preloaded.
for t in $tests; do
  out=$("$build/$t" 2>&1)
  status=$?
  printf '%s\n' "$out"
  # a suite that exits non-zero after claiming no failure (a sanitizer's
  # report at exit, say) counts as one failure more
  if count "$out" && [ $status -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
done

# the layers of src/ call only downward (LAYERS: its folders, lowest first)
if [ -n "${LAYERS:-}" ]; then
  # shellcheck disable=SC2086
  out=$(./scripts/layers.sh "$build" $LAYERS 2>&1)
  printf 'layers: %s\n' "$out" | tail -n 1
  printf '%s\n' "$out" | grep '^layers:'
  count "$out"
fi

# the shared library and the Lua module export the public API alone
out=$(./scripts/exports.sh "$build" 2>&1)
printf '%s\n' "$out" | grep '^exports:'
printf 'exports: %s\n' "$(printf '%s\n' "$out" | tail -n 1)"
count "$out"

if [ -n "$fuzz" ]; then
  out=$(./scripts/fuzz.sh "$fuzz" short 2>&1)
  printf '%s\n' "$out"
  count "$out"
fi

# busted, under the sanitizer's runtime when the module was built with one.
# The Lua interpreter and busted's own C modules are not ours: leaks in
# them are not checked.
export LUA_CPATH="$build/?.so;;"
export LUA_PATH="$(pwd)/lua/?.lua;$(pwd)/lua/?/init.lua;;"
if [ "$san" = asan ]; then export ASAN_OPTIONS=detect_leaks=0; fi
# Under ThreadSanitizer the specs tagged #child are left out: they start a
# second Lua through io.popen, whose /bin/sh crashes with the TSan runtime
# preloaded. They run in the plain and the ASan passes.
exclude=""
[ "$san" = tsan ] && exclude="--exclude-tags=child"
# The sanitizer, for specs whose size must bend to it (explore_spec.lua)
export HEIRLOOM_SAN="$san"
ok=0
notok=0
# One busted run over its arguments: prints all but the passing lines and
# adds to ok and notok (a run that fails with no failing test: one more).
busted_run() {
  out=$(LD_PRELOAD="$preload" lua5.4 /usr/bin/busted --output=TAP $exclude "$@" 2>&1)
  status=$?
  printf '%s\n' "$out" | grep -vE '^ok '
  o=$(printf '%s\n' "$out" | grep -cE '^ok ')
  n=$(printf '%s\n' "$out" | grep -cE '^not ok ')
  if [ $status -ne 0 ] && [ "$n" -eq 0 ]; then n=1; fi
  ok=$((ok + o))
  notok=$((notok + n))
}
if [ "$san" = tsan ]; then
  # ThreadSanitizer keeps what it learnt of every thread that ever ran,
  # and each node start makes threads: one busted per spec file gives that
  # memory back after each file (one run of them all reached 12 GB).
  for f in spec/*_spec.lua; do busted_run "$f"; done
else
  busted_run spec
fi
if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ]; then
  notok=1   # busted ran nothing
fi
echo "busted: $ok passed, $notok failed"
passed=$((passed + ok))
failed=$((failed + notok))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
