"""What a label is (binary, multi-class, regression) and which metrics each kind gets.

Pure Python (no TensorFlow/TFMA import, so `tfxgate check` stays fast): the
metric tables per kind, the metrics derived from what TFMA reports (accuracy,
per-class precision/recall and F1 from TFMA's multi-class confusion matrix;
RMSE from MSE; the one-vs-rest AUC as the mean of TFMA's per-class AUCs; R² is
tfxgate's own TFMA metric, `r2_metric.py`), and the inference of a label's
kind from a sample of its values. `tfma_config.py` builds TFMA's EvalConfig
from these tables; `gates.py` reads each metric's direction from them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Literal, NamedTuple, Optional

Kind = Literal["binary", "multiclass", "regression"]
KINDS: tuple[str, ...] = ("binary", "multiclass", "regression")
# More distinct integer values than this in the sample: a count, i.e. regression.
MAX_CLASSES = 50


class Metric(NamedTuple):
    """A metric as configs and reports name it. `source`: the TFMA/Keras class computing it, or
    `derived` (computed here from other TFMA results). `bounded`: the value lies in [0, 1];
    `higher_is_better` decides what a regression and a gap mean (None: no better direction)."""

    source: str
    bounded: bool
    higher_is_better: Optional[bool]


DERIVED = "derived"

BINARY: dict[str, Metric] = {
    # computed for every slice, always
    "example_count": Metric("ExampleCount", False, None),
    "auc": Metric("AUC", True, True),
    "auc_precision_recall": Metric("AUCPrecisionRecall", True, True),
    "binary_accuracy": Metric("BinaryAccuracy", True, True),
    "precision": Metric("Precision", True, True),
    "recall": Metric("Recall", True, True),
    "calibration": Metric("Calibration", False, None),  # mean prediction / mean label: 1 is ideal
    # named in `metrics:` to be computed as well
    "mean_label": Metric("MeanLabel", True, None),
    "mean_prediction": Metric("MeanPrediction", True, None),
    "binary_crossentropy": Metric("BinaryCrossEntropy", False, False),
    "mean_squared_error": Metric("MeanSquaredError", False, False),
    "mean_absolute_error": Metric("MeanAbsoluteError", False, False),
    "f1_score": Metric("F1Score", True, True),
    "balanced_accuracy": Metric("BalancedAccuracy", True, True),
    "matthews_correlation_coefficient": Metric("MatthewsCorrelationCoefficient", False, True),
    "specificity": Metric("Specificity", True, True),
    "fpr": Metric("FPR", True, False),
    "fnr": Metric("FNR", True, False),
    "tpr": Metric("TPR", True, True),
    "tnr": Metric("TNR", True, True),
    "prevalence": Metric("Prevalence", True, None),
    "negative_predictive_value": Metric("NegativePredictiveValue", True, True),
}
BINARY_ALWAYS = (
    "example_count",
    "mean_label",
    "auc",
    "auc_precision_recall",
    "binary_accuracy",
    "precision",
    "recall",
    "calibration",
)

# Multi-class: every metric is computed on every slice. Accuracy, precision, recall and F1
# count the model's top class (argmax) against the label, from one TFMA confusion matrix.
MULTICLASS: dict[str, Metric] = {
    "example_count": Metric("ExampleCount", False, None),
    "accuracy": Metric(DERIVED, True, True),
    "macro_f1": Metric(DERIVED, True, True),
    "micro_f1": Metric(DERIVED, True, True),  # equals accuracy for single-label data; named for clarity
    "auc_one_vs_rest": Metric(DERIVED, True, True),  # the mean of each class's AUC against all others
    "log_loss": Metric("SparseCategoricalCrossentropy", False, False),
}
PER_CLASS = {"precision": Metric(DERIVED, True, True), "recall": Metric(DERIVED, True, True)}
_PER_CLASS_NAME = re.compile(r"^(precision|recall)_class_(\d+)$")
CONFUSION_MATRIX = "MultiClassConfusionMatrixAtThresholds"
CONFUSION_MATRIX_NAME = "multi_class_confusion_matrix_at_thresholds"

REGRESSION: dict[str, Metric] = {
    "example_count": Metric("ExampleCount", False, None),
    "mean_squared_error": Metric("MeanSquaredError", False, False),
    "root_mean_squared_error": Metric(DERIVED, False, False),
    "mean_absolute_error": Metric("MeanAbsoluteError", False, False),
    "r2": Metric("CoefficientOfDetermination", False, True),  # r2_metric.py
    "mean_prediction": Metric("MeanPrediction", False, None),
    "mean_label": Metric("MeanLabel", False, None),
}


@dataclass(frozen=True)
class LabelKind:
    """The label's kind and, for multi-class, its number of classes (ids 0..num_classes-1)."""

    kind: Kind = "binary"
    num_classes: int = 2

    def metrics(self) -> dict[str, Metric]:
        """Every metric this kind can compute, by config name."""
        if self.kind == "binary":
            return BINARY
        if self.kind == "regression":
            return REGRESSION
        per_class = {f"{name}_class_{k}": m for k in range(self.num_classes) for name, m in PER_CLASS.items()}
        return {**MULTICLASS, **per_class}

    def always(self) -> tuple[str, ...]:
        """The metrics computed on every slice without being named in `metrics:`."""
        return BINARY_ALWAYS if self.kind == "binary" else tuple(self.metrics())

    def describe(self) -> str:
        return f"multiclass ({self.num_classes} classes)" if self.kind == "multiclass" else self.kind


BINARY_LABEL = LabelKind()


def metric_info(name: str) -> Optional[Metric]:
    """The entry of a metric of any kind (`precision_class_3` included), or None."""
    for table in (BINARY, MULTICLASS, REGRESSION):
        if name in table:
            return table[name]
    match = _PER_CLASS_NAME.match(name)
    return PER_CLASS[match.group(1)] if match else None


def multiclass_metrics(confusion: dict[tuple[int, int], float], auc_by_class: dict[int, float], classes: int) -> dict:
    """Accuracy, per-class precision/recall, macro/micro F1 and the one-vs-rest AUC.

    Args:
      confusion: (actual class, predicted top class) -> weighted example count.
      auc_by_class: class id -> TFMA's AUC of that class against the others.
      classes: the number of classes.
    """
    total = sum(confusion.values())
    correct = sum(w for (actual, predicted), w in confusion.items() if actual == predicted)
    values = {"accuracy": correct / total if total else math.nan, "micro_f1": correct / total if total else math.nan}
    f1s = []
    for k in range(classes):
        hit = confusion.get((k, k), 0.0)
        predicted = sum(w for (_, p), w in confusion.items() if p == k)
        actual = sum(w for (a, _), w in confusion.items() if a == k)
        precision = hit / predicted if predicted else math.nan
        recall = hit / actual if actual else math.nan
        values[f"precision_class_{k}"] = precision
        values[f"recall_class_{k}"] = recall
        if actual or predicted:  # a class absent from the slice and never predicted has no F1
            f1s.append(2 * hit / (actual + predicted))
    values["macro_f1"] = sum(f1s) / len(f1s) if f1s else math.nan
    # A class absent from the slice has no AUC (TFMA reports 0 there): averaged over the others.
    defined = [
        auc
        for k, auc in auc_by_class.items()
        if sum(w for (a, _), w in confusion.items() if a == k) not in (0, total) and not math.isnan(auc)
    ]
    values["auc_one_vs_rest"] = sum(defined) / len(defined) if defined else math.nan
    return values


def infer(values: Iterable[Optional[str]]) -> tuple[Optional[LabelKind], str]:
    """A label's kind from a sample of its cells (texts; None where missing), and why.

    Integers or texts with 2 distinct values -> binary; with up to `MAX_CLASSES` ->
    multiclass (integers must be class ids 0..n-1); any non-integer number, or more
    integers -> regression. Returns (None, reason) when the sample cannot tell.
    """
    present = [v.strip() for v in values if v is not None and v.strip() != ""]
    if not present:
        return None, "no label values in the sample"
    numbers = [_number(v) for v in present]
    distinct = sorted(set(present))
    if all(n is not None for n in numbers):
        if any(not float(n).is_integer() for n in numbers):
            return LabelKind("regression"), f"non-integer numbers ({len(distinct)} distinct values)"
        ids = sorted({int(n) for n in numbers})
        if len(ids) <= 2:
            return LabelKind("binary"), f"integers {ids}"
        if len(ids) > MAX_CLASSES:
            return LabelKind("regression"), f"{len(ids)} distinct integers (more than {MAX_CLASSES})"
        if ids[0] < 0:
            return None, f"integer labels {ids[:5]}... are not class ids 0..n-1"
        return LabelKind("multiclass", ids[-1] + 1), f"integer class ids {ids}"
    if len(distinct) == 2:
        return LabelKind("binary"), f"2 distinct texts {distinct}"
    if len(distinct) == 1:
        return None, f"one value only ({distinct[0]!r})"
    return LabelKind("multiclass", len(distinct)), f"{len(distinct)} distinct texts"


def _number(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
