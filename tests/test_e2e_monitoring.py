"""End to end: canary rollout and serving monitoring on the taxi pipeline (issue 23, "Done when").

On a copy of the session's taxi run (model A, pending for production):
production under `rollout: {kind: canary}`; A approved (the first push under a
canary is stable at once) -> a second run trains model B, approved: the
candidate beside A -> `tfxgate monitor` on a clean week (both versions
answering) finds nothing -> `tfxgate promote` -> a third run's model C is the
next candidate -> `monitor` on the week where the label of `payment_type=Cash`
changed: the breach names the slice, the canary is aborted by
`tfxgate-monitor`, the alerts reach a webhook and an SMTP server on loopback,
a retrain request is recorded, and `history` and `lineage` show every step.
Serving logs come from tests/serving_logs.py (predictions of the real pushed
SavedModels).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests import serving_logs
from tests.conftest import TAXI_CONFIG, free_port, run_cli, run_pipeline, small_run_overrides
from tests.test_alerts import Hook, Mailbox

pytestmark = pytest.mark.e2e

EVENTS = "[monitoring_breach, canary_abort]"
# Evaluation gates off: runs 2 and 3 train a little longer than run 1, and must not be blocked by a regression gate.
NO_GATES = ["stages.evaluation.overall={}", "stages.evaluation.thresholds={}", "stages.evaluation.max_gap=[]"]
CANARY = "stages.push.destinations.production={path: production, approval: manual, rollout: {kind: canary, weight: 10}}"
MONITORING = (
    "monitoring={min_examples: 30, on_breach: [alert, abort_canary, retrain], thresholds: {"
    "drift: {psi: 0.3, ks: 0.15, wasserstein: 0.3, missing: 0.05, linf: 0.15, jsd: 1.0}, "
    "prediction: {psi: 0.5, ks: 0.3}, metrics: {binary_accuracy: 0.1}}}"
)


@pytest.fixture
def servers():
    hook, mailbox = Hook(), Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield hook, mailbox, controller.port
    controller.stop()
    hook.close()


def test_canary_promote_then_monitoring_aborts_the_drifted_canary(copied_root, sample_csv, servers, tmp_path):
    hook, mailbox, smtp_port = servers
    root = copied_root
    production = root / "serving" / "production"
    sinks = (
        f"alerts={{tries: 1, sinks: {{ops: {{kind: webhook, url: '{hook.url}/hook', events: {EVENTS}}}, "
        f"oncall: {{kind: email, host: 127.0.0.1, port: {smtp_port}, from: tfxgate@example.com, "
        f"to: [oncall@example.com], events: {EVENTS}}}}}}}"
    )
    extra = [*NO_GATES, CANARY, MONITORING, sinks]
    sets = [item for o in [*small_run_overrides(sample_csv, root), *extra] for item in ("--set", o)]

    def tfxgate(*args: str):
        return run_cli(*args, "-c", str(TAXI_CONFIG), *sets, root=root)

    def monitor(week: Path):
        return run_cli(
            "monitor", str(TAXI_CONFIG), "--destination", "production", "--logs", str(week / "logs.csv"),
            "--labels", str(week / "labels.csv"), *sets, root=root,
        )  # fmt: skip

    def approve(run_id: str):
        done = tfxgate("approve", run_id, "--destination", "production", "--by", "ana", "--reason", "ship it")
        assert done.returncode == 0, done.stdout + done.stderr

    def run_and_approve(steps: int) -> None:
        before = {p.name for p in (root / "summaries").glob("*.json")}
        done = run_pipeline(sample_csv, root, *extra, f"stages.trainer.train_steps={steps}")
        assert done.returncode == 0, done.stdout + done.stderr
        [new] = [p for p in (root / "summaries").glob("*.json") if p.name not in before]
        approve(json.loads(new.read_text())["run_id"])

    def state() -> dict:
        return json.loads((production / "rollout.json").read_text())

    # Push with canary: A, the first version under the rollout, is stable; B is the candidate beside it.
    summaries = sorted((root / "summaries").glob("*.json"))
    approve(json.loads(summaries[0].read_text())["run_id"])
    assert state()["stable"] == "1" and state()["candidate"] is None
    run_and_approve(70)
    assert (state()["stable"], state()["candidate"]) == ("1", "2")

    clean = serving_logs.week(
        sample_csv, {"1": production / "1", "2": production / "2"}, tmp_path / "clean", rows=800, seed=1
    )[0].parent
    quiet = monitor(clean)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "production stable version 1" in quiet.stdout and "production candidate version 2" in quiet.stdout
    assert "BREACH" not in quiet.stdout and hook.received == [] and mailbox.messages == []

    promoted = tfxgate("promote", "taxi", "--destination", "production", "--by", "ana", "--reason", "clean week")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert (state()["stable"], state()["candidate"]) == ("2", None)

    # A second model as canary, then the week where Cash riders' labels changed.
    run_and_approve(80)
    assert (state()["stable"], state()["candidate"]) == ("2", "3")
    drifted = serving_logs.week(
        sample_csv, {"2": production / "2", "3": production / "3"}, tmp_path / "drift", rows=800, seed=2, drifted=True
    )[0].parent
    breach = monitor(drifted)
    assert breach.returncode == 4, breach.stdout + breach.stderr
    assert "production candidate version 3" in breach.stdout
    assert "breach: slice payment_type=Cash: binary_accuracy" in breach.stdout
    assert "abort_canary: done" in breach.stdout and "retrain: done" in breach.stdout

    # The canary is aborted automatically: the stable serves everything again.
    assert (state()["stable"], state()["candidate"]) == ("2", None)
    assert (production / "current").resolve().name == "2"

    # The alerts reached both servers, naming the slice.
    events = [r["json"]["event"] for r in hook.received]
    assert "monitoring_breach" in events and "canary_abort" in events
    candidate_alert = next(
        r["json"] for r in hook.received if r["json"]["event"] == "monitoring_breach" and r["json"]["version"] == "3"
    )
    assert "payment_type=Cash" in candidate_alert["details"]["slices"]
    abort_alert = next(r["json"] for r in hook.received if r["json"]["event"] == "canary_abort")
    assert "payment_type=Cash" in abort_alert["reason"] and "tfxgate-monitor" in abort_alert["reason"]
    subjects = [message["Subject"] for _, _, message, _ in mailbox.messages]
    assert any("MONITORING_BREACH at production" in s for s in subjects), subjects
    assert any("CANARY_ABORTED at production" in s for s in subjects), subjects
    assert any("payment_type=Cash" in m.get_content() for _, _, m, _ in mailbox.messages)
    assert json.loads((root / "retrain_requests.jsonl").read_text().splitlines()[-1])["destination"] == "production"

    # history: every push, the promotion and the monitor's abort, with who and why.
    history = json.loads(tfxgate("history", "taxi", "--json").stdout)
    steps = [(r["kind"], r["version"]) for r in history if r["destination"] == "production"]
    assert [k for k, _ in steps if k in ("push", "promote", "abort")] == ["push", "push", "promote", "push", "abort"]
    abort = next(r for r in history if r["kind"] == "abort")
    assert abort["by"] == "tfxgate-monitor" and "payment_type=Cash" in abort["reason"]

    # lineage of the aborted version: its push, its abort and both monitoring verdicts of its model.
    lineage = run_cli("lineage", str(TAXI_CONFIG), "3", "--destination", "production", *sets, root=root)
    assert lineage.returncode == 0, lineage.stderr
    tree = lineage.stdout
    assert "pushed as version 3 (production)" in tree and "monitoring:" in tree
    assert "production candidate version 3: BREACH" in tree and "abort_canary: done" in tree
    evidence = json.loads(
        run_cli("lineage", str(TAXI_CONFIG), "2", "--destination", "production", "--json", *sets, root=root).stdout
    )
    verdicts = [(m["role"], m["status"]) for m in evidence["monitoring"]]
    assert verdicts[0] == ("candidate", "ok")  # the clean week, while version 2 was the canary
