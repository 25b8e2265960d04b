"""The drift check on seeded synthetic spans: it flags exactly the drifted features and names the measure."""

from __future__ import annotations

import numpy as np
import pytest

from tests import synthetic_drift
from tfxgate.drift.check import DEFAULT_THRESHOLDS, Thresholds, compare_tables

CATEGORICAL = {"city", "channel"}

# Injected drift -> the measure that must fire for it.
CASES = {
    "mean_shift": ("score", "ks"),
    "variance_change": ("distance", "ks"),
    "new_category": ("city", "linf"),
    "category_mix": ("channel", "linf"),
    "missing_rate": ("amount", "missing"),
}


def check(drift, *, seed=1, thresholds=None):
    base = synthetic_drift.base_table(rows=5000, seed=0)
    shifted = synthetic_drift.shifted_table(base, drift=drift, seed=seed)
    return compare_tables(base, shifted, categorical=CATEGORICAL, thresholds=thresholds)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_drift_injected_means_no_alarm(seed):
    report = check({}, seed=seed)
    assert report.drifted == [], report.describe()
    assert {f.feature for f in report.features} == {"amount", "distance", "score", "city", "channel"}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_injection_is_flagged_on_exactly_its_feature_by_the_expected_measure(kind):
    feature, measure = CASES[kind]
    report = check({feature: kind})
    assert [f.feature for f in report.drifted] == [feature], report.describe()
    [drifted] = report.drifted
    assert measure in drifted.fired
    assert feature in report.describe() and measure in report.describe()


def test_several_injections_at_once_are_all_flagged_and_nothing_else():
    drift = {"score": "mean_shift", "city": "new_category", "amount": "missing_rate"}
    report = check(drift, seed=5)
    assert sorted(f.feature for f in report.drifted) == sorted(drift)
    [city] = [f for f in report.features if f.feature == "city"]
    assert city.detail["linf_value"] == synthetic_drift.NEW_CATEGORY


def test_per_feature_override_beats_the_default():
    report = check(
        {"score": "mean_shift"}, thresholds=Thresholds(per_feature={"score": {m: 10.0 for m in DEFAULT_THRESHOLDS}})
    )
    assert report.drifted == []
    # A zero threshold with the significance gate off (level 1.0): effect sizes alone, any KS > 0 fires.
    base = synthetic_drift.base_table(rows=5000, seed=0)
    shifted = synthetic_drift.shifted_table(base, drift={}, seed=1)
    strict = compare_tables(
        base,
        shifted,
        categorical=CATEGORICAL,
        thresholds=Thresholds(defaults={**DEFAULT_THRESHOLDS, "ks": 0.0}),
        significance=1.0,
    )
    assert {f.feature for f in strict.drifted} == {"amount", "distance", "score"}


def test_report_has_every_feature_and_measure_with_values_and_thresholds():
    report = check({"score": "mean_shift"}).to_dict()
    assert report["drifted_features"] == ["score"]
    by_name = {f["feature"]: f for f in report["features"]}
    assert set(by_name["score"]["values"]) == {"jsd", "psi", "ks", "wasserstein", "missing", "nonfinite"}
    assert set(by_name["city"]["values"]) == {"linf", "psi", "missing"}
    assert by_name["score"]["detail"]["ks_pvalue"] < 1e-6
    assert by_name["score"]["thresholds"]["ks"] == DEFAULT_THRESHOLDS["ks"]


def test_generator_is_seeded_and_rejects_what_does_not_fit():
    base = synthetic_drift.base_table(rows=100, seed=0)
    a = synthetic_drift.shifted_table(base, drift={"score": "mean_shift"}, seed=3)
    b = synthetic_drift.shifted_table(base, drift={"score": "mean_shift"}, seed=3)
    assert np.array_equal(a["score"], b["score"])
    with pytest.raises(ValueError, match="'nope'"):
        synthetic_drift.shifted_table(base, drift={"nope": "mean_shift"})
    with pytest.raises(ValueError, match="mean_shift needs a numeric feature; 'city'"):
        synthetic_drift.shifted_table(base, drift={"city": "mean_shift"})
    with pytest.raises(ValueError, match="unknown drift kind 'tilt'"):
        synthetic_drift.shifted_table(base, drift={"score": "tilt"})


def test_write_csv_leaves_missing_values_empty(tmp_path):
    table = {"x": np.array([1.0, np.nan]), "c": np.array(["a", None], dtype=object)}
    synthetic_drift.write_csv(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines() == ["x,c", "1.0,a", ","]
