"""The shared-sort path (columns.Span + measures.*_sorted) gives the values of the per-measure path.

The per-measure functions (`measures.ks`, `psi`, `wasserstein`, ...) each take raw
columns and sort on their own; the check now sorts each column once per span.
On random data with NaNs and ties, both paths must agree. (A column holding an
infinity is counted by `nonfinite`, never a crash: tests/test_drift_check.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from tfxgate.components.drift import report_payload
from tfxgate.drift import columns, measures
from tfxgate.drift.check import compare_tables


def _numeric_column(rng, size, *, shift=0.0):
    values = rng.normal(shift, 2.0, size)
    tied = rng.random(size) < 0.5
    values[tied] = np.round(values[tied], 1)  # many ties, as in real data
    values[rng.random(size) < 0.05] = np.nan
    return values


def _old_numeric(base, cur):
    """The check's numeric measures as they were computed before the shared sort."""
    finite_b, finite_c = base[~np.isnan(base)], cur[~np.isnan(cur)]
    jsd = measures.jensen_shannon_divergence(
        measures.standard_histogram(finite_b), measures.standard_histogram(finite_c)
    )
    ks = measures.ks(base, cur)
    missing = measures.missing_rate_delta(int(np.isnan(base).sum()), len(base), int(np.isnan(cur).sum()), len(cur))
    values = {
        "jsd": jsd,
        "psi": measures.psi(base, cur),
        "ks": ks.statistic,
        "wasserstein": measures.relative_wasserstein(base, cur),
        "missing": missing,
        "nonfinite": 0.0,  # no ±inf in these columns
    }
    return values, {"ks_pvalue": ks.pvalue, "wasserstein_abs": measures.wasserstein(base, cur)}


def _old_counts(column):
    """value_counts as it was: str() of every present value, in Python."""
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in column]
    present = [str(v) for v, m in zip(column, missing, strict=True) if not m]
    keys, counts = np.unique(np.asarray(present, dtype=object), return_counts=True)
    return {str(k): float(c) for k, c in zip(keys, counts, strict=True)}


@pytest.mark.parametrize("size", [3000, 40000])  # scipy's exact KS p-value, then its asymptotic one
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numeric_measures_equal_the_per_measure_path(size, seed):
    rng = np.random.default_rng(seed)
    base = _numeric_column(rng, size)
    cur = _numeric_column(rng, size + 123, shift=0.1 * seed)
    report = compare_tables({"x": base}, {"x": cur}, categorical=set())
    [feature] = report.features
    values, detail = _old_numeric(base, cur)
    assert feature.values == pytest.approx(values, rel=1e-12, abs=1e-15)
    assert {k: feature.detail[k] for k in detail} == pytest.approx(detail, rel=1e-12, abs=1e-300)


def test_ks_and_wasserstein_from_sorted_values_match_scipy():
    rng = np.random.default_rng(7)
    a, b = np.round(rng.normal(0, 1, 20000), 2), np.round(rng.normal(0.05, 1.1, 15000), 2)
    found = measures.compare_sorted(np.sort(a), np.sort(b))
    expected = scipy_stats.ks_2samp(a, b)
    assert found.ks.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert found.ks.pvalue == pytest.approx(expected.pvalue, rel=1e-9)
    assert found.wasserstein == pytest.approx(scipy_stats.wasserstein_distance(a, b), rel=1e-9)


def test_psi_from_sorted_values_equals_psi():
    rng = np.random.default_rng(3)
    a, b = np.round(rng.exponential(1.0, 5000), 1), np.round(rng.exponential(1.3, 7000), 1)
    assert measures.psi_sorted(np.sort(a), np.sort(b)) == pytest.approx(measures.psi(a, b), rel=1e-12)


def test_categorical_counts_equal_the_per_row_path():
    rng = np.random.default_rng(5)
    strings = rng.choice(np.array(["a", "b", "Cash", "", None, float("nan")], dtype=object), 5000)
    floats = rng.choice([1.0, 2.0, -0.0, 0.0, 17.5, np.nan], 5000)
    ints = rng.integers(0, 24, 5000)
    mixed = rng.choice(np.array(["a", 3, None, 2.5], dtype=object), 500)  # not all strings: Python path
    for column in (strings, floats, ints, mixed):
        counted = columns.categorical_column(column)
        assert counted.counts == _old_counts(column)
        assert list(counted.counts) == sorted(counted.counts)
        assert counted.missing == len(column) - sum(counted.counts.values())


def test_categorical_measures_equal_the_per_measure_path():
    rng = np.random.default_rng(9)
    base = rng.choice(np.array(["x", "y", "z", None], dtype=object), 4000, p=[0.5, 0.3, 0.15, 0.05])
    cur = rng.choice(np.array(["x", "y", "w", None], dtype=object), 3000, p=[0.4, 0.3, 0.2, 0.1])
    [feature] = compare_tables({"c": base}, {"c": cur}, categorical={"c"}).features
    counts_b, counts_c = _old_counts(base), _old_counts(cur)
    linf = measures.linf_distance(counts_b, counts_c)
    assert feature.values["linf"] == linf.value and feature.detail["linf_value"] == linf.key
    assert feature.values["psi"] == measures.categorical_psi(counts_b, counts_c)
    assert feature.values["missing"] == pytest.approx(abs(0.1 - 0.05), abs=0.02)


def test_report_histograms_equal_numpy_histograms():
    rng = np.random.default_rng(11)
    base, cur = _numeric_column(rng, 3000), _numeric_column(rng, 2000, shift=1.0)
    bars = report_payload.histograms(base, cur, categorical=False)
    finite = [v[np.isfinite(v)] for v in (base, cur)]
    both = np.concatenate(finite)
    edges = np.linspace(both.min(), both.max(), 21)
    for side, values in zip(("baseline", "current"), finite, strict=True):
        counts = np.histogram(values, bins=edges)[0]
        assert bars[side] == pytest.approx(list(counts / counts.sum()), rel=1e-12)


def test_a_numeric_column_keeps_infinities_out_of_its_finite_values():
    column = columns.numeric_column(np.array([3.0, np.inf, np.nan, -np.inf, 1.0, np.nan, 3.0]))
    assert (column.size, column.missing, column.neg_inf, column.pos_inf) == (7, 2, 1, 1)
    assert (column.values.tolist(), column.counts.tolist()) == ([1.0, 3.0], [1, 2])
    assert column.std == pytest.approx(np.std([3.0, 1.0, 3.0]))


def test_a_span_sorts_each_column_once_across_comparisons():
    rng = np.random.default_rng(1)
    base = columns.Span({"x": rng.normal(size=1000), "c": np.array(["a", "b"] * 500, dtype=object)})
    first = compare_tables(base, {"x": rng.normal(size=900), "c": base["c"]}, categorical={"c"})
    sorted_x, counts_c = base.numeric("x"), base.categorical("c")
    second = compare_tables(base, {"x": rng.normal(size=800), "c": base["c"]}, categorical={"c"})
    assert base.numeric("x") is sorted_x and base.categorical("c") is counts_c
    assert first.features[1].values["ks"] != second.features[1].values["ks"]
