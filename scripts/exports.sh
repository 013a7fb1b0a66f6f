#!/bin/sh
# scripts/exports.sh — the shared library and the Lua module export the
# public API and nothing else. Usage: scripts/exports.sh BUILD
#
# Checked with nm -D on BUILD/libheirloom.so and BUILD/heirloom.so (the
# build hides every other name with -fvisibility=hidden), every offence
# printed, and "N passed, N failed" last like the other suites':
#   each exported function is declared in include/heirloom.h, or is the
#   Lua module's opener luaopen_heirloom;
#   each function declared in include/heirloom.h is exported by both;
#   the shared library's SONAME is libheirloom.so.MAJOR (HL_VERSION_MAJOR).
set -u
build=$1
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "exports: $*"; }

# A declaration starts a line with its type: comments and macros do not.
declared=$(sed -n 's/^[A-Za-z_][^(]*[ *]\(hl_[a-z0-9_]*\)(.*/\1/p' include/heirloom.h | sort -u)
if [ -n "$declared" ]; then ok; else fail "no function found declared in include/heirloom.h"; fi

for lib in "$build/libheirloom.so" "$build/heirloom.so"; do
  if ! exported=$(nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u); then
    fail "$lib: nm failed"
    continue
  fi
  extra=0
  for sym in $exported; do
    case "$sym" in
      luaopen_heirloom) ;;
      # the linker's own markers of the image's sections
      _init|_fini|_edata|_end|__bss_start) ;;
      *)
        if ! printf '%s\n' "$declared" | grep -qx "$sym"; then
          extra=$((extra + 1))
          echo "exports: $lib exports $sym, which include/heirloom.h does not declare"
        fi ;;
    esac
  done
  if [ "$extra" -eq 0 ]; then ok; else fail "$lib exports $extra names beyond the public API"; fi
  missing=0
  for sym in $declared; do
    if ! printf '%s\n' "$exported" | grep -qx "$sym"; then
      missing=$((missing + 1))
      echo "exports: $lib does not export $sym, declared in include/heirloom.h"
    fi
  done
  if [ "$missing" -eq 0 ]; then ok; else fail "$lib lacks $missing functions of the public API"; fi
done

major=$(awk '$2 == "HL_VERSION_MAJOR" { print $3 }' include/heirloom.h)
soname=$(readelf -d "$build/libheirloom.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" = "libheirloom.so.$major" ]; then ok
else fail "$build/libheirloom.so has SONAME '$soname', not libheirloom.so.$major"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
