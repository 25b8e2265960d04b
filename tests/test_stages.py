"""Config -> node (pipelines/stages.py): each component gets the values the config holds, and the stock EvalConfig."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfxgate.pipelines.config.root import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def taxi():
    return load_config(REPO / "configs" / "taxi.yaml")


def test_disabled_validation_still_computes_statistics_and_ignores_every_anomaly(taxi):
    from tfxgate.pipelines import stages

    config = load_config(REPO / "configs" / "taxi.yaml", overrides=["stages.validation.enabled=false"])
    node = stages.validate(config, _examples())
    settings = json.loads(node.exec_properties["config_json"])
    assert settings["default"] == "ignore" and settings["anomalies"] == {} and settings["features"] == {}


def test_drift_on_kubeflow_has_both_resolvers_as_stock_stand_ins_for_the_compile_to_replace(taxi):
    from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import LatestArtifactStrategy

    from tfxgate.pipelines import stages

    local = stages.drift(taxi, examples=_examples(), schema_channel=_schema())
    kubeflow = stages.drift(taxi, examples=_examples(), schema_channel=_schema(), target="kubeflow")
    assert [n.id for n in local] == ["previous_span_resolver", "pushed_span_resolver", "DataDrift"]
    assert [n.id for n in kubeflow] == [n.id for n in local]
    assert all(n.exec_properties["resolver_class"] is LatestArtifactStrategy for n in kubeflow[:2])
    assert set(kubeflow[-1].inputs) == set(local[-1].inputs) >= {"baseline_examples", "pushed_examples"}
    settings = json.loads(local[-1].exec_properties["config_json"])
    assert settings["policy"] == taxi.stages.drift.policy
    assert settings["thresholds"] == taxi.stages.drift.merged_thresholds()


def test_governed_push_gets_the_store_and_card_only_on_the_local_target(taxi):
    from tfx.types import channel, standard_artifacts

    from tfxgate.pipelines import stages

    model = channel.Channel(type=standard_artifacts.Model)
    local = stages.governed_push(taxi, model=model, examples=_examples())
    card = json.loads(local.exec_properties["card"])
    assert card["root"] == str(taxi.pipeline.root) and card["metadata"] == taxi.metadata.model_dump(mode="json")
    assert card["card_info"] == taxi.stages.push.model_card.model_dump(mode="json")
    assert json.loads(local.exec_properties["required_gates"]) == ["ingestion"]
    kubeflow = stages.governed_push(taxi, model=model, examples=_examples(), target="kubeflow")
    assert kubeflow.exec_properties["card"] == "" and kubeflow.id == local.id == "GovernedPush"
    run = json.loads(kubeflow.exec_properties["kubeflow_run"])
    assert run == {"pipeline": "taxi", "run_id": "{{$.pipeline_job_name}}"}
    assert local.exec_properties["kubeflow_run"] is None


def _examples():
    from tfx.types import channel, standard_artifacts

    return channel.Channel(type=standard_artifacts.Examples)


def _schema():
    from tfx.types import channel, standard_artifacts

    return channel.Channel(type=standard_artifacts.Schema)


def test_stock_eval_config_from_taxi_yaml(taxi):
    """The stock Evaluator (benchmarks' comparison side) gets SliceEval's slices and metrics."""
    from tfxgate.pipelines.stages import stock_eval_config

    proto = stock_eval_config(taxi)
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
