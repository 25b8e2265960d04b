"""The human side of governed pushing: approve, reject, roll back, and the push history.

    tfxgate approve RUN -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate reject  RUN -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate reopen  RUN|--model ID -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate rollback PIPELINE -c CONFIG --to VERSION --by NAME --reason TEXT [--destination NAME]
    tfxgate history  PIPELINE -c CONFIG [--json]
    tfxgate promote  PIPELINE -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate abort    PIPELINE -c CONFIG --by NAME --reason TEXT [--destination NAME]

An approval is for the exact Model artifact the run left pending (a
tfxgate.PendingApproval in ML Metadata): `approve` publishes that artifact's
SavedModel with the same atomic path the pipeline uses, without rerunning
anything, and records tfxgate.Approval + tfxgate.Push. Every refusal raises
GovernanceError with a message that says what state the run is in.

Decisions bind to the model (its fingerprint, governance/decisions.py) and the
destination, not the run: a rejected model stays refused for every later run
until `reopen`; approving a model older than the one the destination serves
needs `allow_older`. Each verb first runs `recovery.reconcile` under the locks.

A killed `approve` or `rollback` is retried with the same command: the retry
completes what is missing (recovery rebuilds a lost push record from the
version's manifest) and succeeds (`Done.retried`) instead of refusing a
decision that is already (half) made; the failpoints below (README "Crash
safety") are where tests kill them.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from tfxgate.governance import decisions, policy, publish, push_records, recovery, rollout
from tfxgate.governance import gates as gate_results
from tfxgate.governance.target import GovernedPipeline
from tfxgate.mlmd import audit
from tfxgate.mlmd.store import exclusive_use, open_store
from tfxgate.reporting.card_hook import card_writer
from tfxgate.storage import LockHeld, failpoints, file_lock, filesystem

_log = logging.getLogger(__name__)

APPROVE_AFTER_APPROVAL = failpoints.named("approve.after_approval_record")
ROLLBACK_AFTER_CURRENT = failpoints.named("rollback.after_current")
ROLLBACK_AFTER_RECORD = failpoints.named("rollback.after_record")


class GovernanceError(Exception):
    """A decision that cannot be made (no pending model, already decided, unknown version...)."""


@dataclass(frozen=True)
class Done:
    """What a verb did, for the CLI to print."""

    record: audit.Record
    path: Optional[Path] = None
    retried: bool = False  # the same decision was already (partly) carried out: this call completed it


@contextlib.contextmanager
def governed(target: GovernedPipeline, *, wait: bool = True) -> Iterator[object]:
    """The store, with runs and other decisions on this pipeline root kept out meanwhile.

    Raises:
      storage.LockHeld: `wait` is False and a run or another decision holds the root.
      GovernanceError: no store yet, or a pending decision's file that is not one (named).
    """
    root = target.root
    with _refusing_unreadable_pending():
        missing = _missing_store(target)
    if missing is not None:
        raise GovernanceError(f"pipeline '{target.name}' has no ML Metadata at {missing}: run it first")
    with (
        file_lock(root / "governance.lock", wait=wait),
        exclusive_use(target.metadata, root=root, waiting=lambda message: None, wait=wait),
    ):
        store = open_store(target.metadata, root=root)
        # What a crash left between the push root and the store is repaired before anything is decided.
        with _refusing_unreadable_pending():
            recovery.reconcile(store, target, log=_log.warning)
        yield store


@contextlib.contextmanager
def _refusing_unreadable_pending() -> Iterator[None]:
    """A file among the pending decisions that is not one refuses the decision: it may be the only record
    of a model waiting for approval, so it is named, and nothing is decided until it is moved or restored."""
    try:
        yield
    except push_records.UnreadablePending as err:
        raise GovernanceError(f"{err}; nothing was decided") from err


def _missing_store(target: GovernedPipeline) -> Optional[Path]:
    """The embedded store's file when the pipeline never ran here and nothing was published; else None.

    Versions (or pending files) in the push root without a local store were left by runs elsewhere
    (a Kubeflow task reaches no store): the store is then created where the config
    puts it, and recovery rebuilds their records from the manifests.
    """
    missing = target.missing_store
    published = any(publish.versions(filesystem.location(d.directory)) for d in target.destinations.values()) or any(
        push_records.pending_decisions(target.push_root, pipeline=target.name, destination=name)
        for name in target.destinations
    )
    if missing is not None and published:
        missing.parent.mkdir(parents=True, exist_ok=True)
        return None
    return missing


def approve(
    target: GovernedPipeline,
    run_id: str,
    *,
    by: str,
    reason: str,
    destination: Optional[str] = None,
    allow_older: bool = False,
) -> Done:
    """Approves the model run `run_id` left pending and pushes it. See the module docstring.

    Refused when that model (by fingerprint) stands rejected or is already pushed at the
    destination, or, without `allow_older`, when it is older than the model the destination serves.
    """
    _require(by=by, reason=reason)
    with governed(target) as store:
        pending = _pending(store, target, run_id, destination, verb="approve")
        book = decisions.Book(store, target.name)
        model = _model(book, pending)
        name = pending.destination
        rejection = book.standing_rejection(model, name)
        if rejection is not None:
            raise GovernanceError(
                f"run {run_id}: {model.name} was rejected for {name} by {rejection.by} at {rejection.at} "
                f"({rejection.reason!r}, in run {rejection.run_id}): it cannot be approved unless the rejection is "
                f"lifted: tfxgate reopen {run_id} -c {target.source} --by NAME --reason TEXT --destination {name}"
            )
        push = book.pushed(model, name)
        approvals = [r for r in book.about(model, name, (audit.APPROVAL,)) if r.run_id == pending.run_id]
        if (
            push is not None
            and push.run_id == pending.run_id
            and any(_same(a, by=by, reason=reason) for a in approvals)
        ):
            retried = _approved_again(target, push)
            if retried is not None:
                return retried
        if push is not None:
            serving = name in target.destinations and publish.current_version(target.destinations[name].directory)
            hint = "" if serving == push.version else f"; to serve it again: tfxgate rollback --to {push.version}"
            raise GovernanceError(
                f"run {run_id}: {model.name} is already approved for {name} by {push.by} at {push.at} "
                f"and pushed as version {push.version} (run {push.run_id}){hint}"
            )
        if name not in target.destinations:
            raise GovernanceError(f"destination {name!r} is no longer in stages.push.destinations of {target.source}")
        variable = target.destinations[name].credentials_env
        if variable and not os.environ.get(variable):
            raise GovernanceError(
                f"stages.push.destinations.{name}.credentials_env: environment variable {variable} is not set"
            )
        source = publish.serving_dir(model.uri)
        if not filesystem.is_dir(source):
            raise GovernanceError(f"the pending model's files are gone: {source} ({model.name})")
        reason = _downgrade(book, target, model, name, reason=reason, allow_older=allow_older)
        # The approval is recorded first so the model card written inside the version names it;
        # a push that then fails can be retried with `approve` (the approval is reused).
        if not approvals:
            audit.record(store, audit.APPROVAL, **_common(target, pending, model), by=by, reason=reason)
        failpoints.hit(APPROVE_AFTER_APPROVAL)
        manifest = push_records.manifest(
            fingerprint=model.fingerprint,
            model_id=model.id,
            model_uri=model.uri,
            pipeline=target.name,
            run_id=pending.run_id,
            gates=pending.gates,
            decision="approved",
            by=by,
            reason=reason,
        )
        _, published = policy.carry_out(
            source,
            target.destinations[name].directory,
            gates=gate_results.from_json(pending.gates),
            approval="manual",
            decision="approved",
            root=target.push_root,
            fingerprint=model.fingerprint,
            manifest=manifest,
            rollout=target.destinations[name].rollout,
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
        # Found again by (fingerprint, destination) when a killed approve is retried: one record per push.
        push = push_records.record_push(store, published, manifest=publish.read_manifest(published.path) or manifest)
        return Done(push, published.path)


def reject(target: GovernedPipeline, run_id: str, *, by: str, reason: str, destination: Optional[str] = None) -> Done:
    """Records that the pending model of `run_id` must not be pushed to its destination, by any run."""
    _require(by=by, reason=reason)
    with governed(target) as store:
        pending = _pending(store, target, run_id, destination, verb="reject")
        book = decisions.Book(store, target.name)
        model = _model(book, pending)
        earlier = book.standing_rejection(model, pending.destination) or book.pushed(model, pending.destination)
        if earlier is not None:
            state = "rejected" if earlier.kind == audit.REJECTION else f"approved (version {earlier.version})"
            raise GovernanceError(
                f"run {run_id}: {model.name} is already {state} for {pending.destination} "
                f"by {earlier.by} at {earlier.at} (run {earlier.run_id})"
            )
        record = audit.record(store, audit.REJECTION, **_common(target, pending, model), by=by, reason=reason)
        return Done(record)


def reopen(
    target: GovernedPipeline,
    run_id: Optional[str] = None,
    *,
    model_id: Optional[int] = None,
    by: str,
    reason: str,
    destination: Optional[str] = None,
) -> Done:
    """Lifts the standing rejection of a model (the one run `run_id` left pending, or Model `model_id`).

    Audited as tfxgate.Reopen; afterwards the model can be approved (or rejected) again.
    """
    _require(by=by, reason=reason)
    if (run_id is None) == (model_id is None):
        raise GovernanceError("reopen: name a run, or a model with --model ID (not both)")
    with governed(target) as store:
        book = decisions.Book(store, target.name)
        names = [destination] if destination else list(target.destinations)
        if run_id is not None:
            pending = _pending(store, target, run_id, destination, verb="reopen")
            model, names = _model(book, pending), [pending.destination]
        else:
            model = book.model(model_id)
            if model is None:
                raise GovernanceError(f"no Model artifact {model_id} in the store of pipeline '{target.name}'")
        standing = {n: r for n in names if (r := book.standing_rejection(model, n)) is not None}
        if not standing:
            where = destination or ", ".join(names)
            raise GovernanceError(f"{model.name} has no standing rejection at {where}: nothing to reopen")
        if len(standing) > 1:
            raise GovernanceError(f"{model.name} is rejected at {', '.join(standing)}: name one with --destination")
        [(name, rejection)] = standing.items()
        record = audit.record(
            store,
            audit.REOPEN,
            pipeline=target.name,
            run_id=rejection.run_id,
            destination=name,
            by=by,
            reason=reason,
            model_id=model.id,
            model_fingerprint=model.fingerprint,
        )
        return Done(record)


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
    if rollout.candidate(dirs[name]) == to:
        raise GovernanceError(
            f"version {to} is the candidate at {name}: make it stable with "
            f"tfxgate promote {pipeline} -c {target.source} --destination {name} --by NAME --reason TEXT"
        )
    with governed(target) as store:
        directory = dirs[name]
        found = [
            r
            for r in audit.records(store, pipeline=pipeline, kinds=[audit.PUSH, audit.ROLLBACK])
            if r.destination == name and r.state != "failed"
        ]
        recorded = found[-1] if found else None  # what the records say `name` serves
        if publish.current_version(directory) == to:
            if (
                recorded is not None
                and recorded.kind == audit.ROLLBACK
                and recorded.version == to
                and _same(recorded, by=by, reason=reason)
            ):
                return Done(recorded, directory / to, retried=True)  # a retry of a rollback that was recorded
            if recorded is None or recorded.version == to:
                raise GovernanceError(f"{name} already serves version {to}: nothing to roll back")
            # `current` moved without a record: a rollback killed before its record; this retry records it.
            previous, retried = recorded.version, True
        else:
            change = rollout.Change(
                "rollback", to, previous=publish.current_version(directory) or "", by=by, reason=reason, at=audit.now()
            )
            previous = publish.switch_current(directory, to, root=target.push_root, change=change)
            retried = False
            failpoints.hit(ROLLBACK_AFTER_CURRENT)
        pushes = [r for r in found if r.kind == audit.PUSH and r.version == to]
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
        failpoints.hit(ROLLBACK_AFTER_RECORD)
        return Done(done, directory / to, retried=retried)


def promote(target: GovernedPipeline, destination: Optional[str] = None, *, by: str, reason: str) -> Done:
    """Makes the candidate of a destination under a canary/blue-green rollout its stable version.

    Audited as tfxgate.Promotion (governance/rollout.py). `destination` may be
    omitted when exactly one destination has a candidate.

    Raises:
      GovernanceError: no rollout or no candidate there (a retry of a promote that was made returns it, `retried`).
    """
    return _rollout_verb(rollout.promote, target, destination, by=by, reason=reason, verb="promote")


def abort(target: GovernedPipeline, destination: Optional[str] = None, *, by: str, reason: str) -> Done:
    """Drops the candidate of a destination under a canary/blue-green rollout: all traffic to its stable version.

    Audited as tfxgate.CanaryAbort. `tfxgate monitor` calls this to abort a canary automatically; the
    caller sends the `canary_abort` alert (tfxgate/alerts/runs.py `canary_abort`, cli/governance.py
    `abort_canary` does both).

    Raises:
      GovernanceError: no rollout or no candidate there (a retry of an abort that was made returns it, `retried`).
    """
    return _rollout_verb(rollout.abort, target, destination, by=by, reason=reason, verb="abort")


def _rollout_verb(act, target: GovernedPipeline, destination: Optional[str], *, by: str, reason: str, verb: str):
    _require(by=by, reason=reason)
    dirs = {n: d.directory for n, d in target.destinations.items()}
    if destination is not None and destination not in dirs:
        raise GovernanceError(f"no destination {destination!r} in stages.push.destinations ({', '.join(dirs)})")
    if destination is None:
        with_candidate = [n for n, d in dirs.items() if rollout.candidate(d) is not None]
        staged = [n for n, d in target.destinations.items() if d.rollout.staged]
        if len(with_candidate) > 1:
            raise GovernanceError(f"{', '.join(with_candidate)} have a candidate: name one with --destination")
        found = with_candidate or staged
        if len(found) != 1:
            what = "a canary or blue-green rollout" if not found else "one"
            raise GovernanceError(
                f"cannot {verb}: name the destination with --destination "
                f"({len(found)} destinations have {what}: {', '.join(found) or 'none'})"
            )
        destination = found[0]
    directory = dirs[destination]
    with governed(target) as store:
        try:
            record, retried = act(
                store, pipeline=target.name, name=destination, directory=directory, by=by, reason=reason
            )
        except rollout.RolloutRefused as refused:
            raise GovernanceError(str(refused)) from None
    return Done(record, directory / record.version, retried=retried)


@dataclass(frozen=True)
class HistoryRow:
    kind: str  # push | rollback | rejection | reopen | pending
    destination: str
    version: str
    at: str
    model: str  # "<id> <uri>"
    by: str
    reason: str
    run_id: str
    gates: dict
    current: bool
    model_id: Optional[int] = None
    fingerprint: str = ""  # the model's content fingerprint (`sha256:...`)
    state: str = ""  # pending: waiting | superseded: ... | rejected ...; push: "failed" when its version is gone
    previous_version: str = ""  # rollback / promote / abort: the version served before
    candidate: bool = False  # a push whose version is its destination's canary/blue-green candidate now


def history(target: GovernedPipeline, pipeline: str) -> list[HistoryRow]:
    """Every push, rollback, rejection, reopen, promotion and canary abort, then the runs still pending.

    `current` marks the version each destination serves (its stable one under a rollout), `candidate` its canary.
    """
    _same_pipeline(target, pipeline)
    if _missing_store(target) is not None:
        return []
    try:
        with governed(target, wait=False) as store:
            return _history_rows(target, decisions.Book(store, pipeline))
    except LockHeld as busy:  # a run is writing: show what is recorded, and repair nothing meanwhile
        _log.warning("%s is in use (%s): history without recovery", busy.path, busy.holder)
    store = open_store(target.metadata, root=target.root, read_only=target.metadata.kind == "sqlite")
    return _history_rows(target, decisions.Book(store, pipeline))


def _history_rows(target: GovernedPipeline, book: decisions.Book) -> list[HistoryRow]:
    shown = (audit.PUSH, audit.ROLLBACK, audit.REJECTION, audit.REOPEN, audit.PROMOTION, audit.CANARY_ABORT)
    found = [r for r in book.records if r.kind in shown]
    found += [p for p in book.records if p.kind == audit.PENDING and book.state(p) == "waiting"]
    found += [p for p in book.records if p.kind == audit.PENDING and book.state(p).startswith("superseded")]
    serving = {n: publish.current_version(d.directory) for n, d in target.destinations.items()}
    candidates = {n: rollout.candidate(d.directory) for n, d in target.destinations.items()}
    rows = []
    for r in found:
        model = book.model(r.model_id)
        rows.append(
            HistoryRow(
                kind=_HISTORY_KINDS[r.kind],
                destination=r.destination,
                version=r.version,
                at=r.at,
                model=f"{model.id} {model.uri}" if model else "",
                by=r.by,
                reason=r.reason,
                run_id=r.run_id,
                gates={g.name: g.passed for g in gate_results.from_json(r.gates)} if r.kind == audit.PUSH else {},
                current=r.kind == audit.PUSH and serving.get(r.destination) == r.version,
                model_id=r.model_id,
                fingerprint=book.fingerprint(r),
                state=book.state(r) if r.kind == audit.PENDING else r.state,
                previous_version=r.previous_version if r.kind != audit.PUSH else "",
                candidate=r.kind == audit.PUSH and candidates.get(r.destination) == r.version,
            )
        )
    return rows


_HISTORY_KINDS = {
    audit.PUSH: "push",
    audit.ROLLBACK: "rollback",
    audit.REJECTION: "rejection",
    audit.REOPEN: "reopen",
    audit.PENDING: "pending",
    audit.PROMOTION: "promote",
    audit.CANARY_ABORT: "abort",
}


def pending_runs(target: GovernedPipeline, store) -> list[tuple[audit.Record, str]]:
    """PendingApproval records not yet pushed or rejected, each with its state (waiting, or superseded: ...)."""
    book = decisions.Book(store, target.name)
    found = [(p, book.state(p)) for p in book.records if p.kind == audit.PENDING]
    return [(p, state) for p, state in found if state == "waiting" or state.startswith("superseded")]


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
        waiting = [
            f"{r.run_id} ({r.destination}{'' if state == 'waiting' else ', ' + state})"
            for r, state in pending_runs(target, store)
        ]
        hint = f"runs waiting for approval: {', '.join(waiting)}" if waiting else "no run is waiting for approval"
        where = f" for destination {destination!r}" if destination else ""
        raise GovernanceError(f"cannot {verb}: run {run_id} has no model pending approval{where} ({hint})")
    if len(records) > 1:
        names = ", ".join(r.destination for r in records)
        raise GovernanceError(f"run {run_id} is pending for {names}: name one with --destination")
    return records[0]


def _model(book: decisions.Book, pending: audit.Record) -> decisions.Model:
    model = book.model(pending.model_id)
    if model is None:
        raise GovernanceError(f"run {pending.run_id}: its pending model {pending.model_id} is not in the store")
    return model


def _same(record: audit.Record, *, by: str, reason: str) -> bool:
    """Whether `record` was made by the same command (same person, same reason): a retry, not a new decision."""
    return record.by == by and (record.reason == reason or record.reason.startswith(f"{reason} [--allow-older: "))


def _approved_again(target: GovernedPipeline, push: audit.Record) -> Optional[Done]:
    """A retried approve whose push is already published and recorded; None when the destination moved on since.

    Recovery (in `governed`) has rebuilt a record lost to a kill; `current` is
    switched here only when this version is the newest, as the killed push would have left it.
    """
    if push.destination not in target.destinations:
        return None
    directory = target.destinations[push.destination].directory
    if publish.current_version(directory) != push.version:
        if publish.versions(directory)[-1:] != [push.version]:
            return None  # a later push or rollback: approving again is not a retry (refused as already approved)
        publish.finish_push(directory, push.version)
    return Done(push, directory / push.version, retried=True)


def _downgrade(
    book: decisions.Book, target: GovernedPipeline, model: decisions.Model, name: str, *, reason: str, allow_older: bool
) -> str:
    """The reason to record; refuses a model older than the one `name` serves unless `allow_older`."""
    serving = book.serving(name, publish.current_version(target.destinations[name].directory))
    current = book.model(serving.model_id) if serving is not None else None
    if current is None or not model.older_than(current):
        return reason
    if not allow_older:
        raise GovernanceError(
            f"{model.name} is older than {current.name} (trained at {model.trained_at}, before "
            f"{current.trained_at}), which {name} serves as version {serving.version} "
            f"(pushed by {serving.by} at {serving.at}): approving it would downgrade {name}; "
            "pass --allow-older to do so on purpose"
        )
    return f"{reason} [--allow-older: replaces newer {current.name}, version {serving.version}]"


def _common(target: GovernedPipeline, pending: audit.Record, model: decisions.Model) -> dict:
    return dict(
        pipeline=target.name,
        run_id=pending.run_id,
        destination=pending.destination,
        model_id=model.id,
        model_fingerprint=model.fingerprint,
    )


def _require(*, by: str, reason: str) -> None:
    if not by.strip():
        raise GovernanceError("--by must name the person deciding")
    if not reason.strip():
        raise GovernanceError("--reason must say why")


def _same_pipeline(target: GovernedPipeline, pipeline: str) -> None:
    if pipeline != target.name:
        raise GovernanceError(f"{target.source} configures pipeline '{target.name}', not '{pipeline}'")
