"""Evidence and lineage on a small ML Metadata store recorded with the real MLMD API (tests/governed_store.py)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TAXI_CONFIG, run_cli
from tests.governed_store import add_rerun_with_new_drift, build
from tfxgate.cli.main import main
from tfxgate.lineage.evidence import EvidenceError, collect
from tfxgate.reporting import lineage_tree as lineage


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    """Read-only for every test here, so recorded once."""
    return build(tmp_path_factory.mktemp("governed"))


def test_evidence_reaches_the_data_the_model_was_trained_on(governed):
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    assert (evidence.pipeline, evidence.run_id) == ("taxi", "run-1")
    assert evidence.trainer.arguments == {"train_args": {"num_steps": 60}}
    examples = evidence.examples
    assert (examples.artifact_id, examples.span, examples.version) == (governed.examples_id, 3, 2)
    assert examples.rows_per_split == {"train": 200, "eval": 100}
    assert (examples.rows_read, examples.bad_rows) == (303, 3)
    assert examples.input_files == {"/data/taxi/span-3.csv": "ab" * 32}
    assert examples.quarantine_uri.endswith("quarantine1")
    assert evidence.schema.feature_count == 2
    assert evidence.statistics.splits == {
        "eval": {"examples": 100, "features": 2},
        "train": {"examples": 200, "features": 2},
    }
    # Validate's `blessed`=1 decides the gate even though an anomaly is listed (policy: warn).
    assert evidence.anomalies.passed is True
    assert evidence.anomalies.anomalies == [
        {"split": "eval", "feature": "company", "description": "Unexpected string values"}
    ]


def test_drift_and_evaluation_are_this_models_not_a_later_runs(governed):
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    # run-2's DataDrift read these examples as its baseline and was not blessed: not ours.
    assert evidence.drift.report_uri.endswith("drift1") and evidence.drift.blessed is True
    assert evidence.drift.policy == "warn"
    [comparison] = evidence.drift.comparisons
    assert comparison["drifted"] == [{"feature": "fare", "fired": {"psi": [0.3, 0.2]}}]
    assert comparison["worst"] == {"feature": "fare", "measure": "psi", "value": 0.3, "threshold": 0.2}
    # run-2's SliceEval read this model as its baseline: its blessing is model 2's.
    evaluation = evidence.evaluation
    assert evaluation.report_uri.endswith("eval1") and evaluation.blessed and evaluation.baseline_model is None
    assert evaluation.thresholds["binary_accuracy"]["min"] == 0.5
    assert evaluation.overall_thresholds["auc"]["min"] == 0.85
    assert [s["slice"] for s in evaluation.slices][:2] == ["Overall", "payment_type=<b>Cash</b> | x"]


def test_the_models_own_run_wins_over_a_later_rerun(tmp_path):
    governed = build(tmp_path / "store")
    add_rerun_with_new_drift(governed, tmp_path / "rerun")
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    assert evidence.run_id == "run-1" and evidence.trainer.state == "COMPLETE"
    assert evidence.drift.report_uri.endswith("drift1") and evidence.drift.blessed is True


def test_governance_decisions_are_linked_to_the_model(governed):
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    assert [g.decision for g in evidence.governance] == ["pending_approval", "approval", "push", "rollback"]
    approval = evidence.approval
    assert (approval.by, approval.reason, approval.at) == ("alice", "Q3 <review> ok", "2026-11-25T11:00:00+00:00")
    assert evidence.governance[2].gate_results["evaluation"] == {"passed": True, "detail": "BLESSED"}
    assert evidence.governance[3].by == "bob"  # the rollback made version 7 current again
    [push] = evidence.pushes
    assert (push.version, push.destination_name, push.pushed) == ("7", "production", True)


def test_evidence_is_json(governed):
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    data = json.loads(evidence.to_json())
    assert data["examples"]["span"] == 3
    assert data["governance"][1]["by"] == "alice"
    # Decisions in words, gate results as JSON objects (not the audit record's JSON string).
    assert [g["kind"] for g in data["governance"]] == ["pending_approval", "approval", "push", "rollback"]
    assert data["governance"][2]["gates"]["evaluation"] == {"passed": True, "detail": "BLESSED"}


def test_a_model_that_is_not_pushed_has_no_pushes_and_its_own_baseline(governed):
    evidence = collect(governed.store, model_artifact_id=governed.second_model_id)
    assert evidence.run_id == "run-2"
    assert evidence.evaluation.baseline_model.endswith("model1")
    assert evidence.drift.blessed is False
    assert [p.version for p in evidence.pushes] == ["8"]
    assert evidence.governance == []
    assert evidence.anomalies is None and evidence.statistics is None  # run-2 had no Validate


def test_collect_refuses_an_artifact_that_is_not_a_model(governed):
    with pytest.raises(EvidenceError, match=rf"artifact {governed.examples_id} is not a Model \(a Examples"):
        collect(governed.store, model_artifact_id=governed.examples_id)
    with pytest.raises(EvidenceError, match="artifact 9999 is not a Model"):
        collect(governed.store, model_artifact_id=9999)


def test_lineage_finds_the_model_by_pushed_version(governed):
    assert sorted(lineage.known_versions(governed.store, pipeline="taxi")) == ["7", "8"]
    assert lineage.lineage(governed.store, pipeline="taxi", version="8").model_id == governed.second_model_id
    evidence = lineage.lineage(governed.store, pipeline="taxi", version="7")
    assert evidence.model_id == governed.model_id
    text = lineage.render(lineage.tree(evidence, version="7"))
    for expected in (
        "pushed as version 7 (production)",
        "span 3, version 2",
        "span-3.csv  sha256 " + "ab" * 32,
        "schema",
        "statistics",
        "anomalies",
        "drift",
        "evaluation",
        "payment_type=<b>Cash</b> | x: ok (n=400) binary_accuracy 0.62 (min 0.5, max_regression 0.05)",
        "approval by alice at 2026-11-25T11:00:00+00:00: 'Q3 <review> ok'",
    ):
        assert expected in text, expected


def test_lineage_of_an_unknown_version_lists_the_known_ones(governed):
    with pytest.raises(lineage.UnknownVersion, match=r"no pushed version '9' \(known versions: 7, 8\)"):
        lineage.lineage(governed.store, pipeline="taxi", version="9")
    with pytest.raises(lineage.UnknownVersion, match="none: nothing was pushed yet"):
        lineage.lineage(governed.store, pipeline="other", version="7")


def _cli(*args, root):
    return main(["lineage", str(TAXI_CONFIG), *args, "--root", str(root)])


def test_cli_prints_the_tree_and_json(governed, capsys):
    assert _cli("7", root=governed.path.parent) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model {governed.model_id}") and "approval by alice" in out
    assert _cli("7", "--json", root=governed.path.parent) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == governed.model_id


def test_cli_unknown_version_exits_2_naming_known_versions(governed, capsys):
    assert _cli("42", root=governed.path.parent) == 2
    assert "pipeline 'taxi' has no pushed version '42' (known versions: 7, 8)" in capsys.readouterr().err


def test_cli_without_runs_says_so(tmp_path, capsys):
    assert _cli("7", root=tmp_path / "empty") == 2
    assert "pipeline 'taxi' has no runs yet" in capsys.readouterr().err


def test_installed_cli_finds_a_pipeline_by_name(governed):
    """`tfxgate lineage taxi 7` reads configs/taxi.yaml, as a user in the repository would type it."""
    result = run_cli("lineage", "taxi", "8", "--root", str(governed.path.parent), root=governed.path.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"model {governed.second_model_id}")
    assert "pushed as version 8 -> /serving/taxi/8" in result.stdout


def test_a_version_number_that_names_different_models_needs_a_destination(tmp_path):
    """Versions are numbered per destination: staging/7 and production/7 may be different models."""
    from tests.governed_store import _Recorder

    governed = build(tmp_path)
    rec = _Recorder(governed.store)
    pipeline = rec.context("pipeline", "taxi")
    [model2] = governed.store.get_artifacts_by_id([governed.second_model_id])
    staging = rec.artifact(
        "PushedModel",
        tmp_path / "staging7",
        pushed=1,
        pushed_version="7",
        destination_name="staging",
        model_id=governed.second_model_id,
    )
    rec.execute("tfxgate.Push", contexts=[pipeline], inputs={"model": model2}, outputs={"pushed_model": staging})

    with pytest.raises(lineage.UnknownVersion, match=r"version '7' of 'taxi' is a different model at each of"):
        lineage.lineage(governed.store, pipeline="taxi", version="7")
    found = lineage.lineage(governed.store, pipeline="taxi", version="7", destination="staging")
    assert found.model_id == governed.second_model_id
    with pytest.raises(lineage.UnknownVersion, match="no pushed version '8' at destination 'staging'"):
        lineage.lineage(governed.store, pipeline="taxi", version="8", destination="staging")
