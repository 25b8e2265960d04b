"""A push's audit records, written once per (model fingerprint, destination, kind), wherever the push happens.

The GovernedPush executor writes them as it publishes (local runs, notebook
runs); the local runner's after-COMPLETE step and `recovery.reconcile` write
the same records when the executor could not (a Kubeflow task reaches no
store; a process killed between the rename and the record). Every writer goes
through `record_push` / `record_pending`, which first look for the record by
(fingerprint, destination, kind): a retried, recovered or runner-side write
never adds a second one. The version's manifest (publish.MANIFEST) holds what
a push record is rebuilt from; a pending decision made where no store is
reachable (a Kubeflow task) is written as the same manifest, with decision
`pending`, to `<push root>/.pending/<pipeline>/<destination>/<run id>.json`
(`write_pending`, one atomic write), and rebuilt from there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Optional

from tfxgate.governance import publish
from tfxgate.governance.rollout_state import RolloutPolicy
from tfxgate.mlmd import audit
from tfxgate.storage import failpoints, filesystem
from tfxgate.storage.filesystem import Location

AFTER_RECORD = failpoints.named("push.after_record")
PENDING_FOLDER = ".pending"  # under the push root; hidden, like a push in progress: no version, no destination


def manifest(
    *,
    fingerprint: str,
    model_id: Optional[int],
    model_uri: str,
    pipeline: str,
    run_id: str,
    gates: str,
    destination: str = "",
    decision: str = "push",
    by: str = audit.AUTO,
    reason: str = audit.AUTO_REASON,
) -> dict:
    """What a version's manifest says beside what `publish` adds (version; destination: its directory's name
    unless given): docs/CONTRACTS.md. `destination` is the config's name for it (`stages.push.destinations`)."""
    named = {"destination": destination} if destination else {}
    return {
        **named,
        "fingerprint": fingerprint,
        "model_id": model_id,
        "model_uri": model_uri,
        "pipeline": pipeline,
        "run_id": run_id,
        "gates": gates,
        "decision": decision,
        "by": by,
        "reason": reason,
        "at": audit.now(),
    }


def publish_and_record(
    source: Path,
    directory: Path,
    *,
    root: Optional[Path],
    manifest: dict,
    store=None,
    with_pushed_model: bool = True,
    before_rename: Optional[Callable[[Path, str], None]] = None,
    rollout: Optional[RolloutPolicy] = None,
) -> publish.Published:
    """One push as GovernedPush makes it: publish (or reuse) the version, then its record when there is a store.

    `manifest` (see `manifest`) holds the fingerprint. Without a store (a
    Kubeflow task) the manifest is the record until `recovery.reconcile` rebuilds it.
    """
    fingerprint = manifest["fingerprint"]
    done = publish.publish(
        source,
        directory,
        root=root,
        fingerprint=fingerprint,
        manifest=manifest,
        before_rename=before_rename,
        rollout=rollout,
    )
    if store is not None:
        saved = publish.read_manifest(done.path) or manifest  # a reused version keeps its first manifest
        record_push(store, done, manifest=saved, with_pushed_model=with_pushed_model)
    return done


def record_push(
    store, done: publish.Published, *, manifest: dict, with_pushed_model: bool = True, recovered: bool = False
) -> audit.Record:
    """The tfxgate.Push record of a published version: the existing one for this model and destination, or a new one.

    The newest version without a record, not yet `current`, is a push that
    died between its rename and its pointer switch: it goes live first
    (`publish.finish_push`: `current`, or the candidate under a rollout), completing that push.

    Args:
      store: a writable ML Metadata store.
      done: what `publish.publish` returned (or the version found on disk).
      manifest: the version's manifest (`read_manifest`), the source of every property.
      with_pushed_model: write a new PushedModel as the record's output; False when the caller links the
        component's own output afterwards (`audit.link_output`).
      recovered: rebuilt by `recovery.reconcile` from the manifest alone.
    """
    name = manifest.get("destination") or done.destination.name
    fingerprint = manifest["fingerprint"]
    for found in audit.find(store, kind=audit.PUSH, destination=name, model_fingerprint=fingerprint):
        if names_version(store, found, done.path):
            return found
    previous = done.previous
    if publish.current_version(done.destination) != done.version:
        if publish.versions(done.destination)[-1:] == [done.version]:
            previous = publish.finish_push(done.destination, done.version)
    model_id = manifest.get("model_id") if _known_model(store, manifest) else None
    pushed = None
    if with_pushed_model:
        pushed = audit.new_pushed_model(
            store, uri=str(done.path), destination_name=name, version=done.version, model_id=model_id or 0
        )
        pushed.custom_properties["model_fingerprint"].string_value = fingerprint
    written = audit.record(
        store,
        audit.PUSH,
        pipeline=manifest.get("pipeline") or "",
        run_id=manifest.get("run_id") or "",
        destination=name,
        version=done.version,
        by=manifest.get("by") or audit.AUTO,
        reason=manifest.get("reason") or "",
        gates=manifest.get("gates") or "",
        previous_version=previous or "",
        model_fingerprint=fingerprint,
        recovered=recovered,
        at=manifest.get("at") or "",
        model_id=model_id,
        pushed_model=pushed,
    )
    failpoints.hit(AFTER_RECORD)
    return written


def record_pending(
    store,
    *,
    destination: str,
    fingerprint: str,
    model_id: Optional[int],
    pipeline: str,
    run_id: str,
    gates: str,
    at: str = "",
    recovered: bool = False,
) -> audit.Record:
    """This model's tfxgate.PendingApproval at this destination: the first one (its approve command) or a new one.

    `at` and `recovered`: a record rebuilt from a pending file (`write_pending`) keeps its time and says so.
    """
    found = audit.find(store, kind=audit.PENDING, destination=destination, model_fingerprint=fingerprint)
    if found:
        return found[0]
    return audit.record(
        store,
        audit.PENDING,
        pipeline=pipeline,
        run_id=run_id,
        destination=destination,
        by=audit.MANUAL,
        reason=audit.PENDING_REASON,
        gates=gates,
        model_fingerprint=fingerprint,
        model_id=model_id,
        at=at,
        recovered=recovered,
    )


def write_pending(push_root: Location, manifest: dict) -> Location:
    """Records a pending decision where no ML Metadata store is reachable (a Kubeflow task); returns its file.

    `manifest` is `manifest(..., destination=NAME, decision="pending", by=audit.MANUAL,
    reason=audit.PENDING_REASON)`: the model's uri and fingerprint, the gates, pipeline and run. One
    write (atomic on a disk, one PUT on an object store) to `pending_file`; `recovery.reconcile` turns it into
    the tfxgate.PendingApproval that `approve` and `history` read. Written again by a retried task: same file.
    """
    path = pending_file(push_root, pipeline=manifest["pipeline"], destination=manifest["destination"], run=manifest)
    return filesystem.write_json(path, manifest)


def pending_file(push_root: Location, *, pipeline: str, destination: str, run: dict) -> Location:
    """`<push root>/.pending/<pipeline>/<destination>/<run id>.json` (run ids made file-name safe)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", run["run_id"]) or "unknown-run"
    return filesystem.location(push_root) / PENDING_FOLDER / pipeline / destination / f"{name}.json"


class UnreadablePending(ValueError):
    """A file among the pending decisions that is not one (edited by hand, or not written by tfxgate).

    Nothing is decided or pushed while it is there: it may be the only record of a model waiting for approval.
    """

    def __init__(self, path: Location, why: str):
        super().__init__(f"{path}: {why}: move it away or restore it")


def pending_decisions(push_root: Location, *, pipeline: str, destination: str) -> list[dict]:
    """The pending files `write_pending` left for this pipeline and destination, in file-name order.

    Raises:
      UnreadablePending: a file that is not a pending decision's manifest (named in the message).
    """
    folder = filesystem.location(push_root) / PENDING_FOLDER / pipeline / destination
    found = []
    for name in filesystem.listdir(folder):
        if not name.endswith(".json"):
            continue
        try:
            manifest = json.loads(filesystem.read_text(folder / name))
        except ValueError as err:
            raise UnreadablePending(folder / name, f"not a pending decision's JSON ({err})") from err
        if not isinstance(manifest, dict):
            raise UnreadablePending(folder / name, f"not a pending decision (a JSON {type(manifest).__name__})")
        missing = [k for k in ("fingerprint", "model_uri", "run_id", "gates") if not manifest.get(k)]
        if manifest.get("decision") != "pending" or missing:
            raise UnreadablePending(
                folder / name,
                f"not a pending decision (decision {manifest.get('decision')!r}, "
                f"missing {', '.join(missing) or 'nothing'})",
            )
        found.append(manifest)
    return found


def names_version(store, record: audit.Record, path: Path) -> bool:
    """Whether a Push record is the record of the version at `path` (same version, and same directory when known).

    A destination is named in records, but its `path` may change in the config:
    the PushedModel's URI says which directory a record's version is in.
    """
    if record.version != filesystem.location(path).name:
        return False
    uri = audit.version_path(store, record)
    return uri is None or filesystem.same(uri, path)


def version_on_disk(destination: Path, version: str) -> publish.Published:
    """A version found on disk as a `Published` (reused: nothing was copied)."""
    destination = filesystem.location(destination)
    return publish.Published(destination, version, destination / version, None, reused=True)


def _known_model(store, manifest: dict) -> bool:
    """Whether the manifest's model is an artifact of this store (one from another store may reuse its id)."""
    model_id = manifest.get("model_id")
    if not model_id:
        return False
    found = store.get_artifacts_by_id([int(model_id)])
    return bool(found) and found[0].uri == manifest.get("model_uri")
