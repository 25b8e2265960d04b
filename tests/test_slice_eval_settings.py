"""The `stages.evaluation` config of SliceEval: slices, metrics and gates, and their errors at load."""

from __future__ import annotations

import pytest

from tests.test_config import MINIMAL, problems, write_config
from tfxgate.components.slice_eval.settings import METRICS, Buckets
from tfxgate.pipelines.config.root import load_config


def evaluation(tmp_path, body: str):
    """MINIMAL with an evaluation section (the data's header is `a,b`; no schema)."""
    return write_config(tmp_path, MINIMAL + "  evaluation:\n" + body)


def test_slices_metrics_and_gates_load(tmp_path):
    path = evaluation(
        tmp_path,
        "    slices: [[], [a], {feature: a, buckets: [0, 6, 12]}, [a, a_bucket]]\n"
        "    metrics: [MeanPrediction, f1_score]\n"
        "    min_examples: 50\n"
        "    thresholds: {binary_accuracy: {min: 0.6}, f1_score: {min: 0.1}}\n"
        "    overall: {auc: {min: 0.8, max_regression: 0.02}}\n"
        "    max_gap: [{slice: [a_bucket], metric: binary_accuracy, max: 0.1}]\n",
    )
    stage = load_config(path).stages.evaluation
    assert stage.slice_columns == [[], ["a"], ["a_bucket"], ["a", "a_bucket"]]
    assert stage.computed_metrics()[-2:] == ["mean_prediction", "f1_score"]
    assert stage.min_examples == 50


def test_buckets_label_values():
    spec = Buckets(feature="trip_start_hour", buckets=[0, 6, 12.5])
    assert [spec.label(v) for v in (-1, 0, 5.9, 6, 12.5, 30)] == [
        "<0",
        "[0,6)",
        "[0,6)",
        "[6,12.5)",
        ">=12.5",
        ">=12.5",
    ]


def test_slice_on_a_feature_missing_from_the_data_is_named(tmp_path):
    path = evaluation(tmp_path, "    slices:\n      - []\n      - [a, colour]\n")
    [(key, line, message)] = problems(path)
    assert key == "stages.evaluation.slices.1"
    assert line == path.read_text().splitlines().index("      - [a, colour]") + 1
    assert "feature 'colour' is not in the header of" in message and "data.csv" in message


def test_slice_on_a_feature_missing_from_the_schema_is_named():
    from tests.test_config import TAXI

    slices = "[[], [paymnt_type], {feature: trip_start_hour, buckets: [0, 12, 24]}]"
    [(key, _, message)] = problems(TAXI, overrides=[f"stages.evaluation.slices={slices}"])
    assert key == "stages.evaluation.slices.1"
    assert "feature 'paymnt_type' is not in the schema" in message and "schema.pbtxt" in message


@pytest.mark.parametrize(
    "body, expected",
    [
        ("    metrics: [MeanPredictoin]\n", "unknown metric 'MeanPredictoin'"),
        ("    thresholds: {mean_prediction: {min: 0.5}}\n", "'mean_prediction' is not computed (add it to metrics)"),
        ("    thresholds: {recall: {min: -0.1}}\n", "thresholds.recall.min: -0.1 is outside [0, 1] for recall"),
        ("    overall: {auc: {max: 1.2}}\n", "overall.auc.max: 1.2 is outside [0, 1] for auc"),
        ("    thresholds: {calibration: {max_regression: 0.1}}\n", "calibration has no better direction"),
        ("    max_gap: [{slice: [a], metric: auc, max: 2}]\n", "max_gap.0.max: 2.0 is outside [0, 1] for auc"),
        ("    max_gap: [{slice: [b], metric: auc, max: 0.1}]\n", "max_gap.0.slice: ['b'] is not one of the slices"),
        ("    slices: [{feature: a, buckets: [6, 0]}]\n", "strictly increasing"),
        ("    min_examples: 0\n", "greater than or equal to 1"),
    ],
)
def test_bad_evaluation_config_is_rejected_at_load(tmp_path, body, expected):
    found = problems(evaluation(tmp_path, "    slices: [[], [a]]\n" + body if "slices" not in body else body))
    assert any(key.startswith("stages.evaluation") and expected in message for key, _, message in found), found


def test_metric_table_matches_the_installed_tfma():
    # TF_USE_LEGACY_KERAS is already set: importing tfxgate (above) sets it before TFMA loads TF.
    import tensorflow_model_analysis.metrics as tfma_metrics

    for name, (class_name, _, _) in METRICS.items():
        assert getattr(tfma_metrics, class_name)().name == name
