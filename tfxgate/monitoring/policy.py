"""What a monitoring breach does: `monitoring.on_breach`, in the order the config lists it.

- `alert`: one `monitoring_breach` alert per breached model through the
  configured sinks (tfxgate/alerts), naming the slices and metrics;
- `abort_canary`: when the candidate of a canary breached, the canary is
  aborted with `governance.store.abort(..., by="tfxgate-monitor")` and a
  reason naming the slice, and the `canary_abort` alert is sent (a breach of
  the stable alone aborts nothing);
- `retrain`: a retrain request is recorded (`<pipeline root>/retrain_requests.jsonl`,
  one JSON line: destination, version, reasons, at) for a scheduler or a
  person to act on; nothing is trained here.

Every action is returned as a dict (action, done, detail) for the JSON
result, the console and the `actions` property of the Monitor execution. An
action that fails is logged with its traceback and recorded, never raised:
the breach is already recorded, and the other actions still run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tfxgate.alerts import dispatch
from tfxgate.alerts.events import Alert, now
from tfxgate.alerts.runs import canary_abort
from tfxgate.alerts.settings import AlertsSection
from tfxgate.governance.store import abort
from tfxgate.governance.target import GovernedPipeline
from tfxgate.monitoring.run import Outcome

BY = "tfxgate-monitor"
RETRAIN_REQUESTS = "retrain_requests.jsonl"

log = logging.getLogger(__name__)


def reasons(check) -> str:
    """The breaches of one model in one line, slices first."""
    ordered = sorted(check.breaches, key=lambda b: (b.kind != "concept_drift", b.kind, b.where))
    return "; ".join(b.message for b in ordered)


def alerts(outcome: Outcome, *, pipeline: str) -> list[Alert]:
    return [
        Alert(
            "monitoring_breach",
            pipeline=pipeline,
            status="MONITORING_BREACH",
            reason=reasons(check),
            destination=outcome.destination,
            model_id=check.model_id,
            version=check.version,
            details={
                "role": check.role,
                "slices": ", ".join(dict.fromkeys(b.where for b in check.breaches if b.kind == "concept_drift"))
                or "none",
                "metrics": ", ".join(dict.fromkeys(b.measure for b in check.breaches)),
                "report": str(outcome.html_path),
            },
        )
        for check in outcome.checks
        if check.breaches
    ]


def apply(
    outcome: Outcome, actions: list[str], *, target: GovernedPipeline, alerts_section: AlertsSection
) -> list[dict]:
    """Runs each action of `actions` for a breached `outcome`; returns what each did."""
    if outcome.status != "breach":
        return []
    done = []
    for action in actions:
        try:
            done += _ACTIONS[action](outcome, target=target, alerts_section=alerts_section)
        except Exception as err:  # the breach is recorded; one failed action must not stop the others
            log.exception("monitoring action %s failed", action)
            done.append({"action": action, "done": False, "detail": f"{type(err).__name__}: {err}"})
    return done


def _alert(outcome: Outcome, *, target: GovernedPipeline, alerts_section: AlertsSection) -> list[dict]:
    if not alerts_section.sinks:
        return [{"action": "alert", "done": False, "detail": "no alert sinks configured (alerts.sinks)"}]
    records = dispatch.send(
        alerts(outcome, pipeline=target.name), alerts_section, journal=target.root / dispatch.JOURNAL
    )
    return [_delivery("alert", r) for r in records]


def _delivery(action: str, record: dict) -> dict:
    detail = f"sink {record['sink']} ({record['kind']})" + (f": {record['error']}" if record["error"] else "")
    return {"action": action, "done": record["delivered"], "detail": detail}


def _abort(outcome: Outcome, *, target: GovernedPipeline, alerts_section: AlertsSection) -> list[dict]:
    breached = [c for c in outcome.checks if c.role == "candidate" and c.breaches]
    if not breached:
        return [{"action": "abort_canary", "done": False, "detail": "no canary candidate breached"}]
    check = breached[0]
    reason = f"monitoring breach of candidate version {check.version}: {reasons(check)}"
    done = abort(target, outcome.destination, by=BY, reason=reason)
    found = [{"action": "abort_canary", "done": True, "detail": reason}]
    if alerts_section.sinks:  # also after a retried abort: at least once, as `tfxgate abort` sends it
        records = dispatch.send([canary_abort(done.record)], alerts_section, journal=target.root / dispatch.JOURNAL)
        found += [_delivery("canary_abort alert", r) for r in records]
    return found


def _retrain(outcome: Outcome, *, target: GovernedPipeline, alerts_section: AlertsSection) -> list[dict]:
    request = {
        "destination": outcome.destination,
        "versions": [c.version for c in outcome.checks if c.breaches],
        "reasons": [reasons(c) for c in outcome.checks if c.breaches],
        "report": str(outcome.json_path),
        "at": now(),
    }
    path = Path(target.root) / RETRAIN_REQUESTS
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(request, sort_keys=True) + "\n")
    return [{"action": "retrain", "done": True, "detail": f"retrain request recorded in {path}"}]


_ACTIONS = {"alert": _alert, "abort_canary": _abort, "retrain": _retrain}
