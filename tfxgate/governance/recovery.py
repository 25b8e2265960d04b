"""Recovery at start: make the push root and ML Metadata agree again after a crash.

`tfxgate run` calls `reconcile` under the pipeline's run lock before its first
node; `approve`, `reject`, `rollback` and `history` call it under the
governance lock. For each destination, under its push lock:

- a version (directory with its manifest) that no tfxgate.Push record names
  gets one rebuilt from the manifest, with `recovered` = "1" (a process killed
  between the rename and its record, or a Kubeflow task that reached no store);
  the newest such version, not yet `current`, is made current (that push died
  before its pointer switch: `push_records.record_push`);
- a tfxgate.Push whose version is gone gets `state` = "failed" (one whose
  version predates manifests gets its manifest written from the record);
- a tfxgate.Push without its PushedModel output (killed before the runner
  linked the component's own) gets it linked, or a new one;
- a pending file (`push_records.write_pending`: a Kubeflow task's pending
  decision) that no tfxgate.PendingApproval names gets one rebuilt from it,
  `recovered` = "1", its Model registered in this store by uri (`audit.model_at`);
- under a canary/blue-green rollout, what a kill left after a `rollout.json`
  write is completed (`rollout.reconcile`: `current`, a lost promote/abort
  record, the serving configs).

Then, when no live run can own them (this process holds the run lock, or it is
free and held meanwhile), executions of the pipeline left RUNNING are marked
FAILED and their output directories that hold no file are removed. Every
repair is one log line. Pure core: ML Metadata and the filesystem, no TFX.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ml_metadata.proto import metadata_store_pb2

from tfxgate import storage
from tfxgate.governance import publish, push_records, rollout
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.governance.target import GovernedPipeline
from tfxgate.mlmd import audit
from tfxgate.mlmd.graph import value
from tfxgate.storage import filesystem

FAILED = audit.FAILED


@dataclass
class Reconciled:
    """What one `reconcile` repaired (counts), for callers and tests."""

    recovered: int = 0  # push records rebuilt from manifests
    failed: int = 0  # push records whose version is gone, marked failed
    linked: int = 0  # push records given their PushedModel
    pending: int = 0  # pending approvals rebuilt from pending files
    abandoned: int = 0  # RUNNING executions of dead processes marked FAILED
    rollout: int = 0  # rollout repairs: `current` put in step, promote/abort records rebuilt, serving configs


def reconcile(store, target: GovernedPipeline, *, log: Callable[[str], None]) -> Reconciled:
    """Repairs what a crash left between `target`'s push root and `store` (see the module docstring)."""
    done = Reconciled()
    for name, destination in target.destinations.items():
        _pending_without_records(store, target, name, log=log, done=done)
        directory = filesystem.location(destination.directory)
        pushes = _pushes(store, target, name)
        exists = filesystem.is_dir(directory)
        if not exists and not pushes:
            continue
        with publish.locked(directory) if exists else contextlib.nullcontext():
            _versions_without_records(store, target, name, directory, pushes, log=log, done=done)
            _records_without_versions(store, directory, pushes, log=log, done=done)
            pushes = _pushes(store, target, name)
            _records_without_pushed_model(store, directory, pushes, log=log, done=done)
            if exists:
                done.rollout += rollout.reconcile(store, pipeline=target.name, name=name, directory=directory, log=log)
    with _no_live_run(target.root) as safe:
        if safe:
            _abandoned_executions(store, target, log=log, done=done)
    return done


def _pushes(store, target: GovernedPipeline, destination: str) -> list[audit.Record]:
    return [r for r in audit.records(store, pipeline=target.name, kinds=[audit.PUSH]) if r.destination == destination]


def _versions_without_records(store, target, name: str, directory, pushes, *, log, done: Reconciled) -> None:
    live = [r for r in pushes if r.state != FAILED]
    for version in publish.versions(directory):
        if any(push_records.names_version(store, r, directory / version) for r in live):
            continue
        manifest = publish.read_manifest(directory / version) or {}
        if not manifest.get("fingerprint"):
            continue
        if manifest.get("pipeline") and manifest["pipeline"] != target.name:
            continue  # another pipeline's version in a shared destination: its own recovery rebuilds it
        # Recorded under the destination's name in the config now (its manifest may predate a rename).
        manifest = {**manifest, "pipeline": manifest.get("pipeline") or target.name, "destination": name}
        on_disk = push_records.version_on_disk(directory, version)
        record = push_records.record_push(store, on_disk, manifest=manifest, recovered=True)
        live.append(record)
        done.recovered += 1
        log(
            f"recovery: {name} version {version} had no push record; "
            f"rebuilt from its manifest (record {record.id}, run {manifest.get('run_id') or 'unknown'})"
        )


def _pending_without_records(store, target: GovernedPipeline, name: str, *, log, done: Reconciled) -> None:
    for pending in push_records.pending_decisions(target.push_root, pipeline=target.name, destination=name):
        fingerprint = pending["fingerprint"]
        if audit.find(store, kind=audit.PENDING, destination=name, model_fingerprint=fingerprint):
            continue  # recorded (by an earlier recovery, or the run's own executor)
        record = push_records.record_pending(
            store,
            destination=name,
            fingerprint=fingerprint,
            model_id=audit.model_at(store, pending["model_uri"], trained_at=pending.get("at") or ""),
            pipeline=target.name,
            run_id=pending["run_id"],
            gates=pending["gates"],
            at=pending.get("at") or "",
            recovered=True,
        )
        done.pending += 1
        log(
            f"recovery: run {pending['run_id']} left its model pending approval for {name} "
            f"(a run without this store); rebuilt its record {record.id} from its pending file"
        )


def _records_without_versions(store, directory, pushes, *, log, done: Reconciled) -> None:
    for record in pushes:
        if record.state == FAILED or not record.version:
            continue
        path = filesystem.location(audit.version_path(store, record) or directory / record.version)
        if filesystem.isfile(path / publish.MANIFEST):
            continue
        if filesystem.listdir(path):  # pushed before versions had manifests: give it one
            _write_legacy_manifest(path, record)
            log(f"recovery: {path} (push record {record.id}) predates manifests; wrote its manifest")
            continue
        audit.mark_state(store, record.id, FAILED)
        done.failed += 1
        log(
            f"recovery: push record {record.id} names {record.destination} version {record.version} ({path}), "
            f"which is missing; marked state={FAILED}"
        )


def _write_legacy_manifest(path, record: audit.Record) -> None:
    """The manifest of a version a record proves tfxgate pushed, from that record."""
    manifest = {
        "fingerprint": record.model_fingerprint or model_fingerprint(path),
        "destination": record.destination,
        "version": record.version,
        "at": record.at,
        "model_id": record.model_id,
        "pipeline": record.pipeline,
        "run_id": record.run_id,
        "gates": record.gates,
        "decision": "push",
        "by": record.by,
        "reason": record.reason,
    }
    if filesystem.is_remote(path):
        filesystem.write_json(path / publish.MANIFEST, manifest)
        return
    storage.write_json(path / publish.MANIFEST, manifest)
    storage.fsync_dir(path)


def _records_without_pushed_model(store, directory, pushes, *, log, done: Reconciled) -> None:
    lacking = [r for r in pushes if r.pushed_model_id is None and r.state != FAILED]
    if not lacking:
        return
    candidates = store.get_artifacts_by_type("PushedModel")
    for record in lacking:
        match = next(
            (
                a
                for a in candidates
                if value(a, "pushed") == 1
                and value(a, "destination_name") == record.destination
                and value(a, "pushed_version") == record.version
                and value(a, "model_id") == (record.model_id or 0)
                and filesystem.same(value(a, "pushed_destination") or "", directory / record.version)
            ),
            None,
        )
        if match is None:
            artifact = audit.new_pushed_model(
                store,
                uri=str(directory / record.version),
                destination_name=record.destination,
                version=record.version,
                model_id=record.model_id or 0,
            )
            artifact.custom_properties["model_fingerprint"].string_value = record.model_fingerprint
            [artifact_id] = store.put_artifacts([artifact])
            [match] = store.get_artifacts_by_id([artifact_id])
        audit.link_output(store, record.id, match)
        done.linked += 1
        log(
            f"recovery: push record {record.id} ({record.destination} {record.version}) "
            f"linked to PushedModel {match.id}"
        )


@contextlib.contextmanager
def _no_live_run(root: Path) -> Iterator[bool]:
    """True for the block when no live run of `root` can own RUNNING executions (run lock ours, or free and held)."""
    try:
        with storage.file_lock(Path(root) / storage.RUN_LOCK_FILE, wait=False):
            yield True
    except storage.LockHeld as err:
        yield err.holder.startswith(f"pid {os.getpid()} ")


def _abandoned_executions(store, target: GovernedPipeline, *, log, done: Reconciled) -> None:
    context = store.get_context_by_type_and_name("pipeline", target.name)
    if context is None:
        return
    running = metadata_store_pb2.Execution.RUNNING
    for execution in store.get_executions_by_context(context.id):
        if execution.last_known_state != running:
            continue
        execution.last_known_state = metadata_store_pb2.Execution.FAILED
        execution.custom_properties["tfxgate_abandoned"].string_value = "the process that ran it died"
        store.put_execution(execution, [], [])
        removed = _remove_empty_outputs(Path(target.root) / "artifacts", execution.id)
        done.abandoned += 1
        node = _node_of(store, execution)
        extra = f"; removed {len(removed)} empty output folder(s)" if removed else ""
        log(f"recovery: execution {execution.id} ({node}) was left RUNNING by a dead process; marked FAILED{extra}")


def _node_of(store, execution) -> str:
    [execution_type] = store.get_execution_types_by_id([execution.type_id])
    return execution_type.name


def _remove_empty_outputs(artifacts: Path, execution_id: int) -> list[Path]:
    """`<artifacts>/<node>/<output>/<execution id>` folders holding no file (TFX's local output layout)."""
    removed = []
    for folder in sorted(artifacts.glob(f"*/*/{execution_id}")):
        if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
            shutil.rmtree(folder)
            removed.append(folder)
    return removed
