"""Named failpoints: make the process SIGKILL itself at a chosen durable step, for crash tests.

    TFXGATE_FAILPOINTS=publish.after_rename tfxgate run configs/taxi.yaml

`hit(name)` does nothing unless `name` is listed (comma-separated) in the
environment variable `TFXGATE_FAILPOINTS`; then it kills its own process with
SIGKILL (no cleanup, no `finally`, no atexit: what a power cut or the OOM
killer does). The variable is read once per process and the check is one set
lookup, so a failpoint costs nothing in a normal run.

`CATALOGUE` below is the one list of failpoints, in the order an operation
reaches them, each with the operations that reach it; the code names its own
with `named` (an uncatalogued name fails at import), the crash tests take
theirs from `reached_by`, and README "Crash safety" documents them (a test
keeps it in step). An unknown name in the variable is refused, so a typo
cannot make a crash test pass vacuously.
"""

from __future__ import annotations

import functools
import os
import signal
from dataclasses import dataclass

ENV = "TFXGATE_FAILPOINTS"

# What reaches a failpoint (`Failpoint.reached_by`):
PUSH = "push"  # the publish-and-record path: GovernedPush in every run, and `tfxgate approve`
PIPELINE = "pipeline"  # only inside a pipeline run (TFX's launcher around GovernedPush, the local runner)
APPROVE = "approve"  # `tfxgate approve`'s own steps (then it goes through the PUSH ones)
ROLLBACK = "rollback"  # `tfxgate rollback`
OBJECT_STORE = "object-store push"  # the publish path when the destination is gs:// or s3:// (no atomic rename)
CANARY = "canary push"  # the publish path at a destination under `rollout: canary | blue_green`
PROMOTE = "promote"  # `tfxgate promote`
ABORT = "abort"  # `tfxgate abort` (and `tfxgate monitor` aborting a canary)


@dataclass(frozen=True)
class Failpoint:
    name: str  # `<where>.<after what>`: where is the module's step (publish, push, approve, rollback)
    when: str  # the durable state reached when it kills
    reached_by: tuple[str, ...]


CATALOGUE: tuple[Failpoint, ...] = (
    Failpoint(
        "approve.after_approval_record",
        "`approve` wrote the tfxgate.Approval record; nothing is published yet",
        (APPROVE,),
    ),
    Failpoint("publish.after_copy", "the model is copied into the hidden temporary version", (PUSH,)),
    Failpoint("publish.after_fsync", "every copied file and directory is fsynced", (PUSH,)),
    Failpoint("publish.after_manifest", "the manifest is written inside the temporary version", (PUSH,)),
    Failpoint("publish.after_rename", "the version is renamed into place, `current` not switched", (PUSH,)),
    Failpoint(
        "publish.mid_upload",
        "object store: part of the model is uploaded to the hidden prefix, the rest is not",
        (OBJECT_STORE,),
    ),
    Failpoint(
        "publish.after_version_copy",
        "object store: the model is copied to `<version>/`, its manifest not yet written",
        (OBJECT_STORE,),
    ),
    Failpoint(
        "publish.after_rollout_state",
        "rollout.json names the new version (the candidate; the stable one on a first push); "
        "`current` and the serving configs not yet updated",
        (CANARY,),
    ),
    Failpoint("publish.after_current", "`current` points at the new version (the candidate is live)", (PUSH, CANARY)),
    Failpoint("push.after_record", "the tfxgate.Push record of a version is in ML Metadata", (PUSH,)),
    Failpoint(
        "push.after_executor",
        "GovernedPush's executor returned; TFX has not yet marked the execution COMPLETE",
        (PIPELINE,),
    ),
    Failpoint(
        "push.after_complete",
        "TFX marked GovernedPush COMPLETE; the runner has not linked its PushedModel to the record",
        (PIPELINE,),
    ),
    Failpoint("rollback.after_current", "`rollback` switched `current`; no tfxgate.Rollback record yet", (ROLLBACK,)),
    Failpoint("rollback.after_record", "`rollback` wrote its tfxgate.Rollback record", (ROLLBACK,)),
    Failpoint(
        "promote.after_state",
        "`promote` wrote rollout.json (the candidate is stable); `current` not switched, no tfxgate.Promotion record",
        (PROMOTE,),
    ),
    Failpoint("promote.after_current", "`promote` switched `current`; no tfxgate.Promotion record yet", (PROMOTE,)),
    Failpoint(
        "promote.after_record",
        "`promote` wrote its tfxgate.Promotion record; serving configs not rewritten",
        (PROMOTE,),
    ),
    Failpoint(
        "abort.after_state", "`abort` wrote rollout.json (no candidate); no tfxgate.CanaryAbort record yet", (ABORT,)
    ),
    Failpoint(
        "abort.after_record", "`abort` wrote its tfxgate.CanaryAbort record; serving configs not rewritten", (ABORT,)
    ),
)
NAMES: dict[str, str] = {f.name: f.when for f in CATALOGUE}


def named(name: str) -> str:
    """`name`, checked against the catalogue: how the code names the failpoint it hits.

    Raises:
      KeyError: `name` is not in CATALOGUE (add it there, and to README "Crash safety").
    """
    if name not in NAMES:
        raise KeyError(f"failpoint {name!r} is not in tfxgate/storage/failpoints.py CATALOGUE")
    return name


def reached_by(*operations: str) -> list[str]:
    """The failpoints any of these operations reaches, in catalogue order: `reached_by(APPROVE, PUSH)`."""
    unknown = set(operations) - {PUSH, PIPELINE, APPROVE, ROLLBACK, OBJECT_STORE, CANARY, PROMOTE, ABORT}
    if unknown:
        raise ValueError(f"unknown operation(s) {', '.join(sorted(unknown))}")
    return [f.name for f in CATALOGUE if set(f.reached_by) & set(operations)]


@functools.lru_cache(maxsize=1)
def _armed() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip())


def any_armed() -> bool:
    """Whether TFXGATE_FAILPOINTS arms anything (a crash test: every step must really run)."""
    return bool(_armed())


def hit(name: str) -> None:
    """SIGKILLs this process when `name` is armed in TFXGATE_FAILPOINTS; otherwise returns at once."""
    armed = _armed()
    if not armed or name not in armed:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def check_armed() -> None:
    """Raises ValueError when TFXGATE_FAILPOINTS names a failpoint that is not in the catalogue."""
    unknown = sorted(_armed() - set(NAMES))
    if unknown:
        raise ValueError(f"{ENV}: unknown failpoint(s) {', '.join(unknown)} (known: {', '.join(NAMES)})")
