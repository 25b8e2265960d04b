"""End to end: the demo config on a taxi sample, run twice through the real CLI.

One session-scoped first run and rerun (tests/conftest.py) serve all of these;
tests that need more runs work on a private copy of that root.
"""

from __future__ import annotations

import glob
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import free_port, run_pipeline

pytestmark = pytest.mark.e2e

COMPONENTS = {
    "Ingest",
    "ImportSchemaGen",
    "Validate",
    "DataDrift",
    "Trainer",
    "SliceEval",
    "GovernedPush",
}


def metadata_store(root: Path):
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(root / "metadata.sqlite")
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return mlmd.MetadataStore(config)


def executions_per_node(store, run_id: str) -> dict[str, list]:
    """node id -> executions of that node in the pipeline run `run_id`."""
    [run] = [c for c in store.get_contexts_by_type("pipeline_run") if c.name == run_id]
    in_run = {e.id: e for e in store.get_executions_by_context(run.id)}
    per_node: dict[str, list] = {}
    for node in store.get_contexts_by_type("node"):
        node_id = node.name.split(".", 1)[1]
        found = [in_run[e.id] for e in store.get_executions_by_context(node.id) if e.id in in_run]
        if found:
            per_node[node_id] = found
    return per_node


def pushed_versions(serving: Path, destination: str = "staging") -> list[str]:
    """Published versions at one destination under the push root (configs/taxi.yaml: staging is auto)."""
    where = serving / destination
    return sorted((p.name for p in where.iterdir() if p.name.isdigit()), key=int) if where.exists() else []


def test_first_run_reports_progress_per_component(taxi_runs):
    out = taxi_runs.first.stdout
    for component in COMPONENTS:
        assert f"-> {component} ..." in out
        assert f"<- {component}: complete (" in out
    assert "SUCCEEDED" in out
    assert "validation: no anomalies (passed)" in out
    assert "drift: not checked (no previous span and no serving source yet)" in out
    assert re.search(r"evaluation: model \d+ BLESSED, judged without a baseline \(absolute thresholds", out)
    assert f"push: pushed to {taxi_runs.root / 'serving' / 'staging' / '1'}" in out
    assert f"metadata: {taxi_runs.root / 'metadata.sqlite'}" in out


def test_first_run_has_one_completed_execution_per_component(taxi_runs):
    from ml_metadata.proto import metadata_store_pb2

    [first, _] = taxi_runs.first.summaries()
    per_node = executions_per_node(metadata_store(taxi_runs.root), first["run_id"])
    components = {node: runs for node, runs in per_node.items() if node in COMPONENTS}
    assert set(components) == COMPONENTS
    for node, runs in components.items():
        assert len(runs) == 1, node
        assert runs[0].last_known_state == metadata_store_pb2.Execution.COMPLETE, node


def test_rerun_is_fully_cached_and_says_so(taxi_runs):
    from ml_metadata.proto import metadata_store_pb2

    out = taxi_runs.rerun.stdout
    assert "every stage was served from TFX's cache" in out
    for component in COMPONENTS:
        assert f"<- {component}: cached (" in out
    [_, rerun] = taxi_runs.rerun.summaries()
    per_node = executions_per_node(metadata_store(taxi_runs.root), rerun["run_id"])
    states = {node: [e.last_known_state for e in runs] for node, runs in per_node.items() if node in COMPONENTS}
    assert states == {node: [metadata_store_pb2.Execution.CACHED] for node in COMPONENTS}


def test_rerun_does_not_push_the_same_model_again(taxi_runs):
    [first, rerun] = taxi_runs.rerun.summaries()
    assert first["pushed_to"] == rerun["pushed_to"]
    assert pushed_versions(taxi_runs.root / "serving") == [Path(first["pushed_to"]).name]


def test_summary_json_records_the_decisions(taxi_runs):
    [first, rerun] = taxi_runs.rerun.summaries()
    assert first["succeeded"] and rerun["succeeded"]
    assert first["blessed"] is True and first["pushed"] is True
    assert first["anomalies"] == {"train": [], "eval": []}
    assert first["baseline_model"] in (None, "")
    assert Counter(s["state"] for s in rerun["stages"]) == Counter(
        {"cached": 7, "resolved": 3}
    )  # 3 resolvers: previous span, pushed span, baseline


def test_pushed_model_loads_and_predicts(taxi_runs):
    import tensorflow as tf

    [first, _] = taxi_runs.first.summaries()
    model = tf.saved_model.load(first["pushed_to"])
    [eval_dir] = glob.glob(str(taxi_runs.root / "artifacts/Ingest/examples/*/Split-eval"))
    files = sorted(glob.glob(f"{eval_dir}/*.gz"))
    serialized = next(iter(tf.data.TFRecordDataset(files, compression_type="GZIP").batch(256)))
    scores = model.signatures["serving_default"](examples=serialized)["outputs"].numpy()
    labels = model.signatures["transform_features"](examples=serialized)["big_tipper"].numpy()
    assert scores.shape == (len(serialized), 1)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores.std() > 0.01, "a model that predicts a constant has learned nothing"
    assert set(labels.tolist()) == {0, 1}
    accuracy = ((scores[:, 0] > 0.5) == (labels == 1)).mean()
    assert accuracy > 0.6


def test_new_model_is_judged_against_the_pushed_baseline_and_not_pushed_unblessed(taxi_runs, sample_csv, copied_root):
    [first, _] = taxi_runs.first.summaries()
    serving = copied_root / "serving"
    before = pushed_versions(serving)
    result = run_pipeline(
        sample_csv,
        copied_root,
        "stages.trainer.hyperparameters.seed=7",  # a new candidate model
        "stages.evaluation.overall.auc.min=0.999",  # that no model can pass
    )
    assert result.returncode == 4, result.stdout + result.stderr  # BLOCKED: not blessed
    assert "<- Trainer: complete" in result.stdout
    summary = result.summaries()[-1]
    # One name for a model: the Model artifact id, as history and lineage say it.
    assert (
        f"evaluation: model {summary['model_id']} NOT blessed, judged against baseline model {first['model_id']}"
        in result.stdout
    )
    assert "push: not pushed" in result.stdout and ": BLOCKED, nothing pushed (evaluation: " in result.stdout
    assert summary["status"] == "BLOCKED" and summary["baseline_model_id"] == first["model_id"]
    assert summary["baseline_model"] == first["model_uri"]
    assert summary["blessed"] is False and summary["pushed"] is False
    assert pushed_versions(serving) == before
    assert pushed_versions(serving, "production") == []
    assert "evaluation FAILED" in result.stdout and "production (manual): not pushed, a gate failed" in result.stdout


def test_failing_component_is_named_and_exits_nonzero(sample_csv, copied_root):
    trainer = Path(__file__).parent / "testdata" / "failing_trainer" / "trainer.py"
    before = pushed_versions(copied_root / "serving")
    result = run_pipeline(sample_csv, copied_root, f"stages.trainer.module_file={trainer}")
    assert result.returncode == 1
    assert "FAILED in Trainer" in result.stdout
    assert "deliberate failure in the test trainer" in result.stdout
    assert "-> SliceEval" not in result.stdout and "-> GovernedPush" not in result.stdout
    assert "served from TFX's cache" not in result.stdout  # upstream stages cached, but the run failed
    summary = result.summaries()[-1]
    assert summary["failed_stage"] == "Trainer" and summary["succeeded"] is False
    assert pushed_versions(copied_root / "serving") == before
    assert pushed_versions(copied_root / "serving", "production") == []
    assert json.dumps(summary)  # the failed run's record is still written


def test_drifted_span_is_blocked_before_training_naming_the_features(taxi_runs, sample_csv, copied_root):
    """A new span with drift injected into `fare` and `payment_type`: the run stops before the Trainer."""
    from tests import synthetic_drift

    shifted = synthetic_drift.shifted_table(
        synthetic_drift.read_csv(sample_csv), drift={"fare": "mean_shift", "payment_type": "category_mix"}, seed=1
    )
    drifted_csv = copied_root.parent / "drifted" / "taxi.csv"
    drifted_csv.parent.mkdir()
    synthetic_drift.write_csv(shifted, drifted_csv)
    before = pushed_versions(copied_root / "serving")
    result = run_pipeline(sample_csv, copied_root, f"data.path={drifted_csv}")
    assert result.returncode == 4, result.stdout + result.stderr
    assert ": BLOCKED, nothing pushed (drift: " in result.stdout and result.summaries()[-1]["status"] == "BLOCKED"
    assert "data drift beyond thresholds in drift: fare (" in result.stdout
    assert "payment_type (linf=" in result.stdout
    assert "Policy 'block': stopping before training, nothing is pushed" in result.stdout
    assert "-> Trainer" not in result.stdout and "-> GovernedPush" not in result.stdout
    assert pushed_versions(copied_root / "serving") == before
    # The summary carries the drift result that blocked the run (it used to say "drift": null).
    blocked = result.summaries()[-1]
    assert blocked["failed_stage"] == "DataDrift" and blocked["drift"]["blessed"] is False
    assert {"fare", "payment_type"} <= set(blocked["drift"]["reports"][0]["drifted"])
    report_html = Path(re.search(r"\(report: (\S+drift_report\.html)\)", result.stdout).group(1))
    assert report_html.is_relative_to(copied_root) and "<svg" in report_html.read_text()
    # vs the previous span and vs the span the pushed model was trained on (here the same sample).
    drift, vs_pushed = json.loads((report_html.parent / "drift_report.json").read_text())["reports"]
    assert (drift["kind"], vs_pushed["kind"]) == ("drift", "drift_vs_pushed")
    assert drift["drifted_features"] == vs_pushed["drifted_features"] == ["fare", "payment_type"]
    # The run report (tfxgate report) of this blocked run shows the kept drift report.
    from tests.test_report_e2e import assert_blocked_run_report

    assert_blocked_run_report(copied_root, drifted_csv)


def test_validate_writes_stock_layouts_that_tfdv_reads(taxi_runs):
    """Validate's statistics/anomalies are where StatisticsGen/ExampleValidator put them, in their formats."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    [stats_dir] = glob.glob(str(taxi_runs.root / "artifacts/Validate/statistics/*"))
    train = tfdv.load_stats_binary(f"{stats_dir}/Split-train/FeatureStats.pb")
    [dataset] = train.datasets
    assert dataset.num_examples > 1500 and len(dataset.features) == 18
    [anomalies_dir] = glob.glob(str(taxi_runs.root / "artifacts/Validate/anomalies/*"))
    found = anomalies_pb2.Anomalies.FromString(Path(f"{anomalies_dir}/Split-eval/SchemaDiff.pb").read_bytes())
    assert not found.anomaly_info
    store = metadata_store(taxi_runs.root)
    [artifact] = store.get_artifacts_by_type("ExampleAnomalies")
    assert artifact.custom_properties["blessed"].int_value == 1
    assert json.loads(artifact.custom_properties["anomaly_summary"].string_value) == []


def test_anomaly_stops_the_run_before_training_naming_feature_kind_and_value(sample_csv, copied_root):
    """A span with a payment type the schema does not know, and drifted fares under policy warn."""
    from tests import synthetic_drift

    table = synthetic_drift.shifted_table(synthetic_drift.read_csv(sample_csv), drift={"fare": "mean_shift"}, seed=1)
    payment = table["payment_type"].astype(object)
    payment[::50] = "Bitcoin"
    table["payment_type"] = payment
    bad_csv = copied_root.parent / "bad" / "taxi.csv"
    bad_csv.parent.mkdir()
    synthetic_drift.write_csv(table, bad_csv)
    before = pushed_versions(copied_root / "serving")
    down = f"http://127.0.0.1:{free_port()}/hook"  # an alert sink that is down must not change the exit code
    alerts = f"alerts={{sinks: {{ops: {{kind: webhook, url: '{down}'}}}}, tries: 2, backoff_seconds: 0}}"
    result = run_pipeline(sample_csv, copied_root, f"data.path={bad_csv}", "stages.drift.policy=warn", alerts)
    assert result.returncode == 4, result.stdout + result.stderr
    assert ": BLOCKED, nothing pushed (validation: " in result.stdout
    assert "against the schema (policy fail); stopping before training" in result.stdout
    assert "payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES: " in result.stdout and "Bitcoin" in result.stdout
    assert "-> Trainer" not in result.stdout and "-> GovernedPush" not in result.stdout
    assert pushed_versions(copied_root / "serving") == before
    summary = result.summaries()[-1]
    assert summary["failed_stage"] == "Validate" and "Bitcoin" in summary["error"]
    assert [(a["event"], a["delivered"], a["tries"]) for a in summary["alerts"]] == [("blocked", False, 2)]
    # The console names the cause in one line; the traceback is kept in the run's log file.
    assert "Traceback" not in result.stderr
    log = (copied_root / "logs" / "tfxgate.log").read_text()
    assert f"node Validate of run {summary['run_id']} failed" in log
    assert "Traceback" in log and "AnomaliesFailed" in log


def test_without_a_schema_the_run_proposes_one_and_adopt_copies_it(sample_csv, tmp_path):
    from tests.conftest import run_cli
    from tfxgate.artifacts.schema import feature_names, read_schema

    root = tmp_path / "no-schema"
    off = ["stages.drift.enabled=false", "stages.evaluation.enabled=false", "stages.push.enabled=false"]
    result = run_pipeline(sample_csv, root, "schema=null", *off)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<- SchemaGen: complete" in result.stdout and "<- Validate: complete" in result.stdout
    proposal = Path(re.search(r"inferred one proposed at (\S+)", result.stdout).group(1))
    assert proposal.is_relative_to(root / "runs") and f"tfxgate schema adopt {proposal.parent}" in result.stdout
    assert result.summaries()[-1]["schema_proposal"] == str(proposal)

    target = tmp_path / "schemas" / "taxi" / "schema.pbtxt"
    adopted = run_cli("schema", "adopt", str(proposal.parent), "--to", str(target), root=root)
    assert adopted.returncode == 0, adopted.stderr
    assert {"fare", "payment_type", "tips"} <= feature_names(read_schema(target))
    again = run_cli("schema", "adopt", str(proposal.parent), "--to", str(target), root=root)
    assert again.returncode == 2 and "already exists (a curated schema); pass --force" in again.stderr
