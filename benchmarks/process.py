"""Running one side of a benchmark in a fresh subprocess and timing it.

Every run gets its own interpreter so neither side profits from the other's
imports, compiled graphs or warm caches; the wall time therefore includes the
imports a user pays on every `tfxgate run` or stock script. Output goes to a log
file per run, which is named in the error if the run fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Every side runs on Keras 2 as TFX 1.16 and TFMA need it (TF 2.16 ships Keras 3): importing tfxgate
# sets this, but a stock side or a trainer module may import TensorFlow first.
SIDE_ENV = {"TF_USE_LEGACY_KERAS": "1"}


class SideFailed(RuntimeError):
    """A benchmarked command exited non-zero."""


def timed_run(command: Sequence[str], *, log: Path) -> float:
    """Runs `command` from the repo root (with `SIDE_ENV`), output to `log`; returns its wall seconds.

    Raises:
      SideFailed: with the exit code and the last lines of the log.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **SIDE_ENV}
    began = time.monotonic()
    with log.open("w") as handle:
        handle.write("$ " + " ".join(command) + "\n")
        handle.flush()
        completed = subprocess.run(list(command), cwd=REPO, env=full_env, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - began
    if completed.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise SideFailed(f"{command[0]} exited with {completed.returncode}; end of {log}:\n{tail}")
    return seconds
