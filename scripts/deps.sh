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
$sudo apt-get update -qq || true
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
