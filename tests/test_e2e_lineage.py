"""End to end: `tfxgate lineage` and the model card on the session's real taxi run (tests/conftest.py).

The stock Pusher of today's pipeline sets `pushed_version`, so the lineage of
the pushed version works before the governed push lands; with it, the same
walk also shows the approval.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import TAXI_CONFIG, run_cli
from tests.test_e2e_taxi import metadata_store, pushed_versions
from tfxgate.reporting import model_card

pytestmark = pytest.mark.e2e


def _lineage(taxi_runs, *args):
    return run_cli("lineage", str(TAXI_CONFIG), *args, "--root", str(taxi_runs.root), root=taxi_runs.root)


@pytest.fixture(scope="module")
def pushed(taxi_runs):
    """The version the first run pushed, and `lineage --json` of it."""
    [version] = pushed_versions(taxi_runs.root / "serving")
    result = _lineage(taxi_runs, version, "--json")
    assert result.returncode == 0, result.stderr
    return version, json.loads(result.stdout)


def test_lineage_reaches_the_examples_span_and_fingerprints(pushed, sample_csv):
    version, evidence = pushed
    examples = evidence["examples"]
    assert examples["span"] == 0
    [(path, digest)] = examples["input_files"].items()
    assert path.endswith(sample_csv.name) and len(digest) == 64  # sha256 hex of the input file
    assert examples["bad_rows"] == 0 and examples["rows_read"] > 2900  # the 3,000-row sample
    assert sum(examples["rows_per_split"].values()) == examples["rows_read"]
    assert evidence["trainer"]["state"] == "COMPLETE" and evidence["pipeline"] == "taxi"
    assert [p["version"] for p in evidence["pushes"]] == [version]


def test_lineage_reaches_statistics_anomalies_drift_and_evaluation(pushed):
    _, evidence = pushed
    assert evidence["schema"]["features"] and len(evidence["schema"]["features"]) == 18
    rows = {split: s["examples"] for split, s in evidence["statistics"]["splits"].items()}
    assert rows == evidence["examples"]["rows_per_split"]
    assert evidence["anomalies"]["passed"] is True
    assert evidence["drift"]["blessed"] is True and evidence["drift"]["policy"] == "block"
    evaluation = evidence["evaluation"]
    assert evaluation["blessed"] is True and evaluation["thresholds"]["binary_accuracy"]["min"] == 0.5
    assert "Overall" in {row["slice"] for row in evaluation["slices"]}


def test_lineage_tree_and_unknown_version(taxi_runs, pushed):
    version, _ = pushed
    result = _lineage(taxi_runs, version)
    assert result.returncode == 0, result.stderr
    for expected in (f"pushed as version {version}", "examples", "span 0", "sha256", "drift", "Overall: ok"):
        assert expected in result.stdout, expected
    unknown = _lineage(taxi_runs, "99")
    assert unknown.returncode == 2
    assert f"has no pushed version '99' (known versions: {version})" in unknown.stderr


def test_card_renders_from_the_runs_evidence(taxi_runs, pushed, tmp_path):
    from tfxgate.lineage.evidence import collect

    version, evidence = pushed
    real = collect(metadata_store(taxi_runs.root), model_artifact_id=evidence["model_id"])
    md, page = model_card.write(tmp_path, evidence=real, card_info={"intended_use": "Tip ranking demo"})
    text = md.read_text()
    assert text.startswith(f"# Model card: taxi version {version}\n")
    assert "Tip ranking demo" in text and "| Overall | ok |" in text and "18 features" in text
    assert "payment_type=Credit Card" in page.read_text()
