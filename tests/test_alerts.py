"""Alerts reach real servers on loopback: a webhook, a Slack-compatible webhook, an SMTP server.

The servers are started here (stdlib `http.server` in a thread; `aiosmtpd`). The
alerts are built from real `RunSummary` objects judged by `summary.judge`, the
rule the CLI exits by, and from a real `tfxgate rollback` on a real ML Metadata
store (tests/test_governance_cli.py's Setup). A sink that is down is tried
`tries` times with a growing wait and recorded as failed; the command's exit code
does not change.
"""

from __future__ import annotations

import json
import logging
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.conftest import free_port
from tests.test_config import MINIMAL, problems, write_config
from tests.test_exit_codes import ANOMALY_ERROR, BLOCKED, FAILED_EVALUATION, PENDING, summary
from tests.test_governance_cli import Setup
from tfxgate.alerts import dispatch
from tfxgate.alerts.events import EVENTS
from tfxgate.alerts.runs import from_run
from tfxgate.alerts.settings import AlertsSection
from tfxgate.cli.main import main
from tfxgate.pipelines.config.root import load_config
from tfxgate.reporting.summary import render


class Hook:
    """An HTTP server on loopback that records each POST and answers with the next queued status."""

    def __init__(self):
        self.received: list[dict] = []
        self.statuses: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                self.send_response(hook.statuses.pop(0) if hook.statuses else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """What the SMTP server received: (envelope sender, recipients, parsed message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=default_policy)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message, session.authenticated))
        return "250 OK"


@pytest.fixture
def hook():
    server = Hook()
    yield server
    server.close()


@pytest.fixture
def smtp():
    mailbox = Mailbox()

    def login(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"tfxgate", b"s3cret"))

    controller = Controller(
        mailbox, hostname="127.0.0.1", port=free_port(), authenticator=login, auth_require_tls=False
    )
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def sinks(**found) -> AlertsSection:
    return AlertsSection.model_validate({"sinks": found, "backoff_seconds": 0.5, "timeout_seconds": 5})


class Waits(list):
    """Records the backoff instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --- what a run sends -------------------------------------------------------------------------


def test_a_pending_run_sends_the_approve_command_exactly_as_the_cli_prints_it(hook, tmp_path):
    pending = summary(pushed=False, destinations=[PENDING], model_id=12, cli_options="-c configs/taxi.yaml")
    section = sinks(ops={"kind": "webhook", "url": f"{hook.url}/tfxgate", "token_env": "ALERT_TOKEN"})
    journal = tmp_path / "alerts.jsonl"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ALERT_TOKEN", "t0ken")
        records = dispatch.send(from_run(pending), section, journal=journal)

    [received] = hook.received
    command = "tfxgate approve r1 -c configs/taxi.yaml --by NAME --reason TEXT --destination production"
    assert command in render(pending)  # the very line the run summary prints
    payload = received["json"]
    assert {k: payload[k] for k in ("event", "pipeline", "run_id", "status", "destination", "model_id", "command")} == {
        "event": "pending_approval",
        "pipeline": "taxi",
        "run_id": "r1",
        "status": "PENDING_APPROVAL",
        "destination": "production",
        "model_id": 12,
        "command": command,
    }
    assert received["path"] == "/tfxgate" and received["headers"]["Authorization"] == "Bearer t0ken"
    assert received["headers"]["Content-Type"] == "application/json"
    assert [(r["event"], r["sink"], r["delivered"], r["tries"]) for r in records] == [
        ("pending_approval", "ops", True, 1)
    ]
    assert [json.loads(line) for line in journal.read_text().splitlines()] == records


@pytest.mark.parametrize(
    "fields, reason, destination",
    [
        (dict(failed_stage="Validate", error=ANOMALY_ERROR), "validation: 1 anomaly in split 'eval'", None),
        (
            dict(blessed=False, pushed=False, gates=FAILED_EVALUATION, destinations=[BLOCKED], model_id=5),
            "evaluation: NOT BLESSED: auc 0.71 < 0.85",
            "production",
        ),
    ],
)
def test_a_blocked_run_sends_one_slack_message_saying_why(hook, fields, reason, destination):
    blocked = summary(**fields)
    records = dispatch.send(from_run(blocked), sinks(team={"kind": "slack", "url": hook.url}))

    [received] = hook.received
    assert list(received["json"]) == ["text"]  # Slack's incoming-webhook body
    text = received["json"]["text"]
    assert text.startswith("[tfxgate] taxi run r1: BLOCKED")
    assert f"reason: {reason}" in text
    assert (f"destination: {destination}" in text) is (destination is not None)
    assert [(r["event"], r["delivered"]) for r in records] == [("blocked", True)]


def test_a_failed_run_alerts_and_a_pushed_one_does_not(hook):
    section = sinks(ops={"kind": "webhook", "url": hook.url})
    assert dispatch.send(from_run(summary(pushed=True, pushed_to="/s/production/3")), section) == []
    dispatch.send(from_run(summary(failed_stage="Trainer", error="RuntimeError: deliberate failure")), section)
    [received] = hook.received
    assert (received["json"]["event"], received["json"]["status"]) == ("failed", "FAILED")
    assert received["json"]["reason"] == "RuntimeError: deliberate failure"
    assert received["json"]["details"] == {"stage": "Trainer"}


def test_email_over_smtp_with_login_from_the_environment(smtp, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    mail = {
        "kind": "email",
        "host": "127.0.0.1",
        "port": smtp.port,
        "from": "tfxgate@example.com",
        "to": ["oncall@example.com", "ml@example.com"],
        "user": "tfxgate",
        "password_env": "SMTP_PASSWORD",
        "events": ["blocked"],
    }
    section = sinks(oncall=mail)
    pending = summary(pushed=False, destinations=[PENDING])
    assert dispatch.send(from_run(pending), section) == []  # not an event this sink wants
    blocked = summary(failed_stage="Validate", error=ANOMALY_ERROR)
    [record] = dispatch.send(from_run(blocked), section)

    assert record["delivered"], record
    [(sender, recipients, message, authenticated)] = smtp.messages
    assert (sender, recipients, authenticated) == (
        "tfxgate@example.com",
        ["oncall@example.com", "ml@example.com"],
        True,
    )
    assert message["Subject"] == "[tfxgate] taxi run r1: BLOCKED"
    assert message["To"] == "oncall@example.com, ml@example.com"
    assert "reason: validation: 1 anomaly in split 'eval'" in message.get_content()


def test_a_server_without_starttls_gets_nothing_in_clear_text(smtp):
    mail = {"kind": "email", "host": "127.0.0.1", "port": smtp.port, "from": "a@example.com", "to": ["b@example.com"]}
    waits = Waits()
    [record] = dispatch.send(
        from_run(summary(failed_stage="Validate", error=ANOMALY_ERROR)),
        sinks(tls={**mail, "starttls": True}),  # this server offers no STARTTLS
        sleep=waits,
    )
    assert smtp.messages == []
    assert (record["delivered"], record["tries"], waits) == (False, 1, [])  # no later try can succeed
    assert record["error"] == "SMTPNotSupportedError: STARTTLS extension not supported by server."


# --- a sink that is down ----------------------------------------------------------------------


def test_a_sink_that_is_down_is_tried_three_times_then_logged_with_its_traceback(caplog):
    down = f"http://127.0.0.1:{free_port()}/hook"
    waits = Waits()
    with caplog.at_level(logging.WARNING, logger="tfxgate.alerts.dispatch"):
        [record] = dispatch.send(
            from_run(summary(failed_stage="Validate", error=ANOMALY_ERROR)),
            sinks(ops={"kind": "webhook", "url": down}),
            sleep=waits,
        )
    assert (record["delivered"], record["tries"]) == (False, 3)
    assert "Connection refused" in record["error"]
    assert waits == [0.5, 1.0]  # backoff, doubled
    final = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(final) == 1 and final[0].exc_info is not None  # the traceback goes to the log
    assert final[0].getMessage() == "alert blocked to sink 'ops' failed after 3 tries"
    assert dispatch.failures([record]) == [
        f"alert blocked to sink 'ops' (webhook) failed after 3 tries: {record['error']}"
    ]


def test_a_server_error_is_retried_and_a_refusal_or_a_missing_secret_is_not(hook, monkeypatch):
    monkeypatch.delenv("HOOK_URL", raising=False)
    hook.statuses = [503, 200, 404]
    waits = Waits()
    records = dispatch.send(
        from_run(summary(failed_stage="Validate", error=ANOMALY_ERROR)),
        sinks(
            flaky={"kind": "webhook", "url": hook.url},  # 503, then 200
            gone={"kind": "webhook", "url": hook.url},  # 404: no retry
            secret={"kind": "slack", "url_env": "HOOK_URL"},
        ),
        sleep=waits,
    )
    assert [(r["sink"], r["delivered"], r["tries"]) for r in records] == [
        ("flaky", True, 2),
        ("gone", False, 1),
        ("secret", False, 1),
    ]
    assert records[1]["error"] == f"Refused: HTTP 404 Not Found from {hook.url}"
    assert records[2]["error"] == "MissingSecret: alerts.sinks.secret.url_env: environment variable HOOK_URL is not set"
    assert len(hook.received) == 3 and waits == [0.5]


# --- rollback, through the CLI ----------------------------------------------------------------


def alerting_setup(tmp_path: Path, url: str, capsys) -> Setup:
    """Two approved pushes to production (versions 1 and 2), with one webhook sink at `url`."""
    setup = Setup(tmp_path)
    with setup.config.open("a") as config:
        config.write(f"alerts:\n  backoff_seconds: 0\n  sinks:\n    ops: {{kind: webhook, url: '{url}'}}\n")
    first = setup.pending_run("run-1", tag="one")
    setup.pending_run("run-2", tag="two")
    for run in ("run-1", "run-2"):
        assert main(["approve", run, "--by", "ana", "--reason", "ok", "-c", str(setup.config)]) == 0
    setup.first_model = first
    capsys.readouterr()
    return setup


def test_rollback_alerts_the_webhook(hook, tmp_path, capsys):
    setup = alerting_setup(tmp_path, f"{hook.url}/hook", capsys)
    code, out, err = setup.cli(capsys, "rollback", "demo", "--to", "1", "--by", "cy", "--reason", "latency")
    assert code == 0, err
    [received] = hook.received
    payload = received["json"]
    assert {k: payload[k] for k in ("event", "pipeline", "status", "destination", "version", "model_id", "run_id")} == {
        "event": "rollback",
        "pipeline": "demo",
        "status": "ROLLED_BACK",
        "destination": "production",
        "version": "1",
        "model_id": setup.first_model,
        "run_id": "run-1",
    }
    assert payload["reason"] == "latency (by cy)" and payload["details"]["previous version"] == "2"
    [record] = [json.loads(line) for line in (setup.root / dispatch.JOURNAL).read_text().splitlines()]
    assert (record["event"], record["delivered"]) == ("rollback", True)


def test_rollback_with_its_sink_down_still_exits_0_and_records_the_failure(tmp_path, capsys):
    setup = alerting_setup(tmp_path, f"http://127.0.0.1:{free_port()}/hook", capsys)
    code, out, err = setup.cli(capsys, "rollback", "demo", "--to", "1", "--by", "cy", "--reason", "latency")
    assert code == 0
    assert out.strip() == "tfxgate: production now serves version 1 (was 2), rolled back by cy"
    assert "warning: alert rollback to sink 'ops' (webhook) failed after 3 tries" in err
    [record] = [json.loads(line) for line in (setup.root / dispatch.JOURNAL).read_text().splitlines()]
    assert (record["delivered"], record["tries"]) == (False, 3)


# --- the config --------------------------------------------------------------------------------

ALERTS = """\
alerts:
  tries: 4
  sinks:
    ops:
      kind: webhook
      url: https://hooks.example.com/tfxgate
      token_env: OPS_TOKEN
    team:
      kind: slack
      url_env: SLACK_WEBHOOK_URL
      events: [blocked, pending_approval]
    oncall:
      kind: email
      host: smtp.example.com
      port: 587
      starttls: true
      from: tfxgate@example.com
      to: [oncall@example.com]
      user: tfxgate
      password_env: SMTP_PASSWORD
"""


def test_the_alerts_section_loads(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL + ALERTS))
    assert config.alerts.tries == 4
    assert {name: sink.kind for name, sink in config.alerts.sinks.items()} == {
        "ops": "webhook",
        "team": "slack",
        "oncall": "email",
    }
    assert config.alerts.sinks["oncall"].sender == "tfxgate@example.com"
    assert config.alerts.sinks["team"].wants("blocked") and not config.alerts.sinks["team"].wants("rollback")
    assert set(EVENTS) == {"blocked", "failed", "pending_approval", "rollback", "canary_abort", "monitoring_breach"}


@pytest.mark.parametrize(
    "edit, key, message",
    [
        (
            ("kind: slack", "kind: teams"),
            "alerts.sinks.team",
            "kind: unknown sink kind 'teams' (known: webhook, slack, email)",
        ),
        (("      url_env: SLACK_WEBHOOK_URL\n", ""), "alerts.sinks.team", "set either url or url_env"),
        (("url: https://hooks", "url: ftp://hooks"), "alerts.sinks.ops.url", "not an http:// or https:// URL"),
        (("token_env: OPS_TOKEN", "token: abc123"), "alerts.sinks.ops.token", "unknown key"),  # no secrets in YAML
        (("token_env: OPS_TOKEN", "token_env: $OPS"), "alerts.sinks.ops.token_env", "should match pattern"),
        (("[blocked, pending_approval]", "[blocked, canary]"), "alerts.sinks.team.events", "unknown event 'canary'"),
        (("port: 587", "port: 70000"), "alerts.sinks.oncall.port", "less than or equal to 65535"),
        (("to: [oncall@example.com]", "to: [oncall]"), "alerts.sinks.oncall.to.0", "should match pattern"),
        (("      user: tfxgate\n", ""), "alerts.sinks.oncall", "password_env needs user"),
        (("tries: 4", "tries: 0"), "alerts.tries", "greater than or equal to 1"),
    ],
)
def test_a_wrong_alerts_section_is_refused_with_its_key(tmp_path, edit, key, message):
    old, new = edit
    assert old in ALERTS
    found = problems(write_config(tmp_path, MINIMAL + ALERTS.replace(old, new)))
    assert [(k, m) for k, _, m in found if k == key and message in m], found


def test_check_reports_each_secret_variable_that_is_not_set(tmp_path, capsys, monkeypatch):
    for variable in ("OPS_TOKEN", "SLACK_WEBHOOK_URL", "SMTP_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OPS_TOKEN", "set")
    assert main(["check", str(write_config(tmp_path, MINIMAL + ALERTS))]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "environment variable" in line]
    assert warnings == [
        "warning: alerts.sinks.team.url_env: environment variable SLACK_WEBHOOK_URL is not set here "
        "(alerts to that sink will fail)",
        "warning: alerts.sinks.oncall.password_env: environment variable SMTP_PASSWORD is not set here "
        "(alerts to that sink will fail)",
    ]
