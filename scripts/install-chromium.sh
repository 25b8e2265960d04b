#!/usr/bin/env bash
# Make Debian's chromium available for the browser test of `tfxgate report`
# (tests/test_report_browser.py renders a real run's report headless and checks it).
set -euo pipefail
exec bash "$(dirname "$0")/apt-install.sh" chromium chromium fonts-dejavu-core
