#!/usr/bin/env bash
# apt-install.sh PROGRAM PACKAGE... : install Debian PACKAGEs unless PROGRAM is already there.
# Used by install-mariadb.sh and install-chromium.sh (CI runs as root on Debian 12). Without
# root or apt-get it only says so: the tests that need PROGRAM then skip, naming the reason.
set -euo pipefail
program=$1
shift
if command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || [ -x "/usr/bin/$program" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[install] not root or no apt-get: cannot install $*; the tests that need $program will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "[install] installing $*"
apt-get install -y --no-install-recommends "$@" >/dev/null \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
