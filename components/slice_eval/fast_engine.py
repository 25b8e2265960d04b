"""SliceEval's fast engine: one pass in process, no Beam, for evaluation data that fits in memory.

Reads the split once (`tfxgate.artifacts.examples.split_records`: the serialized
tf.Examples and the same rows as Arrow columns), runs every model's serving
signature over the serialized examples in large batches, takes the label from
the model's `transform_features` signature as TFMA does (else from the data),
groups the rows by slice on Arrow (`slicing.py`) and computes every metric of
every slice with numpy (`fast_metrics.py`). The result is keyed like TFMA's
(`MetricKey` per model, class and metric), so `tfma_output.write_metrics` writes it
in TFMA's own format and the one reader (`tfma_config.load_slices`) reads it back.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import tensorflow as tf
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as multiclass_matrices

from tfxgate.artifacts import examples as example_files
from tfxgate.components.slice_eval import fast_metrics, label_kinds, slicing
from tfxgate.components.slice_eval.label_kinds import LabelKind
from tfxgate.components.slice_eval.settings import Buckets, EvaluationStage

BATCH_SIZE = 8192  # serialized examples per serving-signature call
SERVING = "serving_default"
TRANSFORM = "transform_features"  # the preprocessing signature TFMA reads the label through

MetricsBySlice = dict[tuple, dict[metric_types.MetricKey, Any]]


def evaluate(
    examples_uri: str, split: str, *, models: dict[str, str], stage: EvaluationStage, label: str, kind: LabelKind
) -> MetricsBySlice:
    """Every metric of every slice for every model.

    Args:
      examples_uri: the Examples artifact's directory.
      split: the split to evaluate, e.g. `eval`.
      models: model name (candidate, baseline) -> SavedModel directory.
      stage: the evaluation stage (slices, metrics, decision threshold).
      label: the label key.
      kind: the label's kind.
    """
    records, data = example_files.split_records(examples_uri, split)
    outputs = {}
    for name, path in models.items():
        labels, predictions = predict(path, records, label=label)
        outputs[name] = (labels if labels is not None else _label_column(data, label), predictions)
    return metrics_by_slice(data, outputs, stage=stage, kind=kind)


def metrics_by_slice(data, outputs: dict, *, stage: EvaluationStage, kind: LabelKind) -> MetricsBySlice:
    """Every metric of every slice of `data` (Arrow), for each model's (labels, predictions) in `outputs`."""
    data = slicing.add_bucket_columns(data, [s for s in stage.slices if isinstance(s, Buckets)])
    out: MetricsBySlice = {}
    for key, rows in slicing.slices(data, stage):
        metrics = out.setdefault(key, {})
        for name, (labels, predictions) in outputs.items():
            metrics.update(_slice_metrics(labels[rows], predictions[rows], stage=stage, kind=kind, model=name))
    return out


def predict(saved_model: str, records: list[bytes], *, label: str) -> tuple[Optional[np.ndarray], np.ndarray]:
    """(labels from `transform_features`, or None without it; predictions) of one model on every example."""
    model = tf.saved_model.load(saved_model)
    serve = model.signatures[SERVING]
    transform = model.signatures.get(TRANSFORM)
    [argument] = serve.structured_input_signature[1].keys()
    labels, predictions = [], []
    for start in range(0, len(records), BATCH_SIZE):
        batch = tf.constant(records[start : start + BATCH_SIZE])
        predictions.append(_single_output(serve(**{argument: batch}), saved_model).numpy())
        if transform is not None:
            features = transform(**{argument: batch})
            if label not in features:
                raise ValueError(f"{saved_model}: {TRANSFORM} returns {sorted(features)}, not the label {label!r}")
            labels.append(features[label].numpy())
    stacked = np.concatenate(predictions) if predictions else np.zeros((0, 1), np.float32)
    return (np.concatenate(labels) if labels else None), stacked


def _single_output(outputs: dict, saved_model: str):
    if len(outputs) != 1:
        raise ValueError(f"{saved_model}: {SERVING} returns {sorted(outputs)}; the fast engine reads one output")
    return next(iter(outputs.values()))


def _label_column(data, label: str) -> np.ndarray:
    if label not in data.schema.names:
        raise ValueError(f"label {label!r} is neither returned by {TRANSFORM} nor a column of the evaluation data")
    values, present = slicing.first_values(data.column(data.schema.get_field_index(label)), label)
    if not present.all():
        raise ValueError(f"label {label!r} is missing in row {int(np.argmin(present))} of the evaluation data")
    return values


def _slice_metrics(labels, predictions, *, stage: EvaluationStage, kind: LabelKind, model: str) -> dict:
    weights = fast_metrics.weights_or_ones(None, len(labels))
    labels = np.asarray(labels).reshape(len(labels), -1)[:, 0] if len(labels) else np.zeros(0)

    def key(name: str, **sub) -> metric_types.MetricKey:
        return metric_types.MetricKey(name=name, model_name=model, sub_key=metric_types.SubKey(**sub) if sub else None)

    if kind.kind == "multiclass":
        confusion, aucs, plain = fast_metrics.multiclass(labels, predictions, weights, classes=kind.num_classes)
        matrix = {multiclass_matrices.MatrixEntryKey(a, p): w for (a, p), w in confusion.items()}
        values = {key(name): value for name, value in plain.items()}
        values[key(label_kinds.CONFUSION_MATRIX_NAME)] = multiclass_matrices.Matrices({0.0: matrix})
        values.update({key("auc", class_id=k): value for k, value in aucs.items()})
        return values
    scores = _scalar_predictions(predictions)
    if kind.kind == "regression":
        return {key(name): value for name, value in fast_metrics.regression(labels, scores, weights).items()}
    names = stage.computed_metrics(kind)
    found = fast_metrics.binary(names, labels, scores, weights, threshold=stage.decision_threshold)
    return {key(name): value for name, value in found.items()}


def _scalar_predictions(predictions: np.ndarray) -> np.ndarray:
    if predictions.ndim > 1 and predictions.shape[1] != 1:
        raise ValueError(f"expected one score per example, the model returns {predictions.shape[1]}")
    return predictions.reshape(len(predictions))
