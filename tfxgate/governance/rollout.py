"""Promote or abort a destination's canary: the candidate becomes stable, or is dropped; audited in ML Metadata.

    tfxgate promote PIPELINE -c CONFIG --by NAME --reason TEXT [--destination NAME]
    tfxgate abort   PIPELINE -c CONFIG --by NAME --reason TEXT [--destination NAME]

A push to a destination under `rollout: canary | blue_green` leaves its new
version as the *candidate* beside the *stable* one (governance/publish.py,
rollout_state.py). `promote` makes the candidate stable; `abort` drops it and
sends all traffic back to the stable version. The durable steps, each with a
failpoint (README "Crash safety"):

    promote: rollout.json (candidate -> stable)  | current -> candidate  | tfxgate.Promotion  | serving configs
    abort:   rollout.json (candidate dropped)    | tfxgate.CanaryAbort                       | serving configs

`rollout.json` is the commit point: a kill before it leaves the old state, a
kill after it the new one, which `reconcile` completes (`current` in step,
the record rebuilt from the state's `change` with `recovered` = "1", the
serving configs rewritten). A retry of the same command (same `--by`,
`--reason`) after a kill finds its change made and returns it as `retried`
instead of refusing; any other promote/abort without a candidate is refused.

Callers hold the governance lock (`store.governed`); this module takes the
destination's push lock. Pure core: ML Metadata and the filesystem.
"""

from __future__ import annotations

from typing import Callable, Optional

from tfxgate.governance import publish, rollout_state, serving_configs
from tfxgate.governance.rollout_state import Change, RolloutState
from tfxgate.mlmd import audit
from tfxgate.storage import failpoints
from tfxgate.storage.filesystem import Location

PROMOTE_AFTER_STATE = failpoints.named("promote.after_state")
PROMOTE_AFTER_CURRENT = failpoints.named("promote.after_current")
PROMOTE_AFTER_RECORD = failpoints.named("promote.after_record")
ABORT_AFTER_STATE = failpoints.named("abort.after_state")
ABORT_AFTER_RECORD = failpoints.named("abort.after_record")

_KINDS = {"promote": audit.PROMOTION, "abort": audit.CANARY_ABORT}


class RolloutRefused(Exception):
    """Nothing to promote or abort (no rollout at the destination, or no candidate)."""


def promote(store, *, pipeline: str, name: str, directory: Location, by: str, reason: str) -> tuple[audit.Record, bool]:
    """Makes the candidate of destination `name` its stable version; returns (the Promotion record, retried)."""
    with publish.locked(directory):
        state = _state(directory, name, verb="promote")
        if state.candidate is None:
            return _retried(store, pipeline, name, state, op="promote", by=by, reason=reason), True
        change = Change("promote", state.candidate, previous=state.stable or "", by=by, reason=reason, at=audit.now())
        new = rollout_state.stable(state, version=state.candidate, change=change)
        rollout_state.write(directory, new)
        failpoints.hit(PROMOTE_AFTER_STATE)
        publish.point_current(directory, state.candidate)
        failpoints.hit(PROMOTE_AFTER_CURRENT)
        record = _record(store, pipeline, name, directory, change)
        failpoints.hit(PROMOTE_AFTER_RECORD)
        serving_configs.write(directory, new)
        return record, False


def abort(store, *, pipeline: str, name: str, directory: Location, by: str, reason: str) -> tuple[audit.Record, bool]:
    """Drops the candidate of destination `name` (all traffic to the stable version); returns (record, retried)."""
    with publish.locked(directory):
        state = _state(directory, name, verb="abort")
        if state.candidate is None:
            return _retried(store, pipeline, name, state, op="abort", by=by, reason=reason), True
        change = Change("abort", state.candidate, previous=state.stable or "", by=by, reason=reason, at=audit.now())
        new = rollout_state.with_change(state, candidate=None, dropped=(*state.dropped, state.candidate), change=change)
        rollout_state.write(directory, new)
        failpoints.hit(ABORT_AFTER_STATE)
        record = _record(store, pipeline, name, directory, change)
        failpoints.hit(ABORT_AFTER_RECORD)
        serving_configs.write(directory, new)
        return record, False


def reconcile(store, *, pipeline: str, name: str, directory: Location, log: Callable[[str], None]) -> int:
    """Completes what a kill left after a rollout.json write; returns the number of repairs (caller holds the lock).

    `current` is pointed at the stable version, a promote/abort without its
    record gets one rebuilt from the state's `change`, stale serving configs are rewritten.
    """
    state = rollout_state.read(directory)
    if state is None:
        return 0
    repairs = 0
    serving = publish.current_version(directory)
    if state.stable and serving != state.stable and state.stable in publish.versions(directory):
        publish.point_current(directory, state.stable)
        repairs += 1
        log(f"recovery: {name} rollout.json names stable version {state.stable}; `current` ({serving}) now does too")
    change = state.change
    if change is not None and change.op in _KINDS and _recorded(store, pipeline, name, change) is None:
        record = _record(store, pipeline, name, directory, change, recovered=True)
        repairs += 1
        log(f"recovery: {name} {change.op} of version {change.version} had no record; rebuilt (record {record.id})")
    stale = serving_configs.stale(directory, state)
    if stale:
        serving_configs.write(directory, state)
        repairs += 1
        log(f"recovery: {name} serving configs out of date ({', '.join(stale)}); rewritten from rollout.json")
    return repairs


def candidate(directory: Location) -> Optional[str]:
    """The destination's candidate version, or None (no rollout, or no candidate now)."""
    state = rollout_state.read(directory)
    return state.candidate if state is not None else None


def _state(directory: Location, name: str, *, verb: str) -> RolloutState:
    state = rollout_state.read(directory)
    if state is None:
        raise RolloutRefused(
            f"cannot {verb}: destination {name!r} has no rollout ({directory} has no {rollout_state.STATE}; "
            f"set stages.push.destinations.{name}.rollout.kind to canary or blue_green and push)"
        )
    return state


def _retried(store, pipeline: str, name: str, state: RolloutState, *, op: str, by: str, reason: str) -> audit.Record:
    """The record of this same command's change when a retry finds it made; refuses otherwise (no candidate)."""
    last = state.change
    if last is not None and last.op == op and last.by == by and last.reason == reason:
        found = _recorded(store, pipeline, name, last)
        if found is not None:
            return found
    raise RolloutRefused(
        f"cannot {op}: destination {name!r} has no candidate (it serves stable version {state.stable or 'none'}); "
        "a push to it makes the next one"
    )


def _recorded(store, pipeline: str, name: str, change: Change) -> Optional[audit.Record]:
    """The record of `change` (kind, destination, version and time): one per change, whoever wrote it."""
    found = [
        r
        for r in audit.records(store, pipeline=pipeline, kinds=[_KINDS[change.op]])
        if r.destination == name and r.version == change.version and r.at == change.at
    ]
    return found[0] if found else None


def _record(store, pipeline: str, name: str, directory: Location, change: Change, *, recovered=False) -> audit.Record:
    """Writes the Promotion / CanaryAbort of `change`, with the candidate's model as input (from its push)."""
    pushes = [
        r
        for r in audit.records(store, pipeline=pipeline, kinds=[audit.PUSH])
        if r.destination == name and r.version == change.version and r.state != audit.FAILED
    ]
    push = pushes[-1] if pushes else None
    manifest = publish.read_manifest(directory / change.version) or {}
    return audit.record(
        store,
        _KINDS[change.op],
        pipeline=pipeline,
        run_id=push.run_id if push else str(manifest.get("run_id") or ""),
        destination=name,
        version=change.version,
        previous_version=change.previous,
        by=change.by,
        reason=change.reason,
        at=change.at,
        model_fingerprint=push.model_fingerprint if push else str(manifest.get("fingerprint") or ""),
        model_id=push.model_id if push else None,
        recovered=recovered,
    )
