"""The drift/skew check: every feature x measure between a baseline and a current table.

Pure logic (numpy/scipy only): the executor hands it two tables of columns (one
value per row; `None`/NaN where the feature is missing), the thresholds, the
significance level and which features are categorical, and gets back a
`DriftReport` that says, per feature, every measure's value, the tests behind
them (n, p, Benjamini-Hochberg q) and which measures fired.

Measures per feature kind (see measures.py):
- categorical: `linf` (TFDV's L-infinity), `psi` (over categories), `missing`
- numeric: `jsd` (TFDV's JSD on 10-bucket standard histograms of the finite
  values), `psi`, `ks`, `wasserstein` (relative to the baseline's standard
  deviation), `missing`, `nonfinite` (change of the share of ±inf values)

A measure fires only when its value is over its threshold **and** its test is
significant (significance.py: KS or chi-square for the distribution measures,
Fisher's exact test for `missing` and `nonfinite`), after a Benjamini-Hochberg
correction over every test of the comparison: on small spans, effect sizes
alone are mostly noise. A feature whose type differs between the two sides
(string on one, numeric on the other) is not compared: it is reported as a
schema change, which flags it as well.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Mapping, Optional

import numpy as np

from tfxgate.drift import columns, measures
from tfxgate.drift.defaults import DEFAULT_SIGNIFICANCE, DEFAULT_THRESHOLDS
from tfxgate.drift.significance import (
    DISTRIBUTION,
    MISSING,
    NONFINITE,
    benjamini_hochberg,
    chi_square_pvalue,
    rate_pvalue,
)

MEASURES = tuple(DEFAULT_THRESHOLDS)
CATEGORICAL_MEASURES = ("linf", "psi", "missing")
NUMERIC_MEASURES = ("jsd", "psi", "ks", "wasserstein", "missing", "nonfinite")
# The test that says whether a measure's value is more than sampling noise.
MEASURE_TEST = {
    "linf": DISTRIBUTION,
    "jsd": DISTRIBUTION,
    "psi": DISTRIBUTION,
    "ks": DISTRIBUTION,
    "wasserstein": DISTRIBUTION,
    "missing": MISSING,
    "nonfinite": NONFINITE,
}


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
class Test:
    """One significance test of a feature: which test, its p-value and its BH-adjusted q-value."""

    test: str  # "ks", "chi_square" or "fisher"
    p: float
    q: float = float("nan")


@dataclass
class FeatureDrift:
    feature: str
    kind: str  # "categorical" or "numeric"
    values: dict[str, float]
    thresholds: dict[str, float]
    fired: list[str]
    detail: dict[str, object] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)  # values compared: {"baseline": .., "current": ..}
    tests: dict[str, Test] = field(default_factory=dict)  # DISTRIBUTION / MISSING / NONFINITE -> test

    @property
    def drifted(self) -> bool:
        return bool(self.fired)


@dataclass(frozen=True)
class SchemaChange:
    """A feature whose type differs between baseline and current: its values cannot be compared."""

    feature: str
    baseline_type: str  # "string" or "numeric"
    current_type: str


@dataclass
class DriftReport:
    """The outcome of one comparison (`kind` is "drift", "drift_vs_pushed" or "skew")."""

    kind: str
    baseline: str
    current: str
    features: list[FeatureDrift]
    schema_changes: list[SchemaChange] = field(default_factory=list)
    significance: float = DEFAULT_SIGNIFICANCE

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def flagged(self) -> list[str]:
        """Every feature that fails this comparison: drifted, or its type changed."""
        return sorted({f.feature for f in self.drifted} | {c.feature for c in self.schema_changes})

    def describe(self) -> str:
        """One clause per flagged feature: the measures that fired (with n and p), or the type change."""
        lines = []
        for f in self.drifted:
            fired = ", ".join(f"{m}={_fmt(f.values[m])} > {f.thresholds[m]:g}" for m in f.fired)
            tests = sorted({MEASURE_TEST[m] for m in f.fired})
            evidence = "; ".join(f"{f.tests[t].test} p={_fmt(f.tests[t].p)} q={_fmt(f.tests[t].q)}" for t in tests)
            lines.append(f"{f.feature} ({fired}; {evidence}; n={f.n['baseline']}/{f.n['current']})")
        for change in self.schema_changes:
            lines.append(
                f"{change.feature} (schema change: {change.baseline_type} in {self.baseline}, "
                f"{change.current_type} in {self.current})"
            )
        return "; ".join(lines)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "baseline": self.baseline,
            "current": self.current,
            "significance": self.significance,
            "drifted_features": self.flagged,
            "schema_changes": [asdict(c) for c in self.schema_changes],
            "features": [asdict(f) for f in self.features],
        }


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def compare_tables(
    baseline: Mapping[str, np.ndarray],
    current: Mapping[str, np.ndarray],
    *,
    categorical: set[str],
    baseline_categorical: Optional[set[str]] = None,
    thresholds: Optional[Thresholds] = None,
    significance: float = DEFAULT_SIGNIFICANCE,
    kind: str = "drift",
    baseline_name: str = "baseline",
    current_name: str = "current",
) -> DriftReport:
    """Compares every feature present in both tables.

    Args:
      baseline: feature -> 1-D array (object with None for categorical, float with NaN for
        numeric), or a `columns.Span` over such a table (its cached summaries are reused).
      current: the same for the data under test.
      categorical: names of the categorical features of `current`; every other one is numeric.
      baseline_categorical: the same for `baseline` when it may differ (another artifact's
        types); a feature categorical on one side only is a schema change. Default: `categorical`.
      thresholds: defaults and per-feature overrides (DEFAULT_THRESHOLDS when None).
      significance: a measure fires only if its test's BH-adjusted q-value is <= this (1.0: effect sizes alone).
    """
    thresholds = thresholds or Thresholds()
    baseline_categorical = categorical if baseline_categorical is None else baseline_categorical
    # Spans cache each column's sorted values / counts: pass the same Span to several calls to reuse them.
    baseline, current = columns.span(baseline), columns.span(current)
    features, changes = [], []
    for name in sorted(set(baseline) & set(current)):
        if (name in categorical) != (name in baseline_categorical):
            changes.append(
                SchemaChange(name, _type_name(name in baseline_categorical), _type_name(name in categorical))
            )
            continue
        if name in categorical:
            feature = _categorical(name, baseline.categorical(name), current.categorical(name))
        else:
            feature = _numeric(name, baseline.numeric(name), current.numeric(name))
        feature.thresholds = {m: thresholds.get(name, m) for m in feature.values}
        features.append(feature)
    _correct(features)
    for feature in features:
        feature.fired = [m for m, v in feature.values.items() if _fires(feature, m, v, significance=significance)]
    return DriftReport(kind, baseline_name, current_name, features, changes, significance)


def _type_name(is_categorical: bool) -> str:
    return "string" if is_categorical else "numeric"


def _correct(features: list[FeatureDrift]) -> None:
    """Sets every test's Benjamini-Hochberg q-value, the family being all tests of the comparison."""
    tests = [test for feature in features for test in feature.tests.values()]
    for test, q in zip(tests, benjamini_hochberg([t.p for t in tests]), strict=True):
        test.q = q


def _fires(feature: FeatureDrift, measure: str, value: float, *, significance: float) -> bool:
    # NaN (e.g. no values on one side) never fires: the missing rate covers that case.
    if math.isnan(value) or value <= feature.thresholds[measure]:
        return False
    q = feature.tests[MEASURE_TEST[measure]].q
    return not math.isnan(q) and q <= significance


def value_counts(column: np.ndarray) -> dict[str, float]:
    """Value counts of a categorical column, keyed by `str(value)` (None/NaN left out)."""
    return columns.categorical_column(column).counts


def _categorical(name: str, base: columns.CategoricalColumn, cur: columns.CategoricalColumn) -> FeatureDrift:
    counts_b, counts_c = base.counts, cur.counts
    if not counts_b or not counts_c:
        linf = measures.LInf(float("nan"), "")
        psi = float("nan")
    else:
        linf = measures.linf_distance(counts_b, counts_c)
        psi = measures.categorical_psi(counts_b, counts_c)
    missing = measures.missing_rate_delta(base.missing, base.size, cur.missing, cur.size)
    values = {"linf": linf.value, "psi": psi, "missing": missing}
    tests = {
        DISTRIBUTION: Test("chi_square", chi_square_pvalue(counts_b, counts_c)),
        MISSING: Test("fisher", rate_pvalue(base.missing, base.size, cur.missing, cur.size)),
    }
    n = {"baseline": base.size - base.missing, "current": cur.size - cur.missing}
    detail = {"linf_value": linf.key, "missing_count": {"baseline": base.missing, "current": cur.missing}}
    return FeatureDrift(name, "categorical", values, {}, [], detail, n, tests)


def _numeric(name: str, base: columns.NumericColumn, cur: columns.NumericColumn) -> FeatureDrift:
    if base.finite_size == 0 or cur.finite_size == 0:
        jsd = float("nan")
    else:
        # Finite values only: ±inf would stretch the equal-width buckets to infinity (`nonfinite` counts them).
        jsd = measures.jensen_shannon_divergence(
            measures.standard_histogram(base.values, counts=base.counts),
            measures.standard_histogram(cur.values, counts=cur.counts),
        )
    sides = {"expected_counts": base.counts, "actual_counts": cur.counts}
    ecdf = measures.compare_sorted(base.values, cur.values, **sides)
    values = {
        "jsd": jsd,
        "psi": measures.psi_sorted(base.values, cur.values, **sides),
        "ks": ecdf.ks.statistic,
        "wasserstein": measures.relative_distance(ecdf.wasserstein, base.std),
        "missing": measures.missing_rate_delta(base.missing, base.size, cur.missing, cur.size),
        "nonfinite": measures.missing_rate_delta(base.nonfinite, base.size, cur.nonfinite, cur.size),
    }
    tests = {
        DISTRIBUTION: Test("ks", ecdf.ks.pvalue),
        MISSING: Test("fisher", rate_pvalue(base.missing, base.size, cur.missing, cur.size)),
        NONFINITE: Test("fisher", rate_pvalue(base.nonfinite, base.size, cur.nonfinite, cur.size)),
    }
    detail = {
        "ks_pvalue": ecdf.ks.pvalue,
        "wasserstein_abs": ecdf.wasserstein,
        "missing_count": {"baseline": base.missing, "current": cur.missing},
        "nonfinite_count": {"baseline": base.nonfinite, "current": cur.nonfinite},
    }
    n = {"baseline": base.finite_size, "current": cur.finite_size}
    return FeatureDrift(name, "numeric", values, {}, [], detail, n, tests)
