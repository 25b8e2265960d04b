"""Unit tests of components/slice_eval/gates.py and tfxgate/reporting/slice_html.py: pure Python, no TFMA."""

from __future__ import annotations

import json
import math

from tfxgate.components.slice_eval.gates import TOO_SMALL, SliceMetrics, judge, report_data, rows
from tfxgate.components.slice_eval.settings import EvaluationStage
from tfxgate.reporting import slice_html as report


def stage(**kwargs) -> EvaluationStage:
    base = {"slices": [[], ["payment_type"]], "min_examples": 100}
    return EvaluationStage.model_validate({**base, **kwargs})


def metrics(slicing, name, n, baseline=None, **values) -> SliceMetrics:
    return SliceMetrics(tuple(slicing), name, {"example_count": n, **values}, baseline)


GOOD = [
    metrics([], "Overall", 1000, auc=0.9, binary_accuracy=0.8),
    metrics(["payment_type"], "payment_type=Cash", 600, auc=0.85, binary_accuracy=0.9),
    metrics(["payment_type"], "payment_type=Credit Card", 380, auc=0.6, binary_accuracy=0.7),
    metrics(["payment_type"], "payment_type=Dispute", 20, auc=0.1, binary_accuracy=0.1),
]


def test_model_passing_every_gate_is_blessed_without_baseline():
    verdict = judge(GOOD, stage(thresholds={"binary_accuracy": {"min": 0.6}}))
    assert verdict.blessed and not verdict.has_baseline
    assert "without a baseline" in verdict.headline()


def test_small_slice_is_too_small_to_judge_and_does_not_gate():
    verdict = judge(GOOD, stage(thresholds={"binary_accuracy": {"min": 0.6}}))
    assert verdict.too_small == ["payment_type=Dispute"]
    table = rows(GOOD, verdict, stage(thresholds={"binary_accuracy": {"min": 0.6}}))
    assert [r["status"] for r in table if r["slice"] == "payment_type=Dispute"] == [TOO_SMALL]


def test_failing_slice_message_names_slice_metric_value_and_threshold():
    verdict = judge(GOOD, stage(thresholds={"binary_accuracy": {"min": 0.75}}))
    assert not verdict.blessed
    [failure] = verdict.failures
    assert failure.slice == "payment_type=Credit Card"
    assert failure.message == "payment_type=Credit Card: binary_accuracy 0.7 < min 0.75 (n=380)"
    assert verdict.failing_slices == ["payment_type=Credit Card"]


def test_overall_gates_apply_to_the_overall_slice_only():
    verdict = judge(GOOD, stage(overall={"auc": {"min": 0.85}}))
    assert verdict.blessed  # Credit Card's 0.6 is not gated by an overall-only gate
    verdict = judge(GOOD, stage(overall={"auc": {"min": 0.95}}))
    assert [f.slice for f in verdict.failures] == ["Overall"]


def test_gap_between_best_and_worst_slice():
    gate = {"max_gap": [{"slice": ["payment_type"], "metric": "auc", "max": 0.2}]}
    verdict = judge(GOOD, stage(**gate))
    [failure] = verdict.failures
    assert failure.gate == "max_gap" and math.isclose(failure.value, 0.25)
    assert "payment_type: auc gap 0.25 between payment_type=Cash (0.85) and payment_type=Credit Card (0.6)" in (
        failure.message
    )


def test_regression_against_baseline_blocks_blessing():
    slices = [
        metrics([], "Overall", 1000, baseline={"auc": 0.93}, auc=0.9),
        metrics(["payment_type"], "payment_type=Cash", 600, baseline={"auc": 0.86}, auc=0.85),
    ]
    verdict = judge(slices, stage(thresholds={"auc": {"max_regression": 0.02}}))
    assert verdict.has_baseline and not verdict.blessed
    [failure] = verdict.failures
    assert failure.message == "Overall: auc 0.9 regressed by 0.03 vs baseline 0.93 (max_regression 0.02)"


def test_undefined_metric_does_not_gate():
    slices = [metrics(["payment_type"], "payment_type=Cash", 600, auc=float("nan"))]
    verdict = judge(slices, stage(thresholds={"auc": {"min": 0.7}}))
    assert verdict.blessed and verdict.undefined == ["payment_type=Cash: auc"]


def test_report_sorts_worst_first_and_renders_a_chart():
    gates = stage(thresholds={"binary_accuracy": {"min": 0.75}})
    verdict = judge(GOOD, gates)
    table = rows(GOOD, verdict, gates)
    assert [r["slice"] for r in table] == [
        "payment_type=Credit Card",
        "Overall",
        "payment_type=Cash",
        "payment_type=Dispute",
    ]
    data = report_data(table, verdict, metrics=gates.computed_metrics(), baseline_uri=None)
    assert json.loads(json.dumps(data))["failing_slices"] == ["payment_type=Credit Card"]
    page = report.report_html(data, title="t", chart_metric="binary_accuracy", minimum=0.75)
    assert (
        "<svg" in page
        and 'stroke-dasharray="4"' in page
        and "payment_type=Credit Card: binary_accuracy 0.7 &lt; min 0.75" in page
    )
    assert page.index("payment_type=Credit Card</td>") < page.index("payment_type=Cash</td>")
