#!/bin/sh
# deps.sh — installs what heirloom needs from Debian's packages, only what
# is missing. Run by the Makefile before anything is built.
set -eu

need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for pkg in "$@"; do
  have_pkg "$pkg" || need="$need $pkg"
done
[ -z "$need" ] && exit 0

echo "heirloom: installing missing packages:$need"
if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "heirloom: cannot install$need: not root and no password-less sudo." >&2
  echo "heirloom: run as root:  apt-get install$need" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A package may bring an older Lua whose alternative outranks lua5.4's
# (luarocks needs lua5.1, 5.2 or 5.3; Debian ranks lua5.4 lowest): the
# `lua` and `luac` commands that busted and the specs run stay what they
# were.
# Where there was no such command yet, it becomes Lua 5.4's. (readlink -f
# would name the missing path itself, which no alternative is.)
bin=${HEIRLOOM_BINDIR:-/usr/bin}   # where lua and luac are (tests move it)
lua_was=$(readlink -e "$bin/lua" 2>/dev/null || echo "$bin/lua5.4")
luac_was=$(readlink -e "$bin/luac" 2>/dev/null || echo "$bin/luac5.4")
$sudo apt-get update -qq || true
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
keep() {   # ALTERNATIVE COMMAND WAS
  if [ "$(readlink -e "$2")" != "$3" ] &&
     update-alternatives --list "$1" 2>/dev/null | grep -qx "$3"; then
    $sudo update-alternatives --set "$1" "$3" >/dev/null
  fi
}
keep lua-interpreter "$bin/lua" "$lua_was"
keep lua-compiler "$bin/luac" "$luac_was"
