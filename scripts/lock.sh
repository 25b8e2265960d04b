#!/usr/bin/env bash
# Re-resolve requirements/lock.txt from requirements/requirements.in.
#
# TFX 1.16 declares Requires-Python <3.11 although every compiled dependency ships
# cp311 wheels, so we resolve for 3.10 and install into 3.11 (scripts/install.sh
# then runs `pip check`, which applies the real 3.11 markers). The protobuf override
# lifts tensorflow-metadata's py<3.11 `protobuf<4.21` marker; --exclude-newer keeps
# the resolution reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_PYTHON_DOWNLOADS=never uv pip compile \
  --python-version 3.10 --python-platform x86_64-manylinux_2_35 \
  --override requirements/overrides.txt --exclude-newer 2025-06-01 \
  --no-header --annotation-style line \
  requirements/requirements.in -o requirements/lock.txt
