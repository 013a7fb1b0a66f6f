#!/bin/sh
# scripts/layers.sh — the layers of src/ call only downward
# (docs/architecture.md). Usage: scripts/layers.sh BUILD LAYER...
#
# LAYER... are the folders of src/, lowest first. Each file of src/ is
# checked, every offence printed, and the line "N passed, N failed" ends
# the output like the other suites':
#   includes: a file may include a header of its own folder or of a folder
#             before it (and the public include/heirloom.h), nothing else;
#   symbols:  an object built from a folder's .c may use a function or
#             variable defined by its own folder or one before it; read
#             with nm from BUILD, so a call without an include is caught.
set -u
build=$1
shift
layers="$*"
facts=$(mktemp)
trap 'rm -f "$facts"' EXIT

# One line per fact, read by the awk program below:
#   file F L           F is a file of folder L
#   home H L           header H lives in folder L
#   inc F H            F includes "H"
#   obj O F            object O was built from F
#   def O S / use O S  O defines / needs symbol S
objects=""
for l in $layers; do
  for f in src/$l/*.c src/$l/*.h; do
    [ -f "$f" ] || continue
    echo "file $f $l"
    case $f in
    *.h) echo "home $(basename "$f") $l" ;;
    *.c)
      o="$build/$(basename "$f" .c).o"
      echo "obj $o $f"
      objects="$objects $o"
      ;;
    esac
  done
  grep -H '^#include "' src/$l/*.c src/$l/*.h 2>/dev/null |
    sed 's/^\([^:]*\):#include "\([^"]*\)".*/inc \1 \2/'
done > "$facts"
for o in $objects; do
  [ -f "$o" ] || echo "layers: $o is missing (build first)" >&2
done
# nm -A names the object on each line: "obj.o: [addr] type symbol"
# shellcheck disable=SC2086
nm -A -g --defined-only $objects 2>/dev/null | awk '{ sub(/:.*/, "", $1); print "def", $1, $NF }' >> "$facts"
# shellcheck disable=SC2086
nm -A -g --undefined-only $objects 2>/dev/null | awk '{ sub(/:.*/, "", $1); print "use", $1, $NF }' >> "$facts"

awk -v layers="$layers" -v build="$build" '
  BEGIN { n = split(layers, a, " "); for (i = 1; i <= n; i++) rank[a[i]] = i }
  $1 == "file" { folder[$2] = $3; files[++nfiles] = $2; next }
  $1 == "home" { home[$2] = $3; next }
  $1 == "inc" { incs[++ninc] = $2 " " $3; next }
  $1 == "obj" { source[$2] = $3; built[$3] = 1; next }
  $1 == "def" { defined_in[$3] = folder[source[$2]]; next }
  $1 == "use" { uses[++nuse] = $2 " " $3; next }
  END {
    for (i = 1; i <= ninc; i++) {
      split(incs[i], x, " ")
      if ((x[2] in home) && rank[home[x[2]]] > rank[folder[x[1]]]) {
        printf "layers: %s (src/%s) includes %s of src/%s, a higher layer\n",
               x[1], folder[x[1]], x[2], home[x[2]]
        bad[x[1]] = 1
      }
    }
    for (i = 1; i <= nuse; i++) {
      split(uses[i], x, " ")
      f = source[x[1]]
      if ((x[2] in defined_in) && rank[defined_in[x[2]]] > rank[folder[f]]) {
        printf "layers: %s (src/%s) uses %s of src/%s, a higher layer\n",
               f, folder[f], x[2], defined_in[x[2]]
        bad[f] = 1
      }
    }
    passed = failed = 0
    for (i = 1; i <= nfiles; i++) {
      f = files[i]
      if (f ~ /\.c$/) {
        o = f; sub(/.*\//, "", o); sub(/\.c$/, ".o", o)
        if (system("test -f \"" build "/" o "\"") != 0) bad[f] = 1
      }
      if (f in bad) failed++; else passed++
    }
    printf "%d passed, %d failed\n", passed, failed
    exit failed > 0
  }
' "$facts"
