#!/usr/bin/env bash
# Make Debian's mariadb-server available for the MySQL metadata tests (CI runs as root
# on Debian 12). Only installs the package: the tests start their own private server
# on loopback (tests/mariadb.py), so no system service is started or needed.
set -euo pipefail
if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[install-mariadb] not root or no apt-get: the MySQL tests will start a server only if one is configured" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "[install-mariadb] installing mariadb-server"
apt-get install -y --no-install-recommends mariadb-server >/dev/null \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends mariadb-server >/dev/null; }
