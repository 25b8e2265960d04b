"""Where the CLI sends alerts: at the end of `tfxgate run`, and after `tfxgate rollback`.

A failing sink never changes the command's exit code: it is printed as a warning,
logged with its traceback, and recorded (the run's summary.json `alerts`, and
`<pipeline root>/logs/alerts.jsonl` for every command).
"""

from __future__ import annotations

import sys

from tfxgate.pipelines.config.root import PipelineConfig


def announce(config: PipelineConfig, alerts: list, *, out=None) -> list[dict]:
    """Sends `alerts` (tfxgate.alerts.events.Alert) to the config's sinks; returns the delivery records."""
    if not config.alerts.sinks or not alerts:
        return []
    from tfxgate.alerts import dispatch

    records = dispatch.send(alerts, config.alerts, journal=config.pipeline.root / dispatch.JOURNAL)
    for line in dispatch.failures(records):
        print(f"  warning: {line} (logged with its traceback)", file=out or sys.stderr, flush=True)
    return records
