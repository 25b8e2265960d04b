"""The drift/skew check: every feature x measure between a baseline and a current table.

Pure logic (numpy only): the executor hands it two tables of columns (one value
per row; `None`/NaN where the feature is missing), the thresholds and which
features are categorical, and gets back a `DriftReport` that says, per feature,
every measure's value and which measures crossed their threshold.

Measures per feature kind (see measures.py):
- categorical: `linf` (TFDV's L-infinity), `psi` (over categories), `missing`
- numeric: `jsd` (TFDV's JSD on 10-bucket standard histograms), `psi`, `ks`
  (statistic; the p-value is reported beside it), `wasserstein` (relative to the
  baseline's standard deviation), `missing`
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Mapping, Optional

import numpy as np

from tfxgate.components.drift import columns, measures

# Defaults chosen so that two samples of a few thousand rows from the same
# distribution stay well below them (tests/test_drift_check.py checks both ways).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "linf": 0.1,
    "jsd": 0.1,
    "psi": 0.2,
    "ks": 0.1,
    "wasserstein": 0.2,
    "missing": 0.05,
}
MEASURES = tuple(DEFAULT_THRESHOLDS)
CATEGORICAL_MEASURES = ("linf", "psi", "missing")
NUMERIC_MEASURES = ("jsd", "psi", "ks", "wasserstein", "missing")


@dataclass(frozen=True)
class Thresholds:
    """A default per measure, and per-feature overrides (`{feature: {measure: value}}`)."""

    defaults: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    per_feature: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def get(self, feature: str, measure: str) -> float:
        override = self.per_feature.get(feature, {})
        if measure in override:
            return override[measure]
        return self.defaults.get(measure, DEFAULT_THRESHOLDS[measure])


@dataclass
class FeatureDrift:
    feature: str
    kind: str  # "categorical" or "numeric"
    values: dict[str, float]
    thresholds: dict[str, float]
    fired: list[str]
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return bool(self.fired)


@dataclass
class DriftReport:
    """The outcome of one comparison (`kind` is "drift" or "skew")."""

    kind: str
    baseline: str
    current: str
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    def describe(self) -> str:
        """One line per drifted feature, naming the measures that fired."""
        lines = []
        for f in self.drifted:
            fired = ", ".join(f"{m}={_fmt(f.values[m])} > {f.thresholds[m]:g}" for m in f.fired)
            lines.append(f"{f.feature} ({fired})")
        return "; ".join(lines)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "baseline": self.baseline,
            "current": self.current,
            "drifted_features": [f.feature for f in self.drifted],
            "features": [asdict(f) for f in self.features],
        }


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def compare_tables(
    baseline: Mapping[str, np.ndarray],
    current: Mapping[str, np.ndarray],
    *,
    categorical: set[str],
    thresholds: Optional[Thresholds] = None,
    kind: str = "drift",
    baseline_name: str = "baseline",
    current_name: str = "current",
) -> DriftReport:
    """Compares every feature present in both tables.

    Args:
      baseline: feature -> 1-D array (object with None for categorical, float with NaN for
        numeric), or a `columns.Span` over such a table (its cached summaries are reused).
      current: the same for the data under test.
      categorical: names of the categorical features; every other one is numeric.
      thresholds: defaults and per-feature overrides (DEFAULT_THRESHOLDS when None).
    """
    thresholds = thresholds or Thresholds()
    # Spans cache each column's sorted values / counts: pass the same Span to several calls to reuse them.
    baseline, current = columns.span(baseline), columns.span(current)
    features = []
    for name in sorted(set(baseline) & set(current)):
        if name in categorical:
            values, detail = _categorical(baseline.categorical(name), current.categorical(name))
        else:
            values, detail = _numeric(baseline.numeric(name), current.numeric(name))
        limits = {m: thresholds.get(name, m) for m in values}
        # NaN (e.g. no values on one side) never fires: the missing rate covers that case.
        fired = [m for m, v in values.items() if not math.isnan(v) and v > limits[m]]
        kind_name = "categorical" if name in categorical else "numeric"
        features.append(FeatureDrift(name, kind_name, values, limits, fired, detail))
    return DriftReport(kind, baseline_name, current_name, features)


def value_counts(column: np.ndarray) -> dict[str, float]:
    """Value counts of a categorical column, keyed by `str(value)` (None/NaN left out)."""
    return columns.categorical_column(column).counts


def _categorical(base: columns.CategoricalColumn, cur: columns.CategoricalColumn):
    counts_b, counts_c = base.counts, cur.counts
    if not counts_b or not counts_c:
        linf = measures.LInf(float("nan"), "")
        psi = float("nan")
    else:
        linf = measures.linf_distance(counts_b, counts_c)
        psi = measures.categorical_psi(counts_b, counts_c)
    missing = measures.missing_rate_delta(base.missing, base.size, cur.missing, cur.size)
    values = {"linf": linf.value, "psi": psi, "missing": missing}
    return values, {"linf_value": linf.key}


def _numeric(base: columns.NumericColumn, cur: columns.NumericColumn):
    if base.present.size == 0 or cur.present.size == 0:
        jsd = float("nan")
    else:
        jsd = measures.jensen_shannon_divergence(
            measures.standard_histogram(base.present), measures.standard_histogram(cur.present)
        )
    finite_b, finite_c = base.finite, cur.finite
    ecdf = measures.compare_sorted(finite_b, finite_c)
    values = {
        "jsd": jsd,
        "psi": measures.psi_sorted(finite_b, finite_c),
        "ks": ecdf.ks.statistic,
        "wasserstein": measures.relative_distance(ecdf.wasserstein, base.std),
        "missing": measures.missing_rate_delta(base.missing, base.size, cur.missing, cur.size),
    }
    return values, {"ks_pvalue": ecdf.ks.pvalue, "wasserstein_abs": ecdf.wasserstein}
