"""Evaluation metrics of labelled serving rows, per slice, as SliceEval defines them.

The names and meanings are those of the evaluation artifact (`report.json`,
read by tfxgate/artifacts/evaluation.py; components/slice_eval README): for a
binary label, `example_count`, `mean_label`, `mean_prediction`, `auc` (area
under the ROC curve; undefined where every label is the same),
`binary_accuracy`, `precision` and `recall` at the evaluation's
`decision_threshold`, and `calibration` (mean prediction / mean label). Slices
are named as SliceEval names them ("Overall", "payment_type=Cash",
"payment_type=Cash, trip_start_hour_bucket=[6,12)"), so a serving slice meets
its push-time row by name. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

import numpy as np
from scipy import stats as scipy_stats

OVERALL = "Overall"


@dataclass(frozen=True)
class Slicing:
    """One configured slicing: the columns it keys on, and how a bucketed column is derived.

    `buckets` maps a derived column (`trip_start_hour_bucket`) to its raw feature
    and the function that names a value's bucket (`[6,12)`).
    """

    columns: tuple[str, ...]
    buckets: Mapping[str, tuple[str, Callable[[float], str]]] = field(default_factory=dict)


def binary_metrics(labels: np.ndarray, predictions: np.ndarray, *, threshold: float = 0.5) -> dict[str, float]:
    """SliceEval's binary metrics of one slice (NaN where undefined).

    >>> binary_metrics(np.array([0, 1, 1]), np.array([0.2, 0.6, 0.4]))["binary_accuracy"]
    0.6666666666666666
    """
    labels = np.asarray(labels, dtype=float)
    predictions = np.asarray(predictions, dtype=float)
    n = labels.size
    positive = labels > 0.5
    decided = predictions > threshold
    true_pos = float(np.sum(positive & decided))
    mean_label = float(labels.mean()) if n else math.nan
    mean_prediction = float(predictions.mean()) if n else math.nan
    return {
        "example_count": float(n),
        "mean_label": mean_label,
        "mean_prediction": mean_prediction,
        "auc": auc(labels, predictions),
        "binary_accuracy": float(np.mean(positive == decided)) if n else math.nan,
        "precision": true_pos / float(decided.sum()) if decided.any() else math.nan,
        "recall": true_pos / float(positive.sum()) if positive.any() else math.nan,
        "calibration": mean_prediction / mean_label if n and mean_label > 0 else math.nan,
    }


def auc(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN unless both classes are present."""
    positive = np.asarray(labels) > 0.5
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = scipy_stats.rankdata(predictions)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def slice_keys(columns: Mapping[str, np.ndarray], slicing: Slicing) -> Optional[np.ndarray]:
    """Each row's slice name under `slicing` ("Overall" for the empty one); None if a column is missing."""
    size = len(next(iter(columns.values()))) if columns else 0
    if not slicing.columns:
        return np.full(size, OVERALL, dtype=object)
    parts = []
    for column in slicing.columns:
        if column in slicing.buckets:
            feature, label = slicing.buckets[column]
            if feature not in columns:
                return None
            values = [None if _missing(v) else f"{column}={label(float(v))}" for v in columns[feature]]
        elif column in columns:
            values = [None if _missing(v) else f"{column}={_text(v)}" for v in columns[column]]
        else:
            return None
        parts.append(values)
    return np.array(
        [None if any(p is None for p in row) else ", ".join(row) for row in zip(*parts, strict=True)], dtype=object
    )


def per_slice(
    columns: Mapping[str, np.ndarray],
    labels: np.ndarray,
    predictions: np.ndarray,
    *,
    slicings: list[Slicing],
    threshold: float,
) -> dict[str, dict[str, float]]:
    """Slice name -> its metrics, for every slice of every slicing that has rows."""
    found: dict[str, dict[str, float]] = {}
    for slicing in slicings:
        keys = slice_keys(columns, slicing)
        if keys is None:
            continue
        for name in sorted({k for k in keys if k is not None}):
            rows = keys == name
            found[name] = binary_metrics(labels[rows], predictions[rows], threshold=threshold)
    return found


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value) -> str:
    """A value as TFMA writes it in a slice key: integers without a decimal point."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return value.decode() if isinstance(value, bytes) else str(value)
