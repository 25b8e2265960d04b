"""`tfxgate report` on the shared taxi e2e run: the page shows what ML Metadata recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, run_cli, small_run_overrides

pytestmark = pytest.mark.e2e


def report_cli(taxi_runs, sample_csv, *args: str):
    sets = [item for o in small_run_overrides(sample_csv, taxi_runs.root) for item in ("--set", o)]
    return run_cli("report", str(TAXI_CONFIG), *args, *sets, root=taxi_runs.root, timeout=120)


def recorded_facts(root: Path) -> dict:
    """Rows per split and the overall AUC, read straight from the store and the SliceEval artifact."""
    from tfxgate.mlmd.store import open_store
    from tfxgate.pipelines.config.root import load_config

    config = load_config(TAXI_CONFIG, overrides=[f"pipeline.root={root}"])
    store = open_store(config.metadata, root=root, read_only=True)
    [examples] = store.get_artifacts_by_type("Examples")
    [evaluation] = store.get_artifacts_by_type("ModelEvaluation")
    slices = json.loads((Path(evaluation.uri) / "report.json").read_text())["slices"]
    [overall] = [s for s in slices if s["slice"] == "Overall"]
    return {
        "rows": json.loads(examples.custom_properties["rows_per_split"].string_value),
        "auc": overall["metrics"]["auc"]["value"],
        "store": store,
    }


def test_report_of_the_first_run_shows_its_stages_data_and_slices(taxi_runs, sample_csv, tmp_path):
    run_id = taxi_runs.first.summaries()[0]["run_id"]
    output = tmp_path / "first.html"
    result = report_cli(taxi_runs, sample_csv, run_id, "--output", str(output))
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(output) in result.stdout
    page = output.read_text()
    facts = recorded_facts(taxi_runs.root)
    assert f"run {run_id}</small>" in page and "SUCCEEDED" in page
    for split, rows in facts["rows"].items():
        assert f"<td>{split}</td><td>{rows}</td><td>{rows}</td>" in page  # Ingest rows = statistics examples
    assert f"<b>{facts['auc']:.4f}</b>" in page  # the overall AUC among the key figures
    stages = page.split("<section id='stages'>")[1].split("</section>")[0]
    for node in ("Ingest", "DataDrift", "Trainer", "SliceEval"):
        assert f"<td>{node}</td><td>complete</td>" in stages
    assert "binary_accuracy per slice" in page  # SliceEval's chart, worst first
    # The governed push: the demo config pushes to staging on its own (production waits for approval).
    assert re.search(r"pushed \(staging\) version 1 to <code>[^<]*staging/1</code>", page), "push section"
    assert "<b>Examples</b> examples (artifact " in page  # lineage: type, name, id and URI
    # The runner recorded the run's plan (a run killed between stages reads INCOMPLETE); every stage of it ran.
    from tfxgate.mlmd import plan

    assert set(plan.planned(facts["store"], run_id)) == set(
        re.findall(r"<tr><td>(\w+)</td><td>(?:complete|resolved)", stages)
    )


def test_report_defaults_to_the_latest_run_under_the_root(taxi_runs, sample_csv):
    rerun_id = taxi_runs.rerun.summaries()[-1]["run_id"]
    result = report_cli(taxi_runs, sample_csv)
    assert result.returncode == 0, result.stdout + result.stderr
    written = taxi_runs.root / "reports" / f"{rerun_id.replace(':', '-')}.html"
    page = written.read_text()
    assert f"run {rerun_id}</small>" in page
    assert "<td>Trainer</td><td>cached</td>" in page and "<td>SliceEval</td><td>cached</td>" in page


def test_unknown_run_is_refused_naming_the_runs_there_are(taxi_runs, sample_csv):
    result = report_cli(taxi_runs, sample_csv, "2020-01-01T00:00:00")
    assert result.returncode == 1
    first, rerun = taxi_runs.first.summaries()[0]["run_id"], taxi_runs.rerun.summaries()[-1]["run_id"]
    assert "no run '2020-01-01T00:00:00' of pipeline 'taxi'" in result.stderr
    assert f"latest runs: {first}, {rerun}" in result.stderr


def test_report_without_a_store_says_so(tmp_path, sample_csv):
    sets = [item for o in small_run_overrides(sample_csv, tmp_path) for item in ("--set", o)]
    result = run_cli("report", str(TAXI_CONFIG), *sets, root=tmp_path, timeout=120)
    assert result.returncode == 1
    assert f"no ML Metadata at {tmp_path / 'metadata.sqlite'}" in result.stderr


def assert_blocked_run_report(root: Path, data: Path) -> None:
    """Called by tests/test_e2e_taxi.py on the run DataDrift blocked (fare and payment_type drifted),
    so the report of a blocked run costs no pipeline run of its own."""
    sets = [item for o in small_run_overrides(data, root) for item in ("--set", o)]
    output = root / "blocked.html"
    result = run_cli("report", str(TAXI_CONFIG), "--output", str(output), *sets, root=root, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    page = output.read_text()
    assert 'id="status">BLOCKED in' in page and "<td>DataDrift</td><td>failed</td>" in page
    drift = page.split("<section id='drift'>")[1].split("</section>")[0]
    assert "drift BLOCKED (policy block)" in drift and "drifted features: <b>fare, payment_type</b>" in drift
    assert drift.count("<svg class='baseline'") == drift.count("<svg class='current'") > 10
    assert "<td>Trainer</td>" not in page  # the run stopped before training
