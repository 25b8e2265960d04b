"""Scheduled retraining outside Kubeflow: run only on new data, never two runs on one root.

`tfxgate run CONFIG --if-new-data` (e.g. from cron) asks `newest_input` what the
newest input is and compares it with what the last successful run recorded in
`<root>/last_success.json`; equal means there is nothing to do. Today the
newest input is the fingerprint (path, size, mtime) of the files `data.path`
matches; when ingestion with spans lands, `newest_input` returns the newest
span instead and nothing else changes.

`pipeline_lock` is an `fcntl` lock on `<root>/tfxgate.lock`, held for the whole
run: a second invocation on the same root either waits for it or stops with a
message naming the holder. The kernel releases the lock when the holder dies,
so a crashed run never leaves a stale lock behind.

No TFX imports: the "nothing new" answer comes back in about a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import time
from pathlib import Path
from typing import Iterator, Optional

from tfxgate.pipelines.config import PipelineConfig

LAST_SUCCESS = "last_success.json"
LOCK_FILE = "tfxgate.lock"


class PipelineLocked(RuntimeError):
    """Another tfxgate process holds the pipeline's lock."""


def newest_input(config: PipelineConfig) -> dict:
    """What the newest input is, as a JSON-able value comparable between runs."""
    files = sorted(glob.glob(config.data.path))
    return {"kind": "files", "files": [[path, os.stat(path).st_size, os.stat(path).st_mtime_ns] for path in files]}


def last_processed(root: Path) -> Optional[dict]:
    """The input the last successful run processed, or None before the first one."""
    path = root / LAST_SUCCESS
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("input")


def has_new_data(config: PipelineConfig) -> bool:
    return newest_input(config) != last_processed(config.pipeline.root)


def record_success(config: PipelineConfig, *, run_id: str, processed: dict) -> None:
    """Records the input a successful run processed (written atomically)."""
    config.pipeline.root.mkdir(parents=True, exist_ok=True)
    path = config.pipeline.root / LAST_SUCCESS
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "input": processed}, indent=2))
    tmp.replace(path)


@contextlib.contextmanager
def pipeline_lock(root: Path, *, wait: bool = False, poll_seconds: float = 1.0) -> Iterator[bool]:
    """Holds the root's lock for the block; yields True if it had to wait for it.

    Raises:
      PipelineLocked: the lock is held and `wait` is False (the message names the holder).
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_FILE
    with path.open("a+") as handle:
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown process"
                    raise PipelineLocked(
                        f"another tfxgate run holds the lock on {root} ({holder}); "
                        "not starting a second one (use --wait to wait for it)"
                    ) from None
                waited = True
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}")
        handle.flush()
        try:
            yield waited
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
