"""How the stock stages are configured: the baseline never is the candidate; EvalConfig from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfxgate.pipelines.config.root import load_config

REPO = Path(__file__).resolve().parents[1]


def model(artifact_id: int):
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Model()
    artifact.id = artifact_id
    return artifact


def blessing(model_id: int, *, blessed: bool):
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.ModelBlessing()
    artifact.id = 1000 + model_id
    artifact.set_int_custom_property("current_model_id", model_id)
    artifact.set_int_custom_property("blessed", int(blessed))
    return artifact


@pytest.fixture(scope="module")
def strategy():
    from tfxgate.pipelines.baseline import LatestBlessedOtherModelStrategy

    return LatestBlessedOtherModelStrategy()


def resolve(strategy, models, blessings, candidate):
    return strategy.resolve_artifacts(None, {"model": models, "model_blessing": blessings, "candidate": candidate})


def test_cached_candidate_is_not_its_own_baseline(strategy):
    result = resolve(strategy, [model(1)], [blessing(1, blessed=True)], [model(1)])
    assert result["model"] == [] and result["model_blessing"] == []
    assert [m.id for m in result["candidate"]] == [1]


def test_latest_blessed_other_model_is_the_baseline(strategy):
    models = [model(1), model(2), model(3), model(4)]
    blessings = [blessing(1, blessed=True), blessing(2, blessed=True), blessing(3, blessed=False)]
    result = resolve(strategy, models, blessings, [model(4)])
    assert [m.id for m in result["model"]] == [2]
    assert [b.id for b in result["model_blessing"]] == [1002]


def test_no_blessed_model_means_no_baseline(strategy):
    result = resolve(strategy, [model(1), model(2)], [blessing(1, blessed=False)], [model(2)])
    assert result["model"] == []


def test_first_run_has_no_models_at_all(strategy):
    assert resolve(strategy, [], [], [model(1)])["model"] == []


def test_stock_eval_config_from_taxi_yaml():
    """The stock Evaluator (benchmarks' comparison side) gets SliceEval's slices and metrics."""
    from tfxgate.pipelines.stock_stages import eval_config

    proto = eval_config(load_config(REPO / "configs" / "taxi.yaml"))
    [spec] = proto.model_specs
    assert spec.label_key == "big_tipper"
    assert list(spec.preprocessing_function_names) == ["transform_features"]
    # No bucket columns in the stock Evaluator: buckets fall back to the raw feature.
    assert [list(s.feature_keys) for s in proto.slicing_specs] == [
        [],
        ["payment_type"],
        ["trip_start_hour"],
        ["payment_type", "trip_start_hour"],
    ]
    metrics = {m.class_name: m for m in proto.metrics_specs[0].metrics}
    assert {"ExampleCount", "AUC", "BinaryAccuracy", "Precision", "Recall", "MeanPrediction"} <= set(metrics)
    [auc_gate] = metrics["AUC"].per_slice_thresholds
    assert auc_gate.threshold.value_threshold.lower_bound.value == pytest.approx(0.85)
    assert auc_gate.threshold.change_threshold.absolute.value == pytest.approx(-0.02)
    assert [list(s.feature_keys) for s in auc_gate.slicing_specs] == [[]]  # gated overall only
    assert '"threshold": 0.5' in metrics["BinaryAccuracy"].config
    assert '"thresholds": [0.5]' in metrics["Precision"].config
    assert not metrics["Precision"].per_slice_thresholds
