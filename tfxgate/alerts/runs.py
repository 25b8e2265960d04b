"""The alerts a finished run sends, read from its summary; and the rollback's and the canary abort's.

A run's alerts follow `summary.judge`'s status, the same rule as the CLI's exit
code: BLOCKED -> one `blocked` alert; FAILED or INCOMPLETE -> one `failed` alert;
and one `pending_approval` alert per destination left waiting, with the approve
command exactly as the run summary prints it. A SUCCEEDED run that pushed
everywhere sends nothing.
"""

from __future__ import annotations

from typing import Optional

from tfxgate.alerts.events import Alert
from tfxgate.mlmd.audit import Record
from tfxgate.reporting.summary import RunSummary, approve_command, status_line


def from_run(summary: RunSummary) -> list[Alert]:
    """The alerts `summary` calls for (none for a run that pushed, or pushed nothing and needed nothing)."""
    common = dict(pipeline=summary.pipeline, run_id=summary.run_id, model_id=summary.model_id)
    found = []
    if summary.status == "BLOCKED":
        stopped = [d["destination"] for d in summary.destinations if d["action"] in ("blocked", "rejected")]
        found.append(
            Alert(
                "blocked",
                status="BLOCKED",
                reason="; ".join(summary.blocked_by),
                destination=", ".join(stopped) or None,
                details=_where(summary),
                **common,
            )
        )
    elif summary.status in ("FAILED", "INCOMPLETE"):
        found.append(
            Alert(
                "failed",
                status=summary.status,
                reason=summary.error or status_line(summary),
                details=_where(summary),
                **common,
            )
        )
    for decision in summary.destinations:
        if decision["action"] == "pending":
            found.append(
                Alert(
                    "pending_approval",
                    status="PENDING_APPROVAL",
                    reason=decision.get("detail") or "every gate passed; the destination's approval is manual",
                    destination=decision["destination"],
                    command=approve_command(summary, decision),
                    **{**common, "run_id": decision.get("run_id") or summary.run_id},
                )
            )
    return found


def _where(summary: RunSummary) -> dict:
    """Where to look next: the stage that stopped the run and the reports it left."""
    found = {
        "stage": summary.failed_stage,
        "failing slices": "; ".join(summary.failing_slices) or None,
        "evaluation report": summary.report,
        "drift report": (summary.drift or {}).get("report"),
    }
    return {key: value for key, value in found.items() if value}


def rollback(record: Record, *, previous: Optional[str] = None) -> Alert:
    """The alert of a rollback `record` (tfxgate/governance/store.py `rollback`)."""
    return Alert(
        "rollback",
        pipeline=record.pipeline,
        status="ROLLED_BACK",
        reason=f"{record.reason} (by {record.by})",
        destination=record.destination,
        model_id=record.model_id,
        version=record.version,
        run_id=record.run_id or None,
        details={"previous version": previous or record.previous_version or "none", "by": record.by},
    )


def canary_abort(record: Record) -> Alert:
    """The alert of a canary abort `record` (tfxgate/governance/rollout.py `abort`)."""
    return Alert(
        "canary_abort",
        pipeline=record.pipeline,
        status="CANARY_ABORTED",
        reason=f"{record.reason} (by {record.by})",
        destination=record.destination,
        model_id=record.model_id,
        version=record.version,
        run_id=record.run_id or None,
        details={"candidate version": record.version, "stable version": record.previous_version or "none"},
    )
