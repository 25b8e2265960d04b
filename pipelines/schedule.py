"""Scheduled retraining outside Kubeflow: run only on new data, never two runs on one root.

`tfxgate run CONFIG --if-new-data` (e.g. from cron) decides with `new_data`:

- **Versioned data** (`{SPAN}`, `{VERSION}` or a date in `data.path`): the newest
  span the pattern resolves to now (spans.py, as ExampleGen resolves it) against
  the span of the Ingest `Examples` artifact of the last successful run, read
  from ML Metadata (the run id is in `<root>/last_success.json`). A span that
  was processed is not processed again, however its files are touched.
- **Unversioned data**: the fingerprint (path, size, mtime) of the files
  `data.path` matches against the one the last successful run recorded in
  `<root>/last_success.json`: a file whose content changed is re-ingested.

`pipeline_lock` is the storage layer's run lock (`storage.RUN_LOCK_FILE`,
`<root>/tfxgate.lock`), held for the whole run: a second invocation on the same
root either waits for it or stops with a message naming the holder. The kernel releases the lock when the holder dies,
so a crashed run never leaves a stale lock behind.

No TFX imports: the "nothing new" answer comes back in about a second.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from tfxgate import storage
from tfxgate.pipelines import spans
from tfxgate.pipelines.config.root import PipelineConfig

LAST_SUCCESS = "last_success.json"


class PipelineLocked(RuntimeError):
    """Another tfxgate process holds the pipeline's lock."""


def newest_input(config: PipelineConfig) -> dict:
    """What the newest input is, as a JSON-able value recorded with a successful run."""
    span = spans.newest_span(config)
    if span is not None:
        return {"kind": "span", "span": span.span, "version": span.version}
    files = sorted(glob.glob(config.data.path))
    return {"kind": "files", "files": [[path, os.stat(path).st_size, os.stat(path).st_mtime_ns] for path in files]}


def last_success(root: Path) -> Optional[dict]:
    """`{"run_id", "input"}` of the last successful run, or None before the first one."""
    path = root / LAST_SUCCESS
    return json.loads(path.read_text()) if path.exists() else None


@dataclass(frozen=True)
class Decision:
    """Whether to run, and the sentence that says why not."""

    new: bool
    reason: str = ""


def new_data(config: PipelineConfig) -> Decision:
    """Decides whether there is input the last successful run has not processed (see module doc)."""
    name = config.pipeline.name
    recorded = last_success(config.pipeline.root)
    if recorded is None:
        return Decision(True)
    newest = spans.newest_span(config)
    if newest is None:
        if newest_input(config) != recorded.get("input"):
            return Decision(True)
        return Decision(False, f"no new data for '{name}' since the last successful run; nothing to do")
    processed = _processed_span(config, run_id=recorded["run_id"])
    if processed is None:
        return Decision(True)
    if newest.version is None:
        processed = spans.Span(processed.span)
    if newest != processed:
        return Decision(True)
    return Decision(
        False,
        f"{newest} of '{name}' ({config.data.path}) was already processed by the last successful run "
        f"({recorded['run_id']}); nothing to do",
    )


def has_new_data(config: PipelineConfig) -> bool:
    return new_data(config).new


def _processed_span(config: PipelineConfig, *, run_id: str) -> Optional[spans.Span]:
    """The span the run ingested, from ML Metadata (None if the store or the run is not there)."""
    from tfxgate.mlmd.settings import SqliteMetadata
    from tfxgate.mlmd.store import open_store, sqlite_path

    section = config.metadata
    if isinstance(section, SqliteMetadata) and not sqlite_path(section, root=config.pipeline.root).exists():
        return None
    store = open_store(section, root=config.pipeline.root, read_only=isinstance(section, SqliteMetadata))
    return spans.ingested_span(store, run_id=run_id)


def record_success(config: PipelineConfig, *, run_id: str, processed: dict) -> None:
    """Records the input a successful run processed (written atomically)."""
    storage.write_json(config.pipeline.root / LAST_SUCCESS, {"run_id": run_id, "input": processed})


@contextlib.contextmanager
def pipeline_lock(root: Path, *, wait: bool = False) -> Iterator[bool]:
    """Holds the root's lock for the block; yields True if it had to wait for it.

    Raises:
      PipelineLocked: the lock is held and `wait` is False (the message names the holder).
    """
    with contextlib.ExitStack() as stack:
        try:
            held = stack.enter_context(storage.file_lock(root / storage.RUN_LOCK_FILE, wait=wait))
        except storage.LockHeld as err:
            raise PipelineLocked(
                f"another tfxgate run holds the lock on {root} ({err.holder}); "
                "not starting a second one (use --wait to wait for it)"
            ) from None
        yield held.waited
