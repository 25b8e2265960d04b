"""Drift on small spans: effect size AND significance, PSI on tied values, ±inf, type changes.

The pure check (check.compare_tables) on seeded tables, no TFX: two clean spans
of 70-200 rows from one distribution must (almost) never raise drift, while
the large seeded injections of test_drift_check.py are still caught exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import synthetic_drift
from tfxgate.drift import measures
from tfxgate.drift.check import compare_tables
from tfxgate.drift.significance import benjamini_hochberg, chi_square_pvalue, rate_pvalue

CATEGORICAL = {"city", "channel"}


def small_span(rows: int, seed: int) -> dict[str, np.ndarray]:
    """base_table's distribution with what real small data has: rounded values (ties) and a few missing."""
    table = synthetic_drift.base_table(rows=rows, seed=seed)
    table["distance"] = np.round(table["distance"])
    table["amount"] = np.round(table["amount"], 1)
    table["score"][np.random.default_rng(seed + 1_000_000).random(rows) < 0.05] = np.nan
    return table


def test_clean_small_spans_raise_drift_on_at_most_one_percent_of_features():
    pairs, flagged, compared, unguarded = 200, 0, 0, 0
    for pair in range(pairs):
        rows_b, rows_c = np.random.default_rng(pair).integers(70, 201, 2)
        base, cur = small_span(int(rows_b), 2 * pair + 1), small_span(int(rows_c), 2 * pair + 2)
        report = compare_tables(base, cur, categorical=CATEGORICAL)
        flagged += len(report.drifted)
        compared += len(report.features)
        unguarded += len(compare_tables(base, cur, categorical=CATEGORICAL, significance=1.0).drifted)
    assert compared == pairs * 5
    assert flagged <= 0.01 * compared, f"{flagged} of {compared} features flagged on clean spans"
    # The thresholds alone (the old behaviour) flag a large share of them: the gate is what helps.
    assert unguarded > 0.2 * compared


def test_a_real_shift_on_a_small_span_is_still_flagged_with_n_and_p():
    base = small_span(150, 1)
    shifted = synthetic_drift.shifted_table(base, drift={"score": "mean_shift", "city": "new_category"}, seed=2)
    report = compare_tables(base, shifted, categorical=CATEGORICAL)
    assert report.flagged == ["city", "score"], report.describe()
    score = next(f for f in report.features if f.feature == "score")
    assert score.n == {"baseline": int(np.isfinite(base["score"]).sum()), "current": score.n["current"]}
    assert score.tests["distribution"].test == "ks" and score.tests["distribution"].q <= 0.05
    assert score.tests["distribution"].p <= score.tests["distribution"].q
    text = report.describe()
    assert "score (" in text and "ks p=" in text and f"n={score.n['baseline']}/{score.n['current']}" in text
    city = next(f for f in report.features if f.feature == "city")
    assert city.tests["distribution"].test == "chi_square"


def test_report_json_carries_n_p_and_q_beside_the_measures():
    base = small_span(120, 3)
    document = compare_tables(base, small_span(90, 4), categorical=CATEGORICAL).to_dict()
    assert document["significance"] == 0.05 and document["schema_changes"] == []
    for feature in document["features"]:
        assert set(feature["n"]) == {"baseline", "current"}
        tests = feature["tests"]
        expected = {"distribution", "missing"} | ({"nonfinite"} if feature["kind"] == "numeric" else set())
        assert set(tests) == expected
        assert all(0 <= t["p"] <= t["q"] <= 1 for t in tests.values())


def test_psi_bins_handle_ties_and_no_baseline_bin_is_empty():
    """The issue's case: rounded values made an empty decile that the 1e-4 floor turned into PSI ~1."""
    rng = np.random.default_rng(0)
    base, cur = np.round(rng.gamma(2.0, 1.0, 70)), np.round(rng.gamma(2.0, 1.0, 70))
    edges = measures.quantile_edges(np.sort(base))
    assert (measures.bin_counts(base, edges) > 0).all()
    assert measures.psi(base, cur) < 0.2
    # Same value everywhere: one bin, PSI 0.
    assert measures.psi(np.full(70, 3.0), np.full(80, 3.0)) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(-3, 3), min_size=1, max_size=200),
    bins=st.integers(2, 12),
)
def test_every_quantile_bin_holds_a_baseline_value(values, bins):
    sample = np.sort(np.asarray(values, dtype=float))
    edges = measures.quantile_edges(sample, bins=bins)
    counts = measures.bin_counts(sample, edges)
    assert (counts > 0).all() and counts.sum() == sample.size and len(counts) <= bins


def test_psi_smoothing_keeps_an_empty_current_bin_bounded():
    base = np.arange(100.0)
    cur = np.concatenate([np.arange(10.0, 100.0), np.arange(10.0, 20.0)])  # nothing in the lowest decile
    value = measures.psi(base, cur)
    assert math.isfinite(value) and value < 1.0
    assert measures.categorical_psi({"a": 50, "b": 50}, {"a": 100}) < 5


def test_infinities_are_counted_and_gated_like_missing_values_never_a_crash():
    rng = np.random.default_rng(5)
    base = {"x": rng.normal(size=2000)}
    cur = {"x": rng.normal(size=2000)}
    cur["x"][:300] = np.inf
    cur["x"][300:310] = -np.inf
    report = compare_tables(base, cur, categorical=set())
    [x] = report.features
    assert x.detail["nonfinite_count"] == {"baseline": 0, "current": 310}
    assert x.values["nonfinite"] == pytest.approx(310 / 2000)
    assert "nonfinite" in x.fired and x.tests["nonfinite"].q < 1e-6
    # A few infinities on both sides: counted, not drift.
    base["x"][:3] = np.inf
    quiet = compare_tables(base, {"x": np.concatenate([rng.normal(size=1998), [np.inf, -np.inf]])}, categorical=set())
    assert quiet.drifted == [] and quiet.features[0].detail["nonfinite_count"] == {"baseline": 3, "current": 2}
    # Only infinities on one side: no finite values to compare, still no crash.
    only_inf = compare_tables({"x": np.full(10, np.inf)}, {"x": rng.normal(size=10)}, categorical=set())
    assert math.isnan(only_inf.features[0].values["ks"])


def test_a_type_change_is_a_schema_change_naming_the_feature_and_both_artifacts():
    """A column that was strings ('NA' not read as missing) and is numeric now: reported, not a crash."""
    baseline = {"age": np.array(["31", "NA", "40"], dtype=object), "city": np.array(["a", "b", "a"], dtype=object)}
    current = {"age": np.array([31.0, np.nan, 40.0]), "city": np.array(["a", "b", "a"], dtype=object)}
    report = compare_tables(
        baseline,
        current,
        categorical={"city"},
        baseline_categorical={"city", "age"},
        baseline_name="Examples 3 (span 2, 3)",
        current_name="Examples 5 (span 2, 5)",
    )
    assert [f.feature for f in report.features] == ["city"]
    assert report.flagged == ["age"]
    assert (
        report.describe() == "age (schema change: string in Examples 3 (span 2, 3), numeric in Examples 5 (span 2, 5))"
    )
    assert report.to_dict()["schema_changes"] == [
        {"feature": "age", "baseline_type": "string", "current_type": "numeric"}
    ]
    assert report.to_dict()["drifted_features"] == ["age"]


def test_significance_tests_and_correction():
    assert chi_square_pvalue({"a": 80, "b": 20}, {"a": 20, "b": 80}) < 1e-10
    assert chi_square_pvalue({"a": 5}, {"a": 9}) == 1.0
    assert math.isnan(chi_square_pvalue({}, {"a": 1}))
    assert rate_pvalue(0, 100, 30, 100) < 1e-8 and rate_pvalue(3, 100, 4, 100) > 0.5
    assert math.isnan(rate_pvalue(0, 0, 1, 10))
    # BH by hand: sorted p (0.01, 0.03, 0.04) * 3 / rank = (0.03, 0.045, 0.04) -> monotone (0.03, 0.04, 0.04).
    assert benjamini_hochberg([0.04, 0.01, float("nan"), 0.03]) == pytest.approx(
        [0.04, 0.03, float("nan"), 0.04], nan_ok=True
    )
