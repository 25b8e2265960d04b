"""One advisory file lock (`fcntl.flock`), the only one tfxgate takes.

The kernel releases an `flock` when its holder dies, so a killed run, push or
decision never leaves a stale lock behind. While held, the lock file says who
holds it (`pid N since TIME`), so a refusal can name the holder.

    with file_lock(root / RUN_LOCK_FILE, wait=False):   # LockHeld if taken
        ...
    with file_lock(path, on_held=print) as held:          # waits; says so first
        held.waited
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

# The pipeline root's run lock: `tfxgate run` holds `<root>/tfxgate.lock` for the whole run
# (pipelines/schedule.py); recovery takes it to tell a dead run's RUNNING executions from a live one's.
RUN_LOCK_FILE = "tfxgate.lock"


class LockHeld(RuntimeError):
    """Another process holds the lock and the caller chose not to wait."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is held by {holder}")
        self.path = path
        self.holder = holder


@dataclass
class Held:
    """The lock while the block runs: whether taking it meant waiting for another holder."""

    path: Path
    waited: bool


@contextlib.contextmanager
def file_lock(path: Path, *, wait: bool = True, on_held: Optional[Callable[[str], None]] = None) -> Iterator[Held]:
    """Holds an exclusive lock on `path` (created, with its directory) for the block.

    Args:
      path: the lock file.
      wait: True blocks until the holder lets go; False raises LockHeld at once.
      on_held: called with the holder's description (`pid N since TIME`) when the
        lock is taken by someone else, before waiting or raising (e.g. to print
        "waiting for ...").

    Raises:
      LockHeld: the lock is held elsewhere and `wait` is False; `.holder` names it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        waited = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            if on_held is not None:
                on_held(holder)
            if not wait:
                raise LockHeld(path, holder) from None
            fcntl.flock(handle, fcntl.LOCK_EX)
            waited = True
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}")
        handle.flush()
        try:
            yield Held(path, waited)
        finally:
            handle.truncate(0)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
