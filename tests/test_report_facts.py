"""The run report's facts, read from a real ML Metadata store (tests/governed_store.py), and the page drawn from them.

What the report must say truthfully: the run's own duration, every push and every
decision with destination, version and time, lineage with names and URIs, why a
gate stopped the run (the anomalies, the drift measures), and the same status as
the run summary (`summary.judge`), a run killed between stages included.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from tests import synthetic_drift
from tests.governed_store import _Recorder, build
from tfxgate.components.drift import executor as drift_executor
from tfxgate.components.validate import executor as validate_executor
from tfxgate.components.validate.anomalies import AnomaliesFailed, Finding
from tfxgate.drift.check import compare_tables
from tfxgate.mlmd import audit, plan
from tfxgate.mlmd.settings import SqliteMetadata
from tfxgate.reporting import run_page
from tfxgate.reporting.outcome import NodeOutcome, RunOutcome
from tfxgate.reporting.run_facts import collect
from tfxgate.reporting.summary import render, summarize


def section(html: str, anchor: str) -> str:
    return html.split(f"<section id='{anchor}'>")[1].split("</section>")[0]


def _set_state(store, execution_id: int, state) -> None:
    [execution] = store.get_executions_by_id([execution_id])
    execution.last_known_state = state
    store.put_execution(execution, [], [])


def _staging_push(governed, tmp: Path) -> None:
    """run-1 also had a GovernedPush stage that pushed to staging on its own (approval auto)."""
    store = governed.store
    rec = _Recorder(store)
    rec.types = {t.name: t.id for t in store.get_artifact_types()}
    contexts = [rec.context("pipeline", "taxi"), rec.context("pipeline_run", "run-1")]
    [model] = store.get_artifacts_by_id([governed.model_id])
    output = rec.artifact(
        "PushedModel",
        tmp / "artifacts" / "GovernedPush" / "pushed_model",
        pushed=1,
        pushed_version="1",
        pushed_destination="/serving/taxi/staging/1",
        destination_name="staging",
        model_id=model.id,
    )
    rec.execute("GovernedPush", contexts=contexts, inputs={"model": model}, outputs={"pushed_model": output})
    record = audit.record(
        store,
        audit.PUSH,
        pipeline="taxi",
        run_id="run-1",
        destination="staging",
        version="1",
        by=audit.AUTO,
        reason=audit.AUTO_REASON,
        at="2026-11-25T10:00:01+00:00",
        model_id=model.id,
    )
    audit.link_output(store, record.id, output)


def test_duration_is_the_runs_own_and_decisions_are_no_stages(tmp_path):
    """An approval recorded later in the run's context neither stretches the run nor shows as a stage."""
    governed = build(tmp_path)
    time.sleep(1.2)
    audit.record(
        governed.store,
        audit.REJECTION,
        pipeline="taxi",
        run_id="run-1",
        destination="canary",
        by="cy",
        reason="later",
        model_id=governed.model_id,
    )
    report = collect(governed.store, pipeline="taxi", run_id="run-1", address="m")
    assert report.seconds < 1.0
    assert [s["node"] for s in report.stages] == [
        "ImportSchemaGen",
        "Ingest",
        "Validate",
        "DataDrift",
        "Trainer",
        "SliceEval",
    ]
    assert not any(s["node"].startswith("tfxgate.") for s in report.stages)


def test_every_push_and_decision_is_listed_with_destination_version_and_time(tmp_path):
    governed = build(tmp_path)
    _staging_push(governed, tmp_path)
    common = dict(pipeline="taxi", run_id="run-1", destination="canary", reason="why", model_id=governed.model_id)
    audit.record(governed.store, audit.REJECTION, by="cy", at="2026-11-27T08:00:00+00:00", **common)
    audit.record(governed.store, audit.REOPEN, by="dee", at="2026-11-27T09:00:00+00:00", **common)
    report = collect(governed.store, pipeline="taxi", run_id="run-1", address="m")
    assert [(p["destination"], p["version"], p["how"]) for p in report.pushes] == [
        ("staging", "1", "automatic"),
        ("production", "7", "approved"),
    ]
    decisions = [(d["kind"], d["destination"], d["version"], d["by"], d["at"]) for d in report.approvals]
    assert decisions == [
        ("PendingApproval", "production", "", "", "2026-11-25T10:00:00+00:00"),
        ("Approval", "production", "7", "alice", "2026-11-25T11:00:00+00:00"),  # the version its push created
        ("Rollback", "production", "7", "bob", "2026-11-26T09:00:00+00:00"),
        ("Rejection", "canary", "", "cy", "2026-11-27T08:00:00+00:00"),
        ("Reopen", "canary", "", "dee", "2026-11-27T09:00:00+00:00"),
    ]
    html = run_page.render(report)
    pushes = section(html, "pushes")
    assert "pushed (staging) version 1 to <code>/serving/taxi/staging/1</code> &middot; automatic" in pushes
    assert "pushed (production) version 7 to <code>/serving/taxi/7</code> &middot; approved, by alice at " in pushes
    assert "<td>Approval</td><td>production</td><td>7</td><td>2026-11-25T11:00:00+00:00</td><td>alice</td>" in html


def test_lineage_names_every_row_and_artifact_with_type_and_uri(tmp_path):
    governed = build(tmp_path)
    report = collect(governed.store, pipeline="taxi", run_id="run-1", address="m")
    nodes = [step["node"] for step in report.lineage]
    assert not any(node.isdigit() for node in nodes), nodes
    assert "PendingApproval (production)" in nodes and "Approval (production) by alice" in nodes
    lineage = section(run_page.render(report), "lineage")
    examples = tmp_path / "artifacts" / "examples1"
    assert f"<b>Examples</b> examples (artifact {governed.examples_id})<br><code>{examples}</code>" in lineage
    run2 = collect(governed.store, pipeline="taxi", run_id="run-2", address="m")
    [eval2] = [s for s in run2.lineage if s["node"] == "SliceEval"]
    [baseline] = [a for a in eval2["reads"] if a["key"] == "baseline_model"]
    assert baseline["earlier"] is True  # run-1's model, read as the baseline
    assert f"baseline_model (artifact {governed.model_id}, from an earlier run)" in run_page.render(run2)


def test_example_counts_are_whole_numbers():
    from tfxgate.reporting import slice_html

    entry = {"baseline": None, "delta": None, "failed_gates": []}
    data = {
        "metrics": ["example_count", "auc"],
        "slices": [
            {
                "slice": "Overall",
                "status": "ok",
                "metrics": {"example_count": {**entry, "value": 22.0}, "auc": {**entry, "value": 0.9}},
            }
        ],
    }
    table = slice_html.slices_table(data)
    assert "<td>22</td><td>0.9000</td>" in table and "22.0000" not in table


def test_a_run_killed_between_stages_is_incomplete_in_summary_and_report(tmp_path):
    """No execution is RUNNING, but the stages after Trainer never ran: the plan says so."""
    governed = build(tmp_path)
    store = governed.store
    rec = _Recorder(store)
    rec.types = {t.name: t.id for t in store.get_artifact_types()}
    contexts = [rec.context("pipeline", "taxi"), rec.context("pipeline_run", "run-5")]
    examples = rec.artifact("Examples", tmp_path / "examples5", {"span": 5, "split_names": '["train", "eval"]'})
    ingest = rec.execute("Ingest", contexts=contexts, outputs={"examples": examples})
    model = rec.artifact("Model", tmp_path / "model5")
    trainer = rec.execute("Trainer", contexts=contexts, inputs={"examples": examples}, outputs={"model": model})
    assert plan.record(store, run_id="run-5", nodes=["Ingest", "Trainer", "SliceEval", "GovernedPush"])

    report = collect(store, pipeline="taxi", run_id="run-5", address="m")
    assert (report.status, report.never_ran) == ("INCOMPLETE", ["SliceEval", "GovernedPush"])
    html = run_page.render(report)
    assert 'id="status">INCOMPLETE in ' in html and "never ran: SliceEval, GovernedPush" in html
    nodes = [NodeOutcome("Ingest", "complete", 1.0, ingest), NodeOutcome("Trainer", "complete", 1.0, trainer)]
    outcome = RunOutcome("taxi", "run-5", tmp_path, str(governed.path), nodes=nodes, seconds=2.0)
    done = summarize(outcome, metadata=SqliteMetadata(), curated_schema=True)
    assert done.status == "INCOMPLETE"
    assert ": INCOMPLETE (stopped between stages: SliceEval, GovernedPush never ran)" in render(done)
    # A run whose plan was carried out reads SUCCEEDED.
    assert plan.record(store, run_id="run-2", nodes=["Ingest", "DataDrift", "Trainer", "SliceEval", "Pusher"])
    assert collect(store, pipeline="taxi", run_id="run-2", address="m").status == "SUCCEEDED"


FINDINGS = [
    Finding("payment_type", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", "Examples contain 'Bitcoin'", "fail", "eval"),
    Finding("company", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", "Examples contain 'X'", "ignore", "eval"),
    Finding("fare", "FEATURE_TYPE_LOW_FRACTION_PRESENT", "fare present in 90% of examples", "warn", "train"),
]


def _run_stopped_at(tmp_path: Path, node: str):
    """A run `r1`: Ingest, then `node` FAILED; returns (store, the failed execution's id, its output folder)."""
    import ml_metadata as mlmd

    from tfxgate.mlmd.store import connection_config

    store = mlmd.MetadataStore(connection_config(SqliteMetadata(), root=tmp_path))
    rec = _Recorder(store)
    contexts = [rec.context("pipeline", "p"), rec.context("pipeline_run", "r1")]
    examples = rec.artifact("Examples", tmp_path / "artifacts" / "Ingest" / "examples" / "1", {"span": 1})
    rec.execute("Ingest", contexts=[*contexts, rec.context("node", "p.Ingest")], outputs={"examples": examples})
    failed = rec.execute(node, contexts=[*contexts, rec.context("node", f"p.{node}")], inputs={"examples": examples})
    _set_state(store, failed, pb.Execution.FAILED)
    plan.record(store, run_id="r1", nodes=["Ingest", node, "Trainer", "GovernedPush"])
    return store, failed


def test_a_run_stopped_at_validation_shows_the_failing_anomalies_and_reads_blocked_everywhere(tmp_path):
    store, failed = _run_stopped_at(tmp_path, "Validate")
    published = tmp_path / "artifacts" / "Validate" / "anomalies" / str(failed)
    with pytest.raises(AnomaliesFailed) as stop:
        validate_executor.apply_policy(FINDINGS, anomalies_uri=str(published))

    report = collect(store, pipeline="p", run_id="r1", address="m")
    assert report.status == "BLOCKED" and report.never_ran == []  # stopped by its gate, not killed
    assert report.blocked_by == ["validation: 1 anomaly with policy fail"]
    assert [a["feature"] for a in report.stopped["anomalies"]] == ["payment_type"]
    html = run_page.render(report)
    assert 'id="status">BLOCKED in ' in html and "stopped at <b>Validate</b>" in html
    stopped = html.split("<div id='stopped'>")[1].split("</div>")[0]
    assert "<td>eval</td><td>payment_type</td><td>ENUM_TYPE_UNEXPECTED_STRING_VALUES</td>" in stopped
    assert "company" not in stopped
    anomalies = section(html, "anomalies")
    assert "<td>ignored</td><td>eval</td><td>company</td>" in anomalies  # listed as ignored, not dropped
    assert "<td>warned</td><td>train</td><td>fare</td>" in anomalies

    # The console summary of the same run (the runner saw the exception) says the same.
    nodes = [NodeOutcome("Ingest", "complete", 1.0, 1), NodeOutcome("Validate", "failed", 1.0, error=_error(stop))]
    outcome = RunOutcome("p", "r1", tmp_path, str(tmp_path / "metadata.sqlite"), nodes=nodes)
    done = summarize(outcome, metadata=SqliteMetadata(), curated_schema=True)
    assert done.status == report.status == "BLOCKED"
    text = render(done)
    assert "  validation: 3 anomalies (FAILED)" in text
    assert (
        "    - eval: payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Examples contain 'Bitcoin' (policy fail)" in text
    )
    assert "    - eval: company: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Examples contain 'X' (policy ignore)" in text


def _error(stop) -> str:
    return f"{type(stop.value).__module__}.{type(stop.value).__name__}: {stop.value}"


def test_ignored_anomalies_are_kept_in_the_published_summary():
    found = json.loads(validate_executor.summary(FINDINGS))
    assert [(f["feature"], f["policy"]) for f in found] == [
        ("payment_type", "fail"),
        ("company", "ignore"),
        ("fare", "warn"),
    ]


def test_a_run_stopped_by_drift_shows_the_measures_that_tripped_where_it_stopped(tmp_path):
    store, failed = _run_stopped_at(tmp_path, "DataDrift")
    base = synthetic_drift.base_table(rows=500, seed=0)
    shifted = synthetic_drift.shifted_table(base, drift={"score": "mean_shift"}, seed=1)
    found = compare_tables(base, shifted, categorical={"city", "channel"})
    published = tmp_path / "artifacts" / "DataDrift" / "drift_report" / str(failed)
    drift_executor.write_report([found], {"drift": (base, shifted)}, output_dir=str(published), policy="block")
    with pytest.raises(drift_executor.DriftBlocked):
        drift_executor.apply_policy([found], policy="block", report_dir=str(published))

    report = collect(store, pipeline="p", run_id="r1", address="m")
    assert report.status == "BLOCKED" and report.stopped["stage"] == "DataDrift"
    tripped = {(d["feature"], d["measure"]) for d in report.stopped["drift"]}
    assert ("score", "psi") in tripped and all(feature == "score" for feature, _ in tripped)
    stopped = run_page.render(report).split("<div id='stopped'>")[1].split("</div>")[0]
    assert "drift measures over their thresholds" in stopped and "<td>drift</td><td>score</td><td>psi</td>" in stopped


def test_a_not_measurable_drift_value_reads_na_never_a_pass():
    from tfxgate.reporting import drift_html

    report = {
        "kind": "drift",
        "baseline": "Examples 14 (span 2008, 13)",  # named as DataDrift did before it said what each number is
        "current": "Examples artifact 20 (span 2009)",
        "drifted_features": [],
        "features": [
            {
                "feature": "tips",
                "kind": "numeric",
                "values": {"psi": None, "missing": 0.0},
                "thresholds": {"psi": 0.2, "missing": 0.05},
                "fired": [],
            }
        ],
    }
    html = drift_html.report_section(report)
    assert "<td class='na' title='not measurable" in html and "n/a <small>/ 0.2</small>" in html
    assert "n/a: not measurable: one side has no values of this feature" in html
    assert "Examples artifact 14 (span 2008) &rarr; Examples artifact 20 (span 2009)" in html
    page = run_page.section(_report_with_drift(report), "Drift")
    assert "drift passed (policy warn); 1 measures n/a (not measurable, never a pass)" in page


def _report_with_drift(document: dict):
    from tfxgate.reporting.run_facts import RunReport

    drift = {"uri": "x", "policy": "warn", "reports": [document], "blessed": True}
    return RunReport(pipeline="p", run_id="r", metadata="m", succeeded=True, seconds=1.0, drift=drift)


def test_drift_histograms_have_axis_values():
    from tfxgate.reporting import drift_html

    labels = [f"{x:.3g}" for x in range(0, 40, 2)]
    svg = drift_html.histogram_pair_svg({"labels": labels, "baseline": [0.05] * 20, "current": [0.1] * 10 + [0.0] * 10})
    baseline = svg.split("</svg>")[0]
    assert ">10%</text>" in baseline and ">0%</text>" in baseline  # the share axis, on the pair's common scale
    ticks = [t.split(">")[1].split("<")[0] for t in baseline.split("<text class='tick'")[1:]]
    assert ticks[0] == "0" and ticks[-1] == "38" and len(ticks) == 5  # the bins' values, first and last included
