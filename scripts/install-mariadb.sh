#!/usr/bin/env bash
# Make Debian's mariadb-server available for the MySQL metadata tests (CI runs as root
# on Debian 12). Only installs the package: the tests start their own private server
# on loopback (tests/mariadb.py), so no system service is started or needed.
set -euo pipefail
exec bash "$(dirname "$0")/apt-install.sh" mariadbd mariadb-server
