"""A destination's rollout state: the stable version, the candidate beside it, and their weights, in one file.

    <destination>/
      3/  4/               versions (governance/publish.py)
      current -> 3          the stable version (kept in step with rollout.json, for readers of `current`)
      rollout.json          {"kind": "canary", "stable": "3", "candidate": "4", "weight": 10, "change": {...}}
      serving/              what serving systems read, rendered from rollout.json (governance/serving_configs.py)

A destination whose `rollout.kind` is `canary` or `blue_green` has a
`rollout.json`; a `direct` one (the default) never gets one and behaves as
before. The file is the rollout's one source of truth and its commit point:
every change (a push making a candidate, promote, abort, rollback) is one
atomic write of the whole file (`filesystem.write_json`: temporary file,
fsync, rename on a local disk; one PUT, whole object or nothing, on an object
store), so a reader sees the old state or the new one, never half.
`current` and the serving configs are derived from it afterwards and repaired
by `governance.rollout.reconcile` when a kill came between.

`change` names the last change (op, version, previous, by, reason, at): it is
what rebuilds the ML Metadata record of a promote or abort killed before its
record (the same role a version's manifest plays for a push). `dropped` lists
versions that were candidates and were aborted or replaced by a newer push:
completing a killed push never makes one of them live again.

Pure: `tfxgate.storage` only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Literal, Optional

from tfxgate.storage import filesystem
from tfxgate.storage.filesystem import Location

STATE = "rollout.json"
Kind = Literal["direct", "canary", "blue_green"]
KINDS = ("direct", "canary", "blue_green")


@dataclass(frozen=True)
class RolloutPolicy:
    """How a destination rolls a new version out (`stages.push.destinations.NAME.rollout`), as plain values.

    `weight` is the candidate's share of traffic in percent: 100 for blue-green.
    `model_name`, `namespace` and `storage_uri` go into the serving configs
    (TF Serving's model name and the KServe InferenceService's name/namespace/
    storage URI); empty means the destination's name and its own directory.
    """

    kind: Kind = "direct"
    weight: int = 100
    model_name: str = ""
    namespace: str = ""
    storage_uri: str = ""

    @property
    def staged(self) -> bool:
        """Whether a push makes a candidate beside the stable version (canary, blue-green) instead of replacing it."""
        return self.kind != "direct"


@dataclass(frozen=True)
class Change:
    """The last change to a rollout (what a lost ML Metadata record is rebuilt from)."""

    op: str  # push | promote | abort | rollback
    version: str  # the version it is about (the candidate pushed, promoted or aborted; the rollback target)
    previous: str = ""  # the stable version before (push, promote, rollback) / the dropped candidate (push)
    by: str = ""
    reason: str = ""
    at: str = ""


@dataclass(frozen=True)
class RolloutState:
    """What `rollout.json` holds."""

    kind: Kind
    stable: Optional[str]
    candidate: Optional[str] = None
    weight: int = 100  # the candidate's percent of traffic while there is one
    model_name: str = ""
    namespace: str = ""
    storage_uri: str = ""
    dropped: tuple[str, ...] = ()
    change: Optional[Change] = None

    @property
    def weights(self) -> dict[str, int]:
        """Version -> percent of traffic: the stable one alone, or stable and candidate (a blue-green's stable at 0)."""
        if self.candidate is None:
            return {self.stable: 100} if self.stable else {}
        if not self.stable:
            return {self.candidate: 100}
        return {self.stable: 100 - self.weight, self.candidate: self.weight}

    def with_policy(self, policy: RolloutPolicy) -> RolloutState:
        """This state under the config's policy now (weight of a running candidate kept: it was pushed with it)."""
        kept = self.weight if self.candidate is not None else policy.weight
        return replace(
            self,
            kind=policy.kind,
            weight=kept,
            model_name=policy.model_name,
            namespace=policy.namespace,
            storage_uri=policy.storage_uri,
        )

    def to_json(self) -> dict:
        found = asdict(self)
        found["dropped"] = list(self.dropped)
        return found


def read(destination: Location) -> Optional[RolloutState]:
    """The destination's rollout state, or None when it has none (a `direct` destination).

    Raises:
      ValueError: the file exists but is not a rollout state (names the file).
    """
    path = filesystem.location(destination) / STATE
    try:
        text = filesystem.read_text(path)
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        change = data.pop("change", None)
        data["dropped"] = tuple(data.get("dropped") or ())
        return RolloutState(**data, change=Change(**change) if change else None)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path}: not a tfxgate rollout state ({err})") from err


def write(destination: Location, state: RolloutState) -> None:
    """Replaces the destination's rollout state in one atomic write (see the module docstring)."""
    if state.kind not in KINDS:
        raise ValueError(f"unknown rollout kind {state.kind!r} (known: {', '.join(KINDS)})")
    filesystem.write_json(filesystem.location(destination) / STATE, state.to_json())


def staged(state: RolloutState, *, candidate: str, policy: RolloutPolicy, change: Change) -> RolloutState:
    """`state` with `candidate` beside its stable version; a candidate already there is dropped (replaced)."""
    dropped = state.dropped
    if state.candidate is not None and state.candidate != candidate:
        dropped = (*dropped, state.candidate)
    return replace(state.with_policy(policy), candidate=candidate, weight=policy.weight, dropped=dropped, change=change)


def stable(state: RolloutState, *, version: str, change: Change) -> RolloutState:
    """`state` serving `version` as stable; the candidate stays unless it is `version` (then it is promoted)."""
    candidate = None if state.candidate == version else state.candidate
    return replace(state, stable=version, candidate=candidate, change=change)


def first(policy: RolloutPolicy, *, version: str, change: Change) -> RolloutState:
    """The state of a destination's first push: nothing to compare a candidate with, so it is stable at once."""
    return RolloutState(kind=policy.kind, stable=version, weight=policy.weight, change=change).with_policy(policy)


def with_change(state: RolloutState, **changes) -> RolloutState:
    """A copy with fields replaced (`dataclasses.replace`), for callers outside this module."""
    return replace(state, **changes)
