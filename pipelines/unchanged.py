"""The "nothing changed" rerun: decided from files and ML Metadata before TFX is imported.

A rerun whose every stage TFX would serve from its cache still costs the
imports of TensorFlow, TFX and Beam (tens of seconds) before TFX can find that
out. tfxgate decides it first, from what TFX's cache keys on, read without
those imports:

- the resolved config (every key, after `--set`),
- the content of every local file the config names (schema, trainer module,
  ...) and the size and modification time of every data file `data.path`
  matches (what ExampleGen fingerprints; all spans, so a new span counts),
- the installed tfxgate (its version and its files' sizes and times, so an
  edited checkout counts) and TFX versions,
- ML Metadata: the newest execution, artifact and context ids. Anything any
  process recorded since (an approval, a rollback, another run) changes them,
  so resolvers that read the store (pushed model, baseline) cannot resolve
  differently.

After a run that no stage failed, `record` keeps that fingerprint, taken when
the run started (ML Metadata's part when it ended), with the run's id and exit
code in `<root>/last_complete_run.json`. The next `run` on the same root
repairs what a killed process left (`governance.recovery`, which may itself
change the store), then compares: equal means nothing runs and the recorded
outcome stands (`tfxgate run --full` runs TFX anyway, which then records a run
of cached executions). Data on an object store, a disabled TFX cache or armed
failpoints always take the full path.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pydantic

from tfxgate import storage
from tfxgate.pipelines.config.inputs import data_files
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.storage import failpoints, filesystem

LAST_COMPLETE_RUN = "last_complete_run.json"
_PACKAGES = ("tfxgate", "tfxgate.components", "tfxgate.pipelines")
_NESTED = {"components", "pipelines"}  # inside tfxgate/ in a wheel; counted once, as their own packages
_HASHED_BYTES = 64 << 20  # a referenced file above this is fingerprinted by size and time, as data is


@dataclass(frozen=True)
class Previous:
    """The recorded run whose outcome an unchanged rerun repeats."""

    run_id: str
    exit_code: int
    status: str


def fingerprint(config: PipelineConfig) -> Optional[dict]:
    """What the run's cache keys depend on, outside ML Metadata; None when it cannot be told cheaply."""
    if not config.pipeline.enable_cache or failpoints.any_armed() or filesystem.is_remote(config.data.path):
        return None
    return {
        "config": config.model_dump(mode="json"),
        "files": [_file_key(path) for path in _referenced_files(config)],
        "data": [[path, *_stat(path)] for path in data_files(config.data.path)],
        "code": _code_key(),
    }


def previous(config: PipelineConfig, inputs: Optional[dict], store) -> Optional[Previous]:
    """The last complete run if nothing it depended on changed since (`store`: the run's ML Metadata)."""
    if inputs is None:
        return None
    path = config.pipeline.root / LAST_COMPLETE_RUN
    try:
        recorded = json.loads(path.read_text()) if path.exists() else None
    except ValueError:
        logging.exception("%s is unreadable; running every stage", path)
        return None
    if not recorded or recorded.get("inputs") != inputs or recorded.get("metadata") != metadata_marker(store):
        return None
    return Previous(recorded["run_id"], recorded["exit_code"], recorded["status"])


def unchanged_since(
    config: PipelineConfig, inputs: Optional[dict], *, notice: Callable[[str], None]
) -> Optional[Previous]:
    """`previous`, after repairing what a killed process left (a repair is a change: the run then runs)."""
    from tfxgate.governance import recovery
    from tfxgate.mlmd.settings import SqliteMetadata
    from tfxgate.mlmd.store import exclusive_use, open_store, sqlite_path

    root = config.pipeline.root
    if inputs is None or not (root / LAST_COMPLETE_RUN).exists():
        return None
    if isinstance(config.metadata, SqliteMetadata) and not sqlite_path(config.metadata, root=root).exists():
        return None
    with exclusive_use(config.metadata, root=root, waiting=notice):
        store = open_store(config.metadata, root=root)
        recovery.reconcile(store, config.governed(), log=lambda line: (logging.warning(line), notice(line)))
        return previous(config, inputs, store)


def record(config: PipelineConfig, inputs: Optional[dict], store, *, run_id: str, exit_code: int, status: str) -> None:
    """Keeps a complete run's fingerprint (taken before it ran) for the next `previous` (atomic write)."""
    path = config.pipeline.root / LAST_COMPLETE_RUN
    if inputs is None:
        path.unlink(missing_ok=True)
        return
    storage.write_json(
        path,
        {
            "run_id": run_id,
            "exit_code": exit_code,
            "status": status,
            "inputs": inputs,
            "metadata": metadata_marker(store),
        },
    )


def forget(config: PipelineConfig) -> None:
    """After a run some stage failed: the next run must run."""
    (config.pipeline.root / LAST_COMPLETE_RUN).unlink(missing_ok=True)


def metadata_marker(store) -> dict[str, int]:
    """The newest execution, artifact and context ids: any write to the store changes one of them."""
    from ml_metadata import metadata_store

    newest = metadata_store.ListOptions(limit=1, order_by=metadata_store.OrderByField.ID, is_asc=False)
    return {
        "execution": _first_id(store.get_executions(list_options=newest)),
        "artifact": _first_id(store.get_artifacts(list_options=newest)),
        "context": _first_id(store.get_contexts(list_options=newest)),
    }


def _first_id(found: list) -> int:
    return found[0].id if found else 0


def _referenced_files(config: PipelineConfig) -> list[Path]:
    """Every existing local file a config key names (directories such as the roots are not inputs)."""
    return sorted({path for path in _paths(config) if path.is_file()})


def _paths(value: Any) -> Iterator[Path]:
    if isinstance(value, Path):
        yield value
    elif isinstance(value, pydantic.BaseModel):
        for name in type(value).model_fields:
            yield from _paths(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _paths(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _paths(item)


def _file_key(path: Path) -> list:
    size, mtime = _stat(path)
    if size > _HASHED_BYTES:
        return [str(path), size, mtime]
    return [str(path), hashlib.sha256(path.read_bytes()).hexdigest()]


def _stat(path: str | Path) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_size, found.st_mtime_ns


def _code_key() -> dict:
    """The installed tfxgate (version and files, for an edited checkout) and TFX versions."""
    digest = hashlib.sha256()
    for package in _PACKAGES:  # an editable install maps them to three folders, a wheel nests them
        folder = Path(*importlib.util.find_spec(package).submodule_search_locations)
        for path in sorted(folder.glob("*.py")) + sorted(folder.glob("*/**/*.py")):
            if package == "tfxgate" and path.relative_to(folder).parts[0] in _NESTED:
                continue
            size, mtime = _stat(path)
            digest.update(f"{package}/{path.relative_to(folder)}:{size}:{mtime}\n".encode())
    return {
        "tfxgate": _version("tfxgate"),
        "tfx": _version("tfx"),
        "files": digest.hexdigest(),
    }


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""
