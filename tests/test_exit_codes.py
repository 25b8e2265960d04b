"""A run's status and exit code: SUCCEEDED 0, FAILED/INCOMPLETE 1, BLOCKED 4, taken from ML Metadata.

`summary.judge` decides the status the CLI exits with (tfxgate/cli/main.py
`_STATUS_EXIT`); the summary and the report read each stage's state from the
store, so a stage a killed process left RUNNING reads INCOMPLETE, never
SUCCEEDED. The real pipeline's codes (not blessed -> 4, drift block -> 4,
validation fail -> 4, a failing trainer -> 1) are checked in tests/test_e2e_taxi.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from tests.governed_store import build
from tfxgate.cli import main as cli
from tfxgate.mlmd import audit
from tfxgate.mlmd.graph import Graph
from tfxgate.mlmd.settings import SqliteMetadata
from tfxgate.reporting import run_page
from tfxgate.reporting.outcome import NodeOutcome, RunOutcome
from tfxgate.reporting.run_facts import collect
from tfxgate.reporting.summary import RunSummary, judge, render, summarize

DRIFT_ERROR = (
    "tfxgate.components.drift.executor.DriftBlocked: data drift beyond thresholds in drift: fare (psi=0.31). "
    "Policy 'block': stopping before training, nothing is pushed."
)
ANOMALY_ERROR = (
    "tfxgate.components.validate.anomalies.AnomaliesFailed: 1 anomaly in split 'eval' against the schema "
    "(policy fail); stopping before training:\n  - payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Bitcoin"
)
PENDING = {"destination": "production", "approval": "manual", "action": "pending", "run_id": "r1"}
BLOCKED = {"destination": "production", "approval": "manual", "action": "blocked"}
FAILED_EVALUATION = {"evaluation": {"passed": False, "detail": "NOT BLESSED: auc 0.71 < 0.85"}}


def summary(**fields) -> RunSummary:
    base = dict(pipeline="taxi", run_id="r1", succeeded=True, seconds=1.0, metadata="m.sqlite", metadata_kind="sqlite")
    return judge(RunSummary(**{**base, **fields}))


@pytest.mark.parametrize(
    "fields, status, blocked_by",
    [
        (dict(pushed=True, pushed_to="/s/production/3"), "SUCCEEDED", []),
        (dict(pushed=False, destinations=[PENDING]), "SUCCEEDED", []),
        (
            dict(blessed=False, pushed=False, gates=FAILED_EVALUATION, destinations=[BLOCKED]),
            "BLOCKED",
            ["evaluation: NOT BLESSED: auc 0.71 < 0.85"],
        ),
        (dict(blessed=False, pushed=False), "BLOCKED", ["evaluation: model NOT blessed"]),  # the stock Pusher
        (
            dict(failed_stage="DataDrift", error=DRIFT_ERROR),
            "BLOCKED",
            [
                "drift: data drift beyond thresholds in drift: fare (psi=0.31). Policy 'block': stopping before "
                "training, nothing is pushed."
            ],
        ),
        (
            dict(failed_stage="Validate", error=ANOMALY_ERROR),
            "BLOCKED",
            ["validation: 1 anomaly in split 'eval' against the schema (policy fail); stopping before training:"],
        ),
        (dict(failed_stage="Trainer", error="RuntimeError: deliberate failure"), "FAILED", []),
        (
            dict(pushed=False, destinations=[{**PENDING, "action": "rejected", "detail": "model 3 was rejected"}]),
            "BLOCKED",
            ["production: model 3 was rejected"],
        ),
        (dict(stages=[{"node": "Trainer", "state": "running", "seconds": 0.0, "execution_id": 4}]), "INCOMPLETE", []),
    ],
)
def test_status_and_exit_code(fields, status, blocked_by):
    judged = summary(**fields)
    assert (judged.status, judged.blocked_by) == (status, blocked_by)
    assert cli._STATUS_EXIT[judged.status] == {"SUCCEEDED": 0, "BLOCKED": 4, "FAILED": 1, "INCOMPLETE": 1}[status]
    assert judged.succeeded is (status == "SUCCEEDED")
    assert json.loads(judged.to_json())["status"] == status


def test_status_lines_say_why():
    text = render(summary(blessed=False, pushed=False, gates=FAILED_EVALUATION, destinations=[BLOCKED]))
    assert "of pipeline 'taxi': BLOCKED, nothing pushed (evaluation: NOT BLESSED: auc 0.71 < 0.85) (1.0 s)" in text
    assert ": FAILED in Trainer (" in render(summary(failed_stage="Trainer", error="RuntimeError: x"))
    running = [{"node": "Trainer", "state": "running", "seconds": 0.0, "execution_id": 4}]
    assert ": INCOMPLETE (Trainer left running in ML Metadata) (" in render(summary(stages=running))
    assert "of pipeline 'taxi': SUCCEEDED (1.0 s)" in render(summary(pushed=True, pushed_to="/s/1"))


def test_run_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    for line in (
        "0  pushed, or pending approval",
        "1  a stage failed",
        "2  invalid config or command line",
        "3  another run holds",
        "4  BLOCKED: a gate stopped the push",
    ):
        assert line in out
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "| 4 | BLOCKED: " in readme and "| 3 | another run holds" in readme


def _outcome(store, tmp: Path, run_id: str) -> RunOutcome:
    graph = Graph(store)
    executions = graph.run_executions(run_id)
    names = graph.node_names(executions)
    nodes = [NodeOutcome(names.get(e.id, graph.execution_type(e)), "complete", 1.0, e.id) for e in executions]
    return RunOutcome("taxi", run_id, tmp, str(tmp / "metadata.sqlite"), nodes=nodes, seconds=5.0)


def _set_state(store, execution_id: int, state) -> None:
    [execution] = store.get_executions_by_id([execution_id])
    execution.last_known_state = state
    store.put_execution(execution, [], [])


def test_a_stage_left_running_in_ml_metadata_makes_summary_and_report_incomplete(tmp_path):
    governed = build(tmp_path)
    outcome = _outcome(governed.store, tmp_path, "run-2")
    done = summarize(outcome, metadata=SqliteMetadata(), curated_schema=True)
    assert done.status == "SUCCEEDED", done.blocked_by
    # One name for a model: the baseline is Model artifact run-1's, not a folder number.
    assert (done.model_id, done.baseline_model_id) == (governed.second_model_id, governed.model_id)
    assert (
        f"evaluation: model {governed.second_model_id} BLESSED, judged against baseline model {governed.model_id}"
        in render(done)
    )
    report = collect(governed.store, pipeline="taxi", run_id="run-2", address="m")
    assert report.status == "SUCCEEDED"
    assert (report.evaluation["model_id"], report.evaluation["baseline_model_id"]) == (
        governed.second_model_id,
        governed.model_id,
    )
    assert f"<p>baseline: model {governed.model_id} <code>" in run_page.render(report)

    [trainer] = [n for n in outcome.nodes if n.node_id == "Trainer"]
    _set_state(governed.store, trainer.execution_id, pb.Execution.RUNNING)  # its process was killed
    killed = summarize(outcome, metadata=SqliteMetadata(), curated_schema=True)
    assert killed.status == "INCOMPLETE" and cli._STATUS_EXIT[killed.status] == 1
    assert [s["state"] for s in killed.stages if s["node"] == "Trainer"] == ["running"]
    report = collect(governed.store, pipeline="taxi", run_id="run-2", address="m")
    assert (report.status, report.succeeded) == ("INCOMPLETE", False)
    assert 'id="status">INCOMPLETE in ' in run_page.render(report)

    _set_state(governed.store, trainer.execution_id, pb.Execution.FAILED)  # as recovery marks it
    assert summarize(outcome, metadata=SqliteMetadata(), curated_schema=True).status == "FAILED"
    report = collect(governed.store, pipeline="taxi", run_id="run-2", address="m")
    assert report.status == "FAILED" and 'id="status">FAILED in ' in run_page.render(report)


def test_a_rerun_of_a_rejected_model_is_blocked_not_pending(tmp_path):
    """An unchanged rerun (run-4) serves run-1's model from cache; run-1's model was rejected for staging."""
    governed = build(tmp_path)
    store = governed.store
    common = dict(pipeline="taxi", destination="staging", model_id=governed.model_id)
    audit.record(store, audit.PENDING, run_id="run-1", by="policy:manual", reason="waiting", **common)
    audit.record(store, audit.REJECTION, run_id="run-1", by="cy", reason="bias in slice X", **common)
    [model] = store.get_artifacts_by_id([governed.model_id])
    run4 = store.put_contexts([pb.Context(type_id=store.get_context_type("pipeline_run").id, name="run-4")])[0]
    pushed_type = store.get_artifact_type("PushedModel")
    output = pb.Artifact(type_id=pushed_type.id, uri=str(tmp_path / "pushed4"), state=pb.Artifact.LIVE)
    output.custom_properties["pushed"].int_value = 0
    output.custom_properties["model_id"].int_value = model.id
    output.custom_properties["gates"].string_value = "{}"
    decisions = [{"destination": "staging", "approval": "manual", "action": "pending", "version": None, "path": None}]
    output.custom_properties["decisions"].string_value = json.dumps(decisions)
    push_type = store.put_execution_type(pb.ExecutionType(name="GovernedPush"))
    events = []
    for kind, key, artifact in ((pb.Event.INPUT, "model", model), (pb.Event.OUTPUT, "pushed_model", output)):
        event = pb.Event(type=kind)
        event.path.steps.add().key = key
        event.path.steps.add().index = 0
        events.append((artifact, event))
    [context] = store.get_contexts_by_id([run4])
    store.put_execution(pb.Execution(type_id=push_type, last_known_state=pb.Execution.COMPLETE), events, [context])
    audit.record(store, audit.PENDING, run_id="run-4", by="policy:manual", reason="waiting", **common)

    done = summarize(_outcome(store, tmp_path, "run-4"), metadata=SqliteMetadata(), curated_schema=True)
    [staging] = done.destinations
    assert staging["action"] == "rejected" and staging["by"] == "cy"
    assert (done.status, cli._STATUS_EXIT[done.status]) == ("BLOCKED", 4)
    text = render(done)
    assert f"staging (manual): not pushed: model {governed.model_id} was rejected by cy at " in text
    assert "('bias in slice X', run run-1); `tfxgate reopen` lifts it" in text
    assert "PENDING APPROVAL" not in text

    audit.record(store, audit.REOPEN, run_id="run-1", by="dee", reason="mislabelled", **common)
    reopened = summarize(_outcome(store, tmp_path, "run-4"), metadata=SqliteMetadata(), curated_schema=True)
    assert reopened.destinations[0]["action"] == "pending" and reopened.status == "SUCCEEDED"
