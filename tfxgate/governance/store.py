"""The human side of governed pushing: approve, reject, roll back, and the push history.

    tfxgate approve RUN -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate reject  RUN -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate rollback PIPELINE -c CONFIG --to VERSION --by NAME --reason TEXT [--destination NAME]
    tfxgate history  PIPELINE -c CONFIG [--json]

An approval is for the exact Model artifact the run left pending (a
tfxgate.PendingApproval in ML Metadata): `approve` publishes that artifact's
SavedModel with the same atomic path the pipeline uses, without rerunning
anything, and records tfxgate.Approval + tfxgate.Push. Every refusal raises
GovernanceError with a message that says what state the run is in.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from tfxgate.governance import gates as gate_results
from tfxgate.governance import policy, publish
from tfxgate.governance.target import GovernedPipeline
from tfxgate.mlmd import audit
from tfxgate.mlmd.store import exclusive_use, open_store
from tfxgate.reporting.card_hook import card_writer
from tfxgate.storage import file_lock


class GovernanceError(Exception):
    """A decision that cannot be made (no pending model, already decided, unknown version...)."""


@dataclass(frozen=True)
class Done:
    """What a verb did, for the CLI to print."""

    record: audit.Record
    path: Optional[Path] = None


@contextlib.contextmanager
def governed(target: GovernedPipeline) -> Iterator[object]:
    """The store, with runs and other decisions on this pipeline root kept out meanwhile."""
    root = target.root
    if target.missing_store is not None:
        raise GovernanceError(f"pipeline '{target.name}' has no ML Metadata at {target.missing_store}: run it first")
    with file_lock(root / "governance.lock"), exclusive_use(target.metadata, root=root, waiting=lambda message: None):
        yield open_store(target.metadata, root=root)


def approve(target: GovernedPipeline, run_id: str, *, by: str, reason: str, destination: Optional[str] = None) -> Done:
    """Approves the model run `run_id` left pending and pushes it. See the module docstring."""
    _require(by=by, reason=reason)
    with governed(target) as store:
        pending = _pending(store, target, run_id, destination, verb="approve")
        decided = _decisions(store, target, pending)
        if decided.get(audit.REJECTION):
            rejection = decided[audit.REJECTION]
            raise GovernanceError(
                f"run {run_id} was rejected for {pending.destination} by {rejection.by} at {rejection.at} "
                f"({rejection.reason!r}): it cannot be approved; run the pipeline again for a new model"
            )
        if decided.get(audit.PUSH):
            push = decided[audit.PUSH]
            raise GovernanceError(
                f"run {run_id} is already approved for {pending.destination} by {push.by} at {push.at} "
                f"and pushed as version {push.version}"
            )
        name = pending.destination
        if name not in target.destinations:
            raise GovernanceError(f"destination {name!r} is no longer in stages.push.destinations of {target.source}")
        variable = target.destinations[name].credentials_env
        if variable and not os.environ.get(variable):
            raise GovernanceError(
                f"stages.push.destinations.{name}.credentials_env: environment variable {variable} is not set"
            )
        [model] = store.get_artifacts_by_id([pending.model_id])
        source = publish.serving_dir(model.uri)
        if not source.is_dir():
            raise GovernanceError(f"the pending model's files are gone: {source} (model artifact {model.id})")
        # The approval is recorded first so the model card written inside the version names it;
        # a push that then fails can be retried with `approve` (the approval is reused).
        if not decided.get(audit.APPROVAL):
            audit.record(store, audit.APPROVAL, **_common(target, pending), by=by, reason=reason)
        _, published = policy.carry_out(
            source,
            target.destinations[name].directory,
            gates=gate_results.from_json(pending.gates),
            approval="manual",
            decision="approved",
            root=target.push_root,
            before_rename=card_writer(
                lambda: store,
                model_id=model.id,
                card_info=target.card_info,
                push=dict(
                    pipeline=target.name,
                    run_id=pending.run_id,
                    destination=name,
                    by=by,
                    reason=reason,
                    gates=pending.gates,
                ),
            ),
        )
        if published is None:
            raise GovernanceError(f"run {run_id}: a gate failed ({pending.gates}); nothing can be pushed")
        pushed = audit.new_pushed_model(
            store, uri=str(published.path), destination_name=name, version=published.version, model_id=model.id
        )
        push = audit.record(
            store,
            audit.PUSH,
            **_common(target, pending),
            version=published.version,
            by=by,
            reason=reason,
            gates=pending.gates,
            pushed_model=pushed,
        )
        return Done(push, published.path)


def reject(target: GovernedPipeline, run_id: str, *, by: str, reason: str, destination: Optional[str] = None) -> Done:
    """Records that the pending model of `run_id` must not be pushed."""
    _require(by=by, reason=reason)
    with governed(target) as store:
        pending = _pending(store, target, run_id, destination, verb="reject")
        decided = _decisions(store, target, pending)
        for kind, state in ((audit.REJECTION, "rejected"), (audit.APPROVAL, "approved")):
            if decided.get(kind):
                earlier = decided[kind]
                raise GovernanceError(
                    f"run {run_id} is already {state} for {pending.destination} by {earlier.by} at {earlier.at}"
                )
        return Done(audit.record(store, audit.REJECTION, **_common(target, pending), by=by, reason=reason))


def rollback(
    target: GovernedPipeline, pipeline: str, *, to: str, by: str, reason: str, destination: Optional[str] = None
) -> Done:
    """Points a destination's `current` back at an earlier version (audited as tfxgate.Rollback)."""
    _require(by=by, reason=reason)
    _same_pipeline(target, pipeline)
    dirs = {n: d.directory for n, d in target.destinations.items()}
    names = [destination] if destination else list(dirs)
    if destination and destination not in dirs:
        raise GovernanceError(f"no destination {destination!r} in stages.push.destinations ({', '.join(dirs)})")
    holding = [n for n in names if to in publish.versions(dirs[n])]
    if not holding:
        known = "; ".join(f"{n}: {', '.join(publish.versions(dirs[n])) or 'none'}" for n in names)
        raise GovernanceError(f"pipeline '{pipeline}' has no version {to} to roll back to (versions: {known})")
    if len(holding) > 1:
        raise GovernanceError(f"version {to} exists at {', '.join(holding)}: name one with --destination")
    [name] = holding
    with governed(target) as store:
        directory = dirs[name]
        if publish.current_version(directory) == to:
            raise GovernanceError(f"{name} already serves version {to}: nothing to roll back")
        pushes = [
            r
            for r in audit.records(store, pipeline=pipeline, kinds=[audit.PUSH])
            if r.destination == name and r.version == to
        ]
        previous = publish.switch_current(directory, to, root=target.push_root)
        model_id = pushes[-1].model_id if pushes else None
        run_id = pushes[-1].run_id if pushes else ""
        done = audit.record(
            store,
            audit.ROLLBACK,
            pipeline=pipeline,
            run_id=run_id,
            destination=name,
            version=to,
            by=by,
            reason=reason,
            previous_version=previous or "",
            model_id=model_id,
        )
        return Done(done, directory / to)


@dataclass(frozen=True)
class HistoryRow:
    kind: str  # push | rollback
    destination: str
    version: str
    at: str
    model: str  # "<id> <uri>"
    by: str
    reason: str
    run_id: str
    gates: dict
    current: bool


def history(target: GovernedPipeline, pipeline: str) -> list[HistoryRow]:
    """Every push and rollback of the pipeline, oldest first; `current` marks what each destination serves."""
    _same_pipeline(target, pipeline)
    if target.missing_store is not None:
        return []
    store = open_store(target.metadata, root=target.root, read_only=target.metadata.kind == "sqlite")
    found = audit.records(store, pipeline=pipeline, kinds=[audit.PUSH, audit.ROLLBACK])
    models = {a.id: a for a in store.get_artifacts_by_id(sorted({r.model_id for r in found if r.model_id}))}
    serving = {n: publish.current_version(d.directory) for n, d in target.destinations.items()}
    rows = []
    for r in found:
        model = models.get(r.model_id)
        rows.append(
            HistoryRow(
                kind="push" if r.kind == audit.PUSH else "rollback",
                destination=r.destination,
                version=r.version,
                at=r.at,
                model=f"{model.id} {model.uri}" if model else "",
                by=r.by,
                reason=r.reason,
                run_id=r.run_id,
                gates={g.name: g.passed for g in gate_results.from_json(r.gates)},
                current=r.kind == audit.PUSH and serving.get(r.destination) == r.version,
            )
        )
    return rows


def pending_runs(target: GovernedPipeline, store) -> list[audit.Record]:
    """PendingApproval records not yet approved, rejected or pushed."""
    open_ = []
    for pending in audit.records(store, pipeline=target.name, kinds=[audit.PENDING]):
        if not _decisions(store, target, pending):
            open_.append(pending)
    return open_


def _pending(store, target: GovernedPipeline, run_id: str, destination: Optional[str], *, verb: str) -> audit.Record:
    records = [
        r
        for r in audit.records(store, pipeline=target.name, kinds=[audit.PENDING])
        # Summary files are named with ':' spelt '-' (<root>/summaries/<run id>.json): accept either.
        if run_id in (r.run_id, r.run_id.replace(":", "-"))
    ]
    if destination is not None:
        records = [r for r in records if r.destination == destination]
    if not records:
        waiting = [f"{r.run_id} ({r.destination})" for r in pending_runs(target, store)]
        hint = f"runs waiting for approval: {', '.join(waiting)}" if waiting else "no run is waiting for approval"
        where = f" for destination {destination!r}" if destination else ""
        raise GovernanceError(f"cannot {verb}: run {run_id} has no model pending approval{where} ({hint})")
    if len(records) > 1:
        names = ", ".join(r.destination for r in records)
        raise GovernanceError(f"run {run_id} is pending for {names}: name one with --destination")
    return records[0]


def _decisions(store, target: GovernedPipeline, pending: audit.Record) -> dict[str, audit.Record]:
    """The approval / rejection / push already recorded for this run's model at this destination."""
    kinds = [audit.APPROVAL, audit.REJECTION, audit.PUSH]
    found = {}
    for r in audit.records(store, pipeline=target.name, kinds=kinds):
        if r.run_id == pending.run_id and r.destination == pending.destination and r.model_id == pending.model_id:
            found[r.kind] = r
    return found


def _common(target: GovernedPipeline, pending: audit.Record) -> dict:
    return dict(pipeline=target.name, run_id=pending.run_id, destination=pending.destination, model_id=pending.model_id)


def _require(*, by: str, reason: str) -> None:
    if not by.strip():
        raise GovernanceError("--by must name the person deciding")
    if not reason.strip():
        raise GovernanceError("--reason must say why")


def _same_pipeline(target: GovernedPipeline, pipeline: str) -> None:
    if pipeline != target.name:
        raise GovernanceError(f"{target.source} configures pipeline '{target.name}', not '{pipeline}'")
