"""Label kinds (`data.label_kind`): inference from the data, metrics per kind, and their errors at load."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_config import MINIMAL, problems
from tfxgate.components.slice_eval.label_kinds import LabelKind, infer, multiclass_metrics
from tfxgate.pipelines.config.root import load_config


@pytest.mark.parametrize(
    "values, kind, classes",
    [
        (["0", "1", "1", None, "0"], "binary", 2),
        (["yes", "no", "NA"], "binary", 2),
        (["0", "2", "1", "2"], "multiclass", 3),
        (["setosa", "virginica", "versicolor"], "multiclass", 3),
        (["1.5", "2", "3.25"], "regression", 2),
        ([str(i) for i in range(200)], "regression", 2),
    ],
)
def test_kind_is_inferred_from_the_values(values, kind, classes):
    found, why = infer([None if v == "NA" else v for v in values])
    assert found == LabelKind(kind, classes), why


def test_a_sample_that_cannot_tell_says_why():
    assert infer([None, None]) == (None, "no label values in the sample")
    assert infer(["-1", "3", "7"])[1].startswith("integer labels")


def test_multiclass_metrics_count_the_top_class():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    predicted = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 3, 300))
    confusion: dict = {}
    for a, p in zip(labels, predicted, strict=True):
        confusion[(int(a), int(p))] = confusion.get((int(a), int(p)), 0) + 1.0
    values = multiclass_metrics(confusion, {0: 0.9, 1: 0.8, 2: 0.7}, 3)
    assert values["accuracy"] == pytest.approx(np.mean(labels == predicted))
    assert values["micro_f1"] == values["accuracy"]
    f1 = []
    for k in range(3):
        precision = np.mean(labels[predicted == k] == k)
        recall = np.mean(predicted[labels == k] == k)
        assert values[f"precision_class_{k}"] == pytest.approx(precision)
        assert values[f"recall_class_{k}"] == pytest.approx(recall)
        f1.append(2 * precision * recall / (precision + recall))
    assert values["macro_f1"] == pytest.approx(np.mean(f1))
    assert values["auc_one_vs_rest"] == pytest.approx(0.8)


def test_a_class_absent_from_a_slice_has_no_auc_or_recall():
    values = multiclass_metrics({(0, 0): 5.0, (1, 0): 1.0, (1, 1): 4.0}, {0: 0.9, 1: 0.7, 2: 0.0}, 3)
    assert math.isnan(values["recall_class_2"]) and math.isnan(values["precision_class_2"])
    assert values["auc_one_vs_rest"] == pytest.approx(0.8)  # class 2's reported 0 is left out


def _config(tmp_path, label_rows: str, evaluation: str, kind: str = "") -> object:
    (tmp_path / "trainer").mkdir(exist_ok=True)
    (tmp_path / "trainer" / "trainer.py").write_text("def run_fn(fn_args):\n    pass\n")
    (tmp_path / "data.csv").write_text("a,b\n" + label_rows)
    text = MINIMAL + "  evaluation:\n" + evaluation
    if kind:
        text = text.replace("  label: b\n", f"  label: b\n  label_kind: {kind}\n")
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


def test_check_infers_multiclass_and_accepts_its_metrics(tmp_path):
    rows = "".join(f"{i},{i % 3}\n" for i in range(30))
    gates = "    thresholds: {accuracy: {min: 0.6}, recall_class_2: {min: 0.5}}\n    overall: {log_loss: {max: 1}}\n"
    config = load_config(_config(tmp_path, rows, gates))
    assert config.data.label_spec == LabelKind("multiclass", 3)
    assert config.label_kind_origin.startswith("inferred from the first 30 rows")
    assert "precision_class_2" in config.stages.evaluation.computed_metrics(config.data.label_spec)


@pytest.mark.parametrize(
    "rows, gates, kind, key, expected",
    [
        (
            "".join(f"{i},{i % 3}\n" for i in range(30)),
            "    thresholds: {binary_accuracy: {min: 0.6}}\n",
            "",
            "stages.evaluation.thresholds.binary_accuracy",
            "'binary_accuracy' does not fit the label (valid for a multiclass (3 classes) label: example_count, accu",
        ),
        (
            "".join(f"{i},{i % 3}\n" for i in range(30)),
            "    overall: {precision_class_3: {min: 0.6}}\n",
            "",
            "stages.evaluation.overall.precision_class_3",
            "does not fit the label (valid for a multiclass (3 classes) label",
        ),
        (
            "".join(f"{i},{i * 1.5}\n" for i in range(30)),
            "    slices: [[], [a]]\n    max_gap: [{slice: [a], metric: auc, max: 0.1}]\n",
            "",
            "stages.evaluation.max_gap.0.metric",
            "'auc' does not fit the label (valid for a regression label: example_count, mean_squared_error",
        ),
        (
            "1,0\n2,1\n",
            "    overall: {r2: {min: 0.1}}\n",
            "regression",
            "stages.evaluation.overall.r2",
            "",
        ),
        (
            "1,0\n2,1\n",
            "    metrics: [f1_score]\n",
            "regression",
            "stages.evaluation.metrics",
            "extra metrics apply to binary labels",
        ),
    ],
)
def test_metrics_that_do_not_fit_the_label_are_refused(tmp_path, rows, gates, kind, key, expected):
    path = _config(tmp_path, rows, gates, kind)
    if not expected:  # fits: a declared kind wins over the data's look
        assert load_config(path).data.label_spec == LabelKind("regression")
        return
    found = problems(path)
    assert any(k == key and expected in message for k, _, message in found), found


def test_r2_max_regression_reads_higher_as_better(tmp_path):
    from tfxgate.components.slice_eval.gates import SliceMetrics, judge

    rows = "".join(f"{i},{i * 1.5}\n" for i in range(30))
    stage = load_config(_config(tmp_path, rows, "    overall: {r2: {max_regression: 0.05}}\n")).stages.evaluation
    item = SliceMetrics((), "Overall", {"r2": 0.4, "example_count": 50}, baseline={"r2": 0.5})
    [failure] = judge([item], stage).failures
    assert failure.metric == "r2" and "regressed by 0.1" in failure.message


def test_r2_from_sums_matches_numpy():
    from tfxgate.components.slice_eval.r2_metric import r2

    rng = np.random.default_rng(1)
    y, p = rng.normal(150, 50, 200), rng.normal(150, 50, 200)
    expected = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2(200.0, y.sum(), (y * y).sum(), ((y - p) ** 2).sum()) == pytest.approx(expected)
    assert math.isnan(r2(3.0, 6.0, 12.0, 1.0))  # every label 2: no variance to explain


@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            LabelKind("multiclass", 3),
            {"example_count", "log_loss", "multi_class_confusion_matrix_at_thresholds", "auc"},
        ),
        (LabelKind("regression"), {"example_count", "mean_squared_error", "mean_absolute_error", "r2", "mean_label"}),
    ],
)
def test_eval_config_of_each_kind_builds_tfma_computations(kind, expected):
    from tensorflow_model_analysis.metrics import metric_specs

    from tfxgate.components.slice_eval.settings import EvaluationStage
    from tfxgate.components.slice_eval.tfma_config import eval_config

    config = eval_config(EvaluationStage(), label="y", with_baseline=False, kind=kind)
    computations = metric_specs.to_computations(config.metrics_specs, eval_config=config)
    keys = [key for computation in computations for key in computation.keys]
    assert expected <= {key.name for key in keys}
    if kind.kind == "multiclass":  # one AUC per class, one-vs-rest
        assert sorted(k.sub_key.class_id for k in keys if k.name == "auc") == [0, 1, 2]
