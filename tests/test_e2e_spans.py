"""Scheduled retraining on a `{SPAN}` directory layout, through the real CLI (one full run, then cheap ones).

span-1 runs; `--if-new-data` then skips, naming span 1; a drifted span-2
appears and `--if-new-data` runs it, and DataDrift blocks it against span 1.
Evaluation and push are off to keep CI time down: the comparison with the
pushed model's span runs in test_e2e_taxi.py on the shared run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, run_cli, small_run_overrides

pytestmark = pytest.mark.e2e
QUICK = ["stages.push.enabled=false", "stages.evaluation.enabled=false"]


@pytest.fixture(scope="module")
def span_layout(sample_csv, tmp_path_factory):
    """(data pattern, root, the first --if-new-data run) with span-1 holding the taxi sample."""
    base = tmp_path_factory.mktemp("spans")
    (base / "data" / "span-1").mkdir(parents=True)
    shutil.copy(sample_csv, base / "data" / "span-1" / "taxi.csv")
    pattern = str(base / "data" / "span-{SPAN}" / "taxi.csv")
    return pattern, base / "root", run_if_new(pattern, base / "root")


def run_if_new(pattern: str, root: Path):
    """`tfxgate run configs/taxi.yaml --if-new-data` on the span layout, as cron would."""
    overrides = [*small_run_overrides(Path(pattern), root), f"data.path={pattern}", *QUICK]
    sets = [item for o in overrides for item in ("--set", o)]
    return run_cli("run", str(TAXI_CONFIG), *sets, "--if-new-data", root=root)


def test_first_span_runs(span_layout):
    _, root, first = span_layout
    assert first.returncode == 0, first.stdout + first.stderr
    assert "running pipeline 'taxi'" in first.stdout and "<- Trainer: complete" in first.stdout


def test_same_span_exits_0_without_running_and_names_the_span(span_layout):
    pattern, root, _ = span_layout
    runs_before = len(list((root / "summaries").glob("*.json")))
    again = run_if_new(pattern, root)
    assert again.returncode == 0, again.stderr
    assert f"span 1 of 'taxi' ({pattern}) was already processed by the last successful run (" in again.stdout
    assert "running pipeline" not in again.stdout
    assert len(list((root / "summaries").glob("*.json"))) == runs_before


def test_new_drifted_span_runs_and_is_blocked(span_layout, sample_csv):
    from tests import synthetic_drift

    pattern, root, _ = span_layout
    shifted = synthetic_drift.shifted_table(synthetic_drift.read_csv(sample_csv), drift={"fare": "mean_shift"}, seed=1)
    span_2 = Path(pattern.replace("{SPAN}", "2"))
    span_2.parent.mkdir()
    synthetic_drift.write_csv(shifted, span_2)
    result = run_if_new(pattern, root)
    assert "running pipeline 'taxi'" in result.stdout, "span 2 is new data"
    assert result.returncode == 4, result.stdout + result.stderr
    assert ": BLOCKED, nothing pushed (drift: " in result.stdout
    assert "data drift beyond thresholds in drift: fare (" in result.stdout
    report = Path(re.search(r"\(report: (\S+drift_report\.html)\)", result.stdout).group(1)).parent
    [drift] = json.loads((report / "drift_report.json").read_text())["reports"]  # nothing pushed: one baseline
    assert drift["baseline"].endswith("(span 1)") and drift["current"].endswith("(span 2)")
    assert drift["drifted_features"] == ["fare"]
    # A blocked span is not processed: the next invocation tries it again.
    assert "was already processed" not in run_if_new_dry(pattern, root)


def run_if_new_dry(pattern: str, root: Path) -> str:
    """The decision alone (no run): what `--if-new-data` would say now."""
    from tfxgate.pipelines import schedule
    from tfxgate.pipelines.config.root import load_config

    overrides = [*small_run_overrides(Path(pattern), root), f"data.path={pattern}", *QUICK]
    config = load_config(TAXI_CONFIG, overrides=overrides)
    decision = schedule.new_data(config)
    return "new" if decision.new else decision.reason
