"""What happens to a model at one destination: push, wait for approval, or not. Pure.

gates all passed?  approval  decision   -> action
no                 any       any        -> blocked   (no human can override a failed gate)
yes                auto      -          -> push
yes                manual    none yet   -> pending
yes                manual    approved   -> push
yes                manual    rejected   -> rejected
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal, Optional, Sequence

from tfxgate.governance.gates import GateResult, all_passed
from tfxgate.governance.publish import Published, publish
from tfxgate.governance.rollout_state import RolloutPolicy

Approval = Literal["auto", "manual"]
Decision = Optional[Literal["approved", "rejected"]]
Action = Literal["push", "pending", "blocked", "rejected"]


def decide(gates: Sequence[GateResult], *, approval: Approval, decision: Decision = None) -> Action:
    """The action for one destination (see the module docstring's table).

    Example:
      >>> decide([GateResult("drift", True, "")], approval="manual")
      'pending'
    """
    if approval not in ("auto", "manual"):
        raise ValueError(f"unknown approval policy {approval!r}")
    if not all_passed(gates):
        return "blocked"
    if decision == "rejected":
        return "rejected"
    if approval == "auto" or decision == "approved":
        return "push"
    return "pending"


def carry_out(
    source: Path,
    destination: Path,
    *,
    gates: Sequence[GateResult],
    approval: Approval,
    decision: Decision = None,
    root: Optional[Path] = None,
    fingerprint: Optional[str] = None,
    manifest: Optional[dict] = None,
    before_rename: Optional[Callable[[Path, str], None]] = None,
    rollout: Optional[RolloutPolicy] = None,
) -> tuple[Action, Optional[Published]]:
    """Decides for one destination and, when the action is `push`, publishes atomically.

    The one path from evidence to files on disk, shared by the pipeline
    (GovernedPush's executor) and `tfxgate approve`. `fingerprint` and
    `manifest` go to `publish` (the same model is never a second version).
    """
    action = decide(gates, approval=approval, decision=decision)
    if action != "push":
        return action, None
    published = publish(
        source,
        destination,
        root=root,
        fingerprint=fingerprint,
        manifest=manifest,
        before_rename=before_rename,
        rollout=rollout,
    )
    return action, published
