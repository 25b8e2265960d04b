"""The fast engine's metrics: every configured metric of one slice from numpy arrays, as TFMA 0.47 computes it.

Pure numpy (no TensorFlow/TFMA import). Each function takes one slice's labels,
predictions and example weights and returns {metric name: value}, following the
TFMA code that the Beam engine runs, so both engines agree (tests/test_slice_eval_parity.py):

- thresholded metrics (binary_accuracy, precision, ...) count an example as
  predicted positive when its prediction is *strictly* above the threshold, and
  split a label l into a positive of weight w·l and a negative of weight w·(1-l)
  (TFMA's `fractional_labels`; `contrib/aggregates/binary_confusion_matrices.py`);
- AUC and PR-AUC come from TFMA's calibration histogram: predictions fall into
  10,000 buckets of width 1e-4 (`calibration_histogram.py`), rebinned onto the
  10,000 interpolated thresholds [-1e-7, 1/9999+1e-7, ..., 1+1e-7]
  (`binary_confusion_matrices.py`), then summed by interpolation (`AUC._metric_value`
  in `confusion_matrix_metrics.py`). The same bucketing means the same value, not
  an approximation of it: the parity test holds AUC to 1e-6 like every other metric;
- multi-class: one confusion matrix of the top class (argmax; none when its score is
  <= 0) against the label, each class's AUC one-vs-rest, and Keras' sparse categorical
  cross-entropy (predictions clipped to [1e-7, 1-1e-7] and renormalised);
- regression: squared/absolute errors, means, and R² (`r2_metric.r2`).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from tfxgate.components.slice_eval.settings import THRESHOLDED

NUM_BUCKETS = 10_000  # calibration_histogram.DEFAULT_NUM_BUCKETS (= DEFAULT_NUM_THRESHOLDS)
_EPSILON = 1e-7  # binary_confusion_matrices._EPSILON
KERAS_EPSILON = 1e-7  # tf.keras.backend.epsilon()
DEFAULT_THRESHOLD = 0.5  # ConfusionMatrixMetric._default_threshold


def _interpolated_thresholds() -> np.ndarray:
    inner = [(i + 1) * 1.0 / (NUM_BUCKETS - 1) for i in range(NUM_BUCKETS - 2)]
    return np.array([-_EPSILON, *inner, 1.0 + _EPSILON])


THRESHOLDS = _interpolated_thresholds()
# The rebinning edges: each threshold + epsilon (TFMA leaves an exact 0 as is).
_REBIN = np.array([t + _EPSILON if t != 0 else t for t in THRESHOLDS.tolist()])
# Lower edge of each histogram bucket (0: -inf, NUM_BUCKETS + 1: +inf), as `rebin` computes it.
_BUCKET_LOW = np.array(
    [-math.inf] + [(i - 1) / NUM_BUCKETS * 1.0 + 0.0 for i in range(1, NUM_BUCKETS + 1)] + [math.inf]
)
# Histogram bucket -> rebinned bucket (the last edge it reaches).
_REBINNED = np.searchsorted(_REBIN[1:], _BUCKET_LOW, side="right")


def _divide(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def curve_matrices(labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray):
    """TP, TN, FP, FN at TFMA's 10,000 AUC thresholds (arrays of length 10,000)."""
    scaled = predictions * NUM_BUCKETS + 1
    bucket = np.where(scaled < 0, 0, np.where(scaled >= NUM_BUCKETS + 1, NUM_BUCKETS + 1, np.floor(scaled)))
    rebinned = _REBINNED[np.nan_to_num(bucket, nan=0).astype(np.int64)]
    positives = np.bincount(rebinned, weights=weights * labels, minlength=NUM_BUCKETS)
    negatives = np.bincount(rebinned, weights=weights * (1.0 - labels), minlength=NUM_BUCKETS)
    tp = np.cumsum(positives[::-1])[::-1]
    fp = np.cumsum(negatives[::-1])[::-1]
    fn = np.concatenate([[0.0], np.cumsum(positives)[:-1]])
    tn = np.concatenate([[0.0], np.cumsum(negatives)[:-1]])
    # The last threshold (1 + 1e-7) is above every prediction.
    tp[-1], fp[-1], fn[-1], tn[-1] = 0.0, 0.0, tp[0], fp[0]
    return tp, tn, fp, fn


def auc(tp, tn, fp, fn, *, curve: str = "ROC") -> float:
    """TFMA's AUC (summation by interpolation) from the curve's matrices."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if curve == "PR":
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = dtp / np.maximum(dp, 0)
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where(np.logical_and(p[:-1] > 0, p[1:] > 0), p[:-1] / np.maximum(p[1:], 0), np.ones_like(p[1:]))
            return float(np.nansum(slope * (dtp + intercept * np.log(ratio)) / np.maximum(tp[1:] + fn[1:], 0)))
        y = tp / (tp + fn)
        x = fp / (fp + tn)
        return float(np.nansum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2.0))


def _at_threshold(name: str, tp: float, tn: float, fp: float, fn: float) -> float:
    if name == "binary_accuracy":
        return _divide(tp + tn, tp + fp + tn + fn)
    if name == "precision":
        return _divide(tp, tp + fp)
    if name in ("recall", "tpr"):
        return _divide(tp, tp + fn)
    if name in ("specificity", "tnr"):
        return _divide(tn, tn + fp)
    if name == "fpr":
        return _divide(fp, fp + tn)
    if name == "fnr":
        return _divide(fn, fn + tp)
    if name == "negative_predictive_value":
        return _divide(tn, tn + fn)
    if name == "prevalence":
        return _divide(tp + fn, tp + tn + fp + fn)
    if name == "f1_score":
        return _divide(2 * tp, 2 * tp + fp + fn)
    if name == "balanced_accuracy":
        return (tp / (tp + fn) + tn / (tn + fp)) / 2 if tp + fn > 0 and tn + fp > 0 else math.nan
    if name == "matthews_correlation_coefficient":
        return _divide(tp * tn - fp * fn, math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    raise KeyError(name)


CONFUSION_METRICS = (
    "binary_accuracy",
    "precision",
    "recall",
    "tpr",
    "specificity",
    "tnr",
    "fpr",
    "fnr",
    "negative_predictive_value",
    "prevalence",
    "f1_score",
    "balanced_accuracy",
    "matthews_correlation_coefficient",
)


def binary(
    names: list[str], labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray, *, threshold: float
) -> dict[str, float]:
    """The named binary metrics of one slice. `threshold`: the decision threshold of THRESHOLDED metrics."""
    labels, weights = labels.astype(np.float64), weights.astype(np.float64)
    scores = predictions.astype(np.float64)
    positive, negative = weights * labels, weights * (1.0 - labels)
    total_weight, label_weight = float(weights.sum()), float(positive.sum())
    prediction_weight = float((weights * scores).sum())
    out: dict[str, float] = {}
    curve = None
    for name in names:
        if name == "example_count":
            out[name] = float(len(labels))
        elif name == "mean_label":
            out[name] = math.nan if np.isclose(total_weight, 0.0) else label_weight / total_weight
        elif name == "mean_prediction":
            out[name] = math.nan if np.isclose(total_weight, 0.0) else prediction_weight / total_weight
        elif name == "calibration":
            out[name] = math.nan if np.isclose(label_weight, 0.0) else prediction_weight / label_weight
        elif name in ("auc", "auc_precision_recall"):
            curve = curve if curve is not None else curve_matrices(labels, scores, weights)
            out[name] = auc(*curve, curve="PR" if name == "auc_precision_recall" else "ROC")
        elif name in CONFUSION_METRICS:
            cut = threshold if name in THRESHOLDED else DEFAULT_THRESHOLD
            above = scores > cut
            tp, fp = float(positive[above].sum()), float(negative[above].sum())
            fn, tn = float(positive[~above].sum()), float(negative[~above].sum())
            out[name] = _at_threshold(name, tp, tn, fp, fn)
        elif name == "binary_crossentropy":
            # Element-wise in the model's dtype, as TFMA's numpy combiner does.
            with np.errstate(divide="ignore", invalid="ignore"):
                losses = -labels * np.log(predictions) - (1 - labels) * np.log(1 - predictions)
            out[name] = float((losses.astype(np.float64) * weights).sum() / total_weight)
        elif name in ("mean_squared_error", "mean_absolute_error"):
            out[name] = _mean_error(name, labels, scores, weights)
        else:
            raise ValueError(f"the fast engine does not compute {name!r}; use `engine: beam`")
    return out


def _mean_error(name: str, labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray) -> float:
    errors = (labels - predictions) ** 2 if name == "mean_squared_error" else np.abs(labels - predictions)
    return _divide(float((errors * weights).sum()), float(weights.sum()))


def regression(labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Every regression metric TFMA computes for the project (RMSE is derived by the reader)."""
    from tfxgate.components.slice_eval.r2_metric import r2

    y, p, w = labels.astype(np.float64), predictions.astype(np.float64), weights.astype(np.float64)
    total = float(w.sum())
    squared = float((w * (y - p) ** 2).sum())
    return {
        "example_count": float(len(y)),
        "mean_squared_error": _divide(squared, total),
        "mean_absolute_error": _mean_error("mean_absolute_error", y, p, w),
        "r2": r2(total, float((w * y).sum()), float((w * y * y).sum()), squared),
        "mean_prediction": math.nan if np.isclose(total, 0.0) else float((w * p).sum()) / total,
        "mean_label": math.nan if np.isclose(total, 0.0) else float((w * y).sum()) / total,
    }


def multiclass(
    labels: np.ndarray, probabilities: np.ndarray, weights: np.ndarray, *, classes: int
) -> tuple[dict[tuple[int, int], float], dict[int, float], dict[str, float]]:
    """(confusion matrix {(actual, predicted top class): weight}, {class: one-vs-rest AUC}, plain metrics)."""
    actual = labels.astype(np.int64)
    top = np.argmax(probabilities, axis=1)
    top = np.where(probabilities[np.arange(len(top)), top] <= 0.0, -1, top)
    confusion: dict[tuple[int, int], float] = {}
    for (a, p), w in zip(zip(actual.tolist(), top.tolist(), strict=True), weights.tolist(), strict=True):
        confusion[(a, p)] = confusion.get((a, p), 0.0) + w
    aucs = {}
    for k in range(classes):
        is_k = (actual == k).astype(np.float64)
        aucs[k] = auc(*curve_matrices(is_k, probabilities[:, k].astype(np.float64), weights))
    clipped = np.clip(probabilities, np.float32(KERAS_EPSILON), np.float32(1 - KERAS_EPSILON))
    chosen = clipped[np.arange(len(actual)), actual] / clipped.sum(axis=1)
    log_loss = float(np.mean(-np.log(chosen.astype(np.float64)))) if len(actual) else math.nan
    return confusion, aucs, {"example_count": float(len(actual)), "log_loss": log_loss}


def weights_or_ones(weights: Optional[np.ndarray], count: int) -> np.ndarray:
    return np.ones(count, dtype=np.float64) if weights is None else weights.astype(np.float64)
