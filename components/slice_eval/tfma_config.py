"""The TFMA side of slice evaluation: EvalConfig from the typed stage, bucket columns, metrics back.

Users never write TFMA protobuf: `eval_config` builds it from `EvaluationStage`.
TFMA computes the metrics only; the gates are applied afterwards in pure Python
(`gates.py`), which is what allows `min_examples`, gaps between slices and
per-slice regression messages that TFMA's own thresholds cannot express.
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import config_pb2

from tfxgate.components.slice_eval import label_kinds
from tfxgate.components.slice_eval.gates import OVERALL, SliceMetrics
from tfxgate.components.slice_eval.label_kinds import BINARY_LABEL, DERIVED, LabelKind
from tfxgate.components.slice_eval.settings import METRICS, NEED_BOTH_CLASSES, THRESHOLDED, EvaluationStage

CANDIDATE = "candidate"
BASELINE = "baseline"
# Where TFMA imports tfxgate's R² metric from (the executor's Beam workers import it by name).
R2_MODULE = "tfxgate.components.slice_eval.r2_metric"


def metric_configs(stage: EvaluationStage) -> list[config_pb2.MetricConfig]:
    """Binary labels: one TFMA MetricConfig per computed metric; the decision threshold where it applies."""
    configs = []
    for name in stage.computed_metrics():
        options = {"name": name}
        keyword = THRESHOLDED.get(name)
        if keyword:
            threshold = stage.decision_threshold
            options[keyword] = threshold if keyword == "threshold" else [threshold]
        configs.append(config_pb2.MetricConfig(class_name=METRICS[name][0], config=json.dumps(options)))
    return configs


def metrics_specs(stage: EvaluationStage, kind: LabelKind) -> list[config_pb2.MetricsSpec]:
    """The MetricsSpecs for the label's kind.

    Multi-class: one confusion matrix of the top predicted class against the label
    (threshold 0: every example counts, whatever its top score), from which
    `label_kinds.multiclass_metrics` derives accuracy, per-class precision/recall and
    F1 exactly; Keras' sparse categorical cross-entropy as the log loss; and the AUC
    binarized per class (one-vs-rest) in a second spec. The label is the class id.
    Regression: TFMA's squared/absolute errors and means, R² from `r2_metric.py`; RMSE is derived.
    """
    if kind.kind == "binary":
        return [config_pb2.MetricsSpec(metrics=metric_configs(stage))]
    configs = []
    for name, metric in kind.metrics().items():
        if metric.source != DERIVED:
            config = config_pb2.MetricConfig(class_name=metric.source, config=json.dumps({"name": name}))
            if name == "r2":
                config.module = R2_MODULE
            configs.append(config)
    if kind.kind == "regression":
        return [config_pb2.MetricsSpec(metrics=configs)]
    configs.append(
        config_pb2.MetricConfig(class_name=label_kinds.CONFUSION_MATRIX, config=json.dumps({"thresholds": [0.0]}))
    )
    one_vs_rest = config_pb2.MetricsSpec(
        metrics=[config_pb2.MetricConfig(class_name="AUC")],
        binarize=config_pb2.BinarizationOptions(class_ids={"values": list(range(kind.num_classes))}),
    )
    return [config_pb2.MetricsSpec(metrics=configs), one_vs_rest]


def eval_config(
    stage: EvaluationStage,
    *,
    label: str,
    with_baseline: bool,
    gate_overall: bool = False,
    kind: LabelKind = BINARY_LABEL,
) -> config_pb2.EvalConfig:
    """TFMA's EvalConfig for the stage.

    Args:
      stage: the typed evaluation stage.
      label: the label key (read through the model's `transform_features`).
      with_baseline: add a baseline model spec so both models are evaluated in one pass.
      gate_overall: attach the overall thresholds as TFMA thresholds (what the
        stock Evaluator can do; tfxgate's component gates in `gates.py` instead).
        Binary labels only.
      kind: the label's kind, which decides the metrics.
    """

    def spec(name: str, *, is_baseline: bool = False) -> config_pb2.ModelSpec:
        return config_pb2.ModelSpec(
            name=name,
            signature_name="serving_default",
            label_key=label,
            preprocessing_function_names=["transform_features"],
            is_baseline=is_baseline,
        )

    specs = metrics_specs(stage, kind)
    if gate_overall and kind.kind == "binary":
        _attach_overall_thresholds(stage, list(specs[0].metrics))
    models = [spec(CANDIDATE)] + ([spec(BASELINE, is_baseline=True)] if with_baseline else [])
    return config_pb2.EvalConfig(
        model_specs=models,
        slicing_specs=[config_pb2.SlicingSpec(feature_keys=keys) for keys in stage.slice_columns],
        metrics_specs=specs,
    )


def _attach_overall_thresholds(stage: EvaluationStage, metrics: list[config_pb2.MetricConfig]) -> None:
    gates = {**stage.thresholds, **stage.overall}
    for metric in metrics:
        gate = gates.get(json.loads(metric.config)["name"])
        if gate is None:
            continue
        threshold = config_pb2.MetricThreshold()
        if gate.min is not None:
            threshold.value_threshold.lower_bound.value = gate.min
        if gate.max is not None:
            threshold.value_threshold.upper_bound.value = gate.max
        if gate.max_regression is not None:
            threshold.change_threshold.direction = config_pb2.MetricDirection.HIGHER_IS_BETTER
            threshold.change_threshold.absolute.value = -gate.max_regression
        metric.per_slice_thresholds.append(
            config_pb2.PerSliceMetricThreshold(slicing_specs=[config_pb2.SlicingSpec()], threshold=threshold)
        )


def load_slices(output_path: str, *, with_baseline: bool, kind: LabelKind = BINARY_LABEL) -> list[SliceMetrics]:
    """TFMA's written metrics -> one SliceMetrics per slice (candidate and baseline values)."""
    by_slice: dict[tuple, SliceMetrics] = {}
    raw: dict[tuple[tuple, str], dict] = {}  # (slice, model) -> what multi-class metrics derive from
    known = kind.metrics()
    for record in tfma.load_metrics(output_path):
        key = tfma.slicer.deserialize_slice_key(record.slice_key)
        item = by_slice.get(key)
        if item is None:
            item = SliceMetrics(
                slicing=tuple(column for column, _ in key),
                name=slice_name(key),
                values={},
                baseline={} if with_baseline else None,
                key=key,
            )
            by_slice[key] = item
        for entry in record.metric_keys_and_values:
            metric = entry.key
            target = item.baseline if metric.model_name == BASELINE else item.values
            if metric.is_diff or target is None:
                continue
            if kind.kind == "multiclass" and metric.name in ("auc", label_kinds.CONFUSION_MATRIX_NAME):
                inputs = raw.setdefault((key, metric.model_name), {"confusion": {}, "auc": {}})
                if metric.name == "auc" and metric.sub_key.HasField("class_id"):
                    inputs["auc"][metric.sub_key.class_id.value] = _number(entry.value)
                elif metric.name != "auc":
                    inputs["confusion"] = _confusion(entry.value)
            elif metric.name in known and not metric.HasField("sub_key"):
                target[metric.name] = _number(entry.value)
    for (key, model_name), inputs in raw.items():
        item = by_slice[key]
        target = item.baseline if model_name == BASELINE else item.values
        target.update(label_kinds.multiclass_metrics(inputs["confusion"], inputs["auc"], kind.num_classes))
    for item in by_slice.values():
        for values in (item.values, item.baseline):
            if kind.kind == "binary":
                _undefine_single_class(values)
            elif values and kind.kind == "regression" and "mean_squared_error" in values:
                values["root_mean_squared_error"] = float(np.sqrt(values["mean_squared_error"]))
    # One order whoever wrote the file (TFMA's Beam writer follows no order): overall, then by slicing and name.
    return sorted(by_slice.values(), key=lambda s: (len(s.slicing), s.slicing, s.name))


def _confusion(value) -> dict[tuple[int, int], float]:
    """TFMA's multi-class confusion matrix at its one threshold -> (actual, predicted) -> weight."""
    [matrix] = value.multi_class_confusion_matrix_at_thresholds.matrices
    return {(e.actual_class_id, e.predicted_class_id): e.num_weighted_examples for e in matrix.entries}


def _undefine_single_class(values: Optional[dict]) -> None:
    """AUCs are undefined where every label is the same (TFMA reports 0 there, which would gate)."""
    if values and values.get("mean_label") in (0.0, 1.0):
        for name in NEED_BOTH_CLASSES:
            if name in values:
                values[name] = float(np.nan)


def slice_name(key: Iterable[tuple]) -> str:
    """`()` -> "Overall"; (("payment_type", b"Cash"),) -> "payment_type=Cash"."""
    parts = [f"{column}={_text(value)}" for column, value in key]
    return ", ".join(parts) if parts else OVERALL


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value) -> Optional[float]:
    kind = value.WhichOneof("type")
    if kind == "double_value":
        return float(value.double_value.value)
    if kind == "bounded_value":
        return float(value.bounded_value.value.value)
    return float(np.nan)
