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
import pyarrow as pa
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import config_pb2

from tfxgate.components.slice_eval.gates import OVERALL, SliceMetrics
from tfxgate.components.slice_eval.settings import METRICS, NEED_BOTH_CLASSES, THRESHOLDED, Buckets, EvaluationStage

CANDIDATE = "candidate"
BASELINE = "baseline"


def metric_configs(stage: EvaluationStage) -> list[config_pb2.MetricConfig]:
    """One TFMA MetricConfig per computed metric; the decision threshold where it applies."""
    configs = []
    for name in stage.computed_metrics:
        options = {"name": name}
        keyword = THRESHOLDED.get(name)
        if keyword:
            threshold = stage.decision_threshold
            options[keyword] = threshold if keyword == "threshold" else [threshold]
        configs.append(config_pb2.MetricConfig(class_name=METRICS[name][0], config=json.dumps(options)))
    return configs


def eval_config(
    stage: EvaluationStage, *, label: str, with_baseline: bool, gate_overall: bool = False
) -> config_pb2.EvalConfig:
    """TFMA's EvalConfig for the stage.

    Args:
      stage: the typed evaluation stage.
      label: the label key (read through the model's `transform_features`).
      with_baseline: add a baseline model spec so both models are evaluated in one pass.
      gate_overall: attach the overall thresholds as TFMA thresholds (what the
        stock Evaluator can do; tfxgate's component gates in `gates.py` instead).
    """

    def spec(name: str, *, is_baseline: bool = False) -> config_pb2.ModelSpec:
        return config_pb2.ModelSpec(
            name=name,
            signature_name="serving_default",
            label_key=label,
            preprocessing_function_names=["transform_features"],
            is_baseline=is_baseline,
        )

    metrics = metric_configs(stage)
    if gate_overall:
        _attach_overall_thresholds(stage, metrics)
    models = [spec(CANDIDATE)] + ([spec(BASELINE, is_baseline=True)] if with_baseline else [])
    return config_pb2.EvalConfig(
        model_specs=models,
        slicing_specs=[config_pb2.SlicingSpec(feature_keys=keys) for keys in stage.slice_columns],
        metrics_specs=[config_pb2.MetricsSpec(metrics=metrics)],
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


def add_bucket_columns(batch: pa.RecordBatch, buckets: list[Buckets]) -> pa.RecordBatch:
    """Adds `<feature>_bucket` string columns (e.g. `[6,12)`) that TFMA then slices on."""
    for spec in buckets:
        if spec.feature not in batch.schema.names:
            raise ValueError(f"bucketed slice: feature {spec.feature!r} is not in the evaluation data")
        column = batch.column(batch.schema.get_field_index(spec.feature))
        labels = []
        for values in column.to_pylist():
            labels.append([spec.label(float(values[0])).encode()] if values else None)
        # pyarrow 10 has no RecordBatch.append_column.
        batch = pa.RecordBatch.from_arrays(
            [*batch.columns, pa.array(labels, type=pa.list_(pa.binary()))], [*batch.schema.names, spec.column]
        )
    return batch


def load_slices(output_path: str, *, with_baseline: bool) -> list[SliceMetrics]:
    """TFMA's written metrics -> one SliceMetrics per slice (candidate and baseline values)."""
    by_slice: dict[tuple, SliceMetrics] = {}
    for record in tfma.load_metrics(output_path):
        key = tfma.slicer.deserialize_slice_key(record.slice_key)
        item = by_slice.get(key)
        if item is None:
            item = SliceMetrics(
                slicing=tuple(column for column, _ in key),
                name=slice_name(key),
                values={},
                baseline={} if with_baseline else None,
            )
            by_slice[key] = item
        for entry in record.metric_keys_and_values:
            metric = entry.key
            if metric.is_diff or metric.name not in METRICS:
                continue
            target = item.baseline if metric.model_name == BASELINE else item.values
            if target is not None:
                target[metric.name] = _number(entry.value)
    for item in by_slice.values():
        for values in (item.values, item.baseline):
            _undefine_single_class(values)
    return list(by_slice.values())


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
