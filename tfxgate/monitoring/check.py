"""One served model against one batch of its serving logs: data, prediction and concept drift.

Pure logic on plain tables (feature -> 1-D array, as tfxgate/drift/tables.py
makes them): the CLI finds the model, its training span and its push-time
evaluation (serving.py), reads the logs (logs.py) and calls `judge`, which
returns a `ModelCheck` with every measure and the `Breach`es:

- data drift: every request feature vs the training span, with
  tfxgate/drift's measures and tests (`compare_tables`);
- prediction drift: the distribution of the logged predictions vs the
  model's predictions on its own evaluation split (PSI, KS, relative
  Wasserstein, JSD; a measure breaches only when its KS test is significant too);
- concept drift, once labels arrived: each slice's metrics (metrics.py) vs
  the same slice in the model's evaluation at push time; a drop larger than
  `thresholds.metrics[metric]` on a slice with >= `min_examples` labelled rows
  breaches, naming the slice.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Mapping, Optional

import numpy as np

from tfxgate.drift import measures
from tfxgate.drift.check import Thresholds, compare_tables
from tfxgate.monitoring.metrics import Slicing, per_slice


@dataclass(frozen=True)
class Breach:
    """One measure over its threshold: what, where (the slice, or the feature), by how much."""

    kind: str  # data_drift | prediction_drift | concept_drift
    where: str  # a slice name, a feature, or "prediction"
    measure: str
    value: float
    threshold: float
    baseline: Optional[float] = None
    message: str = ""


@dataclass
class ModelCheck:
    """What one served model's logs showed."""

    role: str  # stable | candidate
    version: str
    model_id: Optional[int]
    rows: int
    labelled: int
    data_drift: dict = field(default_factory=dict)  # DriftReport.to_dict()
    prediction_drift: dict = field(default_factory=dict)  # measure -> value, plus "ks_pvalue"
    slices: list[dict] = field(default_factory=list)  # {slice, example_count, metrics: {m: {value, at_push, delta}}}
    breaches: list[Breach] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**asdict(self), "breaches": [asdict(b) for b in self.breaches]}


@dataclass(frozen=True)
class Limits:
    """The section's thresholds as values (tfxgate/monitoring/settings.py)."""

    drift: Mapping[str, float]
    prediction: Mapping[str, float]
    metrics: Mapping[str, float]
    min_examples: int
    significance: float


def judge(
    check: ModelCheck,
    *,
    training: Mapping[str, np.ndarray],
    training_categorical: set[str],
    serving: Mapping[str, np.ndarray],
    serving_categorical: set[str],
    predictions: np.ndarray,
    reference_predictions: Optional[np.ndarray],
    labelled: Mapping[str, np.ndarray],
    labels: Optional[np.ndarray],
    labelled_predictions: Optional[np.ndarray],
    at_push: Mapping[str, Mapping[str, float]],
    slicings: list[Slicing],
    decision_threshold: float,
    limits: Limits,
) -> ModelCheck:
    """Fills `check` with the three comparisons and their breaches; returns it.

    `serving`/`predictions` are every row the model answered; `labelled`, `labels` and
    `labelled_predictions` the rows whose label arrived (concept drift reads only those).
    """
    report = compare_tables(
        training,
        serving,
        categorical=serving_categorical,
        baseline_categorical=training_categorical,
        thresholds=Thresholds(defaults=dict(limits.drift)),
        significance=limits.significance,
        kind="serving_drift",
        baseline_name="training span",
        current_name="serving logs",
    )
    check.data_drift = report.to_dict()
    for feature in report.drifted:
        for m in feature.fired:
            check.breaches.append(
                Breach(
                    "data_drift",
                    feature.feature,
                    m,
                    feature.values[m],
                    feature.thresholds[m],
                    message=f"feature {feature.feature}: {m}={feature.values[m]:.3g} > {feature.thresholds[m]:g}",
                )
            )
    if reference_predictions is None:
        check.notes.append("prediction drift not measured: no reference predictions of this model")
    else:
        _prediction_drift(check, reference_predictions, predictions, limits)
    if labels is None or labels.size == 0:
        check.notes.append("concept drift not measured: no labels in these logs yet")
    else:
        _concept_drift(check, labelled, labels, labelled_predictions, at_push, slicings, decision_threshold, limits)
    return check


def prediction_measures(reference: np.ndarray, served: np.ndarray) -> dict[str, float]:
    """PSI, KS (and its p-value), relative Wasserstein and JSD of served predictions vs the reference."""
    reference, served = np.sort(_finite(reference)), np.sort(_finite(served))
    ecdf = measures.compare_sorted(reference, served)
    jsd = (
        measures.jensen_shannon_divergence(measures.standard_histogram(reference), measures.standard_histogram(served))
        if reference.size and served.size
        else math.nan
    )
    return {
        "psi": measures.psi_sorted(reference, served),
        "ks": ecdf.ks.statistic,
        "ks_pvalue": ecdf.ks.pvalue,
        "wasserstein": measures.relative_distance(ecdf.wasserstein, float(np.std(reference)) if reference.size else 0),
        "jsd": jsd,
        "mean_reference": float(reference.mean()) if reference.size else math.nan,
        "mean_served": float(served.mean()) if served.size else math.nan,
    }


def _prediction_drift(check: ModelCheck, reference: np.ndarray, served: np.ndarray, limits: Limits) -> None:
    found = prediction_measures(reference, served)
    check.prediction_drift = found
    significant = not math.isnan(found["ks_pvalue"]) and found["ks_pvalue"] <= limits.significance
    for m, threshold in limits.prediction.items():
        value = found[m]
        if significant and not math.isnan(value) and value > threshold:
            check.breaches.append(
                Breach(
                    "prediction_drift",
                    "prediction",
                    m,
                    value,
                    threshold,
                    message=f"predictions: {m}={value:.3g} > {threshold:g} (KS p={found['ks_pvalue']:.3g})",
                )
            )


def _concept_drift(check, labelled, labels, predictions, at_push, slicings, decision_threshold, limits) -> None:
    served = per_slice(labelled, labels, predictions, slicings=slicings, threshold=decision_threshold)
    for name, values in served.items():
        pushed = at_push.get(name, {})
        judged = values["example_count"] >= limits.min_examples
        row = {"slice": name, "example_count": int(values["example_count"]), "judged": judged, "metrics": {}}
        for metric, value in values.items():
            base = pushed.get(metric)
            delta = value - base if _defined(value) and _defined(base) else None
            row["metrics"][metric] = {"value": _or_none(value), "at_push": _or_none(base), "delta": delta}
            allowed = limits.metrics.get(metric)
            if judged and allowed is not None and delta is not None and -delta > allowed:
                check.breaches.append(
                    Breach(
                        "concept_drift",
                        name,
                        metric,
                        value,
                        allowed,
                        baseline=base,
                        message=(
                            f"slice {name}: {metric} {value:.3g} vs {base:.3g} at push "
                            f"(drop {-delta:.3g} > {allowed:g}, n={int(values['example_count'])})"
                        ),
                    )
                )
        check.slices.append(row)
    check.slices.sort(key=lambda r: (r["slice"] != "Overall", r["slice"]))


def _defined(value) -> bool:
    return value is not None and not math.isnan(value)


def _or_none(value):
    return value if _defined(value) else None


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]
