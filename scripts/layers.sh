#!/bin/sh
# scripts/layers.sh — the layers of src/ call only downward
# (docs/architecture.md). Usage: scripts/layers.sh BUILD LAYER...
#
# LAYER... are the folders of src/, lowest first. Two checks, each
# printing every offence and ending with "N passed, N failed" like the
# other suites:
#   includes: a file may include a header of its own folder or of a folder
#             before it (and the public include/heirloom.h), nothing else;
#   symbols:  an object built from a folder's .c may use a function or
#             variable defined by its own folder or one before it; read
#             with nm from BUILD, so a call without an include is caught.
set -u
build=$1
shift
layers="$*"
passed=0
failed=0

rank() {                       # rank of a folder in the list, 0 if none
  i=1
  for l in $layers; do
    [ "$l" = "$1" ] && { echo $i; return; }
    i=$((i + 1))
  done
  echo 0
}

home_of_header() {             # the folder of src/ that holds header $1
  for l in $layers; do
    [ -f "src/$l/$1" ] && { echo "$l"; return; }
  done
}

symbols=$(mktemp)
trap 'rm -f "$symbols"' EXIT
# "def symbol folder" for what each object of src/ defines, then
# "use symbol folder file" for what it needs
for l in $layers; do
  for c in src/$l/*.c; do
    o="$build/$(basename "$c" .c).o"
    [ -f "$o" ] || continue
    nm --defined-only -g "$o" | awk -v l="$l" 'NF == 3 { print "def", $3, l }' >> "$symbols"
  done
done
for l in $layers; do
  for c in src/$l/*.c; do
    o="$build/$(basename "$c" .c).o"
    [ -f "$o" ] || continue
    nm --undefined-only -g "$o" | awk -v l="$l" -v f="$c" '{ print "use", $NF, l, f }' >> "$symbols"
  done
done
# the uses of a higher folder, as "file symbol folder"
upward=$(awk -v layers="$layers" '
  BEGIN { n = split(layers, a, " "); for (i = 1; i <= n; i++) rank[a[i]] = i }
  $1 == "def" { home[$2] = $3; next }
  $1 == "use" && ($2 in home) && rank[home[$2]] > rank[$3] { print $4, $2, home[$2] }
' "$symbols")

for l in $layers; do
  r=$(rank "$l")
  for f in src/$l/*.c src/$l/*.h; do
    [ -f "$f" ] || continue
    bad=0
    for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
      home=$(home_of_header "$h")
      [ -n "$home" ] || continue          # include/heirloom.h, generated files
      if [ "$(rank "$home")" -gt "$r" ]; then
        echo "layers: $f (src/$l) includes $h of src/$home, a higher layer"
        bad=1
      fi
    done
    case $f in
    *.c)
      o="$build/$(basename "$f" .c).o"
      if [ ! -f "$o" ]; then
        echo "layers: $o is missing (build first)"
        bad=1
      fi
      mine=$(echo "$upward" | awk -v f="$f" '$1 == f { print $2, $3 }')
      if [ -n "$mine" ]; then
        echo "$mine" | while read -r sym home; do
          echo "layers: $f (src/$l) uses $sym of src/$home, a higher layer"
        done
        bad=1
      fi
      ;;
    esac
    if [ $bad -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
