"""End to end: SliceEval in the taxi pipeline blesses a good model and blocks bad ones.

Reuses the session's taxi runs (tests/conftest.py) for the good model and its
report; two more runs train models that must not be blessed: one bad on one
slice (its training labels for cash rides are corrupted) and one that regresses
against the pushed baseline.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_pipeline
from tests.test_e2e_taxi import pushed_versions

pytestmark = pytest.mark.e2e


def test_good_model_is_blessed_with_a_report_of_every_slice(taxi_runs):
    [first, rerun] = taxi_runs.rerun.summaries()
    assert first["blessed"] is True and first["failing_slices"] == []
    assert "judged without a baseline" in taxi_runs.first.stdout
    report_dir = Path(first["report"]).parent
    data = json.loads((report_dir / "report.json").read_text())
    assert data["blessed"] is True and data["baseline_model"] is None
    names = {row["slice"] for row in data["slices"]}
    assert {"Overall", "payment_type=Cash", "payment_type=Credit Card", "trip_start_hour_bucket=[0,6)"} <= names
    assert any(name.startswith("payment_type=Credit Card, trip_start_hour_bucket=") for name in names)
    overall = next(row for row in data["slices"] if row["slice"] == "Overall")
    assert overall["metrics"]["example_count"]["value"] > 500
    assert 0.8 < overall["metrics"]["auc"]["value"] <= 1.0
    # Slices under min_examples (100 in configs/taxi.yaml) are listed as too small, never judged.
    counts = {row["slice"]: row["metrics"]["example_count"]["value"] for row in data["slices"]}
    assert data["too_small_to_judge"], "the taxi eval split has rare payment types"
    assert {name for name, n in counts.items() if n < 100} == set(data["too_small_to_judge"])
    page = (report_dir / "report.html").read_text()
    assert "<svg" in page and "Slices, worst first" in page
    # TFMA's on-disk format at the artifact's root (tests/test_e2e_slice_eval_engines.py loads it with TFMA).
    assert (report_dir / "eval_config.json").is_file() and list(report_dir.glob("metrics-*"))
    assert rerun["report"] == first["report"]  # the cached rerun reports the same evaluation


def _train_split(timestamp: str) -> bool:
    """Whether ExampleGen puts a row in 'train' when splitting by `trip_start_timestamp` (2:1 buckets)."""
    from tensorflow.core.example import feature_pb2

    feature = feature_pb2.Feature(int64_list=feature_pb2.Int64List(value=[int(timestamp)]))
    bucket = int(hashlib.sha256(feature.SerializeToString(deterministic=True)).hexdigest(), 16) % 3
    return bucket < 2


def test_model_bad_on_one_slice_is_not_blessed(sample_csv, tmp_path):
    """Cash riders never tip in this data; a model trained to believe they do fails that slice."""
    corrupted = tmp_path / "taxi_cash_corrupted.csv"
    with sample_csv.open() as src, corrupted.open("w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["payment_type"] == "Cash" and _train_split(row["trip_start_timestamp"]):
                row["tips"] = row["fare"]  # big_tipper = 1 in training only
            writer.writerow(row)
    root = tmp_path / "root"
    result = run_pipeline(corrupted, root, "data.key=trip_start_timestamp")
    assert result.returncode == 4, result.stdout + result.stderr  # BLOCKED: a gate kept the model out
    assert re.search(r"evaluation: model \d+ NOT blessed", result.stdout)
    assert ": BLOCKED, nothing pushed (evaluation: " in result.stdout
    assert "push: not pushed" in result.stdout
    match = re.search(r"payment_type=Cash: binary_accuracy ([0-9.]+) < min ([0-9.]+) \(n=(\d+)\)", result.stdout)
    assert match, result.stdout
    assert float(match[1]) < 0.5 and float(match[2]) == 0.5 and int(match[3]) >= 100
    summary = result.summaries()[-1]
    assert summary["blessed"] is False and "payment_type=Cash" in summary["failing_slices"]
    assert f"failing slices: {'; '.join(summary['failing_slices'])}" in result.stdout
    assert pushed_versions(root / "serving") == []


def test_regression_against_the_pushed_baseline_blocks_blessing(sample_csv, copied_root, taxi_runs):
    [first, _] = taxi_runs.first.summaries()
    before = pushed_versions(copied_root / "serving")
    # Only the regression gate: an untrained model must be stopped by it alone.
    result = run_pipeline(
        sample_csv,
        copied_root,
        "stages.trainer.train_steps=1",
        "stages.trainer.hyperparameters.learning_rate=0.00001",
        "stages.evaluation.thresholds={}",
        "stages.evaluation.max_gap=[]",
        "stages.evaluation.overall={auc: {max_regression: 0.02}}",
    )
    assert result.returncode == 4, result.stdout + result.stderr
    summary = result.summaries()[-1]
    # The copied store still names the session root's artifacts: the baseline is run 1's pushed model.
    assert summary["blessed"] is False and summary["baseline_model"] == first["model_uri"]
    assert "judged against baseline" in result.stdout
    assert re.search(
        r"Overall: auc [0-9.]+ regressed by [0-9.]+ vs baseline [0-9.]+ \(max_regression 0.02\)", result.stdout
    )
    assert pushed_versions(copied_root / "serving") == before
