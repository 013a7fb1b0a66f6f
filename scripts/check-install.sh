#!/bin/sh
# scripts/check-install.sh — heirloom as a user gets it from `make install`
# and from luarocks, checked in temporary directories (make check-install
# runs it; it takes about 15 seconds):
#   make install PREFIX=TMP installs every file, with the SONAME's links,
#   and an archive without GCC's link-time code;
#   examples/embed compiles with `pkg-config --cflags --libs heirloom`
#   (PKG_CONFIG_PATH=TMP/lib/pkgconfig, no flag of the source tree) and
#   runs on the installed shared library (LD_LIBRARY_PATH=TMP/lib: TMP is
#   no system prefix) and the installed Lua library;
#   test/install_check.lua runs with package.path and package.cpath
#   holding TMP's Lua directories alone (TMP is not on Lua's default paths);
#   TMP/bin/heirloom runs test/install_app with no LUA_PATH, LUA_CPATH or
#   HEIRLOOM_LUA_DIR: it finds the Lua library it was installed with;
#   luarocks --lua-version 5.4 --tree TMP2 make installs the module and its
#   Lua files, and test/install_check.lua runs from TMP2 alone;
#   make install DESTDIR=STAGE PREFIX=/usr stages under STAGE/usr with a
#   heirloom.pc that says /usr;
#   make uninstall (with the same variables) leaves no file behind.
# Every check prints a line; "N passed, N failed" ends the output.
set -u
make=${MAKE:-make}
build=${BUILD:-build}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
passed=0
failed=0

# check WHAT COMMAND...: runs the command, its output to $tmp/out.
check() {
  what=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1))
    echo "check-install: ok: $what"
  else
    failed=$((failed + 1))
    echo "check-install: FAILED: $what"
    sed 's/^/  /' "$tmp/out" | tail -n 30
  fi
}

# Nothing from the source tree or the caller's environment may help.
clean_env() {
  env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u HEIRLOOM_LUA_DIR \
      -u HEIRLOOM_BUILD -u LD_LIBRARY_PATH -u PKG_CONFIG_PATH "$@"
}

files_installed() {   # PREFIX_DIR
  for f in include/heirloom.h lib/libheirloom.a lib/libheirloom.so lib/libheirloom.so.$major \
           lib/libheirloom.so.$version lib/pkgconfig/heirloom.pc bin/heirloom \
           share/man/man1/heirloom.1 lib/lua/5.4/heirloom.so \
           share/lua/5.4/heirloom/supervisor.lua share/lua/5.4/heirloom/server.lua \
           share/lua/5.4/heirloom/tablemgr.lua; do
    [ -e "$1/$f" ] || { echo "missing: $1/$f"; return 1; }
  done
  [ "$(readlink "$1/lib/libheirloom.so")" = "libheirloom.so.$version" ] &&
    [ "$(readlink "$1/lib/libheirloom.so.$major")" = "libheirloom.so.$version" ] &&
    readelf -d "$1/lib/libheirloom.so.$version" | grep -q "Library soname: \[libheirloom.so.$major\]"
}

# The build's objects may carry GCC's link-time code (Makefile, LTO), which
# only the GCC that wrote it can read: the installed archive has none.
archive_plain() {
  sections=$(readelf -S -W "$prefix/lib/libheirloom.a") &&
    echo "$sections" | grep -q '\.text' &&
    ! echo "$sections" | grep -q '\.gnu\.lto_'
}

nothing_left() {   # DIR: no file or link under it
  left=$(find "$1" ! -type d)
  [ -z "$left" ] || { echo "left behind:"; echo "$left"; return 1; }
}

# shellcheck disable=SC2086 # pkg-config's flags are words
embed_builds() {
  flags=$(clean_env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs heirloom) &&
    echo "flags: $flags" &&
    ${CC:-cc} -Wall -Wextra -Werror -o "$tmp/embed" examples/embed/embed.c $flags
}

embed_runs() {
  clean_env LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/embed" |
    grep -q "libheirloom.so.$major => $prefix/lib/libheirloom.so.$major" &&
    clean_env LD_LIBRARY_PATH="$prefix/lib" "$tmp/embed" "$root" "$prefix/share/lua/5.4"
}

lua_runs() {   # CMOD_DIR LMOD_DIR
  clean_env LUA_CPATH="$1/?.so" LUA_PATH="$2/?.lua;$2/?/init.lua" \
    lua5.4 test/install_check.lua "$1" "$2"
}

command_runs() {
  out=$(cd "$tmp" && clean_env "$prefix/bin/heirloom" run "$root/test/install_app/app.lua") &&
    echo "$out" &&
    [ "$out" = "hello: hello, with $prefix/share/lua/5.4/heirloom/server.lua" ] &&
    clean_env "$prefix/bin/heirloom" --version | grep -q "^heirloom $version "
}

rock_installs() {
  BUILD=$build luarocks --lua-version 5.4 --tree "$tmp/rocks" make heirloom-scm-1.rockspec
}

staged() {
  [ -e "$tmp/stage/usr/include/heirloom.h" ] && files_installed "$tmp/stage/usr" &&
    grep -qx "prefix=/usr" "$tmp/stage/usr/lib/pkgconfig/heirloom.pc" &&
    grep -qx "lua_lmod=/usr/share/lua/5.4" "$tmp/stage/usr/lib/pkgconfig/heirloom.pc"
}

major=$(awk '$2 == "HL_VERSION_MAJOR" { print $3 }' include/heirloom.h)
version=$major.$(awk '$2 == "HL_VERSION_MINOR" { print $3 }' include/heirloom.h)
version=$version.$(awk '$2 == "HL_VERSION_PATCH" { print $3 }' include/heirloom.h)

check "make install PREFIX=$prefix" "$make" --no-print-directory install BUILD="$build" \
  PREFIX="$prefix" LDCONFIG=:
check "every file installed, libheirloom.so.$version with SONAME libheirloom.so.$major" \
  files_installed "$prefix"
check "the installed libheirloom.a holds plain code alone" archive_plain
check "examples/embed compiles with pkg-config --cflags --libs heirloom alone" embed_builds
check "examples/embed runs on the installed library (LD_LIBRARY_PATH=$prefix/lib)" embed_runs
check "the installed module and Lua library alone run a node" \
  lua_runs "$prefix/lib/lua/5.4" "$prefix/share/lua/5.4"
check "the installed heirloom command runs an application with no environment" command_runs
check "make uninstall PREFIX=$prefix" "$make" --no-print-directory uninstall BUILD="$build" \
  PREFIX="$prefix" LDCONFIG=:
check "nothing left in $prefix" nothing_left "$prefix"

check "luarocks --lua-version 5.4 --tree $tmp/rocks make" rock_installs
check "the module and Lua library of the rock tree alone run a node" \
  lua_runs "$tmp/rocks/lib/lua/5.4" "$tmp/rocks/share/lua/5.4"

check "make install DESTDIR=$tmp/stage PREFIX=/usr" "$make" --no-print-directory install \
  BUILD="$build" DESTDIR="$tmp/stage" PREFIX=/usr
check "staged under DESTDIR, for /usr" staged
check "make uninstall DESTDIR=$tmp/stage PREFIX=/usr" "$make" --no-print-directory uninstall \
  BUILD="$build" DESTDIR="$tmp/stage" PREFIX=/usr
check "nothing left in $tmp/stage" nothing_left "$tmp/stage"

# The build tree's command again has the default install directory in it.
"$make" --no-print-directory "$build/heirloom" BUILD="$build" >/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
