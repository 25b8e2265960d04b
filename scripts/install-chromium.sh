#!/usr/bin/env bash
# Make Debian's chromium available for the browser test of `tfxgate report`
# (tests/test_report_browser.py renders a real run's report headless and checks it).
# CI runs as root on Debian 12; elsewhere the test is skipped, with the reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[install-chromium] not root or no apt-get: the browser test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "[install-chromium] installing chromium"
apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null; }
