"""Named failpoints: make the process SIGKILL itself at a chosen durable step, for crash tests.

    TFXGATE_FAILPOINTS=publish.after_rename tfxgate run configs/taxi.yaml

`hit(name)` does nothing unless `name` is listed (comma-separated) in the
environment variable `TFXGATE_FAILPOINTS`; then it kills its own process with
SIGKILL (no cleanup, no `finally`, no atexit: what a power cut or the OOM
killer does). The variable is read once per process and the check is one set
lookup, so a failpoint costs nothing in a normal run. `NAMES` lists every
failpoint the code declares (README "Crash safety" documents them); an unknown
name in the variable is refused, so a typo cannot make a crash test pass
vacuously.
"""

from __future__ import annotations

import functools
import os
import signal

ENV = "TFXGATE_FAILPOINTS"

# Every failpoint in the code, in the order a push reaches them. Keep README "Crash safety" in step.
NAMES: dict[str, str] = {}


def declare(name: str, description: str) -> str:
    """Registers a failpoint name (at import time of the module that hits it) and returns it."""
    NAMES[name] = description
    return name


@functools.lru_cache(maxsize=1)
def _armed() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip())


def hit(name: str) -> None:
    """SIGKILLs this process when `name` is armed in TFXGATE_FAILPOINTS; otherwise returns at once."""
    armed = _armed()
    if not armed or name not in armed:
        return
    if name not in NAMES:
        raise ValueError(f"{ENV}: unknown failpoint {name!r} (known: {', '.join(sorted(NAMES))})")
    os.kill(os.getpid(), signal.SIGKILL)


def check_armed() -> None:
    """Raises ValueError when TFXGATE_FAILPOINTS names a failpoint no module declares (call after imports)."""
    unknown = sorted(_armed() - set(NAMES))
    if unknown:
        raise ValueError(f"{ENV}: unknown failpoint(s) {', '.join(unknown)} (known: {', '.join(sorted(NAMES))})")
