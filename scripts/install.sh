#!/usr/bin/env bash
# Create .venv and install the locked TFX stack plus tfxgate (editable) into it.
#
# Idempotent and fast (~30 s on a fresh machine): uv installs the pre-resolved lock
# with --no-deps, so pip's resolver never backtracks over the TFX dependency tree.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
UV_VERSION=0.13.9

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
echo "[install] installing the locked stack (requirements/lock.txt)"
UV_PYTHON_DOWNLOADS=never .venv/bin/uv pip install --quiet --python .venv/bin/python \
  --no-deps -r requirements/lock.txt
UV_PYTHON_DOWNLOADS=never .venv/bin/uv pip install --quiet --python .venv/bin/python \
  --no-deps --no-build-isolation -e .
.venv/bin/python -m pip check
echo "[install] done: $(.venv/bin/tfxgate --version)"
