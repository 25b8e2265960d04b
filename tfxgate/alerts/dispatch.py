"""Sending alerts to the configured sinks: tries with backoff, never an exception.

Each alert goes to every sink whose `events` include it, `tries` times at most,
waiting `backoff_seconds`, then twice that, and so on, between tries. A sink that
refuses (HTTP 4xx, SMTP 5xx, no STARTTLS) or lacks its secret is not tried again. A failing sink never
fails the run or the command: its traceback goes to the log, and the delivery is
recorded like a successful one, as a dict (event, sink, kind, destination,
delivered, tries, error, at) that the caller keeps: the run's `summary.json`
(`alerts`), and the pipeline's `logs/alerts.jsonl` journal (`journal`).
"""

from __future__ import annotations

import json
import logging
import smtplib
import time
from pathlib import Path
from typing import Callable, Optional

from tfxgate.alerts import mail, slack, webhook
from tfxgate.alerts.events import Alert, now
from tfxgate.alerts.secrets import MissingSecret
from tfxgate.alerts.settings import AlertsSection

SENDERS = {"webhook": webhook.send, "slack": slack.send, "email": mail.send}
JOURNAL = "logs/alerts.jsonl"  # under the pipeline root, appended like the log: every delivery, runs' and commands'

log = logging.getLogger(__name__)


def send(
    alerts: list[Alert],
    section: AlertsSection,
    *,
    journal: Optional[Path] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict]:
    """Sends each alert to each sink that wants it; returns one delivery record per (alert, sink).

    Args:
      alerts: what happened (tfxgate/alerts/runs.py).
      section: the config's `alerts:`.
      journal: a JSON-lines file the records are appended to (created if missing).
      sleep: waits between tries (tests pass a recorder).
    """
    records = []
    for alert in alerts:
        for name, sink in section.sinks.items():
            if sink.wants(alert.event):
                records.append(_deliver(alert, name, sink, section, sleep=sleep))
    if journal is not None and records:
        _append(journal, records)
    return records


def _deliver(alert: Alert, name: str, sink, section: AlertsSection, *, sleep) -> dict:
    record = {"event": alert.event, "sink": name, "kind": sink.kind, "destination": alert.destination}
    wait = section.backoff_seconds
    for attempt in range(1, section.tries + 1):
        try:
            SENDERS[sink.kind](sink, alert, name=name, timeout=section.timeout_seconds)
        except Exception as err:  # any sink failure is the sink's, never the run's
            last = attempt == section.tries or _final(err)
            if not last:
                log.warning(
                    "alert %s to sink %r: try %d of %d failed: %s", alert.event, name, attempt, section.tries, err
                )
                sleep(wait)
                wait *= 2
                continue
            log.exception("alert %s to sink %r failed after %d tries", alert.event, name, attempt)
            return {
                **record,
                "delivered": False,
                "tries": attempt,
                "error": f"{type(err).__name__}: {err}",
                "at": now(),
            }
        return {**record, "delivered": True, "tries": attempt, "error": None, "at": now()}
    raise AssertionError("unreachable: tries >= 1")


def _final(err: Exception) -> bool:
    """No later try can succeed: the receiver said no for good, or the sink lacks its secret."""
    if isinstance(err, webhook.Refused | MissingSecret | smtplib.SMTPNotSupportedError):
        return True  # e.g. STARTTLS asked for and not offered: never fall back to clear text
    return isinstance(err, smtplib.SMTPResponseException) and err.smtp_code >= 500


def failures(records: list[dict]) -> list[str]:
    """One line per delivery that failed, for the console."""
    return [
        f"alert {r['event']} to sink '{r['sink']}' ({r['kind']}) failed after {r['tries']} "
        f"{'try' if r['tries'] == 1 else 'tries'}: {r['error']}"
        for r in records
        if not r["delivered"]
    ]


def _append(journal: Path, records: list[dict]) -> None:
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        with journal.open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
    except OSError:  # the deliveries happened; the caller still has their records
        log.exception("could not append the alert deliveries to %s", journal)
