"""What an alert says: the events tfxgate alerts on, and one alert's words.

`EVENTS` is the one list of events a sink can subscribe to (`alerts.sinks.NAME.events`);
a new event (canary abort, monitoring breach) is one more entry here and one place
that builds its `Alert`. Each sink renders the same `Alert`: the JSON `payload`
(webhook), `text` (Slack, the e-mail body) and `title` (the e-mail subject).
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Optional

# event -> when it is sent (tfxgate/alerts/runs.py builds the run events, the rollback command its own).
EVENTS = {
    "blocked": "a run is BLOCKED: a gate (validation, drift, evaluation) or a standing rejection stopped the push",
    "failed": "a run FAILED or is INCOMPLETE: a stage failed, or was left running",
    "pending_approval": "a run's model waits for `tfxgate approve` at a destination with manual approval",
    "rollback": "`tfxgate rollback` pointed a destination back at an earlier version",
    "canary_abort": "a canary (or blue-green) candidate was dropped: `tfxgate abort`, or `tfxgate monitor` on a breach",
    "monitoring_breach": "`tfxgate monitor` found serving data, predictions or a slice's metrics past a threshold",
}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Alert:
    """One event, for every sink that wants it."""

    event: str  # a key of EVENTS
    pipeline: str
    status: str  # BLOCKED, FAILED, INCOMPLETE, PENDING_APPROVAL, ROLLED_BACK, CANARY_ABORTED, MONITORING_BREACH
    reason: str
    run_id: Optional[str] = None
    destination: Optional[str] = None
    model_id: Optional[int] = None
    version: Optional[str] = None
    command: Optional[str] = None  # what to run next, exactly as the CLI prints it
    details: dict = field(default_factory=dict)  # the event's own facts (e.g. a rollback's previous version)
    at: str = field(default_factory=now)

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"unknown alert event {self.event!r} (known: {', '.join(EVENTS)})")

    def title(self) -> str:
        where = f" at {self.destination}" if self.destination else ""
        run = f" run {self.run_id}" if self.run_id else ""
        return f"[tfxgate] {self.pipeline}{run}: {self.status}{where}"

    def text(self) -> str:
        lines = [self.title(), f"reason: {self.reason}"]
        lines += [
            f"{name}: {value}"
            for name, value in (
                ("pipeline", self.pipeline),
                ("run", self.run_id),
                ("destination", self.destination),
                ("model", self.model_id),
                ("version", self.version),
            )
            if value is not None
        ]
        lines += [f"{name}: {value}" for name, value in self.details.items()]
        if self.command:
            lines.append(f"next: {self.command}")
        return "\n".join(lines)

    def payload(self) -> dict:
        return {"source": "tfxgate", **asdict(self)}
